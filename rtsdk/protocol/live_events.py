"""Typed GPT-Live server events, and the parser of GPT-Live frames.

The same machinery as the Realtime events (:mod:`.events`): slotted dataclasses, fields typed
as the ``openai`` package's ``types/live`` types them, nested objects left as dicts, anything
unknown (or of an unexpected JSON type) kept in ``extra``. Class names start with ``Live``
where Realtime has an event of the same type string (``session.updated``); ``error`` is the
Realtime :class:`~rtsdk.protocol.events.ErrorEvent` (same shape; GPT-Live's ``code`` may be
null). :data:`LIVE_SERVER_EVENT_TYPES` maps each type to its class; :func:`parse_live_event`
never raises (unknown types give :class:`~rtsdk.protocol.events.UnknownServerEvent`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._base import Json, collect
from .codec import decode_frame
from .events import ErrorEvent, ProtocolErrorEvent, ServerEvent, UnknownServerEvent

__all__ = [
    "LIVE_SERVER_EVENT_TYPES",
    "LiveCommentaryAppendedEvent",
    "LiveDecisionEvent",
    "LiveDecisionItemCreatedEvent",
    "LiveDecisionItemDeletedEvent",
    "LiveDelegationCreatedEvent",
    "LiveFixturePlayedEvent",
    "LiveFixturePlayingEvent",
    "LiveInfoEvent",
    "LiveInputAudioMutedEvent",
    "LiveInputAudioUnmutedEvent",
    "LiveInputTranscriptDeltaEvent",
    "LiveInstructionsAppendedEvent",
    "LiveOutputAudioDeltaEvent",
    "LiveOutputTranscriptDeltaEvent",
    "LiveResponseEvent",
    "LiveSessionClosedEvent",
    "LiveSessionPausedEvent",
    "LiveSessionResumedEvent",
    "LiveSessionStartedEvent",
    "LiveSessionUpdatedEvent",
    "LiveThinkingAppendedEvent",
    "LiveUsageUpdatedEvent",
    "TransportAnsweredEvent",
    "TransportDtmfReceivedEvent",
    "TransportDtmfSentEvent",
    "TransportFailedEvent",
    "TransportRingingEvent",
    "parse_live_event",
]


@dataclass(slots=True, kw_only=True)
class _Acked(ServerEvent):
    """A server event that may name the client event it answers."""

    client_event_id: str | None = None


@dataclass(slots=True, kw_only=True)
class LiveSessionStartedEvent(_Acked):
    """``session.started``: the session is up; ``session`` has ``id``, ``expires_at`` (Unix
    seconds), ``model``, ``status`` and the resolved config."""

    type: str = "session.started"
    session: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class LiveSessionUpdatedEvent(_Acked):
    """``session.updated``: a ``session.update`` applied; ``session`` is the whole config."""

    type: str = "session.updated"
    session: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class LiveSessionClosedEvent(_Acked):
    """``session.closed``: ``reason`` is ``close_requested``, ``expired``, ``content``,
    ``remote_hangup`` or ``connection_lost``; ``usage`` has ``seconds``."""

    type: str = "session.closed"
    reason: str = ""
    session: Json = field(default_factory=dict)
    usage: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class LiveUsageUpdatedEvent(_Acked):
    """``session.usage.updated``: a cumulative snapshot (never add them up)."""

    type: str = "session.usage.updated"
    usage: Json = field(default_factory=dict)
    context_window: Json | None = None


@dataclass(slots=True, kw_only=True)
class LiveSessionPausedEvent(_Acked):
    type: str = "session.paused"


@dataclass(slots=True, kw_only=True)
class LiveSessionResumedEvent(_Acked):
    type: str = "session.resumed"


@dataclass(slots=True, kw_only=True)
class LiveInputAudioMutedEvent(_Acked):
    type: str = "session.input_audio.muted"


@dataclass(slots=True, kw_only=True)
class LiveInputAudioUnmutedEvent(_Acked):
    type: str = "session.input_audio.unmuted"


@dataclass(slots=True, kw_only=True)
class LiveFixturePlayingEvent(_Acked):
    """``session.output_audio.fixture.playing``: the clip was accepted."""

    type: str = "session.output_audio.fixture.playing"


@dataclass(slots=True, kw_only=True)
class LiveFixturePlayedEvent(_Acked):
    """``session.output_audio.fixture.played``: the clip left the server's mixer."""

    type: str = "session.output_audio.fixture.played"


@dataclass(slots=True, kw_only=True)
class _Span(_Acked):
    """A server event placed on the session timeline (ms from the session's start)."""

    start_ms: int = 0
    end_ms: int = 0


