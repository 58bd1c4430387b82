"""One WebSocket connection, on picows: what :class:`~rtsdk.link.websocket.WebSocketManager` runs.

picows parses and builds frames in compiled code and calls back once per frame, on the loop,
straight from the socket's read buffer: no reader task and no queue per message, and a send is
one synchronous write. :class:`Connection` adds what a Realtime link needs on top:

- whole messages: continuation frames are joined (the Realtime service sends whole frames, but
  the protocol allows fragments);
- the close handshake: a close frame from the server is answered and the socket closed; its
  code and reason are kept for the link's policy (``close_code`` None: no close frame, 1006);
- keepalive: a ping every ``ping_interval`` seconds; no pong within ``ping_timeout`` and the
  connection is aborted (``stalled``), so a silent server is noticed within their sum;
- backpressure: while the socket's write buffer is over its high-water mark, :meth:`send`
  waits (:attr:`ready` says whether it would), as it does while the socket holds more than
  its in-flight bound allows (:mod:`rtsdk.link.inflight`: about 0.2 s of what the link
  drains); the kernel's unsent bytes (``TCP_NOTSENT_LOWAT``, where the OS has it) and the
  transport's buffer are kept to a few KiB (:data:`UNSENT_BYTES`). So on an uplink narrower
  than what is sent the backlog builds in the session's outbox, where its policy applies
  (old audio dropped, control frames first), not in buffers below it where nothing can be
  dropped or reordered;
- messages wait until :meth:`Connection.release` (the link is set up by then), so they reach
  the handler after the link's own events;
- a message handler that raises ends the connection (close 1011) with that error kept.

:func:`open_connection` connects (TCP, TLS with certificate verification for ``wss://``, the
upgrade) and maps a refused upgrade to :class:`UpgradeRefused` with its HTTP status.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable, Mapping
from typing import Any

from picows import (
    WSCloseCode,
    WSError,
    WSFrame,
    WSHandshakeError,
    WSListener,
    WSMsgType,
    WSTransport,
    ws_connect,
)

from rtsdk.link.inflight import POLL_S, InFlightBound

__all__ = ["Connection", "UpgradeRefused", "open_connection"]

log = logging.getLogger("rtsdk.websocket")

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_CONTINUATION = WSMsgType.CONTINUATION
_CLOSE = WSMsgType.CLOSE
_PONG = WSMsgType.PONG
_PING_PAYLOAD = b"rtsdk"
_CLOSE_CODES = {int(c.value): c for c in WSCloseCode}

USER_AGENT = "rtsdk/0.1"

#: How many bytes may wait unsent below the session's outbox: in the kernel (its
#: ``TCP_NOTSENT_LOWAT``) and, again, in the transport's write buffer (its high-water mark).
#: On a fast link both stay empty; at 128 kbit/s each is 0.25 s of queue.
UNSENT_BYTES = 4096


class UpgradeRefused(Exception):
    """The server answered the upgrade with HTTP ``status`` instead of 101."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class Connection(WSListener):
    """One open WebSocket (see the module docstring). Runs on one loop; not thread-safe."""

    def __init__(
        self,
        on_message: Callable[[bytes], None],
        ping_interval: float | None,
        ping_timeout: float | None,
        stats: Any = None,
    ) -> None:
        self.transport: WSTransport | None = None
        self.on_message = on_message
        #: Tried first on each whole text message: a result >= 0 means it took the message
        #: (``on_message`` does not see it); see ``WebSocketManager.frame_filter``.
        self.frame_filter: Callable[[bytes], int] | None = None
        self.stats = stats  # its frames_received is counted, when given
        self.close_code: int | None = None
        self.close_reason = ""
        self.failure: BaseException | None = None
        self.stalled = False
        self.disconnected = False
        #: True while a frame sent now goes straight to the socket buffer (open, no close sent,
        #: write buffer under its mark)
        self.ready = False
        self._loop = asyncio.get_running_loop()
        self._done: asyncio.Future[None] = self._loop.create_future()
        self._parts: list[bytes] | None = None
        self._held: list[bytes] | None = []  # messages before release()
        self._resumed: asyncio.Future[None] | None = None
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._timer: asyncio.TimerHandle | None = None
        self._awaiting_pong = False
        self._bound: InFlightBound | None = None
        self._paused = False  # the transport's buffer is over its mark
        self._poll: asyncio.TimerHandle | None = None

    # -- picows callbacks --------------------------------------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        self.ready = True
        self._bound = InFlightBound.for_socket(_bound_unsent(transport.underlying_transport))
        if self._ping_interval is not None:
            self._timer = self._loop.call_later(self._ping_interval, self._ping)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is _TEXT and frame.fin and self._held is None:  # the common case, inline
            stats = self.stats
            if stats is not None:
                stats.frames_received += 1
            payload = frame.get_payload_as_bytes()
            take = self.frame_filter
            try:
                if take is None or take(payload) < 0:
                    self.on_message(payload)
            except Exception as exc:
                self._handler_failed(exc)
        elif kind is _TEXT or kind is _BINARY:
            if frame.fin:
                self._deliver(frame.get_payload_as_bytes())
            else:
                self._parts = [frame.get_payload_as_bytes()]
        elif kind is _CONTINUATION:
            parts = self._parts
            if parts is None:
                self._fail_protocol("a continuation frame without a message to continue")
                return
            parts.append(frame.get_payload_as_bytes())
            if frame.fin:
                self._parts = None
                self._deliver(b"".join(parts))
        elif kind is _PONG:
            self._awaiting_pong = False
        elif kind is _CLOSE:
            payload = frame.get_payload_as_bytes()
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.close_code = code
            self.close_reason = payload[2:].decode("utf-8", "replace")
            self.ready = False
            if not transport.is_close_frame_sent:
                transport.send_close(_CLOSE_CODES.get(code, WSCloseCode.OK))
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.disconnected = True
        self.ready = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
        resumed = self._resumed
        if resumed is not None and not resumed.done():
            resumed.set_result(None)
        if not self._done.done():
            self._done.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True
        self._hold()
        bound = self._bound
        if bound is not None and self._poll is None and bound.check():
            self._poll = self._loop.call_later(POLL_S, self._poll_bound)

    def resume_writing(self) -> None:
        self._paused = False
        bound = self._bound
        if bound is None or not bound.congested:
            self._release_sends()

    # -- holding sends -------------------------------------------------------------------------

    def _hold(self) -> None:
        self.ready = False
        if self._resumed is None or self._resumed.done():
            self._resumed = self._loop.create_future()

    def _check_bound(self, bound: InFlightBound) -> None:
        """Past the bound's next reading: see whether the link keeps up; hold sends if not."""
        if bound.check() and self._poll is None:
            self._hold()
            self._poll = self._loop.call_later(POLL_S, self._poll_bound)

    def _poll_bound(self) -> None:
        self._poll = None
        bound = self._bound
        if bound is None or self.disconnected:
            return
        if bound.check():
            self._poll = self._loop.call_later(POLL_S, self._poll_bound)
        elif not self._paused:
            self._release_sends()

    def _release_sends(self) -> None:
        resumed = self._resumed
        self._resumed = None
        transport = self.transport
        self.ready = (
            transport is not None and not self.disconnected and not transport.is_close_frame_sent
        )
        if resumed is not None and not resumed.done():
            resumed.set_result(None)

    # -- receive -----------------------------------------------------------------------------

    def release(self) -> None:
        """Start handing messages to ``on_message`` (those that came before, first)."""
        held, self._held = self._held, None
        for message in held or ():
            if self.failure is None:
                self._deliver(message)

    def _deliver(self, message: bytes) -> None:
        held = self._held
        if held is not None:
            held.append(message)
            return
        stats = self.stats
        if stats is not None:
            stats.frames_received += 1
        try:
            self.on_message(message)
        except Exception as exc:
            self._handler_failed(exc)

    def _handler_failed(self, exc: Exception) -> None:
        # a bug in the handler must not pass silently: the connection ends with it
        log.exception("frame handler failed; closing the link", exc_info=exc)
        if self.failure is None:
            self.failure = exc
        self.close(1011, "client error")
        self._loop.call_later(2.0, self.abort)  # if the server does not answer the close

    def _fail_protocol(self, why: str) -> None:
        log.warning("protocol error from the server: %s; closing", why)
        self.close(1002, why[:120])

    # -- keepalive ---------------------------------------------------------------------------

    def _ping(self) -> None:
        transport = self.transport
        if transport is None or self.disconnected:
            return
        if self._awaiting_pong:
            return
        self._awaiting_pong = True
        transport.send_ping(_PING_PAYLOAD)
        timeout = self._ping_timeout
        if timeout is not None:
            self._timer = self._loop.call_later(timeout, self._pong_due)
        else:
            self._timer = self._loop.call_later(self._ping_interval or 20.0, self._next_ping)

    def _pong_due(self) -> None:
        if self._awaiting_pong:
            log.info("no pong within %.3g s: the server is not answering", self._ping_timeout)
            self.stalled = True
            self.abort()
            return
        self._next_ping()

    def _next_ping(self) -> None:
        self._awaiting_pong = False
        interval = self._ping_interval or 20.0
        spent = self._ping_timeout or 0.0
        self._timer = self._loop.call_later(max(0.0, interval - spent), self._ping)

    # -- send and close ----------------------------------------------------------------------

    def unsent_bytes(self) -> int:
        """Bytes written but not yet on the wire: the transport's buffer and, on Linux, the
        kernel's unsent bytes."""
        transport = self.transport
        if transport is None or self.disconnected:
            return 0
        n = int(transport.underlying_transport.get_write_buffer_size())
        bound = self._bound
        return n if bound is None else n + bound.unsent()

    @property
    def queue_delay(self) -> float:
        """How long what the socket holds takes to drain, as last measured (seconds)."""
        bound = self._bound
        return 0.0 if bound is None else bound.delay_s

    def in_flight(self) -> dict[str, float | int | None]:
        """The in-flight bound's state (see :mod:`rtsdk.link.inflight`); {} without one."""
        bound = self._bound
        if bound is None:
            return {}
        rate = bound.rate
        return {
            "drain_bytes_per_s": None if rate is None else round(rate),
            "budget_bytes": round(bound.budget),
            "holds": bound.holds,
            "queue_high_water_bytes": bound.queue_high_water,
        }

    def send_now(self, frame: str | bytes) -> None:
        """Write one text frame (UTF-8 ``bytes`` go out as they are)."""
        transport = self.transport
        assert transport is not None
        transport.send(_TEXT, frame)
        bound = self._bound
        if bound is not None:  # inline: this runs for every frame
            bound.written += len(frame)
            if bound.written >= bound.next_check:
                self._check_bound(bound)

    async def send(self, frame: str | bytes) -> None:
        """Write one text frame, first waiting while the write buffer is over its mark.

        Raises :class:`ConnectionResetError` when the connection is (or gets) closed.
        """
        while self._resumed is not None and not self.disconnected:
            await self._resumed
        transport = self.transport
        if self.disconnected or transport is None or transport.is_close_frame_sent:
            raise ConnectionResetError("the connection is closed")
        self.send_now(frame)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the close handshake (the server answers, then the socket closes)."""
        transport = self.transport
        if transport is None or self.disconnected or transport.is_close_frame_sent:
            return
        self.ready = False
        transport.send_close(_CLOSE_CODES.get(code, WSCloseCode.OK), reason.encode()[:120])

    def abort(self) -> None:
        """Drop the connection now, without a close handshake."""
        transport = self.transport
        self.ready = False
        if transport is not None and not self.disconnected:
            transport.disconnect(graceful=False)

    async def closed(self, timeout: float | None = None) -> bool:
        """Wait until the socket is closed; False if ``timeout`` passed first."""
        if timeout is None:
            await asyncio.shield(self._done)
            return True
        try:
            await asyncio.wait_for(asyncio.shield(self._done), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def close_and_wait(self, code: int, reason: str, timeout: float) -> None:
        """Close gracefully within ``timeout`` seconds, then abort if the server did not."""
        self.close(code, reason)
        try:
            if not await self.closed(timeout):
                self.abort()
                await self.closed(1.0)
        except asyncio.CancelledError:
            self.abort()  # given up on (a caller's own deadline): the socket goes now
            raise


def _bound_unsent(transport: Any) -> socket.socket | None:
    """Keep what waits unsent under the session's outbox small (:data:`UNSENT_BYTES`); the
    socket (None when there is none)."""
    with contextlib.suppress(Exception):
        transport.set_write_buffer_limits(high=UNSENT_BYTES, low=UNSENT_BYTES // 4)
    sock: socket.socket | None = transport.get_extra_info("socket")
    if sock is None:
        return None
    lowat = getattr(socket, "TCP_NOTSENT_LOWAT", None)
    if lowat is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, lowat, UNSENT_BYTES)
    return sock


async def open_connection(
    url: str,
    headers: Mapping[str, str],
    on_message: Callable[[bytes], None],
    *,
    open_timeout: float,
    ping_interval: float | None,
    ping_timeout: float | None,
    logger: Any,
    stats: Any = None,
) -> Connection:
    """Connect to ``url`` with ``headers`` and return the open :class:`Connection`.

    Raises :class:`UpgradeRefused` (a non-101 answer; redirects are not followed, so the
    credentials never go to another host), :class:`OSError` or :class:`asyncio.TimeoutError`.
    """
    # certificates verified against the system store (SSL_CERT_FILE / SSL_CERT_DIR honoured)
    # and the host name checked
    tls = ssl.create_default_context() if url.startswith("wss:") else None

    def listener() -> Connection:
        return Connection(on_message, ping_interval, ping_timeout, stats)

    try:
        _, conn = await asyncio.wait_for(
            ws_connect(
                listener,
                url,
                ssl_context=tls,
                websocket_handshake_timeout=open_timeout,
                logger_name=logger,
                enable_auto_pong=True,
                max_frame_size=1 << 30,
                extra_headers={**headers, "User-Agent": USER_AGENT},
                max_redirects=0,
                proxy=None,
                use_aiofastnet=False,
            ),
            open_timeout,
        )
    except WSHandshakeError as exc:
        response = exc.response
        if response is not None and getattr(response, "status", None) is not None:
            raise UpgradeRefused(int(response.status)) from None
        raise ConnectionResetError(f"the upgrade failed: {exc}") from None
    except WSError as exc:
        raise ConnectionResetError(f"the upgrade failed: {exc}") from None
    assert isinstance(conn, Connection)
    return conn
