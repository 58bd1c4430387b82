# cython: freethreading_compatible = False
"""The echo stage's per-10 ms-block work (compiled): see :mod:`rtsdk._reference.echoblocks`.

Block energies, the smoothed ERLE powers and the tail guard's state machine, run once per
capture frame on the loop. The arithmetic follows the twin's step by step (the guard's gains
in float32 as NumPy computes them); the block energies are sums in double precision and the
band powers come from our own real FFT (the twin's is NumPy's), whose rounding may differ from
the twin's in the last bits.
"""

cimport numpy as cnp
from libc.math cimport cos, exp, log, pi, pow, sin, sqrt
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
    BANDS = 16  # frequency bands of the user's evidence
    FRESH = 3  # blocks: the band test runs while the reference played this recently
    SPAN = 5  # blocks: arrivals this far from the median count in the spread, not beyond
    STRONG_BLOCKS = 4  # blocks of strong evidence in a row, before the microphone is sent
    STRONG_AFTER = 10  # blocks: strong evidence counts this long past the latest arrival
    HOLD_END = 6  # blocks: the onset hold lasts from the earliest arrival to the latest + 60 ms

cdef double GUARD_ACTIVE = 1e-5  # reference block mean square counted as playing (-50 dBFS)
cdef double RISE = 10.0  # 10 dB: the echo has arrived when the microphone rose this much
cdef double BAND_LO = 100.0  # Hz, the lowest band's lower edge
cdef double BAND_HI = 8000.0  # Hz, the highest band's upper edge (at most 0.45 * rate)
cdef double MARGIN = 2.0  # the user must add as much as the predicted echo (3 dB over it)
cdef double BROAD_MARGIN = 2.0  # broadband, the user must add as much as the echo (3 dB)
cdef double USER_SHARE = 0.15  # of the microphone's band energy above echo and noise
cdef double SPREAD = 0.1  # of the loudest band's predicted echo, expected in every band
cdef double STRONG = 2.75  # broadband, the microphone 4.4 dB over the predicted echo and noise
cdef double SUPPRESSED = 100.0  # the canceller took 20 dB or more out of such a block


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


include "bandfft.pxi"


