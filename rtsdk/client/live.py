"""What only a GPT-Live session has: :class:`LiveHelpers`, mixed into the async client.

GPT-Live (``RealtimeAIOptions(model="gpt-live-1")``) is one continuous conversation: the input
keeps flowing (silence included), the model decides when to speak and when it was
interrupted, and tasks it cannot do itself are *delegated*: to a Responses backend that runs
the app's registered tools (the default when tools are registered), or to the app
(``delegation="client"``: :meth:`LiveHelpers.delegation_reply`). These helpers send GPT-Live's
own client events; the Realtime-only intents of the client raise
:class:`~rtsdk.exceptions.ConfigurationError` naming GPT-Live instead of sending a frame the
service would refuse.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rtsdk import kernels
from rtsdk.exceptions import AudioFormatError, ConfigurationError
from rtsdk.protocol.live import live_event
from rtsdk.protocol.live_core import LiveCore
from rtsdk.protocol.live_events import LiveSessionClosedEvent
from rtsdk.protocol.translation import TranslationCore, TranslationSessionClosedEvent
from rtsdk.session.options import RealtimeAIOptions
from rtsdk.session.service import RealtimeAIServiceManager

__all__ = ["MAX_FIXTURE_SECONDS", "LiveHelpers"]

#: The longest clip :meth:`LiveHelpers.play_fixture` takes (the service's limit).
MAX_FIXTURE_SECONDS = 30.0


class LiveHelpers:
    """GPT-Live helpers of the async client (see the module docstring)."""

    _service: RealtimeAIServiceManager
    options: RealtimeAIOptions

    def _live(self, what: str) -> LiveCore:
        return self._service.live(what)

    def _realtime_only(self, what: str) -> None:
        """Raise :class:`ConfigurationError` naming the session's API for a Realtime-only
        intent (on GPT-Live or a translation session)."""
        if self.options.session_type in ("live", "translation"):
            self._service.realtime(what)

    def _send_live(self, frames: list[dict[str, Any]]) -> None:
        for frame in frames:
            self._service.send(frame)

    async def mute(self) -> None:
        """``session.input_audio.mute``: the service hears silence from now on (the uplink keeps
        sending: GPT-Live's timeline needs continuous input). Inference and speech go on."""
        self._live("mute")
        self._service.send(live_event("session.input_audio.mute"))

    async def unmute(self) -> None:
        """``session.input_audio.unmute``: the service hears the microphone again."""
        self._live("unmute")
        self._service.send(live_event("session.input_audio.unmute"))

    @property
    def muted(self) -> bool:
        """True once the service confirmed a mute (until it confirms the unmute)."""
        return self._live("muted").muted

    async def play_fixture(self, audio: Any) -> None:
        """``session.output_audio.fixture.play``: the service plays this clip to the user
        through the session's output (interrupting the model, input muted meanwhile). ``audio``:
        PCM16 24 kHz mono bytes, or an int16 / float32 (-1..1) NumPy array at 24 kHz; at most
        30 s."""
        self._live("play_fixture")
        if isinstance(audio, np.ndarray):
            if audio.ndim != 1:
                raise AudioFormatError("play_fixture: the clip must be mono (one dimension)")
            if audio.dtype == np.float32:
                audio = kernels.float32_to_pcm16(audio)
            elif audio.dtype != np.int16:
                raise AudioFormatError(
                    f"play_fixture: a NumPy clip is int16 or float32, not {audio.dtype}"
                )
            data = audio.tobytes()
        elif isinstance(audio, (bytes, bytearray, memoryview)):
            data = bytes(audio)
        else:
            raise AudioFormatError(
                f"play_fixture: audio must be PCM16 bytes or a NumPy array, got "
                f"{type(audio).__name__}"
            )
        if not data or len(data) % 2:
            raise AudioFormatError(
                f"play_fixture: PCM16 needs a whole, non-zero number of samples ({len(data)} bytes)"
            )
        if len(data) > MAX_FIXTURE_SECONDS * 48000:
            raise AudioFormatError(
                f"play_fixture: the clip is {len(data) / 48000:.1f} s; GPT-Live plays at most "
                f"{MAX_FIXTURE_SECONDS:g} s"
            )
        self._service.send(
            live_event(
                "session.output_audio.fixture.play", audio=kernels.b64encode(data).decode("ascii")
            )
        )

    async def drop_queued_output(self) -> None:
        """Stop playing and drop the assistant audio queued locally (for guardrails: the model
        goes on until it stops by itself, and what it said stays in its context; correct it
        with ``delegation_reply(None, instructions=...)``)."""
        self._live("drop_queued_output")
        self._service.drop_output()

    async def delegation_reply(
        self,
        delegation_id: str | None,
        *,
        commentary: str | None = None,
        thinking: str | None = None,
        instructions: str | None = None,
    ) -> None:
        """Answer a delegation (client delegation): ``commentary`` is spoken (maybe in other
        words), ``thinking`` informs the model silently, ``instructions`` steer its behaviour.
        ``delegation_id`` None adds general context (a greeting: ``commentary=`` right after
        start). Each is at most about 500 tokens."""
        core = self._live("delegation_reply")
        parts = {"commentary": commentary, "thinking": thinking, "instructions": instructions}
        given = [(k, v) for k, v in parts.items() if v is not None]
        if not given:
            raise ConfigurationError(
                "delegation_reply needs commentary=, thinking= or instructions="
            )
        frames = []
        for kind, content in given:
            frames += core.context(kind, content, delegation_id)
        self._send_live(frames)

    @property
    def session_closed(self) -> LiveSessionClosedEvent | TranslationSessionClosedEvent | None:
        """The last ``session.closed`` of a GPT-Live session (reason, usage) or translation
        session, if any."""
        state = self._service.state
        return state.closed if isinstance(state, (LiveCore, TranslationCore)) else None
