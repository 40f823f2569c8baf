"""Hypothesis strategies for what a hostile or broken client sends (PS3.18 §8, §10).

DICOM parts start from small valid CT images and are broken the ways real traffic is:
truncated, bytes flipped, garbage inserted, or written with malformed UIDs and transfer
syntaxes. Multipart bodies are framed right or wrong (missing or foreign boundaries, bare
LF, no closing delimiter, preamble, non-DICOM part types). QIDO parameters and path
segments mix real attribute keywords and tags with arbitrary text.
"""

from __future__ import annotations

import io
from functools import cache

from hypothesis import strategies as st
from pydicom import dcmread
from pydicom.uid import generate_uid

from tests.support.synthetic import ct_instance

BOUNDARY = "fuzz-boundary-7d1f"
UID_LIKE = st.from_regex(r"[0-9]{1,8}(\.[0-9]{1,20}){0,6}", fullmatch=True)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
WEIRD_UIDS = st.one_of(
    UID_LIKE,
    TEXT,
    st.just("1.2." + "3" * 70),  # over 64 characters
    st.sampled_from(["", "..", "1..2", "1.2.", ".1", "01.2", "1.2.840\x00", "1/2", "%2e%2e"]),
)


@cache
def bases() -> tuple[bytes, ...]:
    """Two small valid instances of one study (the fuzzed study)."""
    study, series = generate_uid(), generate_uid()
    return tuple(ct_instance(study, series, n, rows=4, columns=4) for n in (1, 2))


@st.composite
def broken_bytes(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(bases())))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "keep"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "truncate":
            del data[at:]
        elif op == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 16))]
    return bytes(data)


@st.composite
def rewritten_dataset(draw: st.DrawFn) -> bytes:
    """A valid image re-written with drawn (often malformed) identifying attributes."""
    ds = dcmread(io.BytesIO(draw(st.sampled_from(bases()))))
    for keyword in draw(
        st.sets(st.sampled_from(["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"]))
    ):
        value = draw(st.one_of(WEIRD_UIDS, st.none()))
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    if draw(st.booleans()):
        ds.file_meta.TransferSyntaxUID = draw(
            st.sampled_from(["1.2.840.10008.1.2", "1.2.840.10008.1.2.4.50", "1.2.3.4", "x"])
        )
    if draw(st.booleans()):
        ds.Rows = draw(st.integers(0, 65535))
    if draw(st.booleans()):
        ds.PatientName = draw(TEXT)
    out = io.BytesIO()
    try:
        ds.save_as(out, enforce_file_format=draw(st.booleans()))
    except Exception:  # pydicom refuses to write some values: send raw garbage instead
        return draw(st.binary(max_size=256))
    return out.getvalue()


DICOM_PARTS = st.one_of(
    st.sampled_from(bases()), broken_bytes(), rewritten_dataset(), st.binary(max_size=512)
)
PART_TYPES = st.one_of(
    st.just("application/dicom"),
    st.sampled_from(
        ["application/dicom; transfer-syntax=1.2.840.10008.1.2.1", "", "application/json"]
    ),
    st.sampled_from(["image/jpeg", "APPLICATION/DICOM", "text/plain; charset=utf-8"]),
)


@st.composite
def multipart_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    """(body, Content-Type) of a STOW-RS request, framed right or wrong."""
    parts = draw(st.lists(st.tuples(PART_TYPES, DICOM_PARTS), max_size=4))
    eol = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n"]))
    body = bytearray()
    if draw(st.booleans()):
        body += draw(st.binary(max_size=32))  # preamble
    for part_type, data in parts:
        body += b"--" + BOUNDARY.encode() + eol
        if part_type:
            body += b"Content-Type: " + part_type.encode() + eol
        if draw(st.booleans()):
            body += draw(st.binary(max_size=24)) + eol  # a stray header line
        body += eol + data + eol
    ending = draw(st.sampled_from(["close", "close", "none", "open", "foreign"]))
    if ending == "close":
        body += b"--" + BOUNDARY.encode() + b"--" + eol
    elif ending == "open":
        body += b"--" + BOUNDARY.encode() + eol
    elif ending == "foreign":
        body += b"--other--" + eol
    boundary = draw(st.sampled_from([BOUNDARY, BOUNDARY, f'"{BOUNDARY}"', "other", ""]))
    content_type = draw(
        st.sampled_from(
            [
                f'multipart/related; type="application/dicom"; boundary={boundary}',
                f"multipart/related; boundary={boundary}",
                f'multipart/related; type="application/json"; boundary={boundary}',
                f"multipart/form-data; boundary={boundary}",
                "application/dicom",
                "",
            ]
        )
    )
    return bytes(body), content_type


QIDO_KEYS = st.one_of(
    st.sampled_from(
        [
            "PatientName",
            "PatientID",
            "StudyDate",
            "StudyTime",
            "AccessionNumber",
            "ModalitiesInStudy",
            "StudyInstanceUID",
            "SeriesInstanceUID",
            "SOPInstanceUID",
            "Modality",
            "00100010",
            "0020000D",
            "00080020",
            "7FE00010",
            "limit",
            "offset",
            "includefield",
            "fuzzymatching",
            "00101002.00100020",
            "PatientName.Foo",
            "",
        ]
    ),
    TEXT,
)
QIDO_VALUES = st.one_of(
    TEXT,
    UID_LIKE,
    st.sampled_from(
        [
            "*",
            "?",
            "Doe*",
            "20260101-",
            "-20260101",
            "20260101-20250101",
            "all",
            "-1",
            "99999999999999999999",
            "1e3",
            "CT\\MR",
            "true",
            "\\",
            "19700101-20301231",
        ]
    ),
)
QIDO_PARAMS = st.lists(st.tuples(QIDO_KEYS, QIDO_VALUES), max_size=5)
SEGMENTS = st.one_of(WEIRD_UIDS, st.sampled_from(bases()).map(lambda _: generate_uid()))
