"""The session's outbox and the sender task that hands it to the link.

Every frame a session sends (config, intents, tool outputs, audio appends) is posted here.
When nothing waits and the link can take it without waiting, a frame goes to the socket at
once, inside :meth:`Outbox.post` (no task hop, no wake-up); otherwise it waits here for the
sender task, which sends what waits as fast as the link takes it. That is where a congested
uplink shows (what the socket holds below it is kept to a fraction of a second of what the
link drains, see :mod:`rtsdk.link.inflight`), and the policy is:

- control frames are never dropped and go ahead of waiting audio (a text, a tool output or a
  cancel is not stuck behind seconds of microphone audio), except a *barrier* (an input
  commit or clear, a goodbye), which goes after the audio posted before it;
- audio appends wait at most ``audio_window`` seconds less how long what the socket holds
  takes to drain (as the connection last measured it), so none reaches the wire older than
  ``audio_window`` plus the network's own queue: older ones are dropped, the oldest first, and
  counted, as is audio beyond ``max_backlog`` frames; audio a barrier waits behind is kept
  whatever its age (a commit must not find its audio gone);
- :attr:`Outbox.wait_ms` / :attr:`Outbox.wait_high_water_ms` say how long the oldest waiting
  audio has waited, now and at most.

What the link does while disconnected (keep control frames, keep only ``audio_window`` of
audio) is the link's policy.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from rtsdk.exceptions import ConnectionClosedError
from rtsdk.link.websocket import WebSocketManager
from rtsdk.session.metrics import SessionMetrics

__all__ = ["Outbox"]

Json = dict[str, Any]


class Outbox:
    """Frames waiting for the link (see the module docstring); :meth:`run` is the sender."""

    def __init__(
        self,
        metrics: SessionMetrics,
        max_backlog: int,
        audio_window: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
        self.max_backlog = max_backlog
        self.audio_window = audio_window
        self.clock = clock
        #: control frames: (sequence, frame, tag, barrier)
        self.control: deque[tuple[int, str | bytes, Json | None, bool]] = deque()
        #: audio appends: (sequence, posted at, frame)
        self.audio: deque[tuple[int, float, str | bytes]] = deque()
        self.link: WebSocketManager | None = None  # set while the sender runs
        self.wait_high_water_ms = 0.0
        self._seq = 0
        self._ready = asyncio.Event()
        self._in_flight = False  # the sender holds a frame it is waiting to send

    def __len__(self) -> int:
        return len(self.control) + len(self.audio)

    @property
    def has_audio(self) -> bool:
        """True when audio appends wait here."""
        return bool(self.audio)

    @property
    def wait_ms(self) -> float:
        """How long the oldest waiting audio append has waited (0 when none waits)."""
        audio = self.audio
        return (self.clock() - audio[0][1]) * 1000.0 if audio else 0.0

    def uplink_stats(self) -> dict[str, Any]:
        """The uplink's state: audio waiting now and at most (ms), appends dropped for
        waiting longer than ``audio_window``, bytes written but not yet on the wire, the
        connection's in-flight bound (:mod:`rtsdk.link.inflight`), and whether the uplink is
        congested now (audio waits here)."""
        link = self.link
        return {
            "congested": bool(self.audio),
            "wait_ms": round(self.wait_ms, 1),
            "wait_high_water_ms": round(self.wait_high_water_ms, 1),
            "audio_dropped_late": self.metrics.outbox_late_dropped,
            "unsent_bytes": 0 if link is None else link.unsent_bytes(),
            "in_flight": {} if link is None else link.in_flight(),
        }

    def post(
        self, frame: str | bytes, audio: bool, tag: Json | None = None, barrier: bool = False
    ) -> None:
        """Send ``frame`` now if nothing waits and the link takes it without waiting, else
        keep it. ``tag`` is the control event as a dict (the link keeps it until the server
        shows it got the frame); ``barrier`` keeps a control frame after the audio before it."""
        link = self.link
        if (
            not self.control
            and not self.audio
            and not self._in_flight
            and link is not None
            and link.try_send(frame, tag)
        ):
            return
        self._seq += 1
        if audio:
            waiting = self.audio
            if len(waiting) >= self.max_backlog:
                waiting.popleft()
                self.metrics.outbox_dropped += 1
            waiting.append((self._seq, self.clock(), frame))
        else:
            self.control.append((self._seq, frame, tag, barrier))
        self._ready.set()

    def _next(self) -> tuple[str | bytes, bool, Json | None] | None:
        """The next frame to send (stale audio dropped on the way), or None."""
        control, audio = self.control, self.audio
        link = self.link
        below = 0.0 if link is None or not audio else link.queue_delay
        max_wait_ms = max(0.0, self.audio_window - below) * 1000.0
        while True:
            if control and (not control[0][3] or not audio or audio[0][0] > control[0][0]):
                _, frame, tag, _ = control.popleft()
                return frame, False, tag
            if not audio:
                return None
            _, posted, frame = audio.popleft()
            waited = (self.clock() - posted) * 1000.0
            # a barrier waits behind this audio (control ahead of it went first): audio the
            # app committed (or clears, or says goodbye after) is never dropped for its age
            if waited > max_wait_ms and not control:
                m = self.metrics
                m.outbox_dropped += 1
                m.outbox_late_dropped += 1
                continue
            if waited > self.wait_high_water_ms:
                self.wait_high_water_ms = waited
            return frame, True, None

    async def run(self, link: WebSocketManager) -> None:
        """Send what is posted until the link is closed for good."""
        ready = self._ready
        self.link = link
        try:
            while True:
                item = self._next()
                if item is None:
                    ready.clear()
                    await ready.wait()
                    continue
                frame, audio, tag = item
                self._in_flight = True
                await link.send(frame, audio=audio, tag=tag)
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
        while len(self) and loop.time() < deadline and not closed():
            await asyncio.sleep(0.002)
