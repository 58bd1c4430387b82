"""The local server plays OpenAI's side of SIP calls: webhooks, call control, sidebands, and a
simulated phone at the other end.

``LocalRealtimeServer(sip=SipOptions(webhook_url=..., webhook_secret="whsec_..."))`` (or
``python -m rtsdk serve --sip-webhook URL --sip-secret whsec_...``) gets a :class:`SipCalls`
as ``server.sip``. Everything is on the server's one port, with its key rules:

Incoming calls
    :meth:`SipCalls.incoming_call` rings a :class:`~rtsdk.testing.SimulatedCall` and posts,
    for the one call, a ``realtime.call.incoming`` (``data.call_id`` ``rtc_…``) and a
    ``live.transport.incoming`` (``data.session_id`` ``live_…``, ``type: "sip"``) webhook
    (and the deprecated ``live.call.incoming`` with ``live_call_incoming=True``), signed the
    Standard Webhooks way and retried on a non-2xx answer (:mod:`.sip_webhook`).
Call control (:mod:`.sip_rest`)
    ``POST /v1/realtime/calls/{call_id}/accept|reject|refer|hangup`` and
    ``POST /v1/live/sessions/{session_id}/accept|reject|refer|hangup`` (Azure: under
    ``/openai/v1``), answered as the service answers: 200 with an empty body, 400 naming the
    bad ``param`` (:mod:`.sip_schema`), 404 for an unknown id or a caller who hung up, 409
    ``decision_already_made`` for a second accept or reject (the first decision wins, whatever
    the API), 409 ``call_not_active`` for refer or hangup of a ringing call.
Sidebands (:mod:`.sip_sideband`)
    ``/v1/realtime?call_id=rtc_…`` and ``/v1/live/sessions/live_…/attach`` attach to the
    accepted call's session (:mod:`.sip_line`), which is the server's own Realtime or GPT-Live
    session logic with its audio to and from the simulated caller.
Outbound calls (GPT-Live)
    ``POST /v1/live/sessions`` with a SIP transport returns ``{session: {id}, transport:
    {type: "sip"}}``; the call then rings, answers or fails on command
    (:meth:`SimulatedCall.ring`, :meth:`~SimulatedCall.answer`,
    :meth:`~SimulatedCall.fail`; find it with :meth:`SipCalls.wait_for_call`), which the
    sidebands see as ``transport.ringing`` / ``answered`` / ``failed``; unanswered, it fails
    after ``ring_timeout_s``. :meth:`SipCalls.fail_next_outbound` makes the next request fail
    with 502 or 504.

Every error is a row of :data:`~rtsdk.testing.catalogue_sip.SIP_ERRORS` (``docs/server-errors.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from ..exceptions import ConfigurationError
from .live import LiveHost
from .sip_call import RATE, MediaClock, SimulatedCall
from .sip_line import LiveLine, RealtimeLine, SipLine
from .sip_webhook import WebhookSender, secret_key

__all__ = ["SipCalls", "SipOptions"]

Json = dict[str, Any]

_APIS = ("realtime", "live")


@dataclass(frozen=True, slots=True, kw_only=True)
class SipOptions:
    """How the local server's SIP side behaves (``LocalRealtimeServer(sip=...)``).

    ``webhook_url`` (``http://`` or ``https://``) receives the incoming-call webhooks, signed
    with ``webhook_secret`` (``whsec_<base64>``; required with a URL); None: no webhooks
    (tests then take the ids from the :class:`SimulatedCall`). A delivery not answered 2xx is
    retried after each of ``retry_delays`` seconds (``()``: never), each attempt waiting
    ``webhook_timeout_s`` for the answer. ``apis`` says which incoming-call events a call
    raises (both by default, as the service does); ``live_call_incoming`` adds the deprecated
    ``live.call.incoming``. ``outbound_enabled=False`` refuses outbound calls (403
    ``outbound_sip_not_enabled``); an outbound call not answered within ``ring_timeout_s``
    fails (``no_answer``). A GPT-Live sideband that attaches gets the events of the last
    ``replay_s`` seconds. The simulated caller sends ``frame_ms`` frames paced by
    ``caller_pacing`` (``"fast"``: queued speech at once, then ``tail_ms`` of silence).
    Once more than ``keep_calls`` calls are known, the oldest that are over are forgotten (their
    ids then get 404), so that a server that runs for long keeps its memory.
    """

    webhook_url: str | None = None
    webhook_secret: str | None = None
    retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0)
    webhook_timeout_s: float = 5.0
    apis: tuple[str, ...] = _APIS
    live_call_incoming: bool = False
    outbound_enabled: bool = True
    ring_timeout_s: float = 180.0
    replay_s: float = 3.0
    caller_pacing: Literal["fast", "realtime"] = "realtime"
    frame_ms: int = 20
    tail_ms: int = 1000
    keep_calls: int = 10000

    def __post_init__(self) -> None:
        url = self.webhook_url
        if url is not None:
            parts = urlsplit(url) if isinstance(url, str) else None
            if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigurationError(
                    f"SipOptions.webhook_url must be an http:// or https:// URL, got {url!r}"
                )
            if self.webhook_secret is None:
                raise ConfigurationError("SipOptions.webhook_url needs a webhook_secret")
        if self.webhook_secret is not None:
            secret_key(self.webhook_secret)
        delays = self.retry_delays
        if not isinstance(delays, tuple) or any(
            isinstance(d, bool) or not isinstance(d, (int, float)) or not 0 <= d <= 3600
            for d in delays
        ):
            raise ConfigurationError(
                "SipOptions.retry_delays must be a tuple of seconds in [0, 3600]"
            )
        if not self.apis or any(a not in _APIS for a in self.apis):
            raise ConfigurationError(f"SipOptions.apis must be a subset of {_APIS}: {self.apis!r}")
        for name, low, high in (
            ("webhook_timeout_s", 0.01, 600.0),
            ("ring_timeout_s", 0.01, 86400.0),
            ("replay_s", 0.0, 60.0),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigurationError(f"SipOptions.{name} must be a number")
            if not low <= value <= high:
                raise ConfigurationError(f"SipOptions.{name} must be in [{low}, {high}]")
        if self.caller_pacing not in ("fast", "realtime"):
            raise ConfigurationError("SipOptions.caller_pacing must be 'fast' or 'realtime'")
        for name, low, high in (
            ("frame_ms", 10, 200),
            ("tail_ms", 0, 10000),
            ("keep_calls", 1, 10**7),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigurationError(f"SipOptions.{name} must be an int in [{low}, {high}]")

    def __repr__(self) -> str:  # never the secret
        secret = "set" if self.webhook_secret else None
        return f"SipOptions(webhook_url={self.webhook_url!r}, webhook_secret={secret})"


def default_headers(from_number: str, to_number: str) -> list[dict[str, str]]:
    """The SIP headers of a simulated INVITE (as the webhooks carry them)."""
    return [
        {
            "name": "From",
            "value": f"<sip:{from_number}@sip.example.com>;tag={secrets.token_hex(4)}",
        },
        {"name": "To", "value": f"<sip:{to_number}@sip.example.com>"},
        {"name": "Call-ID", "value": f"{secrets.token_hex(16)}@sip.example.com"},
    ]


class SipCalls:
    """The SIP side of one :class:`~rtsdk.testing.LocalRealtimeServer` (``server.sip``; see
    the module docstring). :attr:`calls` holds every call, in the order they began."""

    def __init__(self, server: LiveHost, options: SipOptions | None) -> None:
        if options is not None and not isinstance(options, SipOptions):
            raise ConfigurationError("LocalRealtimeServer sip must be a SipOptions or None")
        self.server = server
        self.calls: list[SimulatedCall] = []
        self._by_id: dict[str, SimulatedCall] = {}
        self._outbound_failures: list[int] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed: asyncio.Event | None = None
        self._sender: WebhookSender | None = None
        #: The one timer of every simulated caller.
        self.clock = MediaClock()
        self.options = options if options is not None else SipOptions()

    @property
    def options(self) -> SipOptions:
        """The options (may be replaced while the server runs; new calls follow)."""
        return self._options

    @options.setter
    def options(self, value: SipOptions) -> None:
        if not isinstance(value, SipOptions):
            raise ConfigurationError("SipCalls.options must be a SipOptions")
        self._options = value
        self._sender = (
            WebhookSender(
                value.webhook_url,
                value.webhook_secret or "",
                retry_delays=value.retry_delays,
                timeout=value.webhook_timeout_s,
            )
            if value.webhook_url
            else None
        )

    def __repr__(self) -> str:
        live = sum(1 for c in self.calls if not c.over)
        return (
            f"<SipCalls {len(self.calls)} calls ({live} live) webhook={self.options.webhook_url}>"
        )

    # -- the test API -------------------------------------------------------------------------

    async def incoming_call(
        self,
        audio: Any = None,
        *,
        rate: int = RATE,
        sip_headers: list[dict[str, str]] | None = None,
        from_number: str = "+14155550100",
        to_number: str = "+18005550199",
        pacing: Literal["fast", "realtime"] | None = None,
        call_id: str | None = None,
        session_id: str | None = None,
    ) -> SimulatedCall:
        """A phone rings: a new inbound call (state ``"ringing"``) whose webhooks are on
        their way (not awaited; see :meth:`SimulatedCall.wait_deliveries`). ``audio`` (PCM16
        bytes at ``rate``, an int16 array, or a WAV path) is what the caller says once the
        call is answered; ``sip_headers`` replace the default From / To / Call-ID.
        ``call_id`` / ``session_id`` replace the ids the server would make (``rtc_…`` /
        ``live_…``), e.g. with characters that must be escaped in a URL path."""
        return self.ring(
            audio,
            rate=rate,
            sip_headers=sip_headers,
            from_number=from_number,
            to_number=to_number,
            pacing=pacing,
            call_id=call_id,
            session_id=session_id,
        )

    def ring(
        self,
        audio: Any = None,
        *,
        rate: int = RATE,
        sip_headers: list[dict[str, str]] | None = None,
        from_number: str = "+14155550100",
        to_number: str = "+18005550199",
        pacing: Literal["fast", "realtime"] | None = None,
        call_id: str | None = None,
        session_id: str | None = None,
    ) -> SimulatedCall:
        """:meth:`incoming_call` for code already on the server's loop (not a coroutine)."""
        options = self.options
        for given in (call_id, session_id):
            if given is not None and (not isinstance(given, str) or not given):
                raise ConfigurationError(f"a call id must be a non-empty str, got {given!r}")
            if given is not None and given in self._by_id:
                raise ConfigurationError(f"call id {given!r} is taken")
        if call_id is not None and call_id == session_id:
            raise ConfigurationError("call_id and session_id must differ")
        for header in sip_headers or ():
            if (
                not isinstance(header, dict)
                or set(header) != {"name", "value"}
                or not all(isinstance(v, str) for v in header.values())
            ):
                raise ConfigurationError(
                    f"a SIP header must be {{'name': str, 'value': str}}, got {header!r}"
                )
        call = SimulatedCall(
            direction="inbound",
            call_id=call_id or self.server.ids("rtc"),
            session_id=session_id or self.server.ids("live"),
            sip_headers=list(sip_headers or default_headers(from_number, to_number)),
            pacing=pacing or options.caller_pacing,
            frame_ms=options.frame_ms,
            tail_ms=options.tail_ms,
            clock=self.clock,
        )
        if audio is not None:
            call.say(audio, rate=rate)
        self._add(call)
        for event in self._incoming_events(call, options):
            self._spawn(self._deliver(call, event))
        return call

    def call(self, ident: str) -> SimulatedCall:
        """The call with id ``ident`` (its ``rtc_…`` or its ``live_…`` id; ``KeyError``)."""
        return self._by_id[ident]

    async def wait_for_call(
        self, n: int = 1, *, direction: str | None = None, timeout: float = 5.0
    ) -> SimulatedCall:
        """The ``n``-th call (of ``direction``, ``"inbound"`` or ``"outbound"``, if given),
        waiting for it (an outbound call appears when the app's request arrives)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [c for c in self.calls if direction is None or c.direction == direction]
            if len(found) >= n:
                return found[n - 1]
            left = deadline - loop.time()
            if left <= 0:
                raise asyncio.TimeoutError(f"{len(found)} call(s) within {timeout} s, wanted {n}")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._event().wait(), left)

    def fail_next_outbound(self, status: int = 502, count: int = 1) -> None:
        """Make the next ``count`` outbound requests fail as a SIP setup failure does (502 or
        504), placing no call."""
        if status not in (502, 504):
            raise ConfigurationError(f"fail_next_outbound status must be 502 or 504: {status!r}")
        self._outbound_failures.extend([status] * count)

    async def close(self) -> None:
        """Hang up every call and stop the deliveries (the server stops)."""
        for call in self.calls:
            if call.state == "accepted" and call.line is not None:
                call.line.hangup("server")
            elif not call.over:
                call.set_state("missed" if call.direction == "inbound" else "failed", "server")
        self.clock.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- used by the REST and sideband modules --------------------------------------------------

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _add(self, call: SimulatedCall) -> None:
        self.calls.append(call)
        for ident in call.ids:
            self._by_id[ident] = call
        if len(self.calls) > self.options.keep_calls:
            over = [c for c in self.calls if c.over][: len(self.calls) - self.options.keep_calls]
            for old in over:
                self.calls.remove(old)
                for ident in old.ids:
                    self._by_id.pop(ident, None)
        event = self._event()
        self._changed = asyncio.Event()
        event.set()

    def find(self, ident: str) -> SimulatedCall | None:
        """The call with id ``ident``, or None."""
        return self._by_id.get(ident)

    def add_outbound(self, call: SimulatedCall) -> None:
        """Register an outbound call (its line made) and start its ring timer."""
        self._add(call)
        loop = asyncio.get_running_loop()
        handle = loop.call_later(
            self.options.ring_timeout_s,
            call.fail,
            "no_answer",
            "The destination did not answer.",
        )
        call.on_answer_or_end(handle.cancel)

    def next_outbound_failure(self) -> int | None:
        return self._outbound_failures.pop(0) if self._outbound_failures else None

    def realtime_line(self, call: SimulatedCall, config: Json) -> RealtimeLine:
        """A Realtime session for ``call``, configured by an accept body."""
        server = self.server

        def make(send: Any) -> Any:
            from .session import RealtimeSession

            return RealtimeSession(
                send=send,
                ids=server.ids,
                model=config.get("model") or "gpt-realtime",
                vad=server.vad_defaults,
                pacing=lambda: server.pacing,
                chunk_ms=server.audio_chunk_ms,
                realtime_lead_ms=server.realtime_lead_ms,
                scripts=server.scripts,
                voice=server.voice,
                mcp_scripts=server.mcp_scripts,
                transcription_failures=server.transcription_failures,
                today=lambda: server.today,
            )

        return RealtimeLine(call, server.ids, make, config)

    def live_line(self, call: SimulatedCall, config: Json) -> LiveLine:
        """A GPT-Live session for ``call``, started with ``config`` (a ``session.start``
        session)."""
        server = self.server

        def make(send: Any, close: Any) -> Any:
            from .live_session import LiveSession

            return LiveSession(
                send=send,
                close_socket=close,
                ids=server.ids,
                options=lambda: server.live,
                scripts=server.scripts,
                delegation_scripts=server.delegation_scripts,
            )

        return LiveLine(call, server.ids, make, config, self.options.replay_s)

    def call_of_sideband(self, raw_path: str) -> SimulatedCall | None:
        """The accepted call a sideband upgrade on ``raw_path`` attaches to, or None."""
        parts = urlsplit(raw_path)
        segments = [unquote(s) for s in parts.path.rstrip("/").split("/")]
        if segments[-1:] == ["attach"] and segments[-4:-2] == ["live", "sessions"]:
            call, api = self.find(segments[-2]), "live"
        else:
            ids = parse_qs(parts.query).get("call_id") or [""]
            call, api = self.find(ids[0]), "realtime"
        line = call.line if call is not None else None
        if call is None or not isinstance(line, SipLine) or line.ended or line.api != api:
            return None
        if api == "realtime" and call.call_id != ids[0]:
            return None
        return call

    def _incoming_events(self, call: SimulatedCall, options: SipOptions) -> list[Json]:
        if self._sender is None:
            return []
        now = int(time.time())
        events: list[Json] = []

        def event(kind: str, data: Json) -> None:
            events.append(
                {
                    "object": "event",
                    "id": self.server.ids("evt"),
                    "type": kind,
                    "created_at": now,
                    "data": {**data, "sip_headers": call.sip_headers, "sip_media_security": "srtp"},
                }
            )

        if "realtime" in options.apis:
            event("realtime.call.incoming", {"call_id": call.call_id})
        if "live" in options.apis:
            event("live.transport.incoming", {"session_id": call.session_id, "type": "sip"})
            if options.live_call_incoming:
                event("live.call.incoming", {"session_id": call.session_id})
        return events

    async def _deliver(self, call: SimulatedCall, event: Json) -> None:
        sender = self._sender
        if sender is None:
            return
        await sender.deliver(event, call.delivered)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
