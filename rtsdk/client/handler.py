"""The app's handler of Realtime events: :class:`RealtimeEventHandler`.

One no-op method per Realtime server event (``on_`` + the type without dots:
``response.output_audio_transcript.delta`` -> ``on_response_output_audio_transcript_delta``),
besides the SDK's own events and :meth:`~rtsdk.session.events.EventHandler.on_event` of
:class:`~rtsdk.session.events.EventHandler`. Subclass it and override what you need.
"""

from __future__ import annotations

from collections.abc import Awaitable

from rtsdk.protocol import events as ev
from rtsdk.session.events import EventHandler

__all__ = ["RealtimeEventHandler"]


class RealtimeEventHandler(EventHandler):
    """Subclass and override what you need; every method is a no-op here.

    Methods may be plain functions or ``async def``: the dispatcher awaits coroutines before the
    next event, so handlers see events one at a time, in order. :meth:`on_event` sees every
    event (after its own method). An exception is logged and reported as a
    :class:`~rtsdk.session.events.HandlerErrorEvent`; it never ends the session and never
    touches the audio path, which does not wait for handlers.
    """

    __stub_class__ = True

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
