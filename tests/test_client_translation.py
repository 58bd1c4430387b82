"""Translation sessions through the public client API, against the local server's translator.

Every frame the client sent is checked, at the end of each test, against the ``openai``
package's own translation client-event types (strict).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pydantic
import pytest
from openai.types.realtime.realtime_translation_client_event import (
    RealtimeTranslationClientEvent,
)

from rtsdk import AsyncRealtimeAIClient, ConfigurationError, RealtimeAIOptions
from rtsdk.audio import AudioStreamOptions, WavSink, WavSource, read_wav
from rtsdk.testing import LocalRealtimeServer, TranslationOptions

from .conftest import REALTIME_ONCE
from .test_client_live import Seen, Voice, tone
from .test_client_live import check_client_frames as check_frames

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "samples" / "assets" / "hello.wav"
CLIENT_EVENT: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(RealtimeTranslationClientEvent)


def check_client_frames(server: LocalRealtimeServer) -> None:
    check_frames(server, CLIENT_EVENT)


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer(translation=TranslationOptions(pacing="fast")) as srv:
        yield srv
    check_client_frames(srv)


def translation(server: LocalRealtimeServer, **kw: Any) -> RealtimeAIOptions:
    kw.setdefault("target_language", "fr")
    return RealtimeAIOptions(model="gpt-realtime-translate", url=server.base_url, **kw)


async def test_wav_in_translation_out_with_both_transcripts(
    tmp_path: Path, server: LocalRealtimeServer
) -> None:
    out = tmp_path / "translated.wav"
    client = AsyncRealtimeAIClient(
        translation(server, source_transcription_model="gpt-transcribe"),
        stream_options=AudioStreamOptions(input_device=None, output_device=None),
        audio_source=WavSource(BUNDLED, realtime=False),
        audio_sink=WavSink(out, sample_rate=24000, realtime=False),
    )
    lines: list[Any] = []

    async def collect() -> None:
        async for line in client.transcripts():
            lines.append(line)

    await client.start()
    reader = asyncio.get_running_loop().create_task(collect())
    assert client.audio is not None
    await asyncio.wait_for(client.audio.wait_input_ended(), 20)
    await asyncio.sleep(0.8)  # silence flows on: the translator hears the end of the speech
    closed = await client.stop(timeout=5)
    await asyncio.wait_for(reader, 5)
    assert closed is not None and closed.type == "session.closed"
    said, said_rate = read_wav(BUNDLED)
    heard, rate = read_wav(out)
    assert rate == 24000 and np.abs(heard).max() > 0.05
    # the local translator plays the speech back: about as much voiced audio came out
    voiced_in = np.count_nonzero(np.abs(said) > 0.02) / said_rate
    voiced_out = np.count_nonzero(np.abs(heard) > 0.02) / rate
    assert voiced_out >= 0.7 * voiced_in
    speakers = {line.speaker for line in lines}
    assert speakers == {"source", "target"}
    target = " ".join(line.text for line in lines if line.speaker == "target")
    assert "[fr]" in target
    conn = server.connections[0]
    update = conn.received[0]
    assert update["type"] == "session.update"
    assert update["session"]["audio"]["output"] == {"language": "fr"}
    appends = [f for f in conn.received if f.get("type") == "session.input_audio_buffer.append"]
    sizes = {len(f["audio"]) for f in appends[:-1]}
    assert sizes == {len(appends[0]["audio"])}  # 200 ms each (the last may be shorter)
    assert len(appends[0]["audio"]) * 3 // 4 == 24000 * 2 // 5
    assert conn.received[-1]["type"] == "session.close"


@REALTIME_ONCE
async def test_close_flushes_what_is_being_translated() -> None:
    """Real-time pacing with a long lag: stop() right after the speech still plays its whole
    translation (the server flushes on session.close, the client plays before it stops)."""
    options = TranslationOptions(pacing="realtime", lag_ms=1000)
    async with LocalRealtimeServer(translation=options) as server:
        client = AsyncRealtimeAIClient(
            translation(server),
            stream_options=AudioStreamOptions(input_device=None, output_device=None),
        )
        seen = Seen()
        client.on("*", seen)
        await client.start()
        async with Voice(client) as voice:
            voice.say(tone(0.8))
            await asyncio.sleep(1.1)  # spoken, and 0.3 s of silence: the translation is due later
        before = client.stats()["audio"]["received_bytes"]
        began = time.monotonic()
        await client.stop(timeout=5)
        took = time.monotonic() - began
        check_client_frames(server)
    after = client.stats()["audio"]["received_bytes"]
    assert after > before and after >= 0.8 * 0.8 * 48000
    assert seen.of("session.closed") and took < 5.5


async def test_a_changed_target_language_and_a_reconnect(server: LocalRealtimeServer) -> None:
    client = AsyncRealtimeAIClient(translation(server, base_delay=0.05, max_delay=0.1))
    seen = Seen()
    client.on("*", seen)
    await client.start()
    async with Voice(client) as voice:
        await client.update_session(target_language="de")
        await seen.wait(lambda e: e.type == "session.updated" and _language(e) == "de")
        conn = await server.wait_for_connection(1)
        await conn.drop()
        await seen.wait(lambda e: e.type == "rtsdk.reconnected", timeout=10)
        voice.say(tone(0.6))
        await seen.wait(lambda e: "[de]" in seen.text("session.output_transcript.delta"))
    await client.stop()
    second = server.connections[1]
    assert second.received[0]["type"] == "session.update"
    assert second.received[0]["session"]["audio"]["output"]["language"] == "de"
    assert client.failure is None


def _language(event: Any) -> str | None:
    return event.session.get("audio", {}).get("output", {}).get("language")


async def test_app_audio_at_any_rate_is_resampled_and_errors_do_not_end_it(
    server: LocalRealtimeServer,
) -> None:
    client = AsyncRealtimeAIClient(translation(server))
    seen = Seen()
    client.on("*", seen)
    await client.start()
    t = np.arange(44100) / 44100
    await client.send_audio((0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), 44100)
    await client.send_audio(np.zeros(16000 * 2, dtype=np.int16), 16000)
    conn = await server.wait_for_connection(1)
    await conn.send_raw(
        '{"type":"error","event_id":"e9","error":{"type":"server_error","code":"server_error",'
        '"message":"a hiccup"}}'
    )
    await seen.wait(lambda e: e.type == "session.output_audio.delta")
    await seen.wait(lambda e: e.type == "error")
    assert client.is_connected
    for call in (client.generate_response(), client.interrupt()):
        with pytest.raises(ConfigurationError, match="translation session"):
            await call
    with pytest.raises(ConfigurationError, match="GPT-Live"):
        await client.mute()
    await client.stop()
    errors = [f for f in conn.sent if isinstance(f, dict) and f.get("type") == "error"]
    assert [e["event_id"] for e in errors] == ["e9"]  # every append was accepted


async def test_stop_returns_in_time_when_the_server_never_confirms_the_close(
    server: LocalRealtimeServer,
) -> None:
    client = AsyncRealtimeAIClient(translation(server))
    await client.start()
    conn = await server.wait_for_connection(1)
    conn.stall(10)  # reads nothing more: no session.closed will come
    began = time.monotonic()
    await client.stop(timeout=1.5)
    assert time.monotonic() - began < 2.5
    assert client.session_closed is None


@REALTIME_ONCE
async def test_translation_through_real_devices() -> None:
    from .test_audio_devices import require_loopback

    require_loopback()
    import sounddevice as sd

    async with LocalRealtimeServer(translation=TranslationOptions(pacing="realtime")) as server:
        client = AsyncRealtimeAIClient(
            translation(server, source_transcription_model="gpt-transcribe"),
            stream_options=AudioStreamOptions(
                input_device="default", output_device="default", half_duplex=True
            ),
        )
        seen = Seen()
        client.on("*", seen)
        await client.start()
        try:
            await asyncio.sleep(0.3)
            rate = 48000
            t = np.arange(int(0.8 * rate)) / rate
            sd.play((0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)
            await seen.wait(lambda e: e.type == "session.input_transcript.delta", timeout=8)
            await seen.wait(lambda e: "[fr]" in seen.text("session.output_transcript.delta"))
            assert client.audio is not None
            await asyncio.sleep(1.5)
            stats = client.audio.stats
        finally:
            sd.stop()
            await client.stop()
        check_client_frames(server)
    assert stats.device_errors == 0 and stats.played_samples > 0.3 * 44100
