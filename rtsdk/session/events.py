"""Events for apps: the SDK's own lifecycle events and :class:`EventHandler`, the base of every
protocol's handler (the Realtime one is :class:`~rtsdk.client.handler.RealtimeEventHandler`).

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
from typing import Any, ClassVar

from rtsdk.protocol import ServerEvent
from rtsdk.protocol import events as ev

__all__ = [
    "ConnectedEvent",
    "DisconnectedEvent",
    "EventHandler",
    "HandlerErrorEvent",
    "ReconnectedEvent",
    "ReconnectingEvent",
    "SessionRecycledEvent",
    "ToolResultEvent",
    "handler_method_name",
    "is_stub",
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
    #: GPT-Live: the new session's id (a reconnect starts a new GPT-Live session)
    session_id: str | None = None
    #: client events the old connection carried that the server never confirmed, sent again
    #: on this one after the replay (conversation items, a response request)
    resent: tuple[dict[str, Any], ...] = ()
    #: client events the old connection carried, never confirmed and not sent again (about
    #: state the old session took with it: truncate, delete, commit, clear, retrieve)
    unsent: tuple[dict[str, Any], ...] = ()


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
    #: GPT-Live: the new session's id
    session_id: str | None = None


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


class EventHandler:
    """The methods every protocol's handler has: :meth:`on_event` and the SDK's own events
    (protocol-neutral; :class:`~rtsdk.client.handler.RealtimeEventHandler` adds one method per
    Realtime event). Every method is a no-op here; the dispatcher calls only those a subclass
    overrides.

    Methods may be plain functions or ``async def``: the dispatcher awaits coroutines before the
    next event, so handlers see events one at a time, in order. :meth:`on_event` sees every
    event (after its own method). An exception is logged and reported as a
    :class:`HandlerErrorEvent`; it never ends the session and never touches the audio path,
    which does not wait for handlers.
    """

    #: this class's methods are no-op stubs (the dispatcher skips them); set in its own body by
    #: every stub class, never inherited by an app's subclass (read from ``vars``)
    __stub_class__ = True

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


def is_stub(handler_type: type, name: str) -> bool:
    """True when ``name`` on ``handler_type`` is a no-op stub of a handler base class (the app
    did not override it), or missing."""
    for klass in handler_type.__mro__:
        if name in vars(klass):
            return bool(vars(klass).get("__stub_class__", False))
    return True
