"""The last steps of every uplink: downmix, and session-rate float32 -> an append frame.

Shared by the :class:`~rtsdk.audio.stream.AudioStreamManager` (device, file and pushed audio)
and by ``send_audio`` of the client, so there is one way audio becomes
``input_audio_buffer.append`` frames.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import numpy.typing as npt

from rtsdk.kernels import encode_append, float32_to_pcm16, pcm16_to_alaw, pcm16_to_ulaw
from rtsdk.protocol.session import SAMPLE_RATES

__all__ = ["AppendEncoder", "Gatherer", "downmix"]


def downmix(
    x: npt.NDArray[np.float32],
    channels: int,
    out: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float32]:
    """Mono mean of interleaved ``x`` (``channels`` per frame), into ``out`` when given."""
    frames = x.size // channels
    if out is None:
        out = np.empty(frames, dtype=np.float32)
    mono = out[:frames]
    np.add.reduce(x[: frames * channels].reshape(frames, channels), axis=1, out=mono)
    mono *= np.float32(1.0 / channels)
    return mono


class AppendEncoder:
    """Float32 samples at the session rate -> one append frame in the session's input format.

    PCM16 for ``"pcm16"``; PCM16 then G.711 codes for ``"g711_ulaw"`` / ``"g711_alaw"``. The
    intermediate buffers are kept and grown as needed, so steady framing allocates only the
    frame itself. ``event_type`` is the frames' type when not ``input_audio_buffer.append``
    (GPT-Live's ``"session.input_audio.append"``; see :func:`rtsdk.kernels.encode_append`).
    """

    def __init__(
        self, session_format: str, capacity: int = 0, *, event_type: str | None = None
    ) -> None:
        if event_type is not None:
            encode_append(b"", event_type=event_type)  # a malformed type is refused here
        self.event_type = event_type
        self.format = session_format
        self.rate = SAMPLE_RATES[session_format]
        self._to_g711: Any = {"g711_ulaw": pcm16_to_ulaw, "g711_alaw": pcm16_to_alaw}.get(
            session_format
        )
        self.width = 2 if self._to_g711 is None else 1  # bytes per sample on the wire
        self._pcm = np.zeros(capacity, dtype=np.int16)
        self._codes = np.zeros(capacity if self._to_g711 is not None else 0, dtype=np.uint8)

    def frame(self, y: npt.NDArray[np.float32]) -> bytes:
        """The complete append frame for ``y`` (1-D float32 at the session rate)."""
        n = int(y.size)
        if n > self._pcm.size:
            self._pcm = np.zeros(n, dtype=np.int16)
            if self._to_g711 is not None:
                self._codes = np.zeros(n, dtype=np.uint8)
        pcm = float32_to_pcm16(y, out=self._pcm[:n])
        event_type = self.event_type
        if self._to_g711 is None:
            if event_type is None:
                return encode_append(cast("Any", pcm))
            return encode_append(cast("Any", pcm), event_type=event_type)
        codes = self._to_g711(pcm, out=self._codes[:n])
        return encode_append(codes, sample_width=1, event_type=event_type)


class Gatherer:
    """Session-rate samples in, appends of exactly ``size`` samples out (the last one at the end
    of the stream may be shorter): for a service that consumes fixed engine frames, such as a
    translation session's 200 ms. The samples wait in one preallocated buffer; each full block
    is framed by ``encoder`` at once."""

    def __init__(self, encoder: AppendEncoder, size: int) -> None:
        if size < 1:
            raise ValueError(f"a gathered append holds at least one sample, got {size}")
        self.encoder = encoder
        self.size = size
        self._buf = np.zeros(size, dtype=np.float32)
        self._fill = 0

    @property
    def pending(self) -> int:
        """Samples waiting for the next append."""
        return self._fill

    def frames(self, y: npt.NDArray[np.float32], *, last: bool = False) -> list[bytes]:
        """The appends ``y`` completes (``last``: the stream ends: the rest goes too)."""
        out: list[bytes] = []
        buf, size = self._buf, self.size
        i, n = 0, int(y.size)
        while i < n:
            k = min(size - self._fill, n - i)
            buf[self._fill : self._fill + k] = y[i : i + k]
            self._fill += k
            i += k
            if self._fill == size:
                out.append(self.encoder.frame(buf))
                self._fill = 0
        if last and self._fill:
            out.append(self.encoder.frame(buf[: self._fill]))
            self._fill = 0
        return out
