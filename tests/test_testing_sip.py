"""The local server's SIP side, part 1: webhook deliveries and the call-control REST.

Raw clients only (a bare asyncio webhook sink, ``http.client``), plus the ``openai`` 3.57
package as the independent check: its ``webhooks.unwrap`` must accept every delivery, and
its ``realtime.calls`` / ``live.sessions`` resources must drive the REST.
"""

from __future__ import annotations

import asyncio

import openai
import pytest
from openai import OpenAI

from rtsdk.exceptions import ConfigurationError
from rtsdk.testing import (
    SIP_ERRORS,
    LiveOptions,
    LocalRealtimeServer,
    SipOptions,
    new_webhook_secret,
    sign_webhook,
)
from tests.sip_local import AUTH, KEY, LIVE_MODEL, WebhookSink, assert_error, check_webhook, rest

SECRET = new_webhook_secret()


def make_server(url: str | None = None, **sip: object) -> LocalRealtimeServer:
    options = SipOptions(
        webhook_url=url, webhook_secret=SECRET if url else None, caller_pacing="fast", **sip
    )
    return LocalRealtimeServer(
        api_key=KEY, pacing="fast", live=LiveOptions(pacing="fast"), sip=options
    )


async def test_webhooks_are_signed_as_openai_checks_them() -> None:
    async with WebhookSink() as sink:
        server = make_server(sink.url, live_call_incoming=True, retry_delays=())
        async with server:
            headers = [{"name": "From", "value": "<sip:+14155550123@carrier.example>;tag=9"}]
            call = await server.sip.incoming_call(sip_headers=headers)
            seen = await sink.wait(3)
            await call.wait_deliveries(3)
    client = OpenAI(api_key="unused", webhook_secret=SECRET)
    events = {}
    for delivery in seen:
        event = client.webhooks.unwrap(delivery.body, delivery.headers)
        events[event.type] = event
        raw = check_webhook(delivery.body)  # strict against the openai types, no extra key
        assert raw["object"] == "event" and raw["id"].startswith("evt_")
        assert raw["data"]["sip_headers"] == headers
        assert delivery.headers["content-type"] == "application/json"
        assert delivery.headers["user-agent"].startswith("OpenAI/")
        assert delivery.headers["webhook-id"].startswith("wh_")
        assert delivery.headers["webhook-signature"].startswith("v1,")
        # another secret, a changed body, an old timestamp: refused by the openai client
        with pytest.raises(openai.InvalidWebhookSignatureError):
            client.webhooks.unwrap(delivery.body, delivery.headers, secret=new_webhook_secret())
        with pytest.raises(openai.InvalidWebhookSignatureError):
            client.webhooks.unwrap(delivery.body + b" ", delivery.headers)
        old = str(int(delivery.headers["webhook-timestamp"]) - 600)
        stale = {
            **delivery.headers,
            "webhook-timestamp": old,
            "webhook-signature": sign_webhook(
                SECRET, delivery.headers["webhook-id"], int(old), delivery.body
            ),
        }
        with pytest.raises(openai.InvalidWebhookSignatureError, match="too old"):
            client.webhooks.unwrap(delivery.body, stale)
    assert sorted(events) == [
        "live.call.incoming",
        "live.transport.incoming",
        "realtime.call.incoming",
    ]
    assert events["realtime.call.incoming"].data.call_id == call.call_id
    assert events["live.transport.incoming"].data.session_id == call.session_id
    assert events["live.transport.incoming"].data.type == "sip"
    assert events["live.call.incoming"].data.session_id == call.session_id
    assert call.call_id.startswith("rtc_") and call.session_id.startswith("live_")
    assert [d.status for d in call.deliveries] == [200, 200, 200]
    assert len({d.webhook_id for d in call.deliveries}) == 3


async def test_webhooks_are_retried_until_answered_2xx() -> None:
    async with WebhookSink(statuses=[500, 503]) as sink:
        server = make_server(sink.url, apis=("live",), retry_delays=(0.01, 0.01, 0.01))
        async with server:
            call = await server.sip.incoming_call()
            await call.wait_deliveries(3)
            seen = await sink.wait(3)
            await asyncio.sleep(0.05)
            assert [d.status for d in call.deliveries] == [500, 503, 200]
            assert [d.attempt for d in call.deliveries] == [1, 2, 3]
            assert len(sink.seen) == 3  # no retry after the 200
            assert len({r.headers["webhook-id"] for r in seen}) == 1  # one event, three tries
            assert {check_webhook(r.body)["type"] for r in seen} == {"live.transport.incoming"}
            # retries off: one attempt, whatever the answer
            sink.statuses[:] = [500]
            server.sip.options = SipOptions(
                webhook_url=sink.url, webhook_secret=SECRET, apis=("realtime",), retry_delays=()
            )
            second = await server.sip.incoming_call()
            await second.wait_deliveries(1)
            await asyncio.sleep(0.05)
            assert [d.status for d in second.deliveries] == [500]
        # nobody listening: each attempt says why, and retries are bounded
        server = make_server("http://127.0.0.1:9/hook", apis=("live",), retry_delays=(0.01,))
        async with server:
            third = await server.sip.incoming_call()
            attempts = await third.wait_deliveries(2)
            assert all(a.status is None and a.error for a in attempts)
            assert SECRET not in repr(attempts) and SECRET not in repr(server.sip.options)


