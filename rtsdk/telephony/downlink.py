"""The downlink of one call: assistant audio to the carrier, paced by what the carrier played.

Pure bookkeeping (no I/O; the clock is passed in): :class:`Downlink` holds the carrier
``media`` messages not yet sent and the ones sent but not yet played. Each chunk goes out
followed by a ``mark``; the carrier echoes a mark once the audio before it has played, so
echoed marks are the played clock. New chunks go out only while less than ``lead_ms`` of
audio is in flight, so the carrier never buffers much more than that.

On a barge-in, :meth:`Downlink.interrupt` says how much of each assistant item the caller has
heard: everything up to the last echoed mark, plus the 20 ms carrier frames of the chunks after
it that have started playing since that mark was echoed (a frame that started is heard whole),
never more than was sent. It then forgets everything queued and in flight: marks of that audio
that the carrier echoes afterwards (a carrier echoes them on ``clear``) are ignored.

"Since that mark was echoed" counts the network: the echo took half a round trip to get here,
and the ``clear`` will take the other half to get there, while the caller goes on hearing. The
round trip is measured on the first chunk after a silence: it starts playing with the carrier's
next 20 ms frame after it arrives, so its mark comes back one round trip, that wait and its own
length after it was sent. :attr:`rtt` is the least of the last :data:`RTT_SAMPLES` such
measurements (a late start, such as a carrier's jitter buffer, only ever adds to one), less the
wait that least one had on average (a frame's length over the number of measurements plus one:
the least of n waits spread over a frame). On a loopback it is about 0; across the internet it
is tens of milliseconds, frames the caller heard that the truncation would otherwise miss.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["BYTES_PER_MS", "FRAME_MS", "RTT_SAMPLES", "Downlink"]

BYTES_PER_MS = 8  # G.711 at 8 kHz
FRAME_MS = 20  # the carrier's packet length
RTT_SAMPLES = 8  # round trips remembered (the least of them is the estimate)


@dataclass(slots=True)
class _Chunk:
    item_id: str
    nbytes: int
    mark: int = 0


class Downlink:
    """Queue, pacing and played accounting of one call's assistant audio (see the module)."""

    __slots__ = (
        "_anchor",
        "_echoed",
        "_in_flight",
        "_in_flight_bytes",
        "_last_mark",
        "_played",
        "_probe",
        "_queue",
        "_reported",
        "_rtts",
        "lead_bytes",
        "marks_ignored",
        "sent_bytes",
    )

    def __init__(self, lead_ms: int = 200) -> None:
        if lead_ms < FRAME_MS:
            raise ValueError(f"lead_ms must be >= {FRAME_MS}, got {lead_ms}")
        self.lead_bytes = lead_ms * BYTES_PER_MS
        self._queue: deque[tuple[_Chunk, bytes]] = deque()
        self._in_flight: deque[_Chunk] = deque()
        self._in_flight_bytes = 0
        self._anchor = 0.0  # when the oldest chunk in flight started (or will start) playing
        self._echoed = False  # the anchor is a mark's echo (else the time a chunk was sent)
        self._probe: tuple[int, float, float] | None = None  # (mark, sent at, its seconds)
        self._rtts: deque[float] = deque(maxlen=RTT_SAMPLES)
        self._last_mark = 0
        self._played: dict[str, int] = {}  # item -> bytes played (marks echoed)
        self._reported: dict[str, int] = {}  # item -> bytes already reported as played
        self.sent_bytes = 0
        self.marks_ignored = 0

    @property
    def idle(self) -> bool:
        """True when nothing is queued or in flight."""
        return not self._queue and not self._in_flight

    @property
    def rtt(self) -> float:
        """The carrier's round trip in seconds, as measured so far (0 before any)."""
        rtts = self._rtts
        if not rtts:
            return 0.0
        return max(0.0, min(rtts) - FRAME_MS / 1000 / (len(rtts) + 1))

    @property
    def in_flight_ms(self) -> float:
        """Audio sent to the carrier and not yet played, in milliseconds."""
        return self._in_flight_bytes / BYTES_PER_MS

    def push(self, item_id: str, nbytes: int, media: bytes) -> None:
        """Queue one carrier ``media`` message carrying ``nbytes`` of ``item_id``'s audio."""
        self._queue.append((_Chunk(item_id, nbytes), media))

    def pump(self, now: float, mark_frame: Callable[[int], bytes]) -> list[bytes]:
        """The messages to send now (each chunk then its mark), within the lead."""
        out: list[bytes] = []
        queue = self._queue
        while queue and self._in_flight_bytes < self.lead_bytes:
            chunk, media = queue.popleft()
            self._last_mark += 1
            chunk.mark = self._last_mark
            if not self._in_flight:  # nothing was playing: this starts as it arrives
                self._anchor = now
                self._echoed = False
                seconds = chunk.nbytes / (BYTES_PER_MS * 1000)
                self._probe = (chunk.mark, now, seconds)
            self._in_flight.append(chunk)
            self._in_flight_bytes += chunk.nbytes
            self.sent_bytes += chunk.nbytes
            out.append(media)
            out.append(mark_frame(self._last_mark))
        return out

    def on_mark(self, number: int, now: float) -> bool:
        """Mark ``number`` came back: its audio has played. False if it is not in flight."""
        flight = self._in_flight
        if not flight or not flight[0].mark <= number <= flight[-1].mark:
            self.marks_ignored += 1
            return False
        probe = self._probe
        if probe is not None and number >= probe[0]:
            self._probe = None
            if number == probe[0]:  # the first chunk after a silence: a round trip
                self._rtts.append(max(0.0, now - probe[1] - probe[2]))
        while flight and flight[0].mark <= number:
            chunk = flight.popleft()
            self._in_flight_bytes -= chunk.nbytes
            self._played[chunk.item_id] = self._played.get(chunk.item_id, 0) + chunk.nbytes
        self._anchor = now
        self._echoed = True
        return True

    def take_played(self) -> list[tuple[str, int]]:
        """Samples (bytes) of each item played per the marks since last asked."""
        out = []
        for item_id, played in self._played.items():
            new = played - self._reported.get(item_id, 0)
            if new > 0:
                out.append((item_id, new))
                self._reported[item_id] = played
        return out

    def interrupt(self, now: float) -> tuple[list[tuple[str, int]], bool]:
        """Barge-in: what each item has played since last asked (marks, then the frames of
        the chunks after the last mark that have started), and whether anything was queued
        or in flight (then the carrier must be told to ``clear``). Forgets it all."""
        had_audio = not self.idle
        if self._in_flight:
            # from an echo, the caller is half a round trip ahead of it and will be another
            # half ahead when the clear arrives; from a send, it is behind (nothing to add)
            since = now - self._anchor + (self.rtt if self._echoed else 0.0)
            frames = max(0, math.ceil(since * 1000 / FRAME_MS - 1e-9))
            budget = frames * FRAME_MS * BYTES_PER_MS
            for chunk in self._in_flight:
                if budget <= 0:
                    break
                heard = min(chunk.nbytes, budget)
                budget -= heard
                self._played[chunk.item_id] = self._played.get(chunk.item_id, 0) + heard
        self._queue.clear()
        self._in_flight.clear()
        self._in_flight_bytes = 0
        self._probe = None
        return self.take_played(), had_audio
