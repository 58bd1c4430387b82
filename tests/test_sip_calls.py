"""Inbound SIP calls end to end on both APIs, against the local server playing OpenAI.

Webhook -> accept with the options sent -> sideband attached -> the caller's speech answered
(the caller's recording holds the reply) -> a tool call -> DTMF -> hang-up; then the other
decisions (reject, refer), a caller who hangs up before the accept and one who hangs up
mid-reply.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from rtsdk import RealtimeAIOptions
from rtsdk.sip import CallControl, SipCall, SipCallHandler, SipServer, sign_webhook
from rtsdk.sip.http import HttpClient

from .client_helpers import tone as float_tone
from .sip_stack import KEY, sip_stack, until

pytestmark = pytest.mark.timeout(60)


def tone(seconds: float) -> bytes:
    """What the caller says: a tone, PCM16 24 kHz."""
    return (float_tone(seconds) * 32767).astype("<i2").tobytes()


class Assistant(SipCallHandler):
    """Registers a tool and records what the call's client saw."""

    seen: list[Any]
    weather: list[str]

    def __init__(self) -> None:
        self.seen = []
        self.weather = []

    def configure(self, call: SipCall, options: RealtimeAIOptions) -> RealtimeAIOptions:
        assert call.incoming is not None
        caller = call.incoming.header("From") or "?"
        return options.with_changes(instructions=f"Greet the caller ({caller}) briefly.")

    def on_session(self, call: SipCall) -> None:
        client = call.client
        assert client is not None and not client.is_connected

        @client.tool
        async def get_weather(city: str) -> str:
            """The weather in a city."""
            self.weather.append(city)
            return f"Sunny in {city}"

        client.on("*", self.seen.append)

    def kinds(self) -> list[str]:
        return [e.type for e in self.seen]


