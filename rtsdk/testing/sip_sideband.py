"""Sideband connections to SIP calls: Realtime's ``/v1/realtime?call_id=…`` and GPT-Live's
``/v1/live/sessions/{session_id}/attach``.

A :class:`SidebandConnection` is a :class:`~rtsdk.testing.ServerConnection` (the same
records, waits, stalls, drops and close faults) attached to the session of an answered call
(:mod:`.sip_line`): what it sends goes to that session as commands, what the session says
comes back on it, beside the other sidebands of the call. Closing a sideband leaves the call
up; the call's end closes every sideband (1000). Nothing is sent before the first event of
the line (Realtime: ``session.created``; GPT-Live: the replay of the last seconds).
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from .connection import ServerConnection, ServerHost, SessionLogic
from .faults import Faults
from .sip_call import SimulatedCall
from .sip_line import LiveLine, SipLine

__all__ = ["SidebandConnection", "SidebandLogic"]

Json = dict[str, Any]


class Directory(Protocol):
    """Where a sideband finds its call (``server.sip``, a :class:`~rtsdk.testing.SipCalls`)."""

    def call_of_sideband(self, raw_path: str) -> SimulatedCall | None:
        """The accepted call a sideband upgrade on ``raw_path`` attaches to, or None."""


class SidebandLogic:
    """The :class:`~rtsdk.testing.connection.SessionLogic` of a sideband: its commands go to
    the call's line, its errors come back to it alone."""

    def __init__(self, conn: SidebandConnection, line: SipLine | None) -> None:
        self.conn = conn
        self.line = line
        self._attached = False

    @property
    def session(self) -> Json:
        return self.line.session if self.line is not None else {}

    def deliver(self, event: Json) -> None:
        self.conn.send_event(event)

    def end(self, code: int, reason: str) -> None:
        self._attached = False
        self.conn.close_after_queued(code, reason)

    def start(self) -> None:
        line = self.line
        if line is None or line.ended:  # the call ended between the upgrade and now
            self.conn.close_after_queued(1000, "call ended")
            return
        self._attached = True
        line.attach(self)

    def handle(self, data: Json) -> None:
        if self._attached and self.line is not None:
            self.line.command(self, data)

    def binary_frame(self) -> None:
        if self._attached and self.line is not None:
            line = self.line
            line.from_sideband(self, line.logic.binary_frame)

    def bad_frame(self, text: str) -> None:
        if self._attached and self.line is not None:
            line = self.line
            line.from_sideband(self, lambda: line.logic.bad_frame(text))

    def fail(self, key: str, **fields: Any) -> None:
        line = self.line
        if line is not None:
            line.from_sideband(self, lambda: line.logic.fail(key, **fields))

    def close(self) -> None:
        self._attached = False
        if self.line is not None:
            self.line.detach(self)


class SidebandConnection(ServerConnection):
    """One sideband WebSocket of a SIP call (see the module docstring). :attr:`line` is the
    call's session (None when the call ended before the connection was up); :attr:`call` the
    :class:`~rtsdk.testing.SimulatedCall`."""

    call: SimulatedCall | None
    line: SipLine | None

    audio_types = frozenset(
        {
            "session.input_audio.append",
            "session.output_audio.delta",
            "input_audio_buffer.append",
        }
    )

    def _make_logic(
        self, server: ServerHost, model: str, faults: Faults, intent: str | None
    ) -> SessionLogic:
        sip = cast(Directory, cast(Any, server).sip)
        self.call = sip.call_of_sideband(self.path)
        line = self.call.line if self.call is not None else None
        self.line = line if isinstance(line, SipLine) else None
        return SidebandLogic(self, self.line)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        api = self.line.api if self.line is not None else "?"
        call = self.call.ids[0] if self.call is not None else "?"
        return f"<SidebandConnection #{self.index} {api} {call} {state} sent={self.frames_sent}>"

    def send_event(self, event: Json) -> None:
        """Queue a server event (after what is queued)."""
        if not self.closed:
            self._enqueue(event)

    def close_after_queued(self, code: int, reason: str) -> None:
        """Close with ``code`` once what is queued has been sent."""
        if not self.closed:
            self._queue.put_nowait(("close", (code, reason), None))

    def expire(self) -> None:
        """``Faults(session_max_seconds=T)`` on a sideband: the call's session expires (a
        GPT-Live one the GPT-Live way, which ends the call), as on a primary connection."""
        if isinstance(self.line, LiveLine):
            self.line.live.expire()
        else:
            super().expire()

    def _injected_error(self, event_id: str) -> Json:
        line = self.line
        if isinstance(line, LiveLine):
            event = line.live.error_event("live_injected_server_error")
            event["event_id"] = event_id
            return event
        return super()._injected_error(event_id)
