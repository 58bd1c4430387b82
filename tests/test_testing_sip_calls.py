"""The local server's SIP side, part 2: sidebands, the simulated caller, outbound calls.

Raw websockets sidebands and ``http.client`` requests; every frame a sideband receives is
validated strictly against the ``openai`` 3.57 types (GPT-Live: ``ConnectServerEvent``, the
Responses events inside ``response.event`` against ``ResponseStreamEvent``; Realtime: the GA
server events), with no key the types do not declare.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any
from urllib.parse import quote

import pytest
import websockets
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from rtsdk.testing import Faults, LiveOptions, LocalRealtimeServer, SipOptions
from tests.conftest import REALTIME_ONCE
from tests.sip_local import (
    LIVE_MODEL,
    Sideband,
    assert_error,
    check_live_sideband,
    check_realtime_sideband,
    level,
    no_extra,
    rest,
    tone,
)

RESPONSE_EVENT: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def make_server(*, live_pacing: str = "fast", **sip: Any) -> LocalRealtimeServer:
    return LocalRealtimeServer(
        api_key="sk-local-sip",
        pacing="fast",
        live=LiveOptions(pacing=live_pacing, usage_interval_s=0.3),
        sip=SipOptions(caller_pacing="fast", **sip),
    )


def live_frames_valid(*sidebands: Sideband) -> None:
    for sideband in sidebands:
        for frame in sideband.frames:
            check_live_sideband(frame)
            if frame["type"] == "response.event":
                no_extra(RESPONSE_EVENT.validate_python(frame["event"]), "response.event")


def attach_url(server: LocalRealtimeServer, session_id: str, query: str = "") -> str:
    """The sideband URL (the id escaped as one path segment)."""
    ident = quote(session_id, safe="")
    return f"{server.base_url}/live/sessions/{ident}/attach{query}"


async def accept_live(server: LocalRealtimeServer, session_id: str, **session: Any) -> None:
    body = {"session": {"type": "live", "model": LIVE_MODEL, **session}}
    assert await rest(server.port, f"/v1/live/sessions/{session_id}/accept", body) == (200, None)


async def test_live_call_echo_dtmf_replay_and_the_callers_hangup() -> None:
    async with make_server() as server:
        call = await server.sip.incoming_call(
            tone(600), call_id="rtc_a/b c?d", session_id="live_x/y%z"
        )
        await accept_live(server, "live_x%2Fy%25z", instructions="Answer the phone.")
        assert call.accepted_with == {
            "session": {"type": "live", "model": LIVE_MODEL, "instructions": "Answer the phone."}
        }
        first = await Sideband.attach(attach_url(server, "live_x/y%z", "?graceful_close=true"))
        started = await first.until("session.started")  # replayed: the accept was just now
        assert started["session"]["instructions"] == "Answer the phone."
        assert started["session"]["audio"]["format"] == {"type": "audio/pcm", "rate": 24000}
        # the caller's 600 ms are heard, echoed to the phone and reflected to the sideband
        heard = await first.until("session.input_transcript.delta")
        assert heard["end_ms"] - heard["start_ms"] == 600
        await call.wait_recording(600)
        assert level(call.recording[: 48 * 600]) > 0.1
        await first.until("session.output_audio.delta")
        ranges = [(f["start_ms"], f["end_ms"]) for f in first.of("session.output_audio.delta")]
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(ranges))  # in order, no overlap
        assert first.of("session.input_audio.append")  # the caller's audio, reflected
        # DTMF both ways
        call.press("5#")
        assert (await first.until("transport.dtmf.received", 2))["event"] == "#"
        await first.send({"type": "transport.dtmf.send", "event": "9", "event_id": "k1"})
        sent = await first.until("transport.dtmf.sent")
        assert (sent["event"], sent["client_event_id"]) == ("9", "k1")
        assert await call.wait_dtmf(1) == ["9"]
        # what a sideband may not send, and a bad key: errors to it alone
        second = await Sideband.attach(attach_url(server, call.session_id))
        await first.send({"type": "session.start", "event_id": "s1", "session": {}})
        error = await first.until("error")
        assert (error["error"]["code"], error["error"]["param"], error["client_event_id"]) == (
            "invalid_value",
            "type",
            "s1",
        )
        await first.send({"type": "session.input_audio.append", "audio": "AAAA"})
        await first.send({"type": "transport.dtmf.send", "event": "99", "event_id": "k2"})
        error = await first.until("error", 3)
        assert (error["error"]["param"], error["client_event_id"]) == ("event", "k2")
        # the second sideband got the replay (the same events, by event_id) and none of those errors
        replayed = {f.get("event_id") for f in second.frames if "event_id" in f}
        assert started["event_id"] in replayed
        assert not second.of("error")
        # a commentary is acked and spoken down the line
        before = call.recording_ms
        await second.send(
            {"type": "session.commentary.append", "event_id": "c1", "content": "Hello caller.",
             "delegation_id": None}
        )  # fmt: skip
        assert (await second.until("session.commentary.appended"))["client_event_id"] == "c1"
        await call.wait_recording(before + 300)
        await first.until("session.commentary.appended")  # acks go to every sideband
        # one sideband leaving does not end the call
        await first.close()
        await asyncio.sleep(0.05)
        assert call.state == "accepted"
        call.hangup()
        closed = await second.until("session.closed")
        assert closed["reason"] == "remote_hangup"
        assert await second.closed() == 1000
        assert (call.state, call.ended_by) == ("ended", "caller")
        live_frames_valid(first, second)
        with pytest.raises(Exception, match="404"):
            await Sideband.attach(attach_url(server, "live_x/y%z"))


async def test_live_call_delegates_a_tool_and_speaks_its_answer() -> None:
    async with make_server() as server:
        server.script_delegation(heard="What is the weather in Paris?")
        server.script_function_call(
            name="get_weather", arguments={"city": "Paris"}, when_text_contains="weather"
        )
        call = await server.sip.incoming_call(tone(400))
        responses = {"model": "gpt-5.6-luna", "instructions": "Use the tools.", "tools": [WEATHER]}
        await accept_live(
            server, call.session_id, delegation={"type": "responses", "responses": responses}
        )
        sideband = await Sideband.attach(attach_url(server, call.session_id))
        created = (await sideband.until("session.delegation.created"))["delegation"]
        n = 0
        while True:
            n += 1
            event = (await sideband.until("response.event", n))["event"]
            if (
                event["type"] == "response.output_item.done"
                and event["item"]["type"] == "function_call"
            ):
                break
        item = event["item"]
        assert json.loads(item["arguments"]) == {"city": "Paris"}
        output = {"type": "function_call_output", "call_id": item["call_id"], "output": "sunny"}
        await sideband.send({"type": "response.item.create", "item": output})
        await sideband.send({"type": "response.create"})
        said = ""
        for _ in range(200):
            said = "".join(f["delta"] for f in sideband.of("session.output_transcript.delta"))
            if "get_weather returned sunny" in said:
                break
            await asyncio.sleep(0.02)
        assert "get_weather returned sunny" in said, said
        assert created["target"] == "responses"
        await call.wait_recording(1000)  # the acknowledgement and the answer, spoken to the phone
        assert await rest(server.port, f"/v1/live/sessions/{call.session_id}/hangup") == (200, None)
        assert (await sideband.until("session.closed"))["reason"] == "close_requested"
        assert await sideband.closed() == 1000
        assert call.ended_by == "app"
        live_frames_valid(sideband)


@REALTIME_ONCE  # real-time pacing: it tests the timing of a call, not the kernels
async def test_the_caller_hangs_up_mid_reply() -> None:
    # the model speaks in real time here: the reply takes its length to play
    async with make_server(live_pacing="realtime") as server:
        call = await server.sip.incoming_call(tone(800))
        await accept_live(server, call.session_id)
        sideband = await Sideband.attach(attach_url(server, call.session_id))
        await call.wait_recording(120, timeout=5)
        call.hangup()
        assert (await sideband.until("session.closed"))["reason"] == "remote_hangup"
        heard = call.recording_ms
        await asyncio.sleep(0.3)
        assert call.recording_ms == heard < 800  # cut short, and nothing after the hangup
        live_frames_valid(sideband)


async def test_realtime_call_tool_round_trip_and_app_hangup() -> None:
    async with make_server() as server:
        server.script_function_call(name="get_weather", arguments={"city": "Paris"})
        call = await server.sip.incoming_call(call_id="rtc_a/b c?d")
        body = {"type": "realtime", "instructions": "Be brief.", "tools": [WEATHER]}
        path = "/v1/realtime/calls/rtc_a%2Fb%20c%3Fd/accept"
        assert await rest(server.port, path, body) == (200, None)
        url = f"{server.url}?call_id=rtc_a%2Fb%20c%3Fd"
        sideband = await Sideband.attach(url)
        created = await sideband.until("session.created")
        assert sideband.frames[0] is created and created["session"]["instructions"] == "Be brief."
        assert created["session"]["tools"][0]["name"] == "get_weather"
        call.say(tone(600))  # once the sideband listens (a Realtime sideband gets no replay)
        done = await sideband.until("response.function_call_arguments.done")
        await sideband.until("response.done")
        output = {"type": "function_call_output", "call_id": done["call_id"], "output": "sunny"}
        await sideband.send({"type": "conversation.item.create", "item": output})
        await sideband.send({"type": "response.create"})
        await sideband.until("response.done", 2)
        stopped = await sideband.until("output_audio_buffer.stopped")
        started = sideband.of("output_audio_buffer.started")
        assert started and started[-1]["response_id"] == stopped["response_id"]
        assert call.recording_ms > 300 and level(call.recording) > 0.01
        call.press("7")
        dtmf = await sideband.until("input_audio_buffer.dtmf_event_received")
        assert dtmf["event"] == "7" and isinstance(dtmf["received_at"], int)
        # a second sideband starts with session.created too; errors go to their sender
        other = await Sideband.attach(url)
        await other.until("session.created")
        await other.send({"type": "response.cancel", "event_id": "x1"})
        assert (await other.until("error"))["error"]["event_id"] == "x1"
        await asyncio.sleep(0.05)
        assert not sideband.of("error")
        assert await rest(server.port, "/v1/realtime/calls/rtc_a%2Fb%20c%3Fd/hangup") == (200, None)
        assert await sideband.closed() == 1000 and await other.closed() == 1000
        assert (call.state, call.ended_by) == ("ended", "app")
        for frame in sideband.frames + other.frames:
            check_realtime_sideband(frame)
        with pytest.raises(Exception, match="404"):
            await Sideband.attach(url)


async def test_sideband_upgrades_are_refused_when_they_must_be() -> None:
    async with make_server() as server:
        call = await server.sip.incoming_call()
        for url in (
            attach_url(server, "live_nope"),
            attach_url(server, call.session_id),  # ringing: no session yet
            f"{server.url}?call_id={call.call_id}",
        ):
            with pytest.raises(Exception, match="404"):
                await Sideband.attach(url)
        await accept_live(server, call.session_id)
        with pytest.raises(Exception, match="404"):  # accepted on GPT-Live, not on Realtime
            await Sideband.attach(f"{server.url}?call_id={call.call_id}")
        with pytest.raises(websockets.InvalidStatus) as refused:
            await Sideband.attach(attach_url(server, call.session_id, "?graceful_close=maybe"))
        assert refused.value.response.status_code == 400
        assert_error(json.loads(refused.value.response.body), "invalid_value")
        with pytest.raises(websockets.InvalidStatus) as refused:
            await Sideband.attach(attach_url(server, "live_nope"))
        error = assert_error(json.loads(refused.value.response.body), None)
        assert "live_nope" in error["message"]
        with pytest.raises(Exception, match="401"):
            await Sideband.attach(attach_url(server, call.session_id), {"api-key": "wrong"})
        ok = await Sideband.attach(attach_url(server, call.session_id), {"api-key": "sk-local-sip"})
        await ok.until("session.started")
        await ok.close()
        # faults apply to sidebands as to any connection: a drop leaves the call up
        server.faults_for_next_connections(Faults(drop_after_frames=1))
        dropped = await Sideband.attach(attach_url(server, call.session_id))
        assert await dropped.closed() == 1006
        assert call.state == "accepted"
        server.faults_for_next_connections(Faults(session_max_seconds=0.05))
        expiring = await Sideband.attach(attach_url(server, call.session_id))
        assert (await expiring.until("session.closed"))["reason"] == "expired"
        assert await expiring.closed() == 1000
        assert (call.state, call.ended_by) == ("ended", "session")
        live_frames_valid(expiring)


TRUNK = {
    "provider_url": "sips:pbx.example.com:5061;transport=tcp",
    "auth": {"type": "digest", "username": "agent", "password": "secret"},
    "caller_number": "+14155550100",
}


def outbound(**transport: Any) -> dict[str, Any]:
    body = {"type": "sip", "destination": "+14155550123", "trunk": TRUNK, **transport}
    return {"session": {"model": LIVE_MODEL, "instructions": "Call them."}, "transport": body}


async def test_outbound_calls_ring_answer_and_fail_on_command() -> None:
    async with make_server(ring_timeout_s=0.3) as server:
        port = server.port
        for body, code, param in (
            (outbound(destination="0800 123"), "invalid_value", "transport.destination"),
            (outbound(destination="sip:bob@example.com"), "invalid_value", "transport.destination"),
            (
                outbound(trunk={**TRUNK, "provider_url": "sip:pbx.example.com"}),
                "invalid_value",
                "transport.trunk.provider_url",
            ),
            (
                outbound(trunk={**TRUNK, "provider_url": "sips:127.0.0.1"}),
                "invalid_value",
                "transport.trunk.provider_url",
            ),
            (
                outbound(trunk={**TRUNK, "provider_url": "sips:user@pbx.example.com"}),
                "invalid_value",
                "transport.trunk.provider_url",
            ),
            (
                outbound(trunk={**TRUNK, "auth": {"type": "digest", "username": "a"}}),
                "missing_required_parameter",
                "transport.trunk.auth.password",
            ),
            (
                outbound(
                    trunk={**TRUNK, "auth": {"type": "basic", "username": "a", "password": "b"}}
                ),
                "invalid_value",
                "transport.trunk.auth.type",
            ),
            (outbound(type="webrtc"), "invalid_value", "transport.type"),
            (
                {
                    "session": {
                        "model": LIVE_MODEL,
                        "audio": {"format": {"type": "audio/pcmu", "rate": 8000}},
                    },
                    "transport": outbound()["transport"],
                },
                "unknown_parameter",
                "session.audio.format",
            ),
            ({"session": {"model": LIVE_MODEL}}, "missing_required_parameter", "transport"),
        ):
            status, answer = await rest(port, "/v1/live/sessions", body)
            assert status == 400, body
            assert_error(answer, code, param)
        assert server.sip.calls == []
        server.sip.fail_next_outbound(502)
        server.sip.fail_next_outbound(504)
        for status_code, code in ((502, "sip_setup_failed"), (504, "sip_setup_timeout")):
            status, answer = await rest(port, "/v1/live/sessions", outbound())
            assert status == status_code
            assert_error(answer, code, type_="server_error")
        # ring, answer: the callee's speech is heard and answered
        status, answer = await rest(port, "/v1/live/sessions", outbound())
        assert status == 200 and answer["transport"] == {"type": "sip"}
        assert set(answer) == {"session", "transport"} and set(answer["session"]) == {"id"}
        call = await server.sip.wait_for_call(1, direction="outbound")
        assert call.session_id == answer["session"]["id"] and call.destination == "+14155550123"
        assert call.state == "dialing"
        sideband = await Sideband.attach(attach_url(server, call.session_id))
        await sideband.until("session.started")
        call.say(tone(500))
        call.ring()
        ringing = await sideband.until("transport.ringing")
        assert ringing["session_id"] == call.session_id
        call.answer()
        await sideband.until("transport.answered")
        await sideband.until("session.input_transcript.delta")
        await call.wait_recording(500)
        assert call.state == "accepted"
        await asyncio.sleep(0.4)  # past the ring timeout: an answered call is not failed
        assert call.state == "accepted"
        call.hangup()  # the callee hangs up
        assert (await sideband.until("session.closed"))["reason"] == "remote_hangup"
        # fail on command, and by the ring timeout
        failed = []
        for _ in range(2):
            status, answer = await rest(port, "/v1/live/sessions", outbound())
            failed.append(await server.sip.wait_for_call(len(failed) + 2, direction="outbound"))
        busy, unanswered = failed
        watcher = await Sideband.attach(attach_url(server, busy.session_id))
        busy.ring()
        busy.fail("busy", "The callee is busy.")
        event = await watcher.until("transport.failed")
        assert event["error"] == {
            "code": "busy",
            "message": "The callee is busy.",
            "type": "call_error",
        }
        assert (await watcher.until("session.closed"))["reason"] == "connection_lost"
        assert await watcher.closed() == 1000
        await unanswered.wait_state("failed", timeout=3)
        assert unanswered.failure is not None and unanswered.failure[0] == "no_answer"
        live_frames_valid(sideband, watcher)
        # the app placed it: no decision to make; hanging up a ringing call cancels it
        status, answer = await rest(port, "/v1/live/sessions", outbound())
        cancelled = await server.sip.wait_for_call(4, direction="outbound")
        base = f"/v1/live/sessions/{cancelled.session_id}"
        body = {"session": {"type": "live", "model": LIVE_MODEL}}
        assert_error((await rest(port, f"{base}/accept", body))[1], "decision_already_made")
        assert_error(
            (await rest(port, f"{base}/reject", {"status_code": 486}))[1], "decision_already_made"
        )
        assert_error(
            (await rest(port, f"{base}/refer", {"target_uri": "tel:+1"}))[1], "call_not_active"
        )
        cancelled.ring()
        assert await rest(port, f"{base}/hangup") == (200, None)
        assert (cancelled.state, cancelled.ended_by) == ("ended", "app")
        assert (await rest(port, f"{base}/hangup"))[0] == 404
        # outbound calling off: 403
        server.sip.options = SipOptions(outbound_enabled=False)
        status, answer = await rest(port, "/v1/live/sessions", outbound())
        assert status == 403
        assert_error(answer, "outbound_sip_not_enabled", type_="permission_error")


@REALTIME_ONCE  # real-time pacing: it tests the timing of a call, not the kernels
async def test_realtime_call_audio_cleared_by_the_app_and_by_the_caller() -> None:
    # the reply streams in real time here, so that it is still playing when it is cleared
    server = LocalRealtimeServer(pacing="realtime", sip=SipOptions(caller_pacing="fast"))
    async with server:
        call = await server.sip.incoming_call()
        assert await rest(
            server.port, f"/v1/realtime/calls/{call.call_id}/accept", {"type": "realtime"}
        ) == (200, None)
        sideband = await Sideband.attach(f"{server.url}?call_id={call.call_id}")
        await sideband.until("session.created")
        call.say(tone(1000))
        started = await sideband.until("output_audio_buffer.started")
        await sideband.send({"type": "output_audio_buffer.clear", "event_id": "c1", "x": 1})
        assert (await sideband.until("error"))["error"]["param"] == "x"
        await sideband.send({"type": "output_audio_buffer.clear", "event_id": "c2"})
        cleared = await sideband.until("output_audio_buffer.cleared")
        assert cleared["response_id"] == started["response_id"]
        heard = call.recording_ms
        await sideband.until("response.done")  # the response goes on; its audio no longer does
        assert call.recording_ms == heard < 1000
        # the caller speaks over the next reply: the server cuts it and says so
        await sideband.send({"type": "response.create"})
        second = await sideband.until("output_audio_buffer.started", 2)
        call.say(tone(400))
        await sideband.until("input_audio_buffer.speech_started", 2)
        cut = await sideband.until("output_audio_buffer.cleared", 2)
        assert cut["response_id"] == second["response_id"]
        assert not [
            f
            for f in sideband.of("output_audio_buffer.stopped")
            if f["response_id"] in (started["response_id"], second["response_id"])
        ]
        for frame in sideband.frames:
            check_realtime_sideband(frame)
        await sideband.close()


async def test_a_sideband_session_close_ends_the_call() -> None:
    async with make_server() as server:
        call = await server.sip.incoming_call()
        await accept_live(server, call.session_id)
        sideband = await Sideband.attach(attach_url(server, call.session_id))
        await sideband.send(
            {"type": "session.update", "event_id": "u1", "session": {"triggers": []}}
        )
        assert (await sideband.until("session.updated"))["client_event_id"] == "u1"
        await sideband.send({"type": "session.close", "event_id": "bye"})
        closed = await sideband.until("session.closed")
        assert (closed["reason"], closed["client_event_id"]) == ("close_requested", "bye")
        assert await sideband.closed() == 1000
        assert (call.state, call.ended_by) == ("ended", "app")
        status, _ = await rest(server.port, f"/v1/live/sessions/{call.session_id}/hangup")
        assert status == 404
        live_frames_valid(sideband)
