"""The session's one ordered outbox and the sender task that hands it to the link.

Every frame a session sends (config, intents, tool outputs, audio appends) is posted here, in
order. When nothing waits before it and the link can take it without waiting, a frame goes
to the socket at once, inside :meth:`Outbox.post` (no task hop, no wake-up); otherwise it
waits here for the sender task. Audio appends are marked: when the outbox already holds
``max_backlog`` frames a new append is dropped and counted, never a control frame. What the
link does while disconnected (keep control frames, keep only ``audio_window`` of audio) is the
link's policy.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from rtsdk.exceptions import ConnectionClosedError
from rtsdk.link.websocket import WebSocketManager
from rtsdk.session.metrics import SessionMetrics

__all__ = ["Outbox"]


class Outbox:
    """Frames waiting for the link, in order; :meth:`run` is the sender task."""

    def __init__(self, metrics: SessionMetrics, max_backlog: int) -> None:
        self.metrics = metrics
        self.max_backlog = max_backlog
        self.frames: deque[tuple[str | bytes, bool]] = deque()
        self.link: WebSocketManager | None = None  # set while the sender runs
        self._ready = asyncio.Event()
        self._in_flight = False  # the sender holds a frame it is waiting to send

    def __len__(self) -> int:
        return len(self.frames)

    def post(self, frame: str | bytes, audio: bool) -> None:
        """Send ``frame`` now if nothing is ahead of it and the link takes it without waiting,
        else queue it; an audio append is dropped (and counted) when the outbox is full."""
        frames = self.frames
        link = self.link
        if not frames and not self._in_flight and link is not None and link.try_send(frame):
            return
        if audio and len(frames) >= self.max_backlog:
            self.metrics.outbox_dropped += 1
            return
        frames.append((frame, audio))
        self._ready.set()

    async def run(self, link: WebSocketManager) -> None:
        """Send what is posted, in order, until the link is closed for good."""
        frames = self.frames
        ready = self._ready
        self.link = link
        try:
            while True:
                if not frames:
                    ready.clear()
                    await ready.wait()
                    continue
                frame, audio = frames.popleft()
                self._in_flight = True
                await link.send(frame, audio=audio)
                self._in_flight = False
        except ConnectionClosedError:
            return
        finally:
            self._in_flight = False
            self.link = None

    async def drain(self, timeout: float, closed: Callable[[], bool]) -> None:
        """Wait until every posted frame has been handed to the link (or ``timeout`` passed,
        or ``closed()`` is true)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.frames and loop.time() < deadline and not closed():
            await asyncio.sleep(0.002)
