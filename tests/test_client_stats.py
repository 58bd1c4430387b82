"""``client.stats()``: the nested snapshot, its audio counters against what crossed the wire,
and the flat keys of earlier releases."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rtsdk import AsyncRealtimeAIClient
from rtsdk.audio import AudioStreamOptions, WavSink, WavSource
from rtsdk.testing import LocalRealtimeServer

from .client_helpers import RealTimePlayback, Recorder, silence, tone
from .test_client import options

BUNDLED = Path(__file__).resolve().parents[1] / "samples" / "assets" / "hello.wav"


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer(pacing="fast") as srv:
        yield srv


def _wire_bytes(frames: list[Any], kind: str, key: str) -> int:
    return sum(
        len(base64.b64decode(f[key]))
        for f in frames
        if isinstance(f, dict) and f.get("type") == kind
    )


@pytest.mark.parametrize("fmt", ["pcm16", "g711_ulaw"])
async def test_audio_counters_match_the_wire(server: LocalRealtimeServer, fmt: str) -> None:
    client = AsyncRealtimeAIClient(
        options(server, input_format=fmt, output_format=fmt, silence_duration_ms=300)
    )
    rec = Recorder()
    client.on("response.done", rec)
    await client.start()
    client.service.playback = RealTimePlayback()  # the fast path plays what it can
    speech = np.concatenate([tone(0.8), silence(0.6)])
    await client.send_audio((speech * 32767).astype("<i2"), sample_rate=24000)
    await rec.wait("response.done")
    await client.send_text("and once more")
    await rec.wait("response.done", lambda e: e is not rec.events[0])
    await client.drain()
    stats = client.stats()
    conn = server.connections[0]
    sent = _wire_bytes(conn.received, "input_audio_buffer.append", "audio")
    received = _wire_bytes(conn.sent, "response.output_audio.delta", "delta")
    audio = stats["audio"]
    assert audio["sent_bytes"] == sent > 0
    assert audio["received_bytes"] == received > 0
    per_ms = 48 if fmt == "pcm16" else 8
    assert audio["sent_ms"] == pytest.approx(sent / per_ms)
    assert audio["sent_ms"] == pytest.approx(1400, abs=25)
    assert audio["received_ms"] == pytest.approx(received / per_ms)
    assert set(stats) == {"latency", "link", "errors", "dispatch", "audio"}
    assert stats["latency"]["turns"] == 2 and stats["link"]["connects"] == 1
    assert stats["errors"] == {"handler": 0, "protocol": 0, "server": 0}
    assert "stream" not in audio  # no stream manager in this session
    await client.stop()


async def test_the_flat_keys_of_earlier_releases_still_read(server: LocalRealtimeServer) -> None:
    client = AsyncRealtimeAIClient(options(server, output_modality="text", turn_detection="none"))
    rec = Recorder()
    client.on("response.done", rec)
    await client.start()
    await client.send_text("hi")
    await rec.wait("response.done")
    stats = client.stats()
    assert stats["turns"] == stats["latency"]["turns"] == 1
    assert stats["reconnects"] == 0 and "reconnects" in stats
    assert stats.get("server_errors") == 0 and stats.get("no_such_key", 7) == 7
    assert stats["audio_received_bytes"] == 0 and "audio_received_bytes" in stats
    assert "audio_frames_sent" not in stats  # a stream counter, and there is no stream
    with pytest.raises(KeyError):
        stats["no_such_key"]
    assert "turns" not in list(stats)  # iteration shows the sections only
    await client.stop()


async def test_counters_with_the_stream_manager_on_the_fast_path(
    server: LocalRealtimeServer, tmp_path: Path
) -> None:
    # the playback's compiled delta player takes most deltas without Python: still counted
    client = AsyncRealtimeAIClient(
        options(server, silence_duration_ms=400),
        stream_options=AudioStreamOptions(input_device=None, output_device=None),
        audio_source=WavSource(BUNDLED, realtime=False, append_silence_ms=1000),
        audio_sink=WavSink(tmp_path / "out.wav", realtime=False),
    )
    rec = Recorder()
    client.on("response.done", rec)
    await client.start()
    assert client.audio is not None
    await asyncio.wait_for(client.audio.wait_input_ended(), 20)
    await rec.wait("response.done", timeout=20)
    await client.drain()
    stats = client.stats()
    conn = server.connections[0]
    assert stats["audio"]["received_bytes"] == _wire_bytes(
        conn.sent, "response.output_audio.delta", "delta"
    )
    assert stats["audio"]["sent_bytes"] == _wire_bytes(
        conn.received, "input_audio_buffer.append", "audio"
    )
    stream = stats["audio"]["stream"]
    assert stream["frames_sent"] == stats["audio_frames_sent"] > 0
    assert "echo" in stats["audio"]
    await client.stop()
