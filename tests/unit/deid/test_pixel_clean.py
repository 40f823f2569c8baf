"""The Clean Pixel Data Option (PS3.15 E.3.1): "Any information encoded in the Pixel Data
... shall be removed"; here, the rectangles a pixel cleaning rule names, in every frame.

Synthetic ultrasound (multi-frame, monochrome) and secondary-capture (RGB) instances carry the
patient's name and ID drawn into known regions, in native, RLE, JPEG-LS and JPEG 2000
lossless forms. After de-identification every pixel of those regions is zero, every other
pixel is what it was, the copy keeps its transfer syntax, and it passes the PHI scan.
"""

from __future__ import annotations

from io import BytesIO

import numpy as np
import pydicom
import pytest
from PIL import Image, ImageDraw, ImageFont
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
)

from cloudpacs.deid import Profile, QuarantinedInstance, deidentify_bytes
from cloudpacs.deid.pixel_clean import PixelCleaning
from cloudpacs.deid.pixel_rules import parse_rules
from cloudpacs.deid.text_detector import OcrTextDetector

from .builders import ct_dataset
from .conftest import SECRET
from .phi_scan import leaked_values

US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
ROWS, COLUMNS = 240, 320
RULES = parse_rules(
    f"""
version: 1
rules:
  - name: acme-sono-header
    match:
      modality: [US]
      manufacturer: "acme*"
      manufacturer_model_name: "*SONO 1"
      rows: {ROWS}
      columns: {COLUMNS}
    regions:
      - {{x: 0, y: 0, width: {COLUMNS}, height: 30}}
      - {{x: 250, y: 210, width: 70, height: 30}}
  - name: sc-screen
    match:
      sop_class: 1.2.840.10008.5.1.4.1.1.7*
      rows: [{ROWS}, 100]
      columns: [{COLUMNS}, 100]
    regions:
      - {{x: 10, y: 5, width: 80, height: 20}}
"""
)
REGIONS = {
    "us": [(0, 0, COLUMNS, 30), (250, 210, 70, 30)],
    "sc": [(10, 5, 80, 20)],
}
CLEANING = PixelCleaning(RULES)
PROFILE = Profile(clean_pixel_data=True, name="basic+clean_pixel_data")


