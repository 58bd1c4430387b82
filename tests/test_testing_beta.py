"""Local server in the beta shapes (Azure's preview path, ``OpenAI-Beta: realtime=v1``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from rtsdk.protocol import SessionSettings, encode_event, parse_server_event
from rtsdk.protocol import builders as b
from rtsdk.protocol.beta import to_beta_client_event
from rtsdk.testing import LocalRealtimeServer
from tests.conformance import assert_beta_client_event_valid
from tests.test_testing_server import RawClient, audio_of, check_sent, silence, subsequence, tone

PREVIEW = "/openai/realtime?api-version=2025-04-01-preview&deployment=dep"


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer() as srv:
        yield srv
    for conn in srv.connections:
        assert conn.beta
        check_sent(conn)
        for frame in conn.received:
            assert isinstance(frame, dict)
            assert_beta_client_event_valid(frame)


async def beta_client(srv: LocalRealtimeServer) -> RawClient:
    client = await RawClient.connect(f"ws://127.0.0.1:{srv.port}{PREVIEW}", check=False)
    created = await client.recv()
    session = created["session"]
    assert created["type"] == "session.created"
    assert session["modalities"] == ["text", "audio"] and session["input_audio_format"] == "pcm16"
    assert "audio" not in session and "type" not in session
    return client


async def test_beta_session_update_and_text_turn(server: LocalRealtimeServer) -> None:
    client = await beta_client(server)
    await client.send(
        {
            "type": "session.update",
            "session": {
                "modalities": ["text"],
                "instructions": "short",
                "input_audio_format": "g711_ulaw",
                "turn_detection": {"type": "server_vad", "silence_duration_ms": 300},
                "temperature": 0.7,
                "max_response_output_tokens": 200,
            },
        }
    )
    updated = (await client.until("session.updated"))["session"]
    assert updated["modalities"] == ["text"] and updated["input_audio_format"] == "g711_ulaw"
    assert updated["max_response_output_tokens"] == 200
    ga = server.connections[0].session
    assert ga["output_modalities"] == ["text"] and ga["audio"]["input"]["format"] == {
        "type": "audio/pcmu"
    }
    assert ga["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 300
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "ping"}]}
    await client.send({"type": "conversation.item.create", "item": item})
    await client.send({"type": "response.create", "response": {"modalities": ["text"]}})
    done = await client.until("response.done")
    assert subsequence(
        [
            "conversation.item.created",
            "response.created",
            "response.text.delta",
            "response.text.done",
            "response.done",
        ],
        client.types(),
    )
    assert "conversation.item.done" not in client.types()
    assert done["response"]["modalities"] == ["text"]
    assert done["response"]["output"][0]["content"][0]["type"] == "text"
    assert done["response"]["output"][0]["content"][0]["text"].endswith("you said: ping")
    await client.close()


async def test_beta_voice_turn(server: LocalRealtimeServer) -> None:
    client = await beta_client(server)
    speech = tone(500)
    await client.stream(silence(100) + speech + silence(700))
    done = await client.until("response.done")
    assert subsequence(
        [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.committed",
            "conversation.item.created",
            "response.created",
            "response.audio.delta",
            "response.audio_transcript.delta",
            "response.audio.done",
            "response.audio_transcript.done",
            "response.done",
        ],
        client.types(),
    )
    assert (
        audio_of(
            [
                dict(f, type="response.output_audio.delta")
                for f in client.frames
                if f["type"] == "response.audio.delta"
            ]
        )
        == silence(100) + speech
    )
    assert done["response"]["output_audio_format"] == "pcm16" and done["response"]["voice"]
    # rtsdk's own parser reads all of it back as GA
    kinds = {parse_server_event(encode_event(f)).type for f in client.frames}
    assert "response.output_audio.delta" in kinds and "conversation.item.added" in kinds
    await client.close()


async def test_rtsdk_beta_client_events_are_accepted(server: LocalRealtimeServer) -> None:
    client = await beta_client(server)
    settings = SessionSettings(
        instructions="hi",
        voice="alloy",
        output_format="g711_alaw",
        turn_detection="none",
        max_output_tokens=100,
    )
    for event in (
        b.session_update(settings),
        b.conversation_item_create(b.assistant_text_item("earlier answer")),
        b.conversation_item_create(b.user_text_item("and now?")),
        b.response_create(output_modality="audio", voice="alloy", output_format="g711_alaw"),
    ):
        await client.send(to_beta_client_event(event))
    done = await client.until("response.done")
    assert "error" not in client.types()
    assert done["response"]["output_audio_format"] == "g711_alaw"
    assert (
        len(
            audio_of(
                [
                    dict(f, type="response.output_audio.delta")
                    for f in client.frames
                    if f["type"] == "response.audio.delta"
                ]
            )
        )
        % 8
        == 0
    )
    created = [f for f in client.frames if f["type"] == "conversation.item.created"]
    assert created[0]["item"]["content"][0]["type"] == "text"  # assistant text, beta name
    await client.close()


async def test_openai_beta_header_opts_in() -> None:
    async with LocalRealtimeServer() as srv:
        client = await RawClient.connect(
            f"{srv.url}?model=m", {"OpenAI-Beta": "realtime=v1"}, check=False
        )
        assert "modalities" in (await client.recv())["session"]
        assert srv.connections[0].beta
        await client.close()
