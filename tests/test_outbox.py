"""The ordered outbox: order, audio drops when full, the sender, drain."""

from __future__ import annotations

import asyncio
from typing import Any

from rtsdk.exceptions import ConnectionClosedError
from rtsdk.metrics import SessionMetrics
from rtsdk.outbox import Outbox


class FakeLink:
    def __init__(self, fail_after: int = 1 << 30) -> None:
        self.sent: list[tuple[Any, bool]] = []
        self.fail_after = fail_after

    async def send(self, frame: str | bytes, *, audio: bool = False) -> None:
        if len(self.sent) >= self.fail_after:
            raise ConnectionClosedError("closed")
        await asyncio.sleep(0)
        self.sent.append((frame, audio))


async def test_sends_in_order_and_drops_only_audio_when_full() -> None:
    m = SessionMetrics()
    box = Outbox(m, max_backlog=2)
    box.post("a", False)
    box.post(b"1", True)
    box.post(b"2", True)  # full: dropped, counted
    box.post("b", False)  # control frames are never dropped
    assert len(box) == 3 and m.outbox_dropped == 1
    link = FakeLink()
    task = asyncio.create_task(box.run(link))  # type: ignore[arg-type]
    await box.drain(5.0, lambda: False)
    assert link.sent == [("a", False), (b"1", True), ("b", False)]
    box.post("c", False)  # the idle sender wakes up for a new frame
    await box.drain(5.0, lambda: False)
    assert link.sent[-1] == ("c", False)
    task.cancel()


async def test_sender_ends_when_the_link_is_closed_for_good() -> None:
    box = Outbox(SessionMetrics(), max_backlog=8)
    for i in range(3):
        box.post(str(i), False)
    link = FakeLink(fail_after=1)
    await asyncio.wait_for(box.run(link), 5.0)  # type: ignore[arg-type]
    assert link.sent == [("0", False)]


async def test_drain_gives_up_on_timeout_or_close() -> None:
    box = Outbox(SessionMetrics(), max_backlog=8)
    box.post("x", False)  # no sender: never drains
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await box.drain(0.05, lambda: False)
    assert loop.time() - t0 < 5.0 and len(box) == 1
    await asyncio.wait_for(box.drain(60.0, lambda: True), 5.0)
