"""The echo stage's per-10 ms-block work: the plain twin of ``rtsdk._kernels.echoblocks``.

Contract (both backends):

- ``TailGuard(block, *, rt60=0.4, depth_db=30.0, default_lead_ms=150, warmup_ms=1000)``: the
  residual-echo guard of :mod:`rtsdk.audio.tailguard` (what it does and why is said there).
  ``process(mic, ref, out)`` guards ``out`` (the canceller's output for ``mic``/``ref``) in
  place, whole blocks of ``block`` samples; the gain of each block is 1 or ``10**(-depth_db/20)``,
  ramped linearly over a block when it changes. Counters and state: ``guarded_blocks``,
  ``lead`` (blocks), ``lead_ms``, ``coupling``, ``block``, ``decay``, ``floor``, ``warmup``;
  ``reset()`` forgets all of it.
- ``EchoMeter(block, guard=None)``: ``measure(mic, ref, out)`` takes the mean square of every
  block of the three signals, adds the blocks in which the reference is audible (mean square
  over ``active``, 1e-6 by default) to the smoothed powers ``mic_power`` and ``out_power``
  (exponential smoothing per call, the newest call's mean weighing ``alpha``, 0.02 by default;
  the first such call sets them), runs ``guard`` (if any) over ``out`` with the same energies,
  and returns how many blocks were audible (also summed in ``active_blocks``). ``reset()``
  zeroes the powers and counters, and resets the guard.
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


def _check_block(block: object, who: str) -> int:
    if isinstance(block, bool) or not isinstance(block, int) or not 1 <= block <= 1 << 20:
        raise ValueError(f"{who}: block must be an int from 1 to 2**20 samples, got {block!r}")
    return block


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
        rt60: float = 0.4,
        depth_db: float = 30.0,
        default_lead_ms: int = 150,
        warmup_ms: int = 1000,
    ) -> None:
        self.block = _check_block(block, "TailGuard")
        if not (rt60 > 0.0 and rt60 < math.inf) or not (depth_db >= 0.0):
            raise ValueError(f"TailGuard: rt60 > 0 and depth_db >= 0, got {rt60!r}, {depth_db!r}")
        if not 20 <= default_lead_ms <= 600 or not warmup_ms >= 0:
            raise ValueError(
                "TailGuard: default_lead_ms from 20 to 600 and warmup_ms >= 0, got "
                f"{default_lead_ms!r}, {warmup_ms!r}"
            )
        self._ramp = np.linspace(0.0, 1.0, block, dtype=np.float32)
        self._rt60, self._depth = float(rt60), float(depth_db)
        self._lead0, self._warm = int(default_lead_ms), int(warmup_ms)
        self.reset()

    def reset(self) -> None:
        """Forget the coupling, the lead and the warm-up."""
        self.decay = 10.0 ** (-6.0 * 0.01 / self._rt60)  # energy ratio per 10 ms block
        self.floor = 10.0 ** (-self._depth / 20.0)
        self.lead = self._lead0 // 10  #: blocks from reference onset to echo arrival (+2)
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
        self._gain = 1.0
        self.guarded_blocks = 0  #: blocks attenuated

    @property
    def lead_ms(self) -> int:
        """The measured delay from a reference onset to its echo (plus 20 ms), in ms."""
        return self.lead * 10

    def process(
        self,
        mic: npt.NDArray[np.float32],
        ref: npt.NDArray[np.float32],
        out: npt.NDArray[np.float32],
    ) -> None:
        """Guard ``out`` (the canceller's output for ``mic``/``ref``, whole blocks) in place."""
        b = self.block
        mic, ref, out = _signals("TailGuard.process", b, mic, ref, out)
        self._guard(_energies(b, mic), _energies(b, ref), _energies(b, out), out)

    def _guard(
        self, me: list[float], re: list[float], oe: list[float], out: npt.NDArray[np.float32]
    ) -> None:
        b = self.block
        for i, (m, r, o) in enumerate(zip(me, re, oe, strict=True)):
            self._block(m, r, o, out[i * b : (i + 1) * b])

    def _make_weights(self) -> npt.NDArray[np.float64]:
        """Per history slot (oldest first): how much of that reference block's echo can be
        at the microphone now (none of the blocks younger than the lead less 50 ms: still in
        flight; all of it up to the lead and 30 ms; then the room's decay)."""
        age = np.arange(_HISTORY, 0, -1, dtype=np.float64)
        hold = self.lead + 3
        w = np.where(age > hold, self.decay ** np.maximum(age - hold, 0.0), 1.0)
        w[age < max(2, self.lead - 5)] = 0.0  # its echo has not arrived yet
        return w

    def _recent(self) -> npt.NDArray[np.float64]:
        p = self._pos + 1
        return self._refs[p : p + _HISTORY]

    def _push_ref(self, re: float) -> None:
        p = self._pos = (self._pos + 1) % _HISTORY
        self._refs[p] = self._refs[p + _HISTORY] = re

    def _predicted(self) -> float:
        """The echo energy expected at the microphone now, from the recent reference."""
        return self.coupling * float(np.max(self._recent() * self._weights))

    def _block(self, me: float, re: float, oe: float, y: npt.NDArray[np.float32]) -> None:
        k = self._k
        self._k += 1
        active = re > _ACTIVE
        if active:
            if self._quiet >= _QUIET_ONSET_BLOCKS:
                self._timing = k
            self._quiet = 0
            self._since_active = 0
            self._active_blocks += 1
        else:
            self._quiet += 1
            self._since_active += 1
            if self._since_active > self.lead + 30:
                room = self._room
                self._room = me if room is None else room + 0.1 * (me - room)
        self._time_the_lead(k, me)
        self._push_ref(re)
        self._learn_coupling(me, oe)
        gain = 1.0
        in_reach = self._since_active <= self.lead + 30
        if self._active_blocks <= self.warmup and in_reach:
            gain = self.floor  # not converged: the microphone is held down near the echo
        elif in_reach and oe <= self._predicted():
            gain = self.floor
        if gain != 1.0:
            self.guarded_blocks += 1
        g0 = self._gain
        if gain != g0:  # a ramp over the block, no click
            y *= np.float32(g0) + np.float32(gain - g0) * self._ramp
        elif gain != 1.0:
            y *= np.float32(gain)
        self._gain = gain

    def _learn_coupling(self, me: float, oe: float) -> None:
        """Blocks the canceller took 10 dB or more out of are echo: their ratio to the
        reference that caused them is the room's coupling."""
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
            lead = max(2, sorted(leads)[len(leads) // 2] + 2)
            if lead != self.lead:
                self.lead = lead
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
        self.active_blocks = 0  #: blocks measured while the reference was audible

    def reset(self) -> None:
        """Zero the powers and the count; reset the guard."""
        self.mic_power = self.out_power = 0.0
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
        m = o = 0.0
        k = 0
        for i, rv in enumerate(re):
            if rv > self.active:
                m += me[i]
                o += oe[i]
                k += 1
        if k:
            a = self.alpha if self.mic_power > 0.0 else 1.0
            self.mic_power += a * (m / k - self.mic_power)
            self.out_power += a * (o / k - self.out_power)
            self.active_blocks += k
        if self.guard is not None:
            self.guard._guard(me, re, oe, out)
        return k
