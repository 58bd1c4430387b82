"""The service's output-audio path end to end: the delta player shortcut against the local server
gives exactly what the ordinary path gives, and steps aside whenever something else must see the
audio (a listener). Barge-in with the shortcut: tests/test_client_audio.py."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import numpy as np

from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions
from rtsdk.audio import AudioStreamOptions, PushSource, WavSink, WavSource, read_wav
from rtsdk.testing import LocalRealtimeServer

from .client_helpers import Recorder

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "samples" / "assets" / "hello.wav"
DELTA = "response.output_audio.delta"


async def _conversation(out: Path, fmt: str, listen: bool) -> dict[str, Any]:
    async with LocalRealtimeServer(pacing="fast") as server:
        client = AsyncRealtimeAIClient(
            RealtimeAIOptions(
                url=server.url, input_format=fmt, output_format=fmt, silence_duration_ms=1200
            ),
            stream_options=AudioStreamOptions(input_device=None, output_device=None),
            audio_source=WavSource(BUNDLED, realtime=False, append_silence_ms=1500),
            audio_sink=WavSink(out, sample_rate=16000, realtime=False),
        )
        heard: list[str] = []
        if listen:  # someone looks at every delta: the ordinary path, an event per delta
            client.on(DELTA, lambda e: heard.append(e.event_id))
        done = asyncio.Event()
        client.on("response.done", lambda e: done.set())
        await client.start()
        assert client.audio is not None
        await asyncio.wait_for(done.wait(), 20)
        assert await client.audio.drain(10)
        player = client.audio.delta_player
        assert player is not None
        received = {k: v.received for k, v in client.service.state.audio.items()}
        played = player.played
        errors = client.metrics.protocol_errors
        await client.stop()
        sent = [f for f in server.connections[0].sent if f.get("type") == DELTA]
    return {
        "played": played,
        "received": received,
        "heard": heard,
        "sent": sent,
        "errors": errors,
    }


async def test_the_shortcut_plays_exactly_what_the_ordinary_path_plays(tmp_path: Path) -> None:
    for fmt in ("pcm16", "g711_ulaw"):
        ordinary = await _conversation(tmp_path / f"o-{fmt}.wav", fmt, listen=True)
        quick = await _conversation(tmp_path / f"q-{fmt}.wav", fmt, listen=False)
        assert ordinary["played"] == 0 and len(ordinary["heard"]) == len(ordinary["sent"])
        # most deltas took the shortcut (the first of an item, and any queued behind a full
        # ring, take the ordinary path)
        assert quick["played"] > len(quick["sent"]) // 2
        assert quick["heard"] == [] and quick["errors"] == ordinary["errors"] == 0
        assert list(quick["received"].values()) == list(ordinary["received"].values())
        assert sum(quick["received"].values()) == sum(
            len(base64.b64decode(f["delta"])) for f in quick["sent"]
        )
        a, rate_a = read_wav(tmp_path / f"o-{fmt}.wav")
        b, rate_b = read_wav(tmp_path / f"q-{fmt}.wav")
        assert rate_a == rate_b and a.size > rate_a // 2
        np.testing.assert_array_equal(a, b)


async def test_a_listener_added_mid_reply_sees_every_later_delta() -> None:
    source = PushSource(24000, realtime=True)
    async with LocalRealtimeServer(pacing="realtime") as server:
        client = AsyncRealtimeAIClient(
            RealtimeAIOptions(url=server.url, silence_duration_ms=200),
            stream_options=AudioStreamOptions(input_device=None, output_device=None),
            audio_source=source,
            audio_sink=WavSink(Path("/dev/null"), sample_rate=24000, realtime=True),
        )
        rec = Recorder()
        for etype in ("response.output_audio_transcript.delta", "response.done"):
            client.on(etype, rec)
        await client.start()
        t = np.arange(2 * 24000) / 24000
        source.push((0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))
        source.push(np.zeros(12000, np.float32))
        await rec.wait("response.output_audio_transcript.delta", timeout=10)
        await asyncio.sleep(0.5)  # the shortcut is playing the reply by now
        assert client.audio is not None and client.audio.delta_player is not None
        assert client.audio.delta_player.played > 0
        late: list[str] = []
        client.on(DELTA, lambda e: late.append(e.event_id))
        await rec.wait("response.done", timeout=10)
        await client.stop()
        sent = [f["event_id"] for f in server.connections[0].sent if f.get("type") == DELTA]
    assert late and late == sent[len(sent) - len(late) :]
    # each delta after the listener came reached it (the shortcut stood aside at once)
    assert len(late) >= 3


async def test_played_accounting_stays_bounded_over_many_turns(tmp_path: Path) -> None:
    """Each response.done brings the played counts up to date, so the playback's per-item
    marks of audio already played are let go: a long session does not grow them."""
    async with LocalRealtimeServer(pacing="fast") as server:
        client = AsyncRealtimeAIClient(
            RealtimeAIOptions(url=server.url),
            stream_options=AudioStreamOptions(input_device=None, output_device=None),
            audio_sink=WavSink(tmp_path / "out.wav", sample_rate=24000, realtime=False),
        )
        done = asyncio.Event()
        client.on("response.done", lambda e: done.set())
        await client.start()
        assert client.audio is not None
        for _ in range(6):
            done.clear()
            await client.send_text("hello there")
            await asyncio.wait_for(done.wait(), 10)
            assert await client.audio.drain(10)
        playback = client.audio._playback
        assert playback is not None
        marks = len(playback._marks)
        state = client.service.state
        played = [a.played for a in state.audio.values()]
        received = [a.received for a in state.audio.values()]
        await client.stop()
    assert len(received) == 6 and all(r > 0 for r in received)
    assert marks <= 1  # only the last item's, until the next response.done
    assert played[:-1] == received[:-1]  # every earlier reply was counted as played in full
