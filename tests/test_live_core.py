"""GPT-Live's sans-I/O core and settings: frames out, events in, checked against the ``openai``
package's own GPT-Live types (the contract)."""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest
from openai.types.live import ClientEvent as OpenAIClientEvent

from rtsdk.exceptions import (
    AuthenticationError,
    ConfigurationError,
    ModelUnavailableError,
    ServerError,
)
from rtsdk.protocol.errors import ErrorKind
from rtsdk.protocol.live import (
    MAX_HISTORY_MESSAGES,
    LiveSettings,
    context_append,
    history_message,
)
from rtsdk.protocol.live_core import LiveCore
from rtsdk.protocol.live_events import parse_live_event

_CLIENT = pydantic.TypeAdapter(OpenAIClientEvent)

TRIGGER = {
    "type": "decisions",
    "event_type": "session.input_transcript.delta",
    "decisions": {"questions": [{"type": "predicate", "instructions": "Is the user upset?"}]},
}
TOOLS = ({"type": "function", "name": "lookup", "description": "d", "parameters": {}},)


def valid(frame: dict[str, Any]) -> dict[str, Any]:
    """``frame`` as the ``openai`` package types it (raises when it does not fit)."""
    _CLIENT.validate_python(json.loads(json.dumps(frame)))
    return frame


def ev(**data: Any) -> Any:
    return parse_live_event(json.dumps(data))


def started(core: LiveCore, sid: str = "sess_1", expires_at: int = 2_000_000_000) -> Any:
    return core.handle(
        ev(
            type="session.started",
            event_id="e0",
            session={
                "id": sid,
                "expires_at": expires_at,
                "model": "gpt-live-1",
                "status": "active",
            },
        )
    )


def test_start_frame_is_first_and_fits_the_contract() -> None:
    core = LiveCore(
        LiveSettings(
            model="gpt-live-1",
            instructions="Be brief.",
            voice="beacon",
            audio_format="g711_ulaw",
            input=[("developer", "Call me Sam."), {"role": "assistant", "content": "Hi Sam."}],
            store=True,
            safety_identifier="user-42",
            tools=TOOLS,
            delegation_model="gpt-5.6-luna",
            acknowledgement_delay_ms=200,
        )
    )
    (frame,) = core.on_connect()
    valid(frame)
    session = frame["session"]
    assert frame["type"] == "session.start"
    assert session["audio"] == {
        "format": {"type": "audio/pcmu", "rate": 8000},
        "output": {"voice": "beacon"},
    }
    assert [m["role"] for m in session["input"]] == ["developer", "assistant"]
    assert session["delegation"]["type"] == "responses"
    assert session["delegation"]["responses"]["tools"] == [dict(TOOLS[0])]
    assert session["delegation"]["acknowledgement_delay_ms"] == 200


def test_started_makes_the_session_ready() -> None:
    core = LiveCore()
    core.on_connect()
    actions = started(core, "sess_a", 1234)
    assert actions.ready and core.started
    assert (core.session_id, core.expires_at, core.session_ids) == ("sess_a", 1234, ["sess_a"])


@pytest.mark.parametrize("code", [None, "unknown_parameter"])
def test_an_error_before_started_fails_the_start(code: str | None) -> None:
    core = LiveCore()
    core.on_connect()
    error = {"type": "invalid_request_error", "code": code, "message": "Unknown parameter"}
    actions = core.handle(ev(type="error", event_id="e", error=dict(error, param="session.x")))
    assert isinstance(actions.rejected, ConfigurationError)
    assert "session.x" in str(actions.rejected)
    assert not actions.ready


def test_errors_after_start_are_reported_and_the_session_goes_on() -> None:
    core = LiveCore()
    core.on_connect()
    started(core)
    actions = core.handle(
        ev(type="error", event_id="e", error={"type": "x", "code": None, "message": "oops"})
    )
    assert actions.rejected is None and actions.failure is None
    assert actions.problem is not None and "oops" in actions.problem
    actions = core.handle(
        ev(
            type="error",
            event_id="e",
            error={"type": "x", "code": "invalid_api_key", "message": ""},
        )
    )
    assert isinstance(actions.failure, AuthenticationError)
    actions = core.handle(
        ev(
            type="error",
            event_id="e",
            error={"type": "x", "code": "model_not_found", "message": ""},
        )
    )
    assert isinstance(actions.failure, ModelUnavailableError)
    assert actions.error is ErrorKind.REPORT


