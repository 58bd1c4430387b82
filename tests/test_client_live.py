"""GPT-Live through the public client API, against the local server's GPT-Live sessions.

Every frame the client sent is checked, at the end of each test, against the ``openai``
package's own GPT-Live client-event types (strict).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pydantic
import pytest
import websockets
from openai.types.live import ClientEvent as OpenAIClientEvent

from rtsdk import (
    AsyncRealtimeAIClient,
    ConfigurationError,
    ConnectionClosedError,
    LiveEventHandler,
    RealtimeAIOptions,
)
from rtsdk.audio import AudioStreamOptions, PushSource, WavSink, WavSource, read_wav
from rtsdk.testing import LiveOptions, LocalRealtimeServer

from .client_helpers import barge_in_stop_ms
from .conftest import REALTIME_ONCE

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "samples" / "assets" / "hello.wav"
CLIENT_EVENT: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(OpenAIClientEvent)
RATE = 24_000
TRIGGER = {
    "type": "decisions",
    "event_type": "session.input_transcript.delta",
    "decisions": {"questions": [{"type": "predicate", "instructions": "Is the user upset?"}]},
}
FRAME = 480  # 20 ms


def tone(seconds: float, amplitude: float = 0.3, hz: float = 220.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


class Voice:
    """Continuous paced input for a session: silence unless speech is queued (a microphone)."""

    def __init__(self, client: AsyncRealtimeAIClient) -> None:
        self.client = client
        self.queue: list[np.ndarray] = []
        self.onsets: list[float] = []  # wall time when each queued utterance started going out
        self._task: asyncio.Task[None] | None = None

    def say(self, samples: np.ndarray) -> None:
        self.queue.append(samples)

    async def __aenter__(self) -> Voice:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        current: np.ndarray | None = None
        pos = 0
        silence = np.zeros(FRAME, dtype=np.float32)
        while True:
            if current is None and self.queue:
                current, pos = self.queue.pop(0), 0
                self.onsets.append(time.monotonic())
            if current is not None:
                frame = current[pos : pos + FRAME]
                pos += FRAME
                if pos >= current.size:
                    current = None
            else:
                frame = silence
            await self.client.send_audio(frame, RATE)
            due += FRAME / RATE
            await asyncio.sleep(max(0.0, due - loop.time()))


class Seen:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.times: list[float] = []
        self.changed = asyncio.Event()

    def __call__(self, event: Any) -> None:
        self.events.append(event)
        self.times.append(time.monotonic())
        self.changed.set()

    def of(self, kind: str) -> list[Any]:
        return [e for e in self.events if e.type == kind]

    async def wait(self, test: Any, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if test(event):
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                kinds = sorted({e.type for e in self.events})
                raise AssertionError(f"not seen within {timeout} s; seen: {kinds}")
            self.changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)

    def text(self, kind: str) -> str:
        return "".join(e.delta for e in self.of(kind))


def check_client_frames(
    server: LocalRealtimeServer, types: pydantic.TypeAdapter[Any] = CLIENT_EVENT
) -> None:
    """Every frame the server received, checked strictly against ``types`` (the ``openai``
    package's client events of the API: GPT-Live's by default)."""
    for conn in server.connections:
        for frame in conn.received:
            if isinstance(frame, dict):
                types.validate_python(frame, strict=True)


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer(live=LiveOptions(pacing="fast", usage_interval_s=0.3)) as srv:
        yield srv
    check_client_frames(srv)


def live(server: LocalRealtimeServer, **kw: Any) -> RealtimeAIOptions:
    return RealtimeAIOptions(model="gpt-live-1", url=server.base_url, **kw)


async def test_a_spoken_exchange_with_transcripts_usage_and_close(
    server: LocalRealtimeServer,
) -> None:
    client = AsyncRealtimeAIClient(live(server, instructions="Be brief.", voice="cedar"))
    seen = Seen()
    client.on("*", seen)
    lines: list[Any] = []

    async def collect() -> None:
        async for line in client.transcripts():
            lines.append(line)

    await client.start()
    reader = asyncio.get_running_loop().create_task(collect())
    assert client.service.state.session_id is not None
    async with Voice(client) as voice:
        voice.say(tone(0.6))
        await seen.wait(lambda e: e.type == "session.output_audio.delta")
        await seen.wait(lambda e: e.type == "session.usage.updated")
        await asyncio.sleep(0.3)
    stats = client.stats()
    closed = await client.stop()
    await asyncio.wait_for(reader, 5)
    assert closed is not None and closed.reason == "close_requested"
    assert closed.usage["seconds"] > 0
    assert stats["live"]["session_id"] == client.service.state.session_id
    assert stats["live"]["usage"]["seconds"] > 0
    assert stats["audio"]["received_bytes"] > 0 and stats["audio"]["sent_bytes"] > 0
    speakers = [line.speaker for line in lines]
    assert "user" in speakers and "assistant" in speakers
    assert all(line.start_ms <= line.end_ms for line in lines)
    assert seen.text("session.output_transcript.delta")
    conn = server.connections[0]
    start = conn.received[0]
    assert start["type"] == "session.start"
    assert start["session"]["instructions"] == "Be brief."
    assert start["session"]["audio"]["output"] == {"voice": "cedar"}
    assert conn.received[-1]["type"] == "session.close"


@pytest.mark.parametrize("fmt", ["pcm16", "g711_ulaw"])
async def test_wav_in_wav_out(tmp_path: Path, server: LocalRealtimeServer, fmt: str) -> None:
    out = tmp_path / "assistant.wav"
    client = AsyncRealtimeAIClient(
        live(server, input_format=fmt, output_format=fmt),
        stream_options=AudioStreamOptions(input_device=None, output_device=None),
        audio_source=WavSource(BUNDLED, realtime=False),
        audio_sink=WavSink(out, sample_rate=16000, realtime=False),
    )
    seen = Seen()
    client.on("session.output_transcript.delta", seen)
    await client.start()
    assert client.audio is not None
    await asyncio.wait_for(client.audio.wait_input_ended(), 20)
    # the input keeps flowing as silence after the file: the model hears the pause and answers
    await seen.wait(lambda e: True, timeout=10)
    await asyncio.sleep(0.5)
    assert await client.audio.drain(10)
    await client.stop()
    samples, rate = read_wav(out)
    assert rate == 16000 and np.abs(samples).max() > 0.05
    fmt_type = server.connections[0].received[0]["session"]["audio"]["format"]["type"]
    assert fmt_type == {"pcm16": "audio/pcm", "g711_ulaw": "audio/pcmu"}[fmt]


async def test_a_tool_through_responses_delegation(server: LocalRealtimeServer) -> None:
    server.script_delegation(heard="what is the weather in Paris")
    server.script_function_call(
        name="get_weather", arguments={"city": "Paris"}, when_text_contains="weather"
    )
    client = AsyncRealtimeAIClient(live(server))
    calls: list[str] = []

    @client.tool
    async def get_weather(city: str) -> str:
        """The weather in a city."""
        calls.append(city)
        return f"Sunny in {city}"

    seen = Seen()
    client.on("*", seen)
    await client.start()
    async with Voice(client) as voice:
        voice.say(tone(0.6))
        result = await seen.wait(lambda e: e.type == "rtsdk.tool_result", timeout=15)
        await seen.wait(
            lambda e: "Sunny in Paris" in seen.text("session.output_transcript.delta"), timeout=15
        )
    await client.stop()
    assert calls == ["Paris"]
    assert result.name == "get_weather" and result.output == "Sunny in Paris"
    assert seen.of("session.delegation.created")
    conn = server.connections[0]
    session = conn.received[0]["session"]
    assert session["delegation"]["type"] == "responses"
    assert session["delegation"]["responses"]["tools"][0]["name"] == "get_weather"
    kinds = [f["type"] for f in conn.received if isinstance(f, dict)]
    out = kinds.index("response.item.create")
    assert kinds[out + 1] == "response.create"


async def test_tools_of_the_options_and_registered_ones_go_to_the_backend_once(
    server: LocalRealtimeServer,
) -> None:
    lookup = {
        "type": "function",
        "name": "lookup",
        "description": "Look a word up.",
        "parameters": {"type": "object", "properties": {"word": {"type": "string"}}},
    }
    client = AsyncRealtimeAIClient(live(server, tools=[lookup]))

    @client.tool
    async def get_weather(city: str) -> str:
        """The weather in a city."""
        return "Sunny"

    await client.start()
    await client.stop()
    tools = server.connections[0].received[0]["session"]["delegation"]["responses"]["tools"]
    assert [t["name"] for t in tools] == ["lookup", "get_weather"]


async def test_client_delegation_answered_with_commentary(server: LocalRealtimeServer) -> None:
    server.script_delegation(heard="book a table for two")
    replied: list[str] = []

    class Handler(LiveEventHandler):
        async def on_session_delegation_created(self, event: Any) -> None:
            replied.append(event.delegation["id"])
            await client.delegation_reply(
                event.delegation["id"], commentary="Your table for two is booked."
            )

    client = AsyncRealtimeAIClient(live(server, delegation="client"), event_handler=Handler())
    seen = Seen()
    client.on("session.output_transcript.delta", seen)
    client.on("session.commentary.appended", seen)
    await client.start()
    async with Voice(client) as voice:
        voice.say(tone(0.6))
        await seen.wait(lambda e: e.type == "session.commentary.appended", timeout=15)
        await seen.wait(lambda e: "booked" in seen.text("session.output_transcript.delta"))
    await client.stop()
    assert len(replied) == 1
    appends = [
        f for f in server.connections[0].received if f.get("type") == "session.commentary.append"
    ]
    assert appends[0]["delegation_id"] == replied[0]


async def test_a_greeting_mute_fixture_and_send_text(server: LocalRealtimeServer) -> None:
    client = AsyncRealtimeAIClient(live(server, delegation="client"))
    seen = Seen()
    client.on("*", seen)
    await client.start()
    async with Voice(client):
        await client.delegation_reply(None, commentary="Hello! How can I help?")
        await seen.wait(lambda e: "Hello" in seen.text("session.output_transcript.delta"))
        await client.mute()
        await seen.wait(lambda e: e.type == "session.input_audio.muted")
        assert client.muted and client.stats()["live"]["muted"]
        await client.unmute()
        await seen.wait(lambda e: e.type == "session.input_audio.unmuted")
        assert not client.muted
        await client.play_fixture(tone(0.2, hz=440))
        await seen.wait(lambda e: e.type == "session.output_audio.fixture.played")
        await client.send_text("I typed this")
        await client.drop_queued_output()
    await client.stop()
    kinds = [f["type"] for f in server.connections[0].received if isinstance(f, dict)]
    assert "session.output_audio.fixture.play" in kinds
    assert "session.instructions.append" in kinds  # typed text, client delegation


async def test_what_gpt_live_has_no_meaning_for_is_refused(server: LocalRealtimeServer) -> None:
    client = AsyncRealtimeAIClient(live(server, instructions="x"))
    await client.start()
    for call in (
        client.generate_response(),
        client.cancel_response(),
        client.truncate("item", 10),
        client.interrupt(),
        client.commit_audio(),
        client.clear_audio(),
        client.retrieve_item("item"),
        client.update_session(instructions="y"),
        client.update_session(voice="ash"),
    ):
        with pytest.raises(ConfigurationError, match="GPT-Live"):
            await call
    with pytest.raises(ConfigurationError, match="500 tokens"):
        await client.delegation_reply(None, thinking="x" * 4000)
    assert client.options.instructions == "x"
    await client.update_session(triggers=[TRIGGER])
    await client.drain()
    await asyncio.sleep(0.2)
    await client.stop()
    kinds = [f["type"] for f in server.connections[0].received if isinstance(f, dict)]
    assert kinds == ["session.start", "session.update", "session.close"]
    with pytest.raises(ConfigurationError, match="GPT-Live"):
        RealtimeAIOptions(model="gpt-live-1", turn_detection="semantic_vad")


async def test_a_start_the_service_refuses_fails_clearly(server: LocalRealtimeServer) -> None:
    client = AsyncRealtimeAIClient(
        live(server, delegation="responses", delegation_options={"bogus_field": 1})
    )
    with pytest.raises(ConfigurationError, match="bogus_field"):
        await client.start()
    sent = [f.get("type") for f in server.connections[-1].sent if isinstance(f, dict)]
    assert "session.started" not in sent and "error" in sent


async def test_reconnect_starts_a_new_session_with_the_history(
    server: LocalRealtimeServer,
) -> None:
    client = AsyncRealtimeAIClient(live(server, base_delay=0.05, max_delay=0.1))
    seen = Seen()
    client.on("*", seen)
    await client.start()
    first = client.service.state.session_id
    async with Voice(client) as voice:
        voice.say(tone(0.6))
        await seen.wait(lambda e: e.type == "session.output_transcript.delta")
        await asyncio.sleep(0.3)
        conn = await server.wait_for_connection(1)
        await conn.drop()
        back = await seen.wait(lambda e: e.type == "rtsdk.reconnected", timeout=10)
        await asyncio.sleep(0.3)
    await client.stop()
    assert back.session_id is not None and back.session_id != first
    assert back.replayed_items >= 2
    second = server.connections[1]
    start = second.received[0]
    assert start["type"] == "session.start"
    roles = [m["role"] for m in start["session"]["input"]]
    assert "user" in roles and "assistant" in roles
    assert client.stats()["live"]["sessions"] == 2
    assert not [f for f in second.sent if isinstance(f, dict) and f.get("type") == "error"]


async def test_expiry_renews_the_session(server: LocalRealtimeServer) -> None:
    client = AsyncRealtimeAIClient(live(server))
    seen = Seen()
    client.on("*", seen)
    await client.start()
    conn = await server.wait_for_connection(1)
    conn.expire()  # session.closed (expired), then the close
    back = await seen.wait(lambda e: e.type in ("rtsdk.session_recycled", "rtsdk.reconnected"))
    await client.stop()
    closed = seen.of("session.closed")
    assert closed and closed[0].reason == "expired"
    assert back.session_id != closed[0].session.get("id")
    assert client.failure is None


async def test_expires_at_drives_the_renewal() -> None:
    options = LiveOptions(pacing="fast", session_seconds=31.5)
    async with LocalRealtimeServer(live=options) as server:
        client = AsyncRealtimeAIClient(live(server))
        seen = Seen()
        client.on("*", seen)
        await client.start()
        # expires_at is 31.5 s away: renewed 30 s before, so after about 1.5 s
        back = await seen.wait(lambda e: e.type == "rtsdk.session_recycled", timeout=8)
        await client.stop()
        check_client_frames(server)
    assert back.reason == "session expiry" and len(server.connections) == 2


async def test_bad_frames_from_the_server_are_counted_and_the_session_goes_on(
    server: LocalRealtimeServer,
) -> None:
    client = AsyncRealtimeAIClient(live(server))
    seen = Seen()
    client.on("*", seen)
    await client.start()
    conn = await server.wait_for_connection(1)
    for raw in (
        '{"type":"session.output_audio.delta","delta":"!!not base64"}',
        '{"type":"session.output_audio.delta","delta":"AAAA"}',  # 3 bytes: odd PCM16
        '{"type":"session.brand_new.event","event_id":"e1"}',
        "{not json",
        '{"type":"error","event_id":"e2","error":{"type":"server_error","code":null,'
        '"message":"hiccup"}}',
    ):
        await conn.send_raw(raw)
    await seen.wait(lambda e: e.type == "session.brand_new.event")
    await seen.wait(lambda e: e.type == "error")
    assert client.is_connected
    stats = client.stats()
    await client.stop()
    assert stats["errors"]["protocol"] == 2  # the bad base64 and the bad JSON
    assert stats["live"]["malformed_audio"] == 1
    assert stats["errors"]["server"] >= 1
    assert client.failure is None


async def _silent_server(handler: Any) -> AsyncIterator[str]:
    async with websockets.serve(handler, "127.0.0.1", 0) as ws_server:
        port = ws_server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/v1"


async def test_a_server_that_never_starts_the_session_times_out() -> None:
    async def never(ws: Any) -> None:
        async for _ in ws:
            pass

    async for url in _silent_server(never):
        client = AsyncRealtimeAIClient(
            RealtimeAIOptions(model="gpt-live-1", url=url, handshake_timeout=0.5, max_retries=0)
        )
        began = time.monotonic()
        with pytest.raises(ConnectionClosedError, match=r"session\.started"):
            await client.start()
        assert time.monotonic() - began < 3


async def test_nothing_goes_out_before_session_started_even_on_a_reconnect() -> None:
    """A server that answers session.start late: audio the app sent meanwhile waits, on the
    first connection and on a reconnect."""
    firsts: list[list[str]] = []

    async def slow(ws: Any) -> None:
        got = [json.loads(await ws.recv())["type"]]
        try:
            while True:  # 300 ms in which nothing else may arrive
                got.append(json.loads(await asyncio.wait_for(ws.recv(), 0.3))["type"])
        except asyncio.TimeoutError:
            pass
        firsts.append(got)
        started = {"id": f"sess_{len(firsts)}", "expires_at": 2_000_000_000}
        started.update(model="gpt-live-1", status="active")
        await ws.send(json.dumps({"type": "session.started", "event_id": "e", "session": started}))
        if len(firsts) == 1:
            await asyncio.sleep(0.3)
            await ws.close(1011)  # a server error: the client reconnects
            return
        async for _ in ws:
            pass

    async for url in _silent_server(slow):
        client = AsyncRealtimeAIClient(
            RealtimeAIOptions(model="gpt-live-1", url=url, base_delay=0.05, max_delay=0.1)
        )
        seen = Seen()
        client.on("rtsdk.reconnected", seen)
        start = asyncio.get_running_loop().create_task(client.start())
        await asyncio.sleep(0.05)
        async with Voice(client):
            await start
            await seen.wait(lambda e: True, timeout=10)
            await asyncio.sleep(0.2)
        await client.stop(timeout=1.0)  # this server never confirms a close
    assert len(firsts) == 2
    assert firsts == [["session.start"], ["session.start"]]


@REALTIME_ONCE
async def test_barge_in_the_reply_stops_soon_after_the_user_starts(tmp_path: Path) -> None:
    """The user talks over a reply: on the speaker's timeline (a real-time WAV sink recording
    both sides), the reply is silent within 300 ms of the user's onset, and the playout never
    holds more than the adaptive target."""
    out = tmp_path / "both.wav"
    source = PushSource(RATE, realtime=True)
    lead = np.zeros(int(RATE * 1.2), dtype=np.float32)
    source.push(np.concatenate([lead, tone(0.8, hz=300), np.zeros(RATE * 4, np.float32)]))
    async with LocalRealtimeServer(live=LiveOptions(pacing="realtime")) as server:
        client = AsyncRealtimeAIClient(
            live(server, delegation="client"),
            stream_options=AudioStreamOptions(input_device=None, output_device=None),
            audio_source=source,
            audio_sink=WavSink(out, realtime=True, both_sides=True),
        )
        await client.start()
        words = " ".join(f"word{i}" for i in range(60))  # about 3.6 s of speech
        await client.delegation_reply(None, commentary=words)
        await asyncio.sleep(3.0)
        assert client.audio is not None
        depth_ms = client.audio.stats.playback_high_water_ms
        await client.stop()
        check_client_frames(server)
    stop_ms = barge_in_stop_ms(out, 1.0)  # the next second, before the echo of the user
    print(f"barge-in: reply silent {stop_ms:.0f} ms after the onset; depth {depth_ms:.0f} ms")
    assert stop_ms <= 300
    assert depth_ms <= 140  # the adaptive prebuffer's cap (60) plus one 40 ms delta, with room


@REALTIME_ONCE
async def test_a_spoken_exchange_through_real_devices() -> None:
    """The loopback sound server's speaker and microphone (PipeWire in CI), on GPT-Live."""
    from .test_audio_devices import require_loopback

    require_loopback()
    import sounddevice as sd

    async with LocalRealtimeServer(live=LiveOptions(pacing="realtime")) as server:
        client = AsyncRealtimeAIClient(
            live(server),
            # the loopback's microphone hears the speaker: half duplex keeps the echo out
            # (on GPT-Live it sends silence meanwhile: the input never stops)
            stream_options=AudioStreamOptions(
                input_device="default", output_device="default", half_duplex=True
            ),
        )
        seen = Seen()
        client.on("*", seen)
        await client.start()
        try:
            await asyncio.sleep(0.3)
            rate = 48000  # "the user" speaks into the room: 0.8 s of a 440 Hz tone
            t = np.arange(int(0.8 * rate)) / rate
            sd.play((0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)
            said = await seen.wait(lambda e: e.type == "session.input_transcript.delta")
            await seen.wait(lambda e: "heard" in seen.text("session.output_transcript.delta"))
            assert client.audio is not None
            await asyncio.sleep(1.5)
            stats = client.audio.stats
        finally:
            sd.stop()
            await client.stop()
        check_client_frames(server)
    assert said.end_ms - said.start_ms >= 500  # the tone, on the session timeline
    assert stats.device_errors == 0
    assert stats.played_samples > 0.3 * 44100  # the echo was played on the device
    assert stats.frames_sent > 50  # continuous input: silence included


async def test_azure_gpt_live_path_and_key() -> None:
    """Azure: ``/openai/v1/live/sessions`` on the resource, the key in ``api-key`` (or Bearer)."""
    async with LocalRealtimeServer(api_key="az-key", live=LiveOptions(pacing="fast")) as server:
        for auth in ("api-key", "bearer"):
            client = AsyncRealtimeAIClient(
                RealtimeAIOptions(
                    azure_endpoint=f"http://127.0.0.1:{server.port}",
                    azure_deployment="gpt-live-1",
                    api_key="az-key",
                    azure_auth=auth,  # type: ignore[arg-type]
                )
            )
            await client.start()
            assert client.options.session_type == "live"
            await client.stop()
        check_client_frames(server)
    assert len(server.connections) == 2 and not server.refused
    assert all(c.received[0]["session"]["model"] == "gpt-live-1" for c in server.connections)
