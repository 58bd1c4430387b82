"""Phone numbers straight to the model: OpenAI SIP calls, inbound and outbound.

A carrier trunk points at OpenAI; OpenAI sends the app a signed webhook for each incoming
call, and the app accepts, rejects, refers or hangs up the call over REST and steers it over
a sideband WebSocket. No audio passes through the app.

- :mod:`rtsdk.sip.webhook`: :class:`WebhookVerifier` (Standard Webhooks signatures, a replay
  guard) and :class:`IncomingCall` (its SIP headers :class:`UntrustedSipHeader`);
- :class:`SipCall`: ``accept(options)`` returns a :class:`SipClient` attached over the
  sideband (the session features of any client: handlers, tools, delegation, transcripts,
  metrics; GPT-Live DTMF), ``reject``, ``refer``, ``hangup``; :func:`place_call` dials out
  on GPT-Live; :class:`CallControl` is the REST underneath;
- :class:`SipServer` / :class:`SipCallHandler`: a webhook server (``python -m rtsdk sip``).
"""

from __future__ import annotations

from .call import CallFailedError, SipCall, place_call
from .control import CallControl, CallControlError, CallGoneError, SipTrunk
from .server import SipCallHandler, SipServer
from .sideband import SipClient
from .webhook import (
    IncomingCall,
    UntrustedSipHeader,
    WebhookError,
    WebhookReplayError,
    WebhookSignatureError,
    WebhookVerifier,
    parse_incoming_call,
    sign_webhook,
)

__all__ = [
    "CallControl",
    "CallControlError",
    "CallFailedError",
    "CallGoneError",
    "IncomingCall",
    "SipCall",
    "SipCallHandler",
    "SipClient",
    "SipServer",
    "SipTrunk",
    "UntrustedSipHeader",
    "WebhookError",
    "WebhookReplayError",
    "WebhookSignatureError",
    "WebhookVerifier",
    "parse_incoming_call",
    "place_call",
    "sign_webhook",
]
