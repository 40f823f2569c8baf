"""Audit events: one per DICOMweb or DIMSE transaction, allowed or denied (DESIGN.md §7).

An ``AuditEvent`` answers who (actor, roles, auth method, source address), did what (action,
entry point, request id), to which objects (study / series / instance UIDs, instance count),
with what result (outcome, HTTP or DIMSE status, a reason code). Events go to an ``AuditSink``:
an append-only JSON-lines file locally, a dedicated CloudWatch Logs group in AWS.

No PHI: the event has no field for patient attributes, UIDs must be well-formed UIDs, and
the reason is a short machine code (``[a-z][a-z0-9_]*``), never free text, so an exception
message quoting a PatientName cannot end up in the log. ``AuditUids`` takes the three UIDs out
of a dataset and nothing else. (UIDs are identifiers, not PHI values; they are what an auditor
needs to say which study was touched.) The schema is documented in ``docs/audit.md``.
"""

from __future__ import annotations

import enum
import json
import re
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Protocol

from cloudpacs.security.identity import Identity
from cloudpacs.security.permissions import Action, Role
from cloudpacs.uids import is_valid_uid

SCHEMA_VERSION = 1
ANONYMOUS = "anonymous"
"""Actor of a request refused before any identity was established (401)."""

_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")
_ADDRESS = re.compile(r"[0-9A-Za-z.:_\-\[\]%]{1,64}")
_KEYWORD = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")
_ROLE_NAMES = frozenset(role.value for role in Role)
_STUDY, _SERIES, _SOP = "0020000D", "0020000E", "00080018"


REASON_BY_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    500: "internal_error",
    503: "unavailable",
}
"""Default reason codes for HTTP statuses; entry points may send finer codes."""


def reason_for_status(status: int) -> str | None:
    """The default reason code of an HTTP ``status`` (None for success and unknown codes)."""
    if status < 400:
        return None
    return REASON_BY_STATUS.get(status, "client_error" if status < 500 else "internal_error")


