"""App audio to an append frame in one call (twin of ``rtsdk._kernels.append_framer``).

:class:`AppendFramer` is the uplink's step for the common case, mono float32 at the app's rate:
resample with the caller's own streaming resampler (so it and the ordinary path form one
stream), convert to PCM16 (and to G.711 codes for a G.711 session), and frame it as an
``input_audio_buffer.append`` event (or an append of another type, such as GPT-Live's
``session.input_audio.append``), exactly as ``encode_append`` does.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from rtsdk._reference.framing import MAX_APPEND_BYTES, append_head, encode_append
from rtsdk._reference.g711 import pcm16_to_alaw, pcm16_to_ulaw
from rtsdk._reference.pcm import float32_to_pcm16
from rtsdk.exceptions import AudioFormatError

__all__ = ["AppendFramer"]

#: The session formats, in the compiled kernel's order.
FORMATS: Final = ("pcm16", "g711_ulaw", "g711_alaw")
#: The most samples one frame carries (what fits the server's append limit as PCM16).
MAX_FRAME_SAMPLES: Final = MAX_APPEND_BYTES // 2
_F32 = np.dtype(np.float32)


class AppendFramer:
    """Mono float32 audio at the app's rate -> one ``input_audio_buffer.append`` frame.

    ``AppendFramer(session_format, resampler, *, event_type=None)``: ``session_format`` is
    ``"pcm16"``, ``"g711_ulaw"`` or ``"g711_alaw"``; ``resampler`` (mono, app rate -> session
    rate) is the caller's, so this and any other use of it form one stream. ``event_type`` is
    the frames' type when not ``input_audio_buffer.append`` (GPT-Live's
    ``"session.input_audio.append"``; as ``encode_append`` takes it).
    """

    def __init__(
        self, session_format: str, resampler: Any, *, event_type: str | None = None
    ) -> None:
        if session_format not in FORMATS:
            raise ValueError(
                f"session_format must be one of {', '.join(FORMATS)}, got {session_format!r}"
            )
        if resampler is None:
            raise TypeError("AppendFramer needs a resampler")
        if resampler.channels != 1:
            raise ValueError(f"the resampler must be mono, got {resampler.channels} channels")
        if event_type is not None:
            append_head(event_type)  # a malformed type is refused here, not at the first frame
        self._type = event_type
        self._fmt = session_format
        self._rs = resampler

    def frame(self, x: Any) -> bytes:
        """The append frame of ``x`` (1-D C-contiguous float32 at the resampler's input rate).

        Raises :class:`~rtsdk.exceptions.AudioFormatError` for another dtype or layout, and
        :class:`ValueError` when the frame would carry more than ``MAX_FRAME_SAMPLES`` samples
        (nothing is consumed then).
        """
        if not (type(x) is np.ndarray and x.dtype == _F32 and x.ndim == 1 and x.flags.c_contiguous):
            raise AudioFormatError("AppendFramer.frame: x must be a 1-D C-contiguous float32 array")
        rs = self._rs
        if rs._done:
            raise RuntimeError("the resampler has ended its stream (last=True): reset() it first")
        d = rs._d
        ny = -(-(d.up * (rs._n_in + x.size)) // d.down) - rs._n_out
        if ny > MAX_FRAME_SAMPLES:
            raise ValueError(
                f"one append frame carries at most {MAX_FRAME_SAMPLES} samples, got {ny}"
            )
        pcm = float32_to_pcm16(rs.process(x))
        if self._fmt == "pcm16":
            return encode_append(pcm.tobytes(), event_type=self._type)
        codes = pcm16_to_ulaw(pcm) if self._fmt == "g711_ulaw" else pcm16_to_alaw(pcm)
        return encode_append(codes.tobytes(), sample_width=1, event_type=self._type)
