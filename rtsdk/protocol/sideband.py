"""Protocol cores for a sideband: a WebSocket that steers a session another leg carries.

A SIP call's audio travels between the carrier and OpenAI; the app attaches a *sideband*
WebSocket to the call's session (Realtime: ``/v1/realtime?call_id=``; GPT-Live:
``/v1/live/sessions/{id}/attach``) to see its events and send it commands. The session was
configured by the call's ``accept`` (or, outbound, by its creation), so a sideband connection:

- sends no configuration when it opens (GPT-Live: never ``session.start``; Realtime: no
  ``session.update``) and is attached as soon as the socket is open: the session layer is told
  so without waiting for any event (a GPT-Live sideband gets no ``session.started`` of its
  own; what it receives first is a replay of the session's last seconds);
- never replays the conversation on a re-attach (the session kept it), keeps what it knew
  of the session across one (a delegated run waiting for a function output goes on), and
  never renews the session before its expiry (a re-attach would not extend a call);
- leaves the audio format out of every session config it sends: SIP negotiates it;
- on GPT-Live, takes ``session.closed`` (any reason) as the end of the call, not as a
  reason to start a new session; on Realtime does not cut or truncate the model's audio
  when the caller speaks (the server owns the call's playback and cuts it itself);
- says no goodbye when the app detaches: ending the call is the REST ``hangup``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import live_events as lev
from .core import Actions, ProtocolCore
from .events import ServerEvent
from .live import LiveSettings
from .live_core import LiveCore
from .realtime_core import RealtimeCore
from .session import SessionSettings
from .transcription import TranscriptionSettings

__all__ = ["LiveSidebandCore", "RealtimeSidebandCore", "without_audio_format"]

Json = dict[str, Any]


def without_audio_format(session: Json) -> Json:
    """``session`` (a Realtime or GPT-Live session object) without its audio format fields
    (``audio.format``, ``audio.input.format``, ``audio.output.format``), which a SIP call
    negotiates; an ``audio`` object left empty is dropped. A new dict; ``session`` unchanged."""
    out = dict(session)
    audio = out.get("audio")
    if not isinstance(audio, dict):
        return out
    audio = {k: v for k, v in audio.items() if k != "format"}
    for side in ("input", "output"):
        part = audio.get(side)
        if isinstance(part, dict):
            part = {k: v for k, v in part.items() if k != "format"}
            if part:
                audio[side] = part
            else:
                del audio[side]
    if audio:
        out["audio"] = audio
    else:
        del out["audio"]
    return out


class LiveSidebandCore(LiveCore):
    """GPT-Live's core on a sideband attached to session ``session_id`` (see the module
    docstring)."""

    #: a re-attach continues the same session, which may well have what the old socket
    #: carried: nothing is sent again (see :mod:`.acks`), so nothing is tracked
    tracks_acks = False

    def __init__(self, settings: LiveSettings | None = None, *, session_id: str) -> None:
        super().__init__(settings)
        self.session_id = session_id
        self.session_ids = [session_id]
        self.started = True
        self._attached = False

    def on_connect(self, *, replay: bool = False) -> list[Json]:
        """Nothing: the session is running. A re-attach keeps everything (the delegated runs
        waiting for function outputs, the transcript): it is the same session."""
        if not self._attached:
            super().on_connect(replay=False)
        self.started = True  # attached: errors from now on are the session's, not a start's
        self._attached = True
        self.replayed = 0
        return []

    def update_settings(self, settings: LiveSettings) -> list[Json]:
        """Before the first attach: the settings the session was created with (the accept's),
        kept as they are; after: a ``session.update`` for a delegation / triggers change."""
        if not self._attached:
            if not isinstance(settings, LiveSettings):
                raise TypeError("a GPT-Live session takes LiveSettings")
            self.settings = settings
            return []
        return super().update_settings(settings)

    def handle(self, event: ServerEvent) -> Actions:
        if isinstance(event, lev.LiveSessionClosedEvent):
            # the call is over, whatever the reason: never a new session from a sideband
            self.closed = event
            if isinstance(event.usage, dict):
                self.usage = event.usage
            actions = Actions(closed=True)
            if event.reason == "content":
                actions.problem = "GPT-Live ended the call: a safety filter (reason 'content')"
            return actions
        actions = super().handle(event)
        self.expires_at = None  # a re-attach does not extend the call: nothing to renew
        return actions

    def close(self) -> list[Json]:
        """Nothing: detaching leaves the call running (hang up with the REST call)."""
        return []


class RealtimeSidebandCore(RealtimeCore):
    """The Realtime core on a sideband attached with ``?call_id=`` (see the module
    docstring)."""

    #: as on GPT-Live's sideband: a re-attach continues the session, nothing is sent again
    tracks_acks = False

    def __init__(
        self,
        settings: SessionSettings | TranscriptionSettings | None = None,
        *,
        model: str | None = None,
    ) -> None:
        super().__init__(settings, model=model)

    def on_connect(self, *, replay: bool = False) -> list[Json]:
        """No ``session.update`` (the accept configured the session); responses the app
        asked for before the socket opened go out."""
        frames = super().on_connect(replay=False)
        self._config_event_id = None
        self.replayed = 0
        return frames[1:]

    def update_settings(self, settings: SessionSettings | TranscriptionSettings) -> list[Json]:
        frames = super().update_settings(settings)
        return [_strip_update(frame) for frame in frames]

    def barge_in(self, *, cancel: bool | None = None) -> list[Json]:
        """The server cuts the call's audio at the caller's speech by itself: nothing to send,
        unless ``cancel`` asks to cancel the active response."""
        return self.cancel_response() if cancel else []


def _strip_update(frame: Json) -> Json:
    session = frame.get("session")
    if frame.get("type") == "session.update" and isinstance(session, dict):
        return {**frame, "session": without_audio_format(session)}
    return frame


if TYPE_CHECKING:  # both are protocol cores (checked by mypy)
    _LIVE: ProtocolCore = LiveSidebandCore(session_id="x")
    _REALTIME: ProtocolCore = RealtimeSidebandCore()
