"""One client connection of the local server: frames in and out, recording, faults.

Frames the session produces go through one writer task in order; that is where server->client
frames are counted (for the "after N frames" faults), recorded and, during a stall, held back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal, Protocol

from websockets.asyncio.server import ServerConnection as WsConnection
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed

from ..protocol import decode_frame, encode_event
from ..protocol import events as ev
from ..protocol.events import ProtocolErrorEvent
from .beta import client_event_to_ga, server_event_to_beta
from .catalogue import ERRORS
from .config import VadDefaults
from .faults import Faults, FunctionCallScript
from .mcp import McpCallScript
from .session import Ids, RealtimeSession

__all__ = ["ServerConnection", "ServerHost", "SessionLogic"]

log = logging.getLogger("rtsdk.testing")

Json = dict[str, Any]
Frame = Json | str


class ServerHost(Protocol):
    """What a connection uses of the server that accepted it (a
    :class:`~rtsdk.testing.LocalRealtimeServer` is one): the settings and the shared state
    each new session starts from, and the server's ids."""

    @property
    def ids(self) -> Ids:
        """The server's id maker (ids unique across its connections)."""

    @property
    def vad_defaults(self) -> VadDefaults:
        """The turn detection a session starts with."""

    @property
    def pacing(self) -> str:
        """``"fast"`` or ``"realtime"`` (read by the session per delta)."""

    @property
    def audio_chunk_ms(self) -> int:
        """Milliseconds of audio per output delta."""

    @property
    def realtime_lead_ms(self) -> int:
        """How far ahead of real time ``"realtime"`` pacing sends audio."""

    @property
    def voice(self) -> str:
        """The voice a session starts with."""

    @property
    def scripts(self) -> list[FunctionCallScript]:
        """The scripted function calls, shared by every session."""

    @property
    def mcp_scripts(self) -> list[McpCallScript]:
        """The scripted MCP tools, shared by every session."""

    @property
    def transcription_failures(self) -> list[int]:
        """Transcriptions still to fail, shared by every session."""

    @property
    def today(self) -> datetime.date | None:
        """The date deciding which models are shut down (None: the real date)."""


class SessionLogic(Protocol):
    """What a connection drives of the protocol it speaks (a Realtime
    :class:`~rtsdk.testing.session.RealtimeSession` or a GPT-Live
    :class:`~rtsdk.testing.live_session.LiveSession`)."""

    @property
    def session(self) -> Json:
        """The effective session config."""

    def start(self) -> None:
        """The connection is up (send what the protocol sends first)."""

    def handle(self, data: Json) -> None:
        """Act on one decoded client event."""

    def binary_frame(self) -> None:
        """A binary frame came."""

    def bad_frame(self, text: str) -> None:
        """A text frame that is not a JSON event object came."""

    def fail(self, key: str, **fields: Any) -> None:
        """Send catalogue error ``key``."""

    def close(self) -> None:
        """The connection is gone: stop all work."""


