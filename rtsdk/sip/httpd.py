"""A small asyncio HTTP/1.1 server for webhooks: :class:`HttpServer`.

The SIP server answers two things over plain HTTP: ``POST`` webhook deliveries (small JSON
bodies, a burst of them when many calls come in at once) and a health check. It needs no
WebSocket, so it runs on :func:`asyncio.start_server` directly: requests with a
``Content-Length`` body (at most ``max_body`` bytes: 413 beyond), keep-alive connections
(one request at a time each), ``SO_REUSEPORT`` for several processes on one port. An
``app(method, path, headers, body)`` coroutine answers each request with ``(status,
content_type, body)``; an exception in it is a 500 (and logged), never a dropped connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus

__all__ = ["App", "HttpServer"]

log = logging.getLogger("rtsdk.sip")

#: ``(method, path, headers with lower-case names, body) -> (status, content type, body)``
App = Callable[[str, str, dict[str, str], bytes], Awaitable[tuple[int, str, bytes]]]

_MAX_HEAD = 32 * 1024
_MAX_HEADERS = 100
_IDLE_TIMEOUT = 75.0  # a keep-alive connection with no request this long is closed
_REQUEST_TIMEOUT = 10.0  # the headers and body of a request, once its first line came


class HttpServer:
    """Serve ``app`` on ``host:port`` (see the module docstring). ``port=0``: any free port
    (:attr:`port` says which once started)."""

    def __init__(
        self,
        app: App,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        reuse_port: bool = False,
        max_body: int = 1 << 20,
        name: str = "rtsdk-sip",
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.reuse_port = reuse_port
        self.max_body = max_body
        self.name = name
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        #: requests answered, by status
        self.answered: dict[int, int] = {}

    async def start(self) -> None:
        """Start listening."""
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, reuse_port=self.reuse_port or None
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    def stop_listening(self) -> None:
        """Close the listening socket (new connections are refused, or go to the other
        processes on the port); open connections go on."""
        if self._server is not None:
            self._server.close()

    async def close(self) -> None:
        """Stop listening and close every connection."""
        self.stop_listening()
        for writer in list(self._writers):
            writer.close()
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while await self._one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.TimeoutError, ValueError):
            pass  # the client went away, or sent something we will not read
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read and answer one request; False when the connection is to close."""
        line = await asyncio.wait_for(reader.readline(), _IDLE_TIMEOUT)
        if not line:
            return False
        # the rest of the request must follow promptly (no connection held by a trickle)
        request = await asyncio.wait_for(self._read(reader, writer, line), _REQUEST_TIMEOUT)
        if request is None:
            return False
        method, path, headers, body, close = request
        try:
            status, content_type, payload = await self.app(method, path, headers, body)
        except Exception:
            log.exception("%s %s failed", method, path)
            status, content_type, payload = 500, "text/plain", b"internal error\n"
        close = close or status == 503
        await self._reply(writer, status, content_type, payload, close=close)
        return not close

    async def _read(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: bytes
    ) -> tuple[str, str, dict[str, str], bytes, bool] | None:
        """The request after its first line: ``(method, path, headers, body, close)``, or
        None when it was refused (answered here)."""
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            await self._reply(writer, 400, "text/plain", b"bad request line\n", close=True)
            return None
        method, target, version = parts
        headers: dict[str, str] = {}
        size = 0
        while True:
            raw = await reader.readline()
            size += len(raw)
            if size > _MAX_HEAD or len(headers) > _MAX_HEADERS:
                await self._reply(writer, 431, "text/plain", b"headers too large\n", close=True)
                return None
            if raw in (b"\r\n", b"\n"):
                break
            if not raw:
                return None
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep:
                await self._reply(writer, 400, "text/plain", b"bad header line\n", close=True)
                return None
            headers[name.strip().lower()] = value.strip()
        close = version == "HTTP/1.0" or headers.get("connection", "").lower() == "close"
        if "chunked" in headers.get("transfer-encoding", "").lower():
            await self._reply(writer, 411, "text/plain", b"send a Content-Length\n", close=True)
            return None
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            await self._reply(writer, 400, "text/plain", b"bad Content-Length\n", close=True)
            return None
        if length > self.max_body:
            await self._reply(writer, 413, "text/plain", b"body too large\n", close=True)
            return None
        body = await reader.readexactly(length) if length else b""
        return method, target.split("?", 1)[0], headers, body, close

    async def _reply(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        content_type: str,
        body: bytes,
        *,
        close: bool = False,
    ) -> None:
        self.answered[status] = self.answered.get(status, 0) + 1
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Status"
        head = (
            f"HTTP/1.1 {status} {phrase}\r\nServer: {self.name}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
        )
        writer.write(head.encode("latin-1") + body)
        await writer.drain()
