"""A phone interpreter: a carrier call bridged to a Realtime translation session.

:class:`InterpreterCall` is a :class:`~rtsdk.telephony.call.PhoneCall` whose session is a
translation session (``RealtimeAIOptions(session_type="translation", target_language=...)``):
the caller hears, a moment later, what they said in the target language. A translation session
takes only 24 kHz PCM16 over a WebSocket, so the audio is transcoded both ways instead of
spliced: the caller's G.711 μ-law (8 kHz) is decoded, resampled to 24 kHz and gathered into
the service's 200 ms engine frames; the translated PCM16 is resampled to 8 kHz and encoded to
μ-law for the carrier, paced by its marks as on any call. :class:`PhoneServer
<rtsdk.telephony.server.PhoneServer>` makes one for every call when its options are a
translation session's (``python -m rtsdk phone --translate-to fr``).

What it is good for: one caller, one direction (a caller who speaks one language and hears
another: a hotline announcing in the caller's language, a one-way briefing). What it is not: a
two-party interpreter; that needs two sessions per call, one per direction, and a second party
on the line, which a single media stream does not carry.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rtsdk import kernels
from rtsdk._reference.mediastream import APPEND_HEAD
from rtsdk.audio.encode import AppendEncoder, Gatherer
from rtsdk.exceptions import ConfigurationError
from rtsdk.protocol.translation import ENGINE_FRAME_MS, INPUT_AUDIO_EVENT
from rtsdk.session.options import RealtimeAIOptions

from .call import PhoneCall
from .types import CallInfo

__all__ = ["InterpreterCall"]

_HEAD = len(APPEND_HEAD)  # kernels.media_to_append's frames start with it
_CARRIER_RATE = 8000
_SESSION_RATE = 24000


class InterpreterCall(PhoneCall):
    """One carrier call bridged to one translation session (see the module docstring)."""

    #: the session's audio is transcoded (PCM16 24 kHz), not spliced
    passthrough = False

    def __init__(self, ws: Any, options: RealtimeAIOptions, **kwargs: Any) -> None:
        super().__init__(ws, options, **kwargs)
        self._up_rs = kernels.Resampler(_CARRIER_RATE, _SESSION_RATE)
        self._down_rs = kernels.Resampler(_SESSION_RATE, _CARRIER_RATE)
        encoder = AppendEncoder("pcm16", event_type=INPUT_AUDIO_EVENT)
        self._frames = Gatherer(encoder, _SESSION_RATE * ENGINE_FRAME_MS // 1000)

    async def _session_options(self, info: CallInfo) -> RealtimeAIOptions:
        options = await super()._session_options(info)
        if options.session_type != "translation":
            raise ConfigurationError(
                "an interpreter call needs translation session options "
                "(session_type='translation', target_language=...)"
            )
        return options

    @staticmethod
    def _call_formats(options: RealtimeAIOptions) -> RealtimeAIOptions:
        """A translation session stays 24 kHz PCM16: the call transcodes."""
        return options

    def _up(self, frame: bytes) -> None:
        """A caller append (μ-law, as spliced from the carrier): decoded, resampled, gathered
        into 200 ms PCM16 appends for the session."""
        if frame.startswith(APPEND_HEAD):
            codes = np.frombuffer(kernels.b64decode(frame[_HEAD:-2]), dtype=np.uint8)
            x = kernels.pcm16_to_float32(kernels.ulaw_to_pcm16(codes))
            for up in self._frames.frames(self._up_rs.process(x)):
                super()._up(up)
        else:  # already a session frame
            super()._up(frame)

    def play(self, item_id: str, data: bytes) -> None:
        """Translated audio (PCM16 24 kHz): to μ-law 8 kHz for the carrier, paced."""
        if len(data) < 2:
            return
        x = kernels.pcm16_to_float32(data[: len(data) & ~1])
        y = self._down_rs.process(x)
        if y.size:
            codes = kernels.pcm16_to_ulaw(kernels.float32_to_pcm16(y))
            super().play(item_id, codes.tobytes())
