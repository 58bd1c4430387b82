"""Today's models through the public API against the local server: the defaults, the
deprecation warning and the refusal after the shutdown date, the reasoning / truncation /
tracing / stored prompt / include options (validated against the openai 3.57 types), parallel
tool calls and a barge-in during a spoken preamble."""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from rtsdk import AsyncRealtimeAIClient, ModelUnavailableError, RealtimeAIOptions
from rtsdk import models as catalogue
from rtsdk.exceptions import ConfigurationError
from rtsdk.session.events import ToolResultEvent
from rtsdk.testing import LocalRealtimeServer

from .client_helpers import RealTimePlayback, Recorder
from .conformance import assert_client_event_valid
from .test_client import options

session_request = pytest.importorskip("openai.types.realtime.realtime_session_create_request")

BEFORE = datetime.date(2026, 12, 7)
AFTER = datetime.date(2027, 2, 1)


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer(pacing="fast", today=BEFORE) as srv:
        yield srv
    for conn in srv.connections:
        for frame in conn.received:
            assert isinstance(frame, dict)
            assert_client_event_valid(frame)


async def start(
    server: LocalRealtimeServer, *, tools: list[Any] | None = None, **kw: Any
) -> tuple[AsyncRealtimeAIClient, Recorder]:
    kw.setdefault("turn_detection", "none")
    client = AsyncRealtimeAIClient(options(server, **kw), tools=tools or [])
    rec = Recorder()
    client.on("*", rec)
    await client.start()
    return client, rec


def sent(server: LocalRealtimeServer, kind: str, conn: int = 0) -> list[dict[str, Any]]:
    return [
        f
        for f in server.connections[conn].received
        if isinstance(f, dict) and f.get("type") == kind
    ]


# --------------------------------------------------------------------------------------------
# defaults and deprecations


async def test_defaults_carry_the_current_models(server: LocalRealtimeServer) -> None:
    assert RealtimeAIOptions().model == "gpt-realtime-2.1"
    assert RealtimeAIOptions(session_type="transcription").transcription_settings().model == (
        "gpt-transcribe"
    )
    client, rec = await start(server, output_modality="text")
    assert "model=gpt-realtime-2.1" in server.connections[0].path
    assert server.connections[0].session["model"] == "gpt-realtime-2.1"
    await client.send_text("hi")
    await rec.wait("response.done")
    await client.stop()


async def test_a_deprecated_model_warns_once_and_still_works(
    server: LocalRealtimeServer, caplog: pytest.LogCaptureFixture
) -> None:
    catalogue._forget_warnings()
    caplog.set_level(logging.WARNING, "rtsdk.models")
    with pytest.warns(DeprecationWarning, match="'gpt-realtime'.*2027-01-20.*gpt-realtime-2.1"):
        first, rec = await start(server, model="gpt-realtime", output_modality="text")
    await first.send_text("still here?")
    done = await rec.wait("response.done")
    assert done.response["status"] == "completed"  # deprecated is not gone
    second, _ = await start(server, model="gpt-realtime", output_modality="text")  # quiet now
    notes = [r.getMessage() for r in caplog.records if r.name == "rtsdk.models"]
    assert len(notes) == 1 and "2027-01-20" in notes[0]
    await first.stop()
    await second.stop()


async def test_after_the_shutdown_the_refusal_names_the_date_and_replacement() -> None:
    catalogue._forget_warnings()
    async with LocalRealtimeServer(pacing="fast", today=AFTER) as srv:
        with pytest.warns(DeprecationWarning):
            client, rec = await start(srv, model="gpt-realtime", output_modality="text")
        await client.send_text("hello?")
        await rec.wait("rtsdk.disconnected")
        failure = client.failure
        assert isinstance(failure, ModelUnavailableError) and failure.model == "gpt-realtime"
        text = str(failure)
        assert "model_not_found" in text
        assert catalogue.deprecation_notice("gpt-realtime") in text  # the warning's words
        await client.stop()


# --------------------------------------------------------------------------------------------
# the new session options

