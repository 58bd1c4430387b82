"""Whole conversations with the client's own audio path: WAV files (PCM16 and G.711 sessions) and
real devices on a loopback sound server, against the local Realtime server."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import numpy as np
import pytest

from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions
from rtsdk.audio import AudioStreamOptions, PushSource, WavSink, WavSource, read_wav
from rtsdk.testing import LocalRealtimeServer

from .client_helpers import Recorder, best_correlation, started_on_files, talk_over_the_reply
from .conftest import REALTIME_ONCE
from .test_audio_devices import require_loopback

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "samples" / "assets" / "hello.wav"


def _resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    if rate_in == rate_out:
        return x
    t_out = np.arange(int(len(x) * rate_out / rate_in)) / rate_out
    return np.interp(t_out, np.arange(len(x)) / rate_in, x).astype(np.float32)


def _trim(x: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x) > threshold)
    return x[loud[0] : loud[-1] + 1]


async def _settled(client: AsyncRealtimeAIClient, quiet: float = 0.6) -> None:
    """Until no response has been active for ``quiet`` seconds."""
    loop = asyncio.get_running_loop()
    since = loop.time()
    deadline = since + 20
    while loop.time() - since < quiet:
        assert loop.time() < deadline, "responses never settled"
        await asyncio.sleep(0.02)
        if client.service.state.response_active:
            since = loop.time()


@pytest.mark.parametrize("fmt", ["pcm16", "g711_ulaw", "g711_alaw"])
async def test_conversation_through_wav_files(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "assistant.wav"
    async with LocalRealtimeServer(pacing="fast") as server:
        client = AsyncRealtimeAIClient(
            RealtimeAIOptions(
                url=server.url, input_format=fmt, output_format=fmt, silence_duration_ms=1200
            ),
            stream_options=AudioStreamOptions(input_device=None, output_device=None),
            audio_source=WavSource(BUNDLED, realtime=False, append_silence_ms=1500),
            audio_sink=WavSink(out, sample_rate=16000, realtime=False),
        )
        rec = Recorder()
        client.on("*", rec)
        await client.start()
        assert client.audio is not None
        await asyncio.wait_for(client.audio.wait_input_ended(), 20)
        await _settled(client)
        assert rec.of("response.done")
        assert await client.audio.drain(10)
        stats = client.audio.stats
        snapshot = client.stats()
        await client.stop()
        session = server.connections[0].session
    assert snapshot["audio_frames_sent"] == stats.frames_sent
    assert snapshot["turns"] == len(rec.of("response.done")) and snapshot["reconnects"] == 0
    assert (
        session["audio"]["input"]["format"]["type"]
        == {
            "pcm16": "audio/pcm",
            "g711_ulaw": "audio/pcmu",
            "g711_alaw": "audio/pcma",
        }[fmt]
    )
    assert stats.frames_sent > 100 and stats.send_errors == 0
    said, rate_in = read_wav(BUNDLED)
    heard, rate_out = read_wav(out)
    # the last few ms of an item stay in the playback resampler (<= 2 ms of delay): compare
    # all but the final 20 ms of the speech
    said = _resample(_trim(said)[: -rate_in // 50], rate_in, rate_out)
    # PCM16 comes back nearly as sent; G.711 at 8 kHz keeps the speech band
    floor = 0.8 if fmt == "pcm16" else 0.6
    corr = best_correlation(said, heard)
    assert corr > floor, corr


@REALTIME_ONCE
async def test_conversation_through_real_devices() -> None:
    require_loopback()
    import sounddevice as sd

    async with LocalRealtimeServer(pacing="realtime") as server:
        client = AsyncRealtimeAIClient(
            RealtimeAIOptions(url=server.url, silence_duration_ms=300),
            # the loopback's microphone hears the speaker: half duplex keeps the echo out
            stream_options=AudioStreamOptions(
                input_device="default", output_device="default", half_duplex=True
            ),
        )
        rec = Recorder()
        client.on("*", rec)
        await client.start()
        try:
            await asyncio.sleep(0.3)
            # "the user" speaks into the room: 0.8 s of a 440 Hz tone on the default output
            rate = 48000
            t = np.arange(int(0.8 * rate)) / rate
            speech = (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            sd.play(speech, rate)
            await rec.wait("input_audio_buffer.speech_started", timeout=5)
            await rec.wait("input_audio_buffer.committed", timeout=5)
            done = await rec.wait("response.done", timeout=10)
            assert done.response["status"] == "completed"
            assert client.audio is not None
            await client.audio.drain(5)
            await asyncio.sleep(0.2)
            stats = client.audio.stats
        finally:
            sd.stop()
            await client.stop()
    transcript = "".join(
        e.delta for e in rec.of("response.output_audio_transcript.delta")
    ) or "".join(e.transcript for e in rec.of("response.output_audio_transcript.done"))
    heard = re.search(r"heard ([0-9.]+) s", transcript)
    assert heard, transcript
    assert 0.6 <= float(heard.group(1)) <= 2.5  # the tone, as the server received it
    assert stats.device_errors == 0
    assert stats.played_samples > 0.5 * 44100 * 0.5  # the echo was played on the device


@REALTIME_ONCE  # the sink's real-time clock is what the truncate is held to
@pytest.mark.parametrize("listen", ["every event", "no audio deltas"])
async def test_barge_in_truncates_where_the_sink_really_stopped(
    tmp_path: Path, listen: str
) -> None:
    """The playback path end to end: the user talks over the echo; the truncate the client
    sends matches, within one 20 ms frame, what the (real-time) WAV sink really rendered.
    With nobody listening to audio deltas, the reply is played by the playback's delta player
    (the shortcut) until the user talks over it."""
    out = tmp_path / "assistant.wav"
    source = PushSource(24000, realtime=True)
    sink = WavSink(out, sample_rate=24000, realtime=True)
    async with LocalRealtimeServer(pacing="realtime") as server:
        client = AsyncRealtimeAIClient(
            RealtimeAIOptions(url=server.url, silence_duration_ms=200),
            stream_options=AudioStreamOptions(input_device=None, output_device=None),
            audio_source=source,
            audio_sink=sink,
        )
        rec = Recorder()
        if listen == "every event":
            client.on("*", rec)
            first_of_reply = "response.output_audio.delta"
        else:
            first_of_reply = "response.output_audio_transcript.delta"
            for etype in (first_of_reply, "conversation.item.truncated"):
                client.on(etype, rec)
        await client.start()
        # the user hears some of the echo, then talks over it
        first = await talk_over_the_reply(source, rec, 0.6, first_of_reply)
        assert client.audio is not None and client.audio.delta_player is not None
        fast = client.audio.delta_player.played
        truncated = await rec.wait("conversation.item.truncated", timeout=10)
        await asyncio.sleep(0.3)
        await client.stop()
        sent = [f for f in server.connections[0].received if isinstance(f, dict)]
    assert (fast > 0) == (listen == "no audio deltas")
    trunc = [f for f in sent if f["type"] == "conversation.item.truncate"]
    assert len(trunc) == 1 and trunc[0]["item_id"] == first.item_id == truncated.item_id
    end_ms = trunc[0]["audio_end_ms"]
    heard, rate = read_wav(out)
    loud = np.flatnonzero(np.abs(heard) > 0.02)
    assert loud.size
    # the first echo runs from its first loud sample to where the sink went quiet
    gaps = np.flatnonzero(np.diff(loud) > rate // 100)  # a silence longer than 10 ms
    stop = loud[gaps[0]] if gaps.size else loud[-1]
    rendered_ms = (stop - loud[0] + 1) * 1000 / rate
    assert 300 <= end_ms <= 1500
    assert abs(end_ms - rendered_ms) <= 20, (end_ms, rendered_ms)


@REALTIME_ONCE
async def test_interrupt_response_off_lets_the_reply_play_on(tmp_path: Path) -> None:
    """With ``interrupt_response=False`` the user talking over a reply neither cancels nor
    truncates it: the server goes on (it said so in the session) and the client plays all of
    it (the reply is a 500 Hz tone, the user a 300 Hz one: the sink is read per 10 ms)."""
    out = tmp_path / "assistant.wav"
    source = PushSource(24000, realtime=True)
    sink = WavSink(out, sample_rate=24000, realtime=True)
    async with LocalRealtimeServer(pacing="realtime") as server:
        options = RealtimeAIOptions(
            url=server.url, silence_duration_ms=200, interrupt_response=False
        )
        client, rec = await started_on_files(options, source, sink)
        await talk_over_the_reply(source, rec, 0.6)  # the user hears some of it, then talks
        started = await rec.wait(
            "input_audio_buffer.speech_started", lambda e: e.audio_start_ms > 1500, timeout=10
        )
        done = await rec.wait("response.done", timeout=10)  # the first reply's
        await asyncio.sleep(2.0)  # it plays out, and the reply to the user after it
        stream = client.stats()["audio"]["stream"]
        await client.stop()
        sent = [f for f in server.connections[0].received if isinstance(f, dict)]
    assert started.audio_start_ms < 3000  # the second utterance, over the first reply
    assert done.response["status"] == "completed"
    kinds = {f["type"] for f in sent}
    assert "conversation.item.truncate" not in kinds and "response.cancel" not in kinds
    heard, rate = read_wav(out)
    b = rate // 100
    blocks = heard[: heard.size // b * b].reshape(-1, b).astype(np.float64)
    n = np.arange(b) / rate
    tone = {f: np.abs(blocks @ np.exp(-2j * np.pi * f * n)) for f in (500, 300)}
    first = (tone[500] > 2 * tone[300]) & (np.sqrt(np.mean(blocks**2, axis=1)) > 0.05)
    assert stream["discarded_samples"] == 0
    assert np.count_nonzero(first) * 10 >= 1400, np.count_nonzero(first)  # all 1.5 s of it
