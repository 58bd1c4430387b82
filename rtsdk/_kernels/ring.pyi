"""Lock-free single-producer/single-consumer byte ring (compiled); see rtsdk._reference.ring."""

from typing_extensions import Buffer

__all__ = ["SpscRing"]

class SpscRing:
    """Fixed-capacity byte ring for exactly one producer thread and one consumer thread.

    Lock-free (C11 acquire/release on 64-bit head/tail counters). A full ring rejects what does
    not fit, counted in :attr:`overruns`; nothing blocks or allocates after construction.

    Copies of 16 KiB or more run with the GIL released. Shorter ones (a 20 ms frame is a few
    kB, copied in well under a microsecond) keep it: releasing and re-taking the GIL costs more
    than such a copy, and re-taking it behind a busy thread can stall an audio callback for a
    whole switch interval.
    """

    def __init__(self, capacity: int) -> None:
        """``capacity``: size in bytes, a positive int (kept exactly; no power of two needed)."""

    def write(self, buf: Buffer) -> int:
        """Copy as much of a C-contiguous buffer (counted in bytes) as fits; return the count.

        What does not fit is dropped and counted in :attr:`overruns`. Producer side only.
        Raises AudioFormatError for a non-contiguous buffer, TypeError for a non-buffer.
        """

    def read_into(self, out: Buffer) -> int:
        """Copy up to ``len(out)`` bytes into a writable buffer; return the count (consumer)."""

    def peek(self) -> tuple[memoryview, ...]:
        """Readable bytes as read-only views of the storage: ``()``, one, or two when wrapped."""

    def advance(self, n: int) -> None:
        """Release ``n`` peeked bytes; ValueError if ``n`` < 0 or ``n`` > :attr:`readable`."""

    def clear(self) -> int:
        """Drop every readable byte (consumer side, safe against the producer); return count."""

    @property
    def capacity(self) -> int:
        """Size of the ring in bytes."""

    @property
    def readable(self) -> int:
        """Bytes that can be read now."""

    @property
    def writable(self) -> int:
        """Bytes that can be written now without overrun."""

    @property
    def total_written(self) -> int:
        """Bytes accepted by :meth:`write` since construction."""

    @property
    def total_read(self) -> int:
        """Bytes released by the consumer since construction."""

    @property
    def overruns(self) -> int:
        """Bytes dropped because the ring was full."""

    @property
    def overrun_events(self) -> int:
        """Writes that could not copy everything they were given."""

    def __len__(self) -> int: ...
