"""Audio the app hands over itself: NumPy arrays or PCM16 bytes, as :class:`PushSource`."""

from __future__ import annotations

import asyncio
import threading
from collections import deque

import numpy as np
import numpy.typing as npt

from rtsdk._reference.resample import SUPPORTED_RATES
from rtsdk.audio.base import AudioSource, EndOfStream, to_float32
from rtsdk.audio.bridge import call_soon_from_thread
from rtsdk.exceptions import AudioFormatError

__all__ = ["PushSource"]


class PushSource(AudioSource):
    """Uplink audio pushed by the app: ``push(samples)`` from any one thread, ``end()`` at the end.

    ``sample_rate`` (one of the resampler's rates) and ``channels`` are fixed at construction;
    every :meth:`push` must match them. Samples are float32 (full scale 1.0) or int16 arrays, 1-D
    (interleaved) or ``(frames, channels)``, or PCM16 little-endian bytes (interleaved).

    Nothing pushed is dropped: the manager sends it as fast as the connection takes it, or at
    real-time pace with ``realtime=True`` (as if it came from a microphone).
    """

    def __init__(self, sample_rate: int, channels: int = 1, *, realtime: bool = False) -> None:
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int):
            raise AudioFormatError(f"PushSource sample_rate must be an int, got {sample_rate!r}")
        if sample_rate not in SUPPORTED_RATES:
            rates = ", ".join(str(r) for r in SUPPORTED_RATES)
            raise AudioFormatError(
                f"PushSource sample_rate {sample_rate} Hz is not supported; use one of {rates}"
            )
        if isinstance(channels, bool) or not isinstance(channels, int) or not 1 <= channels <= 64:
            raise AudioFormatError(f"PushSource channels must be an int in 1..64, got {channels!r}")
        self.sample_rate = sample_rate
        self.channels = channels
        self.realtime = bool(realtime)
        self._q: deque[npt.NDArray[np.float32]] = deque()
        self._off = 0  # samples already taken from _q[0]
        self._queued = 0
        self._ended = False
        self._waiting = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._event: asyncio.Event | None = None
        self._t0 = 0.0
        self._delivered = 0  # samples handed to the reader (for real-time pacing)

    # ------------------------------------------------------------------ app side
    def push(self, data: object, sample_rate: int | None = None) -> None:
        """Queue audio: a float32/int16 ndarray or PCM16 bytes at this source's rate.

        ``sample_rate``, when given, must equal the source's (a guard against silent speed
        errors). Raises :class:`AudioFormatError` for a wrong dtype, rate or channel count.
        """
        if sample_rate is not None and sample_rate != self.sample_rate:
            raise AudioFormatError(
                f"PushSource.push got {sample_rate} Hz audio, but this source runs at "
                f"{self.sample_rate} Hz (create the PushSource with the rate of your audio)"
            )
        if self._ended:
            raise RuntimeError("PushSource.push() after end()")
        a = to_float32(data, self.channels, "PushSource.push")
        if a.size == 0:
            return
        self._q.append(a)
        self._queued += a.size
        self._notify()

    def end(self) -> None:
        """No more audio: the manager sends what is queued, then the uplink ends."""
        self._ended = True
        self._notify()

    @property
    def pending(self) -> int:
        """Samples pushed and not yet read."""
        return self._queued

    def _notify(self) -> None:
        if not self._waiting:
            return
        self._waiting = False
        loop, ev = self._loop, self._event
        if loop is None or ev is None:
            return
        if threading.get_ident() == self._loop_thread:
            ev.set()
        else:
            call_soon_from_thread(loop, ev.set)

    # ------------------------------------------------------------------ manager side
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind to the manager's loop."""
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._event = asyncio.Event()
        self._t0 = loop.time()
        self._delivered = 0

    def stop(self) -> None:
        """Wake a waiting reader; further reads end the stream."""
        self.end()

    @property
    def readable(self) -> int:
        """Samples queued."""
        return self._queued

    async def _wait(self) -> None:
        ev = self._event
        if ev is None:
            raise RuntimeError("PushSource.read_into() before start()")
        ev.clear()
        self._waiting = True
        if self._q or self._ended:  # re-check after arming
            self._waiting = False
            return
        await ev.wait()

    async def read_into(self, out: npt.NDArray[np.float32]) -> int:
        """See :meth:`AudioSource.read_into`."""
        n = out.size
        filled = 0
        q = self._q
        while filled < n:
            if not q:
                if self._ended:
                    break
                await self._wait()
                continue
            head = q[0]
            take = min(head.size - self._off, n - filled)
            out[filled : filled + take] = head[self._off : self._off + take]
            filled += take
            self._off += take
            self._queued -= take
            if self._off == head.size:
                q.popleft()
                self._off = 0
        if filled == 0 and self._ended:
            raise EndOfStream("push source ended")
        if self.realtime and self._loop is not None:
            self._delivered += filled // self.channels
            due = self._t0 + self._delivered / self.sample_rate
            delay = due - self._loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        return filled
