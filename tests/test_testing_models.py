"""Local server and the model catalogue: defaults, reasoning fields, tracing, reasoning usage,
and models past their shutdown date (``today=``, ``--today``).

Every frame the server sends is checked against the openai GA types at teardown (the fixture),
and the new shapes (a reasoning session, a failed response, a failed transcription, usage with
reasoning tokens) are also validated one by one against their own openai types.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from rtsdk.exceptions import ConfigurationError
from rtsdk.models import DEFAULT_MODEL, DEFAULT_TRANSCRIPTION_MODEL, MODELS, REASONING_EFFORTS
from rtsdk.testing import LocalRealtimeServer, ServerConnection
from rtsdk.testing.cli import serve_main
from rtsdk.testing.responses import REASONING_TOKENS
from tests.conformance import SERVER_MODELS, assert_server_event_valid, realtime
from tests.test_testing_cli import served
from tests.test_testing_server import RawClient, check_sent, configure, silence, tone

ROOT = Path(__file__).resolve().parents[1]
REASONING = "gpt-realtime-2.1"  # a reasoning model
PLAIN = "gpt-realtime-1.5"  # a catalogue model that does not reason
DEPRECATED = "gpt-realtime"  # shut down on 2027-01-20
SHUTDOWN = MODELS[DEPRECATED].shutdown
assert SHUTDOWN == datetime.date(2027, 1, 20)
DAY = datetime.timedelta(days=1)
TRANSCRIBE_SHUTDOWN = MODELS["whisper-1"].shutdown
assert TRANSCRIBE_SHUTDOWN == datetime.date(2027, 2, 26)
TEXT = {"output_modalities": ["text"]}
TRANSCRIPTION_FAILED = "conversation.item.input_audio_transcription.failed"
TRANSCRIPTION_COMPLETED = "conversation.item.input_audio_transcription.completed"


async def open_model(srv: LocalRealtimeServer, model: str) -> tuple[RawClient, ServerConnection]:
    client = await RawClient.connect(f"{srv.url}?model={model}")
    assert (await client.recv())["type"] == "session.created"
    return client, srv.connections[-1]


def user_text(text: str) -> dict[str, Any]:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return {"type": "conversation.item.create", "item": item}


async def text_turn(client: RawClient, text: str = "hello", **response: Any) -> dict[str, Any]:
    """A typed turn and its response (text output); the ``response.done`` event."""
    await client.send(user_text(text))
    await client.send({"type": "response.create", "response": {**TEXT, **response}})
    return await client.until("response.done")


async def send_unchecked(client: RawClient, event: dict[str, Any]) -> None:
    """Send an event the GA client types would refuse (to see the server refuse it too)."""
    await client.ws.send(json.dumps(event))


def validated(event: dict[str, Any]) -> Any:
    """``event`` validated (strictly) as its openai server event type."""
    return SERVER_MODELS[event["type"]].model_validate_json(json.dumps(event), strict=True)


# --------------------------------------------------------------------------------------------
# defaults


async def test_a_transcription_config_without_model_uses_the_catalogue_default(
    server: LocalRealtimeServer,
) -> None:
    # past the shutdown of gpt-4o-transcribe (the old default): the default still transcribes
    assert TRANSCRIBE_SHUTDOWN is not None
    server.today = TRANSCRIBE_SHUTDOWN + DAY
    client, _ = await open_model(server, PLAIN)
    await configure(
        client,
        {
            "type": "realtime",
            "audio": {
                "input": {
                    "transcription": {"language": "de"},
                    "turn_detection": {"type": "server_vad", "create_response": False},
                }
            },
        },
    )
    await client.stream(tone(300) + silence(700))
    done = await client.until(TRANSCRIPTION_COMPLETED)
    # a model that reports languages (gpt-transcribe does, the gpt-4o models do not)
    assert done["languages"] == [{"code": "de"}] and done["usage"]["type"] == "tokens"
    assert TRANSCRIPTION_FAILED not in client.types()
    await client.close()
    transcription = await RawClient.connect(f"{server.url}?intent=transcription")
    created = (await transcription.recv())["session"]
    assert created["audio"]["input"]["transcription"]["model"] == DEFAULT_TRANSCRIPTION_MODEL
    await transcription.close()


async def test_a_connection_without_a_known_model_is_not_refused_anything(
    server: LocalRealtimeServer,
) -> None:
    client, conn = await open_model(server, "my-azure-deployment")
    assert "reasoning" not in client.frames[0]["session"]
    updated = await configure(
        client,
        {"type": "realtime", "reasoning": {"effort": "high"}, "parallel_tool_calls": False},
    )
    assert updated["session"]["reasoning"] == {"effort": "high"}
    assert updated["session"]["parallel_tool_calls"] is False
    done = await text_turn(client)
    assert done["response"]["status"] == "completed"
    # the catalogue does not know it as a reasoning model: no reasoning tokens
    assert "reasoning_tokens" not in done["response"]["usage"]["output_token_details"]
    await client.close()
    assert DEFAULT_MODEL in MODELS and MODELS[DEFAULT_MODEL].reasoning
    assert conn.model == "my-azure-deployment"


# --------------------------------------------------------------------------------------------
# reasoning fields


async def test_a_reasoning_models_session_starts_with_low_effort(
    server: LocalRealtimeServer,
) -> None:
    client, _ = await open_model(server, REASONING)
    created = client.frames[0]
    assert created["session"]["reasoning"] == {"effort": "low"}
    event = validated(created)
    assert isinstance(event, realtime.SessionCreatedEvent)
    assert event.session.reasoning is not None and event.session.reasoning.effort == "low"
    response = realtime.RealtimeSessionCreateResponse.model_validate_json(
        json.dumps(created["session"]), strict=True
    )
    assert response.reasoning is not None and response.reasoning.effort == "low"
    assert response.model == REASONING
    await client.close()
    plain, _ = await open_model(server, PLAIN)
    assert "reasoning" not in plain.frames[0]["session"]
    await plain.close()


async def test_reasoning_models_take_reasoning_fields(server: LocalRealtimeServer) -> None:
    client, conn = await open_model(server, REASONING)
    updated = await configure(
        client,
        {"type": "realtime", "reasoning": {"effort": "xhigh"}, "parallel_tool_calls": False},
    )
    assert updated["session"]["reasoning"] == {"effort": "xhigh"}
    assert updated["session"]["parallel_tool_calls"] is False
    assert validated(updated).session.reasoning.effort == "xhigh"
    done = await text_turn(client, reasoning={"effort": "medium"}, parallel_tool_calls=True)
    assert done["response"]["status"] == "completed"
    assert conn.session["reasoning"] == {"effort": "xhigh"}  # a response's own does not stay
    # null clears it: the model's default comes back (as LiveKit's update_options(None) asks)
    updated = await configure(client, {"type": "realtime", "reasoning": None})
    assert updated["session"]["reasoning"] == {"effort": "low"}
    await client.close()
    plain, _ = await open_model(server, PLAIN)
    updated = await configure(plain, {"type": "realtime", "reasoning": None})
    assert "reasoning" not in updated["session"]  # nothing to clear, nothing refused
    await plain.close()


@pytest.mark.parametrize(
    ("field", "value", "param", "name"),
    [
        ("reasoning", {"effort": "high"}, "reasoning.effort", "reasoning.effort"),
        ("reasoning", {}, "reasoning.effort", "reasoning.effort"),
        ("parallel_tool_calls", True, "parallel_tool_calls", "parallel_tool_calls"),
    ],
)
async def test_reasoning_fields_are_refused_on_a_model_that_does_not_reason(
    server: LocalRealtimeServer, field: str, value: Any, param: str, name: str
) -> None:
    client, conn = await open_model(server, PLAIN)
    before = json.loads(json.dumps(conn.session))
    await client.send(
        {"type": "session.update", "event_id": "u1", "session": {"type": "realtime", field: value}}
    )
    error_event = await client.until("error")
    validated(error_event)
    assert error_event["error"] == {
        "type": "invalid_request_error",
        "code": "unsupported_parameter",
        "message": f"Unsupported parameter: '{name}' is not supported with this model.",
        "param": f"session.{param}",
        "event_id": "u1",
    }
    assert conn.session == before and field not in conn.session
    # in a response.create: refused the same way, and no response starts
    await client.send(user_text("hello"))
    await client.send({"type": "response.create", "event_id": "r1", "response": {field: value}})
    error = (await client.until("error"))["error"]
    assert (error["code"], error["param"], error["event_id"]) == (
        "unsupported_parameter",
        f"response.{param}",
        "r1",
    )
    assert error["message"] == f"Unsupported parameter: '{name}' is not supported with this model."
    await configure(client, {"type": "realtime"})  # barrier: the refusal started nothing
    assert conn.counts_sent["response.created"] == 0 and conn.logic.active is None
    done = await text_turn(client)  # the session goes on
    assert done["response"]["status"] == "completed"
    await client.close()


async def test_an_unknown_effort_gets_the_services_words(server: LocalRealtimeServer) -> None:
    client, conn = await open_model(server, REASONING)
    words = (
        "Invalid value: 'ultra'. Supported values are: 'minimal', 'low', 'medium', 'high', "
        "and 'xhigh'."
    )
    assert REASONING_EFFORTS == ("minimal", "low", "medium", "high", "xhigh")
    bad_session = {"type": "realtime", "reasoning": {"effort": "ultra"}}
    await send_unchecked(
        client, {"type": "session.update", "event_id": "u", "session": bad_session}
    )
    error = (await client.until("error"))["error"]
    assert (error["type"], error["code"], error["param"], error["event_id"]) == (
        "invalid_request_error",
        "invalid_value",
        "session.reasoning.effort",
        "u",
    )
    assert error["message"] == words
    assert conn.session["reasoning"] == {"effort": "low"}
    await send_unchecked(
        client,
        {"type": "response.create", "event_id": "r", "response": {"reasoning": {"effort": 3}}},
    )
    error = (await client.until("error"))["error"]
    assert error["param"] == "response.reasoning.effort" and error["event_id"] == "r"
    assert error["message"] == words.replace("'ultra'", "3")
    await configure(client, {"type": "realtime"})
    assert conn.counts_sent["response.created"] == 0
    await client.close()


# --------------------------------------------------------------------------------------------
# tracing


async def test_tracing_cannot_change_once_enabled(server: LocalRealtimeServer) -> None:
    client, conn = await open_model(server, PLAIN)
    assert client.frames[0]["session"]["tracing"] is None
    await configure(client, {"type": "realtime", "tracing": None})  # still off: fine
    traced = {"workflow_name": "support", "group_id": "g1"}
    updated = await configure(client, {"type": "realtime", "tracing": traced})
    assert updated["session"]["tracing"] == traced
    validated(updated)
    again = await configure(client, {"type": "realtime", "tracing": traced, "instructions": "x"})
    assert again["session"]["instructions"] == "x"  # the same tracing is no change
    for change in ("auto", None, {"workflow_name": "other"}):
        await client.send(
            {
                "type": "session.update",
                "event_id": "t",
                "session": {"type": "realtime", "tracing": change},
            }
        )
        error = (await client.until("error"))["error"]
        assert (error["type"], error["code"], error["param"], error["event_id"]) == (
            "invalid_request_error",
            "invalid_value",
            "session.tracing",
            "t",
        )
        assert "cannot be modified once it is enabled" in error["message"]
        assert conn.session["tracing"] == traced
    await client.close()


# --------------------------------------------------------------------------------------------
# reasoning usage


def usage_of(done: dict[str, Any]) -> dict[str, Any]:
    usage: dict[str, Any] = done["response"]["usage"]
    model = realtime.RealtimeResponseUsage.model_validate_json(json.dumps(usage), strict=True)
    assert model.output_tokens == usage["output_tokens"]
    return usage


async def test_reasoning_tokens_follow_the_effective_effort(server: LocalRealtimeServer) -> None:
    assert [REASONING_TOKENS[e] for e in REASONING_EFFORTS] == sorted(REASONING_TOKENS.values())
    assert REASONING_TOKENS["minimal"] < REASONING_TOKENS["xhigh"]
    client, _ = await open_model(server, REASONING)
    seen: dict[str, int] = {}
    usage = usage_of(await text_turn(client))  # the session's default: low
    seen["low"] = usage["output_token_details"]["reasoning_tokens"]
    for effort in REASONING_EFFORTS:  # the response's own effort wins
        usage = usage_of(await text_turn(client, reasoning={"effort": effort}))
        details = usage["output_token_details"]
        assert details["reasoning_tokens"] == REASONING_TOKENS[effort]
        assert usage["output_tokens"] == (
            details["text_tokens"] + details["audio_tokens"] + details["reasoning_tokens"]
        )
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
        assert details["text_tokens"] > 0
        seen[effort] = details["reasoning_tokens"]
    assert seen["low"] == REASONING_TOKENS["low"] == 16
    assert [seen[e] for e in REASONING_EFFORTS] == [0, 16, 64, 192, 512]
    await configure(client, {"type": "realtime", "reasoning": {"effort": "high"}})
    usage = usage_of(await text_turn(client))  # now the session's high
    assert usage["output_token_details"]["reasoning_tokens"] == 192
    await configure(client, {"type": "realtime", "reasoning": {}})  # no effort set
    usage = usage_of(await text_turn(client))
    assert "reasoning_tokens" not in usage["output_token_details"]
    await client.close()
    plain, _ = await open_model(server, PLAIN)
    usage = usage_of(await text_turn(plain))
    assert "reasoning_tokens" not in usage["output_token_details"]
    await plain.close()


async def test_reasoning_counts_against_max_output_tokens(server: LocalRealtimeServer) -> None:
    client, conn = await open_model(server, REASONING)
    done = await text_turn(client, reasoning={"effort": "medium"}, max_output_tokens=20)
    response = done["response"]
    assert response["status"] == "incomplete" and response["output"] == []
    assert response["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
    usage = usage_of(done)
    assert usage["output_tokens"] == 20 == usage["output_token_details"]["reasoning_tokens"]
    done = await text_turn(client, reasoning={"effort": "low"}, max_output_tokens=24)
    usage = usage_of(done)
    assert done["response"]["status"] == "incomplete" and usage["output_tokens"] <= 24
    assert usage["output_token_details"]["reasoning_tokens"] == 16
    assert done["response"]["output"][0]["status"] == "incomplete"
    await client.close()
    assert conn.logic.active is None


# --------------------------------------------------------------------------------------------
# models past their shutdown date


def assert_model_not_found(done: dict[str, Any], model: str) -> None:
    response = done["response"]
    assert response["status"] == "failed" and response["output"] == []
    assert response["status_details"] == {
        "type": "failed",
        "error": {
            "type": "invalid_request_error",
            "code": "model_not_found",
            "message": f"The model `{model}` does not exist or you do not have access to it.",
        },
    }
    event = validated(done)
    assert event.response.status == "failed"
    assert event.response.status_details.error.code == "model_not_found"
    assert response["usage"]["output_tokens"] == 0


async def test_a_model_past_its_shutdown_fails_every_response() -> None:
    assert SHUTDOWN is not None
    async with LocalRealtimeServer(today=SHUTDOWN) as srv:
        client, conn = await open_model(srv, DEPRECATED)
        assert client.frames[0]["session"]["model"] == DEPRECATED  # the session comes up
        await configure(client, {"type": "realtime", "instructions": "still configurable"})
        await client.send(user_text("hello"))
        await client.send({"type": "response.create", "response": TEXT})
        created = await client.until("response.created")
        done = await client.until("response.done")
        assert done["response"]["id"] == created["response"]["id"]
        assert_model_not_found(done, DEPRECATED)
        types = client.types()
        between = types[types.index("response.created") + 1 : types.index("response.done")]
        assert between == []  # nothing is generated
        # a turn of the server VAD fails the same way (every response does)
        await client.stream(tone(300) + silence(700))
        assert_model_not_found(await client.until("response.done"), DEPRECATED)
        assert [i["role"] for i in conn.logic.items] == ["user", "user"]
        assert conn.logic.active is None
        await client.close()
        check_sent(conn)


async def test_a_deprecated_model_works_until_its_shutdown_date() -> None:
    assert SHUTDOWN is not None
    async with LocalRealtimeServer(today=SHUTDOWN - DAY) as srv:
        client, conn = await open_model(srv, DEPRECATED)
        done = await text_turn(client)
        assert done["response"]["status"] == "completed"
        assert done["response"]["output"][0]["type"] == "message"
        # the day comes while the session is open: its next response fails
        srv.today = SHUTDOWN
        assert_model_not_found(await text_turn(client), DEPRECATED)
        srv.today = SHUTDOWN - DAY
        assert (await text_turn(client))["response"]["status"] == "completed"
        await client.close()
        check_sent(conn)


async def test_models_without_a_shutdown_are_served_on_any_day() -> None:
    async with LocalRealtimeServer(today=datetime.date(2040, 1, 1)) as srv:
        for model in (DEFAULT_MODEL, PLAIN, "some-deployment"):
            client, conn = await open_model(srv, model)
            assert (await text_turn(client))["response"]["status"] == "completed"
            await client.close()
            check_sent(conn)


def transcribing(model: str) -> dict[str, Any]:
    return {
        "type": "realtime",
        "audio": {
            "input": {
                "transcription": {"model": model},
                "turn_detection": {"type": "server_vad", "create_response": False},
            }
        },
    }


@pytest.mark.parametrize("past", [False, True], ids=["day-before", "shutdown-day"])
async def test_input_transcription_with_a_model_past_its_shutdown_fails(past: bool) -> None:
    assert TRANSCRIBE_SHUTDOWN is not None
    today = TRANSCRIBE_SHUTDOWN if past else TRANSCRIBE_SHUTDOWN - DAY
    async with LocalRealtimeServer(today=today) as srv:
        client, conn = await open_model(srv, PLAIN)
        await configure(client, transcribing("whisper-1"))
        await client.stream(tone(300) + silence(700))
        committed = await client.until("input_audio_buffer.committed")
        if not past:
            done = await client.until(TRANSCRIPTION_COMPLETED)
            assert done["item_id"] == committed["item_id"]
            assert TRANSCRIPTION_FAILED not in client.types()
        else:
            failed = await client.until(TRANSCRIPTION_FAILED)
            assert failed["item_id"] == committed["item_id"] and failed["content_index"] == 0
            assert failed["error"] == {
                "type": "invalid_request_error",
                "code": "model_not_found",
                "message": "The model `whisper-1` does not exist or you do not have access to it.",
                "param": None,
            }
            assert validated(failed).error.code == "model_not_found"
            assert "conversation.item.input_audio_transcription.delta" not in client.types()
            # the turn itself goes on; the default model still transcribes
            await configure(client, transcribing(DEFAULT_TRANSCRIPTION_MODEL))
            await client.stream(tone(300) + silence(700))
            await client.until(TRANSCRIPTION_COMPLETED)
        await client.close()
        check_sent(conn)


async def test_a_transcription_session_with_a_model_past_its_shutdown_fails() -> None:
    assert TRANSCRIBE_SHUTDOWN is not None
    async with LocalRealtimeServer(today=TRANSCRIBE_SHUTDOWN, turn_detection=None) as srv:
        client = await RawClient.connect(f"{srv.url}?intent=transcription")
        await client.recv()
        session = {
            "type": "transcription",
            "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}}},
        }
        await configure(client, session)
        await client.stream(tone(300))
        await client.send({"type": "input_audio_buffer.commit"})
        failed = await client.until(TRANSCRIPTION_FAILED)
        assert failed["error"]["code"] == "model_not_found"
        assert "`gpt-4o-transcribe`" in failed["error"]["message"]
        await client.close()
        check_sent(srv.connections[0])


def test_today_must_be_a_date() -> None:
    with pytest.raises(ConfigurationError, match="today"):
        LocalRealtimeServer(today="2027-01-20")  # type: ignore[arg-type]
    server = LocalRealtimeServer(today=datetime.datetime(2027, 1, 20, 23, 59))
    assert server.today == datetime.date(2027, 1, 20)
    with pytest.raises(ConfigurationError, match="today"):
        server.today = 20270120  # type: ignore[assignment]
    assert LocalRealtimeServer().today is None


# --------------------------------------------------------------------------------------------
# the command line


def test_serve_today_flag() -> None:
    assert serve_main(["--port", "0", "--today", "20-01-2027"]) == 2
    assert serve_main(["--port", "0", "--today", "2027-02-30"]) == 2
    with served("--pacing", "fast", "--today", "2027-01-20") as url:
        for model, status in ((DEPRECATED, "failed"), (PLAIN, "completed")):
            with connect(f"{url}?model={model}", max_size=None) as ws:
                item = user_text("hi")
                ws.send(json.dumps(item))
                ws.send(json.dumps({"type": "response.create", "response": TEXT}))
                while True:
                    event = json.loads(ws.recv(10))
                    assert_server_event_valid(event)
                    if event["type"] == "response.done":
                        break
                assert event["response"]["status"] == status
                if status == "failed":
                    assert_model_not_found(event, DEPRECATED)
