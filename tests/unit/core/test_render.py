"""The rendering pipeline (PS3.4 §N.2) on known pixel values, and its query parameters
(PS3.18 §8.3.5.1)."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from cloudpacs.dicom import render
from cloudpacs.dicom.render_params import Viewport, Window, parse_params
from cloudpacs.errors import BadRequest, NotAcceptable


def _gray(photometric: str = "MONOCHROME2", **attrs: object) -> Dataset:
    ds = Dataset()
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    for name, value in attrs.items():
        setattr(ds, name, value)
    return ds


STORED = np.array([[0, 500, 1000], [1040, 1100, 2000]], dtype=np.uint16)


def test_linear_window_matches_the_standard_formula() -> None:
    # PS3.3 C.11.2.1.2.1: c=40, w=400 -> values at or below -160 are 0, above 239 are 255
    values = np.array([-1000.0, -160.0, 40.0, 239.0, 240.0])
    out = render.window_values(values, Window(40, 400))
    expected_mid = round(((40 - 39.5) / 399 + 0.5) * 255)
    assert out.tolist() == [0, 0, expected_mid, 255, 255]


def test_linear_exact_and_sigmoid_windows() -> None:
    values = np.array([-200.0, 0.0, 100.0, 200.0])
    assert render.window_values(values, Window(0, 200, "LINEAR_EXACT")).tolist() == [
        0,
        128,
        255,
        255,
    ]
    sigmoid = render.window_values(values, Window(0, 200, "SIGMOID")).tolist()
    assert sigmoid[1] == 128  # 255 / (1 + e^0)
    assert sigmoid[0] == round(255 / (1 + np.exp(4.0)))
    assert sigmoid[2] == round(255 / (1 + np.exp(-2.0)))


def test_modality_lut_then_the_objects_window() -> None:
    # Rescale to Hounsfield units: HU = 1 * stored - 1024; window C 40 W 400 on HU
    ds = _gray(
        RescaleSlope=1, RescaleIntercept=-1024, WindowCenter=[40, 400], WindowWidth=[400, 2000]
    )
    out = render.display_values(ds, STORED)
    hu = STORED.astype(float) - 1024
    assert out.tolist() == render.window_values(hu, Window(40, 400)).tolist()
    assert out[0, 0] == 0 and out[1, 2] == 255


def test_request_window_wins_over_the_objects() -> None:
    ds = _gray(WindowCenter=40, WindowWidth=400)
    out = render.display_values(ds, STORED, Window(1000, 1, "LINEAR"))
    # width 1: a threshold at c - 0.5 (PS3.3 C.11.2.1.2.1), so 1000 is already white
    assert out.tolist() == [[0, 0, 255], [255, 255, 255]]


def test_voi_lut_sequence_when_no_window() -> None:
    item = Dataset()
    item.LUTDescriptor = [4, 0, 8]
    item.LUTData = [0, 100, 200, 250]
    ds = _gray(VOILUTSequence=[item])
    out = render.display_values(ds, np.array([[0, 1, 2, 3, 9]], dtype=np.uint16))
    assert out.tolist() == [[0, 102, 204, 255, 255]]


def test_window_computed_from_the_frame_when_the_object_has_none() -> None:
    out = render.display_values(_gray(), STORED)
    assert out.min() == 0 and out.max() == 255
    assert out[0, 2] == round(1000 / 2000 * 255)


def test_monochrome1_is_inverted() -> None:
    ds2 = _gray(WindowCenter=1000, WindowWidth=2000)
    ds1 = _gray("MONOCHROME1", WindowCenter=1000, WindowWidth=2000)
    assert (render.display_values(ds1, STORED) == 255 - render.display_values(ds2, STORED)).all()


def test_rgb_and_palette_colour() -> None:
    rgb = pydicom.dcmread(get_testdata_file("SC_rgb.dcm"))
    out = render.display_values(rgb, rgb.pixel_array)
    assert out.shape == (*rgb.pixel_array.shape[:2], 3)
    assert (out == rgb.pixel_array).all()
    palette = pydicom.dcmread(get_testdata_file("OBXXXX1A.dcm"))
    shown = render.display_values(palette, palette.pixel_array)
    index = palette.pixel_array[100, 100]
    red = palette.RedPaletteColorLookupTableData
    bits = palette.RedPaletteColorLookupTableDescriptor[2]
    table = np.frombuffer(red, dtype=np.uint16 if bits == 16 else np.uint8)
    first = palette.RedPaletteColorLookupTableDescriptor[1]
    expected = int(table[max(int(index) - first, 0)]) >> (8 if bits == 16 else 0)
    assert shown.shape[2] == 3 and shown[100, 100, 0] == expected


def test_ybr_jpeg_renders_as_rgb() -> None:
    ybr = pydicom.dcmread(get_testdata_file("SC_rgb_jpeg_dcmtk.dcm"))  # YBR_FULL, JPEG
    rgb = pydicom.dcmread(get_testdata_file("SC_rgb.dcm"))  # the same picture, RGB
    assert ybr.PhotometricInterpretation == "YBR_FULL"
    shown = render.display_values(ybr, ybr.pixel_array).astype(float)
    assert np.abs(shown - rgb.pixel_array).mean() < 2


def test_a_compressed_source_renders_as_its_uncompressed_original() -> None:
    plain = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    j2k = pydicom.dcmread(get_testdata_file("MR_small_jp2klossless.dcm"))
    assert j2k.file_meta.TransferSyntaxUID.is_compressed
    a = render.display_values(plain, plain.pixel_array)
    b = render.display_values(j2k, j2k.pixel_array)
    assert (a == b).all()


def test_unrenderable_photometric_is_406() -> None:
    ds = _gray()
    ds.SamplesPerPixel = 4
    ds.PhotometricInterpretation = "CMYK"
    with pytest.raises(NotAcceptable):
        render.display_values(ds, np.zeros((2, 2, 4), dtype=np.uint8))


def test_viewport_scales_keeping_aspect_and_cuts_and_flips_regions() -> None:
    from PIL import Image

    arr = np.arange(40 * 20, dtype=np.uint8).reshape(20, 40)  # 40 wide, 20 high
    image = Image.fromarray(arr, mode="L")
    assert render.apply_viewport(image, Viewport(10, 10)).size == (10, 5)
    assert render.apply_viewport(image, Viewport(None, 40)).size == (80, 40)
    region = render.apply_viewport(image, Viewport(4, 2, (10, 5, 4, 2)))
    assert np.asarray(region).tolist() == arr[5:7, 10:14].tolist()
    flipped = render.apply_viewport(image, Viewport(4, 2, (14, 5, -4, 2)))
    assert np.asarray(flipped).tolist() == arr[5:7, 10:14][:, ::-1].tolist()
    with pytest.raises(BadRequest):
        render.apply_viewport(image, Viewport(4, 4, (38, 0, 10, 4)))


@pytest.mark.parametrize(
    "query",
    [
        {"window": "40"},
        {"window": "40,abc"},
        {"window": "40,0.5,linear"},
        {"window": "40,0,sigmoid"},
        {"window": "40,400,cubic"},
        {"window": "nan,400"},
        {"viewport": "0,100"},
        {"viewport": "100,9000"},
        {"viewport": ","},
        {"viewport": "10,10,-1,0,5,5"},
        {"viewport": "10,10,1"},
        {"quality": "0"},
        {"quality": "101"},
        {"quality": "high"},
        {"annotation": "everything"},
    ],
)
def test_out_of_range_parameters_are_400(query: dict[str, str]) -> None:
    with pytest.raises(BadRequest):
        parse_params(query)


def test_parameters_parse() -> None:
    params = parse_params(
        {"window": "40,400,LINEAR_EXACT", "viewport": "256,,0,0,-100,50", "quality": "80"}
        | {"annotation": "patient,technique", "unknown": "ignored"}
    )
    assert params.window == Window(40, 400, "LINEAR_EXACT")
    assert params.viewport == Viewport(256, None, (0, 0, -100, 50))
    assert (params.quality, params.annotation) == (80, ("patient", "technique"))
    assert parse_params({"window": "1,2,linear-exact"}).window == Window(1, 2, "LINEAR_EXACT")
    with pytest.raises(BadRequest):
        parse_params({"viewport": "64,64,0,0,10,10"}, thumbnail=True)


def test_the_encoded_jpeg_decodes_to_the_rendered_pixels() -> None:
    from PIL import Image

    from cloudpacs.dicom import image_output

    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    display = render.display_values(ds, ds.pixel_array)
    png = image_output.encode([image_output.to_image(display)], image_output.PNG)
    assert (np.asarray(Image.open(io.BytesIO(png))) == display).all()
    jpeg = image_output.encode([image_output.to_image(display)], image_output.JPEG, 95)
    decoded = np.asarray(Image.open(io.BytesIO(jpeg))).astype(float)
    assert np.abs(decoded - display).mean() < 2
