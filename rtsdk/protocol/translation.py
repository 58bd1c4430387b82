"""Realtime translation sessions: the config, the typed events, and :class:`TranslationCore`.

A translation session (``wss://.../v1/realtime/translations?model=...``) turns continuous
speech into speech in ``audio.output.language``, with both transcripts. The server opens with
``session.created``; the client configures it with ``session.update`` (the target language, the
source transcription model, noise reduction) and is ready at ``session.updated``; input is
``session.input_audio_buffer.append`` (24 kHz PCM16 only, best in 200 ms appends, silence
included); output is ``session.output_audio.delta`` (no ids: one stream) and transcript deltas
stamped with ``elapsed_ms`` (200 ms steps of the input timeline). ``session.close`` flushes the
pending input and ends with ``session.closed``. The shapes are those of the ``openai`` package's
``types/realtime/realtime_translation_*``.

:class:`TranslationCore` is the protocol core (sans-I/O, on the seam of
:class:`~rtsdk.protocol.core.ProtocolCore`); nothing is replayed on a reconnect (a translation
has no conversation: the new session simply goes on from the audio that follows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..exceptions import AuthenticationError, ConfigurationError, ModelUnavailableError
from ..models import DEFAULT_TRANSLATION_MODEL
from ._base import Json, collect
from .codec import decode_frame
from .core import Actions, ProtocolCore, input_encoder
from .errors import ErrorKind, classify_error
from .events import ErrorEvent, ProtocolErrorEvent, ServerEvent, UnknownServerEvent
from .live import live_event
from .stream_core import OneStreamCore

__all__ = [
    "ENGINE_FRAME_MS",
    "INPUT_AUDIO_EVENT",
    "TRANSLATION_EVENT_TYPES",
    "TranslationCore",
    "TranslationInputTranscriptDeltaEvent",
    "TranslationOutputAudioDeltaEvent",
    "TranslationOutputTranscriptDeltaEvent",
    "TranslationSessionClosedEvent",
    "TranslationSessionCreatedEvent",
    "TranslationSessionUpdatedEvent",
    "TranslationSettings",
    "parse_translation_event",
]

#: The event type of input audio frames in a translation session.
INPUT_AUDIO_EVENT = "session.input_audio_buffer.append"
#: The service's engine frame: the best append length (ms).
ENGINE_FRAME_MS = 200
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
_NOISE = ("near_field", "far_field")


@dataclass(frozen=True)
class TranslationSettings:
    """A translation session's config (checked at construction; ``ConfigurationError`` names
    the field). ``target_language``: a language code (``"fr"``, ``"pt-BR"``).
    ``source_transcription_model``: transcribe the source too (None: no source transcript).
    ``noise_reduction``: ``"near_field"`` / ``"far_field"`` (with ``noise_reduction_strength``)."""

    target_language: str
    model: str = DEFAULT_TRANSLATION_MODEL
    source_transcription_model: str | None = None
    noise_reduction: str | None = None
    noise_reduction_strength: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.target_language, str) or not _LANGUAGE.match(self.target_language):
            raise ConfigurationError(
                "translation target_language must be a language code such as 'fr' or 'pt-BR', "
                f"got {self.target_language!r}"
            )
        if self.noise_reduction is not None and self.noise_reduction not in _NOISE:
            raise ConfigurationError(
                f"translation noise_reduction must be one of {', '.join(_NOISE)}, got "
                f"{self.noise_reduction!r}"
            )
        strength = self.noise_reduction_strength
        if strength is not None:
            if self.noise_reduction is None:
                raise ConfigurationError("noise_reduction_strength needs noise_reduction")
            if isinstance(strength, bool) or not isinstance(strength, (int, float)):
                raise ConfigurationError("noise_reduction_strength must be a number")
        model = self.source_transcription_model
        if model is not None and (not isinstance(model, str) or not model):
            raise ConfigurationError("source_transcription_model must be a model name")

    def to_session(self) -> Json:
        """The ``session`` object of ``session.update``."""
        audio_in: Json = {}
        if self.source_transcription_model is not None:
            audio_in["transcription"] = {"model": self.source_transcription_model}
        if self.noise_reduction is not None:
            noise: Json = {"type": self.noise_reduction}
            if self.noise_reduction_strength is not None:
                noise["strength"] = float(self.noise_reduction_strength)
            audio_in["noise_reduction"] = noise
        audio: Json = {"output": {"language": self.target_language}}
        if audio_in:
            audio["input"] = audio_in
        return {"audio": audio}


# -- events --------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class TranslationSessionCreatedEvent(ServerEvent):
    """``session.created``: the session with its default config (``id``, ``expires_at``)."""

    type: str = "session.created"
    session: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class TranslationSessionUpdatedEvent(ServerEvent):
    """``session.updated``: the config now in force."""

    type: str = "session.updated"
    session: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class TranslationSessionClosedEvent(ServerEvent):
    """``session.closed``: the session ended (after the flush, when the client closed it)."""

    type: str = "session.closed"


@dataclass(slots=True, kw_only=True)
class TranslationInputTranscriptDeltaEvent(ServerEvent):
    """``session.input_transcript.delta``: source-language text (``elapsed_ms``: where on the
    input timeline, in 200 ms steps; several deltas may share one)."""

    type: str = "session.input_transcript.delta"
    delta: str = ""
    elapsed_ms: int | None = None


@dataclass(slots=True, kw_only=True)
class TranslationOutputTranscriptDeltaEvent(ServerEvent):
    """``session.output_transcript.delta``: target-language text of the output audio."""

    type: str = "session.output_transcript.delta"
    delta: str = ""
    elapsed_ms: int | None = None


@dataclass(slots=True, kw_only=True)
class TranslationOutputAudioDeltaEvent(ServerEvent):
    """``session.output_audio.delta``: translated audio (base64 PCM16), in delivery order."""

    type: str = "session.output_audio.delta"
    delta: str = ""
    elapsed_ms: int | None = None
    format: str | None = None
    sample_rate: int | None = None
    channels: int | None = None


#: Translation server event type -> class.
TRANSLATION_EVENT_TYPES: dict[str, type[ServerEvent]] = {
    **collect(
        ServerEvent,
        (),
        {k: v for k, v in globals().items() if getattr(v, "__module__", None) == __name__},
    ),
    "error": ErrorEvent,
}


def parse_translation_event(frame: str | bytes) -> ServerEvent:
    """One translation server frame as a typed event; never raises."""
    data = decode_frame(frame)
    if isinstance(data, ProtocolErrorEvent):
        return data
    cls = TRANSLATION_EVENT_TYPES.get(data["type"])
    if cls is None:
        eid = data.get("event_id")
        return UnknownServerEvent(
            type=data["type"], event_id=eid if isinstance(eid, str) else "", raw=data
        )
    event: ServerEvent = cls.from_dict(data)
    return event


# -- the core ------------------------------------------------------------------------------


class TranslationCore(OneStreamCore):
    """The translation protocol core (see the module docstring)."""

    encode_input_audio = staticmethod(input_encoder(INPUT_AUDIO_EVENT))
    input_audio_event = INPUT_AUDIO_EVENT
    ready_event = "session.updated"
    event_types = frozenset(TRANSLATION_EVENT_TYPES)
    response_active = False
    replayed = 0

    def __init__(self, settings: TranslationSettings) -> None:
        self.settings = settings
        self.session: Json = {}
        self.session_id: str | None = None
        self.session_ids: list[str] = []
        self.expires_at: int | None = None
        self.ready = False
        self.close_requested = False
        self.closed: TranslationSessionClosedEvent | None = None
        self._update_event_id: str | None = None
        self._init_stream()

    def on_connect(self, *, replay: bool = False) -> list[Json]:
        """``session.update`` with the config (the server's ``session.created`` comes first
        on the wire; the update may cross it)."""
        frame = live_event("session.update", session=self.settings.to_session())
        self._update_event_id = frame["event_id"]
        self.ready = False
        self.close_requested = False
        self._new_stream()
        return [frame]

    @staticmethod
    def parse(frame: str | bytes) -> ServerEvent:
        return parse_translation_event(frame)

    def submit_function_output(self, call_id: str, output: str) -> list[Json]:
        raise ConfigurationError("a translation session has no tools")

    def update_settings(self, settings: TranslationSettings) -> list[Json]:
        """New settings (the target language, transcription, noise reduction): a
        ``session.update`` now, and on every later connect. The model cannot change."""
        if settings.model != self.settings.model:
            raise ConfigurationError(
                "a translation session's model is fixed when it is created; start a new one"
            )
        self.settings = settings
        if not self.ready:
            return []
        return [live_event("session.update", session=settings.to_session())]

    def close(self) -> list[Json]:
        """``session.close``: the server flushes the pending input, then ``session.closed``."""
        self.close_requested = True
        return [live_event("session.close")]

    # -- events ----------------------------------------------------------------------------

    def handle(self, event: ServerEvent) -> Actions:
        actions = Actions()
        if isinstance(event, TranslationSessionCreatedEvent):
            self._session(event.session)
        elif isinstance(event, TranslationSessionUpdatedEvent):
            self._session(event.session)
            self.ready = actions.ready = True
        elif isinstance(event, TranslationSessionClosedEvent):
            self.closed = event
            actions.closed = True
            if not self.close_requested:
                actions.renew = "the translation session was closed by the server"
        elif isinstance(event, ErrorEvent):
            self._error(event, actions)
        elif isinstance(event, TranslationOutputAudioDeltaEvent):
            actions.unreadable = "an output audio delta whose audio is not valid base64 (dropped)"
        elif isinstance(event, ProtocolErrorEvent):
            actions.unreadable = event.description
        return actions

    def _session(self, session: Json) -> None:
        self.session = session
        sid = session.get("id")
        if isinstance(sid, str) and sid != self.session_id:
            self.session_id = sid
            self.session_ids.append(sid)
        expires = session.get("expires_at")
        self.expires_at = expires if isinstance(expires, int) else None

    def _error(self, event: ErrorEvent, actions: Actions) -> None:
        error = event.error if isinstance(event.error, dict) else {}
        code = error.get("code") if isinstance(error.get("code"), str) else None
        message = str(error.get("message") or "")
        kind = classify_error(error)
        actions.error = kind
        if code == "model_not_found":
            actions.failure = ModelUnavailableError(
                f"the service refused translation model {self.settings.model!r}: {message}",
                model=self.settings.model,
            )
        elif kind is ErrorKind.AUTH:
            actions.failure = AuthenticationError(
                f"the server refused the credentials ({code or error.get('type')})"
            )
        elif not self.ready and error.get("event_id") in (None, self._update_event_id):
            param = error.get("param")
            actions.rejected = ConfigurationError(
                f"the server rejected the translation config{f' ({param})' if param else ''}: "
                f"{code or 'error'}: {message}"
            )
        elif kind is not ErrorKind.BENIGN:
            actions.problem = (
                f"server error {code or error.get('type') or 'without a code'}: {message}"
            )


if TYPE_CHECKING:  # the translation core is a protocol core (checked by mypy)
    _IS_A_CORE: ProtocolCore = TranslationCore(TranslationSettings("fr"))
