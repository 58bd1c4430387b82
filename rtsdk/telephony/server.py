"""A ready phone server: carrier media streams on ``/media``, the carrier's webhook on ``/twiml``.

:class:`PhoneServer` listens on one port (a ``websockets`` server, one process, many calls):

- ``GET`` or ``POST /twiml`` (the voice webhook a carrier calls when a call comes in) answers
  the ``<Connect><Stream>`` TwiML document that opens a bidirectional media stream to
  ``/media`` on this server; the caller's ``From``/``To`` numbers (form fields, a JSON
  body's string members, or query) and any other query parameters become ``<Parameter>``
  elements, which come back in the stream's ``start.customParameters`` (so
  :meth:`PhoneCallHandler.configure` sees them);
- a WebSocket on ``/media`` is one call: a :class:`~rtsdk.telephony.PhoneCall` bridges it to
  its own Realtime session.

Two engines: ``"picows"`` (the default when picows is installed: the webhook is answered by
a small HTTP front, media streams run on picows, see :mod:`rtsdk.telephony.engine`) and
``"websockets"`` (each call reads its ``websockets`` connection).

``reuse_port=True`` sets ``SO_REUSEPORT``: several processes can listen on one port and the
kernel spreads calls across them (``python -m rtsdk phone --workers N``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import quoteattr

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from rtsdk.session.options import RealtimeAIOptions

from .call import PhoneCall, PhoneCallHandler, check_uplink_ms
from .carrier import CarrierPort
from .interpreter import InterpreterCall
from .signature import read_webhook_body, signature_valid

__all__ = ["PhoneServer", "twiml_connect_stream"]

log = logging.getLogger("rtsdk.telephony")

_MAX_WEBHOOK_BODY = 64 * 1024
_FORWARDED_PARAMS = ("From", "To", "CallerName", "Direction")


def twiml_connect_stream(stream_url: str, parameters: dict[str, str] | None = None) -> str:
    """The TwiML document that connects a call to a bidirectional media stream."""
    params = "".join(
        f"<Parameter name={quoteattr(k)} value={quoteattr(v)}/>"
        for k, v in (parameters or {}).items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Connect><Stream url={quoteattr(stream_url)}>{params}</Stream>"
        "</Connect></Response>"
    )


class _WebhookConnection(ServerConnection):
    """A connection that also takes a form-encoded ``POST`` body (the carrier's webhook).

    The WebSocket handshake parser refuses requests with a body; the body of the first
    request is taken off here (kept in :attr:`webhook_form`) and the head passed on without
    it, so that ``process_request`` can answer the webhook.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head: bytearray | None = bytearray()
        self.webhook_form: list[tuple[str, str]] = []
        self.webhook_json: bytes | None = None  # the raw body of a JSON webhook

    def data_received(self, data: bytes) -> None:
        head = self._head
        if head is None:
            super().data_received(data)
            return
        head += data
        end = head.find(b"\r\n\r\n")
        if end < 0:
            if len(head) > _MAX_WEBHOOK_BODY:
                self._head = None
                super().data_received(bytes(head))  # let the parser refuse it
            return
        lines = bytes(head[:end]).split(b"\r\n")
        length = 0
        content_type = ""
        kept = [lines[0]]
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-type":
                content_type = value.strip().decode("latin-1")
            if name == b"content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    length = -1
                continue
            kept.append(line)
        if length > _MAX_WEBHOOK_BODY or length < 0:
            self._head = None
            self.transport.write(
                b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            self.transport.close()
            return
        if length == 0:
            self._head = None
            super().data_received(bytes(head))  # no body: as it came
            return
        if len(head) < end + 4 + length:
            return  # the rest of the body is still coming
        body = bytes(head[end + 4 : end + 4 + length])
        rest = bytes(head[end + 4 + length :])
        self._head = None
        self.webhook_form, self.webhook_json = read_webhook_body(body, content_type)
        super().data_received(b"\r\n".join(kept) + b"\r\n\r\n" + rest)


class PhoneServer:
    """Carrier media streams bridged to Realtime sessions (see the module docstring).

    ``options``: session options every call starts from. ``handler_factory``: a new
    :class:`PhoneCallHandler` per call (default: the plain one). ``public_url``: the
    ``wss://host`` base carriers reach this server at (default: from the webhook request's
    ``Host``, ``wss`` unless ``X-Forwarded-Proto: http``). ``call_options``: keywords for each
    :class:`PhoneCall` (``lead_ms``, ``uplink_ms``, ``dtmf_to_model``, ``media_timeout``, ...).
    """

    def __init__(
        self,
        options: RealtimeAIOptions,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        handler_factory: Callable[[], PhoneCallHandler] | None = None,
        public_url: str | None = None,
        media_path: str = "/media",
        twiml_path: str = "/twiml",
        reuse_port: bool = False,
        engine: str = "auto",
        auth_token: str | None = None,
        **call_options: Any,
    ) -> None:
        if "uplink_ms" in call_options:
            check_uplink_ms(call_options["uplink_ms"])
        self.options = options
        self.host = host
        self.port = port
        self.handler_factory = handler_factory or PhoneCallHandler
        self.public_url = public_url.rstrip("/") if public_url else None
        self.media_path = media_path
        self.twiml_path = twiml_path
        self.reuse_port = reuse_port
        self.call_options = call_options
        self.calls: set[PhoneCall] = set()
        self.finished = 0
        if engine == "auto":
            engine = "picows" if _have_picows() else "websockets"
        if engine not in ("picows", "websockets"):
            raise ValueError(f"engine must be 'auto', 'picows' or 'websockets', got {engine!r}")
        self.engine = engine
        self._auth_token = auth_token
        self._server: Server | asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._draining = False

    def __repr__(self) -> str:
        where = self.url if self._server else "not started"
        state = " draining" if self._draining else ""
        return f"<PhoneServer {where} calls={len(self.calls)}{state}>"

    @property
    def url(self) -> str:
        """``ws://HOST:PORT`` of this server (add ``/media`` or ``/twiml``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}"

    async def start(self) -> None:
        """Start listening (``port=0`` picks a free port; :attr:`port` then says which)."""
        if self._server is not None:
            raise RuntimeError("PhoneServer is already started")
        if self.engine == "picows":
            from .engine import front_factory

            loop = asyncio.get_running_loop()
            server = await loop.create_server(
                front_factory(self), self.host, self.port, reuse_port=self.reuse_port or None
            )
            self._server = server
            self.port = int(server.sockets[0].getsockname()[1])
            log.info("phone server listening on %s (picows)", self.url)
            return
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._process_request,
            create_connection=_WebhookConnection,
            compression=None,
            max_size=1 << 20,
            ping_interval=None,
            close_timeout=2,
            server_header="rtsdk-phone",
            reuse_port=self.reuse_port or None,
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info(
            "phone server listening on %s (media %s, webhook %s)",
            self.url,
            self.media_path,
            self.twiml_path,
        )

    async def drain(self, timeout: float | None = None) -> int:
        """Stop taking calls and wait, at most ``timeout`` seconds, for the live ones to end.

        The listening socket is closed, so new media streams and webhooks are refused (with
        ``reuse_port`` the kernel gives them to the other processes on the port); the calls
        already bridged go on untouched. Returns how many are still live: :meth:`stop` hangs
        them up. For a restart that does not cut calls off (``python -m rtsdk phone --drain``).
        """
        server = self._server
        if server is None:
            raise RuntimeError("PhoneServer is not started")
        if not self._draining:
            self._draining = True
            if self.engine == "picows":
                server.close()  # the listening socket only: connections are left as they are
            else:
                cast(Server, server).close(close_connections=False)
            log.info("phone server draining: no new calls, %d live", len(self.calls))
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._tasks:  # (a stream accepted just before the close may add one)
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                break
            await asyncio.wait(set(self._tasks), timeout=left)
        return len(self.calls)

    @property
    def draining(self) -> bool:
        """True from :meth:`drain` until :meth:`stop`: no new calls are taken."""
        return self._draining

    async def stop(self) -> None:
        """Stop listening and end every call (their sessions closed)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for call in list(self.calls):
            call.hang_up()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10.0)
        await server.wait_closed()
        self._draining = False

    async def __aenter__(self) -> PhoneServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def serve_forever(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set."""
        async with self:
            await stop.wait()

    # -- HTTP side ---------------------------------------------------------------------------

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path not in (self.media_path, self.twiml_path):
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        form = getattr(connection, "webhook_form", [])
        headers = {k.lower(): v for k, v in request.headers.raw_items()}
        body = getattr(connection, "webhook_json", None)
        if not self.request_allowed(path == self.media_path, request.path, form, headers, body):
            return connection.respond(HTTPStatus.FORBIDDEN, "bad or missing signature\n")
        if path == self.media_path:
            return None
        if path == self.twiml_path:
            return self._twiml(connection, request)
        return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")

    def _twiml(self, connection: ServerConnection, request: Request) -> Response:
        xml = self.twiml_for(
            request.path,
            getattr(connection, "webhook_form", []),
            request.headers.get("Host"),
            request.headers.get("X-Forwarded-Proto"),
        )
        response = connection.respond(HTTPStatus.OK, xml)
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "text/xml; charset=utf-8"
        return response

    def _base(self, host: str | None, forwarded_proto: str | None) -> str:
        if self.public_url is not None:
            return self.public_url
        where = host or f"{self.host}:{self.port}"
        proto = (forwarded_proto or "https").split(",")[0].strip()
        return f"{'ws' if proto == 'http' else 'wss'}://{where}"

    def request_allowed(
        self,
        media: bool,
        target: str,
        form: list[tuple[str, str]],
        headers: dict[str, str],
        json_body: bytes | None = None,
    ) -> bool:
        """With an ``auth_token``: does the request carry the carrier's signature? (A refusal
        is logged.) Without one, every request is allowed. ``json_body``: the raw body of a
        JSON webhook (its ``form`` is then not part of the signature)."""
        token = self._auth_token
        if token is None:
            return True
        base = self._base(headers.get("host"), headers.get("x-forwarded-proto"))
        https = base.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
        urls = [base + target, https + target] if media else [https + target]
        if signature_valid(token, headers.get("x-twilio-signature"), urls, form, json_body):
            return True
        log.warning(
            "refused a %s request for %s: bad or missing X-Twilio-Signature",
            "media stream" if media else "webhook",
            urlsplit(target).path,
        )
        return False

    def twiml_for(
        self,
        target: str,
        form: list[tuple[str, str]],
        host: str | None,
        forwarded_proto: str | None,
    ) -> str:
        """The TwiML answer to a webhook request for ``target`` (path and query) with its
        form fields: the caller's numbers and the app's own query parameters become stream
        parameters."""
        fields = parse_qsl(urlsplit(target).query, keep_blank_values=True) + list(form)
        params: dict[str, str] = {}
        for key, value in fields:
            if key in _FORWARDED_PARAMS:
                params[key.lower()] = value
            elif key == "bodySHA256":
                continue  # the carrier's hash of a JSON body (see request_allowed)
            elif not key[:1].isupper():  # carrier fields are capitalised; the rest is the app's
                params[key] = value
        return twiml_connect_stream(self._base(host, forwarded_proto) + self.media_path, params)

    # -- calls -------------------------------------------------------------------------------

    def new_call(self, ws: Any = None) -> PhoneCall:
        """A call for this server (``ws``: a WebSocket-like, or None for a fed call)."""
        kind = InterpreterCall if self.options.session_type == "translation" else PhoneCall
        return kind(ws, self.options, handler=self.handler_factory(), **self.call_options)

    async def run_call(self, call: PhoneCall, port: CarrierPort | None = None) -> None:
        """Run ``call`` (on ``port``, or reading its own ``ws``) as one of this server's."""
        self.calls.add(call)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            if port is None:
                await call.run()
            else:
                await call.serve(port)
        finally:
            self.calls.discard(call)
            self.finished += 1
            if task is not None:
                self._tasks.discard(task)

    async def _handle(self, ws: ServerConnection) -> None:
        await self.run_call(self.new_call(ws))


def _have_picows() -> bool:
    try:
        import picows  # noqa: F401
    except ImportError:
        return False
    return True
