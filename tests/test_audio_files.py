"""WAV and push sources: any width, rate and channel count to float32 mono; errors named."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest

from rtsdk.audio import AudioStreamOptions, PushSource, WavSource, read_wav
from rtsdk.audio.base import to_float32
from rtsdk.audio.files import decode_pcm
from rtsdk.exceptions import AudioFormatError


def write_int_wav(path: Path, ints: np.ndarray, width: int, rate: int, channels: int) -> None:
    """Integer samples (already scaled to the width) into a WAV, little-endian."""
    flat = ints.reshape(-1).astype(np.int64)
    if width == 1:
        raw = (flat + 128).astype(np.uint8).tobytes()
    elif width == 3:
        u = flat & 0xFFFFFF
        raw = np.stack([u & 0xFF, (u >> 8) & 0xFF, (u >> 16) & 0xFF], axis=1).astype(np.uint8)
        raw = raw.tobytes()
    else:
        raw = flat.astype(f"<i{width}").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)


@pytest.mark.parametrize("width", [1, 2, 3, 4])
@pytest.mark.parametrize("channels", [1, 2, 3])
def test_every_width_and_channel_count(tmp_path: Path, width: int, channels: int) -> None:
    rng = np.random.default_rng(width * 10 + channels)
    full = 1 << (8 * width - 1)
    ints = rng.integers(-full, full, size=(500, channels))
    ints[0] = -full  # the extremes survive
    ints[1] = full - 1
    path = tmp_path / "x.wav"
    write_int_wav(path, ints, width, 16_000, channels)
    x, rate = read_wav(path)
    assert rate == 16_000
    assert x.dtype == np.float32
    want = (ints.astype(np.float64) / full).mean(axis=1)
    np.testing.assert_allclose(x, want, atol=1e-6)


def test_decode_pcm_refuses_a_bad_width() -> None:
    with pytest.raises(AudioFormatError, match="width"):
        decode_pcm(b"\x00" * 10, 5, 1)


@pytest.mark.parametrize("file_rate", [11_025, 12_000, 88_200])
def test_odd_rates_are_converted_to_48k(tmp_path: Path, file_rate: int) -> None:
    n = file_rate  # 1 s
    t = np.arange(n) / file_rate
    ints = np.round(0.5 * 32767 * np.sin(2 * np.pi * 1_000 * t)).astype(np.int64)
    path = tmp_path / "odd.wav"
    write_int_wav(path, ints.reshape(-1, 1), 2, file_rate, 1)
    x, rate = read_wav(path)
    assert rate == 48_000
    assert x.size == 48_000
    spec = np.abs(np.fft.rfft(x[4_800:-4_800] * np.hanning(x.size - 9_600)))
    peak_hz = np.argmax(spec) * 48_000 / (x.size - 9_600)
    assert peak_hz == pytest.approx(1_000, abs=3)
    mid = x[4_800:-4_800]
    assert np.sqrt(np.mean(mid**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)
    # The converted tone is clean: residual after a least-squares sine fit < -60 dB.
    tt = np.arange(mid.size) / 48_000
    basis = np.stack([np.sin(2 * np.pi * 1_000 * tt), np.cos(2 * np.pi * 1_000 * tt)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, mid, rcond=None)
    resid = mid - basis @ coef
    assert 20 * np.log10(np.std(resid) / np.std(mid)) < -60


def test_not_a_wav_is_an_audio_format_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00OGGSnot a wave file at all")
    with pytest.raises(AudioFormatError, match="not a WAV"):
        read_wav(path)


def test_float_wav_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "float.wav"
    data = np.zeros(10, "<f4").tobytes()
    fmt = (3).to_bytes(2, "little") + (1).to_bytes(2, "little") + (16_000).to_bytes(4, "little")
    fmt += (64_000).to_bytes(4, "little") + (4).to_bytes(2, "little") + (32).to_bytes(2, "little")
    body = b"WAVE" + b"fmt " + len(fmt).to_bytes(4, "little") + fmt
    body += b"data" + len(data).to_bytes(4, "little") + data
    path.write_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body)
    with pytest.raises(AudioFormatError, match="integer PCM"):
        read_wav(path)


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        WavSource(tmp_path / "nope.wav").open(AudioStreamOptions())


async def test_wav_source_appends_silence(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    write_int_wav(path, np.full((1_600, 1), 1_000), 2, 16_000, 1)
    src = WavSource(path, realtime=False, append_silence_ms=50)
    src.open(AudioStreamOptions())
    src.start(asyncio.get_running_loop())
    buf = np.zeros(400, np.float32)
    got = []
    with pytest.raises(EOFError):
        while True:
            n = await src.read_into(buf)
            got.append(buf[:n].copy())
    src.stop()
    x = np.concatenate(got)
    assert x.size == 1_600 + 800
    assert np.all(x[:1_600] > 0)
    assert not x[1_600:].any()


# ---------------------------------------------------------------------- push source


async def read_all(src: PushSource, n: int) -> np.ndarray:
    buf = np.zeros(n, np.float32)
    got = []
    try:
        while True:
            k = await src.read_into(buf)
            got.append(buf[:k].copy())
    except EOFError:
        pass
    return np.concatenate(got) if got else np.zeros(0, np.float32)


async def test_push_accepts_float32_int16_and_bytes() -> None:
    src = PushSource(24_000, channels=2)
    src.start(asyncio.get_running_loop())
    f = np.array([[0.5, -0.5], [0.25, 0.0]], np.float32)
    i = np.array([16384, -16384, 8192, 0], np.int16)
    src.push(f)
    src.push(i, sample_rate=24_000)
    src.push(i.astype("<i2").tobytes())
    src.end()
    x = await read_all(src, 3)
    np.testing.assert_array_equal(x, np.tile([0.5, -0.5, 0.25, 0.0], 3).astype(np.float32))
    assert src.pending == 0


async def test_push_from_another_thread_wakes_the_reader() -> None:
    src = PushSource(16_000)
    src.start(asyncio.get_running_loop())

    def produce() -> None:
        for k in range(5):
            src.push(np.full(100, k, np.float32))
        src.end()

    reader = asyncio.create_task(read_all(src, 160))
    await asyncio.sleep(0.01)  # the reader parks first
    await asyncio.to_thread(produce)
    x = await asyncio.wait_for(reader, 5)
    np.testing.assert_array_equal(x, np.repeat(np.arange(5, dtype=np.float32), 100))


@pytest.mark.parametrize(
    ("data", "kwargs", "match"),
    [
        (np.zeros(10, np.float64), {}, "float32 or int16"),
        (np.zeros((10, 2), np.float32), {}, "2 channels"),
        (np.zeros((2, 2, 2), np.float32), {}, "3-D"),
        (b"\x00\x01\x02", {}, "even byte count"),
        ([0.0, 1.0], {}, "got list"),
        (np.zeros(10, np.float32), {"sample_rate": 48_000}, "48000 Hz"),
    ],
)
def test_push_refuses_wrong_audio(data: object, kwargs: dict[str, int], match: str) -> None:
    src = PushSource(24_000)
    with pytest.raises(AudioFormatError, match=match):
        src.push(data, **kwargs)


def test_push_source_construction_checks() -> None:
    with pytest.raises(AudioFormatError, match="not supported"):
        PushSource(11_025)
    with pytest.raises(AudioFormatError, match="channels"):
        PushSource(24_000, channels=0)
    src = PushSource(24_000)
    src.end()
    with pytest.raises(RuntimeError, match="after end"):
        src.push(np.zeros(4, np.float32))


def test_to_float32_needs_whole_frames() -> None:
    with pytest.raises(AudioFormatError, match="whole number"):
        to_float32(np.zeros(5, np.float32), 2, "push")


def test_bundled_speech_wav() -> None:
    path = Path(__file__).resolve().parent.parent / "samples" / "assets" / "hello.wav"
    assert path.stat().st_size < 200_000
    x, rate = read_wav(path)
    assert rate == 16_000
    assert 2.0 < x.size / rate < 6.0
    win = rate // 50  # 20 ms
    rms = np.sqrt(np.mean(x[: x.size // win * win].reshape(-1, win) ** 2, axis=1))
    voiced = rms > 0.02
    assert voiced.mean() > 0.4  # mostly speech
    assert not voiced[-10:].any()  # ends in silence (a VAD can close the turn)
