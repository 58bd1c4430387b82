"""GPT-Live's protocol core: :class:`LiveCore`, what the session layer drives for GPT-Live.

Sans-I/O, beside the Realtime core (:class:`~rtsdk.protocol.realtime_core.RealtimeCore`), with
the same seam (:class:`~rtsdk.protocol.core.ProtocolCore`). GPT-Live is one continuous stream
each way, so most of the Realtime machinery has nothing to do here:

- every connection opens with ``session.start`` and is ready at ``session.started``; any
  ``error`` before that fails the start (the service sends no ``session.started`` after one);
- output audio (``session.output_audio.delta``: no ids, delivery order) is one stream, counted
  under the output id ``""``; no event marks a barge-in (the model stops by itself), so the
  core never cuts the playback, and there is nothing to truncate or cancel;
- the conversation is kept as text from the transcript deltas, so that a reconnect (which
  starts a new GPT-Live session: nothing resumes) can give it back as ``input`` history,
  newest first within the service's limits;
- with Responses delegation a function call comes wrapped in ``response.event``: it runs as
  soon as its ``response.output_item.done`` arrives; each output goes back as
  ``response.item.create``, and once the backend's response has completed and every call of it
  has its output, one ``response.create`` continues it;
- ``session.closed`` with ``expired`` or ``connection_lost`` renews the session (a new one,
  history replayed); ``content`` (a safety filter) ends it for good.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..exceptions import (
    AuthenticationError,
    ConfigurationError,
    ModelUnavailableError,
    ServerError,
)
from . import live_events as lev
from .acks import live_acknowledges, sort_live_unacknowledged
from .core import Actions, FunctionCall, ProtocolCore, input_encoder
from .errors import ErrorKind, classify_error
from .events import ErrorEvent, ProtocolErrorEvent, ServerEvent
from .live import (
    MAX_HISTORY_CHARS,
    MAX_HISTORY_MESSAGES,
    LiveSettings,
    context_append,
    fit_history,
    function_call_output,
    history_message,
    live_event,
    session_start,
)
from .stream_core import OneStreamCore

__all__ = ["INPUT_AUDIO_EVENT", "LiveCore", "TranscriptSpan"]

Json = dict[str, Any]

#: The event type of input audio frames on GPT-Live.
INPUT_AUDIO_EVENT = "session.input_audio.append"
#: Close reasons after which the SDK starts a new session (history replayed).
_RENEW_REASONS = frozenset({"expired", "connection_lost"})
#: A pause this long between two deltas of one speaker starts a new transcript line.
_LINE_GAP_MS = 1500


class TranscriptSpan:
    """One speaker's line of the transcript on the session timeline (text grows with deltas)."""

    __slots__ = ("end_ms", "speaker", "start_ms", "text")

    def __init__(self, speaker: str, text: str, start_ms: int, end_ms: int) -> None:
        self.speaker = speaker  # "user" or "assistant"
        self.text = text
        self.start_ms = start_ms
        self.end_ms = end_ms

    def __repr__(self) -> str:
        return f"TranscriptSpan({self.speaker!r}, {self.text!r}, {self.start_ms}, {self.end_ms})"


