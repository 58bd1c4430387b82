# cython: freethreading_compatible = False
"""Lock-free single-producer/single-consumer byte ring (compiled).

See :mod:`rtsdk._reference.ring` for the contract; ``src_cython/ring.pxd`` for the C-level
methods other kernels call without the GIL; ``src_cython/includes/rt_atomic.h`` for the atomics.
"""

cimport numpy as cnp
from cpython.buffer cimport PyBUF_SIMPLE, PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_CheckExact
from cpython.bytearray cimport PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_GET_SIZE
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from rt_atomic cimport (
    rt_load_acquire,
    rt_load_relaxed,
    rt_spsc_ctl,
    rt_spsc_ctl_init,
    rt_store_release,
    rt_store_relaxed,
)
from libc.string cimport memcpy


from rtsdk.exceptions import AudioFormatError

__all__ = ["SpscRing"]

cnp.import_array()

cdef enum:
    # Copies at least this long run with the GIL released. Shorter ones (a 20 ms frame is a few
    # kB) keep it: releasing costs more than the copy, and re-taking it behind a busy thread
    # can stall an audio callback for a whole switch interval.
    NOGIL_MIN = 16384


cdef inline int64_t _min64(int64_t a, int64_t b) noexcept nogil:
    return a if a < b else b


cdef class SpscRing:
    """Fixed-capacity byte ring for exactly one producer thread and one consumer thread.

    Lock-free: 64-bit monotonic head/tail counters with C11 acquire/release atomics. A full
    ring rejects what does not fit (counted in :attr:`overruns`); nothing blocks or allocates
    after construction. See :mod:`rtsdk._reference.ring` for the full contract.
    """

    def __cinit__(self, capacity):
        self._ctl = NULL
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise TypeError(
                f"SpscRing capacity must be a positive int, got {type(capacity).__name__}"
            )
        if capacity <= 0:
            raise ValueError(f"SpscRing capacity must be a positive int, got {capacity}")
        if capacity > (1 << 62):
            raise ValueError(f"SpscRing capacity {capacity} is too large to allocate")
        try:
            self._storage = bytearray(capacity)
        except (MemoryError, OverflowError) as exc:
            raise MemoryError(f"SpscRing could not allocate {capacity} bytes") from exc
        self._buf = <unsigned char *>PyByteArray_AS_STRING(self._storage)
        self._cap = capacity
        # The views handed out by peek() are slices of this read-only view: they keep the
        # bytearray (never resized, so its storage never moves) alive after the ring is gone.
        self._view = memoryview(self._storage).toreadonly()
        self._ctl = <rt_spsc_ctl *>malloc(sizeof(rt_spsc_ctl))
        if self._ctl == NULL:
            raise MemoryError("SpscRing could not allocate its control block")
        rt_spsc_ctl_init(self._ctl)

    def __dealloc__(self):
        if self._ctl != NULL:
            free(self._ctl)
            self._ctl = NULL

    # ---- C level (nogil) -------------------------------------------------------------------

    cdef Py_ssize_t write_ptr(self, const unsigned char *src, Py_ssize_t n) noexcept nogil:
        cdef rt_spsc_ctl *c = self._ctl
        cdef int64_t cap = self._cap
        cdef int64_t h = rt_load_relaxed(&c.head)
        cdef int64_t free_ = cap - (h - c.tail_cache)
        cdef int64_t m, pos, first
        if free_ < n:
            c.tail_cache = rt_load_acquire(&c.tail)
            free_ = cap - (h - c.tail_cache)
        m = _min64(n, free_)
        if m > 0:
            pos = h % cap
            first = _min64(m, cap - pos)
            memcpy(self._buf + pos, src, <size_t>first)
            if m > first:
                memcpy(self._buf, src + first, <size_t>(m - first))
            rt_store_release(&c.head, h + m)
        if m < n:
            rt_store_relaxed(&c.overruns, rt_load_relaxed(&c.overruns) + (n - m))
            rt_store_relaxed(&c.overrun_events, rt_load_relaxed(&c.overrun_events) + 1)
        return <Py_ssize_t>m

    cdef Py_ssize_t read_ptr(self, unsigned char *dst, Py_ssize_t n) noexcept nogil:
        cdef rt_spsc_ctl *c = self._ctl
        cdef int64_t cap = self._cap
        cdef int64_t t = rt_load_relaxed(&c.tail)
        cdef int64_t avail = c.head_cache - t
        cdef int64_t m, pos, first
        if avail < n:
            c.head_cache = rt_load_acquire(&c.head)
            avail = c.head_cache - t
        m = _min64(n, avail)
        if m > 0:
            pos = t % cap
            first = _min64(m, cap - pos)
            memcpy(dst, self._buf + pos, <size_t>first)
            if m > first:
                memcpy(dst + first, self._buf, <size_t>(m - first))
            rt_store_release(&c.tail, t + m)
        return <Py_ssize_t>m

    cdef Py_ssize_t readable_n(self) noexcept nogil:
        cdef int64_t t = rt_load_relaxed(&self._ctl.tail)
        return <Py_ssize_t>(rt_load_acquire(&self._ctl.head) - t)

    cdef Py_ssize_t writable_n(self) noexcept nogil:
        cdef int64_t h = rt_load_relaxed(&self._ctl.head)
        return <Py_ssize_t>(self._cap - (h - rt_load_acquire(&self._ctl.tail)))

    cdef Py_ssize_t drop_n(self, Py_ssize_t n) noexcept nogil:
        cdef rt_spsc_ctl *c = self._ctl
        cdef int64_t t = rt_load_relaxed(&c.tail)
        cdef int64_t m
        c.head_cache = rt_load_acquire(&c.head)
        m = _min64(n, c.head_cache - t)
        if m > 0:
            rt_store_release(&c.tail, t + m)
            return <Py_ssize_t>m
        return 0

    # ---- Python level ----------------------------------------------------------------------

    def write(self, buf):
        """Copy as much of ``buf`` (any C-contiguous buffer; counted in bytes) as fits.

        Returns the number of bytes copied; the rest is dropped and counted in
        :attr:`overruns` (and the write in :attr:`overrun_events`). Producer side only.
        """
        cdef Py_buffer view
        cdef Py_ssize_t m
        # Fast paths for the usual frame types (a buffer export costs more than the copy).
        # Only with the GIL held for the whole copy, so nothing can resize the source meanwhile.
        if PyBytes_CheckExact(buf):
            if PyBytes_GET_SIZE(buf) < NOGIL_MIN:
                return self.write_ptr(
                    <const unsigned char *>PyBytes_AS_STRING(buf), PyBytes_GET_SIZE(buf)
                )
        elif cnp.PyArray_CheckExact(buf):
            if (cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>buf)
                    and cnp.PyArray_NBYTES(<cnp.ndarray>buf) < NOGIL_MIN):
                return self.write_ptr(
                    <const unsigned char *>cnp.PyArray_DATA(<cnp.ndarray>buf),
                    cnp.PyArray_NBYTES(<cnp.ndarray>buf),
                )
        try:
            PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE)
        except (BufferError, TypeError, ValueError):
            _raise_bad_buffer(buf, "write", False)
            raise
        try:
            if view.len >= NOGIL_MIN:
                with nogil:
                    m = self.write_ptr(<const unsigned char *>view.buf, view.len)
            else:
                m = self.write_ptr(<const unsigned char *>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)
        return m

    def read_into(self, out):
        """Copy up to ``len(out)`` bytes (in bytes) into the writable buffer ``out``.

        Returns the number of bytes copied (0 when nothing is readable). Consumer side only.
        """
        cdef Py_buffer view
        cdef Py_ssize_t m
        if PyByteArray_CheckExact(out):
            if PyByteArray_GET_SIZE(out) < NOGIL_MIN:
                return self.read_ptr(
                    <unsigned char *>PyByteArray_AS_STRING(out), PyByteArray_GET_SIZE(out)
                )
        elif cnp.PyArray_CheckExact(out):
            if (cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>out)
                    and cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out)
                    and cnp.PyArray_NBYTES(<cnp.ndarray>out) < NOGIL_MIN):
                return self.read_ptr(
                    <unsigned char *>cnp.PyArray_DATA(<cnp.ndarray>out),
                    cnp.PyArray_NBYTES(<cnp.ndarray>out),
                )
        try:
            PyObject_GetBuffer(out, &view, PyBUF_SIMPLE | PyBUF_WRITABLE)
        except (BufferError, TypeError, ValueError):
            _raise_bad_buffer(out, "read_into", True)
            raise
        try:
            if view.len >= NOGIL_MIN:
                with nogil:
                    m = self.read_ptr(<unsigned char *>view.buf, view.len)
            else:
                m = self.read_ptr(<unsigned char *>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)
        return m

    def peek(self):
        """The readable bytes as read-only memoryviews of the ring's storage (zero-copy).

        One view, two when the readable region wraps, ``()`` when nothing is readable. Call
        :meth:`advance` to release them; the producer never overwrites unreleased bytes.
        Consumer side only.
        """
        cdef int64_t t = rt_load_relaxed(&self._ctl.tail)
        cdef int64_t h = rt_load_acquire(&self._ctl.head)
        cdef int64_t n = h - t
        cdef int64_t pos, first
        self._ctl.head_cache = h
        if n <= 0:
            return ()
        pos = t % self._cap
        first = _min64(n, self._cap - pos)
        if first == n:
            return (self._view[pos:pos + n],)
        return (self._view[pos:self._cap], self._view[0:n - first])

    def advance(self, Py_ssize_t n):
        """Release ``n`` bytes from the front (after :meth:`peek`). Consumer side only.

        Raises ValueError when ``n`` is negative or more than :attr:`readable`.
        """
        cdef int64_t t = rt_load_relaxed(&self._ctl.tail)
        cdef int64_t avail = rt_load_acquire(&self._ctl.head) - t
        if n < 0 or n > avail:
            raise ValueError(
                f"SpscRing.advance({n}): n must be between 0 and readable ({avail})"
            )
        if n:
            rt_store_release(&self._ctl.tail, t + n)

    def clear(self):
        """Drop every readable byte (consumer side; safe while the producer writes).

        Returns the number of bytes dropped.
        """
        cdef rt_spsc_ctl *c = self._ctl
        cdef int64_t t = rt_load_relaxed(&c.tail)
        cdef int64_t h = rt_load_acquire(&c.head)
        c.head_cache = h
        if h != t:
            rt_store_release(&c.tail, h)
        return h - t

    @property
    def capacity(self):
        """Size of the ring in bytes (exactly as asked)."""
        return self._cap

    @property
    def readable(self):
        """Bytes that can be read now."""
        return self.readable_n()

    @property
    def writable(self):
        """Bytes that can be written now without overrun."""
        return self.writable_n()

    @property
    def total_written(self):
        """Bytes accepted by :meth:`write` since construction."""
        return rt_load_acquire(&self._ctl.head)

    @property
    def total_read(self):
        """Bytes released by the consumer (read, advanced or cleared) since construction."""
        return rt_load_acquire(&self._ctl.tail)

    @property
    def overruns(self):
        """Bytes dropped because the ring was full."""
        return rt_load_relaxed(&self._ctl.overruns)

    @property
    def overrun_events(self):
        """Writes that could not copy everything they were given."""
        return rt_load_relaxed(&self._ctl.overrun_events)

    def __len__(self):
        return self.readable_n()

    def __repr__(self):
        return (
            f"SpscRing(capacity={self._cap}, readable={self.readable_n()}, "
            f"overruns={self.overruns})"
        )


cdef int _raise_bad_buffer(obj, str method, bint writable) except -1:
    # Called when PyObject_GetBuffer failed: raise an error that names the problem (not a
    # buffer, read-only, not C-contiguous); returns 0 when it cannot tell (caller re-raises).
    try:
        mv = memoryview(obj)
    except TypeError:
        raise TypeError(
            f"SpscRing.{method} needs a bytes-like object (buffer protocol), "
            f"got {type(obj).__name__}"
        ) from None
    if writable and mv.readonly:
        raise TypeError(
            f"SpscRing.{method} needs a writable buffer, got a read-only {type(obj).__name__}"
        ) from None
    if not mv.c_contiguous:
        raise AudioFormatError(
            f"SpscRing.{method} needs a C-contiguous buffer, got a non-contiguous "
            f"{type(obj).__name__} (shape {mv.shape}, strides {mv.strides})"
        ) from None
    return 0
