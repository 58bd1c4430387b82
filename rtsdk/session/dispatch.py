"""Event delivery for one session: handler methods, listeners and event iterators.

Every event the session publishes goes to the event iterators at once (each has its own queue)
and to one dispatcher task, which calls the handler method, ``on_event`` and the listeners in
order, one at a time. An event nobody would be called for (no handler method, no ``on_event``,
no listener for its type or ``"*"``) is not queued at all: at hundreds of sessions per process,
queuing and waking a task for each unheard event costs more than the rest of its handling.
A slow handler delays only other handlers; a failing one is logged, counted and reported as a
:class:`~rtsdk.session.events.HandlerErrorEvent`, never ends the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from typing import Any

from rtsdk.exceptions import ConfigurationError
from rtsdk.protocol import ProtocolErrorEvent, ServerEvent
from rtsdk.session.events import (
    ConnectedEvent,
    DisconnectedEvent,
    EventHandler,
    HandlerErrorEvent,
    ReconnectedEvent,
    ReconnectingEvent,
    SessionRecycledEvent,
    ToolResultEvent,
    handler_method_name,
    is_stub,
)
from rtsdk.session.metrics import SessionMetrics

__all__ = ["EventCallback", "EventDispatcher"]

log = logging.getLogger("rtsdk.service")

#: A listener: a plain or async function of one event.
EventCallback = Callable[[Any], "Awaitable[None] | None"]

_END = object()
#: The SDK's own event types (every protocol has them).
SDK_EVENT_TYPES: frozenset[str] = frozenset(
    {
        ConnectedEvent.TYPE,
        ReconnectingEvent.TYPE,
        ReconnectedEvent.TYPE,
        DisconnectedEvent.TYPE,
        SessionRecycledEvent.TYPE,
        HandlerErrorEvent.TYPE,
        ToolResultEvent.TYPE,
        ProtocolErrorEvent.TYPE,
    }
)


class EventDispatcher:
    """Who gets which event, and the task that calls them (see the module docstring).

    ``wants_audio`` says whether anyone would see an output audio delta (events of type
    ``audio_event``, the protocol's) as an event: when nobody would, the session skips parsing
    those frames. ``event_types``: the protocol's event types; a handler gets any other type in
    ``on_unknown`` (None: every type goes to its own method).
    """

    def __init__(
        self,
        metrics: SessionMetrics,
        *,
        audio_event: str | None = None,
        event_types: Collection[str] | None = None,
    ) -> None:
        self.metrics = metrics
        self._audio_event = audio_event
        self._known = None if event_types is None else SDK_EVENT_TYPES | frozenset(event_types)
        self.wants_audio = False
        #: Called whenever who listens may have changed (``wants_audio`` recomputed).
        self.on_interest: Callable[[], None] | None = None
        self.ended = False
        self._handler: EventHandler | None = None
        self._handler_cache: dict[str, Callable[[Any], Any] | None] = {}
        self._heard: dict[str, bool] = {}  # event type -> whether the dispatcher calls anyone
        self._listeners: dict[str, list[EventCallback]] = {}
        self._subscribers: list[asyncio.Queue[Any]] = []
        self._queue: asyncio.Queue[Any] = asyncio.Queue()

    # -- who listens -------------------------------------------------------------------------

    def set_handler(self, handler: EventHandler | None) -> None:
        """The handler (an :class:`~rtsdk.session.events.EventHandler`) whose methods receive
        events."""
        self._handler = handler
        self._update_audio_interest()

    def add_listener(self, event_type: str, callback: EventCallback) -> None:
        """Call ``callback(event)`` for each event of ``event_type`` (``"*"``: every event)."""
        if not callable(callback):
            raise ConfigurationError(f"listener must be callable, got {type(callback).__name__}")
        self._listeners.setdefault(event_type, []).append(callback)
        self._update_audio_interest()

    def remove_listener(self, event_type: str, callback: EventCallback) -> None:
        """Undo :meth:`add_listener` (no error if it was not added)."""
        with contextlib.suppress(KeyError, ValueError):
            self._listeners[event_type].remove(callback)
        self._update_audio_interest()

    async def events(self) -> AsyncIterator[ServerEvent]:
        """Every event from now on, in order, until the session ends (at once if it has)."""
        if self.ended:
            return
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._subscribers.append(queue)
        self._update_audio_interest()
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                yield item
        finally:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(queue)
            self._update_audio_interest()

    def _handler_method(self, event_type: str) -> Callable[[Any], Any] | None:
        try:
            return self._handler_cache[event_type]
        except KeyError:
            pass
        method = None
        handler = self._handler
        if handler is not None:
            name = handler_method_name(event_type)
            known = self._known
            if known is not None and event_type not in known:
                name = "on_unknown"
            if not is_stub(type(handler), name):
                method = getattr(handler, name)
        self._handler_cache[event_type] = method
        return method

    def _on_event_overridden(self) -> bool:
        handler = self._handler
        return handler is not None and not is_stub(type(handler), "on_event")

    def _is_heard(self, event_type: str) -> bool:
        heard = self._heard.get(event_type)
        if heard is None:
            heard = self._heard[event_type] = bool(
                self._handler_method(event_type) is not None
                or self._on_event_overridden()
                or self._listeners.get(event_type)
                or self._listeners.get("*")
            )
        return heard

    def _update_audio_interest(self) -> None:
        self._handler_cache.clear()
        self._heard.clear()
        audio = self._audio_event
        self.wants_audio = bool(
            self._subscribers
            or self._listeners.get("*")
            or self._on_event_overridden()
            or (
                audio is not None
                and (self._listeners.get(audio) or self._handler_method(audio) is not None)
            )
        )
        changed = self.on_interest
        if changed is not None:
            changed()

    # -- delivery ----------------------------------------------------------------------------

    def publish(self, event: ServerEvent) -> None:
        """Hand ``event`` to the iterators and queue it for the dispatcher (if it calls anyone
        for it)."""
        for queue in self._subscribers:
            queue.put_nowait(event)
        if not self._is_heard(event.type):
            return
        q = self._queue
        q.put_nowait(event)
        size = q.qsize()
        if size > self.metrics.dispatch_queue_high_water:
            self.metrics.dispatch_queue_high_water = size

    def end(self) -> None:
        """No more events: the iterators stop, the dispatcher returns once it caught up."""
        self.ended = True
        for queue in list(self._subscribers):
            queue.put_nowait(_END)
        self._queue.put_nowait(_END)

    async def run(self) -> None:
        """The dispatcher task: call the handlers of each event in order, until :meth:`end`."""
        q = self._queue
        while True:
            event = await q.get()
            if event is _END:
                return
            etype = event.type
            method = self._handler_method(etype)
            if method is not None:
                await self._call(method, event, handler_method_name(etype))
            if self._on_event_overridden():
                assert self._handler is not None
                await self._call(self._handler.on_event, event, "on_event")
            for key in (etype, "*"):
                for callback in self._listeners.get(key, ()):
                    await self._call(callback, event, getattr(callback, "__name__", "listener"))

    async def _call(self, fn: Callable[[Any], Any], event: ServerEvent, name: str) -> None:
        try:
            result = fn(event)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.metrics.handler_errors += 1
            log.exception("event handler %s failed on %s", name, event.type)
            if isinstance(event, HandlerErrorEvent):
                return  # never loop on a failing error handler
            report = HandlerErrorEvent(event_type=event.type, handler=name, error=exc)
            for queue in self._subscribers:
                queue.put_nowait(report)
            method = self._handler_method(report.type)
            if method is not None:
                await self._call(method, report, "on_handler_error")
            for callback in self._listeners.get(report.type, ()):
                await self._call(callback, report, getattr(callback, "__name__", "listener"))
