"""What every handler is given: the services, the settings, the AE map and the audit sink.

An association is served under the ``Identity`` of its calling AE title (``AeRoleMap``);
the ``Session`` holding it is created when the A-ASSOCIATE-RQ arrives and looked up by the
handlers of that association.

Audit (DESIGN.md §7): the bridge writes to the services' ``AuditSink``, the same trail as
the HTTP side (a JSON-lines file locally, a CloudWatch Logs group on AWS): one event per
association and one per operation. Each carries ``entry_point = dimse``, the calling AE
title as actor, its roles, ``auth_method = ae_title`` and ``request_id`` = the association's
id (``<id>-<message id>`` for operations):

- ``associate``: when an association is accepted (0x0000) or rejected (0x0124 for an unknown
  calling or called AE title or a failed TLS handshake, 0xA700 at the association limit);
- ``echo``: each C-ECHO, with its status;
- ``store``: each C-STORE, after the object is stored, with the C-STORE status;
- ``search``: each C-FIND, before any match is sent; ``instance_count`` = number of matches;
- ``retrieve``: each C-GET and C-MOVE, before any instance is sent; ``instance_count`` =
  instances to send, UIDs those all of them share.

Reasons are machine codes (``calling_ae_not_recognized``, ``forbidden``,
``duplicate_sop_instance``, ``move_destination_unknown``, ...). An event that cannot be
recorded fails the operation (the handler raises, pynetdicom answers with a failure status)
or rejects the association: nothing is served unaudited.
"""

from __future__ import annotations

import ssl
import threading
import uuid
import weakref
from dataclasses import dataclass

from pynetdicom.association import Association

from cloudpacs.runtime import Services
from cloudpacs.security.audit import AuditEvent, AuditSink, AuditUids, EntryPoint, Outcome
from cloudpacs.security.identity import Identity
from cloudpacs.security.permissions import Action, Decision, authorize
from dimse_bridge.settings import DimseSettings

NOT_AUTHORIZED = 0x0124
"""Refused: Not Authorized (PS3.7 Annex C, general status)."""
OUT_OF_RESOURCES = 0xA700


@dataclass(frozen=True)
class Session:
    association_id: str
    identity: Identity

    def request_id(self, message_id: int | None = None) -> str:
        if message_id is None:
            return self.association_id
        return f"{self.association_id}-{message_id}"


class Bridge:
    def __init__(
        self,
        services: Services,
        settings: DimseSettings,
        audit: AuditSink,
        *,
        client_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.services = services
        self.settings = settings
        self.audit = audit
        self.client_tls = client_tls
        self.roles = settings.role_map()
        self._sessions: weakref.WeakKeyDictionary[Association, Session] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def session(self, assoc: Association) -> Session:
        """The session of ``assoc``, created from its calling AE title on first use."""
        with self._lock:
            found = self._sessions.get(assoc)
            if found is None:
                request = assoc.requestor.primitive
                calling = str(request.calling_ae_title if request else assoc.requestor.ae_title)
                found = Session(
                    association_id=uuid.uuid4().hex,
                    identity=self.roles.identity(calling, source_address=source_address(assoc)),
                )
                self._sessions[assoc] = found
            return found

    def authorize(self, session: Session, action: Action) -> Decision:
        return authorize(session.identity, action)

    def record(
        self,
        session: Session,
        action: Action | str,
        outcome: Outcome,
        status: int,
        *,
        message_id: int | None = None,
        uids: AuditUids | None = None,
        instance_count: int | None = None,
        reason: str | None = None,
    ) -> None:
        """Emit one audit event for ``session``; raises if the sink cannot record it."""
        self.audit.emit(
            AuditEvent.record(
                session.identity,
                action,
                outcome,
                status,
                entry_point=EntryPoint.DIMSE,
                request_id=session.request_id(message_id),
                uids=uids,
                instance_count=instance_count,
                reason=reason,
            )
        )

    def refuse(self, session: Session, action: Action, message_id: int | None) -> int:
        """Record a permission refusal of ``action``; the status to answer (0x0124)."""
        self.record(
            session,
            action,
            Outcome.DENIED,
            NOT_AUTHORIZED,
            message_id=message_id,
            reason="forbidden",
        )
        return NOT_AUTHORIZED

    def fail(
        self, session: Session, action: Action, message_id: int | None, status: int, reason: str
    ) -> int:
        """Record an operation that was allowed but not carried out; returns ``status``."""
        self.record(session, action, Outcome.FAILED, status, message_id=message_id, reason=reason)
        return status


def source_address(assoc: Association) -> str | None:
    address = assoc.requestor.address
    return str(address) if address else None
