"""The client's GA helpers against the local server: transcription sessions and transcripts(),
send_image, MCP tools with the approval round trip, tracked and out-of-band responses,
retrieve_item / delete_item. Everything the client sends is validated against the openai GA
types, and everything the server sends too (the fixture)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions, RealtimeEventHandler
from rtsdk.client.conversation import ItemRequestError
from rtsdk.exceptions import ConfigurationError, ConnectionClosedError
from rtsdk.mcp import McpApprovalRequest, McpServer
from rtsdk.testing import LocalRealtimeServer
from rtsdk.testing.transcribe import TRANSCRIPT_PREFIX

from .client_helpers import RealTimePlayback, Recorder, silence, tone
from .conformance import assert_client_event_valid
from .test_client import options
from .test_testing_server import check_sent

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
DOCS = McpServer("docs", "https://mcp.example.invalid/docs", allowed_tools=["search"])


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer(pacing="fast") as srv:
        yield srv
    for conn in srv.connections:
        for frame in conn.received:
            assert isinstance(frame, dict)
            assert_client_event_valid(frame)
        check_sent(conn)


@pytest.fixture
async def cut_server() -> AsyncIterator[LocalRealtimeServer]:
    """For a test that ends the session mid-response: the server's responses cannot all be
    done, so only the client's frames are checked."""
    async with LocalRealtimeServer(pacing="fast") as srv:
        yield srv
    for conn in srv.connections:
        for frame in conn.received:
            assert isinstance(frame, dict)
            assert_client_event_valid(frame)


async def start(server: LocalRealtimeServer, **kw: Any) -> tuple[AsyncRealtimeAIClient, Recorder]:
    approval = kw.pop("mcp_approval", None)
    handler = kw.pop("event_handler", None)
    client = AsyncRealtimeAIClient(
        options(server, **kw), mcp_approval=approval, event_handler=handler
    )
    rec = Recorder()
    client.on("*", rec)
    await client.start()
    return client, rec


def pcm(samples: np.ndarray) -> bytes:
    return (samples * 32767).astype("<i2").tobytes()


# --------------------------------------------------------------------------------------------
# transcription sessions


def test_transcription_options_are_checked() -> None:
    ok = RealtimeAIOptions(
        session_type="transcription",
        language="en",
        prompt="names",
        include_logprobs=True,
        url="ws://127.0.0.1:1/v1/realtime",
    )
    assert "intent=transcription" in ok.endpoint_url() and "model=" not in ok.endpoint_url()
    with pytest.raises(ConfigurationError, match="instructions, voice cannot be used"):
        RealtimeAIOptions(session_type="transcription", instructions="x", voice="marin")
    with pytest.raises(ConfigurationError, match="tools"):
        RealtimeAIOptions(session_type="transcription", tools=[DOCS])
    with pytest.raises(ConfigurationError, match=r"use language= \(not transcription_language="):
        RealtimeAIOptions(
            session_type="transcription",
            transcription_model="whisper-1",
            transcription_language="en",
        )
    with pytest.raises(ConfigurationError, match="language apply to session_type='transcription'"):
        RealtimeAIOptions(language="en")
    with pytest.raises(ConfigurationError, match="session_type"):
        RealtimeAIOptions(session_type="conversation")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="turn_detection"):
        RealtimeAIOptions(session_type="transcription", transcription_model="gpt-realtime-whisper")
    azure = RealtimeAIOptions(
        session_type="transcription",
        azure_endpoint="https://res.openai.azure.com",
        azure_deployment="transcribe",
        api_key="k",
    )
    assert (
        azure.endpoint_url() == "wss://res.openai.azure.com/openai/v1/realtime?intent=transcription"
    )
    with pytest.raises(ConfigurationError, match="drop api_version"):
        RealtimeAIOptions(
            session_type="transcription",
            azure_endpoint="https://res.openai.azure.com",
            azure_deployment="transcribe",
            api_version="2025-04-01-preview",
            api_key="k",
        )
    transcribing = RealtimeAIOptions(session_type="transcription", url="ws://127.0.0.1:1/v1")
    with pytest.raises(ConfigurationError, match="tools needs a conversation"):
        AsyncRealtimeAIClient(transcribing, tools=[len])
    with pytest.raises(ConfigurationError, match="register_tool needs a conversation"):
        AsyncRealtimeAIClient(transcribing).register_tool(len)