def test_close_reasons() -> None:
    core = LiveCore()
    core.on_connect()
    started(core)
    (close,) = core.close()
    valid(close)
    closed = {"type": "session.closed", "event_id": "e", "session": {}, "usage": {"seconds": 3.5}}
    actions = core.handle(ev(**closed, reason="close_requested"))
    assert actions.closed and actions.renew is None and actions.failure is None
    assert core.usage == {"seconds": 3.5}
    core.on_connect()
    for reason in ("expired", "connection_lost"):
        assert core.handle(ev(**closed, reason=reason)).renew
    assert isinstance(core.handle(ev(**closed, reason="content")).failure, ServerError)


def _wrapped(inner: dict[str, Any], delegation: str = "item_1") -> Any:
    return ev(type="response.event", event_id="e", delegation_id=delegation, event=inner)


def _call(call_id: str, name: str = "lookup") -> dict[str, Any]:
    item = {"type": "function_call", "id": f"fc_{call_id}", "call_id": call_id, "name": name}
    return {
        "type": "response.output_item.done",
        "response_id": "resp_1",
        "output_index": 0,
        "item": dict(item, arguments='{"q": 1}', status="completed"),
    }


def test_responses_delegation_round_trip_with_parallel_calls() -> None:
    core = LiveCore(LiveSettings(tools=TOOLS, delegation_model="gpt-5.6-luna"))
    core.on_connect()
    started(core)
    reasoning = {"type": "response.output_item.done", "item": {"type": "reasoning", "id": "r"}}
    assert core.handle(_wrapped(reasoning)).function_calls == []
    first = core.handle(_wrapped(_call("c1"))).function_calls
    second = core.handle(_wrapped(_call("c2"))).function_calls
    assert [c.call_id for c in first + second] == ["c1", "c2"]
    assert first[0].arguments == '{"q": 1}' and first[0].call_id == "c1"
    assert core.handle(_wrapped(_call("c1"))).function_calls == []  # said once
    assert core.response_active
    # an output before the backend's response completed: no response.create yet
    frames = core.submit_function_output("c1", "one")
    assert [f["type"] for f in frames] == ["response.item.create"]
    done = {"type": "response.completed", "response": {"id": "resp_1", "output": []}}
    assert core.handle(_wrapped(done)).send == []  # c2 still out
    frames = core.submit_function_output("c2", "two")
    assert [f["type"] for f in frames] == ["response.item.create", "response.create"]
    for frame in frames:
        valid(frame)
    assert frames[0]["item"] == {"type": "function_call_output", "call_id": "c2", "output": "two"}
    assert not core.response_active


def test_outputs_before_completion_continue_at_completion() -> None:
    core = LiveCore(LiveSettings(tools=TOOLS, delegation_model="m"))
    core.on_connect()
    started(core)
    core.handle(_wrapped(_call("c1")))
    core.submit_function_output("c1", "x")
    done = {"type": "response.completed", "response": {"id": "resp_1", "output": []}}
    assert [f["type"] for f in core.handle(_wrapped(done)).send] == ["response.create"]


def test_update_settings_immutable_fields_and_delegation_changes() -> None:
    base = LiveSettings(instructions="a", tools=TOOLS, delegation_model="m")
    core = LiveCore(base)
    # before the session started anything may change (e.g. tools registered before start)
    assert core.update_settings(LiveSettings(instructions="b")) == []
    core.update_settings(base)
    core.on_connect()
    started(core)
    with pytest.raises(ConfigurationError, match="instructions"):
        core.update_settings(LiveSettings(instructions="b", tools=TOOLS, delegation_model="m"))
    with pytest.raises(ConfigurationError, match="delegation type"):
        core.update_settings(LiveSettings(instructions="a", delegation="client"))
    assert core.settings is base  # nothing changed
    changed = LiveSettings(instructions="a", tools=TOOLS, delegation_model="m2")
    (frame,) = core.update_settings(changed)
    valid(frame)
    assert frame["session"]["delegation"]["responses"]["model"] == "m2"
    trig = [TRIGGER]
    assert core.update_settings(changed) == []
    assert (
        "triggers"
        in core.update_settings(LiveSettings(**{**_kw(changed), "triggers": trig}))[0]["session"]
    )


