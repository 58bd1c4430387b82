"""Events for apps: the SDK's own lifecycle events and :class:`RealtimeEventHandler`.

Server events are the typed classes of :mod:`rtsdk.protocol` (GA names). The SDK adds its own,
all subclasses of :class:`~rtsdk.protocol.ServerEvent` with a ``type`` starting ``rtsdk.``:
:class:`ConnectedEvent`, :class:`ReconnectingEvent`, :class:`ReconnectedEvent`,
:class:`DisconnectedEvent`, :class:`SessionRecycledEvent`, :class:`HandlerErrorEvent`,
:class:`ToolResultEvent` (a registered tool answered a call) and
:class:`~rtsdk.protocol.ProtocolErrorEvent` (a frame that could not be read).

A handler method's name is ``on_`` + the event type without its ``rtsdk.`` prefix, dots as
underscores: ``response.output_audio_transcript.delta`` ->
``on_response_output_audio_transcript_delta``, ``rtsdk.reconnecting`` -> ``on_reconnecting``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import ClassVar

from rtsdk.protocol import ServerEvent
from rtsdk.protocol import events as ev

__all__ = [
    "ConnectedEvent",
    "DisconnectedEvent",
    "HandlerErrorEvent",
    "RealtimeEventHandler",
    "ReconnectedEvent",
    "ReconnectingEvent",
    "SessionRecycledEvent",
    "ToolResultEvent",
    "handler_method_name",
]


@dataclass(slots=True, kw_only=True)
class ConnectedEvent(ServerEvent):
    """The first connection is open and the session config was sent."""

    TYPE: ClassVar[str] = "rtsdk.connected"
    type: str = "rtsdk.connected"
    url: str = ""


@dataclass(slots=True, kw_only=True)
class ReconnectingEvent(ServerEvent):
    """The connection was lost; attempt ``attempt`` (from 1) follows after ``delay`` seconds."""

    TYPE: ClassVar[str] = "rtsdk.reconnecting"
    type: str = "rtsdk.reconnecting"
    attempt: int = 0
    delay: float = 0.0
    reason: str = ""


@dataclass(slots=True, kw_only=True)
class ReconnectedEvent(ServerEvent):
    """A new connection is open; the session config (and the replay) went out on it first."""

    TYPE: ClassVar[str] = "rtsdk.reconnected"
    type: str = "rtsdk.reconnected"
    replayed_items: int = 0


@dataclass(slots=True, kw_only=True)
class DisconnectedEvent(ServerEvent):
    """The session ended for good: ``reason`` says why; ``error`` is set when it failed."""

    TYPE: ClassVar[str] = "rtsdk.disconnected"
    type: str = "rtsdk.disconnected"
    reason: str = ""
    error: BaseException | None = None


@dataclass(slots=True, kw_only=True)
class SessionRecycledEvent(ServerEvent):
    """The connection was renewed before the server's session-length cap (or after it ended
    the session); the config and, if asked, the conversation were replayed."""

    TYPE: ClassVar[str] = "rtsdk.session_recycled"
    type: str = "rtsdk.session_recycled"
    reason: str = ""
    replayed_items: int = 0


@dataclass(slots=True, kw_only=True)
class HandlerErrorEvent(ServerEvent):
    """A handler raised while handling ``event_type``; the session went on."""

    TYPE: ClassVar[str] = "rtsdk.handler_error"
    type: str = "rtsdk.handler_error"
    event_type: str = ""
    handler: str = ""
    error: BaseException | None = None


@dataclass(slots=True, kw_only=True)
class ToolResultEvent(ServerEvent):
    """A registered tool answered call ``call_id`` of response ``response_id``: ``output`` is
    what went back to the model, ``error`` says why the tool failed (None when it did not),
    ``seconds`` how long it ran. The calls of one response are reported in call order, each as
    soon as it and the calls before it are answered."""

    TYPE: ClassVar[str] = "rtsdk.tool_result"
    type: str = "rtsdk.tool_result"
    call_id: str = ""
    name: str = ""
    arguments: str = ""
    response_id: str = ""
    output: str = ""
    error: str | None = None
    seconds: float = 0.0


def handler_method_name(event_type: str) -> str:
    """The :class:`RealtimeEventHandler` method for ``event_type``."""
    return "on_" + event_type.removeprefix("rtsdk.").replace(".", "_")


class RealtimeEventHandler:
    """Subclass and override what you need; every method is a no-op here.

    Methods may be plain functions or ``async def``: the dispatcher awaits coroutines before the
    next event, so handlers see events one at a time, in order. :meth:`on_event` sees every
    event (after its own method). An exception is logged and reported as a
    :class:`HandlerErrorEvent`; it never ends the session and never touches the audio path,
    which does not wait for handlers.
    """

    def on_event(self, event: ServerEvent) -> Awaitable[None] | None:
        """Every event, after its own method."""
        return None

    # -- the SDK's own events --

    def on_connected(self, event: ConnectedEvent) -> Awaitable[None] | None:
        """``rtsdk.connected``."""
        return None

    def on_reconnecting(self, event: ReconnectingEvent) -> Awaitable[None] | None:
        """``rtsdk.reconnecting``."""
        return None

    def on_reconnected(self, event: ReconnectedEvent) -> Awaitable[None] | None:
        """``rtsdk.reconnected``."""
        return None

    def on_disconnected(self, event: DisconnectedEvent) -> Awaitable[None] | None:
        """``rtsdk.disconnected``."""
        return None

    def on_session_recycled(self, event: SessionRecycledEvent) -> Awaitable[None] | None:
        """``rtsdk.session_recycled``."""
        return None

    def on_handler_error(self, event: HandlerErrorEvent) -> Awaitable[None] | None:
        """``rtsdk.handler_error`` (an exception here is only logged)."""
        return None

    def on_tool_result(self, event: ToolResultEvent) -> Awaitable[None] | None:
        """``rtsdk.tool_result``: a registered tool answered a call."""
        return None

    def on_protocol_error(self, event: ev.ProtocolErrorEvent) -> Awaitable[None] | None:
        """``rtsdk.protocol_error``: a frame that could not be read; the session goes on."""
        return None

    def on_unknown(self, event: ev.UnknownServerEvent) -> Awaitable[None] | None:
        """A server event type rtsdk does not know (``event.raw`` has it all)."""
        return None

    # -- server events (GA names) --

    def on_conversation_created(self, event: ev.ConversationCreatedEvent) -> Awaitable[None] | None:
        """``conversation.created``."""
        return None

    def on_conversation_item_added(
        self, event: ev.ConversationItemAddedEvent
    ) -> Awaitable[None] | None:
        """``conversation.item.added``."""
        return None

    def on_conversation_item_deleted(
        self, event: ev.ConversationItemDeletedEvent
    ) -> Awaitable[None] | None:
        """``conversation.item.deleted``."""
        return None

    def on_conversation_item_done(
        self, event: ev.ConversationItemDoneEvent
    ) -> Awaitable[None] | None:
        """``conversation.item.done``."""
        return None

    def on_conversation_item_input_audio_transcription_completed(
        self, event: ev.InputAudioTranscriptionCompletedEvent
    ) -> Awaitable[None] | None:
        """``conversation.item.input_audio_transcription.completed``."""
        return None

    def on_conversation_item_input_audio_transcription_delta(
        self, event: ev.InputAudioTranscriptionDeltaEvent
    ) -> Awaitable[None] | None:
        """``conversation.item.input_audio_transcription.delta``."""
        return None

    def on_conversation_item_input_audio_transcription_failed(
        self, event: ev.InputAudioTranscriptionFailedEvent
    ) -> Awaitable[None] | None:
        """``conversation.item.input_audio_transcription.failed``."""
        return None

    def on_conversation_item_input_audio_transcription_segment(
        self, event: ev.InputAudioTranscriptionSegmentEvent
    ) -> Awaitable[None] | None:
        """``conversation.item.input_audio_transcription.segment``."""
        return None

    def on_conversation_item_retrieved(
        self, event: ev.ConversationItemRetrievedEvent
    ) -> Awaitable[None] | None:
        """``conversation.item.retrieved``."""
        return None

    def on_conversation_item_truncated(
        self, event: ev.ConversationItemTruncatedEvent
    ) -> Awaitable[None] | None:
        """``conversation.item.truncated``."""
        return None

    def on_error(self, event: ev.ErrorEvent) -> Awaitable[None] | None:
        """``error``."""
        return None

    def on_input_audio_buffer_cleared(
        self, event: ev.InputAudioBufferClearedEvent
    ) -> Awaitable[None] | None:
        """``input_audio_buffer.cleared``."""
        return None

    def on_input_audio_buffer_committed(
        self, event: ev.InputAudioBufferCommittedEvent
    ) -> Awaitable[None] | None:
        """``input_audio_buffer.committed``."""
        return None

    def on_input_audio_buffer_dtmf_event_received(
        self, event: ev.DtmfEventReceivedEvent
    ) -> Awaitable[None] | None:
        """``input_audio_buffer.dtmf_event_received``."""
        return None

    def on_input_audio_buffer_speech_started(
        self, event: ev.InputAudioBufferSpeechStartedEvent
    ) -> Awaitable[None] | None:
        """``input_audio_buffer.speech_started``."""
        return None

    def on_input_audio_buffer_speech_stopped(
        self, event: ev.InputAudioBufferSpeechStoppedEvent
    ) -> Awaitable[None] | None:
        """``input_audio_buffer.speech_stopped``."""
        return None

    def on_input_audio_buffer_timeout_triggered(
        self, event: ev.InputAudioBufferTimeoutTriggeredEvent
    ) -> Awaitable[None] | None:
        """``input_audio_buffer.timeout_triggered``."""
        return None

    def on_mcp_list_tools_completed(
        self, event: ev.McpListToolsCompletedEvent
    ) -> Awaitable[None] | None:
        """``mcp_list_tools.completed``."""
        return None

    def on_mcp_list_tools_failed(self, event: ev.McpListToolsFailedEvent) -> Awaitable[None] | None:
        """``mcp_list_tools.failed``."""
        return None

    def on_mcp_list_tools_in_progress(
        self, event: ev.McpListToolsInProgressEvent
    ) -> Awaitable[None] | None:
        """``mcp_list_tools.in_progress``."""
        return None

    def on_output_audio_buffer_cleared(
        self, event: ev.OutputAudioBufferClearedEvent
    ) -> Awaitable[None] | None:
        """``output_audio_buffer.cleared``."""
        return None

    def on_output_audio_buffer_started(
        self, event: ev.OutputAudioBufferStartedEvent
    ) -> Awaitable[None] | None:
        """``output_audio_buffer.started``."""
        return None

    def on_output_audio_buffer_stopped(
        self, event: ev.OutputAudioBufferStoppedEvent
    ) -> Awaitable[None] | None:
        """``output_audio_buffer.stopped``."""
        return None

    def on_rate_limits_updated(self, event: ev.RateLimitsUpdatedEvent) -> Awaitable[None] | None:
        """``rate_limits.updated``."""
        return None

    def on_response_content_part_added(
        self, event: ev.ResponseContentPartAddedEvent
    ) -> Awaitable[None] | None:
        """``response.content_part.added``."""
        return None

    def on_response_content_part_done(
        self, event: ev.ResponseContentPartDoneEvent
    ) -> Awaitable[None] | None:
        """``response.content_part.done``."""
        return None

    def on_response_created(self, event: ev.ResponseCreatedEvent) -> Awaitable[None] | None:
        """``response.created``."""
        return None

    def on_response_done(self, event: ev.ResponseDoneEvent) -> Awaitable[None] | None:
        """``response.done``."""
        return None

    def on_response_function_call_arguments_delta(
        self, event: ev.ResponseFunctionCallArgumentsDeltaEvent
    ) -> Awaitable[None] | None:
        """``response.function_call_arguments.delta``."""
        return None

    def on_response_function_call_arguments_done(
        self, event: ev.ResponseFunctionCallArgumentsDoneEvent
    ) -> Awaitable[None] | None:
        """``response.function_call_arguments.done``."""
        return None

    def on_response_mcp_call_completed(
        self, event: ev.ResponseMcpCallCompletedEvent
    ) -> Awaitable[None] | None:
        """``response.mcp_call.completed``."""
        return None

    def on_response_mcp_call_failed(
        self, event: ev.ResponseMcpCallFailedEvent
    ) -> Awaitable[None] | None:
        """``response.mcp_call.failed``."""
        return None

    def on_response_mcp_call_in_progress(
        self, event: ev.ResponseMcpCallInProgressEvent
    ) -> Awaitable[None] | None:
        """``response.mcp_call.in_progress``."""
        return None

    def on_response_mcp_call_arguments_delta(
        self, event: ev.ResponseMcpCallArgumentsDeltaEvent
    ) -> Awaitable[None] | None:
        """``response.mcp_call_arguments.delta``."""
        return None

    def on_response_mcp_call_arguments_done(
        self, event: ev.ResponseMcpCallArgumentsDoneEvent
    ) -> Awaitable[None] | None:
        """``response.mcp_call_arguments.done``."""
        return None

    def on_response_output_audio_delta(
        self, event: ev.ResponseOutputAudioDeltaEvent
    ) -> Awaitable[None] | None:
        """``response.output_audio.delta``."""
        return None

    def on_response_output_audio_done(
        self, event: ev.ResponseOutputAudioDoneEvent
    ) -> Awaitable[None] | None:
        """``response.output_audio.done``."""
        return None

    def on_response_output_audio_transcript_delta(
        self, event: ev.ResponseOutputAudioTranscriptDeltaEvent
    ) -> Awaitable[None] | None:
        """``response.output_audio_transcript.delta``."""
        return None

    def on_response_output_audio_transcript_done(
        self, event: ev.ResponseOutputAudioTranscriptDoneEvent
    ) -> Awaitable[None] | None:
        """``response.output_audio_transcript.done``."""
        return None

    def on_response_output_item_added(
        self, event: ev.ResponseOutputItemAddedEvent
    ) -> Awaitable[None] | None:
        """``response.output_item.added``."""
        return None

    def on_response_output_item_done(
        self, event: ev.ResponseOutputItemDoneEvent
    ) -> Awaitable[None] | None:
        """``response.output_item.done``."""
        return None

    def on_response_output_text_delta(
        self, event: ev.ResponseOutputTextDeltaEvent
    ) -> Awaitable[None] | None:
        """``response.output_text.delta``."""
        return None

    def on_response_output_text_done(
        self, event: ev.ResponseOutputTextDoneEvent
    ) -> Awaitable[None] | None:
        """``response.output_text.done``."""
        return None

    def on_session_created(self, event: ev.SessionCreatedEvent) -> Awaitable[None] | None:
        """``session.created``."""
        return None

    def on_session_updated(self, event: ev.SessionUpdatedEvent) -> Awaitable[None] | None:
        """``session.updated``."""
        return None
