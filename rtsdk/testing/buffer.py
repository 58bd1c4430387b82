"""The input audio buffer of one session: the caller's bytes, audio time, and the VAD."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import audio as au
from .vad import EnergyVad

__all__ = ["InputAudioBuffer"]

# In VAD mode, audio older than prefix padding + this much is dropped while nobody speaks
# (at most once per second of audio, to keep the per-frame work small).
_KEEP_EXTRA_MS = 50
_TRIM_EVERY_MS = 1000


class InputAudioBuffer:
    """Raw caller audio in the session's input format, with its position in audio time.

    Audio time is milliseconds since the first byte appended in the session; it keeps running
    across commits, clears and format changes. :meth:`feed` runs the VAD (when there is one)
    and returns its transitions.
    """

    __slots__ = ("_buf", "_odd", "end_ms", "fmt", "params", "start_ms", "vad")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._odd = b""
        self.fmt = "pcm16"
        self.params: dict[str, Any] | None = None
        self.start_ms = 0.0  # audio time of the first byte in the buffer
        self.end_ms = 0.0  # audio time after the last byte appended
        self.vad: EnergyVad | None = None

    def configure(self, fmt: str, params: dict[str, Any] | None) -> None:
        """Set the input format (a change empties the buffer) and the VAD parameters
        (``None``: manual turns). Any speech in progress is forgotten."""
        if fmt != self.fmt:
            self.clear()
            self.fmt = fmt
        self.params = params
        self.vad = (
            None
            if params is None
            else EnergyVad(
                au.RATES[fmt],
                threshold=params["threshold"],
                prefix_padding_ms=params["prefix_padding_ms"],
                silence_duration_ms=params["silence_duration_ms"],
                origin_ms=self.end_ms,
            )
        )

    @property
    def duration_ms(self) -> float:
        """Audio held, in ms."""
        return len(self._buf) / au.BYTES_PER_MS[self.fmt]

    @property
    def in_speech(self) -> bool:
        return self.vad is not None and self.vad.in_speech

    def feed(self, raw: bytes) -> list[tuple[str, float]]:
        """Append caller audio; return the VAD's ``("started"|"stopped", ms)`` transitions."""
        fmt = self.fmt
        self._buf += raw
        self.end_ms += len(raw) / au.BYTES_PER_MS[fmt]
        vad = self.vad
        if vad is None:
            return []
        if fmt == "pcm16":
            data = self._odd + raw if self._odd else raw
            even = len(data) - len(data) % 2
            self._odd = data[even:]
            pcm = np.frombuffer(data, dtype="<i2", count=even // 2).astype(np.int16, copy=False)
        else:
            pcm = au.decode_pcm16(raw, fmt)
        transitions = vad.process(pcm)
        if not transitions and not vad.in_speech and self.params is not None:
            keep_from = self.end_ms - self.params["prefix_padding_ms"] - _KEEP_EXTRA_MS
            if keep_from - self.start_ms > _TRIM_EVERY_MS:
                self.drop_until(keep_from)
        return transitions

    def _offset(self, ms: float) -> int:
        off = int((ms - self.start_ms) * au.BYTES_PER_MS[self.fmt])
        if self.fmt == "pcm16":
            off -= off % 2
        return min(max(off, 0), len(self._buf))

    def slice(self, start_ms: float, end_ms: float) -> bytes:
        """The held audio between two audio times (clamped to what is held)."""
        return bytes(self._buf[self._offset(start_ms) : self._offset(end_ms)])

    def drop_until(self, ms: float) -> None:
        """Forget the audio before ``ms``."""
        off = self._offset(ms)
        del self._buf[:off]
        self.start_ms += off / au.BYTES_PER_MS[self.fmt]

    def take_all(self) -> bytes:
        """Everything held; the buffer is then empty and any speech forgotten."""
        raw = bytes(self._buf)
        self.clear()
        return raw

    def clear(self) -> None:
        """Empty the buffer and forget any speech in progress."""
        self._buf.clear()
        self._odd = b""
        self.start_ms = self.end_ms
        if self.vad is not None:
            self.vad.reset()
