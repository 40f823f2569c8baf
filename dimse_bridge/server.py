"""The bridge's application entity: built from settings, started, stopped gracefully.

``start(services, core, dimse)`` binds the port and serves in a background thread (or in the
calling thread with ``block=True``, until SIGTERM or SIGINT). ``DimseServer.stop`` is the
graceful shutdown: stop accepting, let the associations in flight finish (each C-STORE is
stored and indexed before its response is sent, so a finished association has nothing
half-stored), abort whatever is still running after ``shutdown_grace`` seconds.

``start_in_background(services, core)`` is what ``cloudpacs serve`` calls to run the bridge
next to the HTTP server on the same services.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from pynetdicom import AE
from pynetdicom import _config as pynetdicom_config
from pynetdicom.association import Association
from pynetdicom.transport import AddressInformation, AssociationSocket

from cloudpacs.runtime import Services
from cloudpacs.security.audit import AuditEvent, AuditSink, EntryPoint, Outcome
from cloudpacs.settings import Settings
from dimse_bridge import contexts, handlers, tls
from dimse_bridge.bridge import NOT_AUTHORIZED, Bridge
from dimse_bridge.settings import DimseSettings, load_dimse_settings
from dimse_bridge.transport import BridgeRequestHandler, BridgeServer, QuickAckSocket

log = logging.getLogger("dimse_bridge")


class BridgeAE(AE):
    """The bridge's AE: the sub-associations it opens for C-MOVE use the same socket class as
    the associations it accepts (``transport.QuickAckSocket``: one buffer per PDU, ``poll``
    instead of ``select``)."""

    def _create_socket(
        self, assoc: Association, address: AddressInformation, tls_args: Any
    ) -> AssociationSocket:
        sock = super()._create_socket(assoc, address, tls_args)
        sock.__class__ = QuickAckSocket
        return sock


def build_ae(settings: DimseSettings) -> AE:
    ae = BridgeAE(ae_title=settings.ae_title)
    ae.maximum_associations = settings.max_associations
    ae.maximum_pdu_size = settings.max_pdu
    ae.acse_timeout = settings.acse_timeout
    ae.dimse_timeout = settings.dimse_timeout
    ae.network_timeout = settings.network_timeout
    ae.connection_timeout = settings.connection_timeout
    ae.require_called_aet = True
    for cx in contexts.supported_contexts():
        assert cx.abstract_syntax is not None
        ae.add_supported_context(
            cx.abstract_syntax, cx.transfer_syntax, scu_role=cx.scu_role, scp_role=cx.scp_role
        )
    return ae


class DimseServer:
    """A running bridge: its address, and a graceful ``stop``."""

    def __init__(self, ae: AE, server: BridgeServer, bridge: Bridge) -> None:
        self.ae = ae
        self.server = server
        self.bridge = bridge
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    @property
    def host(self) -> str:
        return str(self.server.server_address[0])

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def status(self) -> dict[str, object]:
        """What ``/api/v1/system/status`` reports of the bridge."""
        alive = self._thread is not None and self._thread.is_alive() and not self._stopped.is_set()
        return {
            "status": "ok" if alive else "stopped",
            "aeTitle": self.bridge.settings.ae_title,
            "port": self.port,
            "associations": len(self.in_flight()),
        }

    def serve_in_thread(self) -> None:
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="dimse-bridge-accept", daemon=True
        )
        self._thread.start()

    def in_flight(self) -> list[Association]:
        """Associations negotiated or being negotiated (the ones a graceful stop waits for)."""
        return [
            assoc
            for assoc in self.server.active_associations
            if assoc.is_established or (assoc.requestor.primitive is not None and not _ended(assoc))
        ]

    def stop(self, grace: float | None = None) -> None:
        """Stop accepting; wait up to ``grace`` seconds for associations, then abort them."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        grace = self.bridge.settings.shutdown_grace if grace is None else grace
        self.server.shutdown()
        deadline = time.monotonic() + grace
        while self.in_flight() and time.monotonic() < deadline:
            time.sleep(0.05)
        for assoc in self.in_flight():
            log.warning(
                "aborting the association with %s: still open after the shutdown grace period",
                assoc.requestor.ae_title,
            )
            assoc.abort()
        log.info("DIMSE bridge stopped")


def _ended(assoc: Association) -> bool:
    return bool(assoc.is_rejected or assoc.is_aborted or assoc.is_released)


def start(
    services: Services,
    core: Settings,
    dimse: DimseSettings | None = None,
    *,
    block: bool = False,
    audit: AuditSink | None = None,
) -> DimseServer:
    """Bind and serve; ``block=True`` serves until SIGTERM/SIGINT, then stops gracefully.

    Audit events go to ``audit`` if given, else to the services' audit sink.
    """
    dimse = dimse or load_dimse_settings()
    sink = audit or services.audit
    pynetdicom_log = logging.getLogger("pynetdicom")
    if pynetdicom_log.level == logging.NOTSET:
        pynetdicom_log.setLevel(logging.WARNING)  # one INFO line per PDU otherwise
    if not pynetdicom_log.isEnabledFor(logging.INFO):
        # pynetdicom's own handlers of every PDU and DIMSE message only write INFO and DEBUG
        # lines; unbound, they stop costing each C-STORE an event per PDU and message.
        pynetdicom_config.LOG_HANDLER_LEVEL = "none"
    bridge = Bridge(services, dimse, sink, client_tls=tls.client_context(dimse))
    ae = build_ae(dimse)
    server = ae.make_server(
        (dimse.host, dimse.port),
        ssl_context=tls.server_context(dimse),
        evt_handlers=handlers.bind(bridge),
        server_class=BridgeServer,
        request_handler=BridgeRequestHandler,
    )
    assert isinstance(server, BridgeServer)
    server.on_tls_failure = _tls_failure_recorder(sink)
    running = DimseServer(ae, server, bridge)
    log.info(
        "DIMSE bridge %s listening on %s:%d%s",
        dimse.ae_title,
        running.host,
        running.port,
        " (TLS)" if dimse.tls_enabled else "",
    )
    if not block:
        running.serve_in_thread()
        return running
    stop_requested = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping the DIMSE bridge", signum)
        stop_requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        running.serve_in_thread()
        stop_requested.wait()
    finally:
        running.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return running


def start_in_background(
    services: Services, core: Settings, *, port: int | None = None, **overrides: Any
) -> DimseServer:
    """The bridge as a thread of another process (``cloudpacs serve``), on ``services``."""
    if port is not None:
        overrides["port"] = port
    return start(services, core, load_dimse_settings(**overrides))


def _tls_failure_recorder(sink: AuditSink) -> Any:
    def record(address: Any, exc: Exception) -> None:
        host = str(address[0]) if isinstance(address, tuple) and address else None
        sink.emit(
            AuditEvent.record(
                None,
                "associate",
                Outcome.DENIED,
                NOT_AUTHORIZED,
                entry_point=EntryPoint.DIMSE,
                source_address=host,
                reason="tls_handshake_failed",
            )
        )

    return record
