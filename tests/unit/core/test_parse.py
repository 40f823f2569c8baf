"""Part-10 validation and the index entry derived from it (``dicom.parse``, ``uids``)."""

from __future__ import annotations

import hashlib
import io

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from cloudpacs.dicom.parse import parse_instance
from cloudpacs.errors import BadRequest, InvalidDicom
from cloudpacs.uids import check_uid, is_valid_uid

from .dicom_json import tag
from .instances import instance, sample, sample_bytes, to_bytes

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def reason(data: bytes) -> str:
    with pytest.raises(InvalidDicom) as caught:
        parse_instance(data)
    assert caught.value.status == 409
    return caught.value.reason


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"DICM",
        b"\x00" * 128 + b"DICX" + b"\x00" * 100,
        b"not dicom at all" * 20,
    ],
)
def test_non_part10_bytes_are_rejected(data: bytes) -> None:
    """PS3.10 §7.1: a DICOM File starts with a 128-byte preamble and the prefix "DICM"."""
    assert "not a DICOM Part-10 object" in reason(data)


@pytest.mark.parametrize("name", ["no_meta.dcm", "ExplVR_LitEndNoMeta.dcm", "rtstruct.dcm"])
def test_a_dataset_without_file_meta_is_rejected(name: str) -> None:
    """PS3.10 §7.1: the preamble, "DICM" and the File Meta Information are required; pydicom
    ships datasets written without them."""
    assert "no 'DICM' prefix" in reason(sample_bytes(name))


def test_an_object_cut_short_is_rejected() -> None:
    """pydicom reads what it can of a truncated object; the UIDs after the cut are missing."""
    data = instance()
    cut = data.index(b"\x08\x00\x16\x00UI")  # SOP Class UID, first element after the meta
    assert reason(data[: cut + 3]) == "StudyInstanceUID is missing"


def test_missing_transfer_syntax_is_rejected() -> None:
    ds = sample()
    del ds.file_meta.TransferSyntaxUID
    out = io.BytesIO()
    ds.save_as(out, implicit_vr=False, little_endian=True)
    assert reason(out.getvalue()) == "File Meta Information has no TransferSyntaxUID"


def test_unknown_transfer_syntax_is_rejected() -> None:
    """PS3.5 §10: an object must be in a Transfer Syntax the receiver knows to be read."""
    data = instance()
    known = b"1.2.840.10008.1.2.1\x00"
    assert data.count(known) == 1
    data = data.replace(known, b"1.2.826.0.1.3680043\x00")  # same length, not a syntax
    assert reason(data) == "unknown transfer syntax '1.2.826.0.1.3680043'"


@pytest.mark.parametrize(
    "keyword", ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID"]
)
def test_missing_uids_are_rejected(keyword: str) -> None:
    assert reason(instance(**{keyword: None})) == f"{keyword} is missing"


@pytest.mark.parametrize(
    "keyword", ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID"]
)
def test_empty_uids_are_rejected(keyword: str) -> None:
    assert reason(instance(**{keyword: ""})) == f"{keyword} is missing"


INVALID_UIDS = [
    "1.2.abc",
    "1..2",
    ".1.2",
    "1.2.",
    "1.2 .3",
    "1.2.3/../4",
    "1.2-3",
    "1." + "2" * 63,  # 65 characters
    "05fa52f0e599f17b8186ff18fcdf2b55",
]


@pytest.mark.parametrize("value", INVALID_UIDS)
@pytest.mark.parametrize("keyword", ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"])
def test_invalid_uids_are_rejected(keyword: str, value: str) -> None:
    """PS3.5 §9.1: "The UID is composed of a number of numeric components as defined by ISO/IEC
    8824 [...] Each component of a UID is a number and shall consist of one or more digits
    [...] Components shall be separated by the character "." (2EH) [...] UIDs, shall not
    exceed 64 total characters"."""
    assert reason(instance(**{keyword: value})).startswith(f"{keyword} is not a valid UID")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("1.2.840.10008.1.2.1", True),
        ("0", True),
        ("1." + "2" * 62, True),  # 64 characters
        ("1." + "2" * 63, False),
        ("1.2.0.3", True),
        ("", False),
        ("1.2.a", False),
        ("1,2", False),
        ("1.2\n", False),
        ("١.٢", False),  # non-ASCII digits
        # PS3.5 §9.1 forbids a leading zero in a multi-digit component; DESIGN.md §4
        # accepts it (legacy devices write such UIDs), so stored data stays reachable.
        ("1.02.3", True),
    ],
)
def test_uid_syntax(value: str, valid: bool) -> None:
    """PS3.5 §9.1 syntax, as DESIGN.md §4 states it: ``^[0-9]+(\\.[0-9]+)*$``, ≤ 64 chars."""
    assert is_valid_uid(value) is valid