class Outcome(enum.StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    """Refused for lack of authentication (401) or permission (403)."""
    FAILED = "failed"
    """Allowed but not carried out: bad input, missing object, server fault."""


class EntryPoint(enum.StrEnum):
    DICOMWEB = "dicomweb"
    DIMSE = "dimse"
    INBOX = "inbox"
    """The ingest of a large upload, after the request that declared it (docs/uploads.md)."""
    WORKER = "worker"
    """The de-identification worker, after the request that queued the job: what became of
    each instance whose pixels were cleaned or quarantined (docs/deidentification.md)."""
    RETENTION = "retention"
    """The scheduled retention job: each study it deleted (docs/lifecycle.md)."""


def utc_now() -> str:
    """Now, as the audit schema writes times: ISO 8601, UTC, milliseconds, ``Z``."""
    return format_time(datetime.now(UTC))


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class AuditUids:
    """The object an event is about; only UIDs, taken from a dataset or given directly."""

    study_uid: str | None = None
    series_uid: str | None = None
    sop_uid: str | None = None

    @classmethod
    def from_dicom_json(cls, attrs: Mapping[str, Mapping[str, Any]]) -> AuditUids:
        """The three UIDs of a DICOM JSON dataset (PS3.18 F.2); nothing else is read."""
        return cls(
            _json_value(attrs, _STUDY), _json_value(attrs, _SERIES), _json_value(attrs, _SOP)
        )

    @classmethod
    def from_dataset(cls, dataset: Any) -> AuditUids:
        """The three UIDs of a pydicom ``Dataset`` (read by keyword; nothing else is read)."""
        return cls(
            _text(getattr(dataset, "StudyInstanceUID", None)),
            _text(getattr(dataset, "SeriesInstanceUID", None)),
            _text(getattr(dataset, "SOPInstanceUID", None)),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditEvent:
    time: str
    actor: str
    roles: tuple[str, ...]
    source_address: str | None
    action: str
    """An ``Action`` value, or another short code such as ``associate`` or ``echo``."""
    outcome: Outcome
    status: int
    """HTTP status (DICOMweb) or DIMSE status (0x0000-0xFFFF)."""
    request_id: str | None
    entry_point: EntryPoint
    study_uid: str | None = None
    series_uid: str | None = None
    sop_uid: str | None = None
    instance_count: int | None = None
    reason: str | None = None
    """A machine code (``forbidden``, ``token_expired``, ``not_found``), never free text."""
    auth_method: str | None = None
    previous: dict[str, str] | None = None
    """What a correction replaced: attribute keyword -> the value held before."""
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", Outcome(self.outcome))
        object.__setattr__(self, "entry_point", EntryPoint(self.entry_point))
        object.__setattr__(self, "roles", tuple(self.roles))
        parse_time(self.time)
        _check(0 < len(self.actor) <= 256 and self.actor.isprintable(), "actor", self.actor)
        _check(set(self.roles) <= _ROLE_NAMES, "roles", self.roles)
        _check(_CODE.fullmatch(self.action) is not None, "action", self.action)
        _check(0 <= self.status <= 0xFFFF, "status", self.status)
        for name in ("study_uid", "series_uid", "sop_uid"):
            value = getattr(self, name)
            _check(value is None or is_valid_uid(value), name, value)
        _check(_optional(_ADDRESS, self.source_address), "source_address", self.source_address)
        _check(_optional(_REQUEST_ID, self.request_id), "request_id", self.request_id)
        _check(_optional(_CODE, self.reason), "reason", self.reason)
        _check(_optional(_CODE, self.auth_method), "auth_method", self.auth_method)
        _check(self.instance_count is None or self.instance_count >= 0, "instance_count", None)
        _check(
            self.previous is None
            or all(
                _KEYWORD.fullmatch(k) is not None and isinstance(v, str) and len(v) <= 1024
                for k, v in self.previous.items()
            ),
            "previous",
            None,
        )

    @classmethod
    def record(
        cls,
        identity: Identity | None,
        action: Action | str,
        outcome: Outcome,
        status: int,
        *,
        entry_point: EntryPoint,
        request_id: str | None = None,
        uids: AuditUids | None = None,
        instance_count: int | None = None,
        reason: str | None = None,
        source_address: str | None = None,
        time: str | None = None,
        previous: dict[str, str] | None = None,
    ) -> AuditEvent:
        """The event for one transaction of ``identity`` (None: not authenticated)."""
        uids = uids or AuditUids()
        return cls(
            time=time or utc_now(),
            actor=identity.username if identity else ANONYMOUS,
            roles=tuple(sorted(r.value for r in identity.roles)) if identity else (),
            source_address=source_address or (identity.source_address if identity else None),
            action=str(action),
            outcome=outcome,
            status=status,
            request_id=request_id,
            entry_point=entry_point,
            study_uid=uids.study_uid,
            series_uid=uids.series_uid,
            sop_uid=uids.sop_uid,
            instance_count=instance_count,
            reason=reason,
            auth_method=identity.auth_method.value if identity else None,
            previous=previous,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        data["entry_point"] = self.entry_point.value
        data["roles"] = list(self.roles)
        return data

    def to_json(self) -> str:
        """One line of compact JSON (no newline)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditEvent:
        """Inverse of ``to_dict``; keys unknown to this version are ignored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["roles"] = tuple(values.get("roles") or ())
        return cls(**values)


@dataclass(frozen=True)
class AuditFilter:
    """Selection of events for ``GET /audit``; every given field must match."""

    actor: str | None = None
    action: str | None = None
    outcome: Outcome | None = None
    study_uid: str | None = None
    since: datetime | None = None
    """Inclusive lower bound (timezone-aware)."""
    until: datetime | None = None
    """Exclusive upper bound (timezone-aware)."""

    def matches(self, event: AuditEvent) -> bool:
        if self.actor is not None and event.actor != self.actor:
            return False
        if self.action is not None and event.action != self.action:
            return False
        if self.outcome is not None and event.outcome != self.outcome:
            return False
        if self.study_uid is not None and event.study_uid != self.study_uid:
            return False
        if self.since is not None or self.until is not None:
            moment = parse_time(event.time)
            if self.since is not None and moment < self.since:
                return False
            if self.until is not None and moment >= self.until:
                return False
        return True


class AuditSink(Protocol):
    def emit(self, event: AuditEvent) -> None:
        """Record ``event`` durably; raise if it could not be recorded."""


class AuditReader(Protocol):
    def read(self, filters: AuditFilter | None = None, limit: int = 100) -> list[AuditEvent]:
        """The newest ``limit`` events matching ``filters``, newest first."""


class MemoryAuditSink:
    """Keeps events in memory: for tests, and for counting events per request."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self._lock = threading.Lock()

    def emit(self, event: AuditEvent) -> None:
        with self._lock:
            self.events.append(event)

    def read(self, filters: AuditFilter | None = None, limit: int = 100) -> list[AuditEvent]:
        with self._lock:
            return newest_matching(self.events, filters, limit)


def newest_matching(
    events: Iterable[AuditEvent], filters: AuditFilter | None, limit: int
) -> list[AuditEvent]:
    """The last ``limit`` events of ``events`` (oldest first) matching ``filters``, newest first."""
    if limit <= 0:
        return []
    selected: deque[AuditEvent] = deque(maxlen=limit)
    for event in events:
        if filters is None or filters.matches(event):
            selected.append(event)
    return list(reversed(selected))


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"audit time {text!r} has no time zone")
    return moment


def _json_value(attrs: Mapping[str, Mapping[str, Any]], tag: str) -> str | None:
    element = attrs.get(tag) or {}
    values = element.get("Value") or []
    return _text(values[0]) if values else None


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _optional(pattern: re.Pattern[str], value: str | None) -> bool:
    return value is None or pattern.fullmatch(value) is not None


def _check(ok: bool, name: str, value: object) -> None:
    if not ok:
        shown = repr(value) if name in ("roles", "status", "time") else "(value withheld)"
        raise ValueError(f"invalid audit field {name}: {shown}")
