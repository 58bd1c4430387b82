"""Outbound GPT-Live calls (rtsdk.sip.place_call) against the local server: ring and answer,
a call that fails, a setup the service refuses; never retried."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rtsdk import LiveEventHandler, RealtimeAIOptions
from rtsdk.exceptions import ConfigurationError
from rtsdk.sip import CallControl, CallControlError, CallFailedError, SipTrunk, place_call

from .sip_stack import KEY, sip_stack, until
from .test_sip_calls import tone

pytestmark = pytest.mark.timeout(60)

TRUNK = SipTrunk("sips:pbx.example.com", "agent", "digest-secret", "+14155550100")


class Progress(LiveEventHandler):
    def __init__(self) -> None:
        self.kinds: list[str] = []

    def on_transport_ringing(self, event: Any) -> None:
        self.kinds.append(event.type)

    def on_transport_answered(self, event: Any) -> None:
        self.kinds.append(event.type)

    def on_transport_failed(self, event: Any) -> None:
        self.kinds.append(f"{event.type} {event.error.get('code')}")


async def test_a_call_rings_is_answered_talks_and_hangs_up() -> None:
    async with sip_stack("live") as stack:
        control = CallControl(api_key=KEY, api_base=stack.base)
        progress = Progress()
        options = RealtimeAIOptions(api_key=KEY, model="gpt-live-1", instructions="Say hello.")
        call = await place_call(
            "+442071838750", trunk=TRUNK, options=options, control=control, event_handler=progress
        )
        assert call.client is not None and call.client.is_connected
        assert call.transport == "dialing" and call.api == "live"
        phone = await stack.server.sip.wait_for_call(1, direction="outbound")
        assert phone.destination == "+442071838750" and phone.session_id == call.id
        assert phone.line is not None and phone.line.session["instructions"] == "Say hello."
        phone.ring()
        await until(lambda: progress.kinds == ["transport.ringing"], what="ringing")
        assert call.transport == "ringing"
        phone.say(tone(0.6))
        phone.answer()
        await call.wait_answered(timeout=5)
        assert progress.kinds == ["transport.ringing", "transport.answered"]
        await phone.wait_recording(200, timeout=10)  # the session answered the callee
        await call.hangup()
        await phone.wait_state("ended", timeout=5)
        assert call.ended_by == "app" and not call.client.is_connected
        await control.aclose()


async def test_a_failed_call_and_a_refused_setup_are_never_retried() -> None:
    async with sip_stack("live") as stack:
        control = CallControl(api_key=KEY, api_base=stack.base)
        progress = Progress()
        options = RealtimeAIOptions(api_key=KEY, model="gpt-live-1")
        call = await place_call(
            "+15550001111", trunk=TRUNK, options=options, control=control, event_handler=progress
        )
        phone = await stack.server.sip.wait_for_call(1, direction="outbound")
        phone.fail("busy", "The callee is busy.")
        with pytest.raises(CallFailedError, match="did not connect: busy: The callee is busy") as e:
            await call.wait_answered(timeout=5)
        assert e.value.code == "busy" and call.ended_by == "failed"
        await until(lambda: not call.client.is_connected, what="the sideband ended")
        assert progress.kinds == ["transport.failed busy"]
        # two setup failures queued: each place_call sends one request and fails on it
        stack.server.sip.fail_next_outbound(502, count=2)
        for status in (502, 502):
            with pytest.raises(CallControlError, match=f"place_call refused: HTTP {status}") as r:
                await place_call("+15550002222", trunk=TRUNK, options=options, control=control)
            assert r.value.status == status
        assert stack.server.sip.next_outbound_failure() is None  # none left: no retry made any
        outbound = [c for c in stack.server.sip.calls if c.direction == "outbound"]
        assert len(outbound) == 1
        await asyncio.sleep(0)
        await control.aclose()


async def test_outbound_needs_gpt_live_and_a_number() -> None:
    control = CallControl(api_key=KEY, api_base="http://127.0.0.1:9/v1")
    with pytest.raises(ConfigurationError, match="GPT-Live's"):
        await place_call(
            "+15550001111",
            trunk=TRUNK,
            options=RealtimeAIOptions(api_key=KEY, model="gpt-realtime-2.1"),
            control=control,
        )
    with pytest.raises(ConfigurationError, match=r"E\.164"):
        await place_call(
            "0800 123",
            trunk=TRUNK,
            options=RealtimeAIOptions(api_key=KEY, model="gpt-live-1"),
            control=control,
        )
    assert control.http.opened == 0
