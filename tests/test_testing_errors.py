"""The error catalogue (``rtsdk.testing.catalogue.ERRORS``), walked over real sockets.

For every entry, a scenario provokes the error through a real websocket (or a refused upgrade)
against ``LocalRealtimeServer`` and the error object received must be exactly the entry's:
``type``, ``code``, ``param``, ``message`` (its templates filled) and ``event_id`` (the
client's when the entry echoes it, else null), with the entry's HTTP status or close frame.
Every frame the server sends is validated against the ``openai`` GA types (``check_sent``).
Also: every entry has a scenario and a source, the Markdown table is current, and no module of
``rtsdk.testing`` outside the catalogue words an error of its own.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import datetime
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import websockets

from rtsdk.models import MODELS
from rtsdk.testing import ERRORS, Faults, LocalRealtimeServer
from rtsdk.testing.catalogue_doc import markdown
from rtsdk.testing.errors import SUPPORTED_CLIENT_EVENTS, listed
from tests.test_testing_server import (
    MANUAL,
    MODEL,
    RawClient,
    configure,
    silence,
    tone,
)

ROOT = Path(__file__).resolve().parents[1]
DEPRECATED = "gpt-realtime"  # a catalogue model with a shutdown date
RETIRED_TRANSCRIBER = "whisper-1"


@dataclass
class Seen:
    """One error as received, and what the catalogue entry needs to render the expectation."""

    error: dict[str, Any]
    fields: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None  # the client's event_id, for an entry that echoes it
    status: int | None = None  # HTTP status of a refused upgrade
    close: tuple[int, str] | None = None  # the close frame that followed


Scenario = Callable[[LocalRealtimeServer], Awaitable[list[Seen]]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(key: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        assert key not in SCENARIOS, key
        SCENARIOS[key] = fn
        return fn

    return register


async def connect(srv: LocalRealtimeServer, query: str = f"model={MODEL}") -> RawClient:
    client = await RawClient.connect(f"{srv.url}?{query}", check=False)
    assert (await client.recv())["type"] == "session.created"
    return client


async def error_of(client: RawClient) -> dict[str, Any]:
    return (await client.until("error"))["error"]


async def answer(
    srv: LocalRealtimeServer, *events: dict[str, Any], query: str = f"model={MODEL}"
) -> list[dict[str, Any]]:
    """The error objects answering each of ``events`` (sent one by one on a new session)."""
    client = await connect(srv, query)
    errors = []
    for event in events:
        await client.send(event)
        errors.append(await error_of(client))
    await client.close()
    return errors


async def refused(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(url, additional_headers=headers)
    response = info.value.response
    assert response.headers["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.body)["error"]


def user_text(text: str, **kw: Any) -> dict[str, Any]:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return {"type": "conversation.item.create", "item": item, **kw}


def update(session: dict[str, Any], event_id: str = "u") -> dict[str, Any]:
    return {"type": "session.update", "event_id": event_id, "session": session}


def truncate(item_id: str, end_ms: int, event_id: str = "t", index: int = 0) -> dict[str, Any]:
    return {
        "type": "conversation.item.truncate",
        "event_id": event_id,
        "item_id": item_id,
        "content_index": index,
        "audio_end_ms": end_ms,
    }


async def spoken_reply(client: RawClient) -> tuple[str, int]:
    """A text turn answered with audio: the assistant item id and its audio length (ms)."""
    await client.send(user_text("say something"))
    await client.send({"type": "response.create"})
    done = (await client.until("response.done"))["response"]
    item_id = done["output"][0]["id"]
    audio = b"".join(
        base64.b64decode(f["delta"])
        for f in client.frames
        if f["type"] == "response.output_audio.delta" and f["item_id"] == item_id
    )
    return item_id, len(audio) // 48


# -- frames that are not events -----------------------------------------------------------------


@scenario("invalid_json")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    client = await connect(srv)
    await client.ws.send('{"type": "session.update", "event_id": "x"')
    return [Seen(await error_of(client))]


@scenario("binary_frame")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    client = await connect(srv)
    await client.ws.send(json.dumps({"type": "input_audio_buffer.clear"}).encode())
    seen = [Seen(await error_of(client))]
    assert srv.connections[-1].counts_sent["input_audio_buffer.cleared"] == 0
    return seen


@scenario("event_not_object")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    client = await connect(srv)
    seen = []
    for text, got in (("[1, 2]", "an array"), ('"hello"', "a string"), ("null", "null")):
        await client.ws.send(text)
        seen.append(Seen(await error_of(client), {"got": got}))
    return seen


@scenario("unknown_event_type")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    # output_audio_buffer.clear too: the service serves it on WebRTC and SIP only
    errors = await answer(
        srv,
        {"type": "session.nope", "event_id": "e1"},
        {"type": "output_audio_buffer.clear", "event_id": "e2"},
        {"type": "ping"},
    )
    assert listed(SUPPORTED_CLIENT_EVENTS).endswith(", and 'response.cancel'")
    return [
        Seen(errors[0], {"value": "'session.nope'"}, "e1"),
        Seen(errors[1], {"value": "'output_audio_buffer.clear'"}, "e2"),
        Seen(errors[2], {"value": "'ping'"}),
    ]


# -- what the schema rejects --------------------------------------------------------------------


@scenario("unknown_parameter")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    errors = await answer(
        srv,
        update({"type": "realtime", "bogus_field": 1}),
        {"type": "input_audio_buffer.commit", "event_id": "c", "audio": "AA"},
    )
    return [
        Seen(errors[0], {"param": "session.bogus_field"}, "u"),
        Seen(errors[1], {"param": "audio"}, "c"),
    ]


@scenario("missing_required_parameter")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    client = await connect(srv)
    await client.send(update({"instructions": "x"}))
    seen = [Seen(await error_of(client), {"param": "session.type"}, "u")]
    await client.ws.send(json.dumps({"event_id": "m"}))  # no type at all
    seen.append(Seen(await error_of(client), {"param": "type"}, "m"))
    return seen


@scenario("invalid_type")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    client = await connect(srv)
    await client.send(update({"type": "realtime", "instructions": 5}))
    fields = {"param": "session.instructions", "expected": "a string", "got": "an integer"}
    seen = [Seen(await error_of(client), fields, "u")]
    await client.ws.send(json.dumps({"type": ["session.update"], "event_id": "t"}))
    fields = {"param": "type", "expected": "a string", "got": "an array"}
    seen.append(Seen(await error_of(client), fields, "t"))
    return seen


@scenario("invalid_enum_value")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    bad_format = {"audio": {"output": {"format": {"type": "audio/wav"}}}}
    errors = await answer(
        srv,
        update({"type": "realtime", **bad_format}),
        {"type": "response.create", "event_id": "r", "response": {"conversation": "elsewhere"}},
        update({"type": "realtime", "reasoning": {"effort": "ultra"}}, "e"),
        query="model=gpt-realtime-2.1",  # a reasoning model
    )
    formats = "'audio/pcm', 'audio/pcmu', and 'audio/pcma'"
    efforts = "'minimal', 'low', 'medium', 'high', and 'xhigh'"
    return [
        Seen(
            errors[0],
            {
                "param": "session.audio.output.format.type",
                "value": "'audio/wav'",
                "supported": formats,
            },
            "u",
        ),
        Seen(
            errors[1],
            {
                "param": "response.conversation",
                "value": "'elsewhere'",
                "supported": "'auto' and 'none'",
            },
            "r",
        ),
        Seen(
            errors[2],
            {"param": "session.reasoning.effort", "value": "'ultra'", "supported": efforts},
            "e",
        ),
    ]


def _vad(threshold: float) -> dict[str, Any]:
    turn = {"type": "server_vad", "threshold": threshold}
    return {"type": "realtime", "audio": {"input": {"turn_detection": turn}}}


@scenario("integer_below_min_value")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    rate = {
        "type": "realtime",
        "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}},
    }
    errors = await answer(srv, update(rate), truncate("item_x", -11))
    return [
        Seen(
            errors[0],
            {"param": "session.audio.input.format.rate", "minimum": "24000", "value": "16000"},
            "u",
        ),
        Seen(errors[1], {"param": "audio_end_ms", "minimum": "0", "value": "-11"}, "t"),
    ]


@scenario("integer_above_max_value")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    (error,) = await answer(srv, truncate("item_x", 0, index=1))
    return [Seen(error, {"param": "content_index", "maximum": "0", "value": "1"}, "t")]


@scenario("decimal_below_min_value")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    (error,) = await answer(srv, update(_vad(-0.5)))
    param = "session.audio.input.turn_detection.threshold"
    return [Seen(error, {"param": param, "minimum": "0", "value": "-0.5"}, "u")]


@scenario("decimal_above_max_value")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    (error,) = await answer(srv, update(_vad(1.5)))
    param = "session.audio.input.turn_detection.threshold"
    return [Seen(error, {"param": param, "maximum": "1", "value": "1.5"}, "u")]


@scenario("invalid_value")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    (error,) = await answer(
        srv, update({"type": "realtime", "output_modalities": ["audio", "text"]})
    )
    fields = {"param": "session.output_modalities", "reason": 'must be ["audio"] or ["text"]'}
    return [Seen(error, fields, "u")]


# -- input audio --------------------------------------------------------------------------------


def _append(audio: str, event_id: str = "a") -> dict[str, Any]:
    return {"type": "input_audio_buffer.append", "event_id": event_id, "audio": audio}


@scenario("append_bad_base64")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    (error,) = await answer(srv, _append("***"))
    return [Seen(error, {}, "a")]


@scenario("append_empty")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    (error,) = await answer(srv, _append(""))
    return [Seen(error, {}, "a")]


@scenario("append_too_large")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    size = 15 * 1024 * 1024 + 2
    (error,) = await answer(srv, _append(base64.b64encode(bytes(size)).decode()))
    return [Seen(error, {"size": size}, "a")]


@scenario("commit_empty")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    client = await connect(srv)
    await configure(client, MANUAL)
    await client.send({"type": "input_audio_buffer.commit", "event_id": "c0"})
    seen = [Seen(await error_of(client), {"minimum": 100, "duration": 0.0}, "c0")]
    await client.stream(tone(60))
    await client.send({"type": "input_audio_buffer.commit", "event_id": "c1"})
    seen.append(Seen(await error_of(client), {"minimum": 100, "duration": 60.0}, "c1"))
    assert seen[1].error["message"].endswith("only has 60.00ms of audio.")
    return seen


# -- conversation items -------------------------------------------------------------------------


@scenario("item_retrieve_missing")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    client = await connect(srv)
    await client.send(user_text("gone soon", event_id="c"))
    item_id = (await client.until("conversation.item.done"))["item"]["id"]
    await client.send({"type": "conversation.item.delete", "item_id": item_id})
    await client.until("conversation.item.deleted")
    seen = []
    for missing, event_id in ((item_id, "g1"), ("item_never", "g2")):  # deleted, never there
        await client.send(
            {"type": "conversation.item.retrieve", "event_id": event_id, "item_id": missing}
        )
        seen.append(Seen(await error_of(client), {"item_id": missing}, event_id))
    return seen


@scenario("item_delete_missing")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    (error,) = await answer(
        srv, {"type": "conversation.item.delete", "event_id": "d", "item_id": "yo"}
    )
    return [Seen(error, {"item_id": "yo"}, "d")]


@scenario("item_truncate_missing")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    (error,) = await answer(srv, truncate("item_nope", 0))
    return [Seen(error, {"item_id": "item_nope"}, "t")]


@scenario("truncate_not_audio")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    client = await connect(srv)
    await client.send(user_text("a user item"))
    item_id = (await client.until("conversation.item.done"))["item"]["id"]
    await client.send(truncate(item_id, 0))
    return [Seen(await error_of(client), {}, "t")]


@scenario("truncate_past_audio")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    client = await connect(srv)
    await configure(client, MANUAL)
    item_id, length = await spoken_reply(client)
    await client.send(truncate(item_id, length + 500))
    return [Seen(await error_of(client), {"length": length, "end": length + 500}, "t")]


@scenario("item_create_missing_previous")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    (error,) = await answer(srv, user_text("x", event_id="p", previous_item_id="item_gone"))
    return [Seen(error, {"previous_item_id": "item_gone"}, "p")]


@scenario("item_create_duplicate_id")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    client = await connect(srv)
    event = user_text("first")
    event["item"]["id"] = "item_mine"
    await client.send(event)
    await client.until("conversation.item.done")
    await client.send({**event, "event_id": "d"})
    return [Seen(await error_of(client), {"item_id": "item_mine"}, "d")]


@scenario("item_create_assistant_audio")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    item = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_audio", "audio": "AAAA"}],
    }
    (error,) = await answer(
        srv, {"type": "conversation.item.create", "event_id": "aa", "item": item}
    )
    return [Seen(error, {"index": 0}, "aa")]


@scenario("item_create_bad_audio")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    content = [{"type": "input_text", "text": "hi"}, {"type": "input_audio", "audio": "***"}]
    item = {"type": "message", "role": "user", "content": content}
    (error,) = await answer(
        srv, {"type": "conversation.item.create", "event_id": "b", "item": item}
    )
    return [Seen(error, {"index": 1}, "b")]


@scenario("mcp_approval_unknown_request")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    item = {"type": "mcp_approval_response", "approval_request_id": "mcpr_x", "approve": True}
    (error,) = await answer(
        srv, {"type": "conversation.item.create", "event_id": "m", "item": item}
    )
    return [Seen(error, {"request_id": "mcpr_x"}, "m")]


@scenario("response_input_unknown_item")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    given = [{"type": "item_reference", "id": "item_x"}]
    event = {"type": "response.create", "event_id": "r", "response": {"input": given}}
    (error,) = await answer(srv, event)
    return [Seen(error, {"index": 0, "item_id": "item_x"}, "r")]


# -- responses ----------------------------------------------------------------------------------


@scenario("response_already_active")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    srv.pacing = "realtime"
    client = await connect(srv)
    await configure(client, MANUAL)
    await client.send(user_text("talk for a while please, about anything at all"))
    await client.send({"type": "response.create"})
    response_id = (await client.until("response.created"))["response"]["id"]
    await client.send({"type": "response.create", "event_id": "r2"})
    seen = [Seen(await error_of(client), {"response_id": response_id}, "r2")]
    await client.send({"type": "response.cancel"})
    await client.until("response.done")
    return seen


@scenario("response_cancel_not_active")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    errors = await answer(
        srv,
        {"type": "response.cancel", "event_id": "c1"},
        {"type": "response.cancel", "event_id": "c2", "response_id": "resp_gone"},
    )
    return [Seen(errors[0], {}, "c1"), Seen(errors[1], {}, "c2")]


# -- session.update -----------------------------------------------------------------------------


@scenario("session_type_to_realtime")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    (error,) = await answer(srv, update({"type": "transcription"}))
    return [Seen(error, {}, "u")]


@scenario("session_type_to_transcription")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    (error,) = await answer(srv, update({"type": "realtime"}), query="intent=transcription")
    return [Seen(error, {}, "u")]


@scenario("session_model_change")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    (error,) = await answer(srv, update({"type": "realtime", "model": "other-model"}))
    return [Seen(error, {}, "u")]


@scenario("tracing_locked")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    client = await connect(srv)
    await configure(client, {"type": "realtime", "tracing": {"workflow_name": "support"}})
    await client.send(update({"type": "realtime", "tracing": "auto"}))
    return [Seen(await error_of(client), {}, "u")]


@scenario("voice_locked")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    client = await connect(srv)
    await configure(client, MANUAL)
    await spoken_reply(client)
    await client.send(update({"type": "realtime", "audio": {"output": {"voice": "cedar"}}}))
    return [Seen(await error_of(client), {}, "u")]


@scenario("transcription_turn_detection")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    whisper = {
        "type": "transcription",
        "audio": {"input": {"transcription": {"model": "gpt-realtime-whisper"}}},
    }
    (error,) = await answer(srv, update(whisper), query="intent=transcription")
    return [Seen(error, {}, "u")]


@scenario("unsupported_parameter")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    errors = await answer(
        srv,
        update({"type": "realtime", "parallel_tool_calls": False}),
        {"type": "response.create", "event_id": "r", "response": {"reasoning": {"effort": "low"}}},
    )
    return [
        Seen(
            errors[0], {"param": "session.parallel_tool_calls", "name": "parallel_tool_calls"}, "u"
        ),
        Seen(errors[1], {"param": "response.reasoning.effort", "name": "reasoning.effort"}, "r"),
    ]


@scenario("not_in_transcription_session")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    errors = await answer(
        srv,
        {"type": "response.create", "event_id": "e1"},
        {"type": "response.cancel", "event_id": "e2"},
        query="intent=transcription",
    )
    return [
        Seen(errors[0], {"event_type": "response.create"}, "e1"),
        Seen(errors[1], {"event_type": "response.cancel"}, "e2"),
    ]


# -- the connection -----------------------------------------------------------------------------


async def _closing(
    srv: LocalRealtimeServer, faults: Faults
) -> tuple[dict[str, Any], tuple[int, str]]:
    srv.faults_for_next_connections(faults)
    client = await RawClient.connect(f"{srv.url}?model={MODEL}", check=False)
    error = await error_of(client)
    await asyncio.wait_for(client.ws.wait_closed(), 5)
    assert client.ws.close_code is not None
    return error, (client.ws.close_code, client.ws.close_reason or "")


@scenario("session_expired")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    error, close = await _closing(srv, Faults(session_max_seconds=0.2))
    return [Seen(error, {"duration": "0.2 seconds"}, close=close)]


@scenario("auth_error_event")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    error, close = await _closing(srv, Faults(refuse_auth="error_event"))
    return [Seen(error, close=close)]


@scenario("injected_server_error")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    srv.faults_for_next_connections(Faults(garbage_after_frames=1, garbage="error_event"))
    client = await connect(srv)
    return [Seen(await error_of(client))]


# -- refused upgrades ---------------------------------------------------------------------------


@scenario("http_not_found")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    status, error = await refused(f"ws://127.0.0.1:{srv.port}/v1/other")
    return [Seen(error, {"path": "/v1/other"}, status=status)]


@scenario("http_missing_model")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    seen = []
    for path in ("/v1/realtime", "/openai/v1/realtime"):
        status, error = await refused(f"ws://127.0.0.1:{srv.port}{path}")
        seen.append(Seen(error, status=status))
    return seen


@scenario("http_missing_deployment")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    status, error = await refused(
        f"ws://127.0.0.1:{srv.port}/openai/realtime?api-version=2025-04-01-preview"
    )
    return [Seen(error, status=status)]


@scenario("http_missing_api_version")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    status, error = await refused(f"ws://127.0.0.1:{srv.port}/openai/realtime?deployment=dep")
    return [Seen(error, status=status)]


@scenario("http_bad_intent")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    status, error = await refused(f"{srv.url}?intent=translation")
    return [Seen(error, {"intent": "'translation'"}, status=status)]


@scenario("http_model_with_intent")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    status, error = await refused(f"{srv.url}?intent=transcription&model=gpt-realtime")
    return [Seen(error, status=status)]


@scenario("http_invalid_api_key")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    srv.faults_for_next_connections(Faults(refuse_auth="http"))
    seen = []
    status, error = await refused(f"{srv.url}?model={MODEL}")
    seen.append(Seen(error, status=status))
    async with LocalRealtimeServer(api_key="sk-right") as keyed:
        for headers in ({"Authorization": "Bearer sk-wrong"}, {"api-key": "sk-wrong"}):
            status, error = await refused(f"{keyed.url}?model={MODEL}", headers)
            assert "sk-" not in json.dumps(error)
            seen.append(Seen(error, status=status))
    return seen


@scenario("http_missing_api_key")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    async with LocalRealtimeServer(api_key="sk-right") as keyed:
        status, error = await refused(f"{keyed.url}?model={MODEL}")
    return [Seen(error, status=status)]


# -- failures carried by other events -----------------------------------------------------------


@scenario("response_model_not_found")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    shutdown = MODELS[DEPRECATED].shutdown
    assert shutdown is not None
    srv.today = shutdown + datetime.timedelta(days=1)
    client = await connect(srv, f"model={DEPRECATED}")
    await client.send(user_text("hello"))
    await client.send({"type": "response.create"})
    done = (await client.until("response.done"))["response"]
    assert done["status"] == "failed" and done["status_details"]["type"] == "failed"
    return [Seen(done["status_details"]["error"], {"model": DEPRECATED})]


async def _transcribed_turn(srv: LocalRealtimeServer, model: str) -> dict[str, Any]:
    client = await connect(srv)
    transcription = {"transcription": {"model": model}, "turn_detection": None}
    await configure(client, {"type": "realtime", "audio": {"input": transcription}})
    await client.stream(tone(300) + silence(100))
    await client.send({"type": "input_audio_buffer.commit"})
    return await client.until("conversation.item.input_audio_transcription.failed")


@scenario("transcription_failed")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    srv.fail_next_transcriptions(1)
    failed = await _transcribed_turn(srv, "gpt-4o-transcribe")
    return [Seen(failed["error"], {"item_id": failed["item_id"]})]


@scenario("transcription_model_not_found")
async def _(srv: LocalRealtimeServer) -> list[Seen]:
    shutdown = MODELS[RETIRED_TRANSCRIBER].shutdown
    assert shutdown is not None
    srv.today = shutdown + datetime.timedelta(days=1)
    failed = await _transcribed_turn(srv, RETIRED_TRANSCRIBER)
    return [Seen(failed["error"], {"model": RETIRED_TRANSCRIBER})]


# -- the walk -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(ERRORS))
async def test_every_entry_is_sent_exactly_as_catalogued(
    server: LocalRealtimeServer, key: str
) -> None:
    entry = ERRORS[key]
    seen = await SCENARIOS[key](server)
    assert seen, key
    for one in seen:
        expected = entry.render(**one.fields)
        if entry.carrier == "error":
            expected["event_id"] = one.event_id if entry.echoes_event_id else None
        else:
            assert one.event_id is None
        assert one.error == expected
        assert one.status == entry.status
        assert one.close == entry.closes


def test_every_entry_has_a_scenario_and_a_source() -> None:
    assert set(SCENARIOS) == set(ERRORS)
    for key, entry in ERRORS.items():
        assert entry.key == key
        assert entry.trigger.strip() and entry.message.strip(), key
        assert entry.evidence in ("seen", "partly seen", "not seen"), key
        assert len(entry.source.strip()) > 20, key
        if entry.evidence == "not seen":
            assert entry.source.startswith("no public source"), key
        if entry.carrier == "http":
            assert entry.status is not None and 400 <= entry.status < 500, key


#: Codes public clients route on (pipecat, livekit, the agents SDKs, rtsdk itself): a change
#: here breaks them, so it must be deliberate.
ROUTED = {
    "response_cancel_not_active": "response_cancel_not_active",
    "response_already_active": "conversation_already_has_active_response",
    "commit_empty": "input_audio_buffer_commit_empty",
    "session_expired": "session_expired",
    "auth_error_event": "invalid_api_key",
    "http_invalid_api_key": "invalid_api_key",
    "truncate_not_audio": "unsupported_content_type",
    "truncate_past_audio": None,
    "voice_locked": "cannot_update_voice",
    "invalid_json": "invalid_json",
    "unknown_parameter": "unknown_parameter",
    "item_create_missing_previous": "item_create_invalid_previous_item_id",
    "response_model_not_found": "model_not_found",
    "item_retrieve_missing": "item_retrieve_invalid_item_id",
    "item_delete_missing": "item_delete_invalid_item_id",
    "item_truncate_missing": "item_truncate_invalid_item_id",
}


def test_the_codes_clients_route_on() -> None:
    assert {key: ERRORS[key].code for key in ROUTED} == ROUTED


def test_the_table_in_docs_is_current() -> None:
    doc = ROOT / "docs" / "server-errors.md"
    assert doc.read_text(encoding="utf-8") == markdown(), (
        "run: python -m rtsdk.testing.catalogue_doc > docs/server-errors.md"
    )


def _words_an_error(node: ast.AST) -> bool:
    """A dict literal or a call that spells an error object of its own (a code and a message)."""
    if isinstance(node, ast.Dict):
        keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
        return {"code", "message"} <= keys
    if isinstance(node, ast.Call):
        names = {k.arg for k in node.keywords}
        return {"code", "message"} <= names
    return False


def test_no_module_outside_the_catalogue_words_an_error() -> None:
    package = ROOT / "rtsdk" / "testing"
    own = {
        "errors.py",
        "catalogue.py",
        "catalogue_requests.py",
        "catalogue_wire.py",
        "catalogue_doc.py",
        "catalogue_live.py",
        "catalogue_translation.py",
        "catalogue_sip.py",
    }
    for path in sorted(package.glob("*.py")):
        if path.name in own:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            assert not _words_an_error(node), f"{path.name}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value not in ("invalid_request_error", "server_error"), path.name