class ServerConnection:
    """One accepted WebSocket connection of :class:`~rtsdk.testing.LocalRealtimeServer`.

    ``received`` / ``sent``: every frame in order, as decoded dicts (or the raw text of a
    frame that is not a JSON object with a string ``type``). ``session`` is the merged session
    dict; ``headers`` and ``path`` are what the client sent at the upgrade (``model`` is from
    the query). ``beta`` says whether it speaks the beta shapes (Azure's preview path, or
    ``OpenAI-Beta: realtime=v1``); the records then hold the beta frames. ``intent`` is
    ``"transcription"`` on a ``?intent=transcription`` connection (a transcription session).
    Audio frames are left out of the records when the server was made with
    ``record_audio=False`` (they are still counted in ``counts_received`` /
    ``counts_sent``). ``session`` is always GA.
    """

    def __init__(
        self,
        server: ServerHost,
        ws: WsConnection,
        *,
        index: int,
        model: str,
        faults: Faults,
        beta: bool = False,
        record: bool,
        record_audio: bool,
        intent: str | None = None,
    ) -> None:
        self.server = server
        self.index = index
        self.model = model
        self.faults = faults
        #: True when this connection speaks the beta event shapes (see :mod:`.beta`).
        self.beta = beta
        request = ws.request
        assert request is not None
        self.headers: Headers = request.headers
        self.path: str = request.path
        self.received: list[Frame] = []
        self.sent: list[Frame] = []
        self.counts_received: Counter[str] = Counter()
        self.counts_sent: Counter[str] = Counter()
        self.frames_sent = 0
        self.closed = False
        self.close_code: int | None = None
        self.dropped = False
        self._ws = ws
        self._loop = asyncio.get_running_loop()
        self._record = record
        self._record_audio = record_audio
        self._queue: asyncio.Queue[tuple[str, Any, asyncio.Future[None] | None]] = asyncio.Queue()
        self._stall_until = 0.0
        self._refused = False
        self._waiters: list[tuple[str, str, int, asyncio.Future[Frame]]] = []
        self._closed_event = asyncio.Event()
        self._timers: list[asyncio.TimerHandle] = []
        #: called with ``(index, frame)`` for every frame the client sends, as it is read
        #: (the server sets it from :attr:`LocalRealtimeServer.on_received`)
        self.on_received: Callable[[int, Frame], None] | None = None
        self.logic: SessionLogic = self._make_logic(server, model, faults, intent)

    #: Frame types left out of the records with ``record_audio=False``.
    audio_types = frozenset({"input_audio_buffer.append", "response.output_audio.delta"})

    def _make_logic(
        self, server: ServerHost, model: str, faults: Faults, intent: str | None
    ) -> SessionLogic:
        """The protocol this connection speaks: Realtime (a subclass may speak another)."""
        return RealtimeSession(
            send=self._enqueue,
            ids=server.ids,
            model=model,
            vad=server.vad_defaults,
            pacing=lambda: server.pacing,
            chunk_ms=server.audio_chunk_ms,
            realtime_lead_ms=server.realtime_lead_ms,
            scripts=server.scripts,
            session_seconds=faults.session_max_seconds or 3600.0,
            voice=server.voice,
            intent=intent,
            mcp_scripts=server.mcp_scripts,
            transcription_failures=server.transcription_failures,
            today=lambda: server.today,
        )

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return (
            f"<ServerConnection #{self.index} {state} model={self.model!r} sent={self.frames_sent}>"
        )

    @property
    def session(self) -> Json:
        """The effective session config (what ``session.updated`` last said)."""
        return self.logic.session

    # -- recording and waiting ------------------------------------------------------------

    def _note(self, direction: Literal["received", "sent"], frame: Frame) -> None:
        kind = frame.get("type") if isinstance(frame, dict) else None
        key = kind if isinstance(kind, str) else "<raw>"
        counts = self.counts_received if direction == "received" else self.counts_sent
        counts[key] += 1
        if direction == "received" and self.on_received is not None:
            self.on_received(self.index, frame)
        if self._record and (self._record_audio or key not in self.audio_types):
            (self.received if direction == "received" else self.sent).append(frame)
        if self._waiters:
            for waiter in list(self._waiters):
                side, want, nth, future = waiter
                if side == direction and want == key and counts[key] >= nth:
                    self._waiters.remove(waiter)
                    if not future.done():
                        future.set_result(frame)

    async def _wait_for(
        self, direction: Literal["received", "sent"], type_name: str, timeout: float, nth: int
    ) -> Frame:
        frames = self.received if direction == "received" else self.sent
        seen = [f for f in frames if isinstance(f, dict) and f.get("type") == type_name]
        if len(seen) >= nth:
            return seen[nth - 1]
        if self.closed:
            raise ConnectionError(f"connection #{self.index} is closed; no {type_name!r} came")
        future: asyncio.Future[Frame] = self._loop.create_future()
        self._waiters.append((direction, type_name, nth, future))
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise asyncio.TimeoutError(
                f"connection #{self.index}: no {type_name!r} {direction} within {timeout} s "
                f"(#{nth} wanted; {direction}: {dict(getattr(self, 'counts_' + direction))})"
            ) from None
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove((direction, type_name, nth, future))

    async def wait_for_received(
        self, type_name: str, timeout: float = 5.0, *, nth: int = 1
    ) -> Json:
        """The ``nth`` frame of ``type_name`` the client sent, waiting for it.

        Raises ``TimeoutError`` after ``timeout`` s, ``ConnectionError`` once the connection
        is closed without it.
        """
        frame = await self._wait_for("received", type_name, timeout, nth)
        assert isinstance(frame, dict)
        return frame

    async def wait_for_sent(self, type_name: str, timeout: float = 5.0, *, nth: int = 1) -> Json:
        """The ``nth`` frame of ``type_name`` the server sent (as :meth:`wait_for_received`)."""
        frame = await self._wait_for("sent", type_name, timeout, nth)
        assert isinstance(frame, dict)
        return frame

    async def wait_closed(self, timeout: float = 5.0) -> None:
        """Until the connection is over (either side closed it, or it dropped)."""
        await asyncio.wait_for(self._closed_event.wait(), timeout)

    # -- control ----------------------------------------------------------------------------

    async def send_raw(self, text: str) -> None:
        """Send any text frame, in order after what is queued; returns once it is written."""
        if self.closed:
            raise ConnectionError(f"connection #{self.index} is closed")
        future: asyncio.Future[None] = self._loop.create_future()
        self._queue.put_nowait(("raw", text, future))
        await future

    async def drop(self) -> None:
        """Abort the TCP connection now: no close frame (the client sees 1006)."""
        self._drop()

    def _drop(self) -> None:
        if self.closed:
            return
        self.dropped = True
        transport = self._ws.transport
        if transport is not None:
            transport.abort()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection now with a close frame."""
        await self._ws.close(code, reason)

    def stall(self, seconds: float) -> None:
        """Read and write nothing for ``seconds`` (pings go unanswered), then carry on."""
        until = self._loop.time() + seconds
        self._stall_until = max(self._stall_until, until)
        transport = self._ws.transport
        if transport is not None and not transport.is_closing():
            transport.pause_reading()
        self._timers.append(self._loop.call_at(self._stall_until, self._resume_reading))

    def end_stall(self) -> None:
        """End a stall now."""
        self._stall_until = 0.0
        self._resume_reading()

    def _resume_reading(self) -> None:
        transport = self._ws.transport
        if self._loop.time() >= self._stall_until - 1e-3 and transport is not None:
            with contextlib.suppress(Exception):
                transport.resume_reading()

    async def _stalled(self) -> None:
        while (left := self._stall_until - self._loop.time()) > 0:
            await asyncio.sleep(left)

    # -- the two loops ----------------------------------------------------------------------

    def _enqueue(self, event: Json) -> None:
        if self.beta:
            beta = server_event_to_beta(event)
            if beta is None:
                return
            event = beta
        self._queue.put_nowait(("event", event, None))

    def _fail_and_close(self, key: str, **fields: Any) -> None:
        """Send catalogue error ``key``, then the close frame its entry names."""
        self.logic.fail(key, **fields)
        closes = ERRORS[key].closes
        assert closes is not None, key
        self._queue.put_nowait(("close", closes, None))

    def expire(self) -> None:
        """End the session at its length cap the way the real service does."""
        seconds = self.faults.session_max_seconds or 0
        span = f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds:g} seconds"
        self._fail_and_close("session_expired", duration=span)

    async def run(self) -> None:
        """Serve the connection until it ends (called by the server's handler)."""
        faults = self.faults
        loop = self._loop
        writer = loop.create_task(self._writer())
        if faults.drop_after_seconds is not None:
            self._timers.append(loop.call_later(faults.drop_after_seconds, self._drop))
        if faults.close_after_seconds is not None:
            self._timers.append(
                loop.call_later(
                    faults.close_after_seconds,
                    self._close_soon,
                    faults.close_code,
                    faults.close_reason,
                )
            )
        if faults.session_max_seconds is not None:
            self._timers.append(loop.call_later(faults.session_max_seconds, self.expire))
        try:
            if faults.auth_mode == "error_event":
                self._refused = True
                self._fail_and_close("auth_error_event")
            else:
                self.logic.start()
            await self._reader()
        finally:
            self.closed = True
            self.close_code = self._ws.close_code
            for timer in self._timers:
                timer.cancel()
            self.logic.close()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
            gone = f"connection #{self.index} is closed"
            for _, want, _, waiter in self._waiters:
                if not waiter.done():
                    waiter.set_exception(ConnectionError(f"{gone}; no {want!r} came"))
            while not self._queue.empty():
                _, _, future = self._queue.get_nowait()
                if future is not None and not future.done():
                    future.set_exception(ConnectionError(f"{gone}; the frame was not sent"))
            self._closed_event.set()

    async def _reader(self) -> None:
        ws = self._ws
        logic = self.logic
        try:
            async for message in ws:
                if self._stall_until > self._loop.time():
                    await self._stalled()
                if not isinstance(message, str):  # the service reads text frames only
                    self._note("received", bytes(message).decode("utf-8", "replace"))
                    logic.binary_frame()
                    continue
                decoded = decode_frame(message)
                if isinstance(decoded, ProtocolErrorEvent):
                    self._note("received", message)
                    logic.bad_frame(message)
                    continue
                self._note("received", decoded)
                if not self._refused:
                    logic.handle(client_event_to_ga(decoded) if self.beta else decoded)
        except ConnectionClosed:
            pass

    async def _writer(self) -> None:
        ws = self._ws
        queue = self._queue
        try:
            while True:
                kind, payload, future = await queue.get()
                if self.dropped:
                    return
                if self._stall_until > self._loop.time() and kind != "close_now":
                    await self._stalled()
                if kind == "event":
                    await self._write(encode_event(payload), payload)
                elif kind == "raw":
                    decoded = decode_frame(payload)
                    await self._write(
                        payload, payload if isinstance(decoded, ProtocolErrorEvent) else decoded
                    )
                elif kind in ("close", "close_now"):
                    code, reason = payload
                    await ws.close(code, reason)
                    return
                if future is not None and not future.done():
                    future.set_result(None)
        except ConnectionClosed:
            return

    async def _write(self, text: str, record: Frame) -> None:
        if self.dropped:
            raise ConnectionClosed(None, None)
        await self._ws.send(text)
        self.frames_sent += 1
        self._note("sent", record)
        self._after_frame(self.frames_sent)

    def _after_frame(self, n: int) -> None:
        f = self.faults
        if f.garbage_after_frames == n:
            self._queue_garbage()
        if f.stall_after_frames == n:
            self.stall(f.stall_seconds)
        if f.close_after_frames == n:
            self._close_soon(f.close_code, f.close_reason)
        if f.drop_after_frames == n:
            self._drop()

    def _close_soon(self, code: int, reason: str) -> None:
        """Close with a close frame before anything still queued is sent."""
        self._queue.put_nowait(("close_now", (code, reason), None))
        self._jump_queue()

    def _jump_queue(self) -> None:
        """Move the last queued action to the front (a fault acts before queued frames)."""
        items = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        for item in [items[-1], *items[:-1]] if items else []:
            self._queue.put_nowait(item)

    def _queue_garbage(self) -> None:
        eid = self.server.ids("event")
        kind = self.faults.garbage
        if kind == "malformed_json":
            text = '{"type":"response.output_audio.delta","event_id":"' + eid + '","delta":"AAAA'
        elif kind == "unknown_type":
            text = encode_event(
                {"type": "rtsdk.local.unknown_event", "event_id": eid, "detail": "fault injection"}
            )
        else:
            text = encode_event(self._injected_error(eid))
        self._queue.put_nowait(("raw", text, None))
        self._jump_queue()

    def _injected_error(self, event_id: str) -> Json:
        """The error event of ``Faults(garbage="error_event")``."""
        error = ERRORS["injected_server_error"].render()
        return ev.ErrorEvent(event_id=event_id, error={**error, "event_id": None}).to_dict()
