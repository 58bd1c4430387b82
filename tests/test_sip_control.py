"""Call control over REST (rtsdk.sip.control, rtsdk.sip.http) against a recording stand-in."""

from __future__ import annotations

import asyncio
import logging

import pytest

from rtsdk import RealtimeAIOptions
from rtsdk.exceptions import ConfigurationError, ConnectionClosedError
from rtsdk.sip import (
    CallControl,
    CallControlError,
    CallGoneError,
    SipCall,
    SipTrunk,
    parse_incoming_call,
)
from rtsdk.sip.control import accept_body, outbound_body
from rtsdk.sip.http import HttpClient

from .sip_fakes import FakeRest

KEY = "sk-test-0123456789-secret"
ODD_ID = "rtc_a/b c?d#e%f"
ODD_PATH = "rtc_a%2Fb%20c%3Fd%23e%25f"


async def test_each_action_on_both_apis_with_escaped_ids_and_the_key_in_one_header() -> None:
    async with FakeRest() as rest:
        control = CallControl(api_key=KEY, api_base=rest.base, project="proj_1")
        await control.accept("realtime", ODD_ID, {"type": "realtime", "model": "gpt-realtime"})
        await control.reject("live", ODD_ID, 486)
        await control.refer("realtime", "rtc_1", "tel:+14155550123")
        await control.hangup("live", "live_1")
        await control.aclose()
    assert rest.paths() == [
        f"/v1/realtime/calls/{ODD_PATH}/accept",
        f"/v1/live/sessions/{ODD_PATH}/reject",
        "/v1/realtime/calls/rtc_1/refer",
        "/v1/live/sessions/live_1/hangup",
    ]
    accept, reject, refer, hangup = rest.seen
    assert accept.json == {"type": "realtime", "model": "gpt-realtime"}
    assert reject.json == {"status_code": 486} and refer.json == {"target_uri": "tel:+14155550123"}
    assert hangup.body == b"" and hangup.headers["content-length"] == "0"
    assert "content-type" not in hangup.headers
    for seen in rest.seen:
        assert seen.method == "POST" and seen.headers["authorization"] == f"Bearer {KEY}"
        assert seen.headers["openai-project"] == "proj_1"
    assert accept.headers["content-type"] == "application/json"
    # one connection for the four requests
    assert (control.http.opened, control.http.reused) == (1, 3)
    assert KEY not in repr(control) and "key=<set>" in repr(control)


async def test_refusals_carry_the_service_code_and_never_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeRest() as rest:
        rest.answers["/v1/realtime/calls/gone/accept"] = (
            404,
            {"error": {"message": "Call not found", "type": "invalid_request_error"}},
        )
        rest.answers["/v1/live/sessions/late/reject"] = (
            409,
            {"error": {"code": "decision_already_made", "message": "accepted already"}},
        )
        rest.answers["/v1/live/sessions/leak/hangup"] = (
            401,
            {"error": {"code": "invalid_api_key", "message": f"Incorrect API key: {KEY}"}},
        )
        control = CallControl(api_key=KEY, api_base=rest.base)
        with pytest.raises(CallGoneError, match="accept refused: HTTP 404: Call not found") as e:
            await control.accept("realtime", "gone", {})
        assert (e.value.status, e.value.code, e.value.action) == (404, None, "accept")
        with pytest.raises(CallControlError, match="409 decision_already_made") as e2:
            await control.reject("live", "late")
        assert e2.value.code == "decision_already_made"
        assert not isinstance(e2.value, CallGoneError)
        with pytest.raises(CallControlError, match=r"invalid_api_key: Incorrect API key: \*\*\*"):
            await control.hangup("live", "leak")
        await control.aclose()
    assert KEY not in caplog.text


async def test_bad_arguments_are_refused_before_anything_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="no API key"):
        CallControl()
    with pytest.raises(ConfigurationError, match="api_base must be an http"):
        CallControl(api_key=KEY, api_base="ws://x/v1")
    with pytest.raises(ConfigurationError, match="line breaks") as exc:
        CallControl(api_key="sk-a\r\nX-Evil: 1")
    assert "X-Evil" not in str(exc.value)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    control = CallControl()
    assert control.api_base == "http://127.0.0.1:9/v1" and control.api_key == KEY
    for status in (200, 299, 700, True):
        with pytest.raises(ConfigurationError, match="SIP status 300-699"):
            await control.reject("realtime", "rtc_1", status)  # type: ignore[arg-type]
    for target in ("", "https://x", "tel:+1\r\nX: y"):
        with pytest.raises(ConfigurationError, match="tel:, sip: or sips:"):
            await control.refer("realtime", "rtc_1", target)
    with pytest.raises(ConfigurationError, match="call id"):
        await control.hangup("live", "")
    assert control.http.opened == 0


