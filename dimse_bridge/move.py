"""C-MOVE (PS3.4 C.4.2): instances go to a destination named in the settings, on a new
association the bridge opens as SCU (a C-STORE sub-operation per instance).

The Move Destination is an AE title; ``move_destinations`` maps it to host, port and TLS.
Any other title is answered 0xA801 (Refused: Move Destination unknown). The sub-association
proposes the contexts the selected instances need (``contexts.move_contexts``) with the
bridge's AE title as calling AE, TCP_NODELAY, the bridge's maximum PDU, and TLS with the
bridge's CA and certificate when the destination asks for it; each instance then goes in a
syntax the destination accepted (``retrieval.load_for_peer``).

pynetdicom asks a C-MOVE handler for the destination before anything else and opens the
sub-association as soon as it has the number of sub-operations. So a caller without the
``retrieve`` permission is answered 0xA801 too (no destination is known to it; the audit
event says ``denied``), and a refused identifier is answered 0xA900 after a sub-association
that proposes Verification only.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

from pynetdicom import build_context, evt
from pynetdicom.events import Event
from pynetdicom.presentation import PresentationContext

from cloudpacs.model import InstanceRecord
from cloudpacs.security.permissions import Action
from dimse_bridge.bridge import Bridge
from dimse_bridge.contexts import VERIFICATION, move_contexts
from dimse_bridge.retrieval import load_for_peer, retrieve_request
from dimse_bridge.settings import MoveDestination

MOVE_DESTINATION_UNKNOWN = 0xA801
PENDING = 0xFF00
CANCEL = 0xFE00


class SubAssociation:
    """The contexts the destination accepted (EVT_ACCEPTED of the sub-association)."""

    def __init__(self) -> None:
        self.contexts: list[PresentationContext] = []

    def accepted(self, event: Event) -> None:
        self.contexts = event.assoc.accepted_contexts


def set_nodelay(event: Event) -> None:
    """EVT_CONN_OPEN of a sub-association: no Nagle delay on small PDUs."""
    sock = getattr(event.assoc.dul.socket, "socket", None)
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def association_options(
    bridge: Bridge,
    destination: MoveDestination,
    records: list[InstanceRecord] | None,
    sub: SubAssociation,
) -> dict[str, Any]:
    """Keyword arguments of ``AE.associate`` for the sub-association."""
    options: dict[str, Any] = {
        "contexts": move_contexts(records) if records else [build_context(VERIFICATION)],
        "max_pdu": bridge.settings.max_pdu,
        "evt_handlers": [(evt.EVT_CONN_OPEN, set_nodelay), (evt.EVT_ACCEPTED, sub.accepted)],
    }
    if destination.tls and bridge.client_tls is not None:
        options["tls_args"] = (bridge.client_tls, destination.host)
    return options


def handle_move(event: Event, bridge: Bridge) -> Iterator[Any]:
    """EVT_C_MOVE: destination, number of sub-operations, then one dataset per instance."""
    session = bridge.session(event.assoc)
    if not bridge.authorize(session, Action.RETRIEVE):
        bridge.refuse(session, Action.RETRIEVE, event.message_id)
        yield None, None
        return
    destination = bridge.settings.move_destinations.get(str(event.move_destination).strip(" "))
    if destination is None:
        status, reason = MOVE_DESTINATION_UNKNOWN, "move_destination_unknown"
        bridge.fail(session, Action.RETRIEVE, event.message_id, status, reason)
        yield None, None
        return
    records, status = retrieve_request(event, bridge, session)
    sub = SubAssociation()
    yield destination.host, destination.port, association_options(bridge, destination, records, sub)
    if records is None:
        yield 1
        yield status, None
        return
    yield len(records)
    for rec in records:
        if event.is_cancelled:
            yield CANCEL, None
            return
        yield PENDING, load_for_peer(bridge.services, rec, sub.contexts)
