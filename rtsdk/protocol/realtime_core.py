"""The Realtime API's protocol core: :class:`RealtimeCore`, what the session layer drives.

It is the session state machine (:class:`~rtsdk.protocol.state.ClientSessionState`) plus what
the seam (:class:`~rtsdk.protocol.core.ProtocolCore`) asks for: parsing and encoding frames (GA,
or the beta shapes of Azure's preview path), the compiled kernels that recognise output audio
deltas and frame input audio, and the Realtime meaning of each event in the session layer's
vocabulary (:class:`~rtsdk.protocol.core.Actions`): ``session.updated`` ends the handshake,
``input_audio_buffer.speech_started`` is a barge-in, ``error`` events are sorted into a rejected
config, a refused key or model, a renewal or a problem to report, ``model_not_found`` (in an
``error``, a failed response or a failed transcription) names the catalogue's shutdown date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import kernels
from ..exceptions import AuthenticationError, ConfigurationError, ModelUnavailableError
from ..models import deprecation_notice
from . import events as ev
from .beta import to_beta_client_event
from .codec import encode_event, parse_server_event
from .core import Actions, ProtocolCore
from .errors import ErrorKind
from .session import SessionSettings
from .state import ClientSessionState
from .transcription import TranscriptionSettings

__all__ = ["RealtimeCore"]

Json = dict[str, Any]


class RealtimeCore(ClientSessionState):
    """The Realtime protocol core (see the module docstring).

    ``model``: the conversation's model as the catalogue names it (None for an Azure deployment
    of another name); it is named when the service refuses it. ``beta``: speak the beta event
    shapes (Azure's preview path).
    """

    decode_output_audio = staticmethod(kernels.decode_audio_delta)
    encode_input_audio = staticmethod(kernels.encode_append)
    #: the event type of input audio frames (None: the kernels' default,
    #: ``input_audio_buffer.append``)
    input_audio_event: str | None = None
    #: the event type of output audio (parsed only when someone listens to it)
    output_audio_event = "response.output_audio.delta"
    #: every server event type of the protocol
    event_types = frozenset(ev.SERVER_EVENT_TYPES)
    #: the server event that confirms a connection's session config
    ready_event = "session.updated"
    #: sends wait for nothing (the server applies the config in order)
    gate_sends = False

    def __init__(
        self,
        settings: SessionSettings | TranscriptionSettings | None = None,
        *,
        model: str | None = None,
        beta: bool = False,
    ) -> None:
        super().__init__(settings)
        self.model = model
        self.beta = beta
        self._config_event_id: str | None = None
        self._refused_transcription: set[str] = set()
        self.replayed = 0

    # -- frames --------------------------------------------------------------------------------

    def parse(self, frame: str | bytes) -> ev.ServerEvent:
        """A received frame as a typed event (GA names; never raises)."""
        return parse_server_event(frame)

    def encode(self, frame: Json) -> str:
        """A client event as the wire text (the beta shape on the preview path)."""
        return encode_event(to_beta_client_event(frame) if self.beta else frame)

    def on_connect(self, *, replay: bool = False) -> list[Json]:
        frames = super().on_connect(replay=replay)
        self._config_event_id = frames[0].get("event_id")
        #: conversation items the last connect resent
        self.replayed = sum(1 for f in frames if f.get("type") == "conversation.item.create")
        return frames

    @staticmethod
    def asks_response(frame: Json) -> bool:
        """Whether sending ``frame`` asks the model for a response (the latency clock)."""
        return frame.get("type") == "response.create"

    @staticmethod
    def input_intent(frame: Json) -> str | None:
        """``"commit"`` / ``"clear"`` for the frames that end or drop the input appended so far
        (the session layer knows what a renewed connection lost), else None."""
        kind = frame.get("type")
        if kind == "input_audio_buffer.commit":
            return "commit"
        if kind == "input_audio_buffer.clear":
            return "clear"
        return None

    @staticmethod
    def close() -> list[Json]:
        """Nothing: a Realtime session ends with its socket."""
        return []

    # -- events --------------------------------------------------------------------------------

    def interrupts_playback(self, event: Any) -> bool:
        """``input_audio_buffer.speech_started``: the user is talking over the model (unless
        ``interrupt_response`` is off: then the reply goes on)."""
        return isinstance(event, ev.InputAudioBufferSpeechStartedEvent) and self.speech_interrupts

    def handle(self, event: ev.ServerEvent) -> Actions:
        actions = super().handle(event)
        signal = _SIGNALS.get(type(event))
        if signal is not None:
            signal(self, event, actions)
        return actions

    def _updated(self, event: Any, actions: Actions) -> None:
        actions.ready = True

    def _speech_stopped(self, event: Any, actions: Actions) -> None:
        actions.turn_ended = True

    def _created(self, event: Any, actions: Actions) -> None:
        rid = event.response.get("id")
        if isinstance(rid, str):
            actions.response_started = rid

    def _text_delta(self, event: Any, actions: Actions) -> None:
        actions.first_output = event.response_id

    def _audio_done(self, event: Any, actions: Actions) -> None:
        actions.output_done = event.item_id

    def _done(self, event: Any, actions: Actions) -> None:
        response = event.response
        rid = response.get("id")
        if isinstance(rid, str):
            actions.response_finished = rid
        if response.get("status") == "failed":
            details = response.get("status_details")
            error = details.get("error") if isinstance(details, dict) else None
            if isinstance(error, dict) and error.get("code") == "model_not_found":
                actions.failure = self._model_refused(error, "response failed")

    def _unreadable(self, event: Any, actions: Actions) -> None:
        actions.unreadable = event.description

    def _transcription_failed(self, event: Any, actions: Actions) -> None:
        error = event.error
        if not isinstance(error, dict) or error.get("code") != "model_not_found":
            return
        if isinstance(self.settings, TranscriptionSettings):
            actions.failure = self._model_refused(error, "transcription failed")
            return
        model = str(getattr(self.settings, "transcription_model", None))
        if model in self._refused_transcription:
            return  # said once
        self._refused_transcription.add(model)
        notice = deprecation_notice(model)
        actions.problem = (
            f"the service refused transcription model {model!r} "
            f"({error.get('message') or error.get('code')})"
            f"{f'; {notice}' if notice else ''}; the conversation goes on without input "
            "transcripts"
        )

    def _error(self, event: Any, actions: Actions) -> None:
        error = event.error if isinstance(event.error, dict) else {}
        code = str(error.get("code") or "")
        if code == "model_not_found":
            actions.failure = self._model_refused(error, "error")
            return
        message = str(error.get("message") or "")
        blamed = error.get("event_id")
        if blamed is not None and blamed == self._config_event_id:
            param = error.get("param")
            actions.rejected = ConfigurationError(
                f"the server rejected the session config{f' ({param})' if param else ''}: "
                f"{code or 'error'}: {message}"
            )
        kind = actions.error
        if kind is ErrorKind.BENIGN:
            return
        if kind is ErrorKind.AUTH:
            actions.failure = AuthenticationError(
                f"the server refused the credentials ({code or error.get('type')})"
            )
        elif kind is ErrorKind.RECONNECT:
            actions.renew = f"server ended the session: {code}"
        else:
            actions.problem = f"server error {code or error.get('type')}: {message}"

    def _model_refused(self, error: Json, where: str) -> ModelUnavailableError:
        """The error that ends a session whose model the service will not serve, with the
        catalogue's deprecation notice (date and replacement) when it has one."""
        settings = self.settings
        model = settings.model if isinstance(settings, TranscriptionSettings) else self.model
        text = (
            f"the service refused model {model!r} ({where}: {error.get('code')}: "
            f"{error.get('message') or 'no message'})"
        )
        notice = deprecation_notice(model)
        return ModelUnavailableError(f"{text}; {notice}" if notice else text, model=model)


if TYPE_CHECKING:  # the Realtime core is a protocol core (checked by mypy)
    _IS_A_CORE: ProtocolCore = RealtimeCore()

_SIGNALS: dict[type, Any] = {
    ev.SessionUpdatedEvent: RealtimeCore._updated,
    ev.InputAudioBufferSpeechStoppedEvent: RealtimeCore._speech_stopped,
    ev.ResponseCreatedEvent: RealtimeCore._created,
    ev.ResponseOutputTextDeltaEvent: RealtimeCore._text_delta,
    ev.ResponseOutputAudioDoneEvent: RealtimeCore._audio_done,
    ev.ResponseDoneEvent: RealtimeCore._done,
    ev.InputAudioTranscriptionFailedEvent: RealtimeCore._transcription_failed,
    ev.ErrorEvent: RealtimeCore._error,
    ev.ProtocolErrorEvent: RealtimeCore._unreadable,
}
