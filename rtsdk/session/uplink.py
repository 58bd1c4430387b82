"""App audio to append frames: :class:`Uplink`, what ``send_audio`` runs on each call.

Any app buffer (session-format bytes, PCM16 bytes at another rate, NumPy float32 or int16,
mono or multichannel) becomes append frames (``input_audio_buffer.append``, or the protocol's
own type) of at most 500 ms each.
Decoding and downmixing are the audio layer's (``to_float32``, ``downmix``), and so is the
framing (``AppendEncoder``): the same steps as the device and file uplink.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rtsdk import kernels
from rtsdk.audio.base import to_float32
from rtsdk.audio.encode import AppendEncoder, downmix
from rtsdk.audio.options import SUPPORTED_RATES
from rtsdk.exceptions import AudioFormatError

__all__ = ["Uplink"]

_MAX_APPEND_MS = 500  # larger buffers go up as several appends (the server caps one at 15 MiB)
_F32 = np.dtype(np.float32)


class Uplink:
    """App-provided audio -> session-format append frames (one resampler per source rate)."""

    def __init__(self, input_format: str, *, event_type: str | None = None) -> None:
        #: the frames' event type (None: ``input_audio_buffer.append``; GPT-Live's differs)
        self.event_type = event_type
        self._encoder = AppendEncoder(input_format, event_type=event_type)
        self._step = self._encoder.rate * _MAX_APPEND_MS // 1000  # samples per append
        self._resamplers: dict[int, Any] = {}
        # per source rate: the one-call framer over that rate's resampler, and the most input
        # samples whose output surely fits in one append
        self._framers: dict[int | None, tuple[Any, int]] = {}

    def frames(self, data: object, sample_rate: int | None) -> list[bytes]:
        """The append frames of ``data`` (see ``AsyncRealtimeAIClient.send_audio``)."""
        enc = self._encoder
        step = self._step  # samples per append
        # the common case first: mono float32 at a rate seen before, at most one append long
        if (
            type(data) is np.ndarray
            and data.dtype is _F32
            and data.ndim == 1
            and data.flags.c_contiguous
        ):
            fast = self._framers.get(sample_rate)
            if fast is not None:
                framer, most = fast
                if data.size <= most:
                    return [framer.frame(data)]  # resampled, converted and framed in one call
                y = self._resamplers[sample_rate].process(data)  # type: ignore[index]
                return [enc.frame(y[i : i + step]) for i in range(0, y.size, step)]
        if isinstance(data, (bytes, bytearray, memoryview)) and (
            sample_rate is None or (sample_rate == enc.rate and enc.width == 2)
        ):
            raw = memoryview(data).cast("B")  # already in the session format: framed as is
            if raw.nbytes % enc.width:
                raise AudioFormatError(
                    f"send_audio: {raw.nbytes} bytes is not a whole number of "
                    f"{enc.format} samples ({enc.width} bytes each)"
                )
            chunk = step * enc.width
            return [
                kernels.encode_append(
                    raw[i : i + chunk], sample_width=enc.width, event_type=self.event_type
                )
                for i in range(0, raw.nbytes, chunk)
            ]
        if sample_rate is None and isinstance(data, np.ndarray):
            raise AudioFormatError("send_audio: a NumPy array needs its sample_rate= (e.g. 48000)")
        channels = 1
        if isinstance(data, np.ndarray) and data.ndim == 2:
            channels = int(data.shape[1])
            if channels < 1:
                raise AudioFormatError("send_audio: a 2-D array needs >= 1 channel column")
        x = to_float32(data, channels, "send_audio")
        if channels > 1:
            x = downmix(x, channels)
        if sample_rate not in SUPPORTED_RATES:
            raise AudioFormatError(
                f"send_audio: sample_rate {sample_rate} Hz is not supported; use one of "
                f"{list(SUPPORTED_RATES)}"
            )
        if sample_rate != enc.rate:
            rs = self._resamplers.get(sample_rate)
            if rs is None:
                rs = self._resamplers[sample_rate] = kernels.Resampler(sample_rate, enc.rate)
                most = (step - 1) * sample_rate // enc.rate
                framer = kernels.AppendFramer(enc.format, rs, event_type=self.event_type)
                self._framers[sample_rate] = (framer, most)
            x = rs.process(x)
        return [enc.frame(x[i : i + step]) for i in range(0, x.size, step)]
