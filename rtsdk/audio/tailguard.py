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
from collections import deque
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["TailGuard"]

_ACTIVE: Final = 1e-5  # reference block mean square counted as playing (-50 dBFS)
_QUIET_ONSET_BLOCKS: Final = 10  # an onset needs 100 ms of silence before it
_RISE: Final = 10.0  # the echo has arrived when the microphone rose 10 dB over the room
_HISTORY: Final = 64  # reference blocks remembered (640 ms)


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
        self._rt60, self._depth = rt60, depth_db
        self._lead0, self._warm = default_lead_ms, warmup_ms
        self.decay = 10.0 ** (-6.0 * 0.01 / rt60)  # energy ratio per 10 ms block
        self.floor = 10.0 ** (-depth_db / 20.0)
        self.lead = default_lead_ms // 10  #: blocks from reference onset to echo arrival (+2)
        self.warmup = warmup_ms // 10
        self.coupling = 1.0  #: echo / reference energy at the microphone (0 dB until measured)
        self._refs: deque[float] = deque([0.0] * _HISTORY, maxlen=_HISTORY)
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
        b = self.block
        nb = mic.size // b
        if nb == 0:
            return
        mb = mic[: nb * b].reshape(nb, b)
        rb = ref[: nb * b].reshape(nb, b)
        ob = out[: nb * b].reshape(nb, b)
        me = np.einsum("ij,ij->i", mb, mb) / b
        re = np.einsum("ij,ij->i", rb, rb) / b
        oe = np.einsum("ij,ij->i", ob, ob) / b
        for i in range(nb):
            self._block(float(me[i]), float(re[i]), float(oe[i]), ob[i])

    def _predicted(self) -> float:
        """The echo energy expected at the microphone now, from the recent reference."""
        lead, decay = self.lead + 3, self.decay
        best = 0.0
        for age, r in enumerate(reversed(self._refs), start=1):
            if age < 2:
                continue
            if age > lead:
                r *= decay ** (age - lead)
            if r > best:
                best = r
        return self.coupling * best

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
        self._refs.append(re)
        self._learn_coupling(me, oe)
        gain = 1.0
        in_reach = self._since_active <= self.lead + 30
        if self._active_blocks <= self.warmup and in_reach:
            gain = self.floor  # not converged: the microphone is held down near the echo
        elif in_reach and oe <= 2.0 * self._predicted():
            gain = self.floor
        if gain != 1.0:
            self.guarded_blocks += 1
        if gain != 1.0 or self._gain != 1.0:
            y *= np.linspace(self._gain, gain, y.size, dtype=np.float32)
        self._gain = gain

    def _learn_coupling(self, me: float, oe: float) -> None:
        """Blocks the canceller took 10 dB or more out of are echo: their ratio to the
        reference that caused them is the room's coupling."""
        if oe * 10.0 > me:
            return
        lo = max(2, self.lead - 3)
        refs = self._refs
        n = len(refs)
        r = max(refs[n - a] for a in range(lo, min(n, self.lead + 1) + 1))
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
            self.lead = max(2, sorted(leads)[len(leads) // 2] + 2)
            self._timing = None

    def __repr__(self) -> str:
        c = 10 * math.log10(self.coupling)
        return f"<TailGuard lead={self.lead_ms} ms coupling={c:.1f} dB>"
