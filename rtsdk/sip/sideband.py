"""The client of a SIP call: :class:`SipClient`, attached to the call's session by a sideband.

A :class:`SipClient` is an :class:`~rtsdk.client.AsyncRealtimeAIClient` whose connection is the
call's sideband (Realtime: ``/v1/realtime?call_id=ID``; GPT-Live:
``/v1/live/sessions/ID/attach``) instead of a session of its own: handlers, listeners,
``events()``, tools (Realtime function calls, GPT-Live delegation), transcripts, stats and
metrics work as in any session. What differs (see :mod:`rtsdk.protocol.sideband`): nothing is
configured on connect (the call's ``accept`` did it) and the client counts as attached once
the socket is open; there is no local audio (the call's audio travels over SIP), so
:meth:`SipClient.send_audio` and audio streaming are refused; :meth:`SipClient.stop` detaches
and leaves the call running (end it with :meth:`rtsdk.sip.SipCall.hangup`). GPT-Live adds
DTMF: ``transport.dtmf.received`` reaches handlers (``on_transport_dtmf_received``) and
:meth:`SipClient.send_dtmf` presses a key towards the caller.

A lost sideband (a network failure) is attached again, at most three times (the server
keeps the call's state; events a GPT-Live attach replays that were handled before are
dropped by ``event_id``); a GPT-Live ``session.closed`` or a clean close by the server (the
call is over: a Realtime call's end has no event of its own) ends it for good, as does a
re-attach the server refuses (the call is gone).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from rtsdk.client.async_client import AsyncRealtimeAIClient
from rtsdk.exceptions import ConfigurationError
from rtsdk.link.websocket import LinkEvent
from rtsdk.mcp import ApprovalPolicy
from rtsdk.protocol import ServerEvent
from rtsdk.protocol.core import Actions
from rtsdk.protocol.live import live_event
from rtsdk.protocol.live_core import LiveCore
from rtsdk.protocol.realtime_core import RealtimeCore
from rtsdk.protocol.sideband import LiveSidebandCore, RealtimeSidebandCore
from rtsdk.session.events import EventHandler
from rtsdk.session.metrics import SessionMetrics
from rtsdk.session.options import RealtimeAIOptions
from rtsdk.session.service import RealtimeAIServiceManager
from rtsdk.session.tools import ToolRegistry

__all__ = ["DTMF_KEYS", "SidebandOptions", "SipClient", "sideband_url"]

#: The keys ``send_dtmf`` takes (one per call).
DTMF_KEYS = frozenset("0123456789ABCD*#")
_REFLECTED_TYPE = "session.input_audio.append"
_REFLECTED = b'"session.input_audio.append"'
#: Server event ids remembered to drop an attach's replay of events already handled.
_SEEN_IDS = 4096
#: Re-attach attempts after a lost sideband.
_SIDEBAND_RETRIES = 3


def _segment(value: str) -> str:
    """``value`` as one URL path segment (RFC 3986 ``pchar``: ``/``, ``?``, ``#``, ``%`` and
    spaces escaped), as the ``openai`` package escapes ids."""
    return quote(value, safe="!$&'()*+,;=:@")


def sideband_url(api_base: str, api: Literal["realtime", "live"], call_id: str) -> str:
    """The sideband WebSocket URL of call ``call_id`` under ``api_base`` (``https://.../v1``:
    ``wss://``; ``http://``: ``ws://``)."""
    parts = urlsplit(api_base)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    base = parts.path.rstrip("/")
    if api == "realtime":
        return urlunsplit(
            (scheme, parts.netloc, f"{base}/realtime", f"call_id={quote(call_id, safe='')}", "")
        )
    path = f"{base}/live/sessions/{_segment(call_id)}/attach"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True, repr=False)
