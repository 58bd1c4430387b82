# cython: freethreading_compatible = False
"""The echo stage's per-10 ms-block work (compiled): see :mod:`rtsdk._reference.echoblocks`.

Block energies, the smoothed ERLE powers and the tail guard's state machine, run once per
capture frame on the loop. The arithmetic follows the twin's step by step (the guard's gains
in float32 as NumPy computes them); the block energies are sums in double precision, whose
rounding may differ from the twin's in the last bits.
"""

cimport numpy as cnp
from libc.math cimport exp, log, pow
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

import numpy as np

from rtsdk.exceptions import AudioFormatError

__all__ = ["EchoMeter", "TailGuard"]

cnp.import_array()

cdef enum:
    HISTORY = 64  # reference blocks remembered (640 ms)
    QUIET_ONSET_BLOCKS = 10  # an onset needs 100 ms of silence before it
    MAX_LEADS = 9  # onset-to-echo delays remembered (their median is the lead)

cdef double GUARD_ACTIVE = 1e-5  # reference block mean square counted as playing (-50 dBFS)
cdef double RISE = 10.0  # 10 dB: the echo has arrived when the microphone rose this much


cdef object _check_block(object block, str who):
    if isinstance(block, bool) or not isinstance(block, int) or not 1 <= block <= (1 << 20):
        raise ValueError(f"{who}: block must be an int from 1 to 2**20 samples, got {block!r}")
    return block


cdef Py_ssize_t _signals(str who, Py_ssize_t block, object mic, object ref, object out,
                         float **pm, float **pr, float **po) except -1:
    """Check the three arrays (see the twin) and point at their samples; the length."""
    cdef cnp.ndarray a
    cdef Py_ssize_t n = 0, nr = 0, no = 0
    cdef int i
    for i, (name, x) in enumerate((("mic", mic), ("ref", ref), ("out", out))):
        if not cnp.PyArray_Check(x):
            raise AudioFormatError(f"{who}: {name} must be a numpy float32 array, got {type(x)}")
        a = <cnp.ndarray>x
        if (cnp.PyArray_TYPE(a) != cnp.NPY_FLOAT32 or not cnp.PyArray_ISNOTSWAPPED(a)
                or cnp.PyArray_NDIM(a) != 1 or not cnp.PyArray_IS_C_CONTIGUOUS(a)):
            raise AudioFormatError(
                f"{who}: {name} must be 1-D C-contiguous float32, got {x.dtype} {x.shape}"
            )
        if i == 0:
            n = cnp.PyArray_SIZE(a)
            pm[0] = <float *>cnp.PyArray_DATA(a)
        elif i == 1:
            nr = cnp.PyArray_SIZE(a)
            pr[0] = <float *>cnp.PyArray_DATA(a)
        else:
            no = cnp.PyArray_SIZE(a)
            po[0] = <float *>cnp.PyArray_DATA(a)
    if nr != n or no != n or n % block:
        raise AudioFormatError(
            f"{who}: mic, ref and out need one length, a multiple of {block} samples; got "
            f"{n}, {nr} and {no}"
        )
    if not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out):
        raise AudioFormatError(f"{who}: out must be writable")
    return n


cdef inline void _energies(const float *x, Py_ssize_t nb, Py_ssize_t b, double *e) noexcept nogil:
    """Mean square of each of ``nb`` blocks of ``b`` samples, in double precision (four
    running sums per block, so that the additions overlap)."""
    cdef Py_ssize_t i, j, b4 = b - b % 4
    cdef double s0, s1, s2, s3, v0, v1, v2, v3
    cdef const float *p
    for i in range(nb):
        p = x + i * b
        s0 = s1 = s2 = s3 = 0.0
        for j in range(0, b4, 4):
            v0 = p[j]
            v1 = p[j + 1]
            v2 = p[j + 2]
            v3 = p[j + 3]
            s0 += v0 * v0
            s1 += v1 * v1
            s2 += v2 * v2
            s3 += v3 * v3
        for j in range(b4, b):
            v0 = p[j]
            s0 += v0 * v0
        e[i] = ((s0 + s1) + (s2 + s3)) / b


