"""Single-producer/single-consumer byte ring: the plain twin of ``rtsdk._kernels.ring``.

Contract (both backends):

- ``SpscRing(capacity)`` holds exactly ``capacity`` bytes (any positive int; no power of two
  needed). One thread may write (the producer) and one other thread may read (the consumer).
- ``write(buf)`` copies as much of any C-contiguous buffer as fits (counted in bytes, whatever
  the itemsize) and returns the count. It never blocks and never allocates: a full ring rejects
  the newest bytes, which are counted in :attr:`~SpscRing.overruns` (and the short write in
  :attr:`~SpscRing.overrun_events`). A non-contiguous buffer raises
  :class:`~rtsdk.exceptions.AudioFormatError`; a non-buffer raises ``TypeError``.
- ``read_into(out)`` copies up to ``len(out)`` bytes into a writable buffer (a read-only one
  raises ``TypeError``) and returns the count.
- ``peek()`` returns the readable bytes as read-only memoryviews of the ring's own storage:
  ``()``, one view, or two when the readable region wraps; ``advance(n)`` releases ``n`` of them
  (ValueError beyond :attr:`~SpscRing.readable`). Views stay valid (the storage is never resized
  or freed while they exist) but their bytes may be overwritten once released.
- ``clear()`` (consumer side) drops everything readable and returns how much it dropped.
- Counters: ``total_written`` (bytes accepted), ``total_read`` (bytes released),
  ``readable == total_written - total_read``, ``writable == capacity - readable``.

Why this twin is safe for one producer and one consumer: each side stores only its own counter
(the producer ``_head`` and the overrun counters, the consumer ``_tail``) and only reads the
other's. Under the GIL an attribute load or store of an int is atomic, and the producer assigns
``_head`` only after its slice copy into the bytearray has finished, so a consumer that sees the
new head sees the bytes; the consumer assigns ``_tail`` only after it has copied out (or the
caller is done with its views), so the producer never overwrites unread bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rtsdk.exceptions import AudioFormatError

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["SpscRing"]


def _bytes_view(obj: object, method: str, writable: bool) -> memoryview:
    """A flat byte view of ``obj``, or an error naming what is wrong with it."""
    try:
        mv = memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"SpscRing.{method} needs a bytes-like object (buffer protocol), "
            f"got {type(obj).__name__}"
        ) from None
    if writable and mv.readonly:
        raise TypeError(
            f"SpscRing.{method} needs a writable buffer, got a read-only {type(obj).__name__}"
        )
    if not mv.c_contiguous:
        raise AudioFormatError(
            f"SpscRing.{method} needs a C-contiguous buffer, got a non-contiguous "
            f"{type(obj).__name__} (shape {mv.shape}, strides {mv.strides})"
        )
    if mv.ndim == 1 and mv.format == "B":
        return mv
    if mv.nbytes == 0:  # cast() refuses shapes with a zero
        return memoryview(bytearray())
    return mv.cast("B")


class SpscRing:
    """Fixed-capacity byte ring for exactly one producer thread and one consumer thread.

    A full ring rejects what does not fit (counted in :attr:`overruns`); nothing blocks.
    """

    __slots__ = ("_buf", "_cap", "_events", "_head", "_overruns", "_tail", "_view")

    def __init__(self, capacity: int) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise TypeError(
                f"SpscRing capacity must be a positive int, got {type(capacity).__name__}"
            )
        if capacity <= 0:
            raise ValueError(f"SpscRing capacity must be a positive int, got {capacity}")
        if capacity > (1 << 62):
            raise ValueError(f"SpscRing capacity {capacity} is too large to allocate")
        try:
            self._buf = bytearray(capacity)
        except (MemoryError, OverflowError) as exc:
            raise MemoryError(f"SpscRing could not allocate {capacity} bytes") from exc
        self._cap = capacity
        self._view = memoryview(self._buf).toreadonly()
        self._head = 0  # producer-owned: total bytes accepted
        self._tail = 0  # consumer-owned: total bytes released
        self._overruns = 0  # producer-owned
        self._events = 0  # producer-owned

    def write(self, buf: Buffer) -> int:
        """Copy as much of ``buf`` (any C-contiguous buffer; counted in bytes) as fits.

        Returns the number of bytes copied; the rest is dropped and counted in
        :attr:`overruns`. Producer side only.
        """
        src = _bytes_view(buf, "write", False)
        n = src.nbytes
        h = self._head
        cap = self._cap
        m = min(n, cap - (h - self._tail))
        if m > 0:
            pos = h % cap
            first = min(m, cap - pos)
            self._buf[pos : pos + first] = src[:first]
            if m > first:
                self._buf[: m - first] = src[first:m]
            self._head = h + m  # publish only after the bytes are in place
        if m < n:
            self._overruns += n - m
            self._events += 1
        return m

    def read_into(self, out: Buffer) -> int:
        """Copy up to ``len(out)`` bytes into the writable buffer ``out``; return the count.

        Consumer side only.
        """
        dst = _bytes_view(out, "read_into", True)
        t = self._tail
        cap = self._cap
        m = min(dst.nbytes, self._head - t)
        if m > 0:
            pos = t % cap
            first = min(m, cap - pos)
            dst[:first] = self._buf[pos : pos + first]
            if m > first:
                dst[first:m] = self._buf[: m - first]
            self._tail = t + m  # release only after the bytes are copied out
        return m

    def peek(self) -> tuple[memoryview, ...]:
        """The readable bytes as read-only memoryviews of the ring's storage (zero-copy).

        One view, two when the readable region wraps, ``()`` when nothing is readable.
        Consumer side only; release with :meth:`advance`.
        """
        t = self._tail
        n = self._head - t
        if n <= 0:
            return ()
        cap = self._cap
        pos = t % cap
        first = min(n, cap - pos)
        if first == n:
            return (self._view[pos : pos + n],)
        return (self._view[pos:cap], self._view[: n - first])

    def advance(self, n: int) -> None:
        """Release ``n`` bytes from the front (after :meth:`peek`). Consumer side only.

        Raises ValueError when ``n`` is negative or more than :attr:`readable`.
        """
        t = self._tail
        avail = self._head - t
        if n < 0 or n > avail:
            raise ValueError(f"SpscRing.advance({n}): n must be between 0 and readable ({avail})")
        self._tail = t + n

    def clear(self) -> int:
        """Drop every readable byte (consumer side; safe while the producer writes).

        Returns the number of bytes dropped.
        """
        t = self._tail
        h = self._head
        self._tail = h
        return h - t

    @property
    def capacity(self) -> int:
        """Size of the ring in bytes (exactly as asked)."""
        return self._cap

    @property
    def readable(self) -> int:
        """Bytes that can be read now."""
        return self._head - self._tail

    @property
    def writable(self) -> int:
        """Bytes that can be written now without overrun."""
        return self._cap - (self._head - self._tail)

    @property
    def total_written(self) -> int:
        """Bytes accepted by :meth:`write` since construction."""
        return self._head

    @property
    def total_read(self) -> int:
        """Bytes released by the consumer (read, advanced or cleared) since construction."""
        return self._tail

    @property
    def overruns(self) -> int:
        """Bytes dropped because the ring was full."""
        return self._overruns

    @property
    def overrun_events(self) -> int:
        """Writes that could not copy everything they were given."""
        return self._events

    def __len__(self) -> int:
        return self._head - self._tail

    def __repr__(self) -> str:
        return (
            f"SpscRing(capacity={self._cap}, readable={self.readable}, overruns={self._overruns})"
        )
