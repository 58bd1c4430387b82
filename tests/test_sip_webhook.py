"""Webhook verification (Standard Webhooks) and incoming-call parsing: rtsdk.sip.webhook."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from rtsdk.exceptions import ConfigurationError
from rtsdk.sip import (
    IncomingCall,
    UntrustedSipHeader,
    WebhookError,
    WebhookReplayError,
    WebhookSignatureError,
    WebhookVerifier,
    parse_incoming_call,
    sign_webhook,
)

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"z" * 32).decode()
NOW = 1_800_000_000


def _event(kind: str = "realtime.call.incoming", **data: object) -> bytes:
    payload = {"id": "evt_1", "object": "event", "created_at": NOW, "type": kind, "data": data}
    return json.dumps(payload).encode()


def _verifier(**kw: object) -> WebhookVerifier:
    return WebhookVerifier(SECRET, clock=lambda: NOW, **kw)  # type: ignore[arg-type]


def test_a_signed_delivery_unwraps_and_a_replay_is_refused() -> None:
    v = _verifier()
    body = _event(call_id="rtc_1", sip_headers=[{"name": "From", "value": "<sip:+1555@x>"}])
    headers = sign_webhook(SECRET, "wh_1", body, timestamp=NOW)
    webhook_id, event = v.unwrap(headers, body)
    assert webhook_id == "wh_1" and event["data"]["call_id"] == "rtc_1"
    with pytest.raises(WebhookReplayError, match=r"wh_1.*already handled") as exc:
        v.unwrap(headers, body)
    assert exc.value.status == 200
    # header names in any case
    upper = {k.upper(): val for k, val in sign_webhook(SECRET, "wh_2", body, timestamp=NOW).items()}
    assert v.unwrap(upper, body)[0] == "wh_2"
    v.forget("wh_2")  # a failed handling: the retry may try again
    assert v.unwrap(upper, body)[0] == "wh_2"


@pytest.mark.parametrize(
    ("sign_at", "change", "match"),
    [
        (NOW, {"webhook-signature": None}, "missing header.*webhook-signature"),
        (NOW, {"webhook-id": None, "webhook-timestamp": None}, "webhook-id, webhook-timestamp"),
        (NOW - 600, {}, "600 s old"),  # correctly signed, 10 minutes ago
        (NOW + 301, {}, "301 s in the future"),
        (NOW, {"webhook-timestamp": "12.5"}, "not Unix seconds"),
        (NOW, {"webhook-signature": "v1,AAAA"}, "no signature matches.*1 v1"),
        (NOW, {"webhook-signature": "v2,abc"}, "0 v1 signature"),
        (NOW, {"webhook-id": "wh_other"}, "no signature matches"),
    ],
)
def test_a_bad_delivery_is_refused_naming_what_is_wrong(
    sign_at: int, change: dict[str, str | None], match: str
) -> None:
    body = _event(call_id="rtc_1")
    headers: dict[str, str] = sign_webhook(SECRET, "wh_1", body, timestamp=sign_at)
    for name, value in change.items():
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    v = _verifier()
    with pytest.raises(WebhookSignatureError, match=match) as exc:
        v.unwrap(headers, body)
    assert exc.value.status == 401
    assert SECRET not in str(exc.value) and SECRET[6:] not in str(exc.value)
    assert not v.seen("wh_1")


def test_the_tolerance_holds_both_ways_and_a_tampered_body_fails() -> None:
    body = _event(call_id="rtc_1")
    v = _verifier()
    assert v.verify(sign_webhook(SECRET, "a", body, timestamp=NOW - 300), body) == "a"
    assert v.verify(sign_webhook(SECRET, "b", body, timestamp=NOW + 300), body) == "b"
    headers = sign_webhook(SECRET, "c", body, timestamp=NOW)
    with pytest.raises(WebhookSignatureError):
        v.verify(headers, body + b" ")
    with pytest.raises(WebhookSignatureError):
        WebhookVerifier(OTHER, clock=lambda: NOW).verify(headers, body)


def test_several_signatures_in_one_header_any_may_match() -> None:
    """During a secret rotation the header holds one signature per secret."""
    body = _event(call_id="rtc_1")
    old = sign_webhook(OTHER, "wh_9", body, timestamp=NOW)["webhook-signature"]
    new = sign_webhook(SECRET, "wh_9", body, timestamp=NOW)
    new["webhook-signature"] = f"{old} {new['webhook-signature']}"
    assert _verifier().verify(new, body) == "wh_9"
    new["webhook-signature"] = f"{new['webhook-signature'].split()[1]} {old}"
    assert _verifier().verify(new, body) == "wh_9"


def test_the_openai_package_agrees_with_our_signing() -> None:
    """An independent check: openai 3.57's verifier accepts what sign_webhook makes and
    refuses what ours refuses."""
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(api_key="sk-unused", webhook_secret=SECRET)
    body = _event("live.transport.incoming", session_id="live_1", type="sip", sip_headers=[])
    headers = sign_webhook(SECRET, "wh_5", body)
    event = client.webhooks.unwrap(body, headers)
    assert event.type == "live.transport.incoming"
    assert WebhookVerifier(SECRET).verify(headers, body) == "wh_5"
    bad = dict(headers, **{"webhook-id": "wh_6"})
    with pytest.raises(openai.InvalidWebhookSignatureError):
        client.webhooks.unwrap(body, bad)
    with pytest.raises(WebhookSignatureError):
        WebhookVerifier(SECRET).verify(bad, body)


def test_a_body_that_is_not_a_json_event_is_a_400_after_the_signature() -> None:
    v = _verifier()
    cases = ((b"not json", "not JSON"), (b"[1, 2]", "event object"), (b'{"a":1}', "string .type."))
    for body, match in cases:
        headers = sign_webhook(SECRET, f"wh_{len(body)}", body, timestamp=NOW)
        with pytest.raises(WebhookError, match=match) as exc:
            v.unwrap(headers, body)
        assert exc.value.status == 400 and not isinstance(exc.value, WebhookSignatureError)
        assert not v.seen(f"wh_{len(body)}")  # nothing was handled
    # an unsigned body is refused for its signature first, whatever it holds
    with pytest.raises(WebhookSignatureError):
        v.unwrap({}, b"not json")


def test_the_replay_memory_is_bounded() -> None:
    v = _verifier(replay_memory=3)
    body = _event(call_id="rtc_1")
    for i in range(5):
        v.unwrap(sign_webhook(SECRET, f"wh_{i}", body, timestamp=NOW), body)
    assert [v.seen(f"wh_{i}") for i in range(5)] == [False, False, True, True, True]
    assert "remembered=3/3" in repr(v)


def test_the_secret_is_checked_and_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for bad in ("", "whsec_***not-base64***", "whsec_"):
        with pytest.raises(ConfigurationError, match="webhook secret") as exc:
            WebhookVerifier(bad)
        assert "not-base64" not in str(exc.value)
    with pytest.raises(ConfigurationError, match="tolerance"):
        WebhookVerifier(SECRET, tolerance=0)
    with pytest.raises(ConfigurationError, match="replay_memory"):
        WebhookVerifier(SECRET, replay_memory=0)
    v = WebhookVerifier(SECRET)
    assert SECRET[6:] not in repr(v) and "secret=<set>" in repr(v)
    assert SECRET[6:] not in caplog.text


def test_incoming_calls_of_both_apis_and_the_deprecated_event() -> None:
    headers = [
        {"name": "From", "value": '"Eve" <sip:+15550001@carrier>'},
        {"name": "X-Account", "value": "42"},
        {"name": "x-account", "value": "43"},
    ]
    rt = parse_incoming_call(
        json.loads(_event(call_id="rtc_1", sip_headers=headers, sip_media_security="srtp")), "w1"
    )
    assert isinstance(rt, IncomingCall)
    assert (rt.api, rt.id, rt.webhook_id, rt.media_security) == ("realtime", "rtc_1", "w1", "srtp")
    assert rt.sip_headers[0] == UntrustedSipHeader("From", '"Eve" <sip:+15550001@carrier>')
    assert len(rt.sip_headers) == 3 and rt.header("X-ACCOUNT") == "42"  # first of repeats
    assert rt.created_at == NOW and rt.event["type"] == "realtime.call.incoming"
    assert "event=" not in repr(rt)  # the raw event stays out of reprs
    live = parse_incoming_call(
        json.loads(_event("live.transport.incoming", session_id="live_1", type="sip"))
    )
    assert live is not None and (live.api, live.id, live.sip_headers) == ("live", "live_1", ())
    old = parse_incoming_call(json.loads(_event("live.call.incoming", session_id="live_2")))
    assert old is not None and (old.api, old.id, old.event_type) == (
        "live",
        "live_2",
        "live.call.incoming",
    )
    assert parse_incoming_call({"type": "response.completed", "data": {}}) is None
    assert parse_incoming_call({"type": 5}) is None


@pytest.mark.parametrize(
    ("event", "match"),
    [
        ({"type": "realtime.call.incoming"}, "data is not an object"),
        ({"type": "realtime.call.incoming", "data": {"session_id": "x"}}, "data.call_id"),
        ({"type": "live.transport.incoming", "data": {"call_id": "x"}}, "data.session_id"),
        (
            {"type": "live.transport.incoming", "data": {"session_id": "x", "type": "webrtc"}},
            "not 'sip'",
        ),
        (
            {"type": "realtime.call.incoming", "data": {"call_id": "x", "sip_headers": {}}},
            "sip_headers is not a list",
        ),
        (
            {"type": "realtime.call.incoming", "data": {"call_id": "x", "sip_headers": [{}]}},
            r"sip_headers\[0\]",
        ),
    ],
)
def test_a_malformed_incoming_call_names_the_field(event: dict, match: str) -> None:
    with pytest.raises(WebhookError, match=match):
        parse_incoming_call(event)