NEW_FIELDS: dict[str, Any] = {
    "reasoning_effort": "high",
    "parallel_tool_calls": True,
    "truncation": "retention_ratio",
    "retention_ratio": 0.7,
    "truncation_token_limit": 8000,
    "tracing": {"workflow_name": "support", "group_id": "g1", "metadata": {"shop": "7"}},
    "prompt_template": {"id": "pmpt_123", "version": "2", "variables": {"city": "Oslo"}},
    "transcription_model": "gpt-transcribe",
    "transcription_language": "en",
    "include_logprobs": True,
}


async def test_every_new_option_reaches_the_session(server: LocalRealtimeServer) -> None:
    client, rec = await start(server, **NEW_FIELDS)
    update = sent(server, "session.update")[0]["session"]
    session_request.RealtimeSessionCreateRequest.model_validate(update)  # the package agrees
    assert update["reasoning"] == {"effort": "high"}
    assert update["parallel_tool_calls"] is True
    assert update["truncation"] == {
        "type": "retention_ratio",
        "retention_ratio": 0.7,
        "token_limits": {"post_instructions": 8000},
    }
    assert update["tracing"] == NEW_FIELDS["tracing"]
    assert update["prompt"] == NEW_FIELDS["prompt_template"]
    assert update["include"] == ["item.input_audio_transcription.logprobs"]
    # gpt-transcribe takes a list of expected languages
    assert update["audio"]["input"]["transcription"] == {
        "model": "gpt-transcribe",
        "languages": ["en"],
    }
    confirmed = (await rec.wait("session.updated")).session
    for key in ("reasoning", "parallel_tool_calls", "truncation", "tracing", "prompt", "include"):
        assert confirmed[key] == update[key], key
    await client.stop()


async def test_update_session_changes_them_and_bad_values_send_nothing(
    server: LocalRealtimeServer,
) -> None:
    client, rec = await start(server)
    await client.update_session(reasoning_effort="minimal", truncation="disabled")
    await rec.wait("session.updated", lambda e: e.session.get("reasoning") == {"effort": "minimal"})
    assert server.connections[0].session["truncation"] == "disabled"
    updates = len(sent(server, "session.update"))
    for bad, match in [
        ({"reasoning_effort": "ultra"}, "reasoning_effort must be one of"),
        (
            {"truncation": "retention_ratio", "retention_ratio": 1.5},
            r"retention_ratio .*\[0.0, 1.0\]",
        ),
        ({"truncation": "retention_ratio"}, "retention_ratio is required"),
        ({"truncation_token_limit": 100}, "applies to truncation='retention_ratio' only"),
        ({"tracing": {"name": "x"}}, "tracing takes only the keys"),
        ({"prompt_template": {"version": "1"}}, "prompt_template must be a dict with a string"),
        ({"include_logprobs": True}, "include_logprobs needs transcription_model"),
    ]:
        with pytest.raises(ConfigurationError, match=match):
            await client.update_session(**bad)
    with pytest.raises(ConfigurationError, match=r"reasoning\.effort"):
        await client.generate_response(reasoning="ultra")
    await client.drain()
    assert len(sent(server, "session.update")) == updates
    assert sent(server, "response.create") == []
    await client.stop()


def test_reasoning_fields_need_a_reasoning_model() -> None:
    for field, value in (("reasoning_effort", "low"), ("parallel_tool_calls", False)):
        with pytest.raises(ConfigurationError, match=f"{field} needs a reasoning model"):
            RealtimeAIOptions(url="ws://127.0.0.1:1/v1", model="gpt-realtime-1.5", **{field: value})
        # a name the catalogue does not know (an Azure deployment, a newer model) is trusted
        RealtimeAIOptions(url="ws://127.0.0.1:1/v1", model="my-deployment", **{field: value})
    with pytest.raises(ConfigurationError, match="reasoning_effort cannot be used"):
        RealtimeAIOptions(session_type="transcription", reasoning_effort="low")


async def test_reasoning_per_response(server: LocalRealtimeServer) -> None:
    client, _ = await start(server, output_modality="text")
    handle = await client.generate_response(reasoning="xhigh", parallel_tool_calls=False)
    result = await handle.result(10)
    create = sent(server, "response.create")[-1]["response"]
    assert create["reasoning"] == {"effort": "xhigh"} and create["parallel_tool_calls"] is False
    assert result.usage is not None
    assert result.usage["output_token_details"]["reasoning_tokens"] > 0
    await client.stop()
    old, _ = await start(server, model="gpt-realtime-1.5", output_modality="text")
    with pytest.raises(ConfigurationError, match="reasoning needs a reasoning model"):
        await old.generate_response(reasoning="low")
    await old.stop()


