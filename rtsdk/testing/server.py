"""The local Realtime server: a real ``websockets`` server speaking the GA protocol.

See :mod:`rtsdk.testing` for what it does. This module holds the listening side: upgrade
checks (path, query, auth, refused-auth faults), the per-connection fault plans, waiting for
connections, and running the whole server on a thread of its own for synchronous code.
"""

from __future__ import annotations

import asyncio
import datetime
import hmac
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, serve
from websockets.asyncio.server import ServerConnection as WsConnection
from websockets.http11 import Request, Response

from ..exceptions import ConfigurationError
from ..models import DEFAULT_MODEL
from .catalogue import ERRORS
from .catalogue_translation import TRANSLATION_ERRORS
from .config import VadDefaults
from .connection import ServerConnection
from .faults import Faults, FunctionCallScript
from .live import LIVE_PATHS, DelegationScript, LiveConnection, LiveOptions
from .mcp import McpCallScript
from .session import Ids
from .sip_http import json_response
from .sip_rest import HttpConnection, SipCalls, SipOptions, claims, process
from .translation import (
    TRANSLATION_PATHS,
    TranslationConnection,
    TranslationOptions,
    upgrade_refusal,
)

__all__ = ["LocalRealtimeServer", "ServerHandle"]

log = logging.getLogger("rtsdk.testing")

T = TypeVar("T")

#: Request paths accepted at the upgrade: OpenAI, Azure GA (v1) and Azure preview.
PATHS = ("/v1/realtime", "/openai/v1/realtime", "/openai/realtime")


#: Headers whose values never reach a log (a browser puts its key in the subprotocol).
_SECRET_HEADERS = frozenset({"authorization", "api-key", "sec-websocket-protocol"})
_SECRET_QUERY = re.compile(r"((?:api-key|api_key|key)=)[^&\s]*", re.IGNORECASE)


class _WireLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The logger handed to websockets, which logs every handshake header at DEBUG: values of
    auth headers, key-like query parameters and the server's own key come out as ``***``."""

    def __init__(self, logger: logging.Logger, key: str | None) -> None:
        super().__init__(logger, {})
        self._key = key

    def _scrub(self, value: object) -> object:
        if isinstance(value, str):
            if self._key:
                value = value.replace(self._key, "***")
            value = _SECRET_QUERY.sub(r"\1***", value)
        return value

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        if len(args) == 2 and str(args[0]).lower() in _SECRET_HEADERS:
            args = (args[0], "***")
        super().log(level, self._scrub(msg), *(self._scrub(a) for a in args), **kwargs)


