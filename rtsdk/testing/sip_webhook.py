"""Webhook deliveries as OpenAI sends them: Standard Webhooks signatures, retries.

Each delivery is a ``POST`` of one event (JSON) with the headers ``webhook-id`` (``wh_…``, the
same on every attempt of one event), ``webhook-timestamp`` (Unix seconds of the attempt) and
``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, keyed with
the decoded ``whsec_`` secret), as OpenAI's webhooks guide shows them and as
``openai.OpenAI(webhook_secret=...).webhooks.unwrap`` checks them (``lib/_webhooks.py`` of the
``openai`` 3.57 package), plus ``content-type: application/json`` and the service's
``user-agent``.

An answer other than 2xx, a refused connection or no answer within the timeout is retried
after each of ``retry_delays`` in turn (a webhook sender retries; OpenAI does so for up to
three days, this server a bounded, configurable number of times); every attempt is kept as a
:class:`Delivery`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import ConfigurationError
from .sip_http import http_post

__all__ = ["Delivery", "WebhookSender", "new_webhook_secret", "sign_webhook"]

log = logging.getLogger("rtsdk.testing.sip")

#: The ``user-agent`` of OpenAI's webhook deliveries (the realtime-sip guide's example).
USER_AGENT = "OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)"


def new_webhook_secret() -> str:
    """A fresh secret in OpenAI's form: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret (raises ``ConfigurationError`` otherwise;
    the message never holds the secret)."""
    if not isinstance(secret, str) or not secret.startswith("whsec_") or len(secret) < 10:
        raise ConfigurationError("a webhook secret must be 'whsec_' followed by base64 bytes")
    try:
        return base64.b64decode(secret[6:], validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError("the webhook secret after 'whsec_' is not valid base64") from None


def sign_webhook(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of one attempt: ``v1,<base64 HMAC-SHA256>``."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt to deliver one webhook event.

    ``status`` is the HTTP status of the answer (None when none came: ``error`` then says
    why, without the secret); ``attempt`` counts from 1; ``at`` is the wall time (Unix
    seconds) it was sent.
    """

    event_type: str
    event_id: str
    webhook_id: str
    attempt: int
    status: int | None
    error: str | None
    at: float

    @property
    def ok(self) -> bool:
        """True when the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


class WebhookSender:
    """Delivers events to one URL, signed with one secret (see the module docstring)."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        retry_delays: tuple[float, ...],
        timeout: float,
    ) -> None:
        secret_key(secret)  # refuse a bad secret now, not at the first call
        self.url = url
        self._secret = secret
        self.retry_delays = retry_delays
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"<WebhookSender {self.url} retries={len(self.retry_delays)}>"

    async def deliver(
        self, event: dict[str, Any], on_attempt: Callable[[Delivery], None] | None = None
    ) -> list[Delivery]:
        """Deliver ``event`` (attempts until one is answered 2xx or the retries are spent);
        return every attempt (``on_attempt`` is called with each as it is made)."""
        body = json.dumps(event, separators=(",", ":")).encode("utf-8")
        webhook_id = "wh_" + secrets.token_hex(16)
        attempts: list[Delivery] = []
        for attempt, delay in enumerate((0.0, *self.retry_delays), start=1):
            if delay:
                await asyncio.sleep(delay)
            timestamp = int(time.time())
            headers = {
                "content-type": "application/json",
                "user-agent": USER_AGENT,
                "webhook-id": webhook_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign_webhook(self._secret, webhook_id, timestamp, body),
            }
            status: int | None = None
            error: str | None = None
            try:
                status, _ = await http_post(self.url, body, headers, self.timeout)
            except (OSError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            except asyncio.TimeoutError:
                error = f"no answer within {self.timeout:g} s"
            delivery = Delivery(
                event_type=event["type"],
                event_id=event["id"],
                webhook_id=webhook_id,
                attempt=attempt,
                status=status,
                error=error,
                at=float(timestamp),
            )
            attempts.append(delivery)
            if on_attempt is not None:
                on_attempt(delivery)
            if delivery.ok:
                break
            log.debug("webhook %s attempt %d: %s", event["type"], attempt, error or status)
        return attempts
