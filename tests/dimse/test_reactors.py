"""An accepted association's loops wait for their work (``dimse_bridge.reactors``).

Protects: the DUL thread of an idle association waits instead of polling every 1 ms; a
primitive queued for sending wakes it; C-ECHO and release still complete on such an
association.
"""

from __future__ import annotations

import select
import threading
import time

from dimse_bridge.reactors import IDLE_WAIT_S, PromptDimse, PromptDul, Waker, WakingQueue
from tests.dimse.harness import Bridge, accepted_association, associate


def test_an_idle_association_waits_instead_of_polling(bridge: Bridge) -> None:
    assoc = associate(bridge.port, "WORKSTATION_1")
    assert assoc.is_established
    try:
        accepted = accepted_association(bridge)
        assert isinstance(accepted.dul, PromptDul)
        assert isinstance(accepted.dimse, PromptDimse)
        turns = [0]
        wait = accepted.dul._wait_for_work

        def counted() -> None:
            turns[0] += 1
            wait()

        accepted.dul._wait_for_work = counted  # type: ignore[method-assign]
        idle = 0.5
        time.sleep(idle)
        # pynetdicom's own loop turns every 1 ms (about 500 times here); a waiting one at
        # most once per IDLE_WAIT_S, and fewer when the machine is busy.
        assert 0 < turns[0] <= idle / IDLE_WAIT_S * 2
        assert assoc.send_c_echo().Status == 0x0000
    finally:
        assoc.release()
    assert assoc.is_released


def test_a_queued_primitive_wakes_the_waiting_dul_thread() -> None:
    waker = Waker()
    primitives = WakingQueue(waker.wake)
    woke: list[bool] = []

    def wait() -> None:
        readable, _, _ = select.select([waker.reader], [], [], 30)
        woke.append(bool(readable))

    waiter = threading.Thread(target=wait)
    waiter.start()
    try:
        primitives.put("P-DATA")
        waiter.join(timeout=10)
        assert woke == [True]
        waker.drain()
        assert select.select([waker.reader], [], [], 0)[0] == []  # drained: it waits again
        assert primitives.get_nowait() == "P-DATA"
    finally:
        waker.close()
