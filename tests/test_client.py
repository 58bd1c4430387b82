"""The client against the local Realtime server over real sockets: turns, tools, barge-in."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest

from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions, RealtimeEventHandler
from rtsdk.exceptions import AudioFormatError, ConfigurationError
from rtsdk.protocol import ClientSessionState
from rtsdk.testing import LocalRealtimeServer

from .client_helpers import RealTimePlayback, Recorder, silence, tone
from .conformance import assert_beta_client_event_valid, assert_client_event_valid


def options(server: LocalRealtimeServer, **kw: Any) -> RealtimeAIOptions:
    base: dict[str, Any] = {
        "url": server.url,
        "api_key": None,
        "base_delay": 0.02,
        "max_delay": 0.1,
        "max_retries": 5,
        "ping_interval": 1.0,
        "ping_timeout": 1.0,
        "handshake_timeout": 5.0,
    }
    base.update(kw)
    return RealtimeAIOptions(**base)


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer(pacing="fast") as srv:
        yield srv
    # everything the client sent in the test validates against the official GA types
    for conn in srv.connections:
        for frame in conn.received:
            assert isinstance(frame, dict), f"client sent a non-JSON frame: {frame!r:.80}"
            assert_client_event_valid(frame)


async def started(server: LocalRealtimeServer, **kw: Any) -> tuple[AsyncRealtimeAIClient, Recorder]:
    handler = kw.pop("event_handler", None)
    tools = kw.pop("tools", ())
    client = AsyncRealtimeAIClient(options(server, **kw), event_handler=handler, tools=tools)
    rec = Recorder()
    client.on("*", rec)
    await client.start()
    return client, rec


def sent_types(server: LocalRealtimeServer, conn: int = 0) -> list[str]:
    return [f.get("type") for f in server.connections[conn].received if isinstance(f, dict)]


async def test_start_configures_the_session_first(server: LocalRealtimeServer) -> None:
    client, rec = await started(server, instructions="Be brief.", voice="marin")
    assert client.is_connected
    conn = server.connections[0]
    assert sent_types(server)[0] == "session.update"
    assert conn.session["instructions"] == "Be brief."
    assert conn.session["audio"]["output"]["voice"] == "marin"
    assert rec.types()[:1] == ["rtsdk.connected"] or "rtsdk.connected" in rec.types()
    await rec.wait("session.updated")
    await client.stop()
    assert not client.is_connected
    await rec.wait("rtsdk.disconnected")


async def test_text_turn(server: LocalRealtimeServer) -> None:
    client, rec = await started(server, output_modality="text", turn_detection="none")
    await client.send_text("Hello there")
    done = await rec.wait("response.done")
    assert done.response["status"] == "completed"
    text = "".join(e.delta for e in rec.of("response.output_text.delta"))
    assert text
    assert client.metrics.turns and client.metrics.turns[-1].cause == "response.create"
    assert client.metrics.turns[-1].to_first_audio is not None
    await client.stop()


async def test_voice_turn_with_server_vad(server: LocalRealtimeServer) -> None:
    client, rec = await started(server, turn_detection="server_vad", silence_duration_ms=200)
    # 48 kHz float32 from the "microphone", in 20 ms frames, resampled by the client
    speech = np.concatenate([silence(0.2, 48000), tone(0.6, 48000), silence(0.8, 48000)])
    for i in range(0, len(speech), 960):
        await client.send_audio(speech[i : i + 960], sample_rate=48000)
    await rec.wait("input_audio_buffer.speech_started")
    await rec.wait("input_audio_buffer.speech_stopped")
    await rec.wait("input_audio_buffer.committed")
    done = await rec.wait("response.done")
    assert done.response["status"] == "completed"
    deltas = rec.of("response.output_audio.delta")  # delivered: a listener on "*" exists
    assert deltas
    received = sum(m.received for m in client.service.state.audio.values())
    assert received > 0.4 * 48  # at least 0.4 s echoed back (bytes per ms = 48)
    turn = client.metrics.turns[-1]
    assert turn.cause == "speech_stopped" and turn.to_first_audio is not None
    await client.stop()


async def test_manual_turn(server: LocalRealtimeServer) -> None:
    client, rec = await started(server, turn_detection="none")
    pcm = (tone(0.5) * 32767).astype(np.int16)
    await client.send_audio(pcm.tobytes())  # session format bytes as is
    await client.commit_audio()
    await client.generate_response()
    await rec.wait("input_audio_buffer.committed")
    done = await rec.wait("response.done")
    assert done.response["status"] == "completed"
    assert not rec.of("input_audio_buffer.speech_started")
    assert "input_audio_buffer.append" in sent_types(server)
    await client.stop()


async def test_two_response_requests_never_overlap(server: LocalRealtimeServer) -> None:
    client, rec = await started(server, output_modality="text", turn_detection="none")
    await client.send_text("first")
    await client.generate_response()  # waits for the first response.done
    await rec.wait("response.done")
    await rec.wait("response.done", lambda e: len(rec.of("response.done")) >= 2)
    errors = [e for e in rec.of("error")]
    assert not errors, errors
    creates = sent_types(server).count("response.create")
    assert creates == 2
    await client.stop()


async def test_function_call_round_trip(server: LocalRealtimeServer) -> None:
    calls: list[dict[str, Any]] = []

    async def get_weather(city: str) -> dict[str, Any]:
        """Weather in a city.

        Args:
            city: Which city.
        """
        calls.append({"city": city})
        return {"city": city, "sky": "clear"}

    server.script_function_call(
        when_text_contains="weather", name="get_weather", arguments={"city": "Paris"}
    )
    client, rec = await started(
        server, output_modality="text", turn_detection="none", tools=[get_weather]
    )
    tools = server.connections[0].session.get("tools")
    assert tools and tools[0]["name"] == "get_weather"
    await client.send_text("What is the weather in Paris?")
    await rec.wait("response.function_call_arguments.done")
    # the follow-up response, after the tool output
    await rec.wait("response.done", lambda e: len(rec.of("response.done")) >= 2)
    assert calls == [{"city": "Paris"}]
    received = [f for f in server.connections[0].received if isinstance(f, dict)]
    kinds = [f["type"] for f in received]
    i = kinds.index("conversation.item.create", kinds.index("response.create"))
    output_item = received[i]["item"]
    assert output_item["type"] == "function_call_output"
    assert json.loads(output_item["output"]) == {"city": "Paris", "sky": "clear"}
    assert kinds[i + 1] == "response.create"
    assert kinds.count("response.create") == 2  # exactly one follow-up
    assert not rec.of("error")
    await client.stop()


async def test_cancel_response(server: LocalRealtimeServer) -> None:
    server.pacing = "realtime"
    client, rec = await started(server, turn_detection="none")
    await client.send_audio((tone(2.0) * 32767).astype(np.int16).tobytes())
    await client.commit_audio()
    await client.generate_response()
    await rec.wait("response.output_audio.delta")
    await client.cancel_response()
    done = await rec.wait("response.done")
    assert done.response["status"] == "cancelled"
    await client.cancel_response()  # nothing active: nothing sent, nothing breaks
    await client.send_text("still there?", respond=True)
    await rec.wait("response.done", lambda e: e.response["status"] == "completed")
    await client.stop()


async def test_barge_in_truncates_at_what_was_played(server: LocalRealtimeServer) -> None:
    server.pacing = "realtime"
    client, rec = await started(server, turn_detection="server_vad", silence_duration_ms=200)
    playback = RealTimePlayback()
    client.service.playback = playback
    await client.send_audio(np.concatenate([tone(1.5), silence(0.4)]), sample_rate=24000)
    first = await rec.wait("response.output_audio.delta")
    item_id = first.item_id
    await asyncio.sleep(0.5)  # the user hears about half a second, then talks over it
    await client.send_audio(tone(0.6, freq=300), sample_rate=24000)
    await rec.wait("input_audio_buffer.speech_started", lambda e: True, seen=False)
    truncated = await rec.wait("conversation.item.truncated")
    assert truncated.item_id == item_id
    sent = [f for f in server.connections[0].received if isinstance(f, dict)]
    trunc = [f for f in sent if f["type"] == "conversation.item.truncate"]
    assert len(trunc) == 1
    end_ms = trunc[0]["audio_end_ms"]
    played_ms = playback.interrupted_at[-1] * 1000 // 24000
    # within one 20 ms frame of what was really played, never past what arrived
    assert abs(end_ms - played_ms) <= 20
    assert end_ms <= playback.received[item_id] * 1000 // 24000
    assert 300 <= end_ms <= 1500
    assert not [e for e in rec.of("error") if e.error.get("code") != "response_cancel_not_active"]
    await client.stop()


async def test_handlers_plain_async_and_failing(server: LocalRealtimeServer) -> None:
    seen: list[str] = []

    class Handler(RealtimeEventHandler):
        def on_session_updated(self, event: Any) -> None:
            seen.append("sync:" + event.type)

        async def on_response_created(self, event: Any) -> None:
            await asyncio.sleep(0.01)
            seen.append("async:" + event.type)

        def on_response_done(self, event: Any) -> None:
            raise RuntimeError("handler bug")

        def on_handler_error(self, event: Any) -> None:
            seen.append(f"error:{event.event_type}:{type(event.error).__name__}")

    client, rec = await started(
        server, event_handler=Handler(), output_modality="text", turn_detection="none"
    )
    await client.send_text("one")
    await rec.wait("response.done")
    await client.send_text("two")  # the session survived the failing handler
    await rec.wait("response.done", lambda e: len(rec.of("response.done")) >= 2)
    await client.drain()
    await asyncio.sleep(0.05)
    assert "sync:session.updated" in seen
    assert "async:response.created" in seen
    assert seen.count("error:response.done:RuntimeError") == 2
    assert client.metrics.handler_errors == 2
    await client.stop()


async def test_events_iterator_ends_with_the_session(server: LocalRealtimeServer) -> None:
    client = AsyncRealtimeAIClient(options(server, output_modality="text", turn_detection="none"))
    got: list[str] = []

    async def consume() -> None:
        async for event in client.events():
            got.append(event.type)
            if event.type == "response.done":
                await client.stop()

    task = asyncio.create_task(consume())
    await client.start()
    await client.send_text("hi")
    await asyncio.wait_for(task, 10)
    assert got[0] == "rtsdk.connected" or "session.updated" in got
    assert got[-1] == "rtsdk.disconnected"
    # iterating an ended session ends at once
    assert [e async for e in client.events()] == []


async def test_bad_audio_input_is_named_and_loses_nothing(server: LocalRealtimeServer) -> None:
    client, rec = await started(server, turn_detection="none")
    with pytest.raises(AudioFormatError, match="sample_rate"):
        await client.send_audio(np.zeros(10, np.float32))
    with pytest.raises(AudioFormatError, match="float64"):
        await client.send_audio(np.zeros(10, np.float64), sample_rate=24000)
    with pytest.raises(AudioFormatError, match="odd"):
        await client.send_audio(b"\x00\x00\x00", sample_rate=16000)
    with pytest.raises(AudioFormatError, match="11025"):
        await client.send_audio(np.zeros(10, np.float32), sample_rate=11025)
    with pytest.raises(AudioFormatError, match="shape"):
        await client.send_audio(np.zeros((2, 2, 2), np.float32), sample_rate=24000)
    with pytest.raises(ConfigurationError, match="audio_end_ms"):
        await client.truncate("item", -5)
    # stereo int16 at 16 kHz is downmixed and resampled
    await client.send_audio(np.zeros((1600, 2), np.int16), sample_rate=16000)
    await client.commit_audio()
    await rec.wait("input_audio_buffer.committed")
    assert client.is_connected
    await client.stop()


def test_a_bad_session_config_is_refused_before_connecting() -> None:
    bad_tool = {"type": "function", "name": "f", "parameters": {"type": "object"}, "colour": 1}
    with pytest.raises(ConfigurationError, match=r"tools\[0\]\.colour"):
        RealtimeAIOptions(url="ws://127.0.0.1:9/v1", tools=[bad_tool])


async def test_a_session_config_the_server_rejects_fails_start(
    server: LocalRealtimeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = ClientSessionState.on_connect

    def with_unknown_key(self: ClientSessionState, *, replay: bool = False) -> list[Any]:
        frames = original(self, replay=replay)
        frames[0]["session"]["colour"] = "blue"  # a key the live server does not know
        return frames

    monkeypatch.setattr(ClientSessionState, "on_connect", with_unknown_key)
    client = AsyncRealtimeAIClient(options(server))
    with pytest.raises(ConfigurationError, match=r"session\.colour"):
        await client.start()
    assert not client.is_connected
    server.connections[0].received.clear()  # the bad frame is this test's point


async def test_update_session_and_register_tool_after_start(server: LocalRealtimeServer) -> None:
    client, rec = await started(server, turn_detection="none")

    def lookup(term: str) -> str:
        """Look a term up."""
        return term

    client.register_tool(lookup)
    await client.update_session(instructions="Now in French.")
    await rec.wait("session.updated", lambda e: e.session.get("instructions") == "Now in French.")
    conn = server.connections[0]
    assert conn.session["instructions"] == "Now in French."
    assert [t["name"] for t in conn.session.get("tools", [])] == ["lookup"]
    await client.stop()


def _our_tasks() -> list[str]:
    current = asyncio.current_task()
    return sorted(
        t.get_name()
        for t in asyncio.all_tasks()
        if t is not current and not t.done() and t.get_name().startswith("rtsdk-")
    )


async def test_stop_leaves_no_task_or_connection_behind(server: LocalRealtimeServer) -> None:
    client, rec = await started(server, output_modality="text", turn_detection="none")
    await client.send_text("hello")
    await rec.wait("response.done")
    assert _our_tasks()  # reader, sender, dispatcher while running
    await client.stop(timeout=2)
    await asyncio.sleep(0)
    assert _our_tasks() == []
    conn = server.connections[0]
    await asyncio.wait_for(conn.wait_closed(), 2)
    assert conn.close_code == 1000


@pytest.mark.parametrize("api_version", [None, "2025-04-01-preview"])
async def test_azure_paths_end_to_end(api_version: str | None) -> None:
    """Azure GA (/openai/v1/realtime, GA shapes) and preview (/openai/realtime, beta shapes
    both ways) with the api-key header, against the local server."""
    key = "azure-key-0123456789abcdef"
    async with LocalRealtimeServer(pacing="fast", api_key=key) as server:
        host = server.url.split("/v1/realtime")[0].replace("ws://", "http://")
        client = AsyncRealtimeAIClient(
            RealtimeAIOptions(
                azure_endpoint=host,
                azure_deployment="my-realtime",
                api_version=api_version,
                api_key=key,
                instructions="Be brief.",
                output_modality="text",
                turn_detection="none",
            )
        )
        rec = Recorder()
        client.on("*", rec)
        await client.start()
        await client.send_text("hello azure")
        done = await rec.wait("response.done")
        assert done.response["status"] == "completed"
        assert "".join(e.delta for e in rec.of("response.output_text.delta"))
        await client.stop()
        conn = server.connections[0]
    assert conn.headers.get("api-key") == key and "authorization" not in {
        k.lower() for k in conn.headers
    }
    first = next(f for f in conn.received if isinstance(f, dict))
    assert first["type"] == "session.update"
    if api_version is None:
        assert conn.path.startswith("/openai/v1/realtime?model=my-realtime")
        assert first["session"]["type"] == "realtime"
        for frame in conn.received:
            assert_client_event_valid(frame)
    else:
        assert conn.path.startswith("/openai/realtime?api-version=2025-04-01-preview")
        assert "modalities" in first["session"] and "type" not in first["session"]
        for frame in conn.received:
            assert_beta_client_event_valid(frame)
