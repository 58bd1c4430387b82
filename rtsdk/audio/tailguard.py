"""Residual echo the canceller lets through: held down below the echo's predicted level.

WebRTC's AEC3 removes 25-60 dB of echo while the reference plays steadily. Measured on the CI
echo room (RT60 250 ms, echo at the microphone about 10 dB under the reference, a mild soft
clip) it lets some 10 ms blocks through at only 0-15 dB down: the first 20-30 ms of echo after
a pause in the reference (its suppressor reacts late to a new onset), the reverberant tail once
the reference stops (it keeps suppressing for about the length of its linear filter, 60 ms,
while the room rings longer), and now and then a block mid-word. An energy VAD takes any of
them for the user: the assistant would interrupt itself.

:class:`TailGuard` runs after the canceller on 10 ms blocks and predicts the echo's level at
the microphone: the coupling of the room (the ratio of microphone to reference energy in
blocks the canceller found to be echo, i.e. took 10 dB or more out of, tracked as it goes)
times the loudest reference block of the last ``lead`` + 30 ms, older ones decaying as a room
with an RT60 of ``rt60`` s would (slower than the rooms it is for: the prediction errs towards
the echo); ``lead`` is measured, the time from a reference onset to the echo's arrival. While
the echo can be present (the reference played within ``lead`` + 300 ms), a block that comes
out of the canceller no louder than that prediction (+3 dB) is attenuated by ``depth_db``: it
can only be echo, or a voice no louder than the echo. A user talking louder than the echo at
the microphone passes untouched (the usual case: the user is nearer the microphone than the
speaker); a user quieter than the echo is lost while the assistant talks (the canceller alone
keeps little of such a voice too).

Warm-up: during the first ``warmup_ms`` of reference activity after a reset (the canceller has
not converged and the coupling is not known), every block in which the echo can be present is
held down, as half duplex would: a user cannot barge in during the first second of playback.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["TailGuard", "block_energies"]

_ACTIVE: Final = 1e-5  # reference block mean square counted as playing (-50 dBFS)
_QUIET_ONSET_BLOCKS: Final = 10  # an onset needs 100 ms of silence before it
_RISE: Final = 10.0  # the echo has arrived when the microphone rose 10 dB over the room
_HISTORY: Final = 64  # reference blocks remembered (640 ms)


def block_energies(
    block: int, *signals: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.float32], ...]:
    """Mean square of each whole ``block`` of each signal (the same length)."""
    nb = signals[0].size // block
    out = []
    for x in signals:
        xb = x[: nb * block].reshape(nb, block)
        out.append(np.einsum("ij,ij->i", xb, xb) / np.float32(block))
    return tuple(out)


class TailGuard:
    """Attenuates residual echo at onsets and in tails (see the module docstring)."""

    def __init__(
        self,
        block: int,
        *,
        rt60: float = 0.4,
        depth_db: float = 30.0,
        default_lead_ms: int = 150,
        warmup_ms: int = 1000,
    ) -> None:
        self.block = block
        self._ramp = np.linspace(0.0, 1.0, block, dtype=np.float32)
        self._rt60, self._depth = rt60, depth_db
        self._lead0, self._warm = default_lead_ms, warmup_ms
        self.decay = 10.0 ** (-6.0 * 0.01 / rt60)  # energy ratio per 10 ms block
        self.floor = 10.0 ** (-depth_db / 20.0)
        self.lead = default_lead_ms // 10  #: blocks from reference onset to echo arrival (+2)
        self.warmup = warmup_ms // 10
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

    def reset(self) -> None:
        """Forget the coupling, the lead and the warm-up."""
        self.__init__(  # type: ignore[misc]
            self.block,
            rt60=self._rt60,
            depth_db=self._depth,
            default_lead_ms=self._lead0,
            warmup_ms=self._warm,
        )

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
        me, re, oe = (e.tolist() for e in block_energies(self.block, mic, ref, out))
        self.guard(me, re, oe, out)

    def guard(
        self, me: list[float], re: list[float], oe: list[float], out: npt.NDArray[np.float32]
    ) -> None:
        """:meth:`process` with the per-block mean squares already computed."""
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
            y *= g0 + (gain - g0) * self._ramp
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
