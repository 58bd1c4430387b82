# cython: freethreading_compatible = False
"""Streaming polyphase windowed-sinc resampler (compiled).

The filter design is :func:`rtsdk._reference.resample._design` (NumPy, double precision, cached
per rate pair and quality): this module runs the very same float32 tables as its twin.
"""

cimport numpy as cnp
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

import numpy as np

from rtsdk._reference.resample import _check_config, _check_samples, _design

cnp.import_array()

__all__ = ["Resampler"]

cdef extern from "resample_dot.h" nogil:
    int RS_LANES_MAX
    int rs_uses_fma
    void rs_select_portable(int portable)
    void rs_channel(const rs_cfg *cfg, float *hist, const float *x, Py_ssize_t xstride,
                    Py_ssize_t frames, Py_ssize_t zeros, int64_t n_in, int64_t n_out,
                    Py_ssize_t count, float *out, Py_ssize_t ostride)

rs_select_portable(0)


def _use_portable(bint portable):
    """Tests only: force the portable kernels (True) or pick by CPU again (False).

    Not thread-safe; returns whether the AVX2+FMA kernels are now in use.
    """
    rs_select_portable(portable)
    return bool(rs_uses_fma)


#: True when this process runs the AVX2+FMA inner loops (rounding differs from the portable one).
USES_FMA = bool(rs_uses_fma)


cdef inline int64_t _ceil_div(int64_t a, int64_t b) noexcept nogil:
    return -((-a) // b) if a < 0 else (a + b - 1) // b


cdef class Resampler:
    """Streaming polyphase windowed-sinc resampler, float32 in and out.

    Same contract and filters as :class:`rtsdk._reference.resample.Resampler` (its docstring
    lists the measured figures per quality); this one runs the inner loop in C with AVX2+FMA
    when the CPU has them.
    """

    def __cinit__(self, *args, **kwargs):
        self._hist = NULL

    def __init__(self, in_rate, out_rate, channels=1, quality="high"):
        _check_config(in_rate, out_rate, channels, quality)
        d = _design(int(in_rate), int(out_rate), quality)
        self.in_rate = in_rate
        self.out_rate = out_rate
        self.channels = channels
        self.quality = quality
        self.delay = d.delay
        self._design = d
        cdef cnp.ndarray tab = d.table
        self._cfg.table = <const float *>cnp.PyArray_DATA(tab)
        self._cfg.up = d.up
        self._cfg.down = d.down
        self._cfg.taps = d.taps
        self._cfg.lanes = d.up <= RS_LANES_MAX and d.down <= RS_LANES_MAX
        self._length = d.length
        self._flush = d.flush_zeros
        self._hist = <float *>malloc(max(1, self.channels * (d.taps - 1)) * sizeof(float))
        if self._hist == NULL:
            raise MemoryError()
        self.reset()

    def __dealloc__(self):
        free(self._hist)

    def reset(self):
        """Forget all history: the next ``process`` starts a new stream."""
        memset(self._hist, 0, self.channels * (self._cfg.taps - 1) * sizeof(float))
        self._n_in = 0
        self._n_out = 0
        self._done = False

    cdef Py_ssize_t out_frames(self, Py_ssize_t frames, bint last) noexcept nogil:
        cdef int64_t n_in1 = self._n_in + frames
        cdef int64_t end = _ceil_div(self._cfg.up * n_in1, self._cfg.down)
        if last and n_in1 > 0:
            end = _ceil_div(2 * self._cfg.up * n_in1 + self._length - 1, 2 * self._cfg.down)
        return <Py_ssize_t>(end - self._n_out)

    cdef Py_ssize_t process_into(self, const float *x, Py_ssize_t frames, bint last,
                                 float *out) noexcept nogil:
        cdef Py_ssize_t count = self.out_frames(frames, last)
        cdef Py_ssize_t nch = self.channels, c, h = self._cfg.taps - 1
        if self._done:
            return -1
        for c in range(nch):
            rs_channel(&self._cfg, self._hist + c * h, x + c, nch, frames,
                       self._flush if last else 0, self._n_in, self._n_out, count, out + c, nch)
        self._n_in += frames
        self._n_out += count
        if last:
            self._done = True
        return count

    def process(self, x, bint last=False):
        """Resample one chunk; with ``last=True`` also flush the filter tail.

        ``x``: float32, 1-D (mono) or C-contiguous 2-D ``(frames, channels)``; the output has
        the same layout. Raises ``RuntimeError`` after ``last=True`` until :meth:`reset`.
        """
        cdef cnp.ndarray xa
        if self._done:
            raise RuntimeError("Resampler.process() after last=True: call reset() first")
        if (type(x) is np.ndarray and cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32
                and cnp.PyArray_NDIM(x) == 1 and self.channels == 1
                and cnp.PyArray_IS_C_CONTIGUOUS(x)):
            xa = <cnp.ndarray>x
        else:
            xa = _check_samples(x, self.channels)
        cdef Py_ssize_t frames = cnp.PyArray_DIM(xa, 0)
        cdef Py_ssize_t count = self.out_frames(frames, last)
        cdef cnp.ndarray out
        if cnp.PyArray_NDIM(xa) == 1:
            out = np.empty(count, dtype=np.float32)
        else:
            out = np.empty((count, self.channels), dtype=np.float32)
        cdef const float *xp = <const float *>cnp.PyArray_DATA(xa)
        cdef float *op = <float *>cnp.PyArray_DATA(out)
        cdef Py_ssize_t got
        with nogil:
            got = self.process_into(xp, frames, last, op)
        if got < 0:
            raise RuntimeError("Resampler.process() after last=True: call reset() first")
        return out
