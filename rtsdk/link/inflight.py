"""A bound on what a connection has in flight: written, not yet acknowledged by the peer.

On an uplink narrower than what a session sends, every byte written to the socket waits in
the kernel (unsent, or sent and not yet acknowledged, and sent again after a loss) where
nothing can be dropped or reordered: at 128 kbit/s, 64 KiB there is four seconds of stale
audio that a text typed now must wait behind. :class:`InFlightBound` keeps that queue to about
:data:`TARGET_S` of what the link really drains, so the backlog builds in the session's outbox
instead, where its policy applies (old audio dropped, control frames first).

It reads the socket's queue (``SIOCOUTQ``: bytes unsent or unacknowledged; Linux) every
:data:`CHECK_BYTES` written, four times as often near the budget, up to :data:`CALM_BYTES`
apart while the queue stays near empty (a reading costs about 4 us: on a healthy link that is
0.2 us per 20 ms frame), and at once when the transport's own buffer fills; it estimates the
drain
rate from how many of the written bytes the peer acknowledged between two readings, and says
*congested* while the queue is over ``max(MIN_BUDGET, rate x TARGET_S)``; the connection then
holds its sends and polls every :data:`POLL_S` until the queue is back under the budget. On a
fast link the queue never reaches the budget. Without ``SIOCOUTQ`` (not Linux) there is no
bound: the transport's own high-water mark is all.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import time
from collections.abc import Callable

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["CALM_BYTES", "CHECK_BYTES", "MIN_BUDGET", "POLL_S", "TARGET_S", "InFlightBound"]

#: read the socket's queue after this many bytes written (about six 20 ms appends of PCM16)
CHECK_BYTES = 8 * 1024
#: ... and at most this far apart while the queue stays near empty
CALM_BYTES = 32 * 1024
#: how much of the measured drain the kernel may hold (seconds)
TARGET_S = 0.2
#: ... but never less than this (bytes): a few frames, whatever the rate
MIN_BUDGET = 4096
#: how often a congested connection looks again (seconds)
POLL_S = 0.01
_SIOCOUTQ = 0x5411  # Linux (TIOCOUTQ): bytes in the send queue, unsent or unacknowledged
_SIOCOUTQNSD = 0x894B  # Linux: of those, the bytes not yet sent


class InFlightBound:
    """The in-flight bound of one socket (see the module docstring)."""

    def __init__(self, sock: socket.socket, clock: Callable[[], float] = time.monotonic) -> None:
        self.sock = sock
        self.clock = clock
        self.written = 0  # bytes handed to the socket (frame payloads)
        self.next_check = CHECK_BYTES
        #: drain rate estimate (bytes/s); None until two readings gave one
        self.rate: float | None = None
        self.congested = False
        #: how many times the bound held sends, and the largest queue it saw (bytes)
        self.holds = 0
        self.queue_high_water = 0
        self._last: tuple[float, int] | None = None  # (when, acknowledged bytes)
        self.last_queue = 0  # bytes in the send queue at the last reading
        self.step = CHECK_BYTES  # bytes written between two readings

    @classmethod
    def for_socket(cls, sock: socket.socket | None) -> InFlightBound | None:
        """A bound for ``sock`` where its queue can be read (Linux), else None."""
        if sock is None or fcntl is None or not sys.platform.startswith("linux"):
            return None
        bound = cls(sock)
        return bound if bound.queue() is not None else None

    @property
    def budget(self) -> float:
        """The queue allowed now (bytes)."""
        rate = self.rate
        return MIN_BUDGET if rate is None else max(MIN_BUDGET, rate * TARGET_S)

    @property
    def delay_s(self) -> float:
        """How long the send queue of the last reading takes to drain (seconds; 0 unknown)."""
        rate = self.rate
        return 0.0 if not rate else min(1.0, self.last_queue / rate)

    def queue(self) -> int | None:
        """Bytes in the socket's send queue (unsent or unacknowledged); None if unreadable."""
        return self._read(_SIOCOUTQ)

    def unsent(self) -> int:
        """Bytes in the socket's send queue not yet sent (0 if unreadable)."""
        return self._read(_SIOCOUTQNSD) or 0

    def _read(self, request: int) -> int | None:
        assert fcntl is not None
        with contextlib.suppress(OSError, ValueError):
            raw = fcntl.ioctl(self.sock.fileno(), request, b"\0\0\0\0")
            return int(struct.unpack("i", raw)[0])
        return None

    def check(self) -> bool:
        """Read the queue, update the rate; whether the connection is congested now."""
        queued = self.queue()
        if queued is None:
            self.congested = False
            self.next_check = self.written + CHECK_BYTES * 8  # never readable: seldom
            return False
        if queued > self.queue_high_water:
            self.queue_high_water = queued
        now = self.clock()
        acked = self.written - queued
        last = self._last
        if last is None or now - last[0] >= 0.1:
            if last is not None and queued > 0:  # a queue: the acks measure the link, not us
                sample = max(0, acked - last[1]) / (now - last[0])
                self.rate = sample if self.rate is None else 0.5 * self.rate + 0.5 * sample
            self._last = (now, acked)
        was = self.congested
        self.congested = queued > self.budget
        self.last_queue = queued
        # near the budget the next reading comes sooner, so the queue does not overshoot it;
        # while the queue stays near empty, readings grow rarer (to CALM_BYTES apart)
        if queued > self.budget / 2:
            self.step = CHECK_BYTES // 4
        elif queued < MIN_BUDGET // 2:
            self.step = min(CALM_BYTES, max(CHECK_BYTES, self.step * 2))
        else:
            self.step = CHECK_BYTES
        self.next_check = self.written + self.step
        if self.congested and not was:
            self.holds += 1
        return self.congested
