"""A small asyncio HTTP/1.1 client for the call-control REST calls: :class:`HttpClient`.

Call control is a handful of small JSON requests per call (accept, then maybe refer or
hang up), made from the event loop that also runs the calls' sidebands. The standard
library's ``http.client`` blocks, so it would need a thread per request in flight; this
client runs on the loop instead and keeps connections alive per origin (a webhook burst
reuses a few TLS connections rather than opening one per call). It speaks what those
requests need: one request at a time per connection, ``Content-Length`` or chunked or
read-to-close bodies, TLS through :mod:`ssl`'s default context; no redirects, no
cookies, no compression, bodies up to 1 MiB.

A pooled connection the server closed while idle shows as a reset (or an end of stream)
before any byte of the answer; such a request is sent again once on a fresh connection
(the server never read it). With ``retry_stale=False`` a request goes out once, on a fresh
connection (for requests that must never be sent twice, such as dialling a call). Nothing
else is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rtsdk.exceptions import ConfigurationError, ConnectionClosedError

__all__ = ["HttpClient", "HttpResponse"]

_MAX_BODY = 1 << 20
_MAX_HEAD = 64 * 1024
_IDLE_SECONDS = 30.0  # a pooled connection older than this is closed, not reused


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """One answer: ``status``, ``headers`` (names lower-cased) and the ``body`` bytes."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class _Stale(Exception):
    """A reused connection ended before any byte of the answer."""


class _Conn:
    __slots__ = ("reader", "used", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.used = time.monotonic()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class HttpClient:
    """HTTP/1.1 requests on the running loop, connections kept per origin (see the module
    docstring). ``timeout``: seconds for one request (connect, send, answer). ``max_idle``:
    idle connections kept per origin. Not thread-safe; one loop."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        max_idle: int = 16,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not timeout > 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, got {timeout!r}")
        self.timeout = timeout
        self.max_idle = max_idle
        self._ssl = ssl_context
        self._idle: dict[tuple[str, str, int], list[_Conn]] = {}
        #: connections opened, and requests sent on a reused one (for tests and stats)
        self.opened = 0
        self.reused = 0

    def __repr__(self) -> str:
        idle = sum(len(v) for v in self._idle.values())
        return f"<HttpClient opened={self.opened} reused={self.reused} idle={idle}>"

    async def close(self) -> None:
        """Close every idle connection."""
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        retry_stale: bool = True,
    ) -> HttpResponse:
        """Send one request and read its answer (any status: the caller decides).

        Raises :class:`ConnectionClosedError` when the server cannot be reached or the answer
        is cut or unreadable, :class:`asyncio.TimeoutError` after ``timeout``. The messages name the
        origin and path, never a header value."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"not an http(s) URL: {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        origin = (parts.scheme, parts.hostname, port)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        host = parts.netloc.rpartition("@")[2]
        head = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
        for name, value in (headers or {}).items():
            if any(c in name or c in value for c in "\r\n\0"):
                raise ConfigurationError(f"header {name!r} holds a line break")
            head.append(f"{name}: {value}")
        if body is not None or method in ("POST", "PUT", "PATCH"):
            head.append(f"Content-Length: {len(body or b'')}")
        wire = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b"")
        where = f"{parts.scheme}://{host}{parts.path}"
        return await asyncio.wait_for(
            self._request(origin, wire, method, where, retry_stale), self.timeout
        )

    async def _request(
        self,
        origin: tuple[str, str, int],
        wire: bytes,
        method: str,
        where: str,
        retry_stale: bool,
    ) -> HttpResponse:
        # without retry_stale the request goes out once, on a fresh connection
        conn = self._take(origin) if retry_stale else None
        if conn is not None:
            try:
                return await self._exchange(conn, origin, wire, method, where, reused=True)
            except _Stale:
                pass  # the server closed it while idle and never read this: a fresh one
        conn = await self._open(origin, where)
        try:
            return await self._exchange(conn, origin, wire, method, where, reused=False)
        except _Stale:
            raise ConnectionClosedError(
                f"{where} closed the connection without an answer"
            ) from None

    def _take(self, origin: tuple[str, str, int]) -> _Conn | None:
        conns = self._idle.get(origin)
        now = time.monotonic()
        while conns:
            conn = conns.pop()
            if now - conn.used < _IDLE_SECONDS and not conn.reader.at_eof():
                self.reused += 1
                return conn
            conn.close()
        return None

    async def _open(self, origin: tuple[str, str, int], where: str) -> _Conn:
        scheme, hostname, port = origin
        context: ssl.SSLContext | None = None
        if scheme == "https":
            context = self._ssl or ssl.create_default_context()
        try:
            reader, writer = await asyncio.open_connection(
                hostname, port, ssl=context, limit=_MAX_HEAD
            )
        except OSError as exc:
            raise ConnectionClosedError(f"cannot reach {where}: {exc.strerror or exc}") from None
        self.opened += 1
        return _Conn(reader, writer)

    async def _exchange(
        self,
        conn: _Conn,
        origin: tuple[str, str, int],
        wire: bytes,
        method: str,
        where: str,
        *,
        reused: bool,
    ) -> HttpResponse:
        keep = False
        try:
            try:
                conn.writer.write(wire)
                await conn.writer.drain()
                status_line = await conn.reader.readline()
            except (ConnectionError, OSError):
                if reused:
                    raise _Stale from None
                raise
            if not status_line:
                if reused:
                    raise _Stale
                raise ConnectionClosedError(f"{where} closed the connection without an answer")
            status, headers = await self._head(conn.reader, status_line, where)
            body, keep = await self._body(conn.reader, status, headers, method, where)
            return HttpResponse(status, headers, body)
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            raise ConnectionClosedError(
                f"the answer from {where} was cut or unreadable ({type(exc).__name__})"
            ) from None
        finally:
            if keep and len(self._idle.get(origin, ())) < self.max_idle:
                conn.used = time.monotonic()
                self._idle.setdefault(origin, []).append(conn)
            else:
                conn.close()

    @staticmethod
    async def _head(
        reader: asyncio.StreamReader, status_line: bytes, where: str
    ) -> tuple[int, dict[str, str]]:
        version, _, rest = status_line.decode("latin-1").strip().partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise ValueError("bad status line")
        headers: dict[str, str] = {}
        size = 0
        while True:
            line = await reader.readline()
            size += len(line)
            if size > _MAX_HEAD:
                raise ValueError("headers too large")
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(code), headers

    @staticmethod
    async def _body(
        reader: asyncio.StreamReader,
        status: int,
        headers: dict[str, str],
        method: str,
        where: str,
    ) -> tuple[bytes, bool]:
        """The body, and whether the connection may be reused."""
        keep = headers.get("connection", "").lower() != "close"
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return b"", keep
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = bytearray()
            while True:
                size_line = await reader.readline()
                size = int(size_line.split(b";")[0].strip() or b"x", 16)
                if size == 0:
                    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(chunks), keep
                if len(chunks) + size > _MAX_BODY:
                    raise ValueError("body too large")
                chunks += await reader.readexactly(size)
                await reader.readexactly(2)
        length = headers.get("content-length")
        if length is not None:
            n = int(length)
            if n < 0 or n > _MAX_BODY:
                raise ValueError("bad Content-Length")
            return await reader.readexactly(n), keep
        data = bytearray()  # no length: the body ends with the stream
        while chunk := await reader.read(65536):
            data += chunk
            if len(data) > _MAX_BODY:
                raise ValueError("body too large")
        return bytes(data), False
