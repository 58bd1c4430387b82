"""The WebSocket link to a voice server: connect, keep alive, reconnect, send, receive.

:class:`WebSocketManager` owns one connection at a time
(:class:`rtsdk.link.connection.Connection`, on the compiled `picows` WebSocket) and knows
nothing of any protocol: it moves text frames. It

- connects with the auth headers it was given (never logged, never in a repr or exception),
  without permessage-deflate, without an incoming size cap, without reading proxy variables and
  without following redirects; ``wss://`` verifies the server's certificate and host name;
- keeps the link alive with pings, so a stalled server is noticed within
  ``ping_interval + ping_timeout`` seconds;
- on a network error or a recoverable close, reconnects with exponential backoff and full jitter
  (:class:`ReconnectPolicy`), reporting each step as a :class:`LinkEvent`;
- never retries a refused handshake (HTTP 401/403): :class:`~rtsdk.exceptions.AuthenticationError`
  at once;
- while disconnected, keeps what is sent in a bounded backlog: control frames are kept (up to
  ``max_backlog``), audio frames older than ``audio_window`` seconds are dropped and counted;
- remembers the control frames written on the current connection until the session layer
  says the server got them (:meth:`WebSocketManager.acknowledge`); after a connection died,
  :meth:`WebSocketManager.take_unacknowledged` gives back the rest (see
  :mod:`rtsdk.link.backlog`);
- sends prebuilt UTF-8 frames (``bytes``) as text frames without decoding them, at once when
  connected (:meth:`WebSocketManager.try_send` for callers that must not wait);
- hands each received message to ``on_message`` from the socket's read callback: no reader task
  wakes per message.

It runs on one asyncio loop; none of its methods are thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from rtsdk.exceptions import AuthenticationError, ConfigurationError, ConnectionClosedError
from rtsdk.link.backlog import SendBacklog, Unacknowledged
from rtsdk.link.connection import Connection, UpgradeRefused, open_connection
from rtsdk.link.policy import ReconnectPolicy
from rtsdk.link.redact import RedactingLogger, redacted_url, secret_parts

__all__ = [
    "FATAL_CLOSE_CODES",
    "LinkEvent",
    "LinkState",
    "LinkStats",
    "ReconnectPolicy",
    "WebSocketManager",
    "redacted_url",
]

log = logging.getLogger("rtsdk.websocket")

#: Close codes after which reconnecting cannot help: protocol, data or policy violations.
#: Every other close the client did not ask for (1001, 1006, 1011, 1012, 1013, 4xxx, ...) and
#: every network error is retried under the :class:`ReconnectPolicy`.
FATAL_CLOSE_CODES = frozenset({1002, 1003, 1007, 1008, 1009, 1010})

_AUTH_STATUSES = frozenset({401, 403})


class LinkState(enum.Enum):
    """Where the link is."""

    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """A change of the link, reported to ``on_link_event``.

    ``kind`` is ``"connected"`` (first connection), ``"reconnecting"`` (``attempt`` starts at 1,
    ``delay`` is the wait before it), ``"reconnected"``, ``"recycled"`` (a new connection
    opened on request by :meth:`WebSocketManager.recycle`) or ``"disconnected"`` (for good;
    ``reason`` says why).
    """

    kind: Literal["connected", "reconnecting", "reconnected", "recycled", "disconnected"]
    attempt: int = 0
    delay: float = 0.0
    reason: str = ""


@dataclass(slots=True)
class LinkStats:
    """Counters of the link since the manager was made."""

    frames_sent: int = 0
    frames_received: int = 0
    connects: int = 0
    reconnects: int = 0
    audio_frames_dropped: int = 0
    backlog_high_water: int = 0
    last_close_code: int | None = None
    last_close_reason: str = ""
    extra: dict[str, int] = field(default_factory=dict)


class WebSocketManager:
    """One resilient WebSocket link. See the module docstring for the policies.

    ``on_message`` is called synchronously, in order, with each received message as ``bytes``
    (text frames are not decoded), from the socket's read callback. ``on_open`` (optional,
    async) runs after every successful (re)connect and before the backlog is flushed: the place
    to send the session configuration with :meth:`send_now`. ``on_link_event`` receives
    :class:`LinkEvent` values. :attr:`gate` (optional, async) runs after ``on_open`` with
    messages flowing: until it returns, every send is kept in the backlog (for a protocol
    whose server must confirm the session before anything else may go out); an exception
    from it ends the link.
    """

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        on_message: Callable[[bytes], None],
        on_open: Callable[[], Awaitable[None]] | None = None,
        on_link_event: Callable[[LinkEvent], None] | None = None,
        reconnect: ReconnectPolicy | None = None,
        open_timeout: float = 10.0,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        close_timeout: float = 2.0,
        max_backlog: int = 1024,
        audio_window: float = 2.0,
        rand: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        scheme = urlsplit(url).scheme
        if scheme not in ("ws", "wss"):
            raise ConfigurationError(f"url must start with ws:// or wss://, got scheme {scheme!r}")
        if open_timeout <= 0:
            raise ConfigurationError(f"open_timeout must be > 0 seconds, got {open_timeout}")
        if max_backlog < 1:
            raise ConfigurationError(f"max_backlog must be >= 1, got {max_backlog}")
        if audio_window < 0:
            raise ConfigurationError(f"audio_window must be >= 0 seconds, got {audio_window}")
        self._url = url
        self._headers = dict(headers or {})
        self._wire_log = RedactingLogger(
            logging.getLogger("rtsdk.websocket.wire"), secret_parts(self._headers)
        )
        self._on_message = on_message
        self._frame_filter: Callable[[bytes], int] | None = None
        self._on_open = on_open
        self._on_link_event = on_link_event
        self.policy = reconnect or ReconnectPolicy()
        self._open_timeout = open_timeout
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._close_timeout = close_timeout
        self._rand = rand
        self._clock = clock
        self._ws: Connection | None = None
        self._state = LinkState.IDLE
        self._closing = False
        self._recycling = False
        self._recycle_reason = ""
        self._reader: asyncio.Task[None] | None = None
        self._abort_task: asyncio.Task[None] | None = None
        self.stats = LinkStats()
        self._backlog = SendBacklog(max_backlog, audio_window, self.stats)
        self._unacked = Unacknowledged()
        #: remember tagged control frames written until acknowledged (the session sets it)
        self.track_acks = False
        #: awaited after ``on_open`` on every connection, sends held meanwhile (see above)
        self.gate: Callable[[], Awaitable[None]] | None = None
        self._gated = False
        self._failure: BaseException | None = None
        self._closed = asyncio.Event()

    def __repr__(self) -> str:
        return (
            f"<WebSocketManager {redacted_url(self._url)} state={self._state.value} "
            f"headers={sorted(self._headers)}>"
        )

    # -- state -------------------------------------------------------------------------------

    @property
    def state(self) -> LinkState:
        """The link's :class:`LinkState`."""
        return self._state

    @property
    def is_connected(self) -> bool:
        """True while a connection is open and usable."""
        return self._state is LinkState.CONNECTED

    @property
    def backlog(self) -> int:
        """Frames waiting for the next connection."""
        return len(self._backlog)

    @property
    def backlog_has_audio(self) -> bool:
        """True when audio frames wait for the next connection."""
        return self._backlog.has_audio

    @property
    def frame_filter(self) -> Callable[[bytes], int] | None:
        """A shortcut tried first on each received text message, in the read callback:
        ``frame_filter(message)`` returns ``>= 0`` when it handled the message (``on_message``
        then does not see it), ``-1`` to pass it on. Kept across reconnects; messages held
        during a connection's setup always go to ``on_message``."""
        return self._frame_filter

    @frame_filter.setter
    def frame_filter(self, take: Callable[[bytes], int] | None) -> None:
        self._frame_filter = take
        if self._ws is not None:
            self._ws.frame_filter = take

    @property
    def failure(self) -> BaseException | None:
        """Why the link closed for good, if it did not close on request."""
        return self._failure

    async def wait_closed(self) -> None:
        """Wait until the link is closed for good (by :meth:`close` or a fatal failure)."""
        await self._closed.wait()

    # -- connect -----------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the first connection and start receiving.

        Network errors are retried under the policy; a refused handshake (401/403) raises
        :class:`AuthenticationError` at once; when the retries run out,
        :class:`ConnectionClosedError`.
        """
        if self._state is not LinkState.IDLE:
            raise RuntimeError(f"connect() called in state {self._state.value}")
        self._state = LinkState.CONNECTING
        try:
            await self._connect_with_retries(first=True)
        except BaseException as exc:
            self._finish(exc if isinstance(exc, Exception) else None)
            raise
        self._reader = asyncio.get_running_loop().create_task(
            self._read_forever(), name="rtsdk-websocket-reader"
        )

    async def _open(self) -> Connection:
        self._wire_log.debug(
            "upgrade request to %s with headers %s",
            redacted_url(self._url),
            ", ".join(f"{name}: {value}" for name, value in self._headers.items()),
        )
        conn = await open_connection(
            self._url,
            self._headers,
            self._on_message,
            open_timeout=self._open_timeout,
            ping_interval=self._ping_interval,
            ping_timeout=self._ping_timeout,
            logger=self._wire_log,
            stats=self.stats,
        )
        conn.frame_filter = self._frame_filter
        return conn

    async def _connect_with_retries(self, *, first: bool, recycle: bool = False) -> None:
        retries = 0
        tried = False
        last_reason = "connection lost"
        while True:
            if tried or not (first or recycle):
                if self.policy.max_retries is not None and retries >= self.policy.max_retries:
                    attempts = retries + (1 if first else 0)
                    raise ConnectionClosedError(
                        f"could not reach {redacted_url(self._url)} after {attempts} "
                        f"attempt(s): {last_reason}"
                    )
                delay = self.policy.delay(retries, self._rand)
                retries += 1
                self._state = LinkState.RECONNECTING
                self._emit(LinkEvent("reconnecting", attempt=retries, delay=delay))
                await asyncio.sleep(delay)
                if self._closing:
                    raise ConnectionClosedError("closed while reconnecting")
            tried = True
            try:
                ws = await self._open()
            except UpgradeRefused as exc:
                status = exc.status
                if status in _AUTH_STATUSES:
                    raise AuthenticationError(
                        f"the server refused the credentials (HTTP {status}) at "
                        f"{redacted_url(self._url)}"
                    ) from None
                last_reason = f"HTTP {status}"
                if 300 <= status < 500 and status not in (408, 429):
                    raise ConnectionClosedError(
                        f"the server rejected the connection: HTTP {status} at "
                        f"{redacted_url(self._url)}"
                    ) from None
            except (OSError, asyncio.TimeoutError) as exc:
                last_reason = f"{type(exc).__name__}: {exc}"
                log.info("connect to %s failed: %s", redacted_url(self._url), last_reason)
            else:
                await self._adopt(ws, first=first and retries == 0, recycled=recycle)
                return

    async def _adopt(self, ws: Connection, *, first: bool, recycled: bool = False) -> None:
        self._ws = ws
        self._state = LinkState.CONNECTED
        self.stats.connects += 1
        if not first:
            self.stats.reconnects += 1
        gate = self.gate
        self._gated = gate is not None
        try:
            if self._on_open is not None:
                await self._on_open()
            if gate is not None:
                ws.release()  # messages flow: the gate waits for one of them
                await gate()
        finally:
            self._gated = False
        await self._flush_backlog()
        if recycled:
            self._emit(LinkEvent("recycled", reason=self._recycle_reason))
        else:
            self._emit(LinkEvent("connected" if first else "reconnected"))
        if gate is None:
            ws.release()

    # -- receive -----------------------------------------------------------------------------

    async def _read_forever(self) -> None:
        """Watch each connection until it closes, then reconnect or finish (messages arrive
        through ``_receive``, called by the connection)."""
        while True:
            ws = self._ws
            assert ws is not None
            await ws.closed()
            if ws.failure is not None:  # on_message raised: no reconnect
                self._finish(ws.failure)
                await ws.closed(self._close_timeout)
                return
            if self._closing:
                self._finish(None)
                return
            self._ws = None
            if self._recycling:
                self._recycling = False
                try:
                    await self._connect_with_retries(first=False, recycle=True)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._finish(exc)
                    return
                continue
            code = ws.close_code if ws.close_code is not None else 1006
            if ws.close_code is not None:
                reason = ws.close_reason
            else:
                reason = "ping timeout" if ws.stalled else "connection lost"
            self.stats.last_close_code = code
            self.stats.last_close_reason = reason
            if code in FATAL_CLOSE_CODES:
                self._finish(
                    ConnectionClosedError(f"the server closed the connection: {code} {reason}")
                )
                return
            # a clean close by the server (1000) is news, not trouble (e.g. a SIP call's end)
            level = logging.INFO if code == 1000 else logging.WARNING
            log.log(level, "connection closed (%s %s); reconnecting", code, reason)
            try:
                await self._connect_with_retries(first=False)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._finish(exc)
                return

    # -- send --------------------------------------------------------------------------------

    async def send(
        self, frame: str | bytes, *, audio: bool = False, tag: dict[str, Any] | None = None
    ) -> bool:
        """Send one text frame now if connected, else keep it for the next connection.

        ``bytes`` must be UTF-8 JSON and go out as a text frame without re-encoding.
        ``audio=True`` marks a frame that may be dropped when it is older than
        ``audio_window`` by the time the link is back. Returns True if it went out now.
        Raises :class:`ConnectionClosedError` once the link is closed for good, or if the
        backlog is full of control frames. ``tag`` (a control event as a dict) is remembered
        once written, until :meth:`acknowledge` (when :attr:`track_acks` is on).
        """
        if self._state is LinkState.CLOSED:
            raise ConnectionClosedError("the connection is closed") from self._failure
        ws = self._ws
        if (
            self._state is LinkState.CONNECTED
            and ws is not None
            and not self._backlog
            and not self._gated
        ):
            try:
                await ws.send(frame)
            except ConnectionResetError:
                pass  # the reader notices and reconnects; keep the frame
            else:
                self._wrote(tag)
                return True
        self._backlog.add(self._clock(), frame, audio, tag)
        return False

    def try_send(self, frame: str | bytes, tag: dict[str, Any] | None = None) -> bool:
        """Send one text frame now if that needs no waiting: connected, nothing kept for
        later, the socket's write buffer under its mark. False (nothing done) otherwise."""
        ws = self._ws
        if (
            ws is None
            or not ws.ready
            or self._backlog
            or self._gated
            or self._state is not LinkState.CONNECTED
        ):
            return False
        ws.send_now(frame)
        self.stats.frames_sent += 1  # inline (not _wrote): this runs for every audio frame
        if tag is not None and self.track_acks:
            self._unacked.written(tag)
        return True

    def _wrote(self, tag: dict[str, Any] | None) -> None:
        """A frame went to the socket: counted, and its tag remembered when acks are tracked."""
        self.stats.frames_sent += 1
        if tag is not None and self.track_acks:
            self._unacked.written(tag)

    async def send_now(self, frame: str | bytes) -> None:
        """Send on the current connection, bypassing the backlog (for ``on_open``).

        Raises :class:`ConnectionClosedError` if there is none or it closes meanwhile (the
        reader then reports or recovers from the close as usual).
        """
        ws = self._ws
        if ws is None:
            raise ConnectionClosedError("not connected")
        try:
            await ws.send(frame)
        except ConnectionResetError as exc:
            raise ConnectionClosedError(f"the connection closed while sending: {exc}") from None
        self.stats.frames_sent += 1

    @property
    def unacknowledged(self) -> int:
        """Tagged control frames written on this connection, not yet acknowledged."""
        return len(self._unacked)

    def unsent_bytes(self) -> int:
        """Bytes written but not yet on the wire (see ``Connection.unsent_bytes``)."""
        ws = self._ws
        return 0 if ws is None else ws.unsent_bytes()

    @property
    def queue_delay(self) -> float:
        """How long what the socket holds takes to drain, as last measured (seconds)."""
        ws = self._ws
        return 0.0 if ws is None else ws.queue_delay

    def in_flight(self) -> dict[str, float | int | None]:
        """The connection's in-flight bound (see :mod:`rtsdk.link.inflight`): the measured
        drain rate (bytes/s), the queue it allows, how often it held sends, the largest queue
        seen; empty when there is no connection or no bound."""
        ws = self._ws
        return {} if ws is None else ws.in_flight()

    def acknowledge(self, acks: Callable[[dict[str, Any]], bool]) -> None:
        """The server showed it got a control frame: forget the oldest tag ``acks`` accepts on
        this connection, and every tag written before it."""
        self._unacked.acknowledge(acks)

    def requeue(self, frames: list[tuple[str | bytes, dict[str, Any]]]) -> None:
        """Control frames (with their tags) to send first once this connection's gate opens
        (before anything kept for it)."""
        self._backlog.put_first(self._clock(), frames)

    def take_unacknowledged(self) -> list[dict[str, Any]]:
        """The tags of control frames written on the last connection that the server never
        acknowledged, oldest first (for ``on_open`` on a new connection); forgets them."""
        return self._unacked.take()

    async def _flush_backlog(self) -> None:
        backlog = self._backlog
        backlog.drop_stale_audio(self._clock())
        ws = self._ws
        while backlog.frames and ws is not None:
            _, frame, _, tag = backlog.frames[0]
            await ws.send(frame)
            backlog.frames.popleft()
            self._wrote(tag)

    async def recycle(self, reason: str = "session recycle") -> bool:
        """Close the current connection (1000) and open a new one at once, without backoff.

        For renewing a session before the server's length cap. ``on_open`` runs on the new
        connection as on any reconnect, then a ``"recycled"`` :class:`LinkEvent` is emitted.
        If that first attempt fails, the usual backoff takes over. Returns False (and does
        nothing) unless connected.
        """
        ws = self._ws
        if self._state is not LinkState.CONNECTED or ws is None or self._recycling:
            return False
        self._recycling = True
        self._recycle_reason = reason
        self._state = LinkState.RECONNECTING
        with contextlib.suppress(Exception):
            await ws.close_and_wait(1000, reason, self._close_timeout)
        return True

    # -- close -------------------------------------------------------------------------------

    def fail(self, exc: BaseException) -> None:
        """Close for good because of ``exc`` (e.g. an auth ``error`` event): no reconnect."""
        self._closing = True
        self._finish(exc)
        if self._ws is not None:
            self._abort_task = asyncio.get_running_loop().create_task(
                self._abort(), name="rtsdk-websocket-abort"
            )

    def closing(self) -> None:
        """The session is ending (a goodbye was sent): a close from the server now ends the
        link instead of starting a reconnect."""
        self._closing = True

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close gracefully: send a close frame, stop the reader, and give up reconnecting."""
        self._closing = True
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close_and_wait(code, reason, self._close_timeout)
        reader, self._reader = self._reader, None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        abort, self._abort_task = self._abort_task, None
        if abort is not None and not abort.done():
            await asyncio.wait([abort], timeout=self._close_timeout + 1)
        self._finish(None)

    async def _abort(self) -> None:
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close_and_wait(1011, "client error", self._close_timeout)

    def _finish(self, exc: BaseException | None) -> None:
        if self._state is LinkState.CLOSED:
            return
        self._state = LinkState.CLOSED
        if exc is not None and self._failure is None:
            self._failure = exc
        self._closed.set()
        reason = "closed by the client" if exc is None else f"{type(exc).__name__}: {exc}"
        self._emit(LinkEvent("disconnected", reason=reason))

    def _emit(self, event: LinkEvent) -> None:
        if self._on_link_event is None:
            return
        try:
            self._on_link_event(event)
        except Exception:
            log.exception("link event handler failed for %s", event.kind)