class LiveCore(OneStreamCore):
    """The GPT-Live protocol core (see the module docstring)."""

    encode_input_audio = staticmethod(input_encoder(INPUT_AUDIO_EVENT))
    #: the event type of input audio frames
    input_audio_event = INPUT_AUDIO_EVENT
    #: the server event that confirms a connection's session
    ready_event = "session.started"
    #: every server event type of the protocol
    event_types = frozenset(lev.LIVE_SERVER_EVENT_TYPES)

    def __init__(self, settings: LiveSettings | None = None) -> None:
        self.settings = settings if settings is not None else LiveSettings()
        #: the resolved session config of the last ``session.started`` / ``session.updated``
        self.session: Json = {}
        #: the current GPT-Live session's id and expiry (Unix seconds), once started
        self.session_id: str | None = None
        self.expires_at: int | None = None
        #: every session id this logical session had (one per connection that started)
        self.session_ids: list[str] = []
        self.started = False
        self.muted = False
        self._taken_back: list[Json] = []
        #: what the last connect sends again once the session started, and what it reported
        self.resent: list[Json] = []
        self.unsent: list[Json] = []
        #: the latest ``usage`` snapshot (cumulative, this GPT-Live session) and context ratio
        self.usage: Json = {}
        self.context_ratio: float | None = None
        #: the last ``session.closed`` event
        self.closed: lev.LiveSessionClosedEvent | None = None
        self.close_requested = False
        #: the transcript, both speakers, in arrival order (for replay and the app)
        self.lines: list[TranscriptSpan] = []
        self._open: dict[str, TranscriptSpan] = {}
        self._init_stream()
        self.replayed = 0
        # Responses delegation: backend response id -> call ids; outputs; completed responses
        self._calls: dict[str, dict[str, FunctionCall]] = {}
        self._outputs: dict[str, str] = {}
        self._completed: set[str] = set()
        self._backend_response: str | None = None  # the backend response running now
        self.delegations: dict[str, Json] = {}

    # -- the seam ------------------------------------------------------------------------------

    @property
    def width(self) -> int:
        """Bytes per sample of the session's audio format."""
        return 1 if self.settings.audio_format.startswith("g711") else 2

    @property
    def response_active(self) -> bool:
        """True while a delegated backend run waits on the app's function outputs."""
        return any(
            any(call_id not in self._outputs for call_id in calls) for calls in self._calls.values()
        )

    #: the link remembers this session's control events until :meth:`acknowledges` says the
    #: server got them (see :mod:`.acks`)
    tracks_acks = True
    acknowledges = staticmethod(live_acknowledges)

    def take_back(self, sent: list[Json]) -> None:
        """Client events written on a connection that died unconfirmed, oldest first: the
        next :meth:`on_connect` sorts them into :attr:`resent` and :attr:`unsent`."""
        self._taken_back = list(sent)

    def on_connect(self, *, replay: bool = False) -> list[Json]:
        """``session.start`` (with the conversation so far as history when ``replay``).

        What the old connection never confirmed (:meth:`take_back`) is sorted: general
        context and typed messages into :attr:`resent`, which the session sends once the new
        session started (the gate), the rest into :attr:`unsent`. A muted input stays muted:
        the mute goes first in :attr:`resent`.
        """
        taken, self._taken_back = self._taken_back, []
        self.resent, self.unsent = ([], taken) if not replay else sort_live_unacknowledged(taken)
        muted = self.muted
        for event in taken:
            if event.get("type") in ("session.input_audio.mute", "session.input_audio.unmute"):
                muted = event["type"] == "session.input_audio.mute"
        if muted:
            self.resent.insert(0, live_event("session.input_audio.mute"))
        extra: list[Json] = []
        if replay:
            extra = self.history(room=MAX_HISTORY_MESSAGES - len(self.settings.input))
        self.replayed = len(extra)
        frame = session_start(self.settings, extra_input=extra)
        self.started = False
        self.muted = False
        self.close_requested = False
        self._open.clear()
        self._new_stream()
        # a new GPT-Live session: the backend runs of the old one are gone
        self._calls.clear()
        self._outputs.clear()
        self._completed.clear()
        return [frame]

    def history(self, *, room: int = MAX_HISTORY_MESSAGES) -> list[Json]:
        """The transcript so far as ``input`` messages: the newest that fit in ``room``
        messages and the service's token budget (less the configured history's share)."""
        used = sum(len(m["content"][0]["text"]) for m in self.settings.input)
        messages = [
            history_message(line.speaker, line.text) for line in self.lines if line.text.strip()
        ]
        return fit_history(messages, room=max(0, room), chars=max(0, MAX_HISTORY_CHARS - used))

    @staticmethod
    def parse(frame: str | bytes) -> ServerEvent:
        return lev.parse_live_event(frame)

    # -- events ----------------------------------------------------------------------------------

    def handle(self, event: ServerEvent) -> Actions:
        actions = Actions()
        step = _STEPS.get(type(event))
        if step is not None:
            step(self, event, actions)
        return actions

    def _started(self, event: lev.LiveSessionStartedEvent, actions: Actions) -> None:
        session = event.session
        self.session = session
        self.started = True
        sid = session.get("id")
        if isinstance(sid, str):
            self.session_id = sid
            self.session_ids.append(sid)
        expires = session.get("expires_at")
        self.expires_at = expires if isinstance(expires, int) else None
        actions.ready = True

    def _updated(self, event: lev.LiveSessionUpdatedEvent, actions: Actions) -> None:
        self.session = event.session

    def _closed(self, event: lev.LiveSessionClosedEvent, actions: Actions) -> None:
        self.closed = event
        actions.closed = True
        if isinstance(event.usage, dict):
            self.usage = event.usage
        reason = event.reason
        if reason == "close_requested" and self.close_requested:
            return
        if reason in _RENEW_REASONS:
            actions.renew = f"the GPT-Live session closed ({reason})"
        elif reason == "content":
            actions.failure = ServerError(
                "GPT-Live closed the session: a safety filter ended it (reason 'content')"
            )
        else:
            actions.renew = f"the GPT-Live session closed ({reason or 'no reason given'})"

    def _usage(self, event: lev.LiveUsageUpdatedEvent, actions: Actions) -> None:
        self.usage = event.usage
        window = event.context_window
        ratio = window.get("usage_ratio") if isinstance(window, dict) else None
        if isinstance(ratio, (int, float)):
            self.context_ratio = float(ratio)

    def _muted(self, event: Any, actions: Actions) -> None:
        self.muted = True

    def _unmuted(self, event: Any, actions: Actions) -> None:
        self.muted = False

    def _transcript(self, speaker: str, event: Any) -> None:
        line = self._open.get(speaker)
        start, end = event.start_ms, event.end_ms
        if line is not None and start - line.end_ms <= _LINE_GAP_MS:
            line.text += event.delta
            line.end_ms = max(line.end_ms, end)
            return
        line = TranscriptSpan(speaker, event.delta, start, end)
        self._open[speaker] = line
        self.lines.append(line)
        self._trim_lines()

    def _trim_lines(self) -> None:
        # the replay needs at most the newest 128 lines within the character budget
        if len(self.lines) > 4 * MAX_HISTORY_MESSAGES:
            del self.lines[: len(self.lines) - 2 * MAX_HISTORY_MESSAGES]

    def _input_transcript(self, event: lev.LiveInputTranscriptDeltaEvent, actions: Actions) -> None:
        self._transcript("user", event)

    def _output_transcript(
        self, event: lev.LiveOutputTranscriptDeltaEvent, actions: Actions
    ) -> None:
        self._transcript("assistant", event)

    def _delegation(self, event: lev.LiveDelegationCreatedEvent, actions: Actions) -> None:
        delegation = event.delegation
        did = delegation.get("id")
        if isinstance(did, str):
            self.delegations[did] = dict(delegation, offset_ms=event.offset_ms)
            if len(self.delegations) > 256:
                del self.delegations[next(iter(self.delegations))]

    def _response_event(self, event: lev.LiveResponseEvent, actions: Actions) -> None:
        inner = event.event
        kind = inner.get("type")
        if kind == "response.created":
            self._backend_response = _response_id(inner)
        # a backend run is known by its delegation (the wrapper's), else by its response
        run = event.delegation_id or self._backend_response or _response_id(inner) or ""
        if kind == "response.output_item.done":
            item = inner.get("item")
            if isinstance(item, dict) and item.get("type") == "function_call":
                call = FunctionCall(
                    call_id=str(item.get("call_id", "")),
                    name=str(item.get("name", "")),
                    arguments=str(item.get("arguments", "")),
                    response_id=self._backend_response or run,
                    item_id=str(item.get("id", "")),
                )
                calls = self._calls.setdefault(run, {})
                if call.call_id and call.call_id not in calls:
                    calls[call.call_id] = call
                    actions.function_calls = [call]
        elif kind in ("response.completed", "response.done", "response.failed"):
            self._completed.add(run)
            actions.send += self._continue(run)
            if kind == "response.failed":
                actions.problem = f"the delegated Responses run {run} failed"

    def _error(self, event: ErrorEvent, actions: Actions) -> None:
        error = event.error if isinstance(event.error, dict) else {}
        code = error.get("code")
        code = code if isinstance(code, str) else None  # GPT-Live's code may be null
        message = str(error.get("message") or "")
        kind = classify_error(error)
        actions.error = kind
        if code == "model_not_found":
            actions.failure = ModelUnavailableError(
                f"the service refused GPT-Live model {self.settings.model!r}: {message}",
                model=self.settings.model,
            )
            return
        if kind is ErrorKind.AUTH:
            actions.failure = AuthenticationError(
                f"the server refused the credentials ({code or error.get('type')})"
            )
            return
        if not self.started:
            param = error.get("param")
            actions.rejected = ConfigurationError(
                f"GPT-Live refused session.start{f' ({param})' if param else ''}: "
                f"{code or error.get('type') or 'error'}: {message}"
            )
            return
        if kind is ErrorKind.BENIGN:
            return
        actions.problem = f"server error {code or error.get('type') or 'without a code'}: {message}"

    def _unreadable(self, event: ProtocolErrorEvent, actions: Actions) -> None:
        actions.unreadable = event.description

    def _bad_audio(self, event: lev.LiveOutputAudioDeltaEvent, actions: Actions) -> None:
        # output audio reaches handle() only when the compiled decoder refused it
        actions.unreadable = "an output audio delta whose audio is not valid base64 (dropped)"

    # -- intents ---------------------------------------------------------------------------------

    def update_settings(self, settings: LiveSettings) -> list[Json]:
        """New settings: a ``session.update`` for delegation / triggers changes (sent now and
        carried by every later ``session.start``); raises for an immutable field."""
        if not isinstance(settings, LiveSettings):
            raise ConfigurationError("a GPT-Live session takes LiveSettings")
        if not self.session_ids:  # nothing started yet: the first session.start carries it
            self.settings = settings
            return []
        change = settings.update_from(self.settings)
        self.settings = settings
        if change is None or not self.started:
            return []
        return [live_event("session.update", session=change)]

    def submit_function_output(self, call_id: str, output: str) -> list[Json]:
        """A tool's result: ``response.item.create`` now; ``response.create`` once every call
        of that backend response has its output and the response completed."""
        if not isinstance(output, str):
            raise ConfigurationError(
                f"a function output must be a str, got {type(output).__name__}"
            )
        self._outputs[call_id] = output
        frames = [function_call_output(call_id, output)]
        for rid, calls in self._calls.items():
            if call_id in calls:
                frames += self._continue(rid)
                break
        return frames

    def _continue(self, rid: str) -> list[Json]:
        calls = self._calls.get(rid)
        if not calls or rid not in self._completed:
            return []
        if any(call_id not in self._outputs for call_id in calls):
            return []
        del self._calls[rid]
        self._completed.discard(rid)
        for call_id in calls:
            self._outputs.pop(call_id, None)
        return [live_event("response.create")]

    def pending_function_calls(self) -> list[FunctionCall]:
        """Calls still waiting for their output."""
        return [
            c
            for calls in self._calls.values()
            for c in calls.values()
            if c.call_id not in self._outputs
        ]

    def context(self, kind: str, content: str, delegation_id: str | None = None) -> list[Json]:
        """``session.{commentary,thinking,instructions}.append``."""
        if delegation_id is not None and self.settings.delegation_type == "responses":
            raise ConfigurationError(
                "with Responses delegation the backend answers delegations: append context "
                "with delegation_id=None"
            )
        return [context_append(kind, content, delegation_id)]

    def user_text(self, text: str) -> list[Json]:
        """A typed user message: to the Responses backend (``response.item.create``) or, with
        client delegation, as context the model reads (``session.instructions.append``)."""
        if self.settings.delegation_type == "responses":
            item = {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": text}],
            }
            return [live_event("response.item.create", item=item), live_event("response.create")]
        return [context_append("instructions", f"The user typed: {text}", None)]

    def close(self) -> list[Json]:
        """``session.close`` (the reply is ``session.closed``)."""
        self.close_requested = True
        return [live_event("session.close")]