def _kw(s: LiveSettings) -> dict[str, Any]:
    return {
        "instructions": s.instructions,
        "tools": s.tools,
        "delegation_model": s.delegation_model,
    }


def test_user_text_and_context() -> None:
    core = LiveCore(LiveSettings(tools=TOOLS, delegation_model="m"))
    frames = core.user_text("what is on today?")
    assert [f["type"] for f in frames] == ["response.item.create", "response.create"]
    for frame in frames:
        valid(frame)
    with pytest.raises(ConfigurationError, match="delegation_id=None"):
        core.context("commentary", "hi", "item_1")
    client = LiveCore(LiveSettings(delegation="client"))
    (frame,) = client.user_text("hello")
    assert frame["type"] == "session.instructions.append" and valid(frame)
    (frame,) = client.context("commentary", "Looking that up.", "item_9")
    assert frame["delegation_id"] == "item_9" and valid(frame)
    with pytest.raises(ConfigurationError, match="split"):
        context_append("thinking", "x" * 5000, None)
    with pytest.raises(ConfigurationError):
        context_append("shout", "x", None)


def test_replay_gives_the_transcript_back_newest_first_within_limits() -> None:
    core = LiveCore(LiveSettings(input=[("developer", "Speak French.")]))
    core.on_connect()
    started(core)
    t = 0
    for i in range(300):
        kind = "input" if i % 2 == 0 else "output"
        for word in (f"line {i} ", "more"):
            core.handle(
                ev(
                    type=f"session.{kind}_transcript.delta",
                    event_id="e",
                    delta=word,
                    start_ms=t,
                    end_ms=t + 100,
                )
            )
            t += 100
        t += 2000
    (frame,) = core.on_connect(replay=True)
    valid(frame)
    history = frame["session"]["input"]
    assert history[0]["content"][0]["text"] == "Speak French."
    assert len(history) == MAX_HISTORY_MESSAGES == 1 + core.replayed
    assert history[-1] == history_message("assistant", "line 299 more")
    assert history[1]["content"][0]["text"] == f"line {300 - core.replayed} more"
    assert len(core.lines) <= 4 * MAX_HISTORY_MESSAGES


def test_output_audio_is_one_stream_counted_across_connections() -> None:
    core = LiveCore()
    core.on_connect()
    assert core.decode_output_audio(b'{"type":"session.output_audio.delta","delta":"AAAA"}') == (
        "",
        "",
        b"\0\0\0",
    )
    assert core.decode_output_audio(b'{"type":"session.input_transcript.delta"}') is None
    assert core.audio_received("", 480) and core.plays_audio("", "")
    core.on_connect()
    core.audio_received("", 20)
    assert core.received_audio_bytes == 500
    frame = core.encode_input_audio(b"\1\0")
    assert json.loads(frame) == {"type": "session.input_audio.append", "audio": "AQA="}
    valid(json.loads(frame))


def test_settings_are_checked() -> None:
    for bad, name in (
        ({"voice": "robot"}, "voice"),
        ({"voice": {"id": ""}}, "voice"),
        ({"audio_format": "mp3"}, "format"),
        ({"input": [("system", "x")]}, "role"),
        ({"input": [("user", "x")] * 129}, "128"),
        ({"delegation": "client", "tools": TOOLS}, "client"),
        ({"delegation": "responses"}, "delegation_model"),
        ({"acknowledgement_delay_ms": -1}, "acknowledgement"),
    ):
        with pytest.raises(ConfigurationError, match=name):
            LiveSettings(**bad)
    assert LiveSettings(voice={"id": "voice_123"}).to_session()["audio"]["output"] == {
        "voice": {"id": "voice_123"}
    }
