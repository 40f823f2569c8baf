"""An accepted association's two pynetdicom threads, woken by their work instead of polling.

pynetdicom runs each association as two loops. The DUL thread reads and writes PDUs and,
after a turn with nothing to do, sleeps 1 ms; the association's reactor checks for a
complete DIMSE message every 1 ms. A C-STORE is a turn of both: the peer's next request
waited out the DUL's sleep before it was read, the decoded message the reactor's next look,
the response the DUL's next turn. Measured with DCMTK ``storescu`` sending 200 CT images of
0.5 MB in one association, fsync on: 1.09-1.14 s with the polls, 0.79-0.88 s without
(docs/benchmarks.md, "DIMSE bridge").

Here both loops wait on what they serve:

- the DUL thread, when idle, waits in ``poll`` until the peer's bytes arrive or the
  reactor queues a primitive to send (a queue that signals a socket pair on ``put``), for at
  most ``IDLE_WAIT_S``, so its timers and stop flag are still looked at;
- the reactor waits on the message queue itself, for at most ``REACTOR_WAIT_S`` per turn,
  instead of taking a message only if one is already there.

Applied to an association before it starts (``make_prompt``); pynetdicom's loops, state
machine and timeouts are otherwise unchanged. An idle association wakes 100 times a second
instead of 1,000.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any, cast

from pynetdicom.association import Association
from pynetdicom.dul import DULServiceProvider

from dimse_bridge.polling import readable
from dimse_bridge.store_response import StoreResponses

IDLE_WAIT_S = 0.01
"""Longest wait of an idle DUL thread before it looks at its timers again."""
REACTOR_WAIT_S = 0.01
"""Longest wait of the reactor for a message before its release, abort and timeout checks."""


class Waker:
    """A socket pair: ``wake`` from any thread makes the reading end readable."""

    def __init__(self) -> None:
        self.reader, self.writer = socket.socketpair()
        self.reader.setblocking(False)
        self.writer.setblocking(False)

    def wake(self) -> None:
        with contextlib.suppress(OSError):  # full (already readable) or closed
            self.writer.send(b"\0")

    def drain(self) -> None:
        with contextlib.suppress(OSError):
            while self.reader.recv(4096):
                pass

    def close(self) -> None:
        self.reader.close()
        self.writer.close()


class WakingQueue(queue.Queue[Any]):
    """The DUL's queue of primitives to send: each ``put`` wakes the DUL thread."""

    def __init__(self, wake: Callable[[], None]) -> None:
        super().__init__()
        self._wake = wake

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        self._wake()


class PromptDul(DULServiceProvider):
    """pynetdicom's DUL, whose idle sleep is a wait for the peer's bytes or a primitive.

    pynetdicom's loop calls ``time.sleep(self._run_loop_delay)`` after a turn with nothing
    to do; on the DUL thread reading the delay waits for work and then answers 0.
    """

    waker: Waker

    @property
    def _run_loop_delay(self) -> float:
        if threading.current_thread() is not self:  # stop_dul's wait from another thread
            return IDLE_WAIT_S
        self._wait_for_work()
        return 0.0

    @_run_loop_delay.setter
    def _run_loop_delay(self, value: float) -> None:
        """pynetdicom's __init__ sets the fixed delay this class replaces."""

    def _wait_for_work(self) -> None:
        if not self.to_provider_queue.empty():
            return
        peer = self.socket.socket if self.socket is not None else None
        if peer is None:
            threading.Event().wait(IDLE_WAIT_S)
            return
        if isinstance(peer, ssl.SSLSocket) and peer.pending():
            return  # decrypted bytes buffered that poll cannot see
        try:
            woken = self.waker.reader in readable([peer, self.waker.reader], IDLE_WAIT_S)
        except (OSError, ValueError):  # closed meanwhile: the loop notices it, unhurried
            threading.Event().wait(IDLE_WAIT_S)
            return
        if woken:
            self.waker.drain()


class PromptDimse(StoreResponses):
    """An accepted association's DIMSE provider: plain C-STORE responses encoded directly
    (``StoreResponses``), and the reactor's non-blocking look for a message waiting up to
    ``REACTOR_WAIT_S`` for one."""

    def get_msg(self, block: bool = False) -> Any:
        if block:
            return super().get_msg(block=True)
        try:
            return self.msg_queue.get(timeout=REACTOR_WAIT_S)
        except queue.Empty:
            return None, None


def make_prompt(assoc: Association) -> Waker:
    """Switch a new, not yet started association to the waiting loops; the returned waker
    is closed with the association's socket."""
    waker = Waker()
    assoc.dul.__class__ = PromptDul
    dul = cast(PromptDul, assoc.dul)
    dul.to_provider_queue = WakingQueue(waker.wake)
    dul.waker = waker
    assoc.dimse.__class__ = PromptDimse
    return waker
