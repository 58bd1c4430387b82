"""Plain HTTP on the local server's port, both ways: request bodies in, webhook posts out.

The local server is a ``websockets`` server, and ``websockets`` reads a request's head but
refuses a body. :class:`HttpConnection` (the server's connection class) reads the body of a
request that has one (``Content-Length``, or ``Transfer-Encoding: chunked``; ``Expect:
100-continue`` answered) before ``websockets`` sees the request, hands ``websockets`` the head
without its body headers, and keeps the body in :attr:`HttpConnection.http_body`, so that
``process_request`` can answer a ``POST`` (the SIP call-control REST of :mod:`.sip`) with any
status and JSON body. WebSocket upgrades pass through untouched.

:func:`http_post` is a small HTTP/1.1 client (``http`` and ``https``, one request per
connection) for the webhook deliveries of :mod:`.sip_webhook`: no third-party client, and
nothing in it ever logs a header.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection as WsConnection
from websockets.http11 import Response

__all__ = ["MAX_BODY", "HttpConnection", "http_post", "json_response"]

#: The largest request body the server reads (a larger one is answered 413).
MAX_BODY = 4 * 1024 * 1024
_MAX_HEAD = 64 * 1024
_BODY_HEADERS = (b"content-length", b"transfer-encoding", b"expect")


class HttpConnection(WsConnection):
    """The local server's connection: a ``websockets`` server connection that also reads the
    body of a plain HTTP request (see the module docstring).

    :attr:`http_body` is the body (``b""`` when the request had none); :attr:`body_too_large`
    says the body was over :data:`MAX_BODY` (it was not kept); :attr:`bad_body` that its
    framing could not be read (a bad ``Content-Length`` or chunk size).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.http_body = b""
        self.body_too_large = False
        self.bad_body = False
        self._passing = False
        self._head = bytearray()
        self._want: int | None = None  # body bytes still to come (Content-Length)
        self._chunked = False
        self._body = bytearray()
        self._dropped = 0  # bytes of a body over the limit, read and dropped
        self._rest = b""  # the request head, without its body headers, held back meanwhile

    def data_received(self, data: bytes) -> None:
        if self._passing:
            super().data_received(data)
            return
        if self._rest:
            self._take_body(data)
            return
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head) > _MAX_HEAD:  # let websockets refuse it
                self._pass(bytes(self._head))
            return
        head, body = bytes(self._head[: end + 4]), bytes(self._head[end + 4 :])
        self._head = bytearray()
        lines = head.split(b"\r\n")
        kept, length, chunked, expect = [lines[0]], 0, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            key = name.strip().lower()
            if key == b"content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    self.bad_body = True
                if length < 0:
                    self.bad_body = True
            elif key == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
                self.bad_body = self.bad_body or not chunked
            elif key == b"expect":
                expect = value.strip().lower() == b"100-continue"
            if key not in _BODY_HEADERS:
                kept.append(line)
        stripped = b"\r\n".join(kept)
        if self.bad_body:
            self._pass(stripped)
            return
        if length == 0 and not chunked:  # an upgrade (or a GET): what follows is websockets'
            self._pass(stripped + body)
            return
        if length > MAX_BODY:  # read it all (not kept) before answering 413
            self.body_too_large = True
        self._rest = stripped
        self._want = None if chunked else length
        self._chunked = chunked
        if expect and self.transport is not None:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self._take_body(body)

    def _take_body(self, data: bytes) -> None:
        if self.body_too_large and self._want is not None:
            self._dropped += len(data)
            if self._dropped >= self._want:
                self._pass(self._rest)
            return
        self._body += data
        if len(self._body) > MAX_BODY + _MAX_HEAD:
            self.body_too_large = True
            self._body.clear()
            self._pass(self._rest)
            return
        if self._want is not None:
            if len(self._body) >= self._want:
                self.http_body = bytes(self._body[: self._want])
                self._pass(self._rest)
            return
        decoded = _dechunk(bytes(self._body))
        if decoded is None:
            return
        if isinstance(decoded, bytes):
            if len(decoded) > MAX_BODY:
                self.body_too_large = True
            else:
                self.http_body = decoded
        else:
            self.bad_body = True
        self._pass(self._rest)

    def _pass(self, head: bytes) -> None:
        """Hand ``websockets`` the request head; from now on every byte goes to it."""
        self._passing = True
        self._rest = b""
        self._body.clear()
        super().data_received(head)


def _dechunk(data: bytes) -> bytes | bool | None:
    """A chunked body decoded; None while incomplete; False when malformed."""
    out = bytearray()
    pos = 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_text = data[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return False
        if size == 0:
            end = data.find(b"\r\n\r\n", eol)
            if end < 0 and not data.endswith(b"0\r\n\r\n"):
                return None
            return bytes(out)
        start = eol + 2
        if len(data) < start + size + 2:
            return None
        out += data[start : start + size]
        pos = start + size + 2


def json_response(ws: WsConnection, status: int, body: Any = None) -> Response:
    """An HTTP response of ``status`` whose body is ``body`` as JSON (``None``: an empty body,
    as the service answers a call-control request that succeeded)."""
    text = "" if body is None else json.dumps(body) + "\n"
    response = ws.respond(HTTPStatus(status), text)
    if body is not None:
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "application/json"
    return response


async def http_post(
    url: str, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int, bytes]:
    """POST ``body`` to ``url`` (``http://`` or ``https://``); return the status and body.

    Raises ``OSError`` (connection refused, reset), ``TimeoutError`` (no full answer within
    ``timeout`` s) or ``ValueError`` (a URL or an answer that is not HTTP/1.x).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http:// or https:// URL, got {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port:
        host += f":{parts.port}"
    context = ssl.create_default_context() if parts.scheme == "https" else None
    lines = [f"POST {target} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def exchange() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(parts.hostname, port, ssl=context)
        try:
            writer.write(request)
            await writer.drain()
            return await _read_answer(reader)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    return await asyncio.wait_for(exchange(), timeout)


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ValueError(f"not an HTTP answer: {status_line[:80]!r}")
    status = int(parts[1])
    length: int | None = None
    chunked = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value.strip())
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if status == 100:  # an interim answer: the final one follows
        return await _read_answer(reader)
    if chunked:
        out = bytearray()
        while len(out) <= MAX_BODY:
            size = int((await reader.readline()).split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                break
            out += await reader.readexactly(size)
            await reader.readexactly(2)
        return status, bytes(out[:MAX_BODY])
    if length is not None:
        return status, await reader.readexactly(min(length, MAX_BODY))
    return status, await reader.read(MAX_BODY)
