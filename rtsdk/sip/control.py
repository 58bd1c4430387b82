"""Call control over REST: :class:`CallControl` (accept, reject, refer, hang up; place a call).

The paths, per API (under the API base, ``https://api.openai.com/v1`` by default):

- Realtime: ``POST /realtime/calls/{call_id}/accept`` (the body is the flat session object,
  ``type: "realtime"``), ``/reject`` (``{status_code}``), ``/refer`` (``{target_uri}``),
  ``/hangup`` (no body);
- GPT-Live: ``POST /live/sessions/{session_id}/accept`` (``{session: {type: "live", model,
  ...}}``), ``/reject``, ``/refer``, ``/hangup`` the same; an outbound call is ``POST
  /live/sessions`` with ``{session, transport: {type: "sip", destination, trunk}}``.

The accept bodies are built from the session settings the SDK sends on connect
(:func:`accept_body`), without an audio format (SIP negotiates it). Ids are escaped as one
path segment. Every answer but 2xx raises :class:`CallControlError` with the service's
``status``, ``code`` and message; a 404 raises :class:`CallGoneError` (the call is over, e.g.
the caller hung up before the accept). The API key goes in the ``Authorization`` header only:
never in a ``repr``, a log line or an exception.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlsplit

from rtsdk.exceptions import ConfigurationError, RtsdkError
from rtsdk.protocol.live import LiveSettings
from rtsdk.protocol.session import SessionSettings
from rtsdk.protocol.sideband import without_audio_format
from rtsdk.session.options import RealtimeAIOptions

from .http import HttpClient, HttpResponse
from .sideband import _segment

__all__ = [
    "DEFAULT_API_BASE",
    "CallControl",
    "CallControlError",
    "CallGoneError",
    "SipTrunk",
    "accept_body",
    "outbound_body",
]

log = logging.getLogger("rtsdk.sip")

DEFAULT_API_BASE = "https://api.openai.com/v1"
Api = Literal["realtime", "live"]
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


class CallControlError(RtsdkError):
    """The service refused a call-control request: ``status`` (HTTP), ``code`` (the service's,
    e.g. ``decision_already_made``; None when it gave none), ``action`` (``accept``,
    ``reject``, ...)."""

    def __init__(self, message: str, *, status: int, code: str | None, action: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.action = action


class CallGoneError(CallControlError):
    """404: no such call any more (the caller hung up, or the call already ended)."""


@dataclass(frozen=True)
class SipTrunk:
    """The SIP trunk an outbound GPT-Live call leaves through: ``provider_url``
    (``sips:host[:port]``: TLS signalling), digest ``username`` / ``password`` (never shown), and
    ``caller_number`` (E.164, the number the callee sees)."""

    provider_url: str
    username: str
    password: str = field(repr=False)
    caller_number: str

    def __post_init__(self) -> None:
        if not isinstance(self.provider_url, str) or not self.provider_url.startswith("sips:"):
            raise ConfigurationError(
                "SipTrunk.provider_url must be a sips: URI (sips:host[:port]; the service "
                f"signals outbound calls over TLS only), got {self.provider_url!r}"
            )
        if not isinstance(self.username, str) or not self.username:
            raise ConfigurationError("SipTrunk.username must be a non-empty str")
        if not isinstance(self.password, str) or not self.password:
            raise ConfigurationError("SipTrunk.password must be a non-empty str")
        if not isinstance(self.caller_number, str) or not _E164.match(self.caller_number):
            raise ConfigurationError(
                f"SipTrunk.caller_number must be an E.164 number (+ and up to 15 digits), got "
                f"{self.caller_number!r}"
            )

    def to_json(self) -> dict[str, Any]:
        """The ``trunk`` object of the transport."""
        return {
            "provider_url": self.provider_url,
            "auth": {"type": "digest", "username": self.username, "password": self.password},
            "caller_number": self.caller_number,
        }


def accept_body(options: RealtimeAIOptions, settings: object = None) -> dict[str, Any]:
    """The accept request's body: ``settings`` (default: those of ``options``; a
    :class:`~rtsdk.sip.SipClient` passes the settings its session layer would send on
    connect, registered tools included) as the session object, with the model of
    ``options``, without an audio format. Realtime: the flat session object; GPT-Live:
    ``{"session": {"type": "live", ...}}``."""
    if settings is None:
        if options.session_type not in ("realtime", "live"):
            raise ConfigurationError(
                f"a SIP call is answered by a Realtime or GPT-Live model, not a "
                f"{options.session_type} session ({options.model!r})"
            )
        settings = options.live_settings() if options.is_live else options.session_settings()
    if isinstance(settings, LiveSettings):
        return {"session": {"type": "live", **without_audio_format(settings.to_session())}}
    if isinstance(settings, SessionSettings):
        return without_audio_format(replace(settings, model=options.model).to_session())
    raise ConfigurationError(
        f"a SIP call takes Realtime or GPT-Live settings, not {type(settings).__name__}"
    )


def outbound_body(settings: LiveSettings, destination: str, trunk: SipTrunk) -> dict[str, Any]:
    """The body of ``POST /live/sessions`` that dials ``destination`` (E.164) through
    ``trunk`` with a GPT-Live session of ``settings``."""
    if not isinstance(settings, LiveSettings):
        raise ConfigurationError("outbound SIP calls are GPT-Live's: give a gpt-live model")
    if not isinstance(destination, str) or not _E164.match(destination):
        raise ConfigurationError(
            f"destination must be an E.164 number (+ and up to 15 digits), got {destination!r}"
        )
    if not isinstance(trunk, SipTrunk):
        raise ConfigurationError("trunk must be a SipTrunk")
    return {
        "session": without_audio_format(settings.to_session()),
        "transport": {"type": "sip", "destination": destination, "trunk": trunk.to_json()},
    }


class CallControl:
    """REST call control for one project (see the module docstring).

    ``api_key``: default ``OPENAI_API_KEY`` (required unless the base is a local ``http://``
    server). ``api_base``: default ``OPENAI_BASE_URL``, else ``https://api.openai.com/v1``;
    the sidebands attach under the same base. ``organization`` / ``project``: the
    ``OpenAI-Organization`` / ``OpenAI-Project`` headers. ``timeout``: seconds per request.
    ``http``: an :class:`~rtsdk.sip.http.HttpClient` to share (default: one of its own).
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_base: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        timeout: float = 10.0,
        http: HttpClient | None = None,
    ) -> None:
        key = api_key if api_key is not None else (os.environ.get("OPENAI_API_KEY") or None)
        base = api_base or os.environ.get("OPENAI_BASE_URL") or DEFAULT_API_BASE
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(
                f"api_base must be an http(s) URL such as {DEFAULT_API_BASE}, got {base!r}"
            )
        if key is not None and (
            not isinstance(key, str) or not key.strip() or any(c in key for c in "\r\n\0")
        ):
            raise ConfigurationError("api_key must be a non-empty str without line breaks")
        if key is None and parts.scheme == "https":
            raise ConfigurationError(
                "no API key: pass api_key= or set OPENAI_API_KEY (only a local http:// "
                "api_base may go without one)"
            )
        self.api_key = key
        self.api_base = base.rstrip("/")
        self.organization = organization
        self.project = project
        self.http = http if http is not None else HttpClient(timeout=timeout)

    def __repr__(self) -> str:
        return f"<CallControl {self.api_base} key={'<set>' if self.api_key else None}>"

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self.http.close()

    def headers(self, *, body: bool) -> dict[str, str]:
        """The request headers (secret: never log them)."""
        headers = {"Accept": "application/json", "User-Agent": "rtsdk-sip"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        if self.project:
            headers["OpenAI-Project"] = self.project
        if body:
            headers["Content-Type"] = "application/json"
        return headers

    def call_url(self, api: Api, call_id: str, action: str) -> str:
        """The URL of ``action`` on call ``call_id`` (the id escaped as a path segment)."""
        if not isinstance(call_id, str) or not call_id:
            raise ConfigurationError(f"call id must be a non-empty str, got {call_id!r}")
        where = "realtime/calls" if api == "realtime" else "live/sessions"
        return f"{self.api_base}/{where}/{_segment(call_id)}/{action}"

    async def post(
        self,
        url: str,
        body: Mapping[str, Any] | None,
        *,
        action: str,
        retry_stale: bool = True,
    ) -> HttpResponse:
        """``POST`` ``body`` (JSON) to ``url``; the answer if 2xx, else raises
        :class:`CallControlError` (:class:`CallGoneError` for 404)."""
        data = None if body is None else json.dumps(body, allow_nan=False).encode()
        response = await self.http.request(
            "POST",
            url,
            headers=self.headers(body=data is not None),
            body=data,
            retry_stale=retry_stale,
        )
        if 200 <= response.status < 300:
            return response
        code, message = _error_of(response)
        if self.api_key and self.api_key in message:  # never echo the key
            message = message.replace(self.api_key, "***")
        path = urlsplit(url).path
        text = f"{action} refused: HTTP {response.status}{f' {code}' if code else ''}"
        if message:
            text += f": {message[:300]}"
        text += f" ({path})"
        kind = CallGoneError if response.status == 404 else CallControlError
        raise kind(text, status=response.status, code=code, action=action)

    async def accept(self, api: Api, call_id: str, body: Mapping[str, Any]) -> None:
        """Accept the incoming call with ``body`` (see :func:`accept_body`)."""
        await self.post(self.call_url(api, call_id, "accept"), body, action="accept")

    async def reject(self, api: Api, call_id: str, status_code: int = 603) -> None:
        """Decline the call with SIP ``status_code`` (300-699; 603 Decline by default)."""
        if (
            isinstance(status_code, bool)
            or not isinstance(status_code, int)
            or not 300 <= status_code <= 699
        ):
            raise ConfigurationError(
                f"reject: status_code must be a SIP status 300-699, got {status_code!r}"
            )
        body = {"status_code": status_code}
        await self.post(self.call_url(api, call_id, "reject"), body, action="reject")

    async def refer(self, api: Api, call_id: str, target_uri: str) -> None:
        """Transfer the call to ``target_uri`` (``tel:+1...`` or ``sip:user@host``)."""
        if (
            not isinstance(target_uri, str)
            or not target_uri.strip()
            or any(c in target_uri for c in "\r\n\0")
            or not target_uri.startswith(("tel:", "sip:", "sips:"))
        ):
            raise ConfigurationError(
                f"refer: target_uri must be a tel:, sip: or sips: URI, got {target_uri!r}"
            )
        body = {"target_uri": target_uri}
        await self.post(self.call_url(api, call_id, "refer"), body, action="refer")

    async def hangup(self, api: Api, call_id: str) -> None:
        """End the call."""
        await self.post(self.call_url(api, call_id, "hangup"), None, action="hangup")

    async def create_live_session(self, body: Mapping[str, Any]) -> str:
        """``POST /live/sessions`` (an outbound call: see :func:`outbound_body`); the new
        session's id. Never retried: each request dials again."""
        response = await self.post(
            f"{self.api_base}/live/sessions", body, action="place_call", retry_stale=False
        )
        try:
            answer = json.loads(response.body)
            session_id = answer["session"]["id"]
        except (ValueError, KeyError, TypeError):
            raise CallControlError(
                "place_call: the answer holds no session.id",
                status=response.status,
                code=None,
                action="place_call",
            ) from None
        if not isinstance(session_id, str) or not session_id:
            raise CallControlError(
                "place_call: session.id is not a non-empty string",
                status=response.status,
                code=None,
                action="place_call",
            )
        return session_id


def _error_of(response: HttpResponse) -> tuple[str | None, str]:
    """The service's error ``code`` and ``message`` from an error answer's body."""
    try:
        body = json.loads(response.body)
    except ValueError:
        return None, ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, ""
    code = error.get("code")
    message = error.get("message")
    return (
        code if isinstance(code, str) else None,
        message if isinstance(message, str) else "",
    )
