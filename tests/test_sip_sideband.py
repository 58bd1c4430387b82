"""The sideband cores (rtsdk.protocol.sideband, sans-I/O) and the sideband client's refusals."""

from __future__ import annotations

import json

import pytest

from rtsdk import RealtimeAIOptions
from rtsdk.exceptions import ConfigurationError
from rtsdk.protocol import live_events as lev
from rtsdk.protocol.live import LiveSettings
from rtsdk.protocol.session import SessionSettings
from rtsdk.protocol.sideband import LiveSidebandCore, RealtimeSidebandCore, without_audio_format
from rtsdk.sip import CallControl, SipCall
from rtsdk.sip.sideband import SidebandOptions, SidebandService, sideband_url

KEY = "sk-test-sideband-0123456789"


def test_without_audio_format() -> None:
    session = {
        "model": "m",
        "audio": {"format": {"type": "audio/pcm"}, "output": {"voice": "marin", "format": {}}},
    }
    assert without_audio_format(session) == {"model": "m", "audio": {"output": {"voice": "marin"}}}
    assert session["audio"]["format"] == {"type": "audio/pcm"}  # unchanged
    only = {"audio": {"input": {"format": {}}, "output": {"format": {}}}, "type": "realtime"}
    assert without_audio_format(only) == {"type": "realtime"}
    assert without_audio_format({"audio": None}) == {"audio": None}


def test_a_live_sideband_never_starts_renews_or_closes_the_session() -> None:
    tool = {"type": "function", "name": "f", "description": "d", "parameters": {}}
    core = LiveSidebandCore(LiveSettings(model="gpt-live-1"), session_id="live_1")
    # before the attach the settings are the accept's, whatever they are
    with_tools = LiveSettings(model="gpt-live-1", tools=[tool], delegation_model="gpt-x")
    assert core.update_settings(with_tools) == [] and core.settings is with_tools
    assert core.on_connect(replay=True) == [] and core.started and core.replayed == 0
    assert core.close() == []  # detaching leaves the call running
    started = lev.parse_live_event(
        json.dumps(
            {
                "type": "session.started",
                "event_id": "e1",
                "session": {"id": "live_1", "expires_at": 2_000_000_000, "model": "gpt-live-1"},
            }
        )
    )
    core.handle(started)
    assert core.expires_at is None  # a re-attach would not extend the call
    # after the attach: a delegation change is a session.update; an immutable field is not
    changed = LiveSettings(model="gpt-live-1", tools=[tool], delegation_model="gpt-y")
    (frame,) = core.update_settings(changed)
    assert frame["type"] == "session.update"
    assert frame["session"]["delegation"]["responses"]["model"] == "gpt-y"
    with pytest.raises(ConfigurationError, match="cannot change instructions"):
        core.update_settings(LiveSettings(model="gpt-live-1", instructions="x"))
    for reason in ("remote_hangup", "close_requested", "expired", "connection_lost"):
        event = lev.parse_live_event(
            json.dumps({"type": "session.closed", "event_id": "e", "reason": reason, "usage": {}})
        )
        actions = core.handle(event)
        assert actions.closed and actions.renew is None and actions.failure is None
    content = lev.parse_live_event(
        json.dumps({"type": "session.closed", "event_id": "e", "reason": "content"})
    )
    assert "safety filter" in (core.handle(content).problem or "")


def test_a_realtime_sideband_sends_no_config_and_no_formats() -> None:
    settings = SessionSettings(instructions="a", input_format="g711_ulaw", voice="marin")
    core = RealtimeSidebandCore(settings, model="gpt-realtime-2.1")
    assert core.on_connect(replay=True) == [] and core.replayed == 0
    (update,) = core.update_settings(SessionSettings(instructions="b", voice="marin"))
    session = update["session"]
    assert session["instructions"] == "b" and session["audio"]["output"] == {"voice": "marin"}
    assert "format" not in session["audio"]["input"]
    assert core.barge_in() == []  # the server cuts the call's audio itself


async def test_the_sideband_options_and_client() -> None:
    assert sideband_url("https://api.openai.com/v1", "realtime", "rtc_a b") == (
        "wss://api.openai.com/v1/realtime?call_id=rtc_a%20b"
    )
    assert sideband_url("http://127.0.0.1:8/v1/", "live", "live/1?") == (
        "ws://127.0.0.1:8/v1/live/sessions/live%2F1%3F/attach"
    )
    control = CallControl(api_key=KEY, api_base="https://api.openai.com/v1")
    call = SipCall("live", "live_1", control)
    options = RealtimeAIOptions(api_key="sk-other", model="gpt-live-1", max_retries=8)
    client = call.prepare(options)
    sideband = client.options
    assert isinstance(sideband, SidebandOptions)
    assert sideband.api_key == KEY  # the key that made the REST calls
    assert sideband.endpoint_url() == "wss://api.openai.com/v1/live/sessions/live_1/attach"
    assert (sideband.max_retries, sideband.session_max_seconds) == (3, None)
    assert not sideband.replay_conversation and KEY not in repr(sideband)
    assert KEY not in repr(client) and "call='live_1'" in repr(client)
    with pytest.raises(ConfigurationError, match="audio travels over SIP"):
        await client.send_audio(b"\0\0")
    for bad in ("", "E", "12", 5):
        with pytest.raises(ConfigurationError, match="0-9, A-D"):
            await client.send_dtmf(bad)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="already has its client"):
        call.prepare(options)
    realtime = SipCall("realtime", "rtc_1", control).prepare(
        RealtimeAIOptions(api_key=KEY, model="gpt-realtime-2.1")
    )
    with pytest.raises(ConfigurationError, match="only GPT-Live sends DTMF"):
        await realtime.send_dtmf("1")
    with pytest.raises(ConfigurationError, match="call_id"):
        SidebandOptions(api_key=KEY, call_id="", sideband_url="ws://x/v1")


def test_reflected_caller_audio_is_dropped_unless_someone_listens() -> None:
    options = SidebandOptions.from_options(
        RealtimeAIOptions(api_key=KEY, model="gpt-live-1"),
        call_id="live_1",
        api_base="http://127.0.0.1:9/v1",
        api_key=KEY,
    )
    service = SidebandService(options)
    frame = b'{"type":"session.input_audio.append","audio":"AAAA"}'
    service._on_frame(frame)
    assert service.reflected_dropped == 1 and service.metrics.protocol_errors == 0
    heard: list[object] = []
    service.add_listener("session.input_audio.append", heard.append)
    service._on_frame(frame)
    assert service.reflected_dropped == 1  # parsed and published now
