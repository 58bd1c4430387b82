# cython: freethreading_compatible = False
"""Streaming polyphase windowed-sinc resampler (compiled).

The filter design is :func:`rtsdk._reference.resample._design` (NumPy, double precision, cached
per rate pair and quality): this module runs the very same float32 tables as its twin.
"""

cimport numpy as cnp
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

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


cdef enum:
    # Chunks of at least this many samples (frames x channels) are resampled with the GIL
    # released. Shorter ones (a 20 ms frame takes about a microsecond) keep it: releasing and
    # taking it back would be a sizeable part of the call, for no useful concurrency.
    NOGIL_MIN = 8192


cdef inline int64_t _ceil_div(int64_t a, int64_t b) noexcept nogil:
    return -((-a) // b) if a < 0 else (a + b - 1) // b


cdef class Resampler:
    """Streaming polyphase windowed-sinc resampler, float32 in and out.

    ``Resampler(in_rate, out_rate, channels=1, quality="high")`` for any pair of
    8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000 Hz (equal rates pass samples through
    unchanged, with the same streaming API). ``process(x)`` takes float32 samples, 1-D for mono
    or C-contiguous 2-D ``(frames, channels)``, and returns the same layout.

    Latency: every call returns every output sample whose input support has arrived, so after
    ``n`` input samples in total exactly ``ceil(n * out_rate / in_rate)`` have been returned;
    nothing is held back beyond the filter's own :attr:`delay`. At 20 ms chunks each call
    returns exactly 20 ms.

    End of stream: ``process(x, last=True)`` also flushes the tail, as if zeros followed: the
    stream's total is then ``ceil((n + D) * out_rate / in_rate)`` samples, ``D`` the delay in
    input samples, ``(N - 1) / (2 L)`` for a prototype of ``N`` taps at ``L`` times the input
    rate (0 samples for an empty stream), so the output holds the whole input shifted by
    :attr:`delay`. After that, ``process`` raises ``RuntimeError`` until :meth:`reset`.

    Any chunking (empty and 1-sample chunks included) gives bit-identical output to one call.

    Filters: one Kaiser-windowed sinc per rate pair and quality, designed in double precision
    and stored as float32 polyphase tables shared by all instances. Its stopband starts at the
    lower Nyquist frequency ``fn`` (no aliasing into the passband or transition band), its span
    is fixed by the delay budget and the Kaiser formula for the target attenuation sets the
    transition width (about 1.8 kHz for "high", 2.5 kHz for "low", whatever the rates).

    Factor-2 pairs (48k<->24k, 96k<->48k, 44.1k<->22.05k, 32k<->16k, 16k<->8k) use a half-band
    filter instead: cut off at ``fn`` itself, so every second tap is exactly zero and an output
    costs about a quarter of the multiply-adds. Its stopband mirrors its passband about ``fn``:
    what folds across ``fn`` (down by 2), or images across it (up by 2), lands between the
    passband edge and ``fn``, never lower. "high": 95 taps (48 non-zero plus the centre); at
    48k<->24k the passband is flat to 1e-5 up to 10.2 kHz, and everything that would fold or
    image below 10.2 kHz (13.8 kHz and up at 48 kHz) is at least 100 dB down. Up by 2, every
    second output is an input sample itself. 16k<->8k: 63 taps (the delay budget).
    Measured (float32 run, steady state, tone fits; stopband from the float32 prototype):

    ``"high"``: delay <= 2 ms (half its 4 ms span), stopband >= 109 dB from ``fn``.

    ===========  ==========  ========  ====================  ==============  =============
    pair         taps x ph.  delay     flat +-0.1 dB up to   997 Hz SINAD    21 kHz tone
    ===========  ==========  ========  ====================  ==============  =============
    48k->24k     95 half     0.979 ms  10.8 kHz              144 dB          -139 dB
    44.1k->24k   176 x 80    1.995 ms  10.5 kHz              145 dB          -130 dB
    16k->24k     64 x 3      1.990 ms  6.5 kHz               134 dB          (not present)
    24k->48k     95 half     0.979 ms  10.8 kHz              142 dB          (not present)
    8k->24k      32 x 3      1.979 ms  2.5 kHz               124 dB          (not present)
    ===========  ==========  ========  ====================  ==============  =============

    ``"low"``: delay <= 1 ms (2 ms span), stopband >= 79 dB from ``fn``, half the taps
    (half-band: 47 taps, everything folding below 8.5 kHz at least 80 dB down at 48k<->24k).

    ===========  ==========  ========  ====================  ==============  =============
    pair         taps x ph.  delay     flat +-0.1 dB up to   997 Hz SINAD    21 kHz tone
    ===========  ==========  ========  ====================  ==============  =============
    48k->24k     47 half     0.479 ms  10.0 kHz              146 dB          -93 dB
    44.1k->24k   88 x 80     0.998 ms  9.7 kHz               122 dB          -100 dB
    16k->24k     32 x 3      0.990 ms  5.7 kHz               101 dB          (not present)
    24k->48k     47 half     0.479 ms  10.0 kHz              94 dB           (not present)
    8k->24k      16 x 3      0.979 ms  1.7 kHz               93 dB           (not present)
    ===========  ==========  ========  ====================  ==============  =============

    The fixed 1.8 kHz transition costs the most at 8 kHz: "high" 8k->24k is flat to 2.5 kHz
    and -3 dB at 2.95 kHz. Equal rates: a copy, delay 0.

    Arithmetic: float32. Every output is computed from the same window by the same operations
    whatever the chunking. The compiled kernel's portable loops (multiply, then add) give
    exactly what this twin gives; its AVX2+FMA loops differ by float32 rounding (< 1e-6 for
    samples in [-1, 1]).

    This compiled class runs the inner loops in C (AVX2+FMA when the CPU has them, see
    ``USES_FMA``); C code can ``cimport`` it and call ``process_into`` without the GIL.
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
        self._cfg.half = d.half
        self._cfg.center = d.center
        self._cfg.hist = d.history
        self._length = d.length
        self._flush = d.flush_zeros
        self._hist = <float *>malloc(max(1, self.channels * d.history) * sizeof(float))
        if self._hist == NULL:
            raise MemoryError()
        self.reset()

    def __dealloc__(self):
        free(self._hist)

    def reset(self):
        """Forget all history: the next ``process`` starts a new stream."""
        memset(self._hist, 0, self.channels * self._cfg.hist * sizeof(float))
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
        cdef Py_ssize_t nch = self.channels, c, h = self._cfg.hist
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
        if (cnp.PyArray_CheckExact(x) and cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32
                and cnp.PyArray_NDIM(x) == 1 and self.channels == 1
                and cnp.PyArray_IS_C_CONTIGUOUS(x)):
            xa = <cnp.ndarray>x
        else:
            xa = _check_samples(x, self.channels)
        cdef Py_ssize_t frames = cnp.PyArray_DIM(xa, 0)
        cdef Py_ssize_t count = self.out_frames(frames, last)
        cdef cnp.npy_intp dims[2]
        dims[0] = count
        dims[1] = self.channels
        cdef cnp.ndarray out = <cnp.ndarray>cnp.PyArray_SimpleNew(
            cnp.PyArray_NDIM(xa), dims, cnp.NPY_FLOAT32)
        cdef const float *xp = <const float *>cnp.PyArray_DATA(xa)
        cdef float *op = <float *>cnp.PyArray_DATA(out)
        cdef Py_ssize_t got
        if frames * self.channels >= NOGIL_MIN:
            with nogil:
                got = self.process_into(xp, frames, last, op)
        else:
            got = self.process_into(xp, frames, last, op)
        if got < 0:
            raise RuntimeError("Resampler.process() after last=True: call reset() first")
        return out
