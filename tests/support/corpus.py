"""The real DICOM files pydicom ships, filtered to valid Part-10 instances.

``get_testdata_files`` checks its data store and is slow, so the list is computed once per
process.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cloudpacs.dicom.parse import parse_instance
from cloudpacs.errors import InvalidDicom


@dataclass(frozen=True)
class CorpusFile:
    path: Path
    data: bytes
    study_uid: str
    series_uid: str
    sop_uid: str
    transfer_syntax: str


@lru_cache(maxsize=1)
def corpus_paths() -> tuple[Path, ...]:
    """Every file of pydicom's and pydicom-data's test data, valid or not."""
    from pydicom.data import get_testdata_files

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tuple(Path(p) for p in sorted(get_testdata_files("*")) if Path(p).is_file())


@lru_cache(maxsize=1)
def corpus() -> tuple[CorpusFile, ...]:
    files = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in corpus_paths():
            data = path.read_bytes()
            try:
                rec = parse_instance(data).record
            except InvalidDicom:
                continue
            files.append(
                CorpusFile(
                    path, data, rec.study_uid, rec.series_uid, rec.sop_uid, rec.transfer_syntax_uid
                )
            )
    return tuple(files)


def unique_batches(files: tuple[CorpusFile, ...]) -> list[list[CorpusFile]]:
    """Split files into batches in which no SOP Instance UID repeats.

    pydicom ships the same instance in several transfer syntaxes; each batch can be stored
    on one server without tripping the duplicate policy.
    """
    batches: list[tuple[set[str], list[CorpusFile]]] = []
    for f in files:
        for seen, batch in batches:
            if f.sop_uid not in seen:
                seen.add(f.sop_uid)
                batch.append(f)
                break
        else:
            batches.append(({f.sop_uid}, [f]))
    return [b for _, b in batches]
