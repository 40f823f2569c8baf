"""The test corpus: every file pydicom and pydicom-data ship, parsed once per session.

Selection rule: every top-level file of pydicom's ``test_files`` and of the pydicom-data
store (the set ``pydicom.data.get_testdata_files("*")`` returns, listed directly because that
call hashes every file) that ``dcmread`` parses as a Part-10 file of a stored instance: File
Meta Information with a Transfer Syntax UID, and a SOP Class and SOP Instance UID. Files with
and without Pixel Data are both in. The rest (no File Meta, JSON, ICC profiles, dumps) must
be refused with ``NotPart10``; ``test_corpus`` checks that too.

Files that the quarantine rule refuses for their kind (Secondary Capture, Ultrasound without
Burned In Annotation "NO") are also run as a *reviewed* copy with Burned In Annotation set to
"NO", which is how an instance looks after a person or a pixel cleaner has checked it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from pydicom.data import data_manager
from pydicom.dataset import Dataset

from cloudpacs.deid import NotPart10, Profile, QuarantinedInstance, deidentify_bytes
from cloudpacs.deid.quarantine import check_pixels

SECRET = b"unit-test-deployment-secret-0001"
OTHER_SECRET = b"another-deployment-secret-000002"
PRESETS = tuple(Profile.PRESETS)


def corpus_paths() -> list[Path]:
    roots = [Path(data_manager.DATA_ROOT) / "test_files"]
    roots += [Path(src.data_path) for src in data_manager.external_data_sources().values()]
    return sorted(p for root in roots for p in root.glob("*") if p.is_file())


def parse(data: bytes) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(BytesIO(data))


def is_stored_instance(ds: Dataset) -> bool:
    meta = getattr(ds, "file_meta", None)
    if meta is None or "TransferSyntaxUID" not in meta:
        return False
    return all(ds.get(a) or meta.get(f"MediaStorage{a}") for a in ("SOPClassUID", "SOPInstanceUID"))


@dataclass(frozen=True)
class CorpusFile:
    name: str
    data: bytes  # the bytes de-identified: the file as shipped, or its reviewed copy
    dataset: Dataset  # ``data`` parsed; read-only for tests
    quarantine_rule: str | None  # the rule that refuses the file as shipped, if any


def _reviewed(ds: Dataset) -> bytes:
    for _ in ds:  # decode every element first: SC_rgb_jpeg.dcm's VRs are only known then
        pass
    ds.BurnedInAnnotation = "NO"
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


@pytest.fixture(scope="session")
def corpus() -> list[CorpusFile]:
    files: list[CorpusFile] = []
    for path in corpus_paths():
        data = path.read_bytes()
        try:
            ds = parse(data)
        except Exception:
            continue
        if not is_stored_instance(ds):
            continue
        rule = None
        try:
            check_pixels(ds)
        except QuarantinedInstance as exc:
            rule = exc.rule
            data = _reviewed(ds)
            ds = parse(data)
        files.append(CorpusFile(path.name, data, ds, rule))
    return files


@pytest.fixture(scope="session")
def rejected_paths() -> list[Path]:
    rejected = []
    for path in corpus_paths():
        try:
            ok = is_stored_instance(parse(path.read_bytes()))
        except Exception:
            ok = False
        if not ok:
            rejected.append(path)
    return rejected


Outputs = dict[str, tuple[bytes, Dataset]]


@pytest.fixture(scope="session")
def outputs(corpus: list[CorpusFile]) -> Callable[[str], Outputs]:
    """De-identified corpus per preset, computed once: name -> (output bytes, parsed)."""
    cache: dict[str, Outputs] = {}

    def get(preset: str) -> Outputs:
        if preset not in cache:
            profile = Profile.preset(preset)
            result: Outputs = {}
            for f in corpus:
                out = deidentify_bytes(f.data, profile, SECRET)
                result[f.name] = (out, parse(out))
            cache[preset] = result
        return cache[preset]

    return get


__all__ = ["OTHER_SECRET", "PRESETS", "SECRET", "CorpusFile", "NotPart10", "Outputs"]
