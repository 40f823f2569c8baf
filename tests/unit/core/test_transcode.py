"""Transcoding round trips (PS3.5 §8, §A.4): each target decodes back to the same pixels
(lossless) or close to them (lossy), and keeps the instance's identity."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
)

from cloudpacs.dicom import transcode
from cloudpacs.errors import NotAcceptable

LOSSLESS = [
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    RLELossless,
    JPEGLSLossless,
    JPEG2000Lossless,
]


def _source(name: str) -> tuple[bytes, str, np.ndarray]:
    data = open(get_testdata_file(name), "rb").read()  # noqa: SIM115
    ds = pydicom.dcmread(io.BytesIO(data))
    return data, str(ds.file_meta.TransferSyntaxUID), ds.pixel_array


def _decoded(data: bytes) -> pydicom.Dataset:
    return pydicom.dcmread(io.BytesIO(data))


@pytest.mark.parametrize("target", LOSSLESS)
@pytest.mark.parametrize("name", ["CT_small.dcm", "SC_rgb_rle.dcm", "MR_small_jp2klossless.dcm"])
def test_lossless_targets_round_trip_to_the_same_pixels(name: str, target: str) -> None:
    data, stored, pixels = _source(name)
    out = _decoded(transcode.transcode(data, stored, target))
    assert out.file_meta.TransferSyntaxUID == target
    assert out.SOPInstanceUID == _decoded(data).SOPInstanceUID
    assert (out.pixel_array == pixels).all()
    assert "LossyImageCompression" not in out or out.LossyImageCompression == "00"


def test_jpeg_2000_lossy_is_within_tolerance_and_marked_lossy() -> None:
    data, stored, pixels = _source("CT_small.dcm")
    out = _decoded(transcode.transcode(data, stored, JPEG2000))
    error = np.abs(out.pixel_array.astype(float) - pixels.astype(float))
    assert error.mean() < 0.01 * float(pixels.max() - pixels.min())
    assert out.LossyImageCompression == "01"
    assert "ISO_15444_1" in out.LossyImageCompressionMethod


def test_jpeg_baseline_of_8_bit_colour_and_grayscale() -> None:
    data, stored, pixels = _source("SC_rgb_rle.dcm")  # 8-bit RGB
    out = _decoded(transcode.transcode(data, stored, JPEGBaseline8Bit))
    assert out.PhotometricInterpretation == "YBR_FULL_422"
    assert np.abs(out.pixel_array.astype(float) - pixels).mean() < 3
    assert out.LossyImageCompression == "01"
    data, stored, pixels = _source("JPGLosslessP14SV1_1s_1f_8b.dcm")  # 8-bit grayscale
    out = _decoded(transcode.transcode(data, stored, JPEGBaseline8Bit))
    assert np.abs(out.pixel_array.astype(float) - pixels).mean() < 3


def test_what_cannot_be_produced_is_406_naming_what_can() -> None:
    data, stored, _ = _source("CT_small.dcm")  # 16-bit: no JPEG Baseline
    with pytest.raises(NotAcceptable) as raised:
        transcode.transcode(data, stored, JPEGBaseline8Bit)
    assert "8-bit" in raised.value.reason and RLELossless in raised.value.reason
    with pytest.raises(NotAcceptable) as raised:
        transcode.transcode(data, stored, "1.2.840.10008.1.2.4.100")  # MPEG-2
    assert JPEG2000Lossless in raised.value.reason
    palette, stored, _ = _source("OBXXXX1A.dcm")
    with pytest.raises(NotAcceptable):
        transcode.transcode(palette, stored, JPEG2000)


def test_frames_are_encoded_one_by_one() -> None:
    data, stored, pixels = _source("emri_small_RLE.dcm")  # 10 frames
    frames = transcode.encode_frames(data, stored, [2, 10], JPEGLSLossless)
    from pydicom.encaps import encapsulate
    from pydicom.pixels.decoders.base import get_decoder

    decoder = get_decoder(JPEGLSLossless)
    ds = _decoded(data)
    for frame, number in zip(frames, [2, 10], strict=True):
        arr, _ = decoder.as_array(
            encapsulate([frame]),
            rows=ds.Rows,
            columns=ds.Columns,
            samples_per_pixel=1,
            photometric_interpretation="MONOCHROME2",
            pixel_representation=ds.PixelRepresentation,
            bits_allocated=ds.BitsAllocated,
            bits_stored=ds.BitsStored,
            number_of_frames=1,
        )
        assert (arr == pixels[number - 1]).all()
    native = transcode.encode_frames(data, stored, [3], ExplicitVRLittleEndian)[0]
    assert native == pixels[2].astype("<u2").tobytes()


def test_encode_dataset_re_encodes_changed_pixels_in_place() -> None:
    data, _, pixels = _source("CT_small.dcm")
    ds = _decoded(data)
    cleaned = pixels.copy()
    cleaned[:10, :10] = 0  # as pixel cleaning would blank a region
    ds.PixelData = cleaned.tobytes()
    transcode.encode_dataset(ds, RLELossless)
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    assert (_decoded(out.getvalue()).pixel_array == cleaned).all()
