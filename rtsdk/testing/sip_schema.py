"""The bodies of the SIP requests as the local server checks them: strict, as the service is.

Each function returns the first fault of a decoded JSON body as a
:class:`~rtsdk.testing.errors.Refusal` (a schema row of the catalogue, its ``param`` the
dotted path in the body), or None:

- Realtime ``POST /v1/realtime/calls/{call_id}/accept``: a Realtime session object
  (``types/realtime/call_accept_params.py``: ``type: "realtime"`` required, every field of a
  GA ``session.update``), checked by the same rules as ``session.update``
  (:func:`rtsdk.protocol.client_event_problems`), and the reasoning fields against the model.
- GPT-Live ``POST /v1/live/sessions/{session_id}/accept``: ``{"session": {...}}``
  (``types/live/session_accept_params.py``: ``type: "live"`` and ``model`` required; the
  startup fields of ``session.start`` but no ``client``, and ``audio`` holds ``output.voice``
  only: SIP negotiates the format, so ``audio.format`` is refused as unknown).
- ``reject``: ``status_code`` an integer in 300-699 (optional on Realtime: 603; required on
  GPT-Live); ``refer``: ``target_uri``, a non-blank string; ``hangup``: no body (or ``{}``).
- GPT-Live outbound ``POST /v1/live/sessions``: ``session`` (the startup config of a media
  session, ``types/live/media_session_config_param.py``, no ``audio.format``) and
  ``transport`` ``{type: "sip", destination, trunk: {provider_url, auth: {type: "digest",
  username, password}, caller_number}}``: E.164 numbers, and a ``sips:`` provider URL with a
  public host (as OpenAI's API reference describes the trunk).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, cast

from ..models import DEFAULT_MODEL
from ..protocol.schema import client_event_problems
from .config import VadDefaults, default_session, merge_session
from .errors import Refusal
from .live_schema import COMMANDS, command_problem
from .shapes import Enum, Nullable, Obj, Scalar, Union
from .wording import json_type, problem_refusal

__all__ = [
    "accept_startup",
    "hangup_problem",
    "live_accept_problem",
    "outbound_problem",
    "outbound_startup",
    "realtime_accept_problem",
    "refer_problem",
    "reject_problem",
]

Json = dict[str, Any]

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*")
_STR = Scalar(str)

_START = cast(Obj, COMMANDS["session.start"].fields["session"])
_AUDIO = cast(Obj, cast(Nullable, _START.fields["audio"]).node)
#: ``audio`` of an accept or an outbound session: the voice only (SIP negotiates the format).
_SIP_AUDIO = Nullable(Obj({"output": _AUDIO.fields["output"]}))
_STARTUP = {k: v for k, v in _START.fields.items() if k not in ("client", "audio")}

_ACCEPT = Obj(
    {"session": Obj({**_STARTUP, "type": Enum("live"), "audio": _SIP_AUDIO}, "model", "type")},
    "session",
)
_TRUNK = Obj(
    {
        "provider_url": _STR,
        "auth": Obj(
            {"type": Enum("digest"), "username": _STR, "password": _STR},
            "type",
            "username",
            "password",
        ),
        "caller_number": _STR,
    },
    "provider_url",
    "auth",
    "caller_number",
)
_OUTBOUND = Obj(
    {
        "session": Obj(
            {
                **_STARTUP,
                "audio": _SIP_AUDIO,
                "client": _START.fields["client"],
                "idle_timeout_s": Nullable(Scalar(int, 1)),
                "wake_policy": Nullable(
                    Obj({"type": Enum("speech"), "vad_threshold": Nullable(Scalar(float))}, "type")
                ),
            },
            "model",
        ),
        "transport": Union(
            "type", {"sip": Obj({"destination": _STR, "trunk": _TRUNK}, "destination", "trunk")}
        ),
    },
    "session",
    "transport",
)
_REJECT_CODE = Scalar(int, 300, 699)


def _not_object(body: Any) -> Refusal | None:
    if isinstance(body, dict):
        return None
    return Refusal(
        "invalid_type", {"param": "body", "expected": "an object", "got": json_type(body)}
    )


def realtime_accept_problem(body: Any) -> Refusal | None:
    """The first fault of a Realtime accept body (see the module docstring)."""
    problem = _not_object(body)
    if problem is not None:
        return problem
    if "type" not in body:
        return Refusal("missing_required_parameter", {"param": "type"})
    if body["type"] != "realtime":
        problem = Enum("realtime").check(body["type"], "type")
        assert problem is not None
        return problem
    data = {"type": "session.update", "session": body}
    problems = client_event_problems(data)
    if problems:
        return _unprefixed(problem_refusal(problems[0], data))
    model = body.get("model", DEFAULT_MODEL)
    base = default_session(
        session_id="sess_check", model=model, expires_at=0, vad=VadDefaults(), voice="marin"
    )
    _, refusal = merge_session(base, body, vad=VadDefaults(), voice_locked=False)
    return None if refusal is None else _unprefixed(refusal)


def _unprefixed(refusal: Refusal) -> Refusal:
    """A session.update refusal with the body's own path: ``session.x`` becomes ``x``."""
    param = refusal.fields.get("param")
    if isinstance(param, str) and param.startswith("session."):
        return Refusal(refusal.key, {**refusal.fields, "param": param[len("session.") :]})
    return refusal