cdef class TailGuard:
    """Attenuates residual echo at onsets and in tails (see :mod:`rtsdk.audio.tailguard`)."""

    cdef readonly Py_ssize_t block
    cdef readonly int lead  # blocks from reference onset to echo arrival (+2)
    cdef readonly int lead_lo, lead_hi  # the earliest and latest recent arrivals (+2)
    cdef readonly int warmup
    cdef readonly double coupling  # echo / reference energy at the microphone
    cdef readonly double decay  # energy ratio per 10 ms block
    cdef readonly double floor  # the gain of a guarded block
    cdef readonly int64_t guarded_blocks
    cdef readonly int64_t user_blocks  # let through on the user's evidence, echo in reach
    cdef readonly int64_t mic_blocks  # of those, sent from the microphone (canceller suppressed)
    cdef readonly long rate
    cdef readonly int bands
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
    cdef double _gain  # the last block's weight of the canceller's output
    cdef double _mic_gain  # and of the microphone
    cdef object _ramp_arr
    cdef float *_ramp
    cdef double *_scratch
    cdef Py_ssize_t _scratch_n
    cdef Fft _fft
    cdef double _band_refs[2 * HISTORY * BANDS]  # per slot, as _refs: BANDS values each
    cdef double _band_coupling[BANDS]
    cdef double _band_noise[BANDS]
    cdef double _mb[BANDS]
    cdef double _last_mb[BANDS]
    cdef double _rb[BANDS]
    cdef int _evidence
    cdef int _strong  # consecutive blocks with the microphone well over echo and noise
    cdef bint _passing
    cdef int64_t _onset  # the block of the last reference onset after a pause

    def __cinit__(self):
        self._scratch = NULL
        self._scratch_n = 0
        self._fft.win = NULL
        self._fft.band = NULL
        self._fft.rev = NULL
        self._fft.wr = NULL
        self._fft.wi = NULL
        self._fft.cr = NULL
        self._fft.ci = NULL
        self._fft.zr = NULL
        self._fft.zi = NULL

    def __dealloc__(self):
        free(self._scratch)
        _fft_free(&self._fft)

    def __init__(self, block, *, rate=None, rt60=0.7, depth_db=30.0, default_lead_ms=150,
                 warmup_ms=1000):
        self.block = _check_block(block, "TailGuard")
        self.rate = _check_rate(rate, block)
        _check_settings(rt60, depth_db, default_lead_ms, warmup_ms)
        self.bands = BANDS
        _fft_free(&self._fft)
        _fft_plan(&self._fft, self.block, self.rate)
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
        self.lead_lo = self.lead_hi = self.lead
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
        self._mic_gain = 0.0
        self.guarded_blocks = 0
        self.user_blocks = 0
        self.mic_blocks = 0
        for i in range(2 * HISTORY * BANDS):
            self._band_refs[i] = 0.0
        for i in range(BANDS):
            self._band_coupling[i] = 1.0
            self._band_noise[i] = 0.0
        self._evidence = 0
        self._strong = 0
        self._passing = False
        self._onset = -(1 << 30)
        for i in range(BANDS):
            self._last_mb[i] = 0.0

    @property
    def lead_ms(self):
        """The measured delay from a reference onset to its echo (plus 20 ms), in ms."""
        return self.lead * 10

    @property
    def fft_size(self):
        """The size of the band analysis' transform."""
        return self._fft.n

    def band_coupling(self):
        """The echo / reference energy ratio learnt per band (1.0 where not learnt yet)."""
        return np.array([self._band_coupling[i] for i in range(BANDS)], dtype=np.float64)

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
        self.run(self._scratch, self._scratch + nb, self._scratch + 2 * nb, po, pm, pr, nb)

    cdef void run(self, const double *me, const double *re, const double *oe, float *out,
                  const float *mic, const float *ref, Py_ssize_t nb) noexcept nogil:
        cdef Py_ssize_t i, b = self.block
        for i in range(nb):
            self._block(me[i], re[i], oe[i], out + i * b, mic + i * b, ref + i * b)

    cdef void _make_weights(self) noexcept nogil:
        """Per history slot (oldest first): how much of that reference block's echo can be
        at the microphone now (see the twin)."""
        cdef int s, age
        cdef int hold = self.lead_hi + 3
        cdef int young = self.lead_lo - 5 if self.lead_lo - 5 > 2 else 2
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

    cdef double _band_share(self) noexcept nogil:
        """The share of the microphone's band energy over what the echo (per band, from the
        recent reference) and the room's noise could give: the user's voice."""
        cdef double heard[BANDS]
        cdef const double *recent = self._band_refs + (self._pos + 1) * BANDS  # oldest first
        cdef double w, v, e, top, total = 0.0, part = 0.0
        cdef int s, i
        cdef double mb[BANDS]
        for i in range(BANDS):
            heard[i] = 0.0
            mb[i] = 0.5 * (self._mb[i] + self._last_mb[i])  # over 20 ms: a steadier estimate
        for s in range(HISTORY):
            w = self._weights[s]
            if w != 0.0:
                for i in range(BANDS):
                    v = recent[s * BANDS + i] * w
                    if v > heard[i]:
                        heard[i] = v
        top = 0.0
        for i in range(BANDS):
            heard[i] = self._band_coupling[i] * heard[i]  # the echo predicted per band
            if heard[i] > top:
                top = heard[i]
        top *= SPREAD  # a clipping speaker spreads its echo into bands its reference left empty
        for i in range(BANDS):
            e = heard[i] if heard[i] > top else top
            v = mb[i] - MARGIN * (e + MARGIN * self._band_noise[i])
            total += mb[i]
            part += v if v > 0.0 else 0.0
        return part / total if total > 0.0 else 0.0

    cdef void _block(self, double me, double re, double oe, float *y, const float *mic,
                     const float *ref) noexcept nogil:
        cdef int64_t k = self._k
        cdef double gain = 1.0, mic_gain = 0.0
        cdef double g0, m0, room, pred
        cdef float f0, d, fg, c0, dc
        cdef bint in_reach, user, strong
        cdef Py_ssize_t j
        cdef int p, i
        self._k += 1
        _band_powers(&self._fft, mic, self._mb)
        if re > GUARD_ACTIVE:
            if self._quiet >= QUIET_ONSET_BLOCKS:
                self._has_timing = True
                self._timing = k
                self._onset = k
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
                    for i in range(BANDS):
                        self._band_noise[i] += 0.1 * (self._mb[i] - self._band_noise[i])
                else:
                    self._room = me
                    self._has_room = True
                    for i in range(BANDS):
                        self._band_noise[i] = self._mb[i]
        self._time_the_lead(k, me)
        p = self._pos = (self._pos + 1) % HISTORY
        self._refs[p] = re
        self._refs[p + HISTORY] = re
        if re == 0.0:  # silence (nothing playing): its bands are zeros, no transform needed
            for i in range(BANDS):
                self._band_refs[p * BANDS + i] = 0.0
        else:
            _band_powers(&self._fft, ref, self._band_refs + p * BANDS)
        for i in range(BANDS):
            self._band_refs[(p + HISTORY) * BANDS + i] = self._band_refs[p * BANDS + i]
        if not self._strong:  # not while the microphone is well over the echo: the user, whom
            self._learn_coupling(me, oe)  # the canceller may have taken 10 dB out of too
        in_reach = self._since_active <= self.lead + 30
        if in_reach:
            # the user's evidence, in the microphone: louder than the echo and noise it can
            # hold, or (while fresh echo arrives) a spectrum the echo cannot explain
            room = self._room if self._has_room else 0.0
            pred = self._predicted()
            user = me > BROAD_MARGIN * (pred + room) or (
                self._since_active <= FRESH and self._band_share() > USER_SHARE
            )
            self._evidence = self._evidence + 1 if user else 0
            # strong evidence (well over the echo and noise), the echo's arrival timed, 40 ms
            # past the onset hold (see the twin)
            strong = (
                self._nleads > 0
                and k - self._onset > self.lead_hi + STRONG_AFTER
                and me > STRONG * (pred + room)
            )
            self._strong = self._strong + 1 if strong else 0
            if self._active_blocks <= self.warmup:
                gain = self.floor  # not converged: the microphone is held down near the echo
            elif self.lead_lo - 3 <= k - self._onset <= self.lead_hi + HOLD_END:
                gain = self.floor  # an echo's first 80 ms after a pause: the canceller leaks
            elif user and (self._evidence >= 2 or self._passing):
                self.user_blocks += 1  # twice in a row, or going on: the user, let through
                if self._strong >= STRONG_BLOCKS and oe * SUPPRESSED < me:
                    # the canceller's suppressor holds down a user well over the echo: the
                    # microphone is sent instead, less the echo's share
                    gain = 0.0
                    mic_gain = sqrt(1.0 - (pred + room) / me)
                    self.mic_blocks += 1
            else:
                gain = self.floor
            self._passing = gain == 1.0 or mic_gain != 0.0
        else:
            self._evidence = 0
            self._strong = 0
            self._passing = False
        for i in range(BANDS):
            self._last_mb[i] = self._mb[i]
        if gain != 1.0 and mic_gain == 0.0:
            self.guarded_blocks += 1
        g0 = self._gain
        m0 = self._mic_gain
        if m0 != 0.0 or mic_gain != 0.0:  # the microphone in the mix: both ramped, in float32
            f0 = <float>g0
            d = <float>(gain - g0)
            c0 = <float>m0
            dc = <float>(mic_gain - m0)
            for j in range(self.block):
                y[j] = <float>(y[j] * <float>(f0 + <float>(d * self._ramp[j]))) + <float>(
                    mic[j] * <float>(c0 + <float>(dc * self._ramp[j]))
                )
        elif gain != g0:  # a ramp over the block, no click (float32, as the twin's NumPy)
            f0 = <float>g0
            d = <float>(gain - g0)
            for j in range(self.block):
                y[j] = y[j] * <float>(f0 + <float>(d * self._ramp[j]))
        elif gain != 1.0:
            fg = <float>gain
            for j in range(self.block):
                y[j] = y[j] * fg
        self._gain = gain
        self._mic_gain = mic_gain

    cdef void _learn_coupling(self, double me, double oe) noexcept nogil:
        """Blocks the canceller took 10 dB or more out of are echo: their ratio to the
        reference that caused them is the room's coupling (broadband, and per band where the
        reference had energy)."""
        cdef int lo, hi, s, i
        cdef const double *recent
        cdef const double *brecent
        cdef double r, v, log_c, least, mi
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
        brecent = self._band_refs + (self._pos + 1) * BANDS
        for i in range(BANDS):
            self._rb[i] = brecent[(HISTORY - hi) * BANDS + i]
        for s in range(HISTORY - hi + 1, HISTORY - lo + 1):
            for i in range(BANDS):
                v = brecent[s * BANDS + i]
                if v > self._rb[i]:
                    self._rb[i] = v
        least = self._rb[0]
        for i in range(1, BANDS):
            if self._rb[i] > least:
                least = self._rb[i]
        least *= 1e-6
        for i in range(BANDS):
            if self._rb[i] > least and self._rb[i] > 0.0:
                mi = self._mb[i] if self._mb[i] > 1e-30 else 1e-30
                log_c = log(self._band_coupling[i])
                self._band_coupling[i] = exp(log_c + 0.1 * (log(mi / self._rb[i]) - log_c))

    cdef void _time_the_lead(self, int64_t k, double me) noexcept nogil:
        cdef int i, j, v, lead, med, lo, hi
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
            med = srt[self._nleads // 2]
            lo = med
            hi = med
            for i in range(self._nleads):  # the spread near the median (an outlier: the user)
                v = srt[i]
                if med - SPAN <= v < lo:
                    lo = v
                if hi < v <= med + SPAN:
                    hi = v
            lead = med + 2 if med + 2 > 2 else 2
            lo = lo + 2 if lo + 2 > 2 else 2
            hi = hi + 2 if hi + 2 > 2 else 2
            if lead != self.lead or lo != self.lead_lo or hi != self.lead_hi:
                self.lead = lead
                self.lead_lo = lo
                self.lead_hi = hi
                self._make_weights()
            self._has_timing = False

    def __repr__(self):
        return f"<TailGuard lead={self.lead_ms} ms coupling={10 * np.log10(self.coupling):.1f} dB>"


cdef long _check_rate(object rate, Py_ssize_t block) except -1:
    if rate is None:
        return 100 * block
    if isinstance(rate, bool) or not isinstance(rate, int) or not 100 <= rate <= 1_000_000:
        raise ValueError(
            f"TailGuard: rate must be None or an int from 100 to 10**6 Hz, got {rate!r}"
        )
    return rate


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
    cdef readonly double stage_power  # the same after the guard: what leaves the stage
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
        self.stage_power = 0.0
        self.active_blocks = 0

    def reset(self):
        """Zero the powers and the count; reset the guard."""
        self.mic_power = self.out_power = self.stage_power = 0.0
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
        cdef double m = 0.0, o = 0.0, g = 0.0, a
        cdef double *me
        cdef double *re
        cdef double *oe
        cdef double *ge
        if nb > self._cap:
            free(self._e)
            self._e = NULL
            self._cap = 0
            self._e = <double *>malloc(4 * nb * sizeof(double))
            if self._e == NULL:
                raise MemoryError("EchoMeter: no memory for the block energies")
            self._cap = nb
        me = self._e
        re = self._e + nb
        oe = self._e + 2 * nb
        _energies(pm, nb, b, me)
        _energies(pr, nb, b, re)
        _energies(po, nb, b, oe)
        ge = oe
        if self.guard is not None:
            self.guard.run(me, re, oe, po, pm, pr, nb)
            ge = self._e + 3 * nb
            _energies(po, nb, b, ge)
        for i in range(nb):
            if re[i] > self.active:
                m += me[i]
                o += oe[i]
                g += ge[i]
                k += 1
        if k:
            a = self.alpha if self.mic_power > 0.0 else 1.0
            self.mic_power += a * (m / k - self.mic_power)
            self.out_power += a * (o / k - self.out_power)
            self.stage_power += a * (g / k - self.stage_power)
            self.active_blocks += k
        return k
