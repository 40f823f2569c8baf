"""The listening side: pynetdicom's threaded association server with ten changes.

- ``TCP_NODELAY`` on every accepted connection. DIMSE is request/response with small
  responses: with Nagle's algorithm on, a C-STORE-RSP can wait for the peer's delayed ACK
  on every instance. Measured with DCMTK ``storescu``, 200 CT images took 2.2 s with Nagle
  and 0.3 s without (null storage handler, loopback).
- ``TCP_QUICKACK`` after every read (Linux). Peers keep Nagle on (DCMTK does by default
  since 3.6.2) and send a request as a small command PDU followed by the data set PDU; the
  second waits for our ACK of the first, which Linux delays up to 40 ms in request/response
  traffic. Acknowledging at once removes that wait from every C-FIND and C-STORE.
- Each PDU is read into one buffer rather than in 4 KiB pieces (``QuickAckSocket``).
- Sockets are watched with ``poll``, not ``select``, which fails past descriptor 1023
  (``dimse_bridge.polling``).
- Plain C-STORE responses are encoded directly (``dimse_bridge.store_response``).
- Each accepted association's two loops wait for their work instead of polling every 1 ms
  (``dimse_bridge.reactors``).
- A connection becomes an association only once the peer has sent its first byte (within
  the ACSE timeout). Load balancer and container health checks connect and close without a
  word; pynetdicom would otherwise keep an acceptor thread, counted against the association
  limit, waiting a full ACSE timeout for each of them.
- The TLS handshake runs in the connection's own thread, not in the accept loop, so a peer
  that connects and stalls cannot hold up the others; it is bounded by the ACSE timeout.
- Reads and writes on an accepted connection time out after the network timeout. pynetdicom
  leaves them blocking: a peer that sends part of a PDU and stalls kept the DUL thread in
  ``recv`` for ever, where neither the ARTIM timer, the idle timer nor an abort can reach it,
  and held its association slot until the process ended. Now the read fails, pynetdicom
  treats it as a closed connection (Evt17) and the association ends.
- ``shutdown`` stops accepting and closes the listening socket only; the associations in
  flight are left to finish (``DimseServer.stop`` waits for them).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import ssl
from collections.abc import Callable
from typing import Any, cast

from pynetdicom.association import Association
from pynetdicom.transport import AssociationSocket, RequestHandler, ThreadedAssociationServer

from dimse_bridge.polling import readable
from dimse_bridge.reactors import Waker, make_prompt

log = logging.getLogger(__name__)

TlsFailureHook = Callable[[Any, Exception], None]
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class QuickAckSocket(AssociationSocket):
    """An ``AssociationSocket`` that reads a PDU into one buffer, re-arms TCP_QUICKACK
    after each read (see above) and closes its association's waker with the connection.

    pynetdicom's ``recv`` asks for 4 KiB at a time and appends each piece: 32 calls and
    copies for each of the 128 KiB PDUs DCMTK sends. Reading into one buffer took the time
    the bridge spends reading a 0.5 MB C-STORE's PDUs from 0.62-0.67 to 0.32-0.36 ms
    (docs/benchmarks.md, "DIMSE bridge")."""

    waker: Waker | None = None

    def recv(self, nr_bytes: int) -> bytearray:
        sock = self.socket
        assert sock is not None
        data = bytearray(nr_bytes)
        view = memoryview(data)
        read = 0
        while read < nr_bytes:
            got = sock.recv_into(view[read:])
            if not got:  # closed by the peer: what arrived, as pynetdicom's recv returns
                break
            read += got
        view.release()
        del data[read:]
        if _QUICKACK is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        return data

    @property
    def ready(self) -> bool:
        """pynetdicom's ``ready`` (data to read; a failure is the connection closed, Evt17)
        without ``select``'s descriptor limit (``dimse_bridge.polling``)."""
        sock = self.socket
        if sock is None or self._is_connected is False:
            return False
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True  # decrypted bytes buffered that poll cannot see
        try:
            return bool(readable([sock], 0))
        except (OSError, ValueError):
            self.event_queue.put("Evt17")
            return False

    def close(self) -> None:
        super().close()
        if self.waker is not None:
            self.waker.close()


class BridgeServer(ThreadedAssociationServer):
    daemon_threads = True
    on_tls_failure: TlsFailureHook | None = None

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        assert self.socket is not None
        client, address = self.socket.accept()
        if client.family in (socket.AF_INET, socket.AF_INET6):
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return client, address

    def shutdown(self) -> None:
        socketserver.BaseServer.shutdown(self)
        self.server_close()


class BridgeRequestHandler(RequestHandler):
    server: BridgeServer

    def handle(self) -> None:
        raw: socket.socket = self.request
        timeout = self.ae.acse_timeout
        if not _peer_speaks(raw, timeout):
            raw.close()
            return
        if self.server.ssl_context is not None:
            tls = self.server.ssl_context.wrap_socket(
                raw, server_side=True, do_handshake_on_connect=False
            )
            try:
                tls.settimeout(timeout)
                tls.do_handshake()
            except (OSError, ValueError) as exc:
                log.warning("TLS handshake with %s failed: %s", self.client_address, exc)
                hook = self.server.on_tls_failure
                if hook is not None:
                    hook(self.client_address, exc)
                tls.close()
                return
            self.request = tls
        self.request.settimeout(self.ae.network_timeout)
        super().handle()

    def _create_association(self) -> Association:
        assoc = super()._create_association()
        # Same object, same state; only ``recv`` differs (pynetdicom builds the socket here).
        sock = assoc.dul.socket
        assert sock is not None
        sock.__class__ = QuickAckSocket
        cast(QuickAckSocket, sock).waker = make_prompt(assoc)
        return assoc


def _peer_speaks(sock: socket.socket, timeout: float | None) -> bool:
    """Wait for the peer's first byte; False if it closed or stayed silent."""
    try:
        return bool(readable([sock], timeout)) and sock.recv(1, socket.MSG_PEEK) != b""
    except OSError:
        return False
