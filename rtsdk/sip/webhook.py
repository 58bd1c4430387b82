"""Incoming-call webhooks: the Standard Webhooks signature, a replay guard, :class:`IncomingCall`.

OpenAI signs each delivery the Standard Webhooks way: three headers, ``webhook-id`` (the
delivery's id, the same on a retry), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (one or more ``v1,<base64>`` separated by spaces, one per secret during a
rotation); the signature is HMAC-SHA256 over ``"{id}.{timestamp}.{body}"`` keyed with the
base64 bytes after ``whsec_`` of the secret. :class:`WebhookVerifier` checks all of it (the
timestamp within ``tolerance`` seconds either way, each signature compared in constant time)
and, once a delivery is verified, refuses its ``webhook-id`` if it was already handled (a
bounded memory of recent ids: a retry of a handled delivery is a replay).

:func:`parse_incoming_call` turns ``realtime.call.incoming`` (Realtime: ``data.call_id``),
``live.transport.incoming`` and the deprecated ``live.call.incoming`` (GPT-Live:
``data.session_id``) into an :class:`IncomingCall`. Its SIP headers are
:class:`UntrustedSipHeader` values: the caller's equipment wrote them, anyone can put anything
there; route on them, never authorise on them.

The secret is never shown: not in a ``repr``, a log line or an exception message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rtsdk.exceptions import ConfigurationError, RtsdkError

__all__ = [
    "CALL_EVENT_TYPES",
    "IncomingCall",
    "UntrustedSipHeader",
    "WebhookError",
    "WebhookReplayError",
    "WebhookSignatureError",
    "WebhookVerifier",
    "parse_incoming_call",
    "sign_webhook",
]

#: The incoming-call event types, with the API each belongs to.
CALL_EVENT_TYPES: dict[str, Literal["realtime", "live"]] = {
    "realtime.call.incoming": "realtime",
    "live.transport.incoming": "live",
    "live.call.incoming": "live",  # deprecated: live.transport.incoming without data.type
}

#: Seconds a delivery's timestamp may differ from now (the Standard Webhooks default).
DEFAULT_TOLERANCE = 300
#: ``webhook-id`` values remembered by default (a retry of one of them is refused).
DEFAULT_REPLAY_MEMORY = 10_000
_MAX_SIGNATURES = 16  # more than a rotation ever needs; bounds the work per delivery


class WebhookError(RtsdkError):
    """A webhook delivery that cannot be accepted; the message says what was wrong.

    ``status``: the HTTP status to answer it with (400 unreadable, 401 not signed by us).
    """

    status = 400


class WebhookSignatureError(WebhookError):
    """A missing, malformed, stale or wrong signature (answer 401)."""

    status = 401


class WebhookReplayError(WebhookError):
    """A verified delivery whose ``webhook-id`` was already handled (a replay or a retry of a
    handled delivery: answer 200, do nothing)."""

    status = 200


def _secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret (a secret without the prefix: its UTF-8
    bytes, as the openai package does). The message never quotes the secret."""
    if not isinstance(secret, str) or not secret:
        raise ConfigurationError("the webhook secret must be a non-empty str (whsec_...)")
    if secret.startswith("whsec_"):
        try:
            key = base64.b64decode(secret[6:], validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError(
                "the webhook secret starts with whsec_ but the rest is not base64"
            ) from None
        if not key:
            raise ConfigurationError("the webhook secret whsec_ holds no key")
        return key
    return secret.encode()


def _signature(key: bytes, webhook_id: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode(), hashlib.sha256)
    mac.update(body)
    return base64.b64encode(mac.digest()).decode("ascii")


def sign_webhook(
    secret: str, webhook_id: str, body: bytes | str, *, timestamp: int | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers of a delivery of ``body`` (for tests and local
    servers: what OpenAI sends)."""
    raw = body.encode() if isinstance(body, str) else bytes(body)
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": ts,
        "webhook-signature": f"v1,{_signature(_secret_key(secret), webhook_id, ts, raw)}",
    }


class WebhookVerifier:
    """Checks deliveries against one secret (see the module docstring).

    ``secret``: the endpoint's ``whsec_...`` signing secret. ``tolerance``: seconds a
    timestamp may be off (either way). ``replay_memory``: how many handled ``webhook-id``
    values are remembered (the oldest forgotten first; a forgotten id is still refused once
    its timestamp is out of tolerance). ``clock``: Unix seconds (tests).
    """

    def __init__(
        self,
        secret: str,
        *,
        tolerance: int = DEFAULT_TOLERANCE,
        replay_memory: int = DEFAULT_REPLAY_MEMORY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = _secret_key(secret)
        if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance <= 0:
            raise ConfigurationError(f"tolerance must be a positive int (s), got {tolerance!r}")
        if (
            isinstance(replay_memory, bool)
            or not isinstance(replay_memory, int)
            or replay_memory < 1
        ):
            raise ConfigurationError(f"replay_memory must be an int >= 1, got {replay_memory!r}")
        self.tolerance = tolerance
        self.replay_memory = replay_memory
        self._clock = clock
        self._seen: OrderedDict[str, None] = OrderedDict()

    def __repr__(self) -> str:
        return (
            f"<WebhookVerifier secret=<set> tolerance={self.tolerance}s "
            f"remembered={len(self._seen)}/{self.replay_memory}>"
        )

    def verify(self, headers: Mapping[str, str], body: bytes) -> str:
        """Check the signature of one delivery; return its ``webhook-id``.

        ``headers``: the request headers (any case). Raises :class:`WebhookSignatureError`
        naming what is missing or wrong. Does not look at the replay memory (see
        :meth:`remember`)."""
        lower = {k.lower(): v for k, v in headers.items()}
        missing = [
            name
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
            if not lower.get(name)
        ]
        if missing:
            raise WebhookSignatureError(f"missing header(s): {', '.join(missing)}")
        webhook_id = lower["webhook-id"]
        stamp = lower["webhook-timestamp"].strip()
        if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
            raise WebhookSignatureError(f"webhook-timestamp is not Unix seconds: {stamp[:20]!r}")
        skew = int(self._clock()) - int(stamp)
        if skew > self.tolerance:
            raise WebhookSignatureError(
                f"webhook-timestamp is {skew} s old (more than {self.tolerance} s)"
            )
        if -skew > self.tolerance:
            raise WebhookSignatureError(
                f"webhook-timestamp is {-skew} s in the future (more than {self.tolerance} s)"
            )
        offered = lower["webhook-signature"].split()[:_MAX_SIGNATURES]
        expected = _signature(self._key, webhook_id, stamp, body).encode()
        matched = False
        for item in offered:
            version, _, value = item.partition(",")
            if version == "v1" and hmac.compare_digest(expected, value.encode()):
                matched = True  # no early exit: the same work whichever matched
        if not matched:
            v1 = sum(1 for item in offered if item.startswith("v1,"))
            raise WebhookSignatureError(
                f"no signature matches this secret ({v1} v1 signature(s) offered)"
            )
        return webhook_id

    def seen(self, webhook_id: str) -> bool:
        """True when ``webhook_id`` was remembered as handled."""
        return webhook_id in self._seen

    def remember(self, webhook_id: str) -> None:
        """Mark ``webhook_id`` as handled (the oldest id is forgotten past the memory)."""
        self._seen[webhook_id] = None
        self._seen.move_to_end(webhook_id)
        while len(self._seen) > self.replay_memory:
            self._seen.popitem(last=False)

    def forget(self, webhook_id: str) -> None:
        """Unmark ``webhook_id`` (its handling failed: OpenAI's retry may try again)."""
        self._seen.pop(webhook_id, None)

    def unwrap(self, headers: Mapping[str, str], body: bytes) -> tuple[str, dict[str, Any]]:
        """Verify, refuse a replay, and parse the body: ``(webhook_id, event)``.

        Raises :class:`WebhookSignatureError`, :class:`WebhookReplayError` (verified but
        already handled) or :class:`WebhookError` (not a JSON object with a string ``type``).
        The id is remembered once this returns; call :meth:`forget` if handling then fails."""
        webhook_id = self.verify(headers, body)
        if webhook_id in self._seen:
            raise WebhookReplayError(f"webhook-id {webhook_id[:80]!r} was already handled")
        try:
            event = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise WebhookError("the body is not JSON") from None
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise WebhookError("the body is not an event object with a string 'type'")
        self.remember(webhook_id)
        return webhook_id, event


@dataclass(frozen=True, slots=True)
class UntrustedSipHeader:
    """One header of the caller's SIP INVITE, as OpenAI passed it on. UNTRUSTED: whoever
    placed the call chose it (``From`` and ``P-Asserted-Identity`` included, unless your
    carrier vouches for them); route or greet on it, never grant access on it."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class IncomingCall:
    """A call waiting for a decision (accept, reject, refer), from one webhook event.

    ``api``: ``"realtime"`` (from ``realtime.call.incoming``: ``id`` is its ``call_id``) or
    ``"live"`` (``live.transport.incoming`` / ``live.call.incoming``: ``id`` is its
    ``session_id``). OpenAI sends both for one call (with different ids); the first accept
    decides which API answers it. ``sip_headers``: the INVITE's headers in order, repeats
    kept, each an :class:`UntrustedSipHeader`. ``media_security``: ``"srtp"``, ``"rtp"``, or
    another or no value (unknown). ``event``: the whole event as received.
    """

    api: Literal["realtime", "live"]
    id: str
    event_type: str
    webhook_id: str
    sip_headers: tuple[UntrustedSipHeader, ...] = ()
    media_security: str | None = None
    created_at: int | None = None
    event: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None. UNTRUSTED (see
        :class:`UntrustedSipHeader`)."""
        wanted = name.lower()
        for h in self.sip_headers:
            if h.name.lower() == wanted:
                return h.value
        return None


def parse_incoming_call(event: Mapping[str, Any], webhook_id: str = "") -> IncomingCall | None:
    """The :class:`IncomingCall` of an incoming-call event; None for any other event type.

    Raises :class:`WebhookError` naming the field when an incoming-call event lacks its id
    or has malformed SIP headers."""
    kind = event.get("type")
    api = CALL_EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if api is None:
        return None
    assert isinstance(kind, str)
    data = event.get("data")
    if not isinstance(data, dict):
        raise WebhookError(f"{kind}: data is not an object")
    key = "call_id" if api == "realtime" else "session_id"
    call_id = data.get(key)
    if not isinstance(call_id, str) or not call_id:
        raise WebhookError(f"{kind}: data.{key} is missing or not a non-empty string")
    if kind == "live.transport.incoming" and data.get("type", "sip") != "sip":
        raise WebhookError(f"{kind}: data.type is {data.get('type')!r}, not 'sip'")
    raw = data.get("sip_headers", [])
    if not isinstance(raw, list):
        raise WebhookError(f"{kind}: data.sip_headers is not a list")
    headers = []
    for i, h in enumerate(raw):
        if (
            not isinstance(h, dict)
            or not isinstance(h.get("name"), str)
            or not isinstance(h.get("value"), str)
        ):
            raise WebhookError(f"{kind}: data.sip_headers[{i}] is not a {{name, value}} pair")
        headers.append(UntrustedSipHeader(h["name"], h["value"]))
    security = data.get("sip_media_security")
    created = event.get("created_at")
    return IncomingCall(
        api=api,
        id=call_id,
        event_type=kind,
        webhook_id=webhook_id,
        sip_headers=tuple(headers),
        media_security=security if isinstance(security, str) else None,
        created_at=created if isinstance(created, int) and not isinstance(created, bool) else None,
        event=dict(event),
    )