def live_accept_problem(body: Any) -> Refusal | None:
    """The first fault of a GPT-Live accept body (see the module docstring)."""
    problem = _not_object(body) or _ACCEPT.check(body, "")
    if problem is not None:
        return problem
    return command_problem({"type": "session.start", "session": accept_startup(body)})


def accept_startup(body: Json) -> Json:
    """The GPT-Live session a checked accept body starts (its ``session`` less ``type``)."""
    return {k: v for k, v in body["session"].items() if k != "type"}


def outbound_startup(body: Json) -> Json:
    """The GPT-Live session a checked outbound-call body starts (its ``session`` less what
    only the call's creation reads)."""
    drop = ("client", "idle_timeout_s", "wake_policy")
    return {k: v for k, v in body["session"].items() if k not in drop}


def reject_problem(body: Any, *, required: bool) -> Refusal | None:
    """The first fault of a reject body (``status_code`` optional on Realtime)."""
    shape = Obj({"status_code": _REJECT_CODE}, *(("status_code",) if required else ()))
    return _not_object(body) or shape.check(body, "")


def refer_problem(body: Any) -> Refusal | None:
    """The first fault of a refer body: ``target_uri``, a non-blank string."""
    problem = _not_object(body) or Obj({"target_uri": _STR}, "target_uri").check(body, "")
    if problem is None and not body["target_uri"].strip():
        return Refusal("invalid_value", {"param": "target_uri", "reason": "it must not be blank"})
    return problem


def hangup_problem(body: Any) -> Refusal | None:
    """The first fault of a hangup body: none is expected (``{}`` passes)."""
    return _not_object(body) or Obj({}).check(body, "")


def outbound_problem(body: Any) -> Refusal | None:
    """The first fault of an outbound-call body (see the module docstring)."""
    problem = _not_object(body) or _OUTBOUND.check(body, "")
    if problem is not None:
        return problem
    transport = body["transport"]
    trunk = transport["trunk"]
    for param, number in (
        ("transport.destination", transport["destination"]),
        ("transport.trunk.caller_number", trunk["caller_number"]),
    ):
        if not _E164.fullmatch(number):
            reason = "expected a phone number in E.164 format ('+' and 2 to 15 digits)"
            return Refusal("invalid_value", {"param": param, "reason": reason})
    fault = _provider_url_fault(trunk["provider_url"])
    if fault is not None:
        return Refusal("invalid_value", {"param": "transport.trunk.provider_url", "reason": fault})
    return command_problem({"type": "session.start", "session": outbound_startup(body)})


def _provider_url_fault(url: str) -> str | None:
    """Why a trunk's ``provider_url`` is refused (None: it passes): ``sips:host[:port]
    [;transport=tcp]``, TLS only, no userinfo, path or other parameters, a public host."""
    if not url.startswith("sips:"):
        return "expected 'sips:host[:port][;transport=tcp]' (TLS signaling is required)"
    rest = url[5:]
    rest, _, params = rest.partition(";")
    if params and params.lower() != "transport=tcp":
        return "the only URI parameter allowed is 'transport=tcp'"
    if "@" in rest or "/" in rest or "?" in rest:
        return "userinfo, a path and URI headers are not allowed"
    host, port = rest, ""
    if rest.startswith("["):
        host, _, port = rest[1:].partition("]")
        port = port[1:] if port.startswith(":") else port
    elif ":" in rest:
        host, _, port = rest.partition(":")
    if port and (not port.isdigit() or not 0 < int(port) < 65536):
        return f"invalid port {port!r}"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not _HOST.fullmatch(host) or "." not in host or host.lower().endswith(".local"):
            return f"{host!r} is not a public host name"
        return None
    if not address.is_global or address.is_multicast:
        return (
            f"{host} is not a public address (private, loopback, link-local and the like "
            "are refused)"
        )
    return None
