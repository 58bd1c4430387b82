"""Records of rendered blocks in a lock-free ring: the plain twin of ``rtsdk._kernels.taprecords``.

Contract (both backends):

- ``RecordRing(capacity, max_block, with_samples=True)``: an :class:`~rtsdk.kernels.SpscRing` of
  ``capacity`` bytes carrying one record per rendered block, from one producer thread (a device
  callback) to one consumer thread (the loop).
- ``push(block, dac_time, mono_time, ring_start, ring_end)`` (producer) writes one record in one
  ring write: a header of eight float64 (the block's first sample's index among all samples
  pushed, its length ``k``, ``dac_time``, ``mono_time``, ``min(ring_start, ring_end)``,
  ``min(ring_start + k, ring_end)``, 0, 0) and, ``with_samples``, the ``k`` float32 samples. It
  returns True, or False when the record does not fit: then nothing is written and the record is
  counted in ``overruns``. Either way ``samples_pushed`` grows by ``k`` (the next record's index
  says what was lost). ``block`` is a 1-D C-contiguous float32 array of at most ``max_block``
  samples, else :class:`~rtsdk.exceptions.AudioFormatError` (nothing written or counted).
- ``pull(out)`` (consumer) reads the oldest record: returns ``(index, k, dac_time, mono_time,
  ring_start, ring_end)`` (ints and floats) and, ``with_samples``, copies its samples into
  ``out[:k]`` (a writable 1-D C-contiguous float32 array of at least ``max_block`` samples, else
  AudioFormatError); None when no record is readable.
- ``readable`` (bytes waiting), ``capacity``, ``max_block``, ``with_samples``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, cast

import numpy as np
import numpy.typing as npt

from rtsdk._reference.ring import SpscRing
from rtsdk.exceptions import AudioFormatError

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["RecordRing"]

_HDR: Final = 8
_HDR_BYTES: Final = 8 * _HDR
_F32: Final = np.dtype(np.float32)

#: ``(index, k, dac_time, mono_time, ring_start, ring_end)`` of one record.
Record = tuple[int, int, float, float, int, int]


def _check(x: object, what: str) -> npt.NDArray[np.float32]:
    if not isinstance(x, np.ndarray) or x.dtype != _F32 or x.ndim != 1:
        raise AudioFormatError(
            f"RecordRing: {what} must be a 1-D float32 numpy array, got "
            f"{getattr(x, 'dtype', type(x).__name__)} {getattr(x, 'shape', '')}"
        )
    if not x.flags.c_contiguous:
        raise AudioFormatError(f"RecordRing: {what} must be C-contiguous")
    return x


class RecordRing:
    """One record per rendered block, lock-free from a device callback to the loop."""

    def __init__(self, capacity: int, max_block: int, with_samples: bool = True) -> None:
        if isinstance(max_block, bool) or not isinstance(max_block, int) or max_block < 1:
            raise ValueError(f"RecordRing: max_block must be a positive int, got {max_block!r}")
        self._ring = SpscRing(capacity)
        self.capacity = capacity
        self.max_block = max_block
        self.with_samples = bool(with_samples)
        self._stage = bytearray(_HDR_BYTES + 4 * max_block)
        self._stage_hdr = np.frombuffer(self._stage, dtype=np.float64, count=_HDR)
        self._stage_x = np.frombuffer(self._stage, dtype=np.float32, offset=_HDR_BYTES)
        self._view = memoryview(self._stage)
        self._hdr = np.zeros(_HDR, dtype=np.float64)
        self.samples_pushed = 0  #: samples of every record pushed, dropped ones included
        self.overruns = 0  #: records dropped because the ring was full

    @property
    def readable(self) -> int:
        """Bytes waiting for the consumer."""
        return self._ring.readable

    def push(
        self,
        block: npt.NDArray[np.float32],
        dac_time: float,
        mono_time: float,
        ring_start: int,
        ring_end: int,
    ) -> bool:
        """Write one record (producer); False when it did not fit (dropped and counted)."""
        block = _check(block, "block")
        k = block.size
        if k > self.max_block:
            raise AudioFormatError(
                f"RecordRing: a block of {k} samples is longer than max_block ({self.max_block})"
            )
        h = self._stage_hdr
        h[0] = self.samples_pushed
        h[1] = k
        h[2] = dac_time
        h[3] = mono_time
        h[4] = min(ring_start, ring_end)
        h[5] = min(ring_start + k, ring_end)
        nb = _HDR_BYTES
        if self.with_samples and k:
            self._stage_x[:k] = block
            nb += 4 * k
        self.samples_pushed += k
        if self._ring.writable < nb:
            self.overruns += 1
            return False
        self._ring.write(self._view[:nb])
        return True

    def pull(self, out: npt.NDArray[np.float32]) -> Record | None:
        """The oldest record, its samples copied into ``out`` (consumer); None when none."""
        out = _check(out, "out")
        if out.size < self.max_block or not out.flags.writeable:
            raise AudioFormatError(
                f"RecordRing: out must be writable with room for {self.max_block} samples"
            )
        ring = self._ring
        if ring.readable < _HDR_BYTES:
            return None
        ring.read_into(cast("Buffer", self._hdr))
        h = self._hdr.tolist()
        k = int(h[1])
        if self.with_samples and k:
            ring.read_into(cast("Buffer", out[:k]))
        return (int(h[0]), k, h[2], h[3], int(h[4]), int(h[5]))
