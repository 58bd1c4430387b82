"""The phone server's fast engine: plain HTTP for the webhook, picows for the media streams.

Each accepted TCP connection starts with :class:`_Front`, which reads the request head:

- the webhook path (``GET`` or ``POST``, form body) is answered here with the TwiML document
  and the connection closed;
- the media path is handed to a picows protocol (frames parsed and built in compiled code),
  whose listener, :class:`CarrierListener`, feeds each message to its
  :class:`~rtsdk.telephony.PhoneCall` from the socket's read callback and writes the call's
  messages synchronously (:class:`~rtsdk.telephony.carrier.TransportPort`);
- anything else gets ``404``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from picows import WSAutoPingStrategy, WSListener, WSMsgType
from picows.picows import WSProtocol  # type: ignore[attr-defined]  # not in the stubs

from .carrier import CarrierPort, FedCall, TransportPort
from .signature import read_webhook_body

__all__ = ["CallServer", "CarrierListener", "front_factory"]

log = logging.getLogger("rtsdk.telephony")

_MAX_HEAD = 16 * 1024
_MAX_BODY = 64 * 1024
_MAX_MESSAGE = 1 << 20
_TEXT = WSMsgType.TEXT
_CONTINUATION = WSMsgType.CONTINUATION
_CLOSE = WSMsgType.CLOSE


def _http(status: str, body: bytes = b"", content_type: str = "text/plain") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nServer: rtsdk-phone\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode("ascii") + body


class CallServer(Protocol):
    """What the engine uses of the server it serves (a :class:`~rtsdk.telephony.PhoneServer`
    is one): its two paths, its checks and TwiML answer for a request, and its calls."""

    @property
    def media_path(self) -> str:
        """The path of the media streams."""

    @property
    def twiml_path(self) -> str:
        """The path of the carrier's webhook."""

    def request_allowed(
        self,
        media: bool,
        target: str,
        form: list[tuple[str, str]],
        headers: dict[str, str],
        json_body: bytes | None = None,
    ) -> bool:
        """Does the request carry the carrier's signature (when one is required)?"""

    def twiml_for(
        self,
        target: str,
        form: list[tuple[str, str]],
        host: str | None,
        forwarded_proto: str | None,
    ) -> str:
        """The TwiML answer to a webhook request for ``target``."""

    def new_call(self) -> FedCall:
        """A call for a new media stream, fed its messages by the engine."""

    async def run_call(self, call: Any, port: CarrierPort | None = None) -> None:
        """Run ``call`` (one :meth:`new_call` made), writing to ``port``, until it ends."""


class CarrierListener(WSListener):
    """One media stream on picows: messages to the call, the call's writes to the socket."""

    def __init__(self, server: CallServer) -> None:
        self._server = server
        self._call: Any = None
        self._parts: list[bytes] = []
        self._task: asyncio.Task[Any] | None = None

    def on_ws_connected(self, transport: Any) -> None:
        self._call = call = self._server.new_call()
        self._task = asyncio.get_running_loop().create_task(
            self._server.run_call(call, TransportPort(transport)), name="rtsdk-phone-call"
        )

    def on_ws_frame(self, transport: Any, frame: Any) -> None:
        call = self._call
        kind = frame.msg_type
        if kind == _TEXT:
            if frame.fin:
                call.feed(frame.get_payload_as_bytes())
            else:
                self._parts = [frame.get_payload_as_bytes()]
        elif kind == _CONTINUATION and self._parts:
            self._parts.append(frame.get_payload_as_bytes())
            if sum(len(p) for p in self._parts) > _MAX_MESSAGE:
                self._parts = []
                call.feed(b"")  # reported as malformed; the rest of the message is dropped
            elif frame.fin:
                message, self._parts = b"".join(self._parts), []
                call.feed(message)
        elif kind == _CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
        # pings are answered by picows; binary frames are not carrier messages: ignored

    def on_ws_disconnected(self, transport: Any) -> None:
        if self._call is not None:
            self._call.carrier_closed()


class _Front(asyncio.Protocol):
    """The first bytes of a connection: route by the request path (see the module)."""

    def __init__(self, server: CallServer, listener: Callable[[Any], Any]) -> None:
        self._server = server
        self._listener = listener
        self._buf = bytearray()
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport (uvloop's is not a registered asyncio.Transport subclass)
        stream = self._transport = cast(asyncio.Transport, transport)
        self._timer = asyncio.get_running_loop().call_later(10.0, stream.abort)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _reply(self, response: bytes) -> None:
        transport = self._transport
        assert transport is not None
        if self._timer is not None:
            self._timer.cancel()
        transport.write(response)
        transport.close()

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        end = buf.find(b"\r\n\r\n")
        if end < 0 or end > _MAX_HEAD:
            if len(buf) > _MAX_HEAD:
                self._reply(_http("431 Request Header Fields Too Large"))
            return
        lines = bytes(buf[:end]).split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3:
            self._reply(_http("400 Bad Request", b"bad request line\n"))
            return
        method, target = parts[0], parts[1].decode("latin-1")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        path = urlsplit(target).path
        server = self._server
        if path == server.media_path:
            if server.request_allowed(True, target, [], headers):
                self._hand_over(bytes(buf))
            else:
                self._reply(_http("403 Forbidden", b"bad or missing signature\n"))
        elif path == server.twiml_path and method in (b"GET", b"POST"):
            try:
                length = int(headers.get("content-length", "0") or "0")
            except ValueError:
                length = -1
            if length < 0 or length > _MAX_BODY:
                self._reply(_http("413 Content Too Large"))
                return
            if len(buf) < end + 4 + length:
                return  # the body is still coming
            body = bytes(buf[end + 4 : end + 4 + length])
            form, json_body = read_webhook_body(body, headers.get("content-type"))
            if not server.request_allowed(False, target, form, headers, json_body):
                self._reply(_http("403 Forbidden", b"bad or missing signature\n"))
                return
            xml = server.twiml_for(
                target, form, headers.get("host"), headers.get("x-forwarded-proto")
            )
            self._reply(_http("200 OK", xml.encode("utf-8"), "text/xml; charset=utf-8"))
        else:
            self._reply(_http("404 Not Found", b"not found\n"))

    def _hand_over(self, data: bytes) -> None:
        transport = self._transport
        assert transport is not None
        if self._timer is not None:
            self._timer.cancel()
        proto = WSProtocol(
            None, None, False, self._listener, log, True, 5.0,
            False, 20.0, 20.0, WSAutoPingStrategy.PING_WHEN_IDLE, True,
            _MAX_MESSAGE, None, 16 * 1024,
        )  # fmt: skip
        transport.set_protocol(proto)
        proto.connection_made(transport)
        view = memoryview(data)
        while view:
            room = proto.get_buffer(len(view))
            n = min(len(room), len(view))
            room[:n] = view[:n]
            proto.buffer_updated(n)
            view = view[n:]


def front_factory(server: CallServer) -> Callable[[], asyncio.Protocol]:
    """The protocol factory for ``loop.create_server`` of the fast engine."""

    def listener(request: Any) -> CarrierListener:
        return CarrierListener(server)

    return lambda: _Front(server, listener)
