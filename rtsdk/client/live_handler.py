"""The app's handler of GPT-Live events: :class:`LiveEventHandler`.

One no-op method per GPT-Live server event (``on_`` + the type, dots as underscores:
``session.output_transcript.delta`` -> ``on_session_output_transcript_delta``), besides the
SDK's own events and :meth:`~rtsdk.session.events.EventHandler.on_event`. Subclass it and
override what you need; methods may be plain or ``async``, as for
:class:`~rtsdk.client.handler.RealtimeEventHandler`.
"""

from __future__ import annotations

from collections.abc import Awaitable

from rtsdk.protocol import events as ev
from rtsdk.protocol import live_events as lev
from rtsdk.session.events import EventHandler

__all__ = ["LiveEventHandler"]


class LiveEventHandler(EventHandler):
    """Subclass and override what you need; every method is a no-op here."""

    __stub_class__ = True

    def on_decision_event(self, event: lev.LiveDecisionEvent) -> Awaitable[None] | None:
        """``decision.event``."""
        return None

    def on_decision_item_created(
        self, event: lev.LiveDecisionItemCreatedEvent
    ) -> Awaitable[None] | None:
        """``decision.item.created``."""
        return None

    def on_decision_item_deleted(
        self, event: lev.LiveDecisionItemDeletedEvent
    ) -> Awaitable[None] | None:
        """``decision.item.deleted``."""
        return None

    def on_error(self, event: ev.ErrorEvent) -> Awaitable[None] | None:
        """``error``."""
        return None

    def on_info(self, event: lev.LiveInfoEvent) -> Awaitable[None] | None:
        """``info``."""
        return None

    def on_response_event(self, event: lev.LiveResponseEvent) -> Awaitable[None] | None:
        """``response.event``."""
        return None

    def on_session_closed(self, event: lev.LiveSessionClosedEvent) -> Awaitable[None] | None:
        """``session.closed``."""
        return None

    def on_session_commentary_appended(
        self, event: lev.LiveCommentaryAppendedEvent
    ) -> Awaitable[None] | None:
        """``session.commentary.appended``."""
        return None

    def on_session_delegation_created(
        self, event: lev.LiveDelegationCreatedEvent
    ) -> Awaitable[None] | None:
        """``session.delegation.created``."""
        return None

    def on_session_input_audio_muted(
        self, event: lev.LiveInputAudioMutedEvent
    ) -> Awaitable[None] | None:
        """``session.input_audio.muted``."""
        return None

    def on_session_input_audio_unmuted(
        self, event: lev.LiveInputAudioUnmutedEvent
    ) -> Awaitable[None] | None:
        """``session.input_audio.unmuted``."""
        return None

    def on_session_input_transcript_delta(
        self, event: lev.LiveInputTranscriptDeltaEvent
    ) -> Awaitable[None] | None:
        """``session.input_transcript.delta``."""
        return None

    def on_session_instructions_appended(
        self, event: lev.LiveInstructionsAppendedEvent
    ) -> Awaitable[None] | None:
        """``session.instructions.appended``."""
        return None

    def on_session_output_audio_delta(
        self, event: lev.LiveOutputAudioDeltaEvent
    ) -> Awaitable[None] | None:
        """``session.output_audio.delta``."""
        return None

    def on_session_output_audio_fixture_played(
        self, event: lev.LiveFixturePlayedEvent
    ) -> Awaitable[None] | None:
        """``session.output_audio.fixture.played``."""
        return None

    def on_session_output_audio_fixture_playing(
        self, event: lev.LiveFixturePlayingEvent
    ) -> Awaitable[None] | None:
        """``session.output_audio.fixture.playing``."""
        return None

    def on_session_output_transcript_delta(
        self, event: lev.LiveOutputTranscriptDeltaEvent
    ) -> Awaitable[None] | None:
        """``session.output_transcript.delta``."""
        return None

    def on_session_paused(self, event: lev.LiveSessionPausedEvent) -> Awaitable[None] | None:
        """``session.paused``."""
        return None

    def on_session_resumed(self, event: lev.LiveSessionResumedEvent) -> Awaitable[None] | None:
        """``session.resumed``."""
        return None

    def on_session_started(self, event: lev.LiveSessionStartedEvent) -> Awaitable[None] | None:
        """``session.started``."""
        return None

    def on_session_thinking_appended(
        self, event: lev.LiveThinkingAppendedEvent
    ) -> Awaitable[None] | None:
        """``session.thinking.appended``."""
        return None

    def on_session_updated(self, event: lev.LiveSessionUpdatedEvent) -> Awaitable[None] | None:
        """``session.updated``."""
        return None

    def on_session_usage_updated(self, event: lev.LiveUsageUpdatedEvent) -> Awaitable[None] | None:
        """``session.usage.updated``."""
        return None

    def on_transport_answered(self, event: lev.TransportAnsweredEvent) -> Awaitable[None] | None:
        """``transport.answered``."""
        return None

    def on_transport_dtmf_received(
        self, event: lev.TransportDtmfReceivedEvent
    ) -> Awaitable[None] | None:
        """``transport.dtmf.received``."""
        return None

    def on_transport_dtmf_sent(self, event: lev.TransportDtmfSentEvent) -> Awaitable[None] | None:
        """``transport.dtmf.sent``."""
        return None

    def on_transport_failed(self, event: lev.TransportFailedEvent) -> Awaitable[None] | None:
        """``transport.failed``."""
        return None

    def on_transport_ringing(self, event: lev.TransportRingingEvent) -> Awaitable[None] | None:
        """``transport.ringing``."""
        return None