def _check_int(name: str, value: object, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ConfigurationError(
            f"LocalRealtimeServer {name} must be an int in [{lo}, {hi}], got {value!r}"
        )


class LocalRealtimeServer:
    """A local stand-in for the Realtime service (OpenAI GA protocol), with fault injection.

    ``api_key=None`` accepts any (or no) key; otherwise the upgrade needs
    ``Authorization: Bearer <key>`` or ``api-key: <key>`` and is refused with HTTP 401 without.
    ``pacing="realtime"`` streams response audio at the rate it plays (``realtime_lead_ms``
    ahead), ``"fast"`` as fast as the socket takes it. ``audio_chunk_ms`` is the length of
    each ``response.output_audio.delta``. The ``turn_detection`` / ``vad_*`` /
    ``create_response`` / ``interrupt_response`` arguments are the defaults shown in
    ``session.created`` (``turn_detection=None``: manual turns). ``faults`` applies to every
    connection that has no plan of its own (see :meth:`faults_for_next_connections`).
    ``record=False`` keeps no frames (counts only); ``record_audio=False`` leaves audio frames
    (appends and output audio deltas) out of the records, for long or large runs.
    ``reuse_port=True`` listens with ``SO_REUSEPORT``, so that several server processes share
    one port (``python -m rtsdk serve --workers N``, for load tests).

    ``live`` sets how GPT-Live sessions behave (:class:`~rtsdk.testing.LiveOptions`: their
    own pacing, real time by default, chunk and lead, answer silence, barge-in delay, usage
    interval, duration); see :mod:`rtsdk.testing.live`. ``translation`` sets how Realtime
    translation sessions behave (:class:`~rtsdk.testing.TranslationOptions`: pacing, lag,
    utterance silence, default language, duration); see :mod:`rtsdk.testing.translation`.
    ``sip`` sets the SIP side (:class:`~rtsdk.testing.SipOptions`, ``server.sip``; :mod:`.sip`).

    ``today`` is the date that decides which models of the catalogue (:mod:`rtsdk.models`)
    have been shut down (None: the real date, UTC, asked at each use). A session of a model
    past its shutdown date comes up as usual, but every response fails (``model_not_found``)
    and so does input transcription with a transcription model past its date; before the date
    a deprecated model works as any other.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        *,
        pacing: Literal["fast", "realtime"] = "fast",
        faults: Faults | None = None,
        audio_chunk_ms: int = 80,
        realtime_lead_ms: int = 200,
        turn_detection: Literal["server_vad", "semantic_vad"] | None = "server_vad",
        vad_threshold: float = 0.5,
        vad_prefix_padding_ms: int = 300,
        vad_silence_duration_ms: int = 500,
        create_response: bool = True,
        interrupt_response: bool = True,
        voice: str = "marin",
        record: bool = True,
        record_audio: bool = True,
        reuse_port: bool = False,
        today: datetime.date | None = None,
        live: LiveOptions | None = None,
        translation: TranslationOptions | None = None,
        sip: SipOptions | None = None,
    ) -> None:
        if pacing not in ("fast", "realtime"):
            raise ConfigurationError(
                f"LocalRealtimeServer pacing must be 'fast' or 'realtime', got {pacing!r}"
            )
        if api_key is not None and (not isinstance(api_key, str) or not api_key):
            raise ConfigurationError("LocalRealtimeServer api_key must be a non-empty str or None")
        if live is not None and not isinstance(live, LiveOptions):
            raise ConfigurationError("LocalRealtimeServer live must be a LiveOptions or None")
        if translation is not None and not isinstance(translation, TranslationOptions):
            raise ConfigurationError(
                "LocalRealtimeServer translation must be a TranslationOptions or None"
            )
        if faults is not None and not isinstance(faults, Faults):
            raise ConfigurationError("LocalRealtimeServer faults must be a Faults or None")
        if turn_detection not in ("server_vad", "semantic_vad", None):
            raise ConfigurationError(
                "LocalRealtimeServer turn_detection must be 'server_vad', 'semantic_vad' or "
                f"None, got {turn_detection!r}"
            )
        _check_int("port", port, 0, 65535)
        _check_int("audio_chunk_ms", audio_chunk_ms, 10, 1000)
        _check_int("realtime_lead_ms", realtime_lead_ms, 0, 10000)
        _check_int("vad_prefix_padding_ms", vad_prefix_padding_ms, 0, 10000)
        _check_int("vad_silence_duration_ms", vad_silence_duration_ms, 0, 60000)
        if isinstance(vad_threshold, bool) or not (
            isinstance(vad_threshold, (int, float)) and 0.0 <= vad_threshold <= 1.0
        ):
            raise ConfigurationError(
                f"LocalRealtimeServer vad_threshold must be in [0, 1], got {vad_threshold!r}"
            )
        self.host = host
        self.port = port
        self.pacing = pacing
        self.faults = faults if faults is not None else Faults()
        self.audio_chunk_ms = audio_chunk_ms
        self.realtime_lead_ms = realtime_lead_ms
        self.vad_defaults = VadDefaults(
            turn_detection=turn_detection,
            threshold=float(vad_threshold),
            prefix_padding_ms=vad_prefix_padding_ms,
            silence_duration_ms=vad_silence_duration_ms,
            create_response=create_response,
            interrupt_response=interrupt_response,
        )
        self.voice = voice
        self.record = record
        self.record_audio = record_audio
        self.reuse_port = reuse_port
        self._today: datetime.date | None = None
        self.today = today
        self.ids = Ids()
        self.scripts: list[FunctionCallScript] = []
        #: How GPT-Live sessions behave (may be replaced while the server runs).
        self.live = live if live is not None else LiveOptions()
        self.delegation_scripts: list[DelegationScript] = []
        #: How Realtime translation sessions behave (may be replaced while the server runs).
        self.translation = translation if translation is not None else TranslationOptions()
        self.sip = SipCalls(self, sip)  # webhooks, call control, sidebands, simulated phones
        self.mcp_scripts: list[McpCallScript] = []
        #: Transcriptions still to fail (see :meth:`fail_next_transcriptions`).
        self.transcription_failures: list[int] = []
        #: Every accepted connection, in accept order, closed ones included.
        self.connections: list[ServerConnection] = []
        #: Upgrades refused (HTTP 4xx), as ``(status, path without query)``; never a key.
        self.refused: list[tuple[int, str]] = []
        #: Called with ``(connection index, frame)`` for every frame a client sends, as it is
        #: read (e.g. :meth:`rtsdk.testing.arrivals.ArrivalLog.note`); for connections
        #: accepted after it was set.
        self.on_received: Callable[[int, Any], None] | None = None
        self._api_key = api_key
        self._plans: list[Faults] = []
        self._pending: dict[WsConnection, tuple[str, Faults, bool]] = {}
        self._intents: dict[WsConnection, str] = {}
        self._kinds: dict[WsConnection, type[ServerConnection]] = {}
        self._server: Server | None = None
        self._changed: asyncio.Event | None = None

    def __repr__(self) -> str:
        auth = "key required" if self._api_key is not None else "no auth"
        where = self.url if self._server is not None else "not started"
        return f"<LocalRealtimeServer {where} {auth} pacing={self.pacing}>"

    @property
    def today(self) -> datetime.date | None:
        """The date deciding which models are shut down (None: the real date, UTC). It may be
        changed while the server runs: open sessions follow (a model can go away mid-call)."""
        return self._today

    @today.setter
    def today(self, value: datetime.date | None) -> None:
        if isinstance(value, datetime.datetime):
            value = value.date()
        if value is not None and not isinstance(value, datetime.date):
            raise ConfigurationError(
                f"LocalRealtimeServer today must be a datetime.date or None, got {value!r}"
            )
        self._today = value

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``ws://HOST:PORT/v1/realtime`` (clients add ``?model=...``)."""
        return f"{self.base_url}/realtime"

    @property
    def base_url(self) -> str:
        """``ws://HOST:PORT/v1``: clients add ``/realtime``, ``/live/sessions`` or
        ``/realtime/translations``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}/v1"

    @property
    def live_url(self) -> str:
        """``ws://HOST:PORT/v1/live/sessions`` (GPT-Live; no query)."""
        return f"{self.base_url}/live/sessions"

    @property
    def translation_url(self) -> str:
        """``ws://HOST:PORT/v1/realtime/translations`` (clients add ``?model=...``)."""
        return f"{self.base_url}/realtime/translations"

    async def start(self) -> None:
        """Start listening (``port=0`` picks a free port; :attr:`port` then says which)."""
        if self._server is not None:
            raise RuntimeError("LocalRealtimeServer is already started")
        self._changed = asyncio.Event()
        self._server = await serve(
            self._handler,
            self.host,
            self.port,
            process_request=self._process_request,
            compression=None,
            create_connection=HttpConnection,  # reads request bodies (the SIP REST)
            max_size=None,
            ping_interval=None,
            close_timeout=2,
            server_header="rtsdk-local-realtime",
            logger=_WireLog(logging.getLogger("websockets.server"), self._api_key),
            reuse_port=self.reuse_port,
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("local Realtime server listening on %s", self.url)

    async def stop(self) -> None:
        """Close every connection (1001) and stop listening."""
        server, self._server = self._server, None
        if server is None:
            return
        for conn in self.connections:
            conn.end_stall()  # a stalled connection would not read the client's close frame
        await self.sip.close()
        server.close()
        await server.wait_closed()

    async def __aenter__(self) -> LocalRealtimeServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start_in_thread(self, timeout: float = 10.0) -> ServerHandle:
        """Run the server on its own event loop in a daemon thread (for synchronous code)."""
        ready = threading.Event()
        box: dict[str, Any] = {}

        def main() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                box["error"] = exc
                loop.close()
                ready.set()
                return
            box["loop"] = loop
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop())
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        thread = threading.Thread(target=main, name="rtsdk-local-realtime", daemon=True)
        thread.start()
        if not ready.wait(timeout):
            raise TimeoutError(f"the local Realtime server did not start within {timeout} s")
        if "error" in box:
            raise box["error"]
        return ServerHandle(self, box["loop"], thread)

    # -- test controls --------------------------------------------------------------------

    def faults_for_next_connections(self, faults: Faults, count: int = 1) -> None:
        """Use ``faults`` (instead of the server's plan) for the next ``count`` upgrades."""
        if not isinstance(faults, Faults):
            raise ConfigurationError("faults_for_next_connections needs a Faults")
        _check_int("count", count, 1, 1_000_000)
        self._plans.extend([faults] * count)

    def script_function_call(
        self,
        *,
        name: str,
        arguments: dict[str, Any] | str | None = None,
        when_text_contains: str | None = None,
        times: int | None = None,
        count: int = 1,
        preamble: str | None = None,
    ) -> FunctionCallScript:
        """Make matching user turns call tool ``name`` (``count`` times in the one response,
        after saying ``preamble`` when given; see :class:`FunctionCallScript`)."""
        script = FunctionCallScript(
            name=name,
            arguments=arguments if arguments is not None else {},
            when_text_contains=when_text_contains,
            times=times,
            count=count,
            preamble=preamble,
        )
        self.scripts.append(script)
        return script

    def script_mcp_call(
        self,
        *,
        server_label: str,
        name: str,
        arguments: dict[str, Any] | str | None = None,
        output: str = "",
        error: str | None = None,
        when_text_contains: str | None = None,
        times: int | None = None,
    ) -> McpCallScript:
        """Make matching user turns call MCP tool ``name`` of ``server_label`` (returning
        ``output``, or failing with ``error``); see :class:`~rtsdk.testing.McpCallScript`."""
        script = McpCallScript(
            server_label=server_label,
            name=name,
            arguments=arguments if arguments is not None else {},
            output=output,
            error=error,
            when_text_contains=when_text_contains,
            times=times,
        )
        self.mcp_scripts.append(script)
        return script

    def script_delegation(
        self, *, heard: str | None = None, times: int | None = 1
    ) -> DelegationScript:
        """Make the next ``times`` user utterances of GPT-Live sessions (``None``: every one)
        delegate instead of being echoed, heard as ``heard`` (their input transcript and the
        task a Responses backend gets); see :class:`~rtsdk.testing.DelegationScript`."""
        script = DelegationScript(heard=heard, times=times)
        self.delegation_scripts.append(script)
        return script

    def fail_next_transcriptions(self, count: int = 1) -> None:
        """Make the input transcription of the next ``count`` turns (on any connection) fail:
        ``conversation.item.input_audio_transcription.failed`` with the service's words
        (``server_error``, "Input transcription failed for item '...'.") instead of the
        transcript. The turn itself goes on as usual."""
        _check_int("count", count, 1, 1_000_000)
        self.transcription_failures.extend([1] * count)

    async def wait_for_connection(self, n: int = 1, timeout: float = 5.0) -> ServerConnection:
        """Wait until ``n`` connections have been accepted; return the ``n``-th."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.connections) < n:
            changed = self._changed
            if changed is None:
                raise RuntimeError("LocalRealtimeServer is not started")
            left = deadline - loop.time()
            if left <= 0:
                raise asyncio.TimeoutError(
                    f"{len(self.connections)} connection(s) accepted within {timeout} s, "
                    f"wanted {n} ({len(self.refused)} refused)"
                )
            try:
                await asyncio.wait_for(changed.wait(), left)
            except asyncio.TimeoutError:
                continue
        return self.connections[n - 1]

    # -- upgrade and connections ------------------------------------------------------------

    def _key_problem(self, request: Request) -> str | None:
        """None when the request may pass, else the catalogue key of its refusal (no key
        given, or a wrong one)."""
        expected = self._api_key
        if expected is None:
            return None
        want = expected.encode("utf-8")
        auth = request.headers.get("Authorization")
        key = request.headers.get("api-key")
        if auth is None and key is None:
            return "http_missing_api_key"
        if (
            auth is not None
            and auth[:7].lower() == "bearer "
            and hmac.compare_digest(auth[7:].strip().encode("utf-8", "replace"), want)
        ):
            return None
        if key is not None and hmac.compare_digest(key.strip().encode("utf-8", "replace"), want):
            return None
        return "http_invalid_api_key"

    def _refuse(self, ws: WsConnection, where: str, key: str, **fields: Any) -> Response:
        """Refuse the upgrade on path ``where`` with catalogue entry ``key`` (its HTTP status,
        its JSON body)."""
        entry = TRANSLATION_ERRORS.get(key) or ERRORS[key]
        status = entry.status
        assert status is not None, key
        self.refused.append((status, where))
        return json_response(ws, status, {"error": entry.render(**fields)})

    def _process_request(self, ws: WsConnection, request: Request) -> Response | None:
        if claims(request):  # SIP: REST (any method), sidebands, test hooks
            return process(self, ws, request)
        parts = urlsplit(request.path)
        path = parts.path.rstrip("/")
        query = parse_qs(parts.query)

        def one(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        if path in LIVE_PATHS:
            return self._upgrade(ws, request, path, "", LiveConnection)
        if path in TRANSLATION_PATHS:
            refusal = upgrade_refusal(path, one("model"), one("intent"))
            if refusal is not None:
                return self._refuse(ws, path, refusal[0], **refusal[1])
            return self._upgrade(ws, request, path, one("model") or "", TranslationConnection)
        if path not in PATHS:
            return self._refuse(ws, path, "http_not_found", path=path)
        if path == "/openai/realtime":
            if not one("api-version"):
                return self._refuse(ws, path, "http_missing_api_version")
            model = one("deployment")
            missing = "http_missing_deployment"
        else:
            model = one("model")
            missing = "http_missing_model"
        intent = one("intent")
        if intent is not None:
            if intent != "transcription" or path == "/openai/realtime":
                return self._refuse(ws, path, "http_bad_intent", intent=repr(intent[:40]))
            if model:
                return self._refuse(ws, path, "http_model_with_intent")
            model = "transcription"
        if not model:
            return self._refuse(ws, path, missing)
        if intent is not None:
            self._intents[ws] = intent
        return self._upgrade(ws, request, path, model)

    def _upgrade(
        self,
        ws: WsConnection,
        request: Request,
        path: str,
        model: str,
        kind: type[ServerConnection] = ServerConnection,
    ) -> Response | None:
        """Check the key (and a refused-auth fault) of an upgrade that passed its path checks."""
        plan = self._plans.pop(0) if self._plans else self.faults
        refused = self._key_problem(request)
        if refused is None and plan.auth_mode == "http":
            refused = "http_invalid_api_key"
        if refused is not None:
            self._intents.pop(ws, None)
            return self._refuse(ws, path, refused)
        beta = kind is ServerConnection and (
            path == "/openai/realtime" or "realtime=v1" in request.headers.get("OpenAI-Beta", "")
        )
        self._pending[ws] = (model, plan, beta)
        self._kinds[ws] = kind
        return None

    async def _handler(self, ws: WsConnection) -> None:
        model, plan, beta = self._pending.pop(ws, (DEFAULT_MODEL, self.faults, False))
        conn = self._kinds.pop(ws, ServerConnection)(
            self,
            ws,
            index=len(self.connections),
            model=model,
            faults=plan,
            beta=beta,
            record=self.record,
            record_audio=self.record_audio,
            intent=self._intents.pop(ws, None),
        )
        conn.on_received = self.on_received
        self.connections.append(conn)
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()
        log.debug("connection #%d accepted (model %s)", conn.index, model)
        await conn.run()
        log.debug("connection #%d ended (close code %s)", conn.index, conn.close_code)


class ServerHandle:
    """A :class:`LocalRealtimeServer` running on its own loop in a daemon thread."""

    def __init__(
        self, server: LocalRealtimeServer, loop: asyncio.AbstractEventLoop, thread: threading.Thread
    ) -> None:
        self.server = server
        self.loop = loop
        self.thread = thread
        self._stopped = False

    def __repr__(self) -> str:
        return f"<ServerHandle {self.url} {'stopped' if self._stopped else 'running'}>"

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, fn: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
        """Run ``fn()`` (a coroutine function) on the server's loop and return its result."""

        async def run() -> T:
            return await fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and join its thread (returns within about ``timeout``)."""
        if self._stopped:
            return
        self._stopped = True
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