def test_options_refuse_bad_values() -> None:
    with pytest.raises(ConfigurationError, match="webhook_secret"):
        SipOptions(webhook_url="http://127.0.0.1:1/x")
    with pytest.raises(ConfigurationError, match="whsec_"):
        SipOptions(webhook_url="http://127.0.0.1:1/x", webhook_secret="not-a-secret")
    with pytest.raises(ConfigurationError, match="base64"):
        SipOptions(webhook_url="http://127.0.0.1:1/x", webhook_secret="whsec_%%%%%%")
    with pytest.raises(ConfigurationError, match="http"):
        SipOptions(webhook_url="ftp://example.com", webhook_secret=SECRET)
    with pytest.raises(ConfigurationError, match="apis"):
        SipOptions(apis=("sip",))
    with pytest.raises(ConfigurationError, match="retry_delays"):
        SipOptions(retry_delays=(-1.0,))


async def test_realtime_call_control_answers_as_the_service() -> None:
    async with make_server() as server:
        port = server.port
        call = await server.sip.incoming_call()
        accept = f"/v1/realtime/calls/{call.call_id}/accept"
        # auth as on the WebSocket endpoints
        status, answer = await rest(port, accept, {"type": "realtime"}, headers={})
        assert status == 401 and answer["error"]["code"] is None
        status, answer = await rest(
            port, accept, {"type": "realtime"}, headers={"Authorization": "Bearer nope"}
        )
        assert status == 401 and answer["error"]["code"] == "invalid_api_key"
        # unknown ids, and the other API's id on this API
        for ident in ("rtc_nope", call.session_id):
            status, answer = await rest(port, f"/v1/realtime/calls/{ident}/accept", {})
            assert status == 404
            assert ident in assert_error(answer, None)["message"]
        # bad bodies: each named, nothing accepted
        for body, code, param in (
            (b"{not json", None, None),
            (b"[1]", "invalid_type", "body"),
            ({}, "missing_required_parameter", "type"),
            ({"type": "live"}, "invalid_value", "type"),
            ({"type": "realtime", "bogus": 1}, "unknown_parameter", "bogus"),
            (
                {"type": "realtime", "audio": {"output": {"voice": 3}}},
                "invalid_type",
                "audio.output.voice",
            ),
            (
                {"type": "realtime", "audio": {"output": {"speed": 9.0}}},
                "decimal_above_max_value",
                "audio.output.speed",
            ),
        ):
            status, answer = await rest(port, accept, body)
            assert status == 400, (body, answer)
            assert_error(answer, code, param, type_="invalid_request_error")
        assert call.state == "ringing" and call.line is None
        # accept: 200, no body; the call is answered on Realtime
        body = {"type": "realtime", "model": "gpt-realtime", "instructions": "Be brief."}
        assert await rest(port, accept, body) == (200, None)
        assert call.state == "accepted" and call.api == "realtime"
        assert call.line is not None and call.line.session["instructions"] == "Be brief."
        # the first decision won, on either API
        for path, body in (
            (accept, {"type": "realtime"}),
            (f"/v1/realtime/calls/{call.call_id}/reject", {}),
            (
                f"/v1/live/sessions/{call.session_id}/accept",
                {"session": {"type": "live", "model": LIVE_MODEL}},
            ),
            (f"/v1/live/sessions/{call.session_id}/reject", {"status_code": 486}),
        ):
            status, answer = await rest(port, path, body)
            assert status == 409, path
            assert_error(answer, "decision_already_made")
        # refer / hangup through the other API: not its call
        status, answer = await rest(port, f"/v1/live/sessions/{call.session_id}/hangup")
        assert status == 404
        refer = f"/v1/realtime/calls/{call.call_id}/refer"
        for body, code, param in (
            ({}, "missing_required_parameter", "target_uri"),
            ({"target_uri": "  "}, "invalid_value", "target_uri"),
            ({"target_uri": 5}, "invalid_type", "target_uri"),
            ({"target_uri": "tel:+1", "x": 1}, "unknown_parameter", "x"),
        ):
            status, answer = await rest(port, refer, body)
            assert status == 400
            assert_error(answer, code, param)
        assert await rest(port, refer, {"target_uri": "tel:+14155550123"}) == (200, None)
        assert call.state == "ended" and call.ended_by == "refer"
        assert call.referred_to == "tel:+14155550123"
        for action in ("hangup", "refer"):
            status, answer = await rest(
                port, f"/v1/realtime/calls/{call.call_id}/{action}", {"target_uri": "tel:+1"}
            )
            assert status == 404, action
        # a reject without a body declines with 603; one sent chunked is read too
        second = await server.sip.incoming_call()
        assert await rest(port, f"/v1/realtime/calls/{second.call_id}/reject") == (200, None)
        assert second.state == "rejected" and second.status_code == 603
        third = await server.sip.incoming_call()
        reject = f"/v1/realtime/calls/{third.call_id}/reject"
        assert await rest(port, reject, {"status_code": 486}, chunked=True) == (200, None)
        assert third.status_code == 486


