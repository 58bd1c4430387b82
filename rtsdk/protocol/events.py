"""Typed Realtime events: the 11 client and the GA server event types, by their GA names.

Every event is a slotted dataclass. Fields are typed as the reference types them; nested objects
(``session``, ``item``, ``response``, ``part``, ``error``, ...) stay plain dicts. Anything the
class does not know, or a field whose value has an unexpected JSON type, is kept in ``extra``
(never dropped, never an error), so ``event.to_dict()`` gives back what came in.

``SERVER_EVENT_TYPES`` / ``CLIENT_EVENT_TYPES`` map each type string to its class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._base import Json, _EventBase, collect, register

__all__ = [
    "CLIENT_EVENT_TYPES",
    "SERVER_EVENT_TYPES",
    "ClientEvent",
    "ConversationCreatedEvent",
    "ConversationItemAddedEvent",
    "ConversationItemCreateEvent",
    "ConversationItemDeleteEvent",
    "ConversationItemDeletedEvent",
    "ConversationItemDoneEvent",
    "ConversationItemRetrieveEvent",
    "ConversationItemRetrievedEvent",
    "ConversationItemTruncateEvent",
    "ConversationItemTruncatedEvent",
    "DtmfEventReceivedEvent",
    "ErrorEvent",
    "InputAudioBufferAppendEvent",
    "InputAudioBufferClearEvent",
    "InputAudioBufferClearedEvent",
    "InputAudioBufferCommitEvent",
    "InputAudioBufferCommittedEvent",
    "InputAudioBufferSpeechStartedEvent",
    "InputAudioBufferSpeechStoppedEvent",
    "InputAudioBufferTimeoutTriggeredEvent",
    "InputAudioTranscriptionCompletedEvent",
    "InputAudioTranscriptionDeltaEvent",
    "InputAudioTranscriptionFailedEvent",
    "InputAudioTranscriptionSegmentEvent",
    "McpListToolsCompletedEvent",
    "McpListToolsFailedEvent",
    "McpListToolsInProgressEvent",
    "OutputAudioBufferClearEvent",
    "OutputAudioBufferClearedEvent",
    "OutputAudioBufferStartedEvent",
    "OutputAudioBufferStoppedEvent",
    "ProtocolErrorEvent",
    "RateLimitsUpdatedEvent",
    "ResponseCancelEvent",
    "ResponseContentPartAddedEvent",
    "ResponseContentPartDoneEvent",
    "ResponseCreateEvent",
    "ResponseCreatedEvent",
    "ResponseDoneEvent",
    "ResponseFunctionCallArgumentsDeltaEvent",
    "ResponseFunctionCallArgumentsDoneEvent",
    "ResponseMcpCallArgumentsDeltaEvent",
    "ResponseMcpCallArgumentsDoneEvent",
    "ResponseMcpCallCompletedEvent",
    "ResponseMcpCallFailedEvent",
    "ResponseMcpCallInProgressEvent",
    "ResponseOutputAudioDeltaEvent",
    "ResponseOutputAudioDoneEvent",
    "ResponseOutputAudioTranscriptDeltaEvent",
    "ResponseOutputAudioTranscriptDoneEvent",
    "ResponseOutputItemAddedEvent",
    "ResponseOutputItemDoneEvent",
    "ResponseOutputTextDeltaEvent",
    "ResponseOutputTextDoneEvent",
    "ServerEvent",
    "SessionCreatedEvent",
    "SessionUpdateEvent",
    "SessionUpdatedEvent",
    "UnknownClientEvent",
    "UnknownServerEvent",
]

# --------------------------------------------------------------------------------------------
# server events


@dataclass(slots=True, kw_only=True)
class ServerEvent(_EventBase):
    """Base of every event the server sends. ``extra`` holds keys this class does not know."""

    type: str = ""
    event_id: str = ""
    extra: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class UnknownServerEvent(ServerEvent):
    """A server event of a type rtsdk does not know; ``raw`` is the decoded object."""

    raw: Json = field(default_factory=dict)

    def to_dict(self) -> Json:
        return dict(self.raw)


@dataclass(slots=True, kw_only=True)
class ProtocolErrorEvent(ServerEvent):
    """Not sent by the server: a frame that could not be read (bad JSON, no string ``type``).

    ``description`` says what was wrong; ``excerpt`` is the start of the frame (at most 80
    characters), never the whole frame.
    """

    TYPE: ClassVar[str] = "rtsdk.protocol_error"
    type: str = "rtsdk.protocol_error"
    description: str = ""
    excerpt: str = ""


@dataclass(slots=True, kw_only=True)
class SessionCreatedEvent(ServerEvent):
    type: str = "session.created"
    session: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class SessionUpdatedEvent(ServerEvent):
    type: str = "session.updated"
    session: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class ConversationCreatedEvent(ServerEvent):
    type: str = "conversation.created"
    conversation: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class ErrorEvent(ServerEvent):
    """``error`` event: ``error`` has ``type``, ``message``, maybe ``code``/``param``."""

    type: str = "error"
    error: Json = field(default_factory=dict)

    @property
    def code(self) -> str | None:
        code = self.error.get("code")
        return code if isinstance(code, str) else None

    @property
    def message(self) -> str:
        message = self.error.get("message")
        return message if isinstance(message, str) else ""


@dataclass(slots=True, kw_only=True)
class RateLimitsUpdatedEvent(ServerEvent):
    type: str = "rate_limits.updated"
    rate_limits: list[Json] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class InputAudioBufferSpeechStartedEvent(ServerEvent):
    type: str = "input_audio_buffer.speech_started"
    audio_start_ms: int = 0
    item_id: str = ""


@dataclass(slots=True, kw_only=True)
class InputAudioBufferSpeechStoppedEvent(ServerEvent):
    type: str = "input_audio_buffer.speech_stopped"
    audio_end_ms: int = 0
    item_id: str = ""


@dataclass(slots=True, kw_only=True)
class InputAudioBufferCommittedEvent(ServerEvent):
    type: str = "input_audio_buffer.committed"
    item_id: str = ""
    previous_item_id: str | None = None


@dataclass(slots=True, kw_only=True)
class InputAudioBufferClearedEvent(ServerEvent):
    type: str = "input_audio_buffer.cleared"


@dataclass(slots=True, kw_only=True)
class InputAudioBufferTimeoutTriggeredEvent(ServerEvent):
    type: str = "input_audio_buffer.timeout_triggered"
    audio_start_ms: int = 0
    audio_end_ms: int = 0
    item_id: str = ""


@dataclass(slots=True, kw_only=True)
class DtmfEventReceivedEvent(ServerEvent):
    """SIP only; the one server event without an ``event_id``."""

    type: str = "input_audio_buffer.dtmf_event_received"
    event: str = ""
    received_at: int = 0


@dataclass(slots=True, kw_only=True)
class ConversationItemAddedEvent(ServerEvent):
    """Also what a beta ``conversation.item.created`` becomes."""

    type: str = "conversation.item.added"
    item: Json = field(default_factory=dict)
    previous_item_id: str | None = None


@dataclass(slots=True, kw_only=True)
class ConversationItemDoneEvent(ServerEvent):
    type: str = "conversation.item.done"
    item: Json = field(default_factory=dict)
    previous_item_id: str | None = None


@dataclass(slots=True, kw_only=True)
class ConversationItemTruncatedEvent(ServerEvent):
    type: str = "conversation.item.truncated"
    item_id: str = ""
    content_index: int = 0
    audio_end_ms: int = 0


@dataclass(slots=True, kw_only=True)
class ConversationItemDeletedEvent(ServerEvent):
    type: str = "conversation.item.deleted"
    item_id: str = ""


@dataclass(slots=True, kw_only=True)
class ConversationItemRetrievedEvent(ServerEvent):
    type: str = "conversation.item.retrieved"
    item: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class InputAudioTranscriptionDeltaEvent(ServerEvent):
    type: str = "conversation.item.input_audio_transcription.delta"
    item_id: str = ""
    content_index: int | None = None
    delta: str | None = None
    logprobs: list[Json] | None = None


@dataclass(slots=True, kw_only=True)
class InputAudioTranscriptionCompletedEvent(ServerEvent):
    type: str = "conversation.item.input_audio_transcription.completed"
    item_id: str = ""
    content_index: int = 0
    transcript: str = ""
    usage: Json = field(default_factory=dict)
    logprobs: list[Json] | None = None
    languages: list[Any] | None = None


@dataclass(slots=True, kw_only=True)
class InputAudioTranscriptionFailedEvent(ServerEvent):
    type: str = "conversation.item.input_audio_transcription.failed"
    item_id: str = ""
    content_index: int = 0
    error: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class InputAudioTranscriptionSegmentEvent(ServerEvent):
    type: str = "conversation.item.input_audio_transcription.segment"
    item_id: str = ""
    content_index: int = 0
    id: str = ""
    text: str = ""
    start: float = 0.0
    end: float = 0.0
    speaker: str = ""


@dataclass(slots=True, kw_only=True)
class ResponseCreatedEvent(ServerEvent):
    type: str = "response.created"
    response: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class ResponseDoneEvent(ServerEvent):
    """Final response; ``response["status"]`` says completed/cancelled/failed/incomplete."""

    type: str = "response.done"
    response: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class ResponseOutputItemAddedEvent(ServerEvent):
    type: str = "response.output_item.added"
    response_id: str = ""
    output_index: int = 0
    item: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class ResponseOutputItemDoneEvent(ServerEvent):
    type: str = "response.output_item.done"
    response_id: str = ""
    output_index: int = 0
    item: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class _ContentEvent(ServerEvent):
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0


@dataclass(slots=True, kw_only=True)
class ResponseContentPartAddedEvent(_ContentEvent):
    type: str = "response.content_part.added"
    part: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class ResponseContentPartDoneEvent(_ContentEvent):
    type: str = "response.content_part.done"
    part: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class ResponseOutputAudioDeltaEvent(_ContentEvent):
    """``delta`` is base64 audio (the audio fast path usually handles these frames)."""

    type: str = "response.output_audio.delta"
    delta: str = ""


@dataclass(slots=True, kw_only=True)
class ResponseOutputAudioDoneEvent(_ContentEvent):
    type: str = "response.output_audio.done"


@dataclass(slots=True, kw_only=True)
class ResponseOutputAudioTranscriptDeltaEvent(_ContentEvent):
    type: str = "response.output_audio_transcript.delta"
    delta: str = ""


@dataclass(slots=True, kw_only=True)
class ResponseOutputAudioTranscriptDoneEvent(_ContentEvent):
    type: str = "response.output_audio_transcript.done"
    transcript: str = ""


@dataclass(slots=True, kw_only=True)
class ResponseOutputTextDeltaEvent(_ContentEvent):
    type: str = "response.output_text.delta"
    delta: str = ""


@dataclass(slots=True, kw_only=True)
class ResponseOutputTextDoneEvent(_ContentEvent):
    type: str = "response.output_text.done"
    text: str = ""


@dataclass(slots=True, kw_only=True)
class ResponseFunctionCallArgumentsDeltaEvent(ServerEvent):
    type: str = "response.function_call_arguments.delta"
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    call_id: str = ""
    delta: str = ""


@dataclass(slots=True, kw_only=True)
class ResponseFunctionCallArgumentsDoneEvent(ServerEvent):
    type: str = "response.function_call_arguments.done"
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    call_id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass(slots=True, kw_only=True)
class OutputAudioBufferStartedEvent(ServerEvent):
    """WebRTC/SIP only."""

    type: str = "output_audio_buffer.started"
    response_id: str = ""


@dataclass(slots=True, kw_only=True)
class OutputAudioBufferStoppedEvent(ServerEvent):
    """WebRTC/SIP only."""

    type: str = "output_audio_buffer.stopped"
    response_id: str = ""


@dataclass(slots=True, kw_only=True)
class OutputAudioBufferClearedEvent(ServerEvent):
    """WebRTC/SIP only."""

    type: str = "output_audio_buffer.cleared"
    response_id: str = ""


@dataclass(slots=True, kw_only=True)
class McpListToolsInProgressEvent(ServerEvent):
    type: str = "mcp_list_tools.in_progress"
    item_id: str = ""


@dataclass(slots=True, kw_only=True)
class McpListToolsCompletedEvent(ServerEvent):
    type: str = "mcp_list_tools.completed"
    item_id: str = ""


@dataclass(slots=True, kw_only=True)
class McpListToolsFailedEvent(ServerEvent):
    type: str = "mcp_list_tools.failed"
    item_id: str = ""


@dataclass(slots=True, kw_only=True)
class ResponseMcpCallArgumentsDeltaEvent(ServerEvent):
    type: str = "response.mcp_call_arguments.delta"
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    delta: str = ""
    obfuscation: str | None = None


@dataclass(slots=True, kw_only=True)
class ResponseMcpCallArgumentsDoneEvent(ServerEvent):
    type: str = "response.mcp_call_arguments.done"
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    arguments: str = ""


@dataclass(slots=True, kw_only=True)
class ResponseMcpCallInProgressEvent(ServerEvent):
    type: str = "response.mcp_call.in_progress"
    item_id: str = ""
    output_index: int = 0


@dataclass(slots=True, kw_only=True)
class ResponseMcpCallCompletedEvent(ServerEvent):
    type: str = "response.mcp_call.completed"
    item_id: str = ""
    output_index: int = 0


@dataclass(slots=True, kw_only=True)
class ResponseMcpCallFailedEvent(ServerEvent):
    type: str = "response.mcp_call.failed"
    item_id: str = ""
    output_index: int = 0


# --------------------------------------------------------------------------------------------
# client events


@dataclass(slots=True, kw_only=True)
class ClientEvent(_EventBase):
    """Base of every event the client sends; ``event_id`` is optional (None = not sent)."""

    type: str = ""
    event_id: str | None = None
    extra: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class UnknownClientEvent(ClientEvent):
    """A client event of a type the protocol does not have; ``raw`` is the decoded object."""

    raw: Json = field(default_factory=dict)

    def to_dict(self) -> Json:
        return dict(self.raw)


@dataclass(slots=True, kw_only=True)
class SessionUpdateEvent(ClientEvent):
    type: str = "session.update"
    session: Json = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class InputAudioBufferAppendEvent(ClientEvent):
    type: str = "input_audio_buffer.append"
    audio: str = ""


@dataclass(slots=True, kw_only=True)
class InputAudioBufferCommitEvent(ClientEvent):
    type: str = "input_audio_buffer.commit"


@dataclass(slots=True, kw_only=True)
class InputAudioBufferClearEvent(ClientEvent):
    type: str = "input_audio_buffer.clear"


@dataclass(slots=True, kw_only=True)
class OutputAudioBufferClearEvent(ClientEvent):
    """WebRTC/SIP only."""

    type: str = "output_audio_buffer.clear"


@dataclass(slots=True, kw_only=True)
class ConversationItemCreateEvent(ClientEvent):
    type: str = "conversation.item.create"
    item: Json = field(default_factory=dict)
    previous_item_id: str | None = None


@dataclass(slots=True, kw_only=True)
class ConversationItemTruncateEvent(ClientEvent):
    type: str = "conversation.item.truncate"
    item_id: str = ""
    content_index: int = 0
    audio_end_ms: int = 0


@dataclass(slots=True, kw_only=True)
class ConversationItemDeleteEvent(ClientEvent):
    type: str = "conversation.item.delete"
    item_id: str = ""


@dataclass(slots=True, kw_only=True)
class ConversationItemRetrieveEvent(ClientEvent):
    type: str = "conversation.item.retrieve"
    item_id: str = ""


@dataclass(slots=True, kw_only=True)
class ResponseCreateEvent(ClientEvent):
    type: str = "response.create"
    response: Json | None = None


@dataclass(slots=True, kw_only=True)
class ResponseCancelEvent(ClientEvent):
    type: str = "response.cancel"
    response_id: str | None = None


# --------------------------------------------------------------------------------------------
# registries

for _cls in (ServerEvent, ClientEvent, UnknownServerEvent, UnknownClientEvent, ProtocolErrorEvent):
    register(_cls, _EventBase)
ProtocolErrorEvent._spec = {"type": (str,), "description": (str,), "excerpt": (str,)}

#: GA server event type -> class (45 GA types; the beta ``conversation.item.created`` arrives
#: as :class:`ConversationItemAddedEvent`).
SERVER_EVENT_TYPES: dict[str, type[ServerEvent]] = collect(
    ServerEvent, (UnknownServerEvent, ProtocolErrorEvent), globals()
)
#: Client event type -> class (11 types).
CLIENT_EVENT_TYPES: dict[str, type[ClientEvent]] = collect(
    ClientEvent, (UnknownClientEvent,), globals()
)
