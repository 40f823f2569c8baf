"""Legal hold: a study kept from deletion until an admin releases it (docs/lifecycle.md).

A held study cannot be deleted at any level (study, series, instance): the delete service
refuses with 409, and the retention job passes it by. The hold is part of the study's index
entry on both backends. The reason is free text for people (a case number, a court order);
it is shown to callers of ``GET .../hold`` and in the 409 body, never written to the audit
trail, which records who placed or released a hold and when.
"""

from __future__ import annotations

from cloudpacs.errors import BadRequest, Conflict, NotFound
from cloudpacs.model import LegalHold
from cloudpacs.ports import Index
from cloudpacs.security.audit import utc_now
from cloudpacs.uids import check_scope

MAX_REASON_CHARS = 1024


class StudyOnHold(Conflict):
    """A delete of (part of) a study that is on legal hold."""

    def __init__(self, study: str, hold: LegalHold) -> None:
        super().__init__(
            f"study {study} is on legal hold since {hold.since} ({hold.reason}); an admin "
            "must release the hold (DELETE .../hold) before anything in it can be deleted"
        )
        self.hold = hold


def check_reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise BadRequest("a legal hold needs a reason: a non-empty string")
    if len(reason) > MAX_REASON_CHARS or not reason.isprintable():
        raise BadRequest(
            f"the reason of a legal hold must be printable text of at most {MAX_REASON_CHARS} "
            "characters"
        )
    return reason.strip()


class LegalHolds:
    def __init__(self, index: Index) -> None:
        self.index = index

    def get(self, study: str) -> LegalHold | None:
        """The study's hold, None when it has none; ``NotFound`` for an unknown study."""
        check_scope(study)
        hold = self.index.get_hold(study)
        if hold is None and self.index.get_study(study) is None:
            raise NotFound(f"study {study} not found")
        return hold

    def place(self, study: str, reason: object, *, by: str) -> tuple[LegalHold, bool]:
        """Hold the study; a study held already keeps its ``since`` and gets the new reason.
        Returns the hold and whether it is new."""
        check_scope(study)
        text = check_reason(reason)
        current = self.index.get_hold(study)
        hold = LegalHold(reason=text, since=current.since if current else utc_now(), by=by)
        if not self.index.set_hold(study, hold):
            raise NotFound(f"study {study} not found")
        return hold, current is None

    def release(self, study: str) -> LegalHold:
        """Release the study's hold and return it; ``NotFound`` when it has none."""
        check_scope(study)
        released = self.index.release_hold(study)
        if released is None:
            if self.index.get_study(study) is None:
                raise NotFound(f"study {study} not found")
            raise NotFound(f"study {study} is not on legal hold")
        return released
