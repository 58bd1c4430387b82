"""Local server: transcription sessions (``?intent=transcription``, ``session.type``
"transcription"), and its input transcription in conversation sessions.

Every frame the server sends is checked against the openai GA types at teardown, every frame
the test client sends against the GA client types as it goes.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
import websockets

from rtsdk.models import DEFAULT_TRANSCRIPTION_MODEL
from rtsdk.testing import LocalRealtimeServer
from rtsdk.testing.transcribe import TRANSCRIPT_PREFIX, describe, voiced_spans
from tests.test_testing_server import RawClient, check_sent, configure, silence, tone

DELTA = "conversation.item.input_audio_transcription.delta"
COMPLETED = "conversation.item.input_audio_transcription.completed"
SEGMENT = "conversation.item.input_audio_transcription.segment"


#: A day on which every model these tests name is still served (whisper-1 and the gpt-4o
#: transcription models have a shutdown date).
SERVED = datetime.date(2026, 12, 1)


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer(today=SERVED) as srv:
        yield srv
    for conn in srv.connections:
        check_sent(conn)


async def open_transcription(srv: LocalRealtimeServer) -> RawClient:
    client = await RawClient.connect(f"{srv.url}?intent=transcription")
    first = await client.recv()
    assert first["type"] == "session.created"
    return client


def session(**audio_in: Any) -> dict[str, Any]:
    return {"type": "transcription", "audio": {"input": audio_in}}


def fingerprint(pcm16: bytes) -> str:
    return hashlib.blake2b(pcm16, digest_size=4).hexdigest()


def turn_events(frames: list[dict[str, Any]], item_id: str) -> list[str]:
    return [
        f["type"]
        for f in frames
        if f.get("item_id") == item_id or f.get("item", {}).get("id") == item_id
    ]


async def test_session_created_is_a_transcription_session(server: LocalRealtimeServer) -> None:
    client = await open_transcription(server)
    created = client.frames[0]["session"]
    assert created["type"] == "transcription"
    assert created["object"] == "realtime.transcription_session"
    assert created["id"].startswith("sess_") and "model" not in created
    assert created["audio"]["input"]["transcription"]["model"] == DEFAULT_TRANSCRIPTION_MODEL
    assert DEFAULT_TRANSCRIPTION_MODEL == "gpt-transcribe"
    turn = created["audio"]["input"]["turn_detection"]
    assert turn["type"] == "server_vad" and "create_response" not in turn
    assert server.connections[-1].logic.transcription
    await client.close()


async def test_model_with_transcription_intent_is_refused(server: LocalRealtimeServer) -> None:
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(f"{server.url}?intent=transcription&model=gpt-realtime")
    assert info.value.response.status_code == 400
    assert b"must not provide a model parameter" in info.value.response.body
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(f"{server.url}?intent=translation")
    assert [status for status, _ in server.refused] == [400, 400]


async def test_vad_turns_are_transcribed_with_ids_timing_and_fingerprints(
    server: LocalRealtimeServer,
) -> None:
    client = await open_transcription(server)
    updated = await configure(
        client,
        {
            "type": "transcription",
            "include": ["item.input_audio_transcription.logprobs"],
            "audio": {
                "input": {
                    "transcription": {"model": "gpt-4o-transcribe", "language": "en"},
                    "turn_detection": {"type": "server_vad", "silence_duration_ms": 200},
                }
            },
        },
    )
    config = updated["session"]
    assert config["type"] == "transcription" and config["include"] == [
        "item.input_audio_transcription.logprobs"
    ]
    assert config["audio"]["input"]["turn_detection"] == {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 200,
    }
    audio = tone(600) + silence(400) + tone(300, amp=0.1, freq=500) + silence(400)
    await client.stream(audio)
    first = await client.until(COMPLETED)
    second = await client.until(COMPLETED)
    starts = [f for f in client.frames if f["type"] == "input_audio_buffer.speech_started"]
    stops = [f for f in client.frames if f["type"] == "input_audio_buffer.speech_stopped"]
    assert [f["audio_start_ms"] for f in starts] == [0, 700]  # prefix padding 300 ms
    assert [f["audio_end_ms"] for f in stops] == [600, 1300]
    for done, start, stop, (a, b) in zip(
        (first, second), starts, stops, ((0, 600), (700, 1300)), strict=True
    ):
        item_id = done["item_id"]
        assert start["item_id"] == stop["item_id"] == item_id
        assert turn_events(client.frames, item_id) == [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
            "conversation.item.added",
            "conversation.item.done",
            *[DELTA] * ((len(done["transcript"].split(" ")) + 2) // 3),
            COMPLETED,
        ]
        heard = audio[a * 48 : b * 48]
        assert done["transcript"] == describe(heard, "pcm16")
        assert done["transcript"].startswith(f"{TRANSCRIPT_PREFIX} {(b - a) / 1000:.2f} s")
        assert done["transcript"].endswith(f"fingerprint {fingerprint(heard)}]")
        deltas = [f for f in client.frames if f["type"] == DELTA and f["item_id"] == item_id]
        assert "".join(f["delta"] for f in deltas) == done["transcript"]
        assert "".join(lp["token"] for f in deltas for lp in f["logprobs"]) == done["transcript"]
        assert [lp["token"] for lp in done["logprobs"]] == [
            lp["token"] for f in deltas for lp in f["logprobs"]
        ]
        usage = done["usage"]
        assert usage["type"] == "tokens" and usage["input_token_details"]["audio_tokens"] == 6
        assert "languages" not in done  # gpt-4o-transcribe does not report languages
    assert first["transcript"] != second["transcript"]
    assert "response.created" not in client.types() and "error" not in client.types()
    await client.close()


async def test_response_and_conversation_events_are_refused(server: LocalRealtimeServer) -> None:
    client = await open_transcription(server)
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]}
    events = [
        {"type": "response.create", "event_id": "e1"},
        {"type": "response.cancel", "event_id": "e2"},
        {"type": "conversation.item.create", "event_id": "e3", "item": item},
        {
            "type": "conversation.item.truncate",
            "event_id": "e4",
            "item_id": "item_x",
            "content_index": 0,
            "audio_end_ms": 0,
        },
    ]
    for event in events:
        await client.send(event)
        error = (await client.until("error"))["error"]
        assert (error["type"], error["code"], error["param"], error["event_id"]) == (
            "invalid_request_error",
            "invalid_value",
            "type",
            event["event_id"],
        )
        assert f"'{event['type']}' is not supported in transcription sessions" in (error["message"])
    # a realtime update is refused too; the session goes on transcribing
    await client.send({"type": "session.update", "event_id": "e5", "session": {"type": "realtime"}})
    error = (await client.until("error"))["error"]
    assert error["code"] == "invalid_parameter" and error["event_id"] == "e5"
    assert error["message"] == (
        "Passing a realtime session update to a transcription session is not allowed."
    )
    await client.stream(tone(400) + silence(700))
    assert (await client.until(COMPLETED))["transcript"].startswith(TRANSCRIPT_PREFIX)
    await client.close()


async def test_a_realtime_session_refuses_a_transcription_update(
    server: LocalRealtimeServer,
) -> None:
    client = await RawClient.connect(f"{server.url}?model=gpt-realtime-1.5")
    await client.recv()
    await client.send({"type": "session.update", "event_id": "u", "session": session()})
    error = (await client.until("error"))["error"]
    assert (error["code"], error["param"], error["event_id"]) == (
        "invalid_parameter",
        "session.type",
        "u",
    )
    assert "transcription session update event to a realtime session" in error["message"]
    await client.close()


async def test_manual_commit_whisper_usage_and_languages(server: LocalRealtimeServer) -> None:
    client = await open_transcription(server)
    await configure(client, session(transcription={"model": "whisper-1"}, turn_detection=None))
    audio = tone(250)
    await client.stream(audio)
    await client.send({"type": "input_audio_buffer.commit", "event_id": "c"})
    committed = await client.until("input_audio_buffer.committed")
    done = await client.until(COMPLETED)
    assert done["item_id"] == committed["item_id"]
    assert done["usage"] == {"type": "duration", "seconds": 0.25}
    assert "logprobs" not in done
    assert done["transcript"].endswith(f"fingerprint {fingerprint(audio)}]")
    # a model that reports languages: the configured one, else none detected
    for language, expected in (("de", [{"code": "de"}]), (None, [])):
        tr: dict[str, Any] = {"model": "gpt-transcribe"}
        if language:
            tr["language"] = language
        await configure(client, session(transcription=tr))
        await client.stream(tone(200))
        await client.send({"type": "input_audio_buffer.commit"})
        assert (await client.until(COMPLETED))["languages"] == expected
    await client.close()


async def test_realtime_whisper_needs_manual_turns(server: LocalRealtimeServer) -> None:
    client = await open_transcription(server)
    await client.send(
        {
            "type": "session.update",
            "event_id": "w",
            "session": session(transcription={"model": "gpt-realtime-whisper"}),
        }
    )
    error = (await client.until("error"))["error"]
    assert error["param"] == "session.audio.input.turn_detection" and error["event_id"] == "w"
    updated = await configure(
        client,
        session(transcription={"model": "gpt-realtime-whisper"}, turn_detection=None),
    )
    assert updated["session"]["audio"]["input"]["turn_detection"] is None
    await client.close()


async def test_diarize_model_sends_a_segment_per_voiced_stretch(
    server: LocalRealtimeServer,
) -> None:
    client = await open_transcription(server)
    await configure(
        client,
        session(
            transcription={"model": "gpt-4o-transcribe-diarize"},
            turn_detection={"type": "server_vad", "silence_duration_ms": 500},
        ),
    )
    await client.stream(tone(300) + silence(350) + tone(300) + silence(700))
    done = await client.until(COMPLETED)
    segments = [f for f in client.frames if f["type"] == SEGMENT]
    assert [(s["start"], s["end"]) for s in segments] == [(0.0, 0.3), (0.65, 0.95)]
    assert {s["speaker"] for s in segments} == {"A"}
    assert all(s["item_id"] == done["item_id"] for s in segments)
    assert len({s["id"] for s in segments}) == 2
    assert client.types().index(SEGMENT) < client.types().index(COMPLETED)
    await client.close()


async def test_paced_deltas_arrive_in_order(server: LocalRealtimeServer) -> None:
    server.pacing = "realtime"
    client = await open_transcription(server)
    await client.stream(tone(400) + silence(800))
    done = await client.until(COMPLETED)
    deltas = [f["delta"] for f in client.frames if f["type"] == DELTA]
    assert "".join(deltas) == done["transcript"] and len(deltas) > 3
    await client.close()


def test_voiced_spans_and_describe_are_deterministic() -> None:
    rng = np.random.default_rng(7)
    noise = (rng.standard_normal(24000) * 3000).astype("<i2").tobytes()
    assert describe(noise, "pcm16") == describe(noise, "pcm16")
    assert describe(noise, "pcm16") != describe(noise[:-2], "pcm16")
    assert voiced_spans(silence(500), "pcm16") == []
    spans = voiced_spans(silence(100) + tone(200) + silence(100) + tone(200), "pcm16")
    assert spans == [(0.1, 0.6)]  # a gap under 300 ms does not split


async def test_a_failed_transcription_leaves_the_turn_as_it_is(
    server: LocalRealtimeServer,
) -> None:
    server.fail_next_transcriptions(1)
    client = await open_transcription(server)
    await configure(
        client, session(turn_detection={"type": "server_vad", "silence_duration_ms": 200})
    )
    await client.stream(tone(300) + silence(400) + tone(300) + silence(400))
    failed = await client.until("conversation.item.input_audio_transcription.failed")
    assert failed["error"]["type"] == "server_error"
    assert (
        failed["error"]["message"] == f"Input transcription failed for item '{failed['item_id']}'."
    )
    done = await client.until(COMPLETED)  # the next turn is transcribed as usual
    assert done["item_id"] != failed["item_id"]
    assert server.transcription_failures == []
    await client.close()
