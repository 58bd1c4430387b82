"""Echo cancellation on a real echo path: the CI echo room (``.ci/audio.sh room-up``), real
PortAudio devices, the local Realtime server with server VAD.

The room: the speaker's output goes through a soft clip, a convolver with the impulse response
written here (delay, RT60 250 ms, small-speaker high-pass) and -50 dBFS pink noise into the
microphone; a second stream (``pw-play --target rtsdk_mic``) is a person talking in the room.
Replies come from the echo assistant: a user audio item (a real voice, ``hello.wav``) and a
``response.create`` make it play that voice back on the speaker, with nobody talking.

Slow (about a minute); run once, on the compiled kernels. Skips without the room (fails with
``RTSDK_REQUIRE_AUDIO=1``).
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions
from rtsdk.audio import AudioStreamOptions, DeviceSink, DeviceSource
from rtsdk.kernels import float32_to_pcm16
from rtsdk.testing import LocalRealtimeServer

from .client_helpers import Recorder
from .conftest import NO_EXTENSIONS
from .echo_room import room_ir, speechlike, user_voice
from .test_audio_devices import REQUIRE, require_loopback

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NO_EXTENSIONS, reason="device test: runs once, on the compiled kernels"),
]

ROOT = Path(__file__).resolve().parents[1]
RATE = 24_000  # session rate
REPLY_S = 1.0  # each echo-assistant reply of the no-interruption runs
IR_GAIN = 0.25  # the echo at the microphone about as loud as the reference: open speakers
NOISE_DB = -44  # the pink noise control: about -50 dBFS in the capture
#: PipeWire re-plans its graph when the room's process joins or leaves; audio in the first few
#: hundred ms after that can skip or repeat a quantum
SETTLE_S = 1.0


# ---------------------------------------------------------------------------------- the room
def require_room_stack() -> None:
    """Skip (or, with RTSDK_REQUIRE_AUDIO=1, fail) without the loopback of .ci/audio.sh and
    ``pw-play``: what the echo rooms are built on."""
    require_loopback()
    why = ""
    if not os.environ.get("RTSDK_AUDIO_DIR"):
        why = "no .ci/audio.sh loopback (RTSDK_AUDIO_DIR unset)"
    elif shutil.which("pw-play") is None:
        why = "pw-play missing"
    if why:
        if REQUIRE:
            pytest.fail(f"RTSDK_REQUIRE_AUDIO=1 but {why}")
        pytest.skip(why)


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[float], None]]:
    """``room(delay_ms)`` (re)starts the echo room with that much acoustic delay."""
    require_room_stack()
    from scipy.io import wavfile

    d = tmp_path_factory.mktemp("room")

    def up(delay_ms: float) -> None:
        ir = d / f"ir-{delay_ms:.0f}.wav"
        wavfile.write(ir, 48_000, room_ir(48_000, delay_ms=delay_ms, gain=IR_GAIN))
        r = subprocess.run(
            ["bash", str(ROOT / ".ci" / "audio.sh"), "room-up", str(ir), str(NOISE_DB)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert r.returncode == 0, f"room-up failed: {r.stderr[-2000:]}"
        time.sleep(SETTLE_S)

    up(60)
    yield up
    subprocess.run(["bash", str(ROOT / ".ci" / "audio.sh"), "room-down"], timeout=60, check=False)
    time.sleep(SETTLE_S)


def pcm(x: npt.NDArray[np.float32]) -> str:
    return base64.b64encode(float32_to_pcm16(x).tobytes()).decode()


def uplink(server: LocalRealtimeServer) -> npt.NDArray[np.float64]:
    """Everything the server received in ``input_audio_buffer.append`` frames, as float."""
    parts = [
        np.frombuffer(base64.b64decode(f["audio"]), "<i2")
        for f in server.connections[0].received
        if isinstance(f, dict) and f.get("type") == "input_audio_buffer.append"
    ]
    return np.concatenate(parts).astype(np.float64) / 32768 if parts else np.zeros(0)


def level(x: npt.NDArray[np.float64]) -> float:
    return float(10 * np.log10(np.mean(np.square(x)) + 1e-20))


@dataclass
class Session:
    client: AsyncRealtimeAIClient
    server: LocalRealtimeServer
    rec: Recorder

    @property
    def sent_samples(self) -> int:
        """Session samples the uplink has sent so far."""
        return int(self.client.stats()["audio_frames_sent"]) * RATE // 50  # type: ignore[call-overload]

    async def reply(self, voice: npt.NDArray[np.float32], timeout: float = 20) -> Any:
        """The echo assistant says ``voice`` (session rate); returns its ``response.done``."""
        n = len(self.rec.of("response.done"))
        await self.client.send_event(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_audio", "audio": pcm(voice)}],
                },
            }
        )
        await self.client.generate_response()
        done = await self.rec.wait(
            "response.done", lambda e: len(self.rec.of("response.done")) > n, timeout=timeout
        )
        assert self.client.audio is not None
        await self.client.audio.drain(10)
        await asyncio.sleep(0.35)  # the room's delay and tail, and the server VAD's block
        return done


async def open_session(
    server: LocalRealtimeServer,
    aec: bool,
    *,
    vad: bool = True,
    sink: DeviceSink | None = None,
    source: DeviceSource | None = None,
) -> Session:
    client = AsyncRealtimeAIClient(
        RealtimeAIOptions(url=server.url, silence_duration_ms=400)
        if vad
        else RealtimeAIOptions(url=server.url, turn_detection="none"),
        stream_options=AudioStreamOptions(echo_cancellation=aec),
        audio_source=source,
        audio_sink=sink,
    )
    rec = Recorder()
    client.on("*", rec)
    await client.start()
    assert client.audio is not None
    assert client.audio.echo_stats["enabled"] is aec
    await asyncio.sleep(0.4)  # devices running, the first callbacks in
    return Session(client, server, rec)


def voice(seconds: float, level_peak: float = 0.7, seed: int = 0) -> npt.NDArray[np.float32]:
    v = user_voice(RATE, int(seconds * RATE) + seed * 4_800, level=level_peak)
    return v[seed * 4_800 :]


async def replies_without_anyone(
    server: LocalRealtimeServer, s: Session, count: int, stop_at_first: bool = False
) -> list[str]:
    statuses = []
    for i in range(count):
        done = await s.reply(voice(REPLY_S, seed=i))
        statuses.append(done.response["status"])
        if stop_at_first and statuses[-1] != "completed":
            break
    return statuses


# ---------------------------------------------------------------------------------- tests
async def test_no_self_interruption_with_aec_and_it_interrupts_itself_without(
    room: Callable[[float], None],
) -> None:
    room(60)
    async with LocalRealtimeServer(pacing="realtime") as server:
        s = await open_session(server, True)
        try:
            statuses = await replies_without_anyone(server, s, 10)
            echo = s.client.audio.echo_stats  # type: ignore[union-attr]
        finally:
            await s.client.stop()
        started = s.rec.of("input_audio_buffer.speech_started")
    assert started == [] and statuses == ["completed"] * 10, (
        statuses,
        [e.audio_start_ms for e in started],
        echo,
    )
    assert echo["active"] and echo["errors"] == 0 and echo["reference_overruns"] == 0
    assert echo["erle_db"] is not None and echo["erle_db"] >= 20
    print(f"\nAEC on: 10 replies, 0 self-interruptions; canceller stats {echo}")

    async with LocalRealtimeServer(pacing="realtime") as server:
        s = await open_session(server, False)
        try:
            statuses = await replies_without_anyone(server, s, 3, stop_at_first=True)
        finally:
            await s.client.stop()
        started = s.rec.of("input_audio_buffer.speech_started")
    # proof that the room is a real echo path: without the canceller the reply is cut
    assert "cancelled" in statuses and started, statuses
    print(f"AEC off: statuses {statuses}, speech_started {len(started)}")


async def _erle_run(
    aec: bool, sink: DeviceSink | None = None, source: DeviceSource | None = None
) -> tuple[npt.NDArray[np.float64], int]:
    """One 3 s reply with server VAD off; the uplink and where the reply's first delta came."""
    async with LocalRealtimeServer(pacing="realtime", turn_detection=None) as server:
        s = await open_session(server, aec, vad=False, sink=sink, source=source)
        try:
            task = asyncio.ensure_future(s.reply(voice(3.2, seed=3)))
            await s.rec.wait("response.output_audio.delta", timeout=10)
            mark = s.sent_samples
            await task
        finally:
            await s.client.stop()
        return uplink(server), mark