async def test_live_call_control_and_paths() -> None:
    async with make_server() as server:
        port = server.port
        call = await server.sip.incoming_call()
        base = f"/v1/live/sessions/{call.session_id}"
        # a ringing call can only be decided
        for action in ("refer", "hangup"):
            status, answer = await rest(port, f"{base}/{action}", {"target_uri": "tel:+1"})
            assert status == 409
            assert_error(answer, "call_not_active")
        for body, code, param in (
            (None, "missing_required_parameter", "status_code"),
            ({"status_code": 200}, "integer_below_min_value", "status_code"),
            ({"status_code": 700}, "integer_above_max_value", "status_code"),
            ({"status_code": "486"}, "invalid_type", "status_code"),
        ):
            status, answer = await rest(port, f"{base}/reject", body)
            assert status == 400
            assert_error(answer, code, param)
        for body, code, param in (
            ({}, "missing_required_parameter", "session"),
            ({"session": {"model": LIVE_MODEL}}, "missing_required_parameter", "session.type"),
            ({"session": {"type": "live"}}, "missing_required_parameter", "session.model"),
            (
                {
                    "session": {
                        "type": "live",
                        "model": LIVE_MODEL,
                        "audio": {"format": {"type": "audio/pcm", "rate": 24000}},
                    }
                },
                "unknown_parameter",
                "session.audio.format",
            ),
            (
                {"session": {"type": "live", "model": LIVE_MODEL, "client": {}}},
                "unknown_parameter",
                "session.client",
            ),
            (
                {
                    "session": {
                        "type": "live",
                        "model": LIVE_MODEL,
                        "delegation": {
                            "type": "responses",
                            "responses": {"model": "m", "bogus": 1},
                        },
                    }
                },
                "unknown_parameter",
                "session.delegation.responses.bogus",
            ),
            ({"session": {"type": "live", "model": "gpt-realtime"}}, "model_not_found", None),
        ):
            status, answer = await rest(port, f"{base}/accept", body)
            assert status == 400, body
            assert_error(answer, code, param)
        assert call.state == "ringing"
        assert await rest(port, f"{base}/reject", {"status_code": 486}) == (200, None)
        assert call.state == "rejected" and call.status_code == 486 and call.ended_by == "app"
        status, answer = await rest(
            port, f"{base}/accept", {"session": {"type": "live", "model": LIVE_MODEL}}
        )
        assert status == 409
        assert "rejected" in assert_error(answer, "decision_already_made")["message"]
        # the caller hung up before anyone answered: 404 for both APIs
        missed = await server.sip.incoming_call()
        missed.hangup()
        assert missed.state == "missed"
        for path in (
            f"/v1/live/sessions/{missed.session_id}/accept",
            f"/v1/realtime/calls/{missed.call_id}/accept",
        ):
            status, answer = await rest(
                port, path, {"session": {"type": "live", "model": LIVE_MODEL}}
            )
            assert status == 404
            assert_error(answer, None)
        # ids are percent-decoded segment by segment; Azure's prefix and api-key header
        fourth = await server.sip.incoming_call()
        escaped = fourth.session_id.replace("_", "%5F")
        path = f"/openai/v1/live/sessions/{escaped}/accept"
        body = {"session": {"type": "live", "model": LIVE_MODEL, "instructions": "Hi."}}
        assert await rest(port, path, body, headers={"api-key": KEY}) == (200, None)
        assert fourth.api == "live" and fourth.line is not None
        assert fourth.line.session["instructions"] == "Hi."
        status, answer = await rest(port, "/v1/live/sessions/live%2F..%2Fx/accept", {})
        assert status == 404 and "live/../x" in answer["error"]["message"]
        # hangup: the call ends, the id is then unknown to control requests
        assert await rest(port, f"/v1/live/sessions/{escaped}/hangup") == (200, None)
        assert fourth.state == "ended" and fourth.ended_by == "app"
        assert (await rest(port, f"/v1/live/sessions/{fourth.session_id}/hangup"))[0] == 404
        # a hangup takes no body; unknown paths and methods; a body over the limit
        fifth = await server.sip.incoming_call()
        await rest(port, f"/v1/realtime/calls/{fifth.call_id}/accept", {"type": "realtime"})
        status, answer = await rest(
            port, f"/v1/realtime/calls/{fifth.call_id}/hangup", {"now": True}
        )
        assert status == 400
        assert_error(answer, "unknown_parameter", "now")
        status, answer = await rest(port, "/v1/realtime/calls/x/transfer", {})
        assert (
            status == 404
            and answer["error"]["message"] == "Invalid URL (POST /v1/realtime/calls/x/transfer)"
        )
        status, answer = await rest(
            port, f"/v1/realtime/calls/{fifth.call_id}/accept", method="PUT"
        )
        assert status == 404
        status, answer = await rest(
            port, "/v1/realtime/calls/x/accept", b"x" * (4 * 1024 * 1024 + 1)
        )
        assert status == 413
        assert_error(answer, None)
        assert fifth.state == "accepted"


