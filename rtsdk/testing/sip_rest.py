"""The SIP side's plain HTTP: call control, outbound calls, sideband upgrades, test hooks.

:func:`claims` says whether a request is the SIP side's (every request but a ``GET``, and the
sideband upgrades and ``/rtsdk/sip/…`` test hooks among the ``GET`` s); :func:`process`
answers it (or, for an accepted sideband upgrade, lets the WebSocket handshake go on). Path
segments are percent-decoded one by one, so an id holding ``/`` or ``%`` works when escaped.

Test hooks (same key rules), for a server run from the command line:

- ``POST /rtsdk/sip/calls`` ``{"audio": "caller.wav", "from": "+1…", "to": "+1…",
  "sip_headers": [...], "pacing": "fast"}`` (every key optional) rings a call: 200
  ``{"call_id", "session_id"}``;
- ``GET /rtsdk/sip/calls/{id}``: the call (state, API, recording ms, keys, deliveries);
- ``POST /rtsdk/sip/calls/{id}/say`` ``{"audio": "more.wav"}``, ``/dtmf`` ``{"digits":
  "12#"}``, ``/hangup`` (the caller's), and for an outbound call ``/ring``, ``/answer``,
  ``/fail`` ``{"code", "message"}``.
"""

from __future__ import annotations

import json
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from websockets.asyncio.server import ServerConnection as WsConnection
from websockets.http11 import Request, Response

from ..exceptions import ConfigurationError
from .catalogue import ERRORS
from .catalogue_live import LIVE_ERRORS
from .catalogue_sip import SIP_ERRORS
from .connection import ServerConnection
from .errors import Refusal
from .live import LiveHost
from .live_options import LIVE_MODELS
from .sip import SipCalls, SipOptions
from .sip_call import SimulatedCall
from .sip_http import MAX_BODY, HttpConnection, json_response
from .sip_schema import (
    accept_startup,
    hangup_problem,
    live_accept_problem,
    outbound_problem,
    outbound_startup,
    realtime_accept_problem,
    refer_problem,
    reject_problem,
)
from .sip_sideband import SidebandConnection


class RestHost(LiveHost, Protocol):
    """What the SIP REST uses of its server (a :class:`~rtsdk.testing.RestHost`)."""

    sip: SipCalls
    refused: list[tuple[int, str]]

    def _key_problem(self, request: Request) -> str | None: ...

    def _refuse(self, ws: WsConnection, where: str, key: str, **fields: Any) -> Response: ...

    def _upgrade(
        self,
        ws: WsConnection,
        request: Request,
        path: str,
        model: str,
        kind: type[ServerConnection] = ...,
    ) -> Response | None: ...


#: What the server imports from here (one line there): the connection class, the SIP side.
__all__ = ["HttpConnection", "SipCalls", "SipOptions", "claims", "process"]

Json = dict[str, Any]

_PREFIXES = (("v1",), ("openai", "v1"))
_ACTIONS = ("accept", "reject", "refer", "hangup")
_NO_BODY = object()