async def measure_erle(
    sink_factory: Callable[[], DeviceSink | None] = lambda: None,
    source_factory: Callable[[], DeviceSource | None] = lambda: None,
) -> tuple[float, float]:
    """``(ERLE dB, noise dBFS)`` from the uplink: 1.5 s of assistant audio from its first
    second on, without and with the canceller."""
    off, m_off = await _erle_run(False, sink_factory(), source_factory())
    on, m_on = await _erle_run(True, sink_factory(), source_factory())
    # where the echo starts in the uplink: the first 10 ms block 20 dB over the noise
    noise = level(off[:m_off])
    blocks = off[m_off : m_off + 2 * RATE][: (2 * RATE) // 240 * 240].reshape(-1, 240)
    loud = np.flatnonzero(10 * np.log10(np.mean(blocks**2, axis=1) + 1e-20) > noise + 12)
    assert loud.size, "no echo reached the microphone"
    onset = int(loud[0]) * 240
    w = slice(onset + RATE, onset + 5 * RATE // 2)
    a, b = off[m_off:][w], on[m_on:][w]
    assert a.size == b.size == 3 * RATE // 2, (off.size, m_off, on.size, m_on, onset)
    return level(a) - level(b), noise


async def test_erle_from_the_uplink(room: Callable[[float], None]) -> None:
    room(60)
    erle, noise = await measure_erle()
    print(f"\nERLE after the first second: {erle:.1f} dB (room noise {noise:.1f} dBFS)")
    assert erle >= 25.0


async def test_user_barges_in_over_a_reply(room: Callable[[float], None], tmp_path: Path) -> None:
    from scipy.io import wavfile

    room(60)
    user = voice(1.5, level_peak=0.7, seed=7)
    wav = tmp_path / "user.wav"
    wavfile.write(wav, RATE, user)
    first_word = int(np.flatnonzero(np.abs(user) > 0.05)[0])
    long_reply = speechlike(RATE, 4.0, seed=11, level=0.6, floor=0.5)  # never quiet
    spk = tmp_path / "speaker.f32"
    async with LocalRealtimeServer(pacing="realtime") as server:
        s = await open_session(server, True)
        # what the speaker really rendered, recorded from the sink's monitor
        recorder = subprocess.Popen(
            [
                "parecord",
                "--raw",
                "-d",
                "rtsdk_ci.monitor",
                "--channels=1",
                "--rate=48000",
                "--format=float32le",
                str(spk),
            ]
        )
        try:
            await asyncio.sleep(0.6)  # the recorder is running
            task = asyncio.ensure_future(s.reply(long_reply))
            await s.rec.wait("response.output_audio.delta", timeout=10)
            await asyncio.sleep(1.2)  # the user hears a second of the reply, then talks
            said = s.sent_samples
            player = subprocess.Popen(["pw-play", "--target", "rtsdk_mic", str(wav)])
            try:
                started = await s.rec.wait("input_audio_buffer.speech_started", timeout=10)
                done = await task
            finally:
                player.wait(timeout=10)
            trunc = [
                f
                for f in server.connections[0].received
                if isinstance(f, dict) and f.get("type") == "conversation.item.truncate"
            ]
        finally:
            await asyncio.sleep(1.0)  # the recorder writes out what it holds
            recorder.send_signal(signal.SIGINT)
            recorder.wait(timeout=10)
            await s.client.stop()
        up = uplink(server)
    assert done.response["status"] == "cancelled"
    assert len(trunc) == 1
    # where the user's voice sits in the uplink (cross-correlation), and its first word
    seg = up[said:]
    n = 1 << int(np.ceil(np.log2(seg.size + user.size)))
    corr = np.fft.irfft(np.fft.rfft(seg, n) * np.conj(np.fft.rfft(user, n)), n)
    at = said + int(np.argmax(corr[: seg.size]))
    word_ms = (at + first_word) * 1000 / RATE
    # the server's VAD reports where speech started minus its 300 ms prefix padding
    detected_ms = started.audio_start_ms + 300
    latency = detected_ms - word_ms
    print(f"\nbarge-in: speech_started {latency:.0f} ms of audio after the user's first word")
    assert -20 <= latency <= 300
    # the truncate is what the speaker rendered of the reply (what was handed to the device
    # before the interrupt, which the device plays out), within one 20 ms frame
    rate, heard = 48_000, np.fromfile(spk, dtype="<f4")
    loud = np.flatnonzero(np.abs(heard) > 0.01)
    assert loud.size, "the speaker monitor recorded nothing"
    rendered_ms = (loud[-1] - loud[0] + 1) * 1000 / rate
    end_ms = trunc[0]["audio_end_ms"]
    print(f"truncate at {end_ms} ms, the speaker rendered {rendered_ms:.0f} ms")
    assert abs(end_ms - rendered_ms) <= 20, (end_ms, rendered_ms)


async def test_double_talk_keeps_the_user(room: Callable[[float], None], tmp_path: Path) -> None:
    """Server VAD off: the user talks over a reply; the user's voice in the uplink against the
    same voice with nobody else talking."""
    from scipy.io import wavfile

    room(60)
    user = voice(1.5, level_peak=0.7, seed=9)
    wav = tmp_path / "user.wav"
    wavfile.write(wav, RATE, user)

    async def run(with_reply: bool) -> float:
        async with LocalRealtimeServer(pacing="realtime", turn_detection=None) as server:
            s = await open_session(server, True, vad=False)
            try:
                task = None
                await s.reply(voice(1.5, seed=2))  # the canceller has converged
                if with_reply:
                    seen = len(s.rec.of("response.output_audio.delta"))
                    task = asyncio.ensure_future(s.reply(voice(3.5, seed=4)))
                    await s.rec.wait(
                        "response.output_audio.delta",
                        lambda e: len(s.rec.of("response.output_audio.delta")) > seen,
                        timeout=10,
                    )
                    await asyncio.sleep(0.8)
                said = s.sent_samples
                await asyncio.to_thread(
                    subprocess.run,
                    ["pw-play", "--target", "rtsdk_mic", str(wav)],
                    timeout=20,
                    check=True,
                )
                if task is not None:
                    await task
                await asyncio.sleep(0.3)
            finally:
                await s.client.stop()
            up = uplink(server)
        seg = up[said:]
        n = 1 << int(np.ceil(np.log2(seg.size + user.size)))
        corr = np.fft.irfft(np.fft.rfft(seg, n) * np.conj(np.fft.rfft(user, n)), n)
        at = int(np.argmax(corr[: seg.size]))
        return level(seg[at : at + user.size])

    alone = await run(False)
    over = await run(True)
    print(f"\ndouble talk: the user at {over:.1f} dBFS over the reply, {alone:.1f} alone")
    assert over - alone >= -6.0


class _Sink441(DeviceSink):
    def open(self, options: AudioStreamOptions, session_rate: int) -> None:
        import dataclasses

        super().open(dataclasses.replace(options, sample_rate=44_100), session_rate)


class _Source48(DeviceSource):
    def open(self, options: AudioStreamOptions) -> None:
        import dataclasses

        super().open(dataclasses.replace(options, sample_rate=48_000))


async def test_mixed_rates_and_a_long_delay(room: Callable[[float], None]) -> None:
    """44.1 kHz out, 48 kHz in, and 250 ms more acoustic delay: the same results."""
    room(60 + 250)
    try:
        async with LocalRealtimeServer(pacing="realtime") as server:
            s = await open_session(server, True, sink=_Sink441(), source=_Source48())
            try:
                assert s.client.audio is not None
                assert s.client.audio.sink.sample_rate == 44_100  # type: ignore[union-attr]
                assert s.client.audio.source.sample_rate == 48_000  # type: ignore[union-attr]
                statuses = await replies_without_anyone(server, s, 5)
                echo = s.client.audio.echo_stats
            finally:
                await s.client.stop()
            started = s.rec.of("input_audio_buffer.speech_started")
        assert started == [] and statuses == ["completed"] * 5, (statuses, echo)
        erle, _ = await measure_erle(_Sink441, _Source48)
        print(f"\n44.1k/48k, 310 ms: 5 replies, 0 self-interruptions, ERLE {erle:.1f} dB; {echo}")
        assert erle >= 25.0
    finally:
        room(60)
