"""Parse and validate one Part-10 object, and derive what the index records about it.

Rules (PS3.10 §7, PS3.18 §10.5): the object must be a Part-10 file (preamble, ``DICM``,
File Meta Information) with a known transfer syntax, and carry well-formed Study, Series and
SOP Instance UIDs and a SOP Class UID. The bytes are stored as received; nothing here
rewrites them.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

import pydicom
from pydicom.dataset import Dataset, FileDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import AllTransferSyntaxes, DeflatedExplicitVRLittleEndian

from cloudpacs.dicom import attributes, json_model
from cloudpacs.dicom.frames import frame_table
from cloudpacs.dicom.header import Header, scan
from cloudpacs.dicom.raw_json import RawJson, tag_of
from cloudpacs.errors import InvalidDicom
from cloudpacs.model import IndexEntry, InstanceRecord
from cloudpacs.uids import is_valid_uid

PIXEL_DATA = 0x7FE00010
_KNOWN_SYNTAXES = frozenset(str(uid) for uid in AllTransferSyntaxes)
_DEFER = 4096
FRAME_ATTRIBUTES = (
    "NumberOfFrames",
    "Rows",
    "Columns",
    "SamplesPerPixel",
    "BitsAllocated",
    "PhotometricInterpretation",
    "ExtendedOffsetTable",
)
"""What ``dicom.frames`` reads to locate frames."""


@dataclass(frozen=True)
class ParsedInstance:
    data: bytes
    entry: IndexEntry

    @property
    def record(self) -> InstanceRecord:
        return self.entry.instance


def read_dataset(data: bytes, *, defer: bool = True) -> FileDataset:
    """Read a Part-10 object without loading large values; raise InvalidDicom if it is not."""
    try:
        ds = pydicom.dcmread(io.BytesIO(data), defer_size=_DEFER if defer else None)
    except (InvalidDicomError, EOFError, ValueError, KeyError, struct.error) as exc:
        raise InvalidDicom(f"not a DICOM Part-10 object: {exc}") from None
    except Exception as exc:  # pydicom raises a wide range on damaged input
        raise _unreadable(exc) from None
    return ds


def _unreadable(exc: Exception) -> InvalidDicom:
    return InvalidDicom(f"unreadable DICOM object: {exc.__class__.__name__}: {exc}")


def _required_uid(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None or str(value) == "":
        raise InvalidDicom(f"{keyword} is missing")
    text = str(value)
    if not is_valid_uid(text):
        raise InvalidDicom(f"{keyword} is not a valid UID: {text[:80]!r}")
    return text


def _pixel_data_position(ds: Dataset, data: bytes) -> tuple[int, int, int] | None:
    """(element start, value offset, value length) of Pixel Data, or None if absent."""
    if PIXEL_DATA not in ds:
        return None
    raw = ds.get_item(PIXEL_DATA, keep_deferred=True)
    value_tell = getattr(raw, "value_tell", None)
    if value_tell is None:
        return None
    length = int(getattr(raw, "length", 0))
    implicit = bool(getattr(raw, "is_implicit_VR", False))
    header = 8 if implicit else 12
    return value_tell - header, value_tell, length


def parse_instance(data: bytes) -> ParsedInstance:
    """Validate ``data`` and build its index entry. Raises ``InvalidDicom`` with a reason.

    Objects the header reader understands (``dicom.header``) are indexed from their encoded
    attributes; the others are read with pydicom. Both give the same entry.
    """
    if len(data) < 132 or data[128:132] != b"DICM":
        raise InvalidDicom("not a DICOM Part-10 object: no 'DICM' prefix after the preamble")
    header = scan(data)
    if header is not None and header.transfer_syntax in _KNOWN_SYNTAXES:
        try:
            return _parse_header(data, header)
        except _UsePydicom:
            pass
    return parse_with_pydicom(data)


def _parse_header(data: bytes, header: Header) -> ParsedInstance:
    values = RawJson(data, header)
    uids = {
        keyword: _required_uid_of(values, keyword)
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID")
    }
    transfer_syntax = header.transfer_syntax
    pixel = header.elements.get(PIXEL_DATA)
    frames = None
    header_length = len(data)
    if pixel is not None:
        header_length = pixel.start
        frames = frame_table(
            values.frame_dataset(FRAME_ATTRIBUTES), data, transfer_syntax, pixel.value, pixel.length
        )
    modality = _single(values, "Modality")
    record = InstanceRecord(
        study_uid=uids["StudyInstanceUID"],
        series_uid=uids["SeriesInstanceUID"],
        sop_uid=uids["SOPInstanceUID"],
        sop_class_uid=uids["SOPClassUID"],
        transfer_syntax_uid=transfer_syntax,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        attrs=values.select(attributes.INSTANCE_ATTRIBUTES),
        header_length=header_length,
        frames=frames,
        stored_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        modality=modality,
    )
    entry = IndexEntry(
        study_attrs=values.select(attributes.STUDY_ATTRIBUTES),
        series_attrs=values.select(attributes.SERIES_ATTRIBUTES),
        instance=record,
        modality=modality,
    )
    return ParsedInstance(data=data, entry=entry)


class _UsePydicom(Exception):
    """A value the index needs is not a plain single value: read the object with pydicom."""


def _single(values: RawJson, keyword: str) -> str:
    """``str(ds.get(keyword) or "")`` for an attribute holding at most one plain value."""
    element = values.header.elements.get(tag_of(keyword))
    if element is None:
        return ""
    as_json = values.element_json(element)
    if as_json is None:
        raise _UsePydicom
    found = as_json.get("Value", [])
    if len(found) > 1 or not all(isinstance(v, str) for v in found):
        raise _UsePydicom
    return str(found[0]) if found else ""


def _required_uid_of(values: RawJson, keyword: str) -> str:
    text = _single(values, keyword)
    if text == "":
        raise InvalidDicom(f"{keyword} is missing")
    if not is_valid_uid(text):
        raise InvalidDicom(f"{keyword} is not a valid UID: {text[:80]!r}")
    return text


def parse_with_pydicom(data: bytes) -> ParsedInstance:
    """The index entry of ``data`` read with pydicom. pydicom converts each element's value
    when it is first read, so a damaged element (an unknown VR, a value that does not decode)
    raises here rather than in ``dcmread``: any such error is ``InvalidDicom``."""
    try:
        return _parse_dataset(data)
    except InvalidDicom:
        raise
    except Exception as exc:
        raise _unreadable(exc) from None


def _parse_dataset(data: bytes) -> ParsedInstance:
    ds = read_dataset(data)
    meta = getattr(ds, "file_meta", None)
    transfer_syntax = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    if not transfer_syntax:
        raise InvalidDicom("File Meta Information has no TransferSyntaxUID")
    if transfer_syntax not in _KNOWN_SYNTAXES:
        raise InvalidDicom(f"unknown transfer syntax {transfer_syntax[:80]!r}")
    study = _required_uid(ds, "StudyInstanceUID")
    series = _required_uid(ds, "SeriesInstanceUID")
    sop = _required_uid(ds, "SOPInstanceUID")
    sop_class = _required_uid(ds, "SOPClassUID")

    pixel = _pixel_data_position(ds, data)
    frames = None
    header_length = len(data)
    if pixel is not None and transfer_syntax != DeflatedExplicitVRLittleEndian:
        # Deflated datasets have no usable byte offsets: metadata reads the whole object.
        header_length = pixel[0]
        frames = frame_table(ds, data, transfer_syntax, pixel[1], pixel[2])

    record = InstanceRecord(
        study_uid=study,
        series_uid=series,
        sop_uid=sop,
        sop_class_uid=sop_class,
        transfer_syntax_uid=transfer_syntax,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        attrs=json_model.select(ds, attributes.INSTANCE_ATTRIBUTES),
        header_length=header_length,
        frames=frames,
        stored_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        modality=str(ds.get("Modality") or ""),
    )
    entry = IndexEntry(
        study_attrs=json_model.select(ds, attributes.STUDY_ATTRIBUTES),
        series_attrs=json_model.select(ds, attributes.SERIES_ATTRIBUTES),
        instance=record,
        modality=str(ds.get("Modality") or ""),
    )
    return ParsedInstance(data=data, entry=entry)
