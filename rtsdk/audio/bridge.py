"""Hand audio from a real-time thread to an asyncio task without locks and without busy-waiting.

The producer (a PortAudio callback, a file-pacing thread, ...) calls :meth:`AudioBridge.write`:
one copy into an :class:`~rtsdk.kernels.SpscRing`, then, *only if the consumer is parked and
asked for at least that much*, one ``loop.call_soon_threadsafe``. The consumer (one asyncio
task) calls :meth:`AudioBridge.read` / :meth:`AudioBridge.read_into`; when not enough is
buffered it arms a wake-up threshold and parks on an :class:`asyncio.Event`.

So a consumer that asks for one 20 ms frame at a time is woken once per frame, and a consumer
that asks for 100 ms is woken once per 100 ms however small the device's blocks are. A consumer
that keeps up never parks and the producer never touches the loop.

Why no wake-up is lost (one producer thread, one consumer task): the consumer stores its
threshold, then ``_armed = True``, then re-reads :attr:`readable`; the producer publishes its
bytes (the ring's head), then reads ``_armed``. Whichever runs second sees the other's store, so
either the consumer finds the data itself (and disarms) or the producer disarms and schedules
the wake-up. Both may happen; a spurious ``set()`` only makes the consumer re-check, which it
always does. Python-level loads and stores of these attributes are ordered by the GIL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from rtsdk.exceptions import AudioFormatError
from rtsdk.kernels import SpscRing

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["AudioBridge", "BridgeClosed", "call_soon_from_thread"]

_F32 = np.dtype(np.float32)


def call_soon_from_thread(loop: asyncio.AbstractEventLoop | None, fn: Callable[[], object]) -> int:
    """Schedule ``fn()`` on ``loop`` from any thread; 1 if scheduled, 0 without a (live) loop.

    The one way the audio layer wakes its loop from a real-time thread.
    """
    if loop is None:
        return 0
    try:
        loop.call_soon_threadsafe(fn)
    except RuntimeError:  # the loop is closed
        return 0
    return 1


def _wake(loop: asyncio.AbstractEventLoop | None, ev: asyncio.Event | None) -> int:
    """Schedule ``ev.set()`` on ``loop`` from any thread; 1 if scheduled, 0 if nobody listens."""
    return 0 if ev is None else call_soon_from_thread(loop, ev.set)


class BridgeClosed(EOFError):
    """Raised by a read on a closed bridge once everything buffered has been read."""


class AudioBridge:
    """A float32 sample stream from one producer thread to one asyncio consumer task.

    ``capacity`` is in samples (float32, interleaved if ``channels`` > 1). What does not fit is
    dropped by the ring and counted in :attr:`overruns` (in samples).
    """

    __slots__ = (
        "_armed",
        "_channels",
        "_closed",
        "_event",
        "_loop",
        "_ring",
        "_want",
        "wakeups",
    )

    def __init__(self, capacity: int, *, channels: int = 1) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity <= 0:
            raise ValueError(
                f"AudioBridge capacity must be a positive int (samples), got {capacity!r}"
            )
        if isinstance(channels, bool) or not isinstance(channels, int) or channels <= 0:
            raise ValueError(f"AudioBridge channels must be a positive int, got {channels!r}")
        self._channels = channels
        self._ring = SpscRing(capacity * 4)
        self._armed = False
        self._want = 0  # bytes the parked consumer waits for
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        #: How many times the producer woke the consumer's loop.
        self.wakeups = 0

    # ------------------------------------------------------------------ producer side
    def write(self, samples: Buffer) -> int:
        """Copy float32 samples in (producer thread only); return how many samples were taken.

        Never blocks, never allocates, never raises for a full ring (the excess is counted).
        """
        n = self._ring.write(samples)
        if self._armed and self._ring.readable >= self._want:
            self._armed = False  # disarm first: at most one wake-up per arming
            self.wakeups += _wake(self._loop, self._event)
        return n >> 2

    def close_threadsafe(self) -> None:
        """Mark the end of the stream from any thread; a parked consumer wakes."""
        self._closed = True
        self._armed = False
        _wake(self._loop, self._event)

    # ------------------------------------------------------------------ consumer side
    @property
    def channels(self) -> int:
        """Interleaved channels per frame."""
        return self._channels

    @property
    def readable(self) -> int:
        """Samples buffered now."""
        return self._ring.readable >> 2

    @property
    def capacity(self) -> int:
        """Ring size in samples."""
        return self._ring.capacity >> 2

    @property
    def overruns(self) -> int:
        """Samples dropped because the consumer fell behind by more than :attr:`capacity`."""
        return self._ring.overruns >> 2

    @property
    def total_written(self) -> int:
        """Samples accepted since construction."""
        return self._ring.total_written >> 2

    @property
    def closed(self) -> bool:
        """True once :meth:`close_threadsafe` (or :meth:`close`) was called."""
        return self._closed

    def close(self) -> None:
        """Mark the end of the stream (same as :meth:`close_threadsafe`)."""
        self.close_threadsafe()

    async def wait_readable(self, samples: int) -> int:
        """Wait until at least ``samples`` are buffered (or the bridge closed); return readable."""
        want = samples * 4
        ring = self._ring
        if ring.readable >= want or self._closed:
            return ring.readable >> 2
        if self._event is None:
            self._loop = asyncio.get_running_loop()
            self._event = asyncio.Event()
        ev = self._event
        while True:
            ev.clear()
            self._want = want
            self._armed = True
            if ring.readable >= want or self._closed:  # re-check after arming
                self._armed = False
                return ring.readable >> 2
            await ev.wait()
            if ring.readable >= want or self._closed:
                self._armed = False
                return ring.readable >> 2

    async def read_into(self, out: np.ndarray) -> int:
        """Fill ``out`` (float32, C-contiguous) completely; return the samples written into it.

        Waits as needed. After :meth:`close` it returns fewer (the rest of the stream) and then
        raises :class:`BridgeClosed`.
        """
        if out.dtype != _F32 or not out.flags.c_contiguous or not out.flags.writeable:
            raise AudioFormatError(
                "AudioBridge.read_into needs a writable C-contiguous float32 array, got "
                f"dtype {out.dtype}, contiguous={out.flags.c_contiguous}"
            )
        n = out.size
        have = await self.wait_readable(n)
        if have == 0 and self._closed:
            raise BridgeClosed("audio stream ended")
        got = self._ring.read_into(out.data.cast("B")[: min(have, n) * 4])
        return got >> 2

    async def read(self, samples: int) -> np.ndarray:
        """Return the next ``samples`` samples as a new float32 array (shorter only at the end)."""
        out = np.empty(samples, dtype=_F32)
        got = await self.read_into(out)
        return out if got == samples else out[:got]

    def read_available_into(self, out: np.ndarray) -> int:
        """Copy what is buffered now (up to ``out.size`` samples) without waiting."""
        n = min(out.size, self._ring.readable >> 2)
        return self._ring.read_into(out.data.cast("B")[: n * 4]) >> 2

    def clear(self) -> int:
        """Drop everything buffered (consumer side); return the samples dropped."""
        return self._ring.clear() >> 2
