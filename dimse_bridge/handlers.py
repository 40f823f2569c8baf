"""DIMSE event handlers: plain functions, bound through ``evt_handlers`` with the ``Bridge``.

Each handler translates: it checks the calling AE's permission (the permission matrix), makes one
call into the cloudpacs services, maps the result to a DIMSE status (PS3.4 B.2.3 storage,
C.4.1.1.4 find, C.4.2.1.5 move, C.4.3.1.4 get; PS3.7 Annex C general statuses), and
records one audit event (``dimse_bridge.bridge``).

Access control at association time (PS3.8 §7.1.1.5 and Table 9-21): an A-ASSOCIATE-RQ whose
Called AE Title is not the bridge's is rejected with diagnostic 7 (called AE title not
recognized); one whose Calling AE Title matches no rule of the AE map is rejected with
diagnostic 3 (calling AE title not recognized); both are permanent rejections by the service
user. Per operation, a role without the action's permission gets 0x0124 (Refused: Not
Authorized) for C-ECHO, C-STORE, C-FIND and C-GET; for C-MOVE see ``dimse_bridge.move``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, cast

from pydicom.dataset import Dataset
from pynetdicom import evt
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.events import Event, EventHandlerType, EventType

from cloudpacs.security.audit import AuditUids, Outcome
from cloudpacs.security.permissions import Action
from cloudpacs.services.ingest import StoreOutcome, StoreStatus
from cloudpacs.uids import is_valid_uid
from dimse_bridge.bridge import NOT_AUTHORIZED, OUT_OF_RESOURCES, Bridge
from dimse_bridge.contexts import qr_model
from dimse_bridge.find import BadIdentifier, find, parse_identifier
from dimse_bridge.move import handle_move
from dimse_bridge.part10 import part10
from dimse_bridge.retrieval import load_for_peer, retrieve_request

log = logging.getLogger(__name__)

SUCCESS = 0x0000
PENDING = 0xFF00
CANCEL = 0xFE00
PROCESSING_FAILURE = 0x0110
IDENTIFIER_DOES_NOT_MATCH = 0xA900
CALLING_AE_NOT_RECOGNIZED = 0x03
CALLED_AE_NOT_RECOGNIZED = 0x07
_STORE_REASONS = {
    0x0110: "processing_failure",
    0x0111: "duplicate_sop_instance",
    0xA900: "dataset_does_not_match",
    0xC000: "cannot_understand",
    0xB006: "duplicate_ignored",
}

# -- association ---------------------------------------------------------------------------


def handle_requested(event: Event, bridge: Bridge) -> None:
    """EVT_REQUESTED: reject unknown calling or called AE titles before negotiation."""
    assoc = event.assoc
    try:
        session = bridge.session(assoc)
        request = assoc.requestor.primitive
        called = str(request.called_ae_title if request else "").strip(" ")
        if called != bridge.settings.ae_title:
            reason, diagnostic = "called_ae_not_recognized", CALLED_AE_NOT_RECOGNIZED
        elif not session.identity.roles:
            reason, diagnostic = "calling_ae_not_recognized", CALLING_AE_NOT_RECOGNIZED
        else:
            return
        bridge.record(session, "associate", Outcome.DENIED, NOT_AUTHORIZED, reason=reason)
        log.info("rejecting association from %s: %s", session.identity.username, reason)
        _reject(event, 0x01, diagnostic)
    except Exception:
        log.exception("association admission failed; rejecting")
        _reject(event, 0x02, 0x01)


def _reject(event: Event, result: int, diagnostic: int) -> None:
    event.assoc.acse.send_reject(result, 0x01, diagnostic)
    event.assoc.kill()


def handle_accepted(event: Event, bridge: Bridge) -> None:
    """EVT_ACCEPTED: the association event of an admitted peer (aborted if unrecordable)."""
    try:
        bridge.record(bridge.session(event.assoc), "associate", Outcome.SUCCESS, SUCCESS)
    except Exception:
        log.exception("the association could not be audited; aborting it")
        event.assoc.abort(block=False)


def handle_rejected(event: Event, bridge: Bridge) -> None:
    """EVT_REJECTED: pynetdicom's own rejections (association limit reached)."""
    bridge.record(
        bridge.session(event.assoc),
        "associate",
        Outcome.DENIED,
        OUT_OF_RESOURCES,
        reason="too_many_associations",
    )


# -- verification and storage ------------------------------------------------------------