class SidebandOptions(RealtimeAIOptions):
    """:class:`~rtsdk.session.options.RealtimeAIOptions` of a sideband: ``call_id`` (the
    Realtime call id or GPT-Live session id) and ``sideband_url`` (where to attach; see
    :func:`sideband_url`). Built by :meth:`from_options`."""

    call_id: str = ""
    sideband_url: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.call_id, str) or not self.call_id:
            raise ConfigurationError("SidebandOptions.call_id must be a non-empty str")
        if urlsplit(self.sideband_url).scheme not in ("ws", "wss"):
            raise ConfigurationError(
                f"SidebandOptions.sideband_url must be a ws:// or wss:// URL, got "
                f"{self.sideband_url!r}"
            )

    @classmethod
    def from_options(
        cls,
        options: RealtimeAIOptions,
        *,
        call_id: str,
        api_base: str,
        api_key: str | None,
    ) -> SidebandOptions:
        """``options`` for the sideband of ``call_id`` under ``api_base`` with ``api_key``
        (the key that made the call-control requests). The session fields are kept; the
        connection is the sideband's: no session renewal, no conversation replay, at most
        three re-attaches."""
        if options.azure_endpoint is not None:
            raise ConfigurationError(
                "SIP calls are steered through the API base (OPENAI_BASE_URL or api_base), "
                "not azure_endpoint: leave azure_endpoint unset"
            )
        if options.session_type not in ("realtime", "live"):
            raise ConfigurationError(
                f"a SIP call is answered by a Realtime or GPT-Live model, not a "
                f"{options.session_type} session ({options.model!r})"
            )
        kept = {f.name: getattr(options, f.name) for f in fields(options) if f.init}
        kept.pop("call_id", None)
        kept.pop("sideband_url", None)
        retries = options.max_retries
        parts = urlsplit(api_base)
        ws_scheme = "wss" if parts.scheme == "https" else "ws"
        kept.update(
            api_key=api_key,
            url=urlunsplit((ws_scheme, parts.netloc, parts.path, "", "")),
            session_max_seconds=None,
            replay_conversation=False,
            max_retries=_SIDEBAND_RETRIES if retries is None else min(retries, _SIDEBAND_RETRIES),
        )
        api: Literal["realtime", "live"] = "live" if options.session_type == "live" else "realtime"
        return cls(**kept, call_id=call_id, sideband_url=sideband_url(api_base, api, call_id))

    def endpoint_url(self) -> str:
        """The sideband URL (carries no secret)."""
        return self.sideband_url


