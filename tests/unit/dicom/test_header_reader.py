"""The ingest header reader against pydicom, over every file pydicom and pydicom-data ship.

``parse_instance`` indexes objects the header reader understands from their encoded bytes
(``dicom.header``, ``dicom.raw_json``); the index entry must be the one pydicom's full read
gives: the same attributes with the same values, the same UIDs, transfer syntax, header
length and frame table, and the same verdict (with the same reason) on objects refused.
"""

from __future__ import annotations

import dataclasses
import warnings

import pytest

from cloudpacs.dicom import parse
from cloudpacs.dicom.header import scan
from cloudpacs.errors import InvalidDicom
from tests.support.corpus import corpus_paths
from tests.support.synthetic import ct_instance


def _outcome(fn: object, data: bytes) -> object:
    try:
        entry = fn(data).entry  # type: ignore[operator]
    except InvalidDicom as exc:
        return ("refused", exc.reason)
    return dataclasses.replace(entry, instance=dataclasses.replace(entry.instance, stored_at=""))


def _fast(data: bytes) -> object:
    """The header reader's path alone (no fallback to pydicom)."""
    header = scan(data)
    assert header is not None
    return parse._parse_header(data, header)


def test_every_corpus_file_is_indexed_as_pydicom_reads_it() -> None:
    read_fast = 0
    compared = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in corpus_paths():
            data = path.read_bytes()
            if len(data) < 132 or data[128:132] != b"DICM":
                continue
            compared += 1
            expected = _outcome(parse.parse_with_pydicom, data)
            assert _outcome(parse.parse_instance, data) == expected, path.name
            header = scan(data)
            if header is None or header.transfer_syntax not in parse._KNOWN_SYNTAXES:
                continue
            try:
                fast = _outcome(_fast, data)
            except parse._UsePydicom:
                continue
            read_fast += 1
            assert fast == expected, path.name
    assert compared > 100
    assert read_fast > compared * 0.7, (read_fast, compared)


@pytest.mark.parametrize(
    ("cut", "reason"),
    [(300, "truncated element"), (-5, "truncated pixel data")],
)
def test_damaged_objects_get_pydicoms_verdict(cut: int, reason: str) -> None:
    data = ct_instance("1.2.3", "1.2.3.4", 1)[:cut]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _outcome(parse.parse_instance, data) == _outcome(parse.parse_with_pydicom, data)


def test_the_synthetic_ct_is_read_by_the_header_reader() -> None:
    data = ct_instance("1.2.3", "1.2.3.4", 1)
    header = scan(data)
    assert header is not None
    assert _outcome(_fast, data) == _outcome(parse.parse_with_pydicom, data)
