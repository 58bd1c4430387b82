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
