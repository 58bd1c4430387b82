"""A ready SIP call server: signed webhooks in, calls accepted and steered over sidebands.

:class:`SipServer` listens on one port (plain HTTP, :mod:`rtsdk.sip.httpd`):

- ``POST /webhook``: one OpenAI webhook delivery. The signature is checked
  (:class:`~rtsdk.sip.webhook.WebhookVerifier`: 401 naming what was wrong), a ``webhook-id``
  already handled is answered 200 and ignored, a body that is not a JSON event is a 400.
  The incoming-call event of the server's API (``realtime.call.incoming`` for a Realtime
  model, ``live.transport.incoming`` or the deprecated ``live.call.incoming`` for a GPT-Live
  model) is answered 200 at once and the call handled in a task of its own; every other
  event, the other API's incoming-call event for the same call included, is answered 200
  and ignored (OpenAI sends both; the first accept decides). A call id seen already is not
  handled twice. While draining a delivery is answered 503 (OpenAI delivers it again,
  to another process on the port).
- ``GET /healthz``: ``{"status": "ok", "calls": N, "pid": P}`` (503 and ``"draining"``
  while draining; ``pid`` tells the processes sharing a port apart).

Each call runs a :class:`SipCallHandler` (one per call, from ``handler_factory``):
``configure`` picks the options (or declines), ``on_session`` registers tools and listeners
on the call's client before the accept, ``on_accepted`` runs once the sideband is attached,
``on_end`` when the call is over. No audio passes through this process, so one process
serves many calls; ``reuse_port=True`` lets several processes share the port
(``python -m rtsdk sip --workers N``), and more boxes behind one webhook URL scale it out.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from rtsdk.exceptions import ConfigurationError
from rtsdk.session.events import EventHandler
from rtsdk.session.options import RealtimeAIOptions

from .call import SipCall
from .control import CallControl
from .httpd import HttpServer
from .webhook import (
    CALL_EVENT_TYPES,
    WebhookError,
    WebhookReplayError,
    WebhookVerifier,
    parse_incoming_call,
)

__all__ = ["SipCallHandler", "SipServer"]

log = logging.getLogger("rtsdk.sip")

T = TypeVar("T")
_RECENT_CALLS = 10_000


async def _maybe(value: T | Awaitable[T]) -> T:
    if inspect.isawaitable(value):
        return await value
    return value


class SipCallHandler:
    """Per-call hooks of a :class:`SipServer`; override what you need (plain or ``async``).

    The SIP headers of :attr:`SipCall.incoming` are UNTRUSTED (the caller wrote them):
    route and greet on them, never authorise on them."""

    def configure(
        self, call: SipCall, options: RealtimeAIOptions
    ) -> RealtimeAIOptions | Awaitable[RealtimeAIOptions | None] | None:
        """The options to accept ``call`` with (e.g. instructions by the dialled number).
        None: do not accept; the call is rejected with 603 unless this method made a
        decision itself (``await call.reject(486)``, ``await call.refer(...)``)."""
        return options

    def event_handler(self, call: SipCall) -> EventHandler | None:
        """The event handler of the call's client (a ``RealtimeEventHandler`` or
        ``LiveEventHandler``), or None."""
        return None

    def on_session(self, call: SipCall) -> Any:
        """The call's client exists, not attached yet: register tools and listeners on
        ``call.client`` here (they are part of the accept)."""

    def on_accepted(self, call: SipCall) -> Any:
        """The call was accepted and its sideband attached."""

    def on_error(self, call: SipCall, error: BaseException) -> Any:
        """Something failed on the call (also logged). A call not yet decided is then
        rejected with 480 (Temporarily Unavailable); an accepted one is hung up."""

    def on_end(self, call: SipCall) -> Any:
        """The call is over for this server (:attr:`SipCall.ended_by` says how)."""


class SipServer:
    """Webhook in, calls out (see the module docstring).

    ``options``: the session options every call starts from; their model selects the API
    whose incoming-call events are answered. ``secret``: the webhook signing secret
    (``whsec_...``); required: without it no call is accepted. ``control``: the
    :class:`~rtsdk.sip.control.CallControl` (default: key and base from the environment).
    ``handler_factory``: a new :class:`SipCallHandler` per call. ``tolerance``: seconds a
    delivery's timestamp may be off.
    """

    def __init__(
        self,
        options: RealtimeAIOptions,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        secret: str,
        control: CallControl | None = None,
        handler_factory: Callable[[], SipCallHandler] | None = None,
        reuse_port: bool = False,
        webhook_path: str = "/webhook",
        health_path: str = "/healthz",
        tolerance: int = 300,
    ) -> None:
        if options.session_type not in ("realtime", "live"):
            raise ConfigurationError(
                f"SipServer answers calls with a Realtime or GPT-Live model, not "
                f"{options.model!r} ({options.session_type})"
            )
        if not secret:
            raise ConfigurationError(
                "SipServer needs the webhook secret (whsec_...): without it anyone could "
                "make it accept calls; set OPENAI_WEBHOOK_SECRET"
            )
        self.verifier = WebhookVerifier(secret, tolerance=tolerance)
        self.options = options
        self.api = "live" if options.session_type == "live" else "realtime"
        self.control = control if control is not None else CallControl()
        self.handler_factory = handler_factory or SipCallHandler
        self.webhook_path = webhook_path
        self.health_path = health_path
        self.http = HttpServer(self._app, host, port, reuse_port=reuse_port)
        self.calls: dict[str, SipCall] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._draining = False
        self._started = False
        #: deliveries by outcome: accepted (calls taken), ignored, duplicate, refused, failed
        self.counts: dict[str, int] = {
            "calls": 0,
            "ignored": 0,
            "duplicate": 0,
            "refused": 0,
            "finished": 0,
            "failed": 0,
        }

    def __repr__(self) -> str:
        where = self.url if self._started else "not started"
        return f"<SipServer {where} {self.api} calls={len(self.calls)}>"

    @property
    def port(self) -> int:
        return self.http.port

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (add ``/webhook``)."""
        host = f"[{self.http.host}]" if ":" in self.http.host else self.http.host
        return f"http://{host}:{self.http.port}"

    @property
    def draining(self) -> bool:
        """True from :meth:`drain` on: no new calls are taken."""
        return self._draining

    async def start(self) -> None:
        """Start listening."""
        if self._started:
            raise RuntimeError("SipServer is already started")
        await self.http.start()
        self._started = True
        log.info("SIP webhook server on %s%s (%s)", self.url, self.webhook_path, self.api)

    async def drain(self, timeout: float | None = None) -> int:
        """Take no new calls (the port is closed; with ``reuse_port`` the kernel gives new
        deliveries to the other processes) and wait up to ``timeout`` s for the live ones to
        end. Returns how many are still live (:meth:`stop` hangs them up)."""
        if not self._draining:
            self._draining = True
            self.http.stop_listening()
            log.info("SIP server draining: no new calls, %d live", len(self.calls))
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._tasks:
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                break
            await asyncio.wait(set(self._tasks), timeout=left)
        return len(self.calls)

    async def stop(self) -> None:
        """Stop listening and hang up every call."""
        self._draining = True
        if self._tasks:
            await asyncio.gather(
                *(call.hangup() for call in list(self.calls.values())), return_exceptions=True
            )
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10.0)
        await self.http.close()
        await self.control.aclose()
        self._started = False

    async def __aenter__(self) -> SipServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- HTTP ------------------------------------------------------------------------------

    async def _app(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, str, bytes]:
        if path == self.health_path and method in ("GET", "HEAD"):
            state = "draining" if self._draining else "ok"
            return (
                503 if self._draining else 200,
                "application/json",
                _json({"status": state, "calls": len(self.calls), "pid": os.getpid()}),
            )
        if path != self.webhook_path:
            return 404, "text/plain", b"not found\n"
        if method != "POST":
            return 405, "text/plain", b"POST a webhook delivery here\n"
        if self._draining:
            return 503, "text/plain", b"draining: deliver again\n"
        return self.deliver(headers, body)

    def deliver(self, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
        """Handle one webhook delivery; the HTTP answer ``(status, content type, body)``."""
        try:
            webhook_id, event = self.verifier.unwrap(headers, body)
        except WebhookReplayError as exc:
            self.counts["duplicate"] += 1
            return 200, "application/json", _json({"status": "duplicate", "detail": str(exc)})
        except WebhookError as exc:
            self.counts["refused"] += 1
            log.warning("refused a webhook delivery: %s", exc)
            return exc.status, "application/json", _json({"error": str(exc)})
        kind = event["type"]
        if CALL_EVENT_TYPES.get(kind) != self.api:
            self.counts["ignored"] += 1
            return 200, "application/json", _json({"status": "ignored", "type": kind[:100]})
        try:
            incoming = parse_incoming_call(event, webhook_id)
        except WebhookError as exc:
            self.verifier.forget(webhook_id)  # not handled: a retry is answered the same
            self.counts["refused"] += 1
            log.warning("refused a webhook delivery: %s", exc)
            return 400, "application/json", _json({"error": str(exc)})
        assert incoming is not None
        if incoming.id in self._recent:
            self.counts["duplicate"] += 1
            return 200, "application/json", _json({"status": "duplicate", "call": "seen"})
        self._recent[incoming.id] = None
        while len(self._recent) > _RECENT_CALLS:
            self._recent.popitem(last=False)
        call = SipCall.from_incoming(incoming, self.control)
        self.calls[call.id] = call
        self.counts["calls"] += 1
        task = asyncio.get_running_loop().create_task(self._run(call), name="rtsdk-sip-call")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return 200, "application/json", _json({"status": "accepted"})

    # -- calls -----------------------------------------------------------------------------

    async def _run(self, call: SipCall) -> None:
        handler = self.handler_factory()
        try:
            options = await _maybe(handler.configure(call, self.options))
            if options is None:
                if call.state == "incoming":
                    await call.reject(603)
                return
            call.prepare(options, event_handler=handler.event_handler(call))
            await _maybe(handler.on_session(call))
            if call.state != "incoming":
                return  # the handler decided (reject, refer)
            if await call.accept() is None:
                return  # the caller hung up first
            await _maybe(handler.on_accepted(call))
            await call.wait_ended()
        except Exception as exc:
            self.counts["failed"] += 1
            log.warning("call %s failed: %s: %s", call.id, type(exc).__name__, exc)
            if call.state == "accepted" and not call.ended:
                await call.hangup()  # a call this server cannot steer is not left running
            elif call.state == "incoming":
                try:  # no decision was made: the caller hears 480, not endless ringing
                    await call.reject(480)
                except Exception as again:
                    log.warning("call %s: reject failed too: %s", call.id, again)
            try:
                await _maybe(handler.on_error(call, exc))
            except Exception:
                log.exception("on_error failed for call %s", call.id)
        finally:
            client = call.client
            if client is not None:
                await client.stop(timeout=2.0)  # idempotent: its tasks end with the call
            self.calls.pop(call.id, None)
            self.counts["finished"] += 1
            try:
                await _maybe(handler.on_end(call))
            except Exception:
                log.exception("on_end failed for call %s", call.id)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode() + b"\n"