def test_check_uid_names_what_was_wrong() -> None:
    assert check_uid("1.2.3", "study UID") == "1.2.3"
    with pytest.raises(BadRequest, match=r"invalid study UID: '\.\./etc' \(digits and dots"):
        check_uid("../etc", "study UID")
    with pytest.raises(BadRequest) as caught:
        check_uid("9" * 200)
    assert len(caught.value.reason) < 150


def test_the_record_describes_the_object() -> None:
    study, series, sop = generate_uid(), generate_uid(), generate_uid()
    data = instance(study, series, sop, PatientName="Doe^Jane", InstanceNumber=7, Modality="CT")
    parsed = parse_instance(data)
    rec = parsed.record
    assert parsed.data is data
    assert (rec.study_uid, rec.series_uid, rec.sop_uid) == (study, series, sop)
    assert rec.sop_class_uid == CT_IMAGE_STORAGE
    assert rec.transfer_syntax_uid == "1.2.840.10008.1.2.1"
    assert rec.sha256 == hashlib.sha256(data).hexdigest()
    assert rec.size == len(data)
    assert rec.attrs[tag("InstanceNumber")] == {"vr": "IS", "Value": [7]}
    assert tag("PatientName") not in rec.attrs
    entry = parsed.entry
    assert entry.study_attrs[tag("PatientName")] == {
        "vr": "PN",
        "Value": [{"Alphabetic": "Doe^Jane"}],
    }
    assert entry.series_attrs[tag("SeriesInstanceUID")]["Value"] == [series]
    assert entry.modality == "CT"


@pytest.mark.parametrize(
    ("source", "pixel_tag"),
    [
        ("CT_small.dcm", b"\xe0\x7f\x10\x00OW"),  # explicit VR little endian
        ("MR_small_implicit.dcm", b"\xe0\x7f\x10\x00"),  # implicit VR little endian
        ("MR_small_bigendian.dcm", b"\x7f\xe0\x00\x10OW"),  # explicit VR big endian
        ("JPEG2000.dcm", b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff"),  # encapsulated
    ],
)
def test_header_length_points_at_the_pixel_data_element(source: str, pixel_tag: bytes) -> None:
    """Metadata is parsed from the bytes before Pixel Data (7FE0,0010) alone."""
    data = instance(source=source)
    rec = parse_instance(data).record
    assert data[rec.header_length :].startswith(pixel_tag)
    assert data.count(pixel_tag[:4]) >= 1
    assert rec.frames is not None


def test_without_pixel_data_the_header_is_the_whole_object() -> None:
    data = instance(source="rtplan.dcm")
    rec = parse_instance(data).record
    assert (rec.header_length, rec.frames) == (len(data), None)


def test_pixel_data_inside_a_sequence_is_not_the_objects_pixel_data() -> None:
    """An icon image (0088,0200) holds its own Pixel Data; only the top-level one counts."""
    ds = sample()
    icon = Dataset()
    icon.SamplesPerPixel, icon.PhotometricInterpretation = 1, "MONOCHROME2"
    icon.Rows, icon.Columns = 2, 2
    icon.BitsAllocated, icon.BitsStored, icon.HighBit, icon.PixelRepresentation = 8, 8, 7, 0
    icon.PixelData = b"\x01\x02\x03\x04"
    ds.IconImageSequence = [icon]
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    data = to_bytes(ds)
    rec = parse_instance(data).record
    assert data[rec.header_length :].startswith(b"\xe0\x7f\x10\x00")
    assert rec.header_length > data.index(b"\x88\x00\x00\x02")