# --------------------------------------------------------------------------------------------
# parallel tool calls and preambles


async def test_parallel_calls_one_slow_one_failing(server: LocalRealtimeServer) -> None:
    server.script_function_call(name="slow_lookup", arguments={"term": "tide"})
    server.script_function_call(name="broken_lookup", arguments={"term": "moon"})
    server.script_function_call(name="quick_lookup", arguments={"term": "sun"})
    threads: list[str] = []

    def slow_lookup(term: str) -> str:
        """Slow: runs on the worker pool."""
        threads.append(threading.current_thread().name)
        time.sleep(0.4)
        return f"{term}: high at noon"

    async def broken_lookup(term: str) -> str:
        """Fails."""
        raise RuntimeError(f"no data for {term}")

    async def quick_lookup(term: str) -> str:
        """Quick: runs on the loop."""
        return f"{term}: up"

    client, rec = await start(
        server,
        output_modality="text",
        tools=[slow_lookup, broken_lookup, quick_lookup],
        parallel_tool_calls=True,
    )
    started = time.monotonic()
    await client.send_text("look these up")
    calls_done = await rec.wait("response.done", lambda e: len(e.response["output"]) == 3)
    follow = await rec.wait("response.done", lambda e: e is not calls_done, timeout=10)
    assert time.monotonic() - started < 3.0
    call_ids = [item["call_id"] for item in calls_done.response["output"]]
    outputs = [
        f["item"]
        for f in sent(server, "conversation.item.create")
        if f["item"]["type"] == "function_call_output"
    ]
    assert [o["call_id"] for o in outputs] == call_ids  # every output, in call order
    assert json.loads(outputs[1]["output"]) == {"error": "RuntimeError: no data for moon"}
    assert len(sent(server, "response.create")) == 2  # the turn's, then one after the last output
    results = [e for e in rec.events if isinstance(e, ToolResultEvent)]
    assert [r.call_id for r in results] == call_ids
    assert results[0].seconds >= 0.35 and results[1].error == "RuntimeError: no data for moon"
    assert results[2].error is None and results[2].output == "sun: up"
    assert threads and threads[0] != threading.main_thread().name
    assert "returned" in json.dumps(follow.response["output"])
    await client.stop()


async def test_barge_in_during_a_preamble_keeps_the_tool_result() -> None:
    # the audio runs 600 ms ahead of real time, so the call is done while the preamble plays
    async with LocalRealtimeServer(pacing="realtime", realtime_lead_ms=600, today=BEFORE) as srv:
        srv.script_function_call(
            name="check_order",
            arguments={"order": "A7"},
            preamble="Let me look that order up for you, one moment please.",
            times=1,
        )
        ran = asyncio.Event()

        async def check_order(order: str) -> str:
            """Look an order up."""
            await asyncio.sleep(0.3)
            ran.set()
            return f"{order} ships today"

        client, rec = await start(srv, tools=[check_order])
        playback = RealTimePlayback()
        client.service.playback = playback
        await client.send_text("where is my order?")
        call = await rec.wait("response.function_call_arguments.done", timeout=10)
        calling = await rec.wait("response.done", timeout=5)
        kinds = [item["type"] for item in calling.response["output"]]
        assert kinds == ["message", "function_call"] and calling.response["status"] == "completed"
        preamble_id = calling.response["output"][0]["id"]
        assert playback.queue, "the preamble should still be playing"
        await client.interrupt()  # the user talks over the preamble while the tool runs
        truncate = await rec.wait("conversation.item.truncated", timeout=5)
        assert truncate.item_id == preamble_id != call.item_id
        assert 0 < truncate.audio_end_ms < playback.received[preamble_id] / 24
        await asyncio.wait_for(ran.wait(), 5)
        result = await rec.wait("rtsdk.tool_result", timeout=5)
        assert result.output == "A7 ships today"
        outputs = [
            f["item"]
            for f in sent(srv, "conversation.item.create")
            if f["item"]["type"] == "function_call_output"
        ]
        assert [o["call_id"] for o in outputs] == [call.call_id]
        await rec.wait("response.done", lambda e: "ships today" in json.dumps(e.response))
        await client.stop()