async def test_transcription_session_end_to_end(server: LocalRealtimeServer) -> None:
    client, rec = await start(
        server,
        session_type="transcription",
        transcription_model="gpt-transcribe",
        language="en",
        include_logprobs=True,
        silence_duration_ms=300,
    )
    conn = server.connections[0]
    assert "intent=transcription" in conn.path and "model=" not in conn.path
    assert conn.session["type"] == "transcription"
    assert conn.session["include"] == ["item.input_audio_transcription.logprobs"]
    transcripts = client.transcripts()
    sent = pcm(np.concatenate([tone(0.6), silence(0.5), tone(0.4, amp=0.2), silence(0.6)]))
    await client.send_audio(sent)
    first = await asyncio.wait_for(transcripts.__anext__(), 10)
    second = await asyncio.wait_for(transcripts.__anext__(), 10)
    assert (first.start_ms, first.end_ms) == (0, 600)
    assert (second.start_ms, second.end_ms) == (800, 1500)
    assert first.text.startswith(f"{TRANSCRIPT_PREFIX} 0.60 s of audio")
    assert second.text.startswith(f"{TRANSCRIPT_PREFIX} 0.70 s of audio")
    assert first.language == "en" and first.logprobs and first.ok
    assert "".join(lp["token"] for lp in first.logprobs) == first.text
    committed = [e.item_id for e in rec.of("input_audio_buffer.committed")]
    assert [first.item_id, second.item_id] == committed
    # handlers saw the transcription events as in any session
    assert rec.of("conversation.item.input_audio_transcription.delta")
    assert "response.create" not in [f.get("type") for f in conn.received]
    assert not rec.of("error")
    await transcripts.aclose()
    for refused in (
        client.send_text("hi"),
        client.generate_response(),
        client.send_image(PNG),
    ):
        with pytest.raises(ConfigurationError, match="transcription session"):
            await refused
    await client.stop()


# --------------------------------------------------------------------------------------------
# images


def user_items(rec: Recorder) -> list[Any]:
    """The ``conversation.item.added`` events of user messages seen so far."""
    return [e for e in rec.of("conversation.item.added") if e.item.get("role") == "user"]


async def test_send_image(server: LocalRealtimeServer, tmp_path: Path) -> None:
    client, rec = await start(server, output_modality="text", turn_detection="none")
    path = tmp_path / "shot.png"
    path.write_bytes(PNG)
    await client.send_image(path, detail="low", text="What is on it?")
    await rec.wait("response.done")
    create = next(
        f for f in server.connections[0].received if f.get("type") == "conversation.item.create"
    )
    text_part, image_part = create["item"]["content"]
    assert text_part == {"type": "input_text", "text": "What is on it?"}
    assert image_part["detail"] == "low"
    assert base64.b64decode(image_part["image_url"].split(",", 1)[1]) == PNG
    await client.send_image(PNG, respond=False)
    # drain() means written to the socket; the server's answer says it was received
    await rec.wait("conversation.item.added", lambda e: len(user_items(rec)) >= 2)
    with pytest.raises(ConfigurationError, match="not a PNG or JPEG"):
        await client.send_image(b"GIF89a....")
    with pytest.raises(ConfigurationError, match="cannot read"):
        await client.send_image(tmp_path / "nope.png")
    await client.drain()
    creates = [
        f for f in server.connections[0].received if f.get("type") == "conversation.item.create"
    ]
    assert len(creates) == 2  # the refused ones sent nothing
    await client.stop()


# --------------------------------------------------------------------------------------------
# MCP


async def test_mcp_with_an_approval_handler(server: LocalRealtimeServer) -> None:
    server.script_mcp_call(
        server_label="docs", name="search", arguments={"q": "vad"}, output="2 hits"
    )
    asked: list[McpApprovalRequest] = []

    async def approve(request: McpApprovalRequest) -> bool:
        asked.append(request)
        return request.parsed_arguments == {"q": "vad"}

    class Handler(RealtimeEventHandler):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def on_mcp_list_tools_completed(self, event: Any) -> None:
            self.seen.append(event.type)

        async def on_response_mcp_call_completed(self, event: Any) -> None:
            self.seen.append(event.type)

    handler = Handler()
    client, rec = await start(
        server,
        output_modality="text",
        turn_detection="none",
        tools=[DOCS],
        mcp_approval=approve,
        event_handler=handler,
    )
    listed = await rec.wait("mcp_list_tools.completed")
    assert listed.item_id
    await client.send_text("search the docs")
    done = await rec.wait(
        "response.done", lambda e: any(o.get("type") == "mcp_call" for o in e.response["output"])
    )
    call = next(o for o in done.response["output"] if o["type"] == "mcp_call")
    assert call["output"] == "2 hits" and call["approval_request_id"] == asked[0].id
    assert rec.of("response.mcp_call.completed") and rec.of("response.mcp_call_arguments.done")
    sent = server.connections[0].received
    answers = [
        f["item"]
        for f in sent
        if f.get("type") == "conversation.item.create"
        and f["item"]["type"] == "mcp_approval_response"
    ]
    assert answers == [
        {
            "type": "mcp_approval_response",
            "id": answers[0]["id"],
            "approval_request_id": asked[0].id,
            "approve": True,
        }
    ]
    assert not rec.of("error")
    assert handler.seen == ["mcp_list_tools.completed", "response.mcp_call.completed"]
    # the approval is placed after its request, and the server went on by itself
    approval = next(
        f
        for f in sent
        if f.get("type") == "conversation.item.create"
        and f["item"]["type"] == "mcp_approval_response"
    )
    assert approval["previous_item_id"] == asked[0].id
    assert [f.get("type") for f in sent].count("response.create") == 1
    await client.stop()


