"""Residual echo the canceller lets through: held down unless the microphone shows the user.

WebRTC's AEC3 removes 25-60 dB of echo while the reference plays steadily. Measured on the CI
echo room (RT60 250 ms, echo at the microphone about 10 dB under the reference, a mild soft
clip; more often in louder rooms) it lets some 10 ms blocks through at only 0-15 dB down: the
first 20-30 ms of echo after a pause in the reference (its suppressor reacts late to a new
onset), the reverberant tail once the reference stops (it keeps suppressing for about the
length of its linear filter, 60 ms, while the room rings longer), and now and then a block
mid-word. An energy VAD takes any of
them for the user: the assistant would interrupt itself.

:class:`TailGuard` runs after the canceller on 10 ms blocks and predicts the echo at the
microphone: the coupling of the room (the ratio of microphone to reference energy in blocks the
canceller found to be echo, i.e. took 10 dB or more out of, tracked as it goes, broadband and in
16 bands from 100 Hz to 8 kHz) times the loudest reference block old enough to be heard (from
the earliest recent arrival less 50 ms on; up to the latest plus 30 ms whole, older ones
decaying as a room with an RT60 of ``rt60`` s: 0.7 s, slower than the rooms it is for, so the
prediction errs towards the echo). The arrival is measured, the time from a reference onset to
the echo's arrival; ``lead`` is the median of the last nine, ``lead_lo`` and ``lead_hi`` the
earliest and latest of them within 50 ms of it (a sound server's timestamps move the arrival by
a quantum or two from reply to reply: 90-130 ms on the CI room around a median of 100-110).
While the echo can be present (the reference played within ``lead`` + 300 ms), every block is
attenuated by ``depth_db`` unless the *microphone* shows the user:

- broadband: the microphone is louder than the predicted echo and the room's noise by 3 dB or
  more (the user adds at least as much as the echo could), or
- per band, while fresh echo arrives (the reference played in the last 30 ms): 15 % or more of
  the microphone's band energy lies 3 dB or more over the echo and noise predicted for its band
  (each band's prediction at least a tenth of the loudest band's: a clipping speaker spreads its
  echo into bands its reference left empty). The echo of a small speaker in a room has the
  reference's spectrum through the room's response; a voice at the same level fills other bands.

Two such blocks in a row let the user through, and the guard stays open while the evidence
lasts; the first 80 ms of echo after a pause in the reference (an onset the canceller leaks
most), from the earliest recent arrival to the latest plus 60 ms, stay held whatever the
evidence (to the latest plus 30 ms until 2026-12-08: in the boomy loud room an echo that built
up slowly was 3 dB over its prediction 40-60 ms after the latest arrival while AEC3 leaked it,
and the reply interrupted itself; no barge-in of the recorded sessions was later for the
longer hold). Covering the spread, not only the median, matters: an echo onset that arrives 30 ms
early can carry a spectrum the band test takes for the user (measured: the CI room interrupted
itself in 6 of 28 ten-reply runs with the median alone, in none of 20 since). The evidence is
taken from the microphone, not from the canceller's output: AEC3's own suppressor attenuates a
user talking over the echo (by 10-30 dB in its first 100-300 ms), and in tails its output can
even be louder than the microphone. Measured on numpy rooms whose echo at the microphone is
within 3 dB of the output (``tests/test_audio_echo_loud.py``) and on the CI's loud rooms
(``tests/test_audio_echo_hard_room.py``); see ``docs/echo-cancellation.md``.

A user the canceller holds down: in loud rooms AEC3's suppressor can keep a user talking over
the reply 40-50 dB down for their first 300-400 ms although the microphone shows them 6-10 dB
over the echo; the guard then has nothing to let through. When the microphone is 4.4 dB or more
over the predicted echo and noise for 4 blocks in a row (strong evidence: on the recorded loud
rooms and the numpy ones, echo alone reached it for at most 2 blocks in a row) and the
canceller took 20 dB or more out of the block, the guard sends the microphone itself, scaled by
``sqrt(1 - (echo + noise) / mic)`` (the user's share of its energy), until either stops: the
echo goes up with the user, 4.4 dB or more under them. Strong evidence counts only once the
echo's arrival was timed (the prediction's timing measured, not assumed) and from 40 ms after
the onset hold (a reply's first syllables through a clipping speaker can be louder than the
coupling its loud ones taught); while it holds, the coupling is not learnt (the canceller took
10 dB or more out of the user too, and the coupling would learn the user as echo).

Warm-up: during the first ``warmup_ms`` of reference activity after a reset (the canceller has
not converged and the coupling is not known), every block in which the echo can be present is
held down, as half duplex would: a user cannot barge in during the first second of playback.

The guard runs per 10 ms block on every capture frame, so it is a kernel
(:class:`rtsdk.kernels.TailGuard`: compiled, or its plain twin in
:mod:`rtsdk._reference.echoblocks` under ``RTSDK_NO_EXTENSIONS=1``), re-exported here; the
echo canceller runs it through :class:`rtsdk.kernels.EchoMeter` with the block energies it has
already computed for its ERLE estimate.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rtsdk.kernels import TailGuard

__all__ = ["TailGuard", "block_energies"]


def block_energies(
    block: int, *signals: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.float64], ...]:
    """Mean square of each whole ``block`` of each signal (the same length), in double precision
    as the guard computes them."""
    nb = signals[0].size // block
    out = []
    for x in signals:
        xb = x[: nb * block].reshape(nb, block).astype(np.float64)
        out.append(np.einsum("ij,ij->i", xb, xb) / block)
    return tuple(out)
