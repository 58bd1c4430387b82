# C-level face of rtsdk._kernels.ring (SpscRing). Other kernels and bridges
# `from rtsdk._kernels.ring cimport SpscRing` (this file, found on the include path) and call the
# pointer methods below without Python overhead and without the GIL:
#
#   write_ptr(src, n)  producer: copy up to n bytes from src; returns the count copied. Bytes
#                      that did not fit are counted in overruns/overrun_events. Never blocks,
#                      never allocates.
#   read_ptr(dst, n)   consumer: copy up to n bytes into dst; returns the count copied.
#   readable_n()       bytes readable now (exact on the consumer side, a lower bound elsewhere).
#   writable_n()       bytes writable now (exact on the producer side, a lower bound elsewhere).
#   drop_n(n)          consumer: release up to n readable bytes without copying; returns count.
#
# Exactly one thread may act as producer and one as consumer at a time; all of these are
# noexcept nogil and lock-free (C11 acquire/release on the 64-bit head/tail counters).
from libc.stdint cimport int64_t

from rt_atomic cimport rt_spsc_ctl


cdef class SpscRing:
    cdef unsigned char *_buf
    cdef int64_t _cap
    cdef rt_spsc_ctl *_ctl
    cdef object _storage
    cdef object _view

    cdef Py_ssize_t write_ptr(self, const unsigned char *src, Py_ssize_t n) noexcept nogil
    cdef Py_ssize_t read_ptr(self, unsigned char *dst, Py_ssize_t n) noexcept nogil
    cdef Py_ssize_t readable_n(self) noexcept nogil
    cdef Py_ssize_t writable_n(self) noexcept nogil
    cdef Py_ssize_t drop_n(self, Py_ssize_t n) noexcept nogil
