"""What the speaker really rendered, and when: the render tap between a device sink and the loop.

The output callback, after the playback ring filled its block, hands the block to
:meth:`RenderTap.push` with the block's DAC time (when its first sample reaches the speaker,
from PortAudio's ``time_info``) and how far the playback ring was read. ``push`` copies one
record (a fixed header and, when :attr:`RenderTap.with_samples`, the block's samples, silence of
underruns and discards included) into a :class:`~rtsdk.kernels.RecordRing` (an
:class:`~rtsdk.kernels.SpscRing` written once per record): no lock, no allocation. A full ring
drops the record and counts it in :attr:`RenderTap.overruns` (the loop stalled); the next
record's index says how much was lost.

On the loop, :meth:`RenderTap.pull` reads the records that arrived: the samples go to a callback
(the echo canceller's reference), the timing to a short history from which
:meth:`RenderTap.heard_position` says how much of the playback ring has reached the listener's
ear by now (played accounting at the ear: what was handed to the device minus what still sits
in its buffer).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt

from rtsdk.kernels import RecordRing

__all__ = ["RenderRecord", "RenderTap"]

_HDR_BYTES: Final = 64  # a record's header: eight float64 (see rtsdk.kernels.RecordRing)

#: ``(index, samples, dac_time, mono_time, ring_start, ring_end)`` of one rendered block: its
#: first sample's position in everything the sink rendered, its length, when it reaches the
#: speaker (PortAudio's clock, 0 when unknown) and the same on ``time.monotonic()``'s clock, and
#: the playback ring's read position (samples) before and after the block was filled.
RenderRecord = tuple[int, int, float, float, int, int]


class RenderTap:
    """A record of every block a clocked sink rendered (see the module docstring).

    ``rate``: the sink's sample rate. ``capacity_ms``: how much rendered audio the ring holds
    for the loop. ``with_samples``: carry the samples (for echo cancellation) or only timing.
    """

    def __init__(self, rate: int, *, capacity_ms: int = 2000, with_samples: bool = True) -> None:
        self.rate = int(rate)
        self.with_samples = bool(with_samples)
        cap_samples = max(1, self.rate * capacity_ms // 1000)
        self.max_block = max(1, self.rate // 4)  # longer blocks are split into records
        # headers of blocks of 64 samples or more, and the samples when carried
        heads = (cap_samples // 64 + 16) * _HDR_BYTES
        self._ring = RecordRing(
            heads + (cap_samples * 4 if self.with_samples else 0),
            self.max_block,
            self.with_samples,
        )
        # consumer side
        self._x = np.zeros(self.max_block, dtype=np.float32)
        self._history: deque[RenderRecord] = deque(maxlen=512)
        self.pulled = 0  #: records read by the loop
        self.lost_samples = 0  #: rendered samples whose records were dropped

    @property
    def overruns(self) -> int:
        """Records dropped because the ring was full (the loop did not read it in time)."""
        return self._ring.overruns

    # ------------------------------------------------------------------ producer (callback)
    def push(
        self,
        block: npt.NDArray[np.float32],
        dac_time: float,
        mono_time: float,
        ring_start: int,
        ring_end: int,
    ) -> None:
        """Record one rendered mono block (callback thread; never blocks).

        ``block``: 1-D C-contiguous float32 (else :class:`~rtsdk.exceptions.AudioFormatError`);
        ``dac_time`` 0 when the host gives none.
        """
        n = block.size
        if n <= self.max_block:  # a device callback's block: one record
            self._ring.push(block, dac_time, mono_time, ring_start, ring_end)
            return
        for pos in range(0, n, self.max_block):
            k = min(self.max_block, n - pos)
            shift = pos / self.rate
            self._ring.push(
                block[pos : pos + k],
                dac_time + shift if dac_time else 0.0,
                mono_time + shift,
                ring_start + pos,
                ring_end,
            )

    # ------------------------------------------------------------------ consumer (loop)
    def pull(
        self, on_samples: Callable[[RenderRecord, npt.NDArray[np.float32]], None] | None = None
    ) -> int:
        """Read every record that arrived; return how many.

        ``on_samples(record, samples)`` gets each block's samples (a view valid during the call)
        when the tap carries them. The timing goes to the history :meth:`heard_position` uses.
        """
        ring = self._ring
        x = self._x
        cb = on_samples if self.with_samples else None
        hist = self._history
        count = 0
        expect = hist[-1][0] + hist[-1][1] if hist else None
        while (rec := ring.pull(x)) is not None:
            index, k = rec[0], rec[1]
            if expect is not None and index > expect:
                self.lost_samples += index - expect
            expect = index + k
            if cb is not None and k:
                cb(rec, x[:k])
            hist.append(rec)
            count += 1
        self.pulled += count
        return count

    @property
    def last(self) -> RenderRecord | None:
        """The newest record pulled, if any."""
        return self._history[-1] if self._history else None

    def heard_position(self, now: float, *, mono: bool = False) -> int | None:
        """The playback ring position (samples) the listener has heard by ``now``.

        ``now`` is on PortAudio's clock (or ``time.monotonic()``'s with ``mono=True``). A ring
        sample counts as heard once its block's DAC time plus its offset in the block has
        passed. None before any record was pulled.
        """
        hist = self._history
        if not hist:
            return None
        slot = 3 if mono else 2
        rate = self.rate
        # newest block whose first sample has reached the speaker
        for rec in reversed(hist):
            t0 = rec[slot]
            if t0 <= now:
                start, end = rec[4], rec[5]
                into = int((now - t0) * rate)
                return start + min(end - start, max(0, into))
        return hist[0][4]

    def forget_before(self, now: float, *, mono: bool = False) -> None:
        """Drop history older than the newest block already heard at ``now``."""
        hist = self._history
        slot = 3 if mono else 2
        while len(hist) > 1 and hist[1][slot] <= now:
            hist.popleft()