def handle_echo(event: Event, bridge: Bridge) -> int:
    session = bridge.session(event.assoc)
    if not session.identity.roles:
        status, outcome, reason = NOT_AUTHORIZED, Outcome.DENIED, "forbidden"
    else:
        status, outcome, reason = SUCCESS, Outcome.SUCCESS, None
    bridge.record(session, "echo", outcome, status, message_id=event.message_id, reason=reason)
    return status


def handle_store(event: Event, bridge: Bridge) -> int:
    """C-STORE: store the dataset exactly as the SCU encoded it (PS3.4 B.2.3 statuses)."""
    session = bridge.session(event.assoc)
    request = cast(C_STORE, event.request)
    if not bridge.authorize(session, Action.STORE):
        sop = str(request.AffectedSOPInstanceUID or "")
        uids = AuditUids(sop_uid=sop if is_valid_uid(sop) else None)
        bridge.record(
            session,
            Action.STORE,
            Outcome.DENIED,
            NOT_AUTHORIZED,
            message_id=event.message_id,
            uids=uids,
            reason="forbidden",
        )
        return NOT_AUTHORIZED
    outcome = bridge.services.ingest.store(part10(event, session.identity.username))
    status = store_status(outcome)
    uids = AuditUids(outcome.study_uid, outcome.series_uid, outcome.sop_uid)
    result = Outcome.SUCCESS if outcome.ok else Outcome.FAILED
    bridge.record(
        session,
        Action.STORE,
        result,
        status,
        message_id=event.message_id,
        uids=uids,
        instance_count=int(outcome.ok),
        reason=_STORE_REASONS.get(status),
    )
    if not outcome.ok:
        log.warning("C-STORE of %s refused: %s", outcome.sop_uid, outcome.message)
    return status


def store_status(outcome: StoreOutcome) -> int:
    if outcome.status is StoreStatus.FAILED:
        return outcome.failure_reason or PROCESSING_FAILURE
    return outcome.warning_reason or SUCCESS


# -- query/retrieve ----------------------------------------------------------------------


def handle_find(event: Event, bridge: Bridge) -> Iterator[tuple[int, Dataset | None]]:
    """C-FIND through the QIDO query service (``dimse_bridge.find``)."""
    session = bridge.session(event.assoc)
    message_id = event.message_id
    if not bridge.authorize(session, Action.SEARCH):
        yield bridge.refuse(session, Action.SEARCH, message_id), None
        return
    model = qr_model(str(event.request.AffectedSOPClassUID or ""))
    try:
        if model is None:
            raise BadIdentifier("not a Query/Retrieve information model the bridge serves")
        request = parse_identifier(event.identifier, model)
    except Exception as exc:
        log.info("C-FIND identifier refused: %s", exc)
        status = IDENTIFIER_DOES_NOT_MATCH
        yield bridge.fail(session, Action.SEARCH, message_id, status, "bad_identifier"), None
        return
    matches = find(bridge.services.query, request, retrieve_ae=bridge.settings.ae_title)
    bridge.record(
        session,
        Action.SEARCH,
        Outcome.SUCCESS,
        SUCCESS,
        message_id=message_id,
        instance_count=len(matches),
    )
    for identifier in matches:
        if event.is_cancelled:
            yield CANCEL, None
            return
        yield PENDING, identifier


def handle_get(event: Event, bridge: Bridge) -> Iterator[Any]:
    """C-GET: the instances go back as C-STORE sub-operations on this association."""
    session = bridge.session(event.assoc)
    records, status = retrieve_request(event, bridge, session)
    if records is None:
        yield 1
        yield status, None
        return
    yield len(records)
    contexts = event.assoc.accepted_contexts
    for rec in records:
        if event.is_cancelled:
            yield CANCEL, None
            return
        yield PENDING, load_for_peer(bridge.services, rec, contexts)


def bind(bridge: Bridge) -> list[EventHandlerType]:
    """The ``evt_handlers`` list of the bridge's server."""
    pairs: list[tuple[EventType, Callable[..., Any]]] = [
        (evt.EVT_REQUESTED, handle_requested),
        (evt.EVT_ACCEPTED, handle_accepted),
        (evt.EVT_REJECTED, handle_rejected),
        (evt.EVT_C_ECHO, handle_echo),
        (evt.EVT_C_STORE, handle_store),
        (evt.EVT_C_FIND, handle_find),
        (evt.EVT_C_GET, handle_get),
        (evt.EVT_C_MOVE, handle_move),
    ]
    return [(event, handler, [bridge]) for event, handler in pairs]