async def test_the_openai_client_drives_call_control() -> None:
    async with make_server() as server:
        client = OpenAI(api_key=KEY, base_url=f"http://127.0.0.1:{server.port}/v1", max_retries=0)
        first = await server.sip.incoming_call()
        second = await server.sip.incoming_call()
        third = await server.sip.incoming_call()
        await asyncio.to_thread(
            client.realtime.calls.accept,
            first.call_id,
            type="realtime",
            model="gpt-realtime",
            instructions="Hello.",
        )
        assert first.api == "realtime"
        with pytest.raises(openai.ConflictError) as conflict:
            await asyncio.to_thread(
                client.live.sessions.accept,
                first.session_id,
                session={"type": "live", "model": LIVE_MODEL},
            )
        assert conflict.value.code == "decision_already_made"
        await asyncio.to_thread(client.realtime.calls.hangup, first.call_id)
        assert first.state == "ended"
        await asyncio.to_thread(client.live.sessions.reject, second.session_id, status_code=486)
        assert second.status_code == 486
        with pytest.raises(openai.BadRequestError) as bad:
            await asyncio.to_thread(client.live.sessions.reject, third.session_id, status_code=99)
        assert bad.value.code == "integer_below_min_value" and bad.value.param == "status_code"
        await asyncio.to_thread(
            client.live.sessions.accept,
            third.session_id,
            session={"type": "live", "model": LIVE_MODEL},
        )
        await asyncio.to_thread(
            client.live.sessions.refer, third.session_id, target_uri="sip:agent@example.com"
        )
        assert third.referred_to == "sip:agent@example.com"
        with pytest.raises(openai.NotFoundError):
            await asyncio.to_thread(client.live.sessions.hangup, third.session_id)


def test_every_sip_error_has_a_source() -> None:
    for entry in SIP_ERRORS.values():
        assert entry.source and entry.trigger, entry.key
    assert AUTH["Authorization"].endswith(KEY)


async def test_a_long_running_server_forgets_its_oldest_finished_calls() -> None:
    async with make_server(keep_calls=2) as server:
        first = await server.sip.incoming_call()
        assert await rest(server.port, f"/v1/realtime/calls/{first.call_id}/reject") == (200, None)
        second = await server.sip.incoming_call()  # two calls known: the first is kept
        status, answer = await rest(server.port, f"/v1/realtime/calls/{first.call_id}/accept", {})
        assert status == 409
        assert_error(answer, "decision_already_made")
        third = await server.sip.incoming_call()  # three: the finished first is forgotten
        status, answer = await rest(server.port, f"/v1/realtime/calls/{first.call_id}/accept", {})
        assert status == 404
        assert_error(answer, None)
        assert server.sip.calls == [second, third]  # ringing calls are never forgotten
        with pytest.raises(ConfigurationError, match="taken"):
            await server.sip.incoming_call(call_id=second.call_id)
        with pytest.raises(ConfigurationError, match="SIP header"):
            await server.sip.incoming_call(sip_headers=[{"name": "From"}])
        with pytest.raises(ConfigurationError, match="PCM16"):
            await server.sip.incoming_call(b"odd")
