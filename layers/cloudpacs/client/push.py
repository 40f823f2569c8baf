"""``cloudpacs push``: send folders of DICOM files, skipping what the server already has.

Files are read by header only to learn their UIDs; per study, one QIDO-RS listing says which
instances the server holds (so an interrupted push resumes where it stopped). The rest go in
STOW-RS batches of at most ``batch_count`` files and ``batch_bytes`` bytes; a file larger than
``upload_threshold`` goes through the upload route, as API Gateway's body limit requires.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cloudpacs.client.files import LocalInstance, candidate_paths, read_instance
from cloudpacs.client.listing import ListingError, stored_instances
from cloudpacs.client.outcome import Tally
from cloudpacs.client.progress import progress_bar
from cloudpacs.client.session import Session
from cloudpacs.client.stow import Results, store_batch, store_by_upload

MiB = 1 << 20


@dataclass(frozen=True)
class PushPlan:
    batch_count: int = 10
    batch_bytes: int = 4 * MiB
    upload_threshold: int = 5 * MiB
    """Files above this size take the upload route (API Gateway bodies are ~6 MB at most)."""
    skip_existing: bool = True


def _batches(items: list[LocalInstance], plan: PushPlan) -> Iterable[list[LocalInstance]]:
    batch: list[LocalInstance] = []
    size = 0
    for item in items:
        if batch and (len(batch) >= plan.batch_count or size + item.size > plan.batch_bytes):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item.size
    if batch:
        yield batch


def push(
    session: Session, targets: list[Path], plan: PushPlan = PushPlan(), *, progress: bool = False
) -> Tally:
    tally = Tally()
    by_study: dict[str, list[LocalInstance]] = {}
    for path in candidate_paths(targets):
        found = read_instance(path)
        if isinstance(found, str):
            tally.ignored.append((str(path), found))
        else:
            by_study.setdefault(found.study, []).append(found)
    total = sum(i.size for items in by_study.values() for i in items)
    with progress_bar(total, "push", enabled=progress) as bar:
        for study, items in by_study.items():
            try:
                present = stored_instances(session, study) if plan.skip_existing else {}
            except ListingError as exc:
                tally.failed += [(str(i.path), str(exc)) for i in items]
                bar.update(sum(i.size for i in items))
                continue
            todo = [i for i in items if i.sop not in present]
            tally.skipped += len(items) - len(todo)
            bar.update(sum(i.size for i in items if i.sop in present))
            large = [i for i in todo if i.size > plan.upload_threshold]
            small = [i for i in todo if i.size <= plan.upload_threshold]
            sends = [(b, store_batch) for b in _batches(small, plan)]
            sends += [([i], _upload) for i in large]
            for batch, send in sends:
                _record(tally, batch, send(session, batch))
                bar.update(sum(i.size for i in batch))
    tally.retries = session.retries
    return tally


def _upload(session: Session, batch: list[LocalInstance]) -> Results:
    return store_by_upload(session, batch[0])


def _record(tally: Tally, batch: list[LocalInstance], results: Results) -> None:
    for item in batch:
        why = results.get(item.sop, "not in the answer")
        if why is None:
            tally.done += 1
            tally.bytes += item.size
        else:
            tally.failed.append((str(item.path), why))
