"""One SIP call: :class:`SipCall` (accept, reject, refer, hang up) and :func:`place_call`.

An incoming call (:class:`~rtsdk.sip.webhook.IncomingCall`) waits for one decision:

- :meth:`SipCall.accept` posts the accept with the session built from ``options`` (the same
  :class:`~rtsdk.session.options.RealtimeAIOptions` as any session; Realtime or GPT-Live by
  model), then attaches a :class:`~rtsdk.sip.sideband.SipClient` over the call's sideband and
  returns it: handlers, tools, delegation, transcripts and metrics as in any session. When
  the service answers 404 (the caller hung up before the accept, or before the sideband
  attached) it returns None and the call is over, quietly; so it does when the service says
  the call was already decided (``decision_already_made``: another process took it). If the
  sideband cannot attach to a live call, the call is hung up (a call nobody steers would run
  without the app's tools) and the error raised. The sideband attaches right after the
  accept; a Realtime sideband sees nothing of what happened before (GPT-Live replays its
  last 3 s).
- :meth:`SipCall.reject` declines it with a SIP status (603 Decline by default);
  :meth:`SipCall.refer` transfers it; :meth:`SipCall.hangup` ends it.

:func:`place_call` dials out on GPT-Live: ``POST /live/sessions`` with a SIP transport, then
the sideband, where ``transport.ringing`` / ``transport.answered`` / ``transport.failed``
reach the app's handlers and listeners (and :meth:`SipCall.wait_answered`). A call is
dialled once: neither the request nor a failed call is ever retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any, Literal

from rtsdk.exceptions import ConfigurationError, RtsdkError
from rtsdk.mcp import ApprovalPolicy
from rtsdk.protocol import ServerEvent
from rtsdk.session.events import EventHandler
from rtsdk.session.options import RealtimeAIOptions
from rtsdk.session.tools import ToolRegistry

from .control import CallControl, CallControlError, CallGoneError, SipTrunk, accept_body
from .control import outbound_body as _outbound_body
from .sideband import SidebandOptions, SipClient
from .webhook import IncomingCall

__all__ = ["CallFailedError", "SipCall", "place_call"]

log = logging.getLogger("rtsdk.sip")

CallState = Literal["incoming", "dialing", "accepted", "rejected", "referred", "ended"]


class CallFailedError(RtsdkError):
    """An outbound call did not connect (``transport.failed``): ``code`` is the service's
    (e.g. ``busy``, ``no_answer``, ``rejected``)."""

    def __init__(self, message: str, *, code: str | None) -> None:
        super().__init__(message)
        self.code = code


class SipCall:
    """One SIP call on one API (see the module docstring).

    ``api``: ``"realtime"`` or ``"live"``; ``id``: the Realtime call id or GPT-Live session
    id; ``control``: the :class:`~rtsdk.sip.control.CallControl` that steers it;
    ``incoming``: the webhook's :class:`~rtsdk.sip.webhook.IncomingCall` (None for an
    outbound call). :attr:`state` and :attr:`ended_by` say where it is; :attr:`client` is
    its :class:`~rtsdk.sip.sideband.SipClient` once prepared or accepted.
    """

    def __init__(
        self,
        api: Literal["realtime", "live"],
        call_id: str,
        control: CallControl,
        *,
        incoming: IncomingCall | None = None,
    ) -> None:
        if api not in ("realtime", "live"):
            raise ConfigurationError(f"api must be 'realtime' or 'live', got {api!r}")
        if not isinstance(call_id, str) or not call_id:
            raise ConfigurationError(f"call id must be a non-empty str, got {call_id!r}")
        self.api: Literal["realtime", "live"] = api
        self.id = call_id
        self.control = control
        self.incoming = incoming
        self.state: CallState = "incoming" if incoming is not None else "dialing"
        #: who ended it: ``"app"`` (hangup), ``"remote"`` (the caller or callee, or the
        #: service), ``"rejected"``, ``"referred"``, ``"failed"`` (outbound), ``"detached"``
        #: (the app stopped the client: the call may go on without it), ``"elsewhere"`` (an
        #: accept answered ``decision_already_made``: another process or the other API's
        #: accept took it first), None while live
        self.ended_by: str | None = None
        self.client: SipClient | None = None
        #: outbound: ``"dialing"``, ``"ringing"``, ``"answered"`` or ``"failed"``
        self.transport: str | None = None if incoming is not None else "dialing"
        self.failure: CallFailedError | None = None
        self._progress = asyncio.Event()
        self._ended = asyncio.Event()
        self._hanging_up = False
        self._closer: asyncio.Task[Any] | None = None

    @classmethod
    def from_incoming(cls, incoming: IncomingCall, control: CallControl) -> SipCall:
        """The call a webhook announced."""
        return cls(incoming.api, incoming.id, control, incoming=incoming)

    def __repr__(self) -> str:
        return f"<SipCall {self.api} {self.id!r} {self.state}>"

    # -- the client ------------------------------------------------------------------------

    def prepare(
        self,
        options: RealtimeAIOptions | None = None,
        *,
        event_handler: EventHandler | None = None,
        tools: Iterable[Callable[..., Any]] = (),
        mcp_approval: ApprovalPolicy | None = None,
    ) -> SipClient:
        """Make the call's :class:`~rtsdk.sip.sideband.SipClient` now (not attached), to
        register tools and listeners before :meth:`accept` (which then uses it). ``options``
        must select this call's API (a Realtime model for a ``realtime`` call, a GPT-Live
        model for a ``live`` one)."""
        if self.client is not None:
            raise RuntimeError(f"{self!r} already has its client")
        options = options if options is not None else _default_options(self.api)
        want = "live" if self.api == "live" else "realtime"
        if options.session_type != want:
            raise ConfigurationError(
                f"this call came for the {_API_NAMES[self.api]} API but the options select "
                f"{options.session_type!r} (model {options.model!r}): answer each call on the "
                "API of its webhook event"
            )
        sideband = SidebandOptions.from_options(
            options,
            call_id=self.id,
            api_base=self.control.api_base,
            api_key=self.control.api_key,
        )
        client = SipClient(
            sideband, event_handler=event_handler, tools=tools, mcp_approval=mcp_approval
        )
        self._attach_observer(client)
        self.client = client
        return client

    def _attach_observer(self, client: SipClient) -> None:
        def observe(event: ServerEvent) -> None:
            kind = event.type
            if kind == "transport.ringing":
                self.transport = "ringing"
            elif kind == "transport.answered":
                self.transport = "answered"
                self.state = "accepted"
                self._progress.set()
            elif kind == "transport.failed":
                error = getattr(event, "error", {}) or {}
                code = error.get("code") if isinstance(error, dict) else None
                message = error.get("message") if isinstance(error, dict) else None
                self.transport = "failed"
                self.failure = CallFailedError(
                    f"the call did not connect: {code or 'failed'}"
                    f"{f': {message}' if message else ''}",
                    code=code if isinstance(code, str) else None,
                )
                self._end("failed")
                self._progress.set()
            elif kind == "session.closed":
                self._end("remote")
            elif kind == "rtsdk.disconnected":
                # the app's stop() detaches and leaves the call running; otherwise it is over,
                # and the client is stopped here (its tasks ended) whoever holds it
                if client._stopped:
                    self._end("detached")
                    return
                self._end("remote")
                self._closer = asyncio.get_running_loop().create_task(
                    client.stop(timeout=2.0), name="rtsdk-sip-detach"
                )

        client.service.add_observer(observe)

    def _end(self, by: str) -> None:
        if by == "remote" and self._hanging_up:
            by = "app"
        if self.ended_by is None:
            self.ended_by = by
        self.state = "ended" if by not in ("rejected", "referred") else self.state
        self._ended.set()
        self._progress.set()

    @property
    def ended(self) -> bool:
        """True once the call is over (for this app)."""
        return self._ended.is_set()

    async def wait_ended(self, timeout: float | None = None) -> bool:
        """Until the call is over; False if ``timeout`` passed first."""
        try:
            await asyncio.wait_for(self._ended.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    # -- decisions -------------------------------------------------------------------------

    def _expect(self, action: str, *states: CallState) -> None:
        if self.state not in states:
            raise RuntimeError(f"{action}: the call is {self.state}, not {' or '.join(states)}")

    async def accept(
        self,
        options: RealtimeAIOptions | None = None,
        *,
        event_handler: EventHandler | None = None,
        tools: Iterable[Callable[..., Any]] = (),
        mcp_approval: ApprovalPolicy | None = None,
    ) -> SipClient | None:
        """Accept the call with ``options`` and return its attached client; None when the
        caller already hung up (404: the call is over, nothing raised). With a client from
        :meth:`prepare`, ``options`` and the rest must be left out."""
        self._expect("accept", "incoming")
        client = self.client
        if client is None:
            client = self.prepare(
                options, event_handler=event_handler, tools=tools, mcp_approval=mcp_approval
            )
        elif options is not None or event_handler is not None or tools:
            raise ConfigurationError("accept: the call was prepared; give its options there")
        body = accept_body(client.options, client.service._settings())
        try:
            await self.control.accept(self.api, self.id, body)
        except CallGoneError:
            log.info("call %s: gone before the accept (the caller hung up)", self.id)
            self._end("remote")
            return None
        except CallControlError as exc:
            if exc.code != "decision_already_made":
                raise
            # another process (or the other API's accept) took the call first
            log.info("call %s: decided elsewhere first", self.id)
            self._end("elsewhere")
            return None
        self.state = "accepted"
        try:
            await client.start()
        except Exception:
            if await self._hangup_unattached():
                log.info("call %s: gone before the sideband attached", self.id)
                return None
            raise
        return client

    async def reject(self, status_code: int = 603) -> None:
        """Decline the call with SIP ``status_code`` (300-699). A call already gone (404)
        is over quietly."""
        self._expect("reject", "incoming")
        try:
            await self.control.reject(self.api, self.id, status_code)
        except CallGoneError:
            self._end("remote")
            return
        self.state = "rejected"
        self._end("rejected")

    async def refer(self, target_uri: str) -> None:
        """Transfer the accepted call to ``target_uri`` (``tel:+...``, ``sip:...``); the
        sideband then ends with the call's leg here. (A ringing call is declined with
        :meth:`reject`: the service refers answered calls only.)"""
        self._expect("refer", "accepted")
        await self.control.refer(self.api, self.id, target_uri)
        self.state = "referred"
        self._end("referred")

    async def hangup(self) -> None:
        """End the call (and detach its client). A call already over is left as it is."""
        if self.ended and self.client is None:
            return
        if not self.ended:
            self._hanging_up = True  # the session's end, seen during the request, is ours
            try:
                with contextlib.suppress(CallGoneError):  # already over
                    await self.control.hangup(self.api, self.id)
            finally:
                self._hanging_up = False
            self._end("app")
        if self.client is not None:
            await self.client.stop(timeout=2.0)

    async def _hangup_unattached(self) -> bool:
        """The sideband did not attach: hang the call up (nobody would steer it). True when
        the call was already gone (404: the caller hung up first; the call ends quietly)."""
        try:
            await self.control.hangup(self.api, self.id)
        except CallGoneError:
            self._end("remote")
            return True
        except (CallControlError, RtsdkError, OSError, asyncio.TimeoutError) as exc:
            log.warning("call %s: the sideband did not attach; hangup failed: %s", self.id, exc)
        else:
            log.warning("call %s: the sideband did not attach; hung up", self.id)
        self._end("app")
        return False

    async def wait_answered(self, timeout: float | None = None) -> None:
        """Outbound: until the callee answered (``transport.answered``). Raises
        :class:`CallFailedError` on ``transport.failed`` (or when the call ended first) and
        :class:`asyncio.TimeoutError` after ``timeout``."""
        await asyncio.wait_for(self._progress.wait(), timeout)
        if self.transport == "answered":
            return
        if self.failure is not None:
            raise self.failure
        raise CallFailedError("the call ended before it was answered", code=None)


_API_NAMES = {"realtime": "Realtime", "live": "GPT-Live"}


def _default_options(api: str) -> RealtimeAIOptions:
    return RealtimeAIOptions(session_type="live" if api == "live" else "realtime")


async def place_call(
    destination: str,
    *,
    trunk: SipTrunk,
    options: RealtimeAIOptions | None = None,
    control: CallControl | None = None,
    event_handler: EventHandler | None = None,
    tools: Iterable[Callable[..., Any]] = (),
    mcp_approval: ApprovalPolicy | None = None,
) -> SipCall:
    """Dial ``destination`` (E.164) through ``trunk`` with a GPT-Live session of ``options``
    (default: the default GPT-Live model) and return the call with its client attached.

    ``transport.ringing`` / ``answered`` / ``failed`` then reach ``event_handler`` and the
    client's listeners; :meth:`SipCall.wait_answered` waits for the outcome. Dialled once:
    the request is never retried (a failure raises
    :class:`~rtsdk.sip.control.CallControlError`), nor is a failed call. ``control``: default
    ``CallControl()`` (key and base from the environment)."""
    options = options if options is not None else RealtimeAIOptions(session_type="live")
    if options.session_type != "live":
        raise ConfigurationError(
            f"place_call: outbound SIP calls are GPT-Live's; {options.model!r} is not a "
            "gpt-live model"
        )
    control = control if control is not None else CallControl()
    registry = ToolRegistry()
    tools = tuple(tools)
    for func in tools:
        registry.register(func)
    settings = options.live_settings(registry.merged(()))
    session_id = await control.create_live_session(_outbound_body(settings, destination, trunk))
    call = SipCall("live", session_id, control)
    client = call.prepare(
        options, event_handler=event_handler, tools=tools, mcp_approval=mcp_approval
    )
    try:
        await client.start()
    except Exception:
        if not await call._hangup_unattached():
            raise
    return call
