"""GPT-Live on the local server: the paths, and a connection that speaks it.

:class:`LocalRealtimeServer <rtsdk.testing.LocalRealtimeServer>` serves GPT-Live on the same
port as Realtime, at :data:`LIVE_PATHS` (OpenAI's ``/v1/live/sessions`` and Azure's
``/openai/v1/live/sessions``; no query needed, a ``?model=`` is ignored: the model comes in
``session.start``), with the same key rules and HTTP refusals. A :class:`LiveConnection` is a
:class:`~rtsdk.testing.ServerConnection` (the same records, waits, stalls, drops, garbage and
close faults) whose protocol is :class:`~rtsdk.testing.live_session.LiveSession`:

- ``Faults(refuse_auth="error_event")`` sends the ``invalid_api_key`` error (no
  ``session.started``) and closes 1008; ``"http"`` refuses the upgrade with 401.
- ``Faults(session_max_seconds=T)`` and :meth:`LiveConnection.expire` end the session the
  GPT-Live way: ``session.closed`` with ``reason: "expired"``, then a close frame 1000.
- ``Faults(garbage="error_event")`` injects a GPT-Live ``error`` (``server_error``).
- ``record_audio=False`` leaves ``session.input_audio.append`` and
  ``session.output_audio.delta`` out of the records (they are still counted).
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from .connection import ServerConnection, ServerHost, SessionLogic
from .faults import Faults
from .live_model import DelegationScript
from .live_options import LIVE_MODELS, LiveOptions
from .live_session import LiveSession

__all__ = [
    "LIVE_MODELS",
    "LIVE_PATHS",
    "DelegationScript",
    "LiveConnection",
    "LiveHost",
    "LiveOptions",
]

Json = dict[str, Any]

#: Request paths of GPT-Live sessions: OpenAI and Azure.
LIVE_PATHS = ("/v1/live/sessions", "/openai/v1/live/sessions")


class LiveHost(ServerHost, Protocol):
    """What a GPT-Live connection uses of its server, beyond a Realtime connection's."""

    @property
    def live(self) -> LiveOptions:
        """The GPT-Live options (read per session, and per chunk for ``pacing``)."""

    @property
    def delegation_scripts(self) -> list[DelegationScript]:
        """The scripted delegations, shared by every session."""


class LiveConnection(ServerConnection):
    """One accepted GPT-Live connection (see the module docstring). :attr:`live` (also
    ``logic``) is its :class:`~rtsdk.testing.live_session.LiveSession`; ``session`` the
    resolved session (empty before ``session.started``). ``model`` is empty: the model is the
    session's (``session["model"]``)."""

    audio_types = frozenset({"session.input_audio.append", "session.output_audio.delta"})

    def _make_logic(
        self, server: ServerHost, model: str, faults: Faults, intent: str | None
    ) -> SessionLogic:
        host = cast(LiveHost, server)
        return LiveSession(
            send=self._enqueue,
            close_socket=self._close_after_queued,
            ids=server.ids,
            options=lambda: host.live,
            scripts=server.scripts,
            delegation_scripts=host.delegation_scripts,
        )

    @property
    def live(self) -> LiveSession:
        """The GPT-Live session of this connection."""
        logic = self.logic
        assert isinstance(logic, LiveSession)
        return logic

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        model = self.live.session.get("model", "(not started)")
        return f"<LiveConnection #{self.index} {state} model={model} sent={self.frames_sent}>"

    def _close_after_queued(self, code: int, reason: str) -> None:
        self._queue.put_nowait(("close", (code, reason), None))

    def expire(self) -> None:
        """End the session at its duration limit: ``session.closed`` (``expired``), then a
        close frame 1000."""
        self.live.expire()

    def _injected_error(self, event_id: str) -> Json:
        event = self.live.error_event("live_injected_server_error")
        event["event_id"] = event_id
        return event
