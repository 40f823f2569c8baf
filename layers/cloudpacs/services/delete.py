"""Delete at study, series and instance level (the DELETE verbs PACS offer beside PS3.18).

The index entries go first, then the objects: a crash in between leaves unreferenced
objects for the repair sweep, never an index entry that points at nothing. A study on legal
hold (``services.legal_hold``) is refused at every level with 409 before anything is removed;
a hold placed while a delete is already under way does not stop that delete.
"""

from __future__ import annotations

from collections.abc import Callable

from cloudpacs.errors import NotFound
from cloudpacs.keys import instance_key, series_metadata_key, thumbnails_prefix
from cloudpacs.model import InstanceRecord
from cloudpacs.ports import BlobStore, Index
from cloudpacs.services.large_responses import responses_prefix
from cloudpacs.services.legal_hold import StudyOnHold
from cloudpacs.uids import check_scope

DeletedHook = Callable[[InstanceRecord], None]


class DeleteService:
    def __init__(
        self, index: Index, blobs: BlobStore, *, on_deleted: list[DeletedHook] | None = None
    ) -> None:
        self.index = index
        self.blobs = blobs
        self.on_deleted = on_deleted if on_deleted is not None else []

    def delete(
        self, study: str, series: str | None = None, sop: str | None = None
    ) -> list[InstanceRecord]:
        check_scope(study, series, sop)
        hold = self.index.get_hold(study)
        if hold is not None:
            raise StudyOnHold(study, hold)
        removed = self.index.remove_instances(study, series, sop)
        if not removed:
            what = f"instance {sop}" if sop else f"series {series}" if series else "study"
            raise NotFound(f"{what} not found in study {study}")
        for rec in removed:
            self.blobs.delete(instance_key(rec.study_uid, rec.series_uid, rec.sop_uid))
        for study_uid, series_uid in {(r.study_uid, r.series_uid) for r in removed}:
            if self.index.series_partition(study_uid, series_uid) is None:
                self.blobs.delete(series_metadata_key(study_uid, series_uid))
            # Cached thumbnails (services.thumbnails) may show what was deleted.
            for key in list(self.blobs.list_keys(thumbnails_prefix(study_uid, series_uid))):
                self.blobs.delete(key)
        # Assembled WADO responses of the study (services.large_responses) held what was
        # deleted: they go too, rather than waiting for their expiry.
        for key in list(self.blobs.list_keys(responses_prefix(study))):
            self.blobs.delete(key)
        for rec in removed:
            for hook in self.on_deleted:
                hook(rec)
        return removed