async def test_mcp_answered_by_the_app_and_denied(server: LocalRealtimeServer) -> None:
    server.script_mcp_call(server_label="docs", name="search")
    client, rec = await start(server, output_modality="text", turn_detection="none", tools=[DOCS])
    await client.send_text("search please")
    done = await rec.wait("response.done")
    (item,) = done.response["output"]
    assert item["type"] == "mcp_approval_request"
    await client.approve_mcp(item["id"], False, reason="not now")
    said = await rec.wait("response.done", lambda e: e is not done)
    assert said.response["output"][0]["content"][0]["text"].endswith("was not approved (not now).")
    with pytest.raises(ConfigurationError, match="mcp_approval"):
        AsyncRealtimeAIClient(options(server), mcp_approval="maybe")  # type: ignore[arg-type]
    await client.stop()


# --------------------------------------------------------------------------------------------
# responses


async def test_out_of_band_response_resolves_and_stays_out_of_the_playback(
    server: LocalRealtimeServer,
) -> None:
    client, _ = await start(server, turn_detection="none")
    playback = RealTimePlayback()
    client.service.playback = playback
    await client.send_text("remember: the code is 42", respond=False)
    handle = await client.generate_response(
        conversation="none",
        metadata={"purpose": "summary"},
        input=[
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "summarise"}],
            }
        ],
    )
    result = await handle.result(10)
    assert result.out_of_band and result.status == "completed"
    assert result.metadata == {"purpose": "summary"}
    assert result.text.endswith("you said: summarise")
    assert len(result.audio) > 0 and len(result.audio) % 2 == 0
    assert playback.received == {}  # nothing of it went to the speaker
    assert result.response["conversation_id"] is None
    # a default-conversation response is tracked the same way, and played
    main = await client.generate_response(output_modality="audio")
    answer = await main
    assert not answer.out_of_band and answer.text.endswith("you said: remember: the code is 42")
    assert sum(playback.received.values()) * 2 == len(answer.audio)
    await client.stop()


async def test_a_refused_response_fails_its_handle_and_the_end_fails_the_rest(
    cut_server: LocalRealtimeServer,
) -> None:
    server = cut_server
    client, _ = await start(server, turn_detection="none")
    # (the GA types have no item_reference in response.input, so an unknown conversation
    # is the refusal this test provokes)
    refused = await client.generate_response(conversation="elsewhere")
    with pytest.raises(Exception, match="invalid_value"):
        await refused.result(10)
    server.pacing = "realtime"
    await client.send_text("talk for a while please, about anything", respond=False)
    pending = await client.generate_response()
    await asyncio.sleep(0)
    await client.stop()
    with pytest.raises(Exception, match="session ended"):
        await pending.result(5)


# --------------------------------------------------------------------------------------------
# items by id


async def test_retrieve_and_delete_items(server: LocalRealtimeServer) -> None:
    client, rec = await start(server, turn_detection="none")
    await client.send_audio(pcm(tone(0.3)))
    await client.commit_audio()
    committed = await rec.wait("input_audio_buffer.committed")
    item = await client.retrieve_item(committed.item_id)
    assert item["id"] == committed.item_id
    audio = base64.b64decode(item["content"][0]["audio"])
    assert audio == pcm(tone(0.3))
    await client.delete_item(committed.item_id)
    assert rec.of("conversation.item.deleted")[0].item_id == committed.item_id
    with pytest.raises(ItemRequestError, match="does not exist"):
        await client.retrieve_item(committed.item_id)
    with pytest.raises(ItemRequestError):
        await client.delete_item("item_nope")
    with pytest.raises(ConfigurationError):
        await client.retrieve_item("")
    await client.stop()