@pytest.mark.parametrize("api", ["realtime", "live"])
async def test_an_inbound_call_end_to_end(api: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    handlers: list[Assistant] = []

    def make() -> Assistant:
        handlers.append(Assistant())
        return handlers[-1]

    async with sip_stack(api, make, options={"voice": "marin"}) as stack:
        server = stack.server
        if api == "live":
            server.script_delegation(heard="what is the weather in Paris")
        server.script_function_call(
            name="get_weather", arguments={"city": "Paris"}, when_text_contains=None, times=1
        )
        phone = await server.sip.incoming_call()
        await phone.wait_state("accepted", timeout=10)
        assert phone.api == api
        call = await stack.taken_call()
        handler = handlers[0]
        client = call.client
        assert client is not None
        await until(lambda: client.is_connected, what="the sideband attached")
        # the caller speaks once the call is steered (a Realtime sideband sees no events of
        # before its attach)
        phone.say(tone(0.6))
        assert call.state == "accepted" and call.id == (
            phone.call_id if api == "realtime" else phone.session_id
        )
        # both webhooks were answered 200: this API's accepted, the other's ignored
        deliveries = await phone.wait_deliveries(2)
        assert sorted(d.status for d in deliveries) == [200, 200]
        assert stack.sip.counts["calls"] == 1 and stack.sip.counts["ignored"] == 1
        # the accept carried the options and the tool registered in on_session
        session = phone.line.session if phone.line is not None else {}
        assert session["instructions"].startswith("Greet the caller (<sip:+14155550100@")
        if api == "realtime":
            assert session["audio"]["output"]["voice"] == "marin"
            assert [t["name"] for t in session["tools"]] == ["get_weather"]
        else:
            assert session["audio"]["output"]["voice"] == "marin"
            tools = session["delegation"]["responses"]["tools"]
            assert [t["name"] for t in tools] == ["get_weather"]
        # the caller's speech answered through the tool, the reply heard on the phone
        await until(lambda: handler.weather == ["Paris"], what="the tool ran")
        await phone.wait_recording(300, timeout=15)
        assert "rtsdk.tool_result" in handler.kinds()
        # key presses
        phone.press("5")
        if api == "live":
            await until(lambda: "transport.dtmf.received" in handler.kinds(), what="dtmf in")
            await client.send_dtmf("#")
            await until(lambda: "transport.dtmf.sent" in handler.kinds(), what="dtmf out")
            assert phone.dtmf_sent == ["#"]
        else:
            await until(
                lambda: "input_audio_buffer.dtmf_event_received" in handler.kinds(),
                what="dtmf in",
            )
        assert client.stats()["errors"]["protocol"] == 0
        # the app hangs up
        await call.hangup()
        await phone.wait_state("ended", timeout=5)
        assert phone.ended_by == "app" and call.ended_by == "app"
        await until(lambda: not stack.sip.calls, what="the server let the call go")
        assert stack.sip.counts["failed"] == 0 and not client.is_connected
        # the client side logged the whole call at DEBUG without the key or the secret
        ours = [r for r in caplog.records if not r.name.startswith(("rtsdk.testing", "websockets"))]
        text = "\n".join(r.getMessage() for r in ours)
        assert "Authorization: " in text  # the upgrade's headers were logged, redacted
        assert KEY not in text and stack.secret[6:] not in text


async def test_reject_refer_and_a_caller_gone_before_the_accept() -> None:
    class Screen(SipCallHandler):
        async def configure(self, call: SipCall, options: RealtimeAIOptions) -> Any:
            assert call.incoming is not None
            route = call.incoming.header("To") or ""
            if "0001@" in route:
                await call.reject(486)
                return None
            if "0002@" in route:
                return None  # declined: 603
            if "0004@" in route:  # the caller hangs up while we think
                stack.server.sip.call(call.id).hangup()
            return options

        async def on_accepted(self, call: SipCall) -> None:
            await call.refer("tel:+14155550123")  # 0003: answered, then transferred

    async with sip_stack("realtime", Screen) as stack:
        phones = [
            await stack.server.sip.incoming_call(to_number=f"+1800555000{i}") for i in range(1, 5)
        ]
        for phone in phones:
            await phone.wait_state("rejected", "ended", "missed", timeout=5)
        await until(lambda: stack.sip.counts["finished"] == 4, what="four calls finished")
        calls = {c.incoming.header("To")[5:17]: c for c in stack.taken if c.incoming}
    busy, declined, referred, gone = phones
    assert (busy.state, busy.status_code) == ("rejected", 486)
    assert (declined.state, declined.status_code) == ("rejected", 603)
    assert referred.referred_to == "tel:+14155550123" and referred.ended_by == "refer"
    assert gone.state == "missed"  # the accept was answered 404: over, quietly
    assert stack.sip.counts["failed"] == 0
    # screened calls never got a client; the referred one's sideband ended with its leg
    assert set(calls) == {"+18005550003", "+18005550004"}
    assert calls["+18005550003"].ended_by == "referred"
    assert calls["+18005550004"].ended_by == "remote"


@pytest.mark.parametrize("api", ["realtime", "live"])
async def test_the_caller_hangs_up_mid_reply(api: str) -> None:
    """GPT-Live ends the sideband with session.closed, Realtime with a clean close alone:
    either way the call is over for the app, with no re-attach and no failure."""
    ended: list[str | None] = []

    class Note(SipCallHandler):
        def on_end(self, call: SipCall) -> None:
            ended.append(call.ended_by)

    async with sip_stack(api, Note) as stack:
        phone = await stack.server.sip.incoming_call()
        await phone.wait_state("accepted", timeout=10)
        await until(lambda: stack.taken and stack.taken[0].client.is_connected, what="attach")
        phone.say(tone(1.5))
        await phone.wait_recording(100, timeout=10)  # the reply has started
        phone.hangup()
        await until(lambda: ended, what="the call ended for the app")
        call = stack.taken[0]
        assert ended == ["remote"] and call.state == "ended"
        client = call.client
        assert client is not None and not client.is_connected
        assert client.failure is None and client.service.call_over  # type: ignore[attr-defined]
        assert client.metrics.reconnects == 0 and client.metrics.connects == 1
        sender = client.service._sender
        assert sender is not None and sender.done()  # no task left behind by the call
        assert stack.sip.counts["failed"] == 0


async def test_a_call_another_process_took_first_ends_quietly() -> None:
    """Scale-out: a second process handed the same call (a retry landing elsewhere) gets
    decision_already_made for its accept and lets the call go, quietly."""
    async with sip_stack("realtime") as stack:
        phone = await stack.server.sip.incoming_call()
        await phone.wait_state("accepted", timeout=10)
        ended: list[str | None] = []

        class Note(SipCallHandler):
            def on_end(self, call: SipCall) -> None:
                ended.append(call.ended_by)

        control = CallControl(api_key=KEY, api_base=stack.base)
        options = RealtimeAIOptions(api_key=KEY, model="gpt-realtime-2.1")
        other = SipServer(options, secret=stack.secret, control=control, handler_factory=Note)
        async with other:
            body = json.dumps(
                {
                    "type": "realtime.call.incoming",
                    "data": {"call_id": phone.call_id, "sip_headers": phone.sip_headers},
                }
            ).encode()
            http = HttpClient(timeout=5)
            answer = await http.request(
                "POST",
                f"{other.url}/webhook",
                headers=sign_webhook(stack.secret, "wh_elsewhere", body),
                body=body,
            )
            await http.close()
            assert answer.status == 200
            await until(lambda: ended, what="the second process let the call go")
        assert ended == ["elsewhere"] and other.counts["failed"] == 0
        assert phone.state == "accepted"  # the first process still has it
        assert stack.taken[0].client is not None and stack.taken[0].client.is_connected


async def test_a_lost_sideband_is_attached_again_without_doing_anything_twice() -> None:
    """The network drops the GPT-Live sideband mid-call: the client attaches again, the
    replay of the last 3 s is dropped where it repeats what was handled (the tool does not
    run twice), and the call goes on steered."""
    handlers: list[Assistant] = []

    def make() -> Assistant:
        handlers.append(Assistant())
        return handlers[-1]

    async with sip_stack("live", make) as stack:
        server = stack.server
        server.script_delegation(heard="what is the weather in Paris")
        server.script_function_call(
            name="get_weather", arguments={"city": "Paris"}, when_text_contains=None, times=1
        )
        phone = await server.sip.incoming_call()
        await phone.wait_state("accepted", timeout=10)
        call = await stack.taken_call()
        client = call.client
        assert client is not None
        await until(lambda: client.is_connected, what="attached")
        phone.say(tone(0.6))
        handler = handlers[0]
        await until(lambda: handler.weather == ["Paris"], what="the tool ran")
        await phone.wait_recording(300, timeout=15)
        before = len(handler.seen)
        assert phone.line is not None
        await phone.line.sidebands[0].conn.drop()  # type: ignore[attr-defined]  # a 1006
        await until(lambda: client.metrics.reconnects == 1 and client.is_connected, what="again")
        phone.press("7")  # after the replay on the new sideband
        await until(lambda: "transport.dtmf.received" in handler.kinds()[before:], what="dtmf")
        assert handler.weather == ["Paris"]  # once
        assert handler.kinds().count("rtsdk.tool_result") == 1
        assert client.service.replayed_dropped > 0  # type: ignore[attr-defined]
        assert call.state == "accepted" and not call.ended
        await call.hangup()
        await phone.wait_state("ended", timeout=5)


async def test_the_deprecated_live_event_beside_the_new_one_takes_the_call_once() -> None:
    async with sip_stack("live", live_call_incoming=True) as stack:
        phone = await stack.server.sip.incoming_call()
        deliveries = await phone.wait_deliveries(3, timeout=10)
        assert sorted(d.event_type for d in deliveries) == [
            "live.call.incoming",
            "live.transport.incoming",
            "realtime.call.incoming",
        ]
        await phone.wait_state("accepted", timeout=10)
        await until(lambda: stack.taken and stack.taken[0].client.is_connected, what="attach")
        counts = stack.sip.counts
        assert (counts["calls"], counts["duplicate"], counts["ignored"]) == (1, 1, 1)
        assert phone.api == "live" and stack.taken[0].id == phone.session_id