def _segments(raw_path: str) -> list[str]:
    path = urlsplit(raw_path).path
    return [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []


def _api_path(segments: list[str]) -> list[str] | None:
    """The segments after ``/v1`` or ``/openai/v1`` (None for another prefix)."""
    for prefix in _PREFIXES:
        if tuple(segments[: len(prefix)]) == prefix:
            return segments[len(prefix) :]
    return None


def claims(request: Request) -> bool:
    """True when ``request`` is the SIP side's to answer (see the module docstring)."""
    if request.method != "GET":
        return True
    segments = _segments(request.path)
    rest = _api_path(segments)
    if segments[:2] == ["rtsdk", "sip"]:
        return True
    if rest is None:
        return False
    if len(rest) == 4 and rest[:2] == ["live", "sessions"] and rest[3] == "attach":
        return True
    return rest == ["realtime"] and "call_id" in parse_qs(urlsplit(request.path).query)


def _error(ws: WsConnection, key: str, status: int | None = None, **fields: Any) -> Response:
    entry = SIP_ERRORS.get(key) or LIVE_ERRORS.get(key) or ERRORS[key]
    return json_response(ws, status or entry.status or 400, {"error": entry.render(**fields)})


def _refusal(ws: WsConnection, refusal: Refusal) -> Response:
    return _error(ws, refusal.key, 400, **refusal.fields)


def _body(ws: WsConnection) -> Any:
    """The request's JSON body, ``_NO_BODY`` when empty, or a Response refusing it."""
    raw = getattr(ws, "http_body", b"")
    if isinstance(ws, HttpConnection) and ws.body_too_large:
        return _error(ws, "sip_body_too_large", size=MAX_BODY)
    if isinstance(ws, HttpConnection) and ws.bad_body:
        return _error(ws, "sip_invalid_json")
    if not raw.strip():
        return _NO_BODY
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _error(ws, "sip_invalid_json")


def process(server: RestHost, ws: WsConnection, request: Request) -> Response | None:
    """Answer a request :func:`claims` took (None: a sideband upgrade goes on)."""
    segments = _segments(request.path)
    rest = _api_path(segments) or []
    where = "/" + "/".join(segments)
    refused = server._key_problem(request)
    if refused is not None:
        return server._refuse(ws, where, refused)
    if request.method == "GET" and segments[:2] != ["rtsdk", "sip"]:
        return _sideband(server, ws, request, rest)
    body = _body(ws)
    if isinstance(body, Response):
        return body
    if segments[:2] == ["rtsdk", "sip"]:
        return _hook(server, ws, request.method, segments[2:], body)
    if request.method == "POST" and rest == ["live", "sessions"]:
        return _outbound(server, ws, body)
    if request.method == "POST" and len(rest) == 4 and rest[3] in _ACTIONS:
        if rest[:2] == ["realtime", "calls"]:
            return _control(server, ws, "realtime", rest[2], rest[3], body)
        if rest[:2] == ["live", "sessions"]:
            return _control(server, ws, "live", rest[2], rest[3], body)
    return _error(ws, "sip_http_not_found", method=request.method, path=urlsplit(request.path).path)


def _control(
    server: RestHost, ws: WsConnection, api: str, ident: str, action: str, body: Any
) -> Response:
    sip = server.sip
    call = sip.find(ident)
    if call is not None and ident != (call.call_id if api == "realtime" else call.session_id):
        call = None  # the other API's id
    if call is None or call.state == "missed":
        return _error(ws, "sip_call_not_found", call_id=ident)
    outbound = call.direction == "outbound"
    if action in ("accept", "reject") and (outbound or call.state != "ringing"):
        what = (
            "placed by the app"
            if outbound
            else "rejected"
            if call.state == "rejected"
            else f"accepted ({call.api})"
        )
        return _error(ws, "sip_decision_already_made", call_id=ident, decision=what)
    if action in ("refer", "hangup"):
        # a ringing inbound call is declined with reject; an outbound one may be hung up
        if call.state == "ringing" and (action == "refer" or not outbound):
            return _error(ws, "sip_call_not_active", call_id=ident, action=action)
        if outbound and action == "refer" and call.state == "dialing":
            return _error(ws, "sip_call_not_active", call_id=ident, action=action)
        if call.over or call.api != api or call.line is None:
            return _error(ws, "sip_call_not_found", call_id=ident)
    given = {} if body is _NO_BODY else body
    if action == "accept":
        return _accept(server, ws, api, call, given)
    problem = (
        reject_problem(given, required=api == "live")
        if action == "reject"
        else refer_problem(given)
        if action == "refer"
        else hangup_problem(given)
    )
    if problem is not None:
        return _refusal(ws, problem)
    if action == "reject":
        call.status_code = given.get("status_code", 603)
        call.set_state("rejected", "app")
    else:
        assert call.line is not None
        if action == "refer":
            call.referred_to = given["target_uri"]
        call.line.hangup("refer" if action == "refer" else "app")
    return json_response(ws, 200)


def _accept(
    server: RestHost, ws: WsConnection, api: str, call: SimulatedCall, body: Json
) -> Response:
    sip = server.sip
    if api == "realtime":
        problem = realtime_accept_problem(body)
        if problem is not None:
            return _refusal(ws, problem)
        call.api = "realtime"
        call.accepted_with = body
        call.connect(sip.realtime_line(call, body))
        return json_response(ws, 200)
    problem = live_accept_problem(body)
    if problem is not None:
        return _refusal(ws, problem)
    session = accept_startup(body)
    if session["model"] not in LIVE_MODELS:
        return _error(ws, "sip_model_not_found", model=session["model"])
    call.api = "live"
    call.accepted_with = body
    call.connect(sip.live_line(call, session))
    return json_response(ws, 200)


def _outbound(server: RestHost, ws: WsConnection, body: Any) -> Response:
    sip = server.sip
    if body is _NO_BODY:
        return _error(ws, "missing_required_parameter", 400, param="session")
    if not sip.options.outbound_enabled:
        return _error(ws, "sip_outbound_not_enabled")
    problem = outbound_problem(body)
    if problem is not None:
        return _refusal(ws, problem)
    config = body["session"]
    if config["model"] not in LIVE_MODELS:
        return _error(ws, "sip_model_not_found", model=config["model"])
    failure = sip.next_outbound_failure()
    if failure is not None:
        return _error(ws, "sip_setup_failed" if failure == 502 else "sip_setup_timeout")
    options = sip.options
    call = SimulatedCall(
        direction="outbound",
        call_id=None,
        session_id=server.ids("live"),
        sip_headers=[],
        pacing=options.caller_pacing,
        frame_ms=options.frame_ms,
        tail_ms=options.tail_ms,
        clock=sip.clock,
        destination=body["transport"]["destination"],
    )
    call.accepted_with = body
    call.line = sip.live_line(call, outbound_startup(body))
    sip.add_outbound(call)
    reply = {"session": {"id": call.session_id}, "transport": {"type": "sip"}}
    return json_response(ws, 200, reply)


def _sideband(
    server: RestHost, ws: WsConnection, request: Request, rest: list[str]
) -> Response | None:
    where = "/" + "/".join(rest)
    query = parse_qs(urlsplit(request.path).query)
    graceful = query.get("graceful_close")
    if graceful is not None and graceful[0].lower() not in ("true", "false"):
        server.refused.append((400, where))
        return _error(ws, "sip_sideband_bad_query", value=json.dumps(graceful[0][:40]))
    call = server.sip.call_of_sideband(request.path)
    if call is None:
        ident = rest[2] if len(rest) == 4 else (query.get("call_id") or [""])[0]
        server.refused.append((404, where))
        return _error(ws, "sip_sideband_not_found", call_id=ident[:200])
    return server._upgrade(ws, request, where, "", SidebandConnection)


def _describe(call: SimulatedCall) -> Json:
    return {
        "call_id": call.call_id,
        "session_id": call.session_id,
        "direction": call.direction,
        "state": call.state,
        "api": call.api,
        "ended_by": call.ended_by,
        "status_code": call.status_code,
        "referred_to": call.referred_to,
        "recording_ms": round(call.recording_ms),
        "dtmf_sent": "".join(call.dtmf_sent),
        "deliveries": [
            {"event_type": d.event_type, "attempt": d.attempt, "status": d.status, "error": d.error}
            for d in call.deliveries
        ],
    }


def _hook(server: RestHost, ws: WsConnection, method: str, rest: list[str], body: Any) -> Response:
    given: Json = {} if body is _NO_BODY else body
    if not isinstance(given, dict):
        return _error(ws, "sip_invalid_json")
    sip = server.sip
    if rest == ["calls"] and method == "POST":
        return _ring(server, ws, given)
    call = sip.find(rest[1]) if len(rest) >= 2 and rest[0] == "calls" else None
    if call is None:
        return _error(ws, "sip_http_not_found", method=method, path="/rtsdk/sip/" + "/".join(rest))
    action = rest[2] if len(rest) == 3 else None
    try:
        if method == "GET" and action is None:
            return json_response(ws, 200, _describe(call))
        if method != "POST" or action is None:
            return _error(ws, "sip_http_not_found", method=method, path="/rtsdk/sip/calls/…")
        if action == "say":
            call.say(given["audio"], rate=given.get("rate", 24000))
        elif action == "dtmf":
            call.press(given["digits"])
        elif action == "hangup":
            call.hangup()
        elif action == "ring":
            call.ring()
        elif action == "answer":
            call.answer()
        elif action == "fail":
            call.fail(given.get("code", "no_answer"), given.get("message", "The call failed."))
        else:
            return _error(ws, "sip_http_not_found", method=method, path="/rtsdk/sip/calls/…")
    except (ConfigurationError, RuntimeError, KeyError, TypeError, OSError) as exc:
        return _error(ws, "sip_hook_refused", detail=f"{type(exc).__name__}: {exc}")
    return json_response(ws, 200, _describe(call))


def _ring(server: RestHost, ws: WsConnection, given: Json) -> Response:
    unknown = sorted(set(given) - {"audio", "rate", "from", "to", "sip_headers", "pacing"})
    if unknown:
        return _error(ws, "unknown_parameter", 400, param=unknown[0])
    try:
        call = server.sip.ring(
            given.get("audio"),
            rate=given.get("rate", 24000),
            sip_headers=given.get("sip_headers"),
            from_number=given.get("from", "+14155550100"),
            to_number=given.get("to", "+18005550199"),
            pacing=given.get("pacing"),
        )
    except (ConfigurationError, OSError) as exc:
        return _error(ws, "sip_hook_refused", detail=f"{type(exc).__name__}: {exc}")
    return json_response(ws, 200, {"call_id": call.call_id, "session_id": call.session_id})