cdef class TailGuard:
    """Attenuates residual echo at onsets and in tails (see :mod:`rtsdk.audio.tailguard`)."""

    cdef readonly Py_ssize_t block
    cdef readonly int lead  # blocks from reference onset to echo arrival (+2)
    cdef readonly int warmup
    cdef readonly double coupling  # echo / reference energy at the microphone
    cdef readonly double decay  # energy ratio per 10 ms block
    cdef readonly double floor  # the gain of a guarded block
    cdef readonly int64_t guarded_blocks
    cdef double _rt60, _depth
    cdef int _lead0, _warm
    cdef double _refs[2 * HISTORY]  # each block's energy twice: the last HISTORY are one run
    cdef int _pos
    cdef double _weights[HISTORY]
    cdef int64_t _since_active, _quiet, _active_blocks, _k
    cdef bint _has_timing, _has_room
    cdef int64_t _timing
    cdef double _room
    cdef int _leads[MAX_LEADS]
    cdef int _nleads
    cdef double _gain
    cdef object _ramp_arr
    cdef float *_ramp
    cdef double *_scratch
    cdef Py_ssize_t _scratch_n

    def __cinit__(self):
        self._scratch = NULL
        self._scratch_n = 0

    def __dealloc__(self):
        free(self._scratch)

    def __init__(self, block, *, rt60=0.4, depth_db=30.0, default_lead_ms=150,
                 warmup_ms=1000):
        self.block = _check_block(block, "TailGuard")
        _check_settings(rt60, depth_db, default_lead_ms, warmup_ms)
        self._ramp_arr = np.linspace(0.0, 1.0, self.block, dtype=np.float32)
        self._ramp = <float *>cnp.PyArray_DATA(<cnp.ndarray>self._ramp_arr)
        self._rt60 = rt60
        self._depth = depth_db
        self._lead0 = default_lead_ms
        self._warm = warmup_ms
        self.reset()

    def reset(self):
        """Forget the coupling, the lead and the warm-up."""
        cdef int i
        self.decay = pow(10.0, -6.0 * 0.01 / self._rt60)
        self.floor = pow(10.0, -self._depth / 20.0)
        self.lead = self._lead0 // 10
        self.warmup = self._warm // 10
        self.coupling = 1.0
        for i in range(2 * HISTORY):
            self._refs[i] = 0.0
        self._pos = HISTORY - 1
        self._make_weights()
        self._since_active = 1 << 30
        self._quiet = 1 << 30
        self._has_timing = False
        self._timing = 0
        self._has_room = False
        self._room = 0.0
        self._nleads = 0
        self._active_blocks = 0
        self._k = 0
        self._gain = 1.0
        self.guarded_blocks = 0

    @property
    def lead_ms(self):
        """The measured delay from a reference onset to its echo (plus 20 ms), in ms."""
        return self.lead * 10

    def process(self, mic, ref, out):
        """Guard ``out`` (the canceller's output for ``mic``/``ref``, whole blocks) in place."""
        cdef float *pm
        cdef float *pr
        cdef float *po
        cdef Py_ssize_t n = _signals("TailGuard.process", self.block, mic, ref, out,
                                     &pm, &pr, &po)
        cdef Py_ssize_t nb = n // self.block
        if nb > self._scratch_n:
            free(self._scratch)
            self._scratch = NULL
            self._scratch_n = 0
            self._scratch = <double *>malloc(3 * nb * sizeof(double))
            if self._scratch == NULL:
                raise MemoryError("TailGuard: no memory for the block energies")
            self._scratch_n = nb
        _energies(pm, nb, self.block, self._scratch)
        _energies(pr, nb, self.block, self._scratch + nb)
        _energies(po, nb, self.block, self._scratch + 2 * nb)
        self.run(self._scratch, self._scratch + nb, self._scratch + 2 * nb, po, nb)

    cdef void run(self, const double *me, const double *re, const double *oe, float *out,
                  Py_ssize_t nb) noexcept nogil:
        cdef Py_ssize_t i
        for i in range(nb):
            self._block(me[i], re[i], oe[i], out + i * self.block)

    cdef void _make_weights(self) noexcept nogil:
        """Per history slot (oldest first): how much of that reference block's echo can be
        at the microphone now (see the twin)."""
        cdef int s, age
        cdef int hold = self.lead + 3
        cdef int young = self.lead - 5 if self.lead - 5 > 2 else 2
        for s in range(HISTORY):
            age = HISTORY - s
            if age > hold:
                self._weights[s] = pow(self.decay, <double>(age - hold))
            else:
                self._weights[s] = 1.0
            if age < young:
                self._weights[s] = 0.0

    cdef double _predicted(self) noexcept nogil:
        """The echo energy expected at the microphone now, from the recent reference."""
        cdef const double *recent = self._refs + self._pos + 1
        cdef double m = recent[0] * self._weights[0]
        cdef double v
        cdef int s
        for s in range(1, HISTORY):
            v = recent[s] * self._weights[s]
            if v > m:
                m = v
        return self.coupling * m

    cdef void _block(self, double me, double re, double oe, float *y) noexcept nogil:
        cdef int64_t k = self._k
        cdef double gain = 1.0
        cdef double g0, room
        cdef float f0, d, fg
        cdef bint in_reach
        cdef Py_ssize_t j
        cdef int p
        self._k += 1
        if re > GUARD_ACTIVE:
            if self._quiet >= QUIET_ONSET_BLOCKS:
                self._has_timing = True
                self._timing = k
            self._quiet = 0
            self._since_active = 0
            self._active_blocks += 1
        else:
            self._quiet += 1
            self._since_active += 1
            if self._since_active > self.lead + 30:
                if self._has_room:
                    room = self._room
                    self._room = room + 0.1 * (me - room)
                else:
                    self._room = me
                    self._has_room = True
        self._time_the_lead(k, me)
        p = self._pos = (self._pos + 1) % HISTORY
        self._refs[p] = re
        self._refs[p + HISTORY] = re
        self._learn_coupling(me, oe)
        in_reach = self._since_active <= self.lead + 30
        if self._active_blocks <= self.warmup and in_reach:
            gain = self.floor  # not converged: the microphone is held down near the echo
        elif in_reach and oe <= self._predicted():
            gain = self.floor
        if gain != 1.0:
            self.guarded_blocks += 1
        g0 = self._gain
        if gain != g0:  # a ramp over the block, no click (float32, as the twin's NumPy)
            f0 = <float>g0
            d = <float>(gain - g0)
            for j in range(self.block):
                y[j] = y[j] * <float>(f0 + <float>(d * self._ramp[j]))
        elif gain != 1.0:
            fg = <float>gain
            for j in range(self.block):
                y[j] = y[j] * fg
        self._gain = gain

    cdef void _learn_coupling(self, double me, double oe) noexcept nogil:
        """Blocks the canceller took 10 dB or more out of are echo: their ratio to the
        reference that caused them is the room's coupling."""
        cdef int lo, hi, s
        cdef const double *recent
        cdef double r, v, log_c
        if oe * 10.0 > me:
            return
        lo = self.lead - 3 if self.lead - 3 > 2 else 2
        hi = self.lead + 1 if self.lead + 1 < HISTORY else HISTORY
        recent = self._refs + self._pos + 1  # oldest first: age a is recent[HISTORY - a]
        r = recent[HISTORY - hi]
        for s in range(HISTORY - hi + 1, HISTORY - lo + 1):
            v = recent[s]
            if v > r:
                r = v
        if r <= GUARD_ACTIVE:
            return
        log_c = log(self.coupling)
        self.coupling = exp(log_c + 0.1 * (log(me / r) - log_c))

    cdef void _time_the_lead(self, int64_t k, double me) noexcept nogil:
        cdef int i, j, v, lead
        cdef int srt[MAX_LEADS]
        cdef double room
        if not self._has_timing or not self._has_room:
            return
        if k - self._timing > 40:
            self._has_timing = False
            return
        room = self._room if self._room > 1e-10 else 1e-10
        if me > pow(10.0, RISE / 10.0) * room:
            if self._nleads == MAX_LEADS:  # keep the newest MAX_LEADS
                for i in range(MAX_LEADS - 1):
                    self._leads[i] = self._leads[i + 1]
                self._nleads -= 1
            self._leads[self._nleads] = <int>(k - self._timing)
            self._nleads += 1
            for i in range(self._nleads):  # insertion sort of a copy; the median
                v = self._leads[i]
                j = i
                while j > 0 and srt[j - 1] > v:
                    srt[j] = srt[j - 1]
                    j -= 1
                srt[j] = v
            lead = srt[self._nleads // 2] + 2
            if lead < 2:
                lead = 2
            if lead != self.lead:
                self.lead = lead
                self._make_weights()
            self._has_timing = False

    def __repr__(self):
        return f"<TailGuard lead={self.lead_ms} ms coupling={10 * np.log10(self.coupling):.1f} dB>"


cdef _check_settings(rt60, depth_db, default_lead_ms, warmup_ms):
    if not (rt60 > 0.0 and rt60 < float("inf")) or not (depth_db >= 0.0):
        raise ValueError(f"TailGuard: rt60 > 0 and depth_db >= 0, got {rt60!r}, {depth_db!r}")
    if not 20 <= default_lead_ms <= 600 or not warmup_ms >= 0:
        raise ValueError(
            "TailGuard: default_lead_ms from 20 to 600 and warmup_ms >= 0, got "
            f"{default_lead_ms!r}, {warmup_ms!r}"
        )


cdef class EchoMeter:
    """Block energies, the smoothed ERLE powers and the tail guard in one call per frame."""

    cdef readonly Py_ssize_t block
    cdef readonly TailGuard guard
    cdef readonly double active, alpha
    cdef readonly double mic_power  # smoothed microphone power in audible-reference blocks
    cdef readonly double out_power  # the same of the canceller's output
    cdef readonly int64_t active_blocks  # blocks measured while the reference was audible
    cdef double *_e
    cdef Py_ssize_t _cap

    def __cinit__(self):
        self._e = NULL
        self._cap = 0

    def __dealloc__(self):
        free(self._e)

    def __init__(self, block, guard=None, *, active=1e-6, alpha=0.02):
        self.block = _check_block(block, "EchoMeter")
        if guard is not None and not isinstance(guard, TailGuard):
            raise TypeError(f"EchoMeter: guard must be a TailGuard or None, got {type(guard)}")
        if guard is not None and (<TailGuard>guard).block != self.block:
            raise ValueError(f"EchoMeter: the guard's block is {guard.block}, not {block}")
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"EchoMeter: alpha must be in (0, 1], got {alpha!r}")
        self.guard = guard
        self.active = active
        self.alpha = alpha
        self.mic_power = 0.0
        self.out_power = 0.0
        self.active_blocks = 0

    def reset(self):
        """Zero the powers and the count; reset the guard."""
        self.mic_power = self.out_power = 0.0
        self.active_blocks = 0
        if self.guard is not None:
            self.guard.reset()

    def measure(self, mic, ref, out):
        """Measure one call's blocks, guard ``out`` in place; the number of audible blocks."""
        cdef float *pm
        cdef float *pr
        cdef float *po
        cdef Py_ssize_t n = _signals("EchoMeter.measure", self.block, mic, ref, out,
                                     &pm, &pr, &po)
        cdef Py_ssize_t b = self.block
        cdef Py_ssize_t nb = n // b
        cdef Py_ssize_t i, k = 0
        cdef double m = 0.0, o = 0.0, a
        cdef double *me
        cdef double *re
        cdef double *oe
        if nb > self._cap:
            free(self._e)
            self._e = NULL
            self._cap = 0
            self._e = <double *>malloc(3 * nb * sizeof(double))
            if self._e == NULL:
                raise MemoryError("EchoMeter: no memory for the block energies")
            self._cap = nb
        me = self._e
        re = self._e + nb
        oe = self._e + 2 * nb
        _energies(pm, nb, b, me)
        _energies(pr, nb, b, re)
        _energies(po, nb, b, oe)
        for i in range(nb):
            if re[i] > self.active:
                m += me[i]
                o += oe[i]
                k += 1
        if k:
            a = self.alpha if self.mic_power > 0.0 else 1.0
            self.mic_power += a * (m / k - self.mic_power)
            self.out_power += a * (o / k - self.out_power)
            self.active_blocks += k
        if self.guard is not None:
            self.guard.run(me, re, oe, po, nb)
        return k