def _frame(seed: int, samples: int, regions: list[tuple[int, int, int, int]]) -> np.ndarray:
    """A gradient with the patient's name and ID drawn into each region."""
    ys, xs = np.mgrid[0:ROWS, 0:COLUMNS]
    base = ((xs + ys * 2 + seed * 17) % 200 + 20).astype(np.uint8)
    image = Image.fromarray(base)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=14)
    for x, y, _, _ in regions:
        draw.text((x + 2, y + 2), "DOE^JANE MRN12345", fill=255, font=font)
    mono = np.asarray(image)
    if samples == 1:
        return mono
    return np.stack([mono, 255 - mono, (mono // 2) + 60], axis=-1)


def synthetic(kind: str, syntax: str) -> bytes:
    """An ultrasound or secondary-capture instance with text in REGIONS[kind]."""
    ds = ct_dataset()
    for keyword in ("RescaleIntercept", "RescaleSlope", "WindowCenter", "WindowWidth"):
        ds.pop(keyword, None)
    if kind == "us":
        ds.SOPClassUID, ds.Modality = US_MULTIFRAME, "US"
        ds.Manufacturer, ds.ManufacturerModelName = "Acme Medical", "Sono 1"
        arr = np.stack([_frame(i, 1, REGIONS["us"]) for i in range(3)])
        ds.set_pixel_data(arr, "MONOCHROME2", 8, generate_instance_uid=False)
        ds.NumberOfFrames = 3
    else:
        ds.SOPClassUID, ds.Modality = SECONDARY_CAPTURE, "OT"
        arr = _frame(0, 3, REGIONS["sc"])
        ds.set_pixel_data(arr, "RGB", 8, generate_instance_uid=False)
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    if syntax != ExplicitVRLittleEndian:
        ds.compress(syntax, generate_instance_uid=False)
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def frames_of(ds: Dataset) -> np.ndarray:
    arr = ds.pixel_array
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    return arr.reshape(frames, int(ds.Rows), int(ds.Columns), -1)


SYNTAXES = [ExplicitVRLittleEndian, RLELossless, JPEGLSLossless, JPEG2000Lossless]


@pytest.mark.parametrize("syntax", SYNTAXES, ids=lambda s: UID(s).keyword)
@pytest.mark.parametrize("kind", ["us", "sc"])
def test_regions_are_zero_every_other_pixel_is_kept_and_the_syntax_stays(
    kind: str, syntax: str
) -> None:
    data = synthetic(kind, syntax)
    original = pydicom.dcmread(BytesIO(data))
    expected = frames_of(original).copy()
    assert expected[:, 0:30].any() if kind == "us" else expected[:, 5:25, 10:90].any()

    out = deidentify_bytes(data, PROFILE, SECRET, CLEANING)

    copy = pydicom.dcmread(BytesIO(out))
    assert copy.file_meta.TransferSyntaxUID == syntax
    cleaned = frames_of(copy)
    for x, y, w, h in REGIONS[kind]:
        assert not cleaned[:, y : y + h, x : x + w].any()
        expected[:, y : y + h, x : x + w] = 0
    assert np.array_equal(cleaned, expected)  # every other pixel, every frame, every sample
    assert copy.BurnedInAnnotation == "NO"
    codes = [item.CodeValue for item in copy.DeidentificationMethodCodeSequence]
    assert codes == ["113100", "113101"]
    assert "Clean Pixel Data Option" in copy.DeidentificationMethod
    rule = "acme-sono-header" if kind == "us" else "sc-screen"
    assert f"pixel cleaning rule {rule}" in copy.DeidentificationMethod
    assert "re-encoded" not in copy.DerivationDescription
    assert leaked_values(original, out, copy, PROFILE) == []
    assert deidentify_bytes(data, PROFILE, SECRET, CLEANING) == out  # deterministic


def test_a_lossy_source_is_written_explicit_little_endian_and_says_so() -> None:
    """SC_rgb_jpeg_dcmtk.dcm is JPEG Baseline: no lossless re-encoding in its own syntax."""
    path = get_testdata_file("SC_rgb_jpeg_dcmtk.dcm")
    assert path is not None
    with open(path, "rb") as fh:
        data = fh.read()
    original = pydicom.dcmread(BytesIO(data))
    decoded = original.pixel_array.copy()

    copy = pydicom.dcmread(BytesIO(deidentify_bytes(data, PROFILE, SECRET, CLEANING)))

    assert copy.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert "re-encoded in 1.2.840.10008.1.2.1" in copy.DerivationDescription
    assert "from 1.2.840.10008.1.2.4.50" in copy.DerivationDescription
    assert copy.get("LossyImageCompression") == original.get("LossyImageCompression")
    assert copy.PhotometricInterpretation == "RGB"
    decoded[5:25, 10:90] = 0
    assert np.array_equal(copy.pixel_array, decoded)


def test_an_instance_no_rule_matches_stays_quarantined() -> None:
    ds = pydicom.dcmread(BytesIO(synthetic("us", ExplicitVRLittleEndian)))
    ds.ManufacturerModelName = "Sono 2"
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    with pytest.raises(QuarantinedInstance) as info:
        deidentify_bytes(out.getvalue(), PROFILE, SECRET, CLEANING)
    assert info.value.rule == "no_cleaning_rule"
    assert "routinely carries burned-in text" in info.value.reason
    assert "Model Sono 2" in info.value.reason


def test_without_the_option_a_matching_instance_is_quarantined_as_before() -> None:
    with pytest.raises(QuarantinedInstance) as info:
        deidentify_bytes(synthetic("us", RLELossless), Profile(), SECRET, CLEANING)
    assert info.value.rule == "risky_kind_unflagged"


def test_an_overlay_in_pixel_data_is_not_cleaned_by_rectangles() -> None:
    ds = pydicom.dcmread(BytesIO(synthetic("us", ExplicitVRLittleEndian)))
    ds.add_new(0x60000010, "US", ROWS)  # overlay plane without Overlay Data
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    with pytest.raises(QuarantinedInstance) as info:
        deidentify_bytes(out.getvalue(), PROFILE, SECRET, CLEANING)
    assert info.value.rule == "overlay_in_pixel_data"


def test_undecodable_pixels_of_a_matching_instance_are_quarantined() -> None:
    ds = pydicom.dcmread(BytesIO(synthetic("us", ExplicitVRLittleEndian)))
    ds.BitsAllocated = 1
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    with pytest.raises(QuarantinedInstance) as info:
        deidentify_bytes(out.getvalue(), PROFILE, SECRET, CLEANING)
    assert (info.value.rule, info.value.pixel_rule) == ("pixels_not_cleanable", "acme-sono-header")


def test_the_text_detector_keeps_an_instance_whose_cleaned_pixels_still_show_text() -> None:
    """A rule that misses one of the two labels: the OCR check still reads the other."""
    partial = parse_rules(
        f"""
version: 1
rules:
  - name: us-top-only
    match: {{modality: US, rows: {ROWS}, columns: {COLUMNS}}}
    regions:
      - {{x: 0, y: 0, width: {COLUMNS}, height: 30}}
"""
    )
    ds = pydicom.dcmread(BytesIO(synthetic("us", ExplicitVRLittleEndian)))
    ds.NumberOfFrames = 1
    ds.PixelData = ds.PixelData[: ROWS * COLUMNS]
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    data = out.getvalue()
    detector = OcrTextDetector()

    with pytest.raises(QuarantinedInstance) as info:
        deidentify_bytes(data, PROFILE, SECRET, PixelCleaning(partial, detector))
    assert (info.value.rule, info.value.pixel_rule) == ("text_after_cleaning", "us-top-only")

    copy = pydicom.dcmread(
        BytesIO(deidentify_bytes(data, PROFILE, SECRET, PixelCleaning(RULES, detector)))
    )
    assert copy.BurnedInAnnotation == "NO"