def _response_id(inner: Json) -> str | None:
    rid = inner.get("response_id")
    if isinstance(rid, str):
        return rid
    response = inner.get("response")
    if isinstance(response, dict) and isinstance(response.get("id"), str):
        return str(response["id"])
    return None


if TYPE_CHECKING:  # the GPT-Live core is a protocol core (checked by mypy)
    _IS_A_CORE: ProtocolCore = LiveCore()

_STEPS: dict[type, Any] = {
    lev.LiveSessionStartedEvent: LiveCore._started,
    lev.LiveSessionUpdatedEvent: LiveCore._updated,
    lev.LiveSessionClosedEvent: LiveCore._closed,
    lev.LiveUsageUpdatedEvent: LiveCore._usage,
    lev.LiveInputAudioMutedEvent: LiveCore._muted,
    lev.LiveInputAudioUnmutedEvent: LiveCore._unmuted,
    lev.LiveInputTranscriptDeltaEvent: LiveCore._input_transcript,
    lev.LiveOutputTranscriptDeltaEvent: LiveCore._output_transcript,
    lev.LiveDelegationCreatedEvent: LiveCore._delegation,
    lev.LiveResponseEvent: LiveCore._response_event,
    ErrorEvent: LiveCore._error,
    ProtocolErrorEvent: LiveCore._unreadable,
    lev.LiveOutputAudioDeltaEvent: LiveCore._bad_audio,
}
