"""AudioStreamManager end to end without devices: push/WAV sources, WAV and hand-clocked sinks."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from rtsdk.audio import (
    AudioSink,
    AudioStreamManager,
    AudioStreamOptions,
    Playback,
    PushSource,
    WavSink,
    WavSource,
    read_wav,
)
from rtsdk.exceptions import ConfigurationError
from rtsdk.kernels import (
    Resampler,
    float32_to_pcm16,
    pcm16_to_alaw,
    pcm16_to_float32,
    pcm16_to_ulaw,
)

NO_DEVICES = AudioStreamOptions(input_device=None, output_device=None)


def tone(n: int, rate: int, hz: float = 440.0, amp: float = 0.4, channels: int = 1) -> np.ndarray:
    t = np.arange(n) / rate
    x = amp * np.sin(2 * np.pi * hz * t)
    if channels > 1:
        x = np.stack([x * (1 - 0.2 * c) for c in range(channels)], axis=1)
    return x.astype(np.float32)


def offset_signal(n: int, rate: int = 24_000) -> np.ndarray:
    """Never zero: lets a test find exactly which samples reached a file."""
    t = np.arange(n) / rate
    return (0.3 + 0.2 * np.sin(2 * np.pi * 250 * t)).astype(np.float32)


def pcm_bytes(x: np.ndarray) -> bytes:
    return float32_to_pcm16(np.ascontiguousarray(x, dtype=np.float32)).tobytes()


def decode_frames(frames: list[bytes], dtype: str = "<i2") -> np.ndarray:
    parts = []
    for f in frames:
        ev = json.loads(f)
        assert ev["type"] == "input_audio_buffer.append"
        parts.append(np.frombuffer(base64.b64decode(ev["audio"]), dtype=dtype))
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def expected_uplink(x: np.ndarray, rate: int, out_rate: int = 24_000) -> np.ndarray:
    mono = x if x.ndim == 1 else np.add.reduce(x, axis=1) * np.float32(1 / x.shape[1])
    y = Resampler(rate, out_rate).process(np.ascontiguousarray(mono, np.float32), last=True)
    return float32_to_pcm16(y)


class HandSink(AudioSink):
    """A sink the test clocks by hand (render) — a stand-in for a device callback."""

    def __init__(self, rate: int) -> None:
        self.sample_rate = rate
        self.pb: Playback | None = None
        self.stopped = False

    def start(self, playback: Playback) -> None:
        self.pb = playback

    def stop(self) -> None:
        self.stopped = True

    def render(self, n: int) -> np.ndarray:
        assert self.pb is not None
        out = np.zeros(n, np.float32)
        self.pb.render(out)
        return out


@pytest.mark.parametrize(("rate", "channels"), [(16_000, 1), (24_000, 1), (44_100, 2), (48_000, 2)])
async def test_push_source_frames_equal_the_resampled_input(rate: int, channels: int) -> None:
    frames: list[bytes] = []
    src = PushSource(rate, channels)
    x = tone(rate + 123, rate, channels=channels)  # not a whole number of frames
    for part in np.array_split(x, 7):
        src.push(part)
    src.end()
    mgr = AudioStreamManager(
        NO_DEVICES, session_format="pcm16", send_frame=frames.append, source=src
    )
    await mgr.start()
    await asyncio.wait_for(mgr.wait_input_ended(), 10)
    await mgr.stop()
    got = decode_frames(frames)
    np.testing.assert_array_equal(got, expected_uplink(x, rate))
    assert len(frames) == mgr.stats.frames_sent
    assert all(len(decode_frames([f])) == 480 for f in frames[:-2])  # 20 ms frames
    amp = 0.4 * (1 - 0.1 * (channels - 1))  # the downmix of the test tone
    assert mgr.input_level_dbfs == pytest.approx(20 * np.log10(amp / np.sqrt(2)), abs=1.5)


@pytest.mark.parametrize(
    ("fmt", "enc"), [("g711_ulaw", pcm16_to_ulaw), ("g711_alaw", pcm16_to_alaw)]
)
async def test_g711_uplink(fmt: str, enc: object) -> None:
    frames: list[bytes] = []
    src = PushSource(48_000)
    x = tone(48_000, 48_000)
    src.push(x)
    src.end()
    mgr = AudioStreamManager(NO_DEVICES, session_format=fmt, send_frame=frames.append, source=src)  # type: ignore[arg-type]
    await mgr.start()
    await asyncio.wait_for(mgr.wait_input_ended(), 10)
    await mgr.stop()
    got = decode_frames(frames, dtype="u1")
    want = enc(expected_uplink(x, 48_000, 8_000))  # type: ignore[operator]
    np.testing.assert_array_equal(got, want)
    assert len(decode_frames(frames[:1], dtype="u1")) == 160


async def test_awaitable_send_and_send_errors() -> None:
    sent: list[bytes] = []
    calls = 0

    async def send(frame: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise ConnectionError("socket gone")
        await asyncio.sleep(0)
        sent.append(frame)

    src = PushSource(24_000)
    src.push(tone(4_800, 24_000))  # 10 frames
    src.end()
    mgr = AudioStreamManager(NO_DEVICES, send_frame=send, source=src)
    await mgr.start()
    await mgr.wait_input_ended()
    await mgr.stop()
    assert len(sent) == 9
    assert mgr.stats.send_errors == 1
    assert mgr.stats.frames_sent == 9
    assert mgr.last_send_error == "ConnectionError: socket gone"


async def test_downlink_into_a_wav_at_the_sink_rate(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    sink = WavSink(path, sample_rate=44_100, realtime=False)
    mgr = AudioStreamManager(NO_DEVICES, send_frame=lambda f: None, sink=sink)
    await mgr.start()
    x = offset_signal(12_000)
    data = pcm_bytes(x)
    for i in range(0, len(data), 2_000):
        mgr.play("item1", data[i : i + 2_000])
    mgr.end_item("item1")
    assert await mgr.drain(5)
    await mgr.stop()
    got, rate = read_wav(path)
    assert rate == 44_100
    want = Resampler(24_000, 44_100).process(pcm16_to_float32(data), last=True)
    assert got.size == want.size
    np.testing.assert_allclose(got, want, atol=1.5 / 32768)
    assert mgr.take_played() == [("item1", 12_000)]


@pytest.mark.parametrize("sink_rate", [16_000, 44_100, 48_000])
async def test_barge_in_lands_within_one_block_of_what_was_played(
    tmp_path: Path, sink_rate: int
) -> None:
    path = tmp_path / "out.wav"
    sink = WavSink(path, sample_rate=sink_rate, block_ms=10)  # real-time clock thread
    mgr = AudioStreamManager(NO_DEVICES, send_frame=lambda f: None, sink=sink)
    await mgr.start()
    mgr.play("item1", pcm_bytes(offset_signal(48_000)))  # 2 s
    played = 0
    deadline = time.monotonic() + 10
    while played < 4_800 and time.monotonic() < deadline:  # until about 200 ms played
        await asyncio.sleep(0.02)
        played += sum(n for _, n in mgr.take_played())
    final = mgr.interrupt()
    assert not mgr.audible
    played += sum(n for _, n in final)
    await asyncio.sleep(0.1)
    await mgr.stop()
    assert mgr.take_played() == []
    got, _ = read_wav(path)
    audio = np.flatnonzero(np.abs(got) > 0.01)  # the item never crosses zero
    in_file = int(audio[-1] - audio[0] + 1)
    accounted = played * sink_rate / 24_000
    block = sink_rate // 100
    assert abs(in_file - accounted) <= block + 2
    assert not got[audio[-1] + 1 :].any()  # silence after the barge-in
    assert mgr.stats.discarded_samples > 0


async def test_underrun_while_the_loop_stalls_keeps_output_silence_filled(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    sink = WavSink(path, sample_rate=24_000, block_ms=10)
    opts = AudioStreamOptions(input_device=None, output_device=None, playback_prebuffer_ms=0)
    mgr = AudioStreamManager(opts, send_frame=lambda f: None, sink=sink)
    await mgr.start()
    mgr.play("item1", pcm_bytes(offset_signal(2_400)))  # 100 ms, more expected
    time.sleep(0.4)  # the loop stalls: nothing feeds the ring
    mgr.play("item1", pcm_bytes(offset_signal(2_400)))
    mgr.end_item("item1")
    assert await mgr.drain(5)
    await asyncio.sleep(0.05)
    await mgr.stop()
    st = mgr.stats
    assert st.underruns == 1
    assert st.underrun_samples > 0
    got, _ = read_wav(path)
    audio = np.flatnonzero(np.abs(got) > 0.01)
    # Both halves are in the file, separated by the silence the sink filled in.
    assert audio.size == 4_800
    gap = np.diff(audio).max()
    assert gap > 2_400  # > 100 ms of silence in between
    assert sink.frames_written >= audio[-1]


async def test_overrun_counted_when_the_loop_stalls(tmp_path: Path) -> None:
    path = tmp_path / "in.wav"
    write_wav(path, tone(24_000, 24_000), 24_000)
    frames: list[bytes] = []
    opts = AudioStreamOptions(input_device=None, output_device=None, uplink_window_ms=60)
    mgr = AudioStreamManager(opts, send_frame=frames.append, source=WavSource(path))
    await mgr.start()
    time.sleep(0.5)  # the loop stalls for 500 ms; the file thread keeps its real-time pace
    await asyncio.wait_for(mgr.wait_input_ended(), 10)
    await mgr.stop()
    st = mgr.stats
    assert st.uplink_dropped_samples > 24_000 * 0.3
    sent = decode_frames(frames).size
    assert sent + st.uplink_dropped_samples == pytest.approx(24_000, abs=480)
    assert st.uplink_high_water_ms >= 40


async def test_wav_source_realtime_and_fast_send_the_same(tmp_path: Path) -> None:
    path = tmp_path / "in.wav"
    x = tone(8_000, 16_000, channels=2)
    write_wav(path, x, 16_000)
    results = []
    for realtime in (False, True):
        frames: list[bytes] = []
        mgr = AudioStreamManager(
            NO_DEVICES, send_frame=frames.append, source=WavSource(path, realtime=realtime)
        )
        await mgr.start()
        await asyncio.wait_for(mgr.wait_input_ended(), 10)
        await mgr.stop()
        results.append(decode_frames(frames))
    np.testing.assert_array_equal(results[0], results[1])
    mono, _ = read_wav(path)
    np.testing.assert_array_equal(results[0], expected_uplink(mono, 16_000))


async def test_half_duplex_sends_silence_while_the_assistant_is_audible() -> None:
    frames: list[bytes] = []
    src = PushSource(24_000)
    opts = AudioStreamOptions(
        input_device=None, output_device=None, half_duplex=True, half_duplex_tail_ms=0
    )
    sink = HandSink(24_000)
    mgr = AudioStreamManager(opts, send_frame=frames.append, source=src, sink=sink)
    await mgr.start()
    mgr.play("a", pcm_bytes(offset_signal(4_800)))
    assert mgr.audible
    src.push(tone(4_800, 24_000))
    while len(frames) < 10:
        await asyncio.sleep(0.001)
    assert not decode_frames(frames).any()  # muted: digital silence, still sent
    mgr.interrupt()
    assert not mgr.audible
    src.push(tone(4_800, 24_000))
    src.end()
    await asyncio.wait_for(mgr.wait_input_ended(), 10)
    await mgr.stop()
    assert decode_frames(frames[10:]).any()


async def test_both_sides_wav(tmp_path: Path) -> None:
    path = tmp_path / "both.wav"
    src = PushSource(24_000)
    src.push(tone(4_800, 24_000, amp=0.5))
    src.end()
    sink = WavSink(path, realtime=False, both_sides=True)
    mgr = AudioStreamManager(NO_DEVICES, send_frame=lambda f: None, source=src, sink=sink)
    await mgr.start()
    mgr.play("a", pcm_bytes(offset_signal(2_400)))
    mgr.end_item("a")
    await mgr.wait_input_ended()
    assert await mgr.drain(5)
    await asyncio.sleep(0.05)
    await mgr.stop()
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 2
        raw = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
    assert np.abs(raw[:, 0]).max() > 0.45 * 32768  # the user's side
    assert (np.abs(raw[:, 1]) > 0.05 * 32768).sum() == 2_400  # the assistant's


async def test_no_sink_drops_audio_and_counts_nothing() -> None:
    mgr = AudioStreamManager(NO_DEVICES, send_frame=lambda f: None)
    await mgr.start()
    mgr.play("a", b"\x00\x10" * 100)
    assert not mgr.audible
    assert mgr.take_played() == []
    assert mgr.interrupt() == []
    await mgr.wait_input_ended()  # no source: ended at once
    await mgr.stop()


async def test_stop_is_idempotent_and_leaves_no_thread(tmp_path: Path) -> None:
    path = tmp_path / "in.wav"
    write_wav(path, tone(48_000, 48_000), 48_000)
    before = threading.active_count()
    mgr = AudioStreamManager(
        NO_DEVICES,
        send_frame=lambda f: None,
        source=WavSource(path),
        sink=WavSink(tmp_path / "out.wav"),
    )
    await mgr.start()
    assert threading.active_count() == before + 2
    with pytest.raises(RuntimeError, match="twice"):
        await mgr.start()
    await asyncio.sleep(0.05)
    await mgr.stop()
    await mgr.stop()
    assert threading.active_count() == before
    assert mgr.stats.frames_sent >= 1


def test_constructor_checks() -> None:
    with pytest.raises(ConfigurationError, match="AudioStreamOptions"):
        AudioStreamManager(object(), send_frame=print)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="send_frame"):
        AudioStreamManager(NO_DEVICES, send_frame=None)  # type: ignore[arg-type]


def write_wav(path: Path, x: npt.NDArray[np.float32], rate: int) -> None:
    ch = 1 if x.ndim == 1 else x.shape[1]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(ch)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(float32_to_pcm16(np.ascontiguousarray(x.reshape(-1))).tobytes())
