"""Which sockets have something to read: ``select``'s answer without its descriptor limit.

``select`` refuses descriptors past 1023 (``ValueError``). ``cloudpacs serve`` raises its
open-files limit (each mapped object it sends holds a descriptor) and runs the bridge in the
same process, so under load an accepted connection's descriptor can be past it: pynetdicom's
``AssociationSocket.ready``, which uses ``select``, then reported the connection closed and
every new association failed. ``poll`` has no such limit; where a platform lacks it,
``select`` is used.
"""

from __future__ import annotations

import errno
import select
import socket
from collections.abc import Sequence

_EVENTS = select.POLLIN | select.POLLPRI if hasattr(select, "poll") else 0


def readable(sockets: Sequence[socket.socket], timeout: float | None) -> list[socket.socket]:
    """The ``sockets`` with data to read, or closed or failed (a read then tells which), after
    waiting up to ``timeout`` seconds for one (None: without limit, 0: not at all). Raises
    ``OSError`` for a socket that is closed on this side, as ``select`` does."""
    if not hasattr(select, "poll"):
        ready, _, _ = select.select(list(sockets), [], [], timeout)
        return ready
    watched = select.poll()
    by_descriptor: dict[int, socket.socket] = {}
    for sock in sockets:
        descriptor = sock.fileno()
        if descriptor < 0:
            raise OSError(errno.EBADF, "socket is closed")
        by_descriptor[descriptor] = sock
        watched.register(descriptor, _EVENTS)
    events = watched.poll(None if timeout is None else timeout * 1000)
    ready = []
    for descriptor, event in events:
        if event & select.POLLNVAL:
            raise OSError(errno.EBADF, "socket is closed")
        ready.append(by_descriptor[descriptor])
    return ready
