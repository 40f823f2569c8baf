"""What the audit event of one HTTP request says, gathered while the request runs.

A ``Transaction`` is opened by the security middleware for every request that is not public:
request id, source address and the UIDs named in the path, then the identity once
established; the route guard (``access.authorize_route``) adds the action and its decision.
Ingest and delete report the instances they stored or removed through hooks
(``count_stored`` / ``count_deleted``) that find the request's transaction in a context
variable (Starlette runs the services in worker threads with a copy of the request's
context), so a STOW-RS audit event carries the number of instances stored and, when they
share one, the study UID. ``event(status)`` turns it into the single ``AuditEvent``.

Only UIDs that are well-formed UIDs are kept: a malformed path segment is left out of the
audit event (the request is refused with 400 anyway), never written there.
"""

from __future__ import annotations

import ipaddress
import re
import threading
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from cloudpacs.model import InstanceRecord
from cloudpacs.security.audit import (
    AuditEvent,
    AuditUids,
    EntryPoint,
    Outcome,
    reason_for_status,
)
from cloudpacs.security.identity import Identity
from cloudpacs.security.permissions import Action
from cloudpacs.services.ingest import StoreStatus
from cloudpacs.uids import is_valid_uid

_API_GATEWAY_REQUEST_ID = re.compile(r"[0-9A-Za-z\-]{1,128}")
_PATH_UIDS = re.compile(r"/studies/([^/]+)(?:/series/([^/]+)(?:/instances/([^/]+))?)?(?:/|$)")
"""Every DICOMweb resource path nests ``/studies/{study}/series/{series}/instances/{sop}``."""
UNROUTED = "unrouted"
"""Audit action of a request no route claimed (refused before routing, or 404/405)."""


@dataclass
class Transaction:
    request_id: str
    source_address: str | None
    path_uids: AuditUids
    action: str = UNROUTED
    identity: Identity | None = None
    authorized: bool | None = None
    """The route guard's decision; None: no route guard ran."""
    reason: str | None = None
    """Audit reason code (``token_expired``, ``forbidden``, ...); default: from the status."""
    records: list[InstanceRecord] = field(default_factory=list)
    previous: dict[str, str] | None = None
    """What a correction replaced (``web.routes.corrections``)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def begin(cls, scope: Mapping[str, Any]) -> Transaction:
        return cls(
            request_id=request_id_of(scope),
            source_address=source_address_of(scope),
            path_uids=path_uids_of(str(scope.get("path", ""))),
        )

    def note(self, record: InstanceRecord) -> None:
        with self._lock:
            self.records.append(record)

    def event(self, status: int) -> AuditEvent:
        with self._lock:
            records = list(self.records)
        return AuditEvent.record(
            self.identity,
            self.action,
            outcome_of(status),
            status,
            entry_point=EntryPoint.DICOMWEB,
            request_id=self.request_id,
            uids=self._uids(records),
            instance_count=len(records) if self.action in _COUNTED else None,
            reason=self.reason or reason_for_status(status),
            source_address=self.source_address,
            previous=self.previous,
        )

    def _uids(self, records: list[InstanceRecord]) -> AuditUids:
        """The path's UIDs, completed from what was stored (a STOW to ``/studies``)."""
        path = self.path_uids
        studies = {r.study_uid for r in records}
        series = {r.series_uid for r in records}
        return AuditUids(
            path.study_uid or _single(studies),
            path.series_uid or _single(series),
            path.sop_uid or (records[0].sop_uid if len(records) == 1 else None),
        )


CURRENT: ContextVar[Transaction | None] = ContextVar("cloudpacs_transaction", default=None)


def count_stored(record: InstanceRecord, status: StoreStatus) -> None:
    """Ingest hook: the instance counts toward the current request's audit event."""
    transaction = CURRENT.get()
    if transaction is not None:
        transaction.note(record)


def count_deleted(record: InstanceRecord) -> None:
    """Delete hook: the instance counts toward the current request's audit event."""
    transaction = CURRENT.get()
    if transaction is not None:
        transaction.note(record)


_COUNTED = frozenset({Action.STORE.value, Action.DELETE.value, Action.UPDATE.value})


def path_uids_of(path: str) -> AuditUids:
    found = _PATH_UIDS.search(path)
    if found is None:
        return AuditUids()
    return AuditUids(_uid(found[1]), _uid(found[2]), _uid(found[3]))


def outcome_of(status: int) -> Outcome:
    if status in (401, 403):
        return Outcome.DENIED
    return Outcome.FAILED if status >= 400 else Outcome.SUCCESS


def request_id_of(scope: Mapping[str, Any]) -> str:
    """API Gateway's request id behind API Gateway; a fresh one otherwise.

    A client's own ``X-Request-Id`` is not taken: the id in the audit trail must be one the
    server chose, not one a client can make collide with another request's.
    """
    event = scope.get("aws.event")
    if isinstance(event, Mapping):
        context = event.get("requestContext") or {}
        request_id = context.get("requestId") if isinstance(context, Mapping) else None
        if isinstance(request_id, str) and _API_GATEWAY_REQUEST_ID.fullmatch(request_id):
            return request_id
    return uuid.uuid4().hex


def source_address_of(scope: Mapping[str, Any]) -> str | None:
    """The peer's IP address (API Gateway's ``sourceIp`` through Mangum); never a header."""
    client = scope.get("client")
    if not client or not client[0]:
        return None
    try:
        return str(ipaddress.ip_address(str(client[0])))
    except ValueError:
        return None


def _uid(value: object) -> str | None:
    return value if isinstance(value, str) and is_valid_uid(value) else None


def _single(values: set[str]) -> str | None:
    return next(iter(values)) if len(values) == 1 else None
