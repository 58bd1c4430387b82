"""The outbox: order, control before waiting audio, barriers, audio dropped when full or late,
the sender, drain."""

from __future__ import annotations

import asyncio
from typing import Any

from rtsdk.exceptions import ConnectionClosedError
from rtsdk.session.metrics import SessionMetrics
from rtsdk.session.outbox import Outbox


class FakeLink:
    def __init__(self, fail_after: int = 1 << 30, idle: bool = False) -> None:
        self.sent: list[tuple[Any, bool]] = []
        self.direct: list[Any] = []
        self.fail_after = fail_after
        self.idle = idle  # try_send succeeds
        self.queue_delay = 0.0  # what the socket holds drains at once

    def try_send(self, frame: str | bytes, tag: Any = None) -> bool:
        if self.idle:
            self.direct.append(frame)
        return self.idle

    async def send(self, frame: str | bytes, *, audio: bool = False, tag: Any = None) -> None:
        if len(self.sent) >= self.fail_after:
            raise ConnectionClosedError("closed")
        await asyncio.sleep(0)
        self.sent.append((frame, audio))


async def test_control_goes_ahead_of_waiting_audio_and_full_audio_drops_the_oldest() -> None:
    m = SessionMetrics()
    box = Outbox(m, max_backlog=2)
    box.post(b"1", True)
    box.post("a", False)
    box.post(b"2", True)
    box.post(b"3", True)  # two audio frames wait already: the oldest goes, counted
    box.post("b", False)  # control frames are never dropped
    assert len(box) == 4 and m.outbox_dropped == 1
    link = FakeLink()
    task = asyncio.create_task(box.run(link))  # type: ignore[arg-type]
    await box.drain(5.0, lambda: False)
    assert link.sent == [("a", False), ("b", False), (b"2", True), (b"3", True)]
    box.post("c", False)  # the idle sender wakes up for a new frame
    await box.drain(5.0, lambda: False)
    assert link.sent[-1] == ("c", False)
    task.cancel()


async def test_a_barrier_waits_for_the_audio_posted_before_it() -> None:
    box = Outbox(SessionMetrics(), max_backlog=8)
    box.post(b"1", True)
    box.post(b"2", True)
    box.post("commit", False, {"type": "input_audio_buffer.commit"}, True)
    box.post(b"3", True)
    box.post("text", False)
    link = FakeLink()
    task = asyncio.create_task(box.run(link))  # type: ignore[arg-type]
    await box.drain(5.0, lambda: False)
    # control frames keep their own order: the text waits for the commit before it
    assert [f for f, _ in link.sent] == [b"1", b"2", "commit", "text", b"3"]
    task.cancel()


async def test_audio_older_than_the_window_is_dropped_and_the_wait_reported() -> None:
    now = [100.0]  # binary fractions below: exact sums
    m = SessionMetrics()
    box = Outbox(m, max_backlog=100, audio_window=0.375, clock=lambda: now[0])
    box.post(b"old", True)
    now[0] += 0.25
    box.post(b"new", True)
    assert box.has_audio and box.wait_ms == 250.0
    now[0] += 0.25  # "old" waited 0.5 s, "new" 0.25 s
    link = FakeLink()
    task = asyncio.create_task(box.run(link))  # type: ignore[arg-type]
    await box.drain(5.0, lambda: False)
    assert link.sent == [(b"new", True)]
    assert m.outbox_dropped == 1 and m.outbox_late_dropped == 1
    assert box.wait_high_water_ms == 250.0 and box.wait_ms == 0.0 and not box.has_audio
    task.cancel()


async def test_idle_link_takes_a_frame_at_once_unless_others_wait() -> None:
    box = Outbox(SessionMetrics(), max_backlog=8)
    link = FakeLink(idle=True)
    box.post("queued before the sender runs", False)
    task = asyncio.create_task(box.run(link))  # type: ignore[arg-type]
    await box.drain(5.0, lambda: False)
    box.post(b"a1", True)  # nothing ahead, link idle: sent inside post()
    assert link.direct == [b"a1"] and len(box) == 0
    link.idle = False
    box.post(b"a2", True)  # link busy: queued for the sender
    box.post(b"a3", True)
    link.idle = True
    box.post(b"a4", True)  # frames wait ahead of it: queued too, order kept
    assert link.direct == [b"a1"]
    await box.drain(5.0, lambda: False)
    assert [f for f, _ in link.sent] == ["queued before the sender runs", b"a2", b"a3", b"a4"]
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


async def test_audio_a_commit_waits_behind_is_kept_whatever_its_age() -> None:
    now = [100.0]
    m = SessionMetrics()
    box = Outbox(m, max_backlog=100, audio_window=0.375, clock=lambda: now[0])
    box.post(b"said", True)
    box.post("commit", False, {"type": "input_audio_buffer.commit"}, True)
    box.post(b"after", True)
    now[0] += 1.0
    link = FakeLink()
    task = asyncio.create_task(box.run(link))  # type: ignore[arg-type]
    await box.drain(5.0, lambda: False)
    assert link.sent == [(b"said", True), ("commit", False)]  # "after" was late: dropped
    assert m.outbox_late_dropped == 1
    task.cancel()
