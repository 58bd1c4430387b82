"""The echo stage's per-10 ms-block work: the plain twin of ``rtsdk._kernels.echoblocks``.

Contract (both backends):

- ``TailGuard(block, *, rate=None, rt60=0.7, depth_db=30.0, default_lead_ms=150,
  warmup_ms=1000)``: the residual-echo guard of :mod:`rtsdk.audio.tailguard` (what it does and
  why is said there); ``rate`` (Hz, ``100 * block`` when None) places its frequency bands.
  ``process(mic, ref, out)`` guards ``out`` (the canceller's output for ``mic``/``ref``) in
  place, whole blocks of ``block`` samples; the gain of each block is 1 or ``10**(-depth_db/20)``,
  or (a user the canceller held down) the block is ``mic`` times ``sqrt(1 - echo / mic)``
  (energies) instead, each ramped linearly over a block when it changes. Counters and state:
  ``guarded_blocks``, ``user_blocks`` (blocks let through on the user's evidence while echo
  could be present), ``mic_blocks`` (of those, blocks sent from ``mic``),
  ``lead`` (blocks), ``lead_ms``, ``lead_lo`` and ``lead_hi`` (the earliest and latest recent
  arrivals, blocks), ``coupling``, ``band_coupling()`` (per band), ``bands``,
  ``fft_size``, ``block``, ``rate``, ``decay``, ``floor``, ``warmup``; ``reset()`` forgets all
  of it.
- The band analysis: each block of ``mic`` and ``ref``, Hann-windowed (``w[i] = 0.5 - 0.5
  cos(2 pi (i + 1) / (block + 1))``) and zero-padded to ``fft_size`` (the power of two at or
  above ``block``, at least 4), is transformed; the power of the bins from 100 Hz up to
  ``min(8000, 0.45 * rate)`` Hz is summed into ``bands`` (16) bands of equal width on a
  logarithmic scale (bin ``j`` at ``j * rate / fft_size`` Hz belongs to band
  ``floor(16 * log(f / 100) / log(top / 100))``).
- ``EchoMeter(block, guard=None)``: ``measure(mic, ref, out)`` takes the mean square of every
  block of the three signals, adds the blocks in which the reference is audible (mean square
  over ``active``, 1e-6 by default) to the smoothed powers ``mic_power`` and ``out_power``
  (exponential smoothing per call, the newest call's mean weighing ``alpha``, 0.02 by default;
  the first such call sets them), runs ``guard`` (if any) over ``out`` with the same energies,
  adds the same blocks of ``out`` as guarded to ``stage_power`` (smoothed alike: what leaves
  the whole stage; equal to ``out_power`` without a guard), and returns how many blocks were
  audible (also summed in ``active_blocks``). ``reset()`` zeroes the powers and counters, and
  resets the guard.
- Both compute the block energies in double precision and process any number of whole blocks
  per call: a signal cut into calls anywhere on block boundaries gives the same result as one
  call. ``mic``, ``ref`` and ``out`` are 1-D C-contiguous float32 arrays of one length, a
  multiple of ``block`` (``out`` writable); anything else raises
  :class:`~rtsdk.exceptions.AudioFormatError` naming what was wrong, before anything changes.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from rtsdk.exceptions import AudioFormatError

__all__ = ["EchoMeter", "TailGuard"]

_F32: Final = np.dtype(np.float32)
_ACTIVE: Final = 1e-5  # reference block mean square counted as playing by the guard (-50 dBFS)
_QUIET_ONSET_BLOCKS: Final = 10  # an onset needs 100 ms of silence before it
_RISE: Final = 10.0  # the echo has arrived when the microphone rose 10 dB over the room
_HISTORY: Final = 64  # reference blocks remembered (640 ms)
_BANDS: Final = 16  # frequency bands of the user's evidence
_BAND_LO: Final = 100.0  # Hz, the lowest band's lower edge
_BAND_HI: Final = 8000.0  # Hz, the highest band's upper edge (at most 0.45 * rate)
_MARGIN: Final = 2.0  # the user must add as much as the predicted echo (3 dB over it)
_BROAD_MARGIN: Final = 2.0  # broadband, the user must add as much as the predicted echo (3 dB)
_USER_SHARE: Final = 0.15  # of the microphone's band energy above the echo (and noise) it predicts
_SPREAD: Final = 0.1  # of the loudest band's predicted echo, expected in every band (-10 dB)
_FRESH: Final = 3  # blocks: the band test runs while the reference played this recently
_SPAN: Final = 5  # blocks: arrivals this far from the median count in the spread, not beyond
_STRONG: Final = 2.75  # broadband, the microphone 4.4 dB over the predicted echo and noise
_STRONG_BLOCKS: Final = 4  # that many blocks in a row, before the microphone is sent
_HOLD_END: Final = 6  # blocks: the onset hold lasts from the earliest arrival to the latest + 60 ms
_STRONG_AFTER: Final = 10  # blocks: strong evidence counts from the latest arrival + 100 ms on
_SUPPRESSED: Final = 100.0  # the canceller took 20 dB or more out of such a block


def _check_block(block: object, who: str) -> int:
    if isinstance(block, bool) or not isinstance(block, int) or not 1 <= block <= 1 << 20:
        raise ValueError(f"{who}: block must be an int from 1 to 2**20 samples, got {block!r}")
    return block


def _check_rate(rate: object, block: int) -> int:
    if rate is None:
        return 100 * block
    if isinstance(rate, bool) or not isinstance(rate, int) or not 100 <= rate <= 1_000_000:
        raise ValueError(
            f"TailGuard: rate must be None or an int from 100 to 10**6 Hz, got {rate!r}"
        )
    return rate


def _band_plan(block: int, rate: int) -> tuple[int, npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """``(fft_size, window, band of each bin or -1)`` (see the module docstring)."""
    n = 4
    while n < block:
        n *= 2
    i = np.arange(block, dtype=np.float64)
    win = 0.5 - 0.5 * np.cos(2.0 * math.pi * (i + 1.0) / (block + 1.0))
    top = min(_BAND_HI, 0.45 * rate)
    band = np.full(n // 2 + 1, -1, dtype=np.int64)
    if top > _BAND_LO:
        scale = _BANDS / math.log(top / _BAND_LO)
        for j in range(1, n // 2 + 1):
            f = j * rate / n
            if _BAND_LO <= f < top:
                band[j] = min(_BANDS - 1, int(math.log(f / _BAND_LO) * scale))
    return n, win, band


def _signals(
    who: str, block: int, mic: object, ref: object, out: object
) -> tuple[npt.NDArray[np.float32], ...]:
    """The three arrays once checked (see the module docstring)."""
    arrays = []
    for name, x in (("mic", mic), ("ref", ref), ("out", out)):
        if not isinstance(x, np.ndarray):
            raise AudioFormatError(f"{who}: {name} must be a numpy float32 array, got {type(x)}")
        if x.dtype != _F32 or x.ndim != 1 or not x.flags.c_contiguous:
            raise AudioFormatError(
                f"{who}: {name} must be 1-D C-contiguous float32, got {x.dtype} {x.shape}"
            )
        arrays.append(x)
    n = arrays[0].size
    if arrays[1].size != n or arrays[2].size != n or n % block:
        raise AudioFormatError(
            f"{who}: mic, ref and out need one length, a multiple of {block} samples; got "
            f"{n}, {arrays[1].size} and {arrays[2].size}"
        )
    if not arrays[2].flags.writeable:
        raise AudioFormatError(f"{who}: out must be writable")
    return tuple(arrays)


def _energies(block: int, x: npt.NDArray[np.float32]) -> list[float]:
    xb = x.reshape(-1, block).astype(np.float64)
    e: list[float] = (np.einsum("ij,ij->i", xb, xb) / block).tolist()
    return e


class TailGuard:
    """Attenuates residual echo at onsets and in tails (see :mod:`rtsdk.audio.tailguard`)."""

    def __init__(
        self,
        block: int,
        *,
        rate: int | None = None,
        rt60: float = 0.7,
        depth_db: float = 30.0,
        default_lead_ms: int = 150,
        warmup_ms: int = 1000,
    ) -> None:
        self.block = _check_block(block, "TailGuard")
        self.rate = _check_rate(rate, block)
        if not (rt60 > 0.0 and rt60 < math.inf) or not (depth_db >= 0.0):
            raise ValueError(f"TailGuard: rt60 > 0 and depth_db >= 0, got {rt60!r}, {depth_db!r}")
        if not 20 <= default_lead_ms <= 600 or not warmup_ms >= 0:
            raise ValueError(
                "TailGuard: default_lead_ms from 20 to 600 and warmup_ms >= 0, got "
                f"{default_lead_ms!r}, {warmup_ms!r}"
            )
        self._ramp = np.linspace(0.0, 1.0, block, dtype=np.float32)
        self.bands = _BANDS
        self.fft_size, self._win, self._band_of_bin = _band_plan(block, self.rate)
        self._bins = np.flatnonzero(self._band_of_bin >= 0)  # the bins in a band, in order
        self._bins_band = self._band_of_bin[self._bins]
        self._rt60, self._depth = float(rt60), float(depth_db)
        self._lead0, self._warm = int(default_lead_ms), int(warmup_ms)
        self.reset()

    def reset(self) -> None:
        """Forget the coupling, the lead and the warm-up."""
        self.decay = 10.0 ** (-6.0 * 0.01 / self._rt60)  # energy ratio per 10 ms block
        self.floor = 10.0 ** (-self._depth / 20.0)
        self.lead = self._lead0 // 10  #: blocks from reference onset to echo arrival (+2)
        # the earliest and latest recent arrivals near the lead (+2): the timestamps of a sound
        # server jitter by a quantum or two, and the guard must cover every arrival it may see
        self.lead_lo = self.lead_hi = self.lead
        self.warmup = self._warm // 10
        self.coupling = 1.0  #: echo / reference energy at the microphone (0 dB until measured)
        # reference block energies, each stored twice so that the last _HISTORY of them are
        # always one slice, oldest first: _refs[_pos + 1 : _pos + 1 + _HISTORY]
        self._refs = np.zeros(2 * _HISTORY, dtype=np.float64)
        self._pos = _HISTORY - 1
        self._weights = self._make_weights()
        self._since_active = 1 << 30  # blocks since the reference was last active
        self._quiet = 1 << 30  # consecutive inactive reference blocks
        self._timing: int | None = None  # that onset, while its echo's arrival is awaited
        self._room: float | None = None  # the microphone's level with no echo (smoothed)
        self._leads: list[int] = []
        self._active_blocks = 0
        self._k = 0
        self._gain = 1.0  # the last block's weight of the canceller's output
        self._mic_gain = 0.0  # and of the microphone
        self.guarded_blocks = 0  #: blocks attenuated
        self.user_blocks = 0  #: blocks let through on the user's evidence, echo in reach
        self.mic_blocks = 0  #: of those, blocks sent from the microphone (canceller suppressed)
        # per band: reference energies (stored twice, as _refs), coupling, the room's noise
        self._band_refs = np.zeros((2 * _HISTORY, _BANDS), dtype=np.float64)
        self._band_coupling = np.ones(_BANDS, dtype=np.float64)
        self._band_noise = np.zeros(_BANDS, dtype=np.float64)
        self._evidence = 0  # consecutive blocks with the user's evidence
        self._strong = 0  # consecutive blocks with the microphone well over echo and noise
        self._passing = False  # the last block was let through on that evidence
        self._onset = -(1 << 30)  # the block of the last reference onset after a pause
        self._last_mb = np.zeros(_BANDS, dtype=np.float64)  # the last block's band energies

    @property
    def lead_ms(self) -> int:
        """The measured delay from a reference onset to its echo (plus 20 ms), in ms."""
        return self.lead * 10

    def band_coupling(self) -> npt.NDArray[np.float64]:
        """The echo / reference energy ratio learnt per band (1.0 where not learnt yet)."""
        return np.array(self._band_coupling, dtype=np.float64)

    def process(
        self,
        mic: npt.NDArray[np.float32],
        ref: npt.NDArray[np.float32],
        out: npt.NDArray[np.float32],
    ) -> None:
        """Guard ``out`` (the canceller's output for ``mic``/``ref``, whole blocks) in place."""
        b = self.block
        mic, ref, out = _signals("TailGuard.process", b, mic, ref, out)
        self._guard(_energies(b, mic), _energies(b, ref), _energies(b, out), out, mic, ref)

    def _guard(
        self,
        me: list[float],
        re: list[float],
        oe: list[float],
        out: npt.NDArray[np.float32],
        mic: npt.NDArray[np.float32],
        ref: npt.NDArray[np.float32],
    ) -> None:
        b = self.block
        for i, (m, r, o) in enumerate(zip(me, re, oe, strict=True)):
            s = slice(i * b, (i + 1) * b)
            self._block(m, r, o, out[s], mic[s], ref[s])

    def _band_energies(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        spec = np.fft.rfft(x.astype(np.float64) * self._win, self.fft_size)
        power = spec.real * spec.real + spec.imag * spec.imag
        # summed in bin order, as the kernel (bincount adds in the order given)
        return np.bincount(self._bins_band, power[self._bins], minlength=_BANDS).astype(np.float64)

    def _make_weights(self) -> npt.NDArray[np.float64]:
        """Per history slot (oldest first): how much of that reference block's echo can be
        at the microphone now (none of the blocks younger than the earliest arrival less 50
        ms: still in flight; all of it up to the latest arrival and 30 ms; then the room's
        decay)."""
        age = np.arange(_HISTORY, 0, -1, dtype=np.float64)
        hold = self.lead_hi + 3
        w = np.where(age > hold, self.decay ** np.maximum(age - hold, 0.0), 1.0)
        w[age < max(2, self.lead_lo - 5)] = 0.0  # its echo has not arrived yet
        return w

    def _recent(self) -> npt.NDArray[np.float64]:
        p = self._pos + 1
        return self._refs[p : p + _HISTORY]

    def _push_ref(self, re: float, bands: npt.NDArray[np.float64]) -> None:
        p = self._pos = (self._pos + 1) % _HISTORY
        self._refs[p] = self._refs[p + _HISTORY] = re
        self._band_refs[p] = self._band_refs[p + _HISTORY] = bands

    def _predicted(self) -> float:
        """The echo energy expected at the microphone now, from the recent reference."""
        return self.coupling * float(np.max(self._recent() * self._weights))

    def _band_share(self, mb: npt.NDArray[np.float64], last: npt.NDArray[np.float64]) -> float:
        """The share of the microphone's band energy over what the echo (per band, from the
        recent reference) and the room's noise could give: the user's voice."""
        p = self._pos + 1
        recent = self._band_refs[p : p + _HISTORY]  # oldest first
        heard = np.max(recent * self._weights[:, None], axis=0, initial=0.0)  # per band
        echo = self._band_coupling * heard
        # a clipping speaker spreads its echo into bands its reference left empty
        echo = np.maximum(echo, _SPREAD * float(np.max(echo)))
        mb = 0.5 * (mb + last)  # over 20 ms (this block and the last): a steadier estimate
        over = np.maximum(mb - _MARGIN * (echo + _MARGIN * self._band_noise), 0.0)
        total = part = 0.0
        for m, o in zip(mb.tolist(), over.tolist(), strict=True):  # in band order, as the kernel
            total += m
            part += o
        return part / total if total > 0.0 else 0.0

    def _block(
        self,
        me: float,
        re: float,
        oe: float,
        y: npt.NDArray[np.float32],
        mic: npt.NDArray[np.float32],
        ref: npt.NDArray[np.float32],
    ) -> None:
        k = self._k
        self._k += 1
        mb = self._band_energies(mic)
        active = re > _ACTIVE
        if active:
            if self._quiet >= _QUIET_ONSET_BLOCKS:
                self._timing = k
                self._onset = k
            self._quiet = 0
            self._since_active = 0
            self._active_blocks += 1
        else:
            self._quiet += 1
            self._since_active += 1
            if self._since_active > self.lead + 30:
                room = self._room
                if room is None:
                    self._room = me
                    self._band_noise = mb.copy()
                else:
                    self._room = room + 0.1 * (me - room)
                    self._band_noise += 0.1 * (mb - self._band_noise)
        self._time_the_lead(k, me)
        # silence (nothing playing): its bands are zeros, no transform needed
        self._push_ref(re, np.zeros(_BANDS) if re == 0.0 else self._band_energies(ref))
        if not self._strong:  # not while the microphone is well over the echo: the user, whom
            self._learn_coupling(me, oe, mb)  # the canceller may have taken 10 dB out of too
        gain = 1.0
        mic_gain = 0.0
        last_mb, self._last_mb = self._last_mb, mb
        in_reach = self._since_active <= self.lead + 30
        if in_reach:
            # the user's evidence, in the microphone: louder than the echo and noise it can
            # hold, or (while fresh echo arrives) a spectrum the echo cannot explain
            room = self._room if self._room is not None else 0.0
            pred = self._predicted()
            user = me > _BROAD_MARGIN * (pred + room) or (
                self._since_active <= _FRESH and self._band_share(mb, last_mb) > _USER_SHARE
            )
            self._evidence = self._evidence + 1 if user else 0
            # strong evidence: well over the echo and noise, the echo's arrival timed (measured,
            # not assumed: the prediction is trusted that far only then), 40 ms past the onset
            # hold (an early echo can be louder than a prediction that waits for it, and a
            # clipping speaker's first syllables louder than the coupling its loud ones taught)
            strong = (
                bool(self._leads)
                and k - self._onset > self.lead_hi + _STRONG_AFTER
                and me > _STRONG * (pred + room)
            )
            self._strong = self._strong + 1 if strong else 0
            if self._active_blocks <= self.warmup:
                gain = self.floor  # not converged: the microphone is held down near the echo
            elif self.lead_lo - 3 <= k - self._onset <= self.lead_hi + _HOLD_END:
                gain = self.floor  # an echo's first 80 ms after a pause: the canceller leaks
            elif user and (self._evidence >= 2 or self._passing):
                self.user_blocks += 1  # twice in a row, or going on: the user, let through
                if self._strong >= _STRONG_BLOCKS and oe * _SUPPRESSED < me:
                    # the user well over the echo for 40 ms, yet the canceller's suppressor
                    # holds them down: the microphone is sent instead, less the echo's share
                    gain = 0.0
                    mic_gain = math.sqrt(1.0 - (pred + room) / me)
                    self.mic_blocks += 1
            else:
                gain = self.floor
            self._passing = gain == 1.0 or mic_gain != 0.0
        else:
            self._evidence = 0
            self._strong = 0
            self._passing = False
        if gain != 1.0 and mic_gain == 0.0:
            self.guarded_blocks += 1
        g0, m0 = self._gain, self._mic_gain
        if m0 != 0.0 or mic_gain != 0.0:  # the microphone in the mix: a ramp over the block
            a = np.float32(g0) + np.float32(gain - g0) * self._ramp
            c = np.float32(m0) + np.float32(mic_gain - m0) * self._ramp
            y[:] = y * a + mic * c
        elif gain != g0:  # a ramp over the block, no click
            y *= np.float32(g0) + np.float32(gain - g0) * self._ramp
        elif gain != 1.0:
            y *= np.float32(gain)
        self._gain, self._mic_gain = gain, mic_gain

    def _learn_coupling(self, me: float, oe: float, mb: npt.NDArray[np.float64]) -> None:
        """Blocks the canceller took 10 dB or more out of are echo: their ratio to the
        reference that caused them is the room's coupling (broadband, and per band where the
        reference had energy)."""
        if oe * 10.0 > me:
            return
        lo = max(2, self.lead - 3)
        hi = min(_HISTORY, self.lead + 1)
        recent = self._recent()  # oldest first: age a is recent[_HISTORY - a]
        r = float(np.max(recent[_HISTORY - hi : _HISTORY - lo + 1]))
        if r <= _ACTIVE:
            return
        log_c = math.log(self.coupling)
        self.coupling = math.exp(log_c + 0.1 * (math.log(me / r) - log_c))
        p = self._pos + 1
        window = self._band_refs[p : p + _HISTORY][_HISTORY - hi : _HISTORY - lo + 1]
        rb = np.max(window, axis=0)
        least = 1e-6 * float(np.max(rb))
        c = self._band_coupling
        for i in range(_BANDS):
            if rb[i] > least and rb[i] > 0.0:
                log_c = math.log(c[i])
                c[i] = math.exp(log_c + 0.1 * (math.log(max(mb[i], 1e-30) / rb[i]) - log_c))

    def _time_the_lead(self, k: int, me: float) -> None:
        at = self._timing
        if at is None or self._room is None:
            return
        if k - at > 40:
            self._timing = None
            return
        if me > 10.0 ** (_RISE / 10.0) * max(self._room, 1e-10):
            leads = self._leads
            leads.append(k - at)
            del leads[:-9]
            srt = sorted(leads)
            med = srt[len(srt) // 2]
            near = [v for v in srt if med - _SPAN <= v <= med + _SPAN]  # an outlier: the user
            lead, lo, hi = max(2, med + 2), max(2, near[0] + 2), max(2, near[-1] + 2)
            if (lead, lo, hi) != (self.lead, self.lead_lo, self.lead_hi):
                self.lead, self.lead_lo, self.lead_hi = lead, lo, hi
                self._weights = self._make_weights()
            self._timing = None

    def __repr__(self) -> str:
        c = 10 * math.log10(self.coupling)
        return f"<TailGuard lead={self.lead_ms} ms coupling={c:.1f} dB>"


class EchoMeter:
    """Block energies, the smoothed ERLE powers and the tail guard in one call per frame."""

    def __init__(
        self,
        block: int,
        guard: TailGuard | None = None,
        *,
        active: float = 1e-6,
        alpha: float = 0.02,
    ) -> None:
        self.block = _check_block(block, "EchoMeter")
        if guard is not None and not isinstance(guard, TailGuard):
            raise TypeError(f"EchoMeter: guard must be a TailGuard or None, got {type(guard)}")
        if guard is not None and guard.block != block:
            raise ValueError(f"EchoMeter: the guard's block is {guard.block}, not {block}")
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"EchoMeter: alpha must be in (0, 1], got {alpha!r}")
        self.guard = guard
        self.active = float(active)
        self.alpha = float(alpha)
        self.mic_power = 0.0  #: smoothed microphone power in audible-reference blocks
        self.out_power = 0.0  #: the same of the canceller's output
        self.stage_power = 0.0  #: the same after the guard: what leaves the stage
        self.active_blocks = 0  #: blocks measured while the reference was audible

    def reset(self) -> None:
        """Zero the powers and the count; reset the guard."""
        self.mic_power = self.out_power = self.stage_power = 0.0
        self.active_blocks = 0
        if self.guard is not None:
            self.guard.reset()

    def measure(
        self,
        mic: npt.NDArray[np.float32],
        ref: npt.NDArray[np.float32],
        out: npt.NDArray[np.float32],
    ) -> int:
        """Measure one call's blocks, guard ``out`` in place; the number of audible blocks."""
        b = self.block
        mic, ref, out = _signals("EchoMeter.measure", b, mic, ref, out)
        me, re, oe = _energies(b, mic), _energies(b, ref), _energies(b, out)
        audible = [i for i, rv in enumerate(re) if rv > self.active]
        if self.guard is not None:
            self.guard._guard(me, re, oe, out, mic, ref)
            ge = _energies(b, out)
        else:
            ge = oe
        k = len(audible)
        if k:
            m = o = g = 0.0
            for i in audible:
                m += me[i]
                o += oe[i]
                g += ge[i]
            a = self.alpha if self.mic_power > 0.0 else 1.0
            self.mic_power += a * (m / k - self.mic_power)
            self.out_power += a * (o / k - self.out_power)
            self.stage_power += a * (g / k - self.stage_power)
            self.active_blocks += k
        return k