# --------------------------------------------------------------------------------------------
# the sync twins


def test_sync_twins() -> None:
    from rtsdk import RealtimeAIClient

    with LocalRealtimeServer(pacing="fast").start_in_thread() as handle:
        opts = RealtimeAIOptions(
            url=handle.url, session_type="transcription", silence_duration_ms=300
        )
        with RealtimeAIClient(opts) as client:
            transcripts = client.transcripts(timeout=10)
            client.send_audio(pcm(np.concatenate([tone(0.5), silence(0.6)])))
            first = next(transcripts)
            assert (first.start_ms, first.end_ms) == (0, 500)
            assert first.text.startswith(TRANSCRIPT_PREFIX)
            item = client.retrieve_item(first.item_id)
            assert base64.b64decode(item["content"][0]["audio"]) == pcm(tone(0.5))
            client.delete_item(first.item_id)
            with pytest.raises(ItemRequestError):
                client.delete_item(first.item_id)
        talk = RealtimeAIOptions(url=handle.url, output_modality="text", turn_detection="none")
        with RealtimeAIClient(talk) as client:
            client.send_image(PNG, text="and this?", respond=False)
            result = client.generate_response(conversation="none").result(10)
            assert result.out_of_band and result.status == "completed"
            assert result.text.endswith("you said: and this?")


async def test_a_drop_fails_the_responses_and_item_requests_in_flight(
    cut_server: LocalRealtimeServer,
) -> None:
    server = cut_server
    server.pacing = "realtime"
    client, rec = await start(server, turn_detection="none")
    await client.send_text("please say a long sentence about nothing in particular", respond=False)
    oob = await client.generate_response(conversation="none")
    await rec.wait("response.output_audio.delta")
    assert oob.response_id is not None
    await server.connections[0].drop()
    with pytest.raises(ConnectionClosedError, match="renewed"):
        await oob.result(10)
    await rec.wait("rtsdk.reconnected")
    # the new connection answers as usual
    server.pacing = "fast"
    again = await client.generate_response(conversation="none")
    assert (await again.result(10)).status == "completed"
    await client.stop()


async def test_a_transcription_session_survives_a_drop(cut_server: LocalRealtimeServer) -> None:
    server = cut_server
    client, rec = await start(server, session_type="transcription", silence_duration_ms=300)
    transcripts = client.transcripts()
    await client.send_audio(pcm(np.concatenate([tone(0.4), silence(0.5)])))
    before = await asyncio.wait_for(transcripts.__anext__(), 10)
    await server.connections[0].drop()
    await rec.wait("rtsdk.reconnected")
    again = server.connections[1]
    assert "intent=transcription" in again.path and again.session["type"] == "transcription"
    # no conversation replay in a transcription session (it would be refused)
    assert [f.get("type") for f in again.received if isinstance(f, dict)][:1] == ["session.update"]
    assert "conversation.item.create" not in [
        f.get("type") for f in again.received if isinstance(f, dict)
    ]
    await client.send_audio(pcm(np.concatenate([tone(0.3), silence(0.5)])))
    after = await asyncio.wait_for(transcripts.__anext__(), 10)
    assert after.item_id != before.item_id and after.text.startswith(TRANSCRIPT_PREFIX)
    assert not rec.of("error")
    await transcripts.aclose()
    await client.stop()


async def test_a_failed_turn_comes_out_as_a_transcript_with_its_error(
    server: LocalRealtimeServer,
) -> None:
    server.fail_next_transcriptions(1)
    client, rec = await start(server, session_type="transcription", silence_duration_ms=300)
    transcripts = client.transcripts()
    await client.send_audio(pcm(np.concatenate([tone(0.3), silence(0.5), tone(0.3), silence(0.5)])))
    failed = await asyncio.wait_for(transcripts.__anext__(), 10)
    ok = await asyncio.wait_for(transcripts.__anext__(), 10)
    assert not failed.ok and failed.text == "" and failed.error is not None
    assert failed.error["type"] == "server_error" and (failed.start_ms, failed.end_ms) == (0, 300)
    assert ok.ok and ok.text.startswith(TRANSCRIPT_PREFIX)
    assert rec.of("conversation.item.input_audio_transcription.failed")
    await transcripts.aclose()
    await client.stop()
