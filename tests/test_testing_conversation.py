"""Local server: tool calls, cancel, barge-in and truncate, items, G.711, out-of-band responses."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

import numpy as np
import pytest

from rtsdk import kernels
from rtsdk.testing import LocalRealtimeServer
from tests.test_testing_server import (
    MANUAL,
    audio_of,
    configure,
    open_client,
    silence,
    subsequence,
    tone,
)

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}

#: A day on which every model these tests name is still served.
SERVED = datetime.date(2026, 12, 1)


def user_text(text: str, **kw: Any) -> dict[str, Any]:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return {"type": "conversation.item.create", "item": item, **kw}


# --------------------------------------------------------------------------------------------
# tool calls


async def test_tool_call_round_trip(server: LocalRealtimeServer) -> None:
    server.pacing = "realtime"  # argument deltas are paced: R1 is still active below
    script = server.script_function_call(
        when_text_contains="weather", name="get_weather", arguments={"city": "Paris"}
    )
    client, conn = await open_client(server)
    await configure(client, {"type": "realtime", "tools": [WEATHER_TOOL]})
    await client.send(user_text("What is the weather in Paris?"))
    await client.send({"type": "response.create", "event_id": "r1"})
    await client.send({"type": "response.create", "event_id": "r2"})  # while R1 is active
    error = (await client.until("error"))["error"]
    assert error["code"] == "conversation_already_has_active_response"
    assert error["event_id"] == "r2" and error["type"] == "invalid_request_error"
    done = await client.until("response.done")
    assert error["message"].startswith(
        f"Conversation already has an active response in progress: {done['response']['id']}."
    )
    (call,) = done["response"]["output"]
    assert call["type"] == "function_call" and call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == {"city": "Paris"} and call["status"] == "completed"
    assert subsequence(
        [
            "response.created",
            "response.output_item.added",
            "conversation.item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "conversation.item.done",
            "response.output_item.done",
            "response.done",
        ],
        client.types(),
    )
    args = "".join(
        f["delta"] for f in client.frames if f["type"] == "response.function_call_arguments.delta"
    )
    arg_done = next(
        f for f in client.frames if f["type"] == "response.function_call_arguments.done"
    )
    assert args == arg_done["arguments"] == call["arguments"]
    assert arg_done["call_id"] == call["call_id"] and arg_done["item_id"] == call["id"]
    assert script.fired == 1
    # the output goes in; the server does not answer it by itself
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": '{"temp_c":18}'}
    await client.send({"type": "conversation.item.create", "event_id": "o1", "item": output})
    added = await client.until("conversation.item.done")
    assert added["item"]["call_id"] == call["call_id"]
    await configure(client, {"type": "realtime"})  # barrier: no response was started meanwhile
    assert conn.counts_sent["response.created"] == 1
    await client.send({"type": "response.create", "event_id": "r3"})
    second = await client.until("response.done")
    said = second["response"]["output"][0]["content"][0]["transcript"]
    assert said.endswith('get_weather returned {"temp_c":18}')
    await client.close()


async def test_scripts_need_a_declared_tool_and_respect_tool_choice(
    server: LocalRealtimeServer,
) -> None:
    server.script_function_call(name="get_weather", arguments='{"city":"Oslo"}')
    client, _ = await open_client(server)
    text = {"output_modalities": ["text"]}
    await client.send(user_text("hello"))
    await client.send({"type": "response.create", "response": text})
    plain = await client.until("response.done")  # not declared: no call
    assert plain["response"]["output"][0]["type"] == "message"
    await configure(client, {"type": "realtime", "tools": [WEATHER_TOOL], "tool_choice": "none"})
    await client.send({"type": "response.create", "response": text})
    assert (await client.until("response.done"))["response"]["output"][0]["type"] == "message"
    await client.send({"type": "response.create", "response": {**text, "tool_choice": "auto"}})
    call = (await client.until("response.done"))["response"]["output"][0]
    assert call["type"] == "function_call" and call["arguments"] == '{"city":"Oslo"}'
    await client.close()


async def test_a_spoken_turn_can_trigger_a_script(server: LocalRealtimeServer) -> None:
    server.script_function_call(name="get_weather", arguments={"city": "Rome"}, times=1)
    client, _ = await open_client(server)
    await configure(client, {"type": "realtime", "tools": [WEATHER_TOOL]})
    await client.stream(tone(300) + silence(700))
    first = await client.until("response.done")
    assert first["response"]["output"][0]["type"] == "function_call"
    await client.stream(tone(300) + silence(700))
    second = await client.until("response.done")  # times=1: the echo again
    assert second["response"]["output"][0]["type"] == "message"
    await client.close()


# --------------------------------------------------------------------------------------------
# cancel, barge-in, truncate


async def test_response_cancel(server: LocalRealtimeServer) -> None:
    server.pacing = "realtime"
    client, _ = await open_client(server)
    await client.send(user_text("please talk for a while about anything at all"))
    await client.send({"type": "response.create"})
    delta = await client.until("response.output_audio.delta")
    await client.send({"type": "response.cancel", "event_id": "k1"})
    done = await client.until("response.done")
    response = done["response"]
    assert response["status"] == "cancelled"
    assert response["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    (item,) = response["output"]
    assert item["status"] == "incomplete" and item["id"] == delta["item_id"]
    assert subsequence(
        [
            "response.output_audio.done",
            "response.output_audio_transcript.done",
            "response.content_part.done",
            "conversation.item.done",
            "response.output_item.done",
            "response.done",
        ],
        client.types(),
    )
    await client.send({"type": "response.cancel", "event_id": "k2"})
    error = (await client.until("error"))["error"]
    assert error["code"] == "response_cancel_not_active" and error["event_id"] == "k2"
    await client.send({"type": "response.cancel", "event_id": "k3", "response_id": response["id"]})
    assert (await client.until("error"))["error"]["event_id"] == "k3"
    await client.close()


async def test_barge_in_cancels_and_truncate_checks_its_bounds(
    server: LocalRealtimeServer,
) -> None:
    server.pacing = "realtime"
    client, conn = await open_client(server)
    await configure(
        client,
        {
            "type": "realtime",
            "audio": {
                "input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 200}}
            },
        },
    )
    await client.stream(tone(1500) + silence(300))
    first = await client.until("response.output_audio.delta")
    item_id, response_id = first["item_id"], first["response_id"]
    await client.stream(tone(200))  # the caller talks over the assistant
    started = await client.until("input_audio_buffer.speech_started")
    done = await client.until("response.done")
    assert client.frames.index(started) < client.frames.index(done)
    response = done["response"]
    assert response["id"] == response_id and response["status"] == "cancelled"
    assert response["status_details"]["reason"] == "turn_detected"
    assert response["output"][0]["status"] == "incomplete"
    heard = audio_of(client.frames, item_id)
    generated_ms = len(heard) // 48
    assert 0 < generated_ms < 1800  # cut short
    # bounds: past the audio generated for the item
    await client.send(
        {
            "type": "conversation.item.truncate",
            "event_id": "t1",
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": generated_ms + 500,
        }
    )
    error = (await client.until("error"))["error"]
    assert (error["code"], error["param"], error["event_id"]) == (None, None, "t1")
    assert error["message"] == (
        f"Audio content of {generated_ms}ms is already shorter than {generated_ms + 500}ms"
    )
    # a user item, an unknown item
    user_id = started["item_id"]
    await client.stream(silence(300))
    await client.until("conversation.item.done")
    for bad, code in (
        (user_id, "unsupported_content_type"),
        ("item_nope", "item_truncate_invalid_item_id"),
    ):
        await client.send(
            {
                "type": "conversation.item.truncate",
                "event_id": "t2",
                "item_id": bad,
                "content_index": 0,
                "audio_end_ms": 10,
            }
        )
        error = (await client.until("error"))["error"]
        assert (error["code"], error["event_id"]) == (code, "t2")
    # within bounds
    await client.send(
        {
            "type": "conversation.item.truncate",
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": 120,
        }
    )
    truncated = await client.until("conversation.item.truncated")
    assert (truncated["item_id"], truncated["content_index"], truncated["audio_end_ms"]) == (
        item_id,
        0,
        120,
    )
    await client.send({"type": "conversation.item.retrieve", "item_id": item_id})
    retrieved = (await client.until("conversation.item.retrieved"))["item"]
    assert base64.b64decode(retrieved["content"][0]["audio"]) == heard[: 120 * 48]
    await client.until("response.done")  # the interrupting turn's own response
    assert conn.counts_sent["response.done"] == 2
    await client.close()


# --------------------------------------------------------------------------------------------
# items


async def test_item_create_delete_retrieve(server: LocalRealtimeServer) -> None:
    client, conn = await open_client(server)
    await configure(client, MANUAL)
    await client.send(user_text("first", event_id="a"))
    first = (await client.until("conversation.item.done"))["item"]
    audio = tone(200)
    item = {
        "type": "message",
        "role": "user",
        "id": "item_mine",
        "content": [{"type": "input_audio", "audio": base64.b64encode(audio).decode()}],
    }
    await client.send(
        {"type": "conversation.item.create", "item": item, "previous_item_id": "root"}
    )
    added = await client.until("conversation.item.added")
    assert added["item"]["id"] == "item_mine" and added["previous_item_id"] is None
    assert added["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    await client.send(user_text("middle", previous_item_id="item_mine"))
    middle = await client.until("conversation.item.added")
    assert middle["previous_item_id"] == "item_mine"
    assert [i["id"] for i in conn.logic.items] == ["item_mine", middle["item"]["id"], first["id"]]
    # retrieve carries the audio
    await client.send(
        {"type": "conversation.item.retrieve", "event_id": "g", "item_id": "item_mine"}
    )
    got = (await client.until("conversation.item.retrieved"))["item"]
    assert base64.b64decode(got["content"][0]["audio"]) == audio
    # errors: duplicate id, unknown previous item, unknown ids
    client.check = False
    await client.send({"type": "conversation.item.create", "event_id": "d", "item": item})
    assert (await client.until("error"))["error"]["param"] == "item.id"
    await client.send(user_text("x", event_id="p", previous_item_id="item_gone"))
    error = (await client.until("error"))["error"]
    assert (error["code"], error["event_id"]) == ("item_create_invalid_previous_item_id", "p")
    for kind in ("conversation.item.delete", "conversation.item.retrieve"):
        await client.send({"type": kind, "event_id": "u", "item_id": "item_gone"})
        error = (await client.until("error"))["error"]
        verb = kind.rsplit(".", 1)[1]
        assert (error["code"], error["param"], error["event_id"]) == (
            f"item_{verb}_invalid_item_id",
            None,
            "u",
        )
    assistant_audio = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_audio", "audio": "AAAA"}],
    }
    await client.send(
        {"type": "conversation.item.create", "event_id": "aa", "item": assistant_audio}
    )
    assert (await client.until("error"))["error"]["param"] == "item.content[0].text"
    # delete
    await client.send({"type": "conversation.item.delete", "item_id": "item_mine"})
    assert (await client.until("conversation.item.deleted"))["item_id"] == "item_mine"
    assert [i["id"] for i in conn.logic.items] == [middle["item"]["id"], first["id"]]
    await client.close()


async def test_input_transcription_describes_the_audio(server: LocalRealtimeServer) -> None:
    server.today = SERVED  # whisper-1 has a shutdown date
    client, _ = await open_client(server)
    await configure(
        client,
        {
            "type": "realtime",
            "audio": {
                "input": {
                    "transcription": {"model": "whisper-1"},
                    "turn_detection": {"type": "server_vad", "create_response": False},
                }
            },
        },
    )
    await client.stream(tone(400) + silence(600))
    completed = await client.until("conversation.item.input_audio_transcription.completed")
    assert completed["transcript"].startswith(
        "[local transcript, not a model: 0.40 s of audio at -13.5 dBFS, fingerprint "
    )
    assert completed["usage"] == {"type": "duration", "seconds": 0.4}
    await client.close()


# --------------------------------------------------------------------------------------------
# formats, out-of-band, token cap


@pytest.mark.parametrize(
    ("fmt_in", "fmt_out"),
    [("audio/pcmu", "audio/pcma"), ("audio/pcma", "audio/pcmu"), ("audio/pcm", "audio/pcmu")],
)
async def test_g711_in_and_out(server: LocalRealtimeServer, fmt_in: str, fmt_out: str) -> None:
    client, _ = await open_client(server)
    await configure(
        client,
        {
            "type": "realtime",
            "audio": {
                "input": {"format": {"type": fmt_in}},
                "output": {"format": {"type": fmt_out}},
            },
        },
    )
    rate = 24000 if fmt_in == "audio/pcm" else 8000
    pcm = np.frombuffer(tone(600, rate=rate) + silence(700, rate=rate), "<i2").copy()
    encode = {
        "audio/pcm": lambda x: x.tobytes(),
        "audio/pcmu": lambda x: kernels.pcm16_to_ulaw(x).tobytes(),
        "audio/pcma": lambda x: kernels.pcm16_to_alaw(x).tobytes(),
    }[fmt_in]
    await client.stream(encode(pcm), bytes_per_ms=48 if rate == 24000 else 8)
    done = await client.until("response.done")
    assert done["response"]["audio"]["output"]["format"] == {"type": fmt_out}
    out = audio_of(client.frames)
    decode = kernels.ulaw_to_pcm16 if fmt_out == "audio/pcmu" else kernels.alaw_to_pcm16
    echoed = decode(np.frombuffer(out, np.uint8)).astype(np.float64)
    # 600 ms of speech at 8 bytes per ms (no padding: it starts the stream); the resampler's
    # tail adds a few ms when the rates differ
    assert 600 <= len(out) / 8 <= 605
    level = np.sqrt(np.mean(echoed[800:4000] ** 2)) / 32768
    assert 0.15 < level < 0.25  # the 0.3-amplitude tone came back (RMS 0.21)
    await client.close()


async def test_out_of_band_response_runs_beside_the_default_one(
    server: LocalRealtimeServer,
) -> None:
    server.pacing = "realtime"
    client, conn = await open_client(server)
    await client.send(user_text("talk to me"))
    await client.send({"type": "response.create"})
    await client.until("response.output_audio.delta")
    await client.send(
        {
            "type": "response.create",
            "response": {
                "conversation": "none",
                "output_modalities": ["text"],
                "metadata": {"purpose": "summary"},
                "input": [user_text("summarise")["item"]],
            },
        }
    )
    created = [f for f in client.frames if f["type"] == "response.created"]
    while len(created) < 2:
        created.append(await client.until("response.created"))
    oob = created[1]["response"]
    assert oob["conversation_id"] is None and oob["metadata"] == {"purpose": "summary"}
    dones = [await client.until("response.done"), await client.until("response.done")]
    by_id = {d["response"]["id"]: d["response"] for d in dones}
    text = by_id[oob["id"]]["output"][0]["content"][0]["text"]
    assert text.endswith("you said: summarise")
    oob_item = by_id[oob["id"]]["output"][0]["id"]
    assert all(i["id"] != oob_item for i in conn.logic.items)  # not in the conversation
    assert "error" not in client.types()
    await client.close()


async def test_max_output_tokens_ends_incomplete(server: LocalRealtimeServer) -> None:
    client, _ = await open_client(server)
    await client.send(user_text("a long one please"))
    await client.send({"type": "response.create", "response": {"max_output_tokens": 5}})
    done = (await client.until("response.done"))["response"]
    assert done["status"] == "incomplete"
    assert done["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
    assert done["usage"]["output_tokens"] <= 5
    await client.close()


async def test_idle_timeout_commits_the_quiet_and_responds(server: LocalRealtimeServer) -> None:
    client, conn = await open_client(server)
    vad = {"type": "server_vad", "idle_timeout_ms": 500, "silence_duration_ms": 200}
    await configure(client, {"type": "realtime", "audio": {"input": {"turn_detection": vad}}})
    await client.stream(silence(700))
    triggered = await client.until("input_audio_buffer.timeout_triggered")
    assert triggered["audio_end_ms"] == 500
    committed = await client.until("input_audio_buffer.committed")
    assert committed["item_id"] == triggered["item_id"]
    done = await client.until("response.done")
    assert "-120.0 dBFS" in done["response"]["output"][0]["content"][0]["transcript"]
    # speech resets the count: a turn, then quiet shorter than the timeout, nothing more
    await client.stream(tone(300) + silence(300))
    await client.until("response.done")
    await configure(client, {"type": "realtime"})  # barrier
    assert conn.counts_sent["input_audio_buffer.timeout_triggered"] == 1
    await client.close()
