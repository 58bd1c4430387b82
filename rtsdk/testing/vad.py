"""Energy-based voice activity detection for the local server's ``server_vad``.

The caller's audio is cut into 10 ms blocks; a block is *voiced* when its RMS level reaches the
threshold level. ``threshold`` (0..1, as in the session) maps linearly onto a level in dBFS:
``-70 + 60 * threshold`` (0.5 -> -40 dBFS; 1.0 -> -10 dBFS), so a higher threshold needs
louder speech, as with the real service. Speech starts at the first voiced block
(``audio_start_ms`` moved back by ``prefix_padding_ms``) and stops once ``silence_duration_ms``
of unvoiced audio follows the last voiced block (``audio_end_ms`` = the end of that block).
All times are milliseconds of audio since the first byte appended in the session.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["EnergyVad", "threshold_dbfs"]

_BLOCK_MS = 10


def threshold_dbfs(threshold: float) -> float:
    """The RMS level (dBFS) a 10 ms block needs to count as speech."""
    return -70.0 + 60.0 * min(1.0, max(0.0, threshold))


class EnergyVad:
    """Streaming energy VAD over PCM16 samples at one rate.

    :meth:`process` takes any number of samples and returns the transitions it found, as
    ``("started", audio_start_ms)`` / ``("stopped", audio_end_ms)`` pairs in order.
    """

    __slots__ = (
        "_block",
        "_carry",
        "_limit",
        "_origin_ms",
        "_prefix_ms",
        "_rate",
        "_silence_ms",
        "_voiced_end",
        "blocks",
        "in_speech",
        "speech_start_ms",
    )

    def __init__(
        self,
        rate: int,
        *,
        threshold: float = 0.5,
        prefix_padding_ms: int = 300,
        silence_duration_ms: int = 500,
        origin_ms: float = 0.0,
    ) -> None:
        self._rate = rate
        self._block = rate * _BLOCK_MS // 1000
        level = 10.0 ** (threshold_dbfs(threshold) / 10.0)  # mean square / full scale^2
        self._limit = level * 32768.0 * 32768.0 * self._block  # on the block's sum of squares
        self._prefix_ms = prefix_padding_ms
        self._silence_ms = silence_duration_ms
        self._origin_ms = origin_ms
        self._carry: npt.NDArray[np.float32] = np.zeros(0, np.float32)
        self._voiced_end = 0.0
        self.blocks = 0
        self.in_speech = False
        self.speech_start_ms = 0.0

    @property
    def position_ms(self) -> float:
        """Audio time (ms since the session's first audio) of the samples processed so far."""
        return self._origin_ms + (self.blocks * self._block + self._carry.size) * 1000 / self._rate

    def reset(self) -> None:
        """Forget any speech in progress (after a commit or a clear); time keeps running."""
        self.in_speech = False

    def process(self, pcm: npt.NDArray[np.int16]) -> list[tuple[str, float]]:
        """Feed samples; return the ``("started"|"stopped", ms)`` transitions they caused."""
        x = pcm.astype(np.float32)
        if self._carry.size:
            x = np.concatenate((self._carry, x))
        block = self._block
        n = x.size // block
        if n == 0:
            self._carry = x
            return []
        frames = x[: n * block].reshape(n, block)
        self._carry = x[n * block :].copy()
        voiced = np.einsum("ij,ij->i", frames, frames) >= self._limit
        first = self.blocks
        self.blocks += n
        if not self.in_speech and not voiced.any():
            return []
        out: list[tuple[str, float]] = []
        ms_per_block = 1000.0 * block / self._rate
        origin = self._origin_ms
        for i, is_voiced in enumerate(voiced.tolist()):
            start_ms = origin + (first + i) * ms_per_block
            end_ms = start_ms + ms_per_block
            if is_voiced:
                if not self.in_speech:
                    self.in_speech = True
                    self.speech_start_ms = max(0.0, start_ms - self._prefix_ms)
                    out.append(("started", self.speech_start_ms))
                self._voiced_end = end_ms
            elif self.in_speech and end_ms - self._voiced_end >= self._silence_ms:
                self.in_speech = False
                out.append(("stopped", self._voiced_end))
        return out