class SidebandService(RealtimeAIServiceManager):
    """The session layer on a sideband: the core is a sideband core
    (:mod:`rtsdk.protocol.sideband`), attached when the socket opens, ended for good by a
    GPT-Live ``session.closed``."""

    def __init__(
        self,
        options: RealtimeAIOptions,
        *,
        tools: ToolRegistry | None = None,
        metrics: SessionMetrics | None = None,
    ) -> None:
        if not isinstance(options, SidebandOptions):
            raise ConfigurationError("a sideband takes SidebandOptions")
        super().__init__(options, tools=tools, metrics=metrics)
        #: reflected caller audio frames dropped unread (nobody listened to them)
        self.reflected_dropped = 0
        #: the server ended the call (GPT-Live ``session.closed``, or a clean close)
        self.call_over = False
        #: replayed events dropped on a re-attach (seen before, by ``event_id``)
        self.replayed_dropped = 0
        self._seen_ids: OrderedDict[str, None] = OrderedDict()
        # the same core classes' attributes (event types, audio framing) as the base chose
        state = self.state
        if isinstance(state, LiveCore):
            self.state = LiveSidebandCore(state.settings, session_id=options.call_id)
        elif isinstance(state, RealtimeCore):
            self.state = RealtimeSidebandCore(
                state.settings, model=options.catalogue_model or options.model
            )
        else:  # pragma: no cover - SidebandOptions refuse other session types
            raise ConfigurationError("a sideband steers a Realtime or GPT-Live session")

    def _on_frame(self, frame: bytes) -> None:
        # GPT-Live reflects the caller's audio (session.input_audio.append, 50 a second):
        # dropped unread unless someone listens to it
        if _REFLECTED in frame[:64] and not self.dispatcher._is_heard(_REFLECTED_TYPE):
            self.reflected_dropped += 1
            return
        super()._on_frame(frame)

    def _handle(self, event: ServerEvent) -> None:
        # a GPT-Live attach replays the session's last 3 s: events seen on an earlier
        # attach are dropped (by event_id), so nothing is handled or delivered twice
        eid = getattr(event, "event_id", None)
        if eid:
            seen = self._seen_ids
            if eid in seen:
                self.replayed_dropped += 1
                return
            seen[eid] = None
            if len(seen) > _SEEN_IDS:
                seen.popitem(last=False)
        super()._handle(event)

    async def _on_open(self) -> None:
        await super()._on_open()
        self._apply(Actions(ready=True))  # attached: no event of its own confirms it

    def _on_link_event(self, event: LinkEvent) -> None:
        link = self._link
        if (
            event.kind == "reconnecting"
            and event.attempt == 1
            and link is not None
            and link.stats.last_close_code == 1000
        ):
            # the server closed the sideband cleanly: the call is over (a Realtime call's end
            # has no event of its own), so no re-attach: the link ends when its wait is over
            self.call_over = True
            link.closing()
            return  # not a reconnect for the app either
        super()._on_link_event(event)
        if event.kind == "disconnected" and self.call_over:
            self.failure = None  # the end of the call, not a failure of the sideband

    def _apply(self, actions: Actions) -> None:
        super()._apply(actions)
        if actions.closed and self._link is not None:
            self.call_over = True
            self._link.closing()  # the call ended: the server's close ends the link


class SipClient(AsyncRealtimeAIClient):
    """A session client attached to a SIP call (see the module docstring). Made by
    :meth:`rtsdk.sip.SipCall.accept` (or ``prepare``) and :func:`rtsdk.sip.place_call`."""

    _service_type = SidebandService

    def __init__(
        self,
        options: SidebandOptions,
        *,
        event_handler: EventHandler | None = None,
        tools: Iterable[Callable[..., Any]] = (),
        mcp_approval: ApprovalPolicy | None = None,
    ) -> None:
        if not isinstance(options, SidebandOptions):
            raise ConfigurationError(
                "SipClient takes SidebandOptions (SidebandOptions.from_options(...)); "
                "a SipCall builds them for you"
            )
        super().__init__(
            options, event_handler=event_handler, tools=tools, mcp_approval=mcp_approval
        )

    def __repr__(self) -> str:
        state = "attached" if self.is_connected else ("detached" if self._stopped else "idle")
        call_id = self.options.call_id if isinstance(self.options, SidebandOptions) else "?"
        return f"<SipClient {state} {self.options.session_type} call={call_id!r}>"

    async def send_audio(self, data: object, sample_rate: int | None = None) -> None:
        """Refused: a SIP call's audio travels between the carrier and OpenAI."""
        raise ConfigurationError(
            "send_audio: a SIP call's audio travels over SIP, not through the sideband"
        )

    async def send_dtmf(self, key: str) -> None:
        """Press ``key`` (``0``-``9``, ``A``-``D``, ``*``, ``#``) towards the caller
        (GPT-Live: ``transport.dtmf.send``; ``transport.dtmf.sent`` confirms it)."""
        if not isinstance(key, str) or key not in DTMF_KEYS:
            raise ConfigurationError(f"send_dtmf: key must be one of 0-9, A-D, *, #; got {key!r}")
        if self.options.session_type != "live":
            raise ConfigurationError(
                "send_dtmf: only GPT-Live sends DTMF on a SIP call (the Realtime API "
                "receives key presses only: input_audio_buffer.dtmf_event_received)"
            )
        self._service.send(live_event("transport.dtmf.send", event=key))
