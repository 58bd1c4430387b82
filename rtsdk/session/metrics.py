"""Per-session numbers: turn latencies, reconnects, drops and queue high-water marks.

Latencies are measured on the client's monotonic clock from the moment the client saw the cause
(``input_audio_buffer.speech_stopped`` arriving, or ``response.create`` leaving) to the first
``response.output_audio.delta`` (or first text delta for text responses) and to
``response.done`` of that response. Network time to the server is inside these numbers, which is
what a user hears.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rtsdk.link.websocket import LinkStats

__all__ = ["LatencySummary", "SessionMetrics", "TurnLatency"]


@dataclass(frozen=True, slots=True)
class TurnLatency:
    """One response's timing (seconds; ``None`` when that point was not reached)."""

    response_id: str
    cause: str  # "speech_stopped" or "response.create"
    to_first_audio: float | None
    to_done: float | None


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Count, median, 95th percentile and maximum of a series of seconds."""

    count: int
    p50: float | None
    p95: float | None
    max: float | None

    @classmethod
    def of(cls, values: Iterable[float]) -> LatencySummary:
        """Summary of ``values`` (nearest-rank percentiles)."""
        data = sorted(values)
        if not data:
            return cls(0, None, None, None)

        def rank(p: float) -> float:
            return data[max(0, math.ceil(p * len(data)) - 1)]

        return cls(len(data), rank(0.50), rank(0.95), data[-1])


@dataclass(slots=True)
class SessionMetrics:
    """Numbers of one client session; read them from ``client.metrics``.

    The SDK updates them on its event loop; reading from another thread gives a consistent
    enough snapshot for display (each field is one object).
    """

    turns: deque[TurnLatency] = field(default_factory=lambda: deque(maxlen=1000))
    connects: int = 0
    reconnects: int = 0
    recycles: int = 0
    #: audio frames dropped before reaching the link (outbox full, or sent after the end)
    outbox_dropped: int = 0
    #: of those, appends that waited longer than ``audio_window`` (a congested uplink)
    outbox_late_dropped: int = 0
    handler_errors: int = 0
    protocol_errors: int = 0
    server_errors: int = 0
    dispatch_queue_high_water: int = 0
    #: the link's own counters, read live (set by the service manager)
    link: LinkStats | None = None
    clock: Callable[[], float] = time.monotonic
    _cause: tuple[str, float] | None = None
    _open: dict[str, tuple[str, float, float | None]] = field(default_factory=dict)

    # -- from the link ----------------------------------------------------------------------

    @property
    def frames_sent(self) -> int:
        """Frames the link sent."""
        return 0 if self.link is None else self.link.frames_sent

    @property
    def frames_received(self) -> int:
        """Frames the link received."""
        return 0 if self.link is None else self.link.frames_received

    @property
    def audio_frames_dropped(self) -> int:
        """Audio frames dropped: before the link, and by the link while it was down."""
        return self.outbox_dropped + (0 if self.link is None else self.link.audio_frames_dropped)

    @property
    def send_backlog_high_water(self) -> int:
        """Most frames the link kept while disconnected."""
        return 0 if self.link is None else self.link.backlog_high_water

    # -- fed by the service manager --------------------------------------------------------

    def speech_stopped(self) -> None:
        """The server saw the end of the user's speech: the next response's clock starts."""
        self._cause = ("speech_stopped", self.clock())

    def response_requested(self) -> None:
        """The client sent ``response.create`` (when no speech end is already pending)."""
        if self._cause is None:
            self._cause = ("response.create", self.clock())

    def response_created(self, response_id: str) -> None:
        """``response.created``: the pending cause belongs to this response."""
        cause = self._cause
        self._cause = None
        if cause is not None:
            self._open[response_id] = (cause[0], cause[1], None)

    def first_output(self, response_id: str) -> None:
        """The first audio (or text) delta of ``response_id``."""
        entry = self._open.get(response_id)
        if entry is not None and entry[2] is None:
            self._open[response_id] = (entry[0], entry[1], self.clock() - entry[1])

    def response_done(self, response_id: str) -> None:
        """``response.done``: the turn is complete."""
        entry = self._open.pop(response_id, None)
        if entry is not None:
            cause, start, first = entry
            self.turns.append(TurnLatency(response_id, cause, first, self.clock() - start))

    # -- reading -----------------------------------------------------------------------------

    def first_audio_latency(self, cause: str | None = None) -> LatencySummary:
        """Summary of time to first output, for turns of ``cause`` (all when None)."""
        return LatencySummary.of(
            t.to_first_audio
            for t in self.turns
            if t.to_first_audio is not None and (cause is None or t.cause == cause)
        )

    def done_latency(self, cause: str | None = None) -> LatencySummary:
        """Summary of time to ``response.done``, for turns of ``cause`` (all when None)."""
        return LatencySummary.of(
            t.to_done
            for t in self.turns
            if t.to_done is not None and (cause is None or t.cause == cause)
        )

    def as_dict(self) -> dict[str, object]:
        """A plain snapshot for logs and dashboards."""
        first = self.first_audio_latency()
        done = self.done_latency()
        return {
            "turns": len(self.turns),
            "first_audio_p50_s": first.p50,
            "first_audio_p95_s": first.p95,
            "done_p50_s": done.p50,
            "connects": self.connects,
            "reconnects": self.reconnects,
            "recycles": self.recycles,
            "frames_sent": self.frames_sent,
            "frames_received": self.frames_received,
            "audio_frames_dropped": self.audio_frames_dropped,
            "handler_errors": self.handler_errors,
            "protocol_errors": self.protocol_errors,
            "server_errors": self.server_errors,
            "dispatch_queue_high_water": self.dispatch_queue_high_water,
            "send_backlog_high_water": self.send_backlog_high_water,
        }