@dataclass(slots=True, kw_only=True)
class LiveCommentaryAppendedEvent(_Span):
    type: str = "session.commentary.appended"


@dataclass(slots=True, kw_only=True)
class LiveThinkingAppendedEvent(_Span):
    type: str = "session.thinking.appended"


@dataclass(slots=True, kw_only=True)
class LiveInstructionsAppendedEvent(_Span):
    type: str = "session.instructions.appended"


@dataclass(slots=True, kw_only=True)
class LiveInputTranscriptDeltaEvent(_Span):
    """``session.input_transcript.delta``: text of what the user said, on the timeline."""

    type: str = "session.input_transcript.delta"
    delta: str = ""


@dataclass(slots=True, kw_only=True)
class LiveOutputTranscriptDeltaEvent(_Span):
    """``session.output_transcript.delta``: text of what the model said, on the timeline."""

    type: str = "session.output_transcript.delta"
    delta: str = ""


@dataclass(slots=True, kw_only=True)
class LiveOutputAudioDeltaEvent(ServerEvent):
    """``session.output_audio.delta``: output audio (base64) in delivery order; no ids
    (a sideband copy adds ``start_ms`` / ``end_ms``)."""

    type: str = "session.output_audio.delta"
    delta: str = ""
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(slots=True, kw_only=True)
class LiveDelegationCreatedEvent(_Acked):
    """``session.delegation.created``: the model handed a task on (metadata only:
    ``delegation`` has ``id``, ``target`` and maybe ``response_id``)."""

    type: str = "session.delegation.created"
    offset_ms: int = 0
    delegation: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class LiveResponseEvent(_Acked):
    """``response.event``: one event of the Responses backend, wrapped (``event``)."""

    type: str = "response.event"
    event: Json = field(default_factory=dict)
    delegation_id: str | None = None


@dataclass(slots=True, kw_only=True)
class LiveDecisionEvent(ServerEvent):
    """``decision.event``: a Decisions result (``event.decision``)."""

    type: str = "decision.event"
    event: Json = field(default_factory=dict)
    delegation_id: str | None = None
    trigger_id: str | None = None
    source_event_id: str | None = None
    source_event_type: str | None = None


@dataclass(slots=True, kw_only=True)
class LiveDecisionItemCreatedEvent(_Acked):
    type: str = "decision.item.created"
    item: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class LiveDecisionItemDeletedEvent(_Acked):
    type: str = "decision.item.deleted"
    item_id: str = ""


@dataclass(slots=True, kw_only=True)
class LiveInfoEvent(_Acked):
    """``info``: a notice (``code``, ``message``) that needs no action."""

    type: str = "info"
    code: str = ""
    message: str = ""


@dataclass(slots=True, kw_only=True)
class TransportDtmfReceivedEvent(ServerEvent):
    """``transport.dtmf.received`` (SIP calls, sideband): a key the caller pressed."""

    type: str = "transport.dtmf.received"
    event: str = ""


@dataclass(slots=True, kw_only=True)
class TransportDtmfSentEvent(_Acked):
    type: str = "transport.dtmf.sent"
    event: str = ""


@dataclass(slots=True, kw_only=True)
class TransportRingingEvent(ServerEvent):
    type: str = "transport.ringing"
    session_id: str = ""


@dataclass(slots=True, kw_only=True)
class TransportAnsweredEvent(ServerEvent):
    type: str = "transport.answered"
    session_id: str = ""


@dataclass(slots=True, kw_only=True)
class TransportFailedEvent(ServerEvent):
    type: str = "transport.failed"
    session_id: str = ""
    error: Json = field(default_factory=dict)


#: GPT-Live server event type -> class.
LIVE_SERVER_EVENT_TYPES: dict[str, type[ServerEvent]] = {
    **collect(
        ServerEvent,
        (),
        {k: v for k, v in globals().items() if getattr(v, "__module__", None) == __name__},
    ),
    "error": ErrorEvent,
}


def parse_live_event(frame: str | bytes) -> ServerEvent:
    """One GPT-Live server frame as a typed event; never raises (see the module docstring)."""
    data = decode_frame(frame)
    if isinstance(data, ProtocolErrorEvent):
        return data
    kind: str = data["type"]
    cls = LIVE_SERVER_EVENT_TYPES.get(kind)
    if cls is None:
        eid = data.get("event_id")
        return UnknownServerEvent(type=kind, event_id=eid if isinstance(eid, str) else "", raw=data)
    try:
        event: ServerEvent = cls.from_dict(data)
    except Exception as exc:  # pragma: no cover - defensive: the parser must never raise
        return ProtocolErrorEvent(description=f"unreadable event: {type(exc).__name__}")
    return event