def test_accept_bodies_come_from_the_session_settings_without_an_audio_format() -> None:
    tool = {"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}}
    realtime = RealtimeAIOptions(
        api_key=KEY,
        model="gpt-realtime-2.1",
        instructions="Be brief.",
        voice="marin",
        input_format="g711_ulaw",
        tools=[tool],
        transcription_model="gpt-transcribe",
    )
    body = accept_body(realtime)
    assert body["type"] == "realtime" and body["model"] == "gpt-realtime-2.1"
    assert body["instructions"] == "Be brief." and body["tools"] == [tool]
    assert body["audio"]["output"] == {"voice": "marin"}
    assert "format" not in body["audio"]["input"] and body["audio"]["input"]["transcription"]
    live = RealtimeAIOptions(api_key=KEY, model="gpt-live-1", instructions="Hi", voice="cedar")
    body = accept_body(live)
    assert body == {
        "session": {
            "type": "live",
            "model": "gpt-live-1",
            "instructions": "Hi",
            "audio": {"output": {"voice": "cedar"}},
        }
    }
    with pytest.raises(ConfigurationError, match="Realtime or GPT-Live"):
        accept_body(RealtimeAIOptions(api_key=KEY, session_type="transcription"))


def test_an_outbound_body_and_its_trunk() -> None:
    trunk = SipTrunk("sips:trunk.example.com", "user", "pa55word", "+14155550100")
    assert "pa55word" not in repr(trunk)
    settings = RealtimeAIOptions(api_key=KEY, model="gpt-live-1").live_settings()
    body = outbound_body(settings, "+442071838750", trunk)
    assert body["transport"] == {
        "type": "sip",
        "destination": "+442071838750",
        "trunk": {
            "provider_url": "sips:trunk.example.com",
            "auth": {"type": "digest", "username": "user", "password": "pa55word"},
            "caller_number": "+14155550100",
        },
    }
    assert body["session"] == {"model": "gpt-live-1"}  # no type, no audio format
    for bad in ("442071838750", "+0123", "+1" + "2" * 15, "tel:+1555"):
        with pytest.raises(ConfigurationError, match=r"E\.164"):
            outbound_body(settings, bad, trunk)
    for url in ("https://x", "sip:pbx.example.com"):
        with pytest.raises(ConfigurationError, match="must be a sips: URI"):
            SipTrunk(url, "u", "p", "+1555")
    with pytest.raises(ConfigurationError, match="caller_number"):
        SipTrunk("sips:x", "u", "p", "555")
    with pytest.raises(ConfigurationError, match="password"):
        SipTrunk("sips:x", "u", "", "+1555")


async def test_an_accept_answered_404_ends_the_call_quietly() -> None:
    async with FakeRest() as rest:
        rest.answers["/v1/live/sessions/live_gone/accept"] = (404, None)
        control = CallControl(api_key=KEY, api_base=rest.base)
        incoming = parse_incoming_call(
            {"type": "live.transport.incoming", "data": {"session_id": "live_gone"}}
        )
        assert incoming is not None
        call = SipCall.from_incoming(incoming, control)
        assert await call.accept(RealtimeAIOptions(api_key=KEY, model="gpt-live-1")) is None
        assert call.ended and call.ended_by == "remote" and call.state == "ended"
        assert call.client is not None and not call.client.is_connected  # never attached
        with pytest.raises(RuntimeError, match="accept: the call is ended"):
            await call.accept()
        await control.aclose()
    assert rest.paths() == ["/v1/live/sessions/live_gone/accept"]


async def test_a_call_is_answered_on_the_api_of_its_event() -> None:
    control = CallControl(api_key=KEY, api_base="http://127.0.0.1:9/v1")
    call = SipCall("realtime", "rtc_1", control)
    with pytest.raises(ConfigurationError, match="Realtime API but the options select 'live'"):
        call.prepare(RealtimeAIOptions(api_key=KEY, model="gpt-live-1"))
    with pytest.raises(ConfigurationError, match="not azure_endpoint"):
        call.prepare(
            RealtimeAIOptions(
                api_key=KEY, azure_endpoint="https://r.openai.azure.com", azure_deployment="d"
            )
        )


async def _idle_closer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers the first request on a connection, then closes it (an idle timeout)."""
    while await reader.readline() not in (b"\r\n", b""):
        pass
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    await writer.drain()
    writer.close()


async def test_a_connection_closed_while_idle_is_replaced_once_but_a_dial_never_retries() -> None:
    server = await asyncio.start_server(_idle_closer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    http = HttpClient(timeout=5)
    url = f"http://127.0.0.1:{port}/v1/x"
    for _ in range(3):  # each answer's connection is closed under the pool: a fresh one
        assert (await http.request("POST", url, body=b"{}")).status == 200
        await asyncio.sleep(0.05)
    assert http.opened == 3
    assert (await http.request("POST", url, body=b"{}", retry_stale=False)).status == 200
    assert http.opened == 4
    await http.close()
    server.close()
    await server.wait_closed()


async def test_a_dial_cut_before_its_answer_raises_and_is_sent_once() -> None:
    requests: list[bytes] = []

    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.readline())
        writer.close()

    server = await asyncio.start_server(cut, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    control = CallControl(api_key=KEY, api_base=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(ConnectionClosedError, match="without an answer") as exc:
        await control.create_live_session({"session": {}, "transport": {}})
    assert KEY not in str(exc.value)
    assert requests == [b"POST /v1/live/sessions HTTP/1.1\r\n"]
    server.close()
    await server.wait_closed()
