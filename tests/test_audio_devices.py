"""Devices: the lazy PortAudio import, device listing, and real I/O over a loopback sound server.

The loopback tests play through the SDK's playback path and record through its capture path on
the default devices. They need an audio stack whose default source hears the default sink (CI:
``eval "$(bash .ci/audio.sh start)"``). Without one they skip, unless ``RTSDK_REQUIRE_AUDIO=1``
(set by CI), where they fail instead.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import json
import os
import sys
from typing import Any

import numpy as np
import pytest

from rtsdk.audio import AudioStreamManager, AudioStreamOptions, describe_devices, list_devices
from rtsdk.audio.devices import DeviceSink, DeviceSource, resolve_device
from rtsdk.exceptions import AudioDeviceError
from rtsdk.kernels import float32_to_pcm16

from .conftest import REALTIME_ONCE

REQUIRE = os.environ.get("RTSDK_REQUIRE_AUDIO", "").strip() not in ("", "0")


# ---------------------------------------------------------------------- without PortAudio


@pytest.fixture
def no_portaudio(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import sounddevice`` fail as it does when libportaudio2 is missing."""
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)


@pytest.mark.usefixtures("no_portaudio")
async def test_without_portaudio_devices_say_what_to_install() -> None:
    with pytest.raises(AudioDeviceError, match="libportaudio2"):
        list_devices()
    text = describe_devices()
    assert "unavailable" in text
    assert "libportaudio2" in text
    mgr = AudioStreamManager(AudioStreamOptions(), send_frame=lambda f: None)  # no import yet
    with pytest.raises(AudioDeviceError, match="libportaudio2"):
        await mgr.start()
    await mgr.stop()


def test_without_the_sounddevice_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError
    with pytest.raises(AudioDeviceError, match="pip install sounddevice"):
        list_devices()


# ---------------------------------------------------------------------- a fake device list


class _FakeSD:
    class default:  # mirrors sounddevice.default
        device = (1, 2)

    @staticmethod
    def query_devices() -> list[dict[str, Any]]:
        def dev(name: str, i: int, o: int) -> dict[str, Any]:
            return {
                "name": name,
                "hostapi": 0,
                "max_input_channels": i,
                "max_output_channels": o,
                "default_samplerate": 48_000.0,
            }

        return [dev("HDMI out", 0, 2), dev("USB Mic", 1, 0), dev("Speakers", 0, 2)]

    @staticmethod
    def query_hostapis() -> list[dict[str, Any]]:
        return [{"name": "ALSA"}]

    @staticmethod
    def get_portaudio_version() -> tuple[int, str]:
        return (1, "PortAudio fake")


def test_resolve_by_index_name_and_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", _FakeSD)
    assert resolve_device("default", "input").name == "USB Mic"
    assert resolve_device("default", "output").name == "Speakers"
    assert resolve_device(0, "output").name == "HDMI out"
    assert resolve_device("speak", "output").index == 2
    with pytest.raises(AudioDeviceError, match="does not exist"):
        resolve_device(1, "output")  # an input-only device
    with pytest.raises(AudioDeviceError, match="no output device matches 'mic'"):
        resolve_device("mic", "output")
    monkeypatch.setattr(_FakeSD.default, "device", (1, -1))
    assert resolve_device("default", "output").name == "HDMI out"  # first usable one
    text = describe_devices()
    assert "USB Mic" in text and "PortAudio fake" in text
    assert text.splitlines()[2].lstrip().startswith(">")  # the default input is marked


def test_ambiguous_name(monkeypatch: pytest.MonkeyPatch) -> None:
    class SD(_FakeSD):
        @staticmethod
        def query_devices() -> list[dict[str, Any]]:
            devs = _FakeSD.query_devices()
            devs[0]["name"] = "Speakers HDMI"
            return devs

    monkeypatch.setitem(sys.modules, "sounddevice", SD)
    with pytest.raises(AudioDeviceError, match="ambiguous"):
        resolve_device("speak", "output")
    assert resolve_device("SPEAKERS", "output").index == 2  # an exact name wins


# ---------------------------------------------------------------------- real devices


def require_loopback() -> None:
    """Skip (or, with RTSDK_REQUIRE_AUDIO=1, fail) without a default input and output."""
    try:
        devs = list_devices()
    except AudioDeviceError as exc:
        reason = f"no audio stack: {exc}"
    else:
        has_in = any(d.max_input_channels for d in devs)
        has_out = any(d.max_output_channels for d in devs)
        reason = (
            ""
            if has_in and has_out
            else "no audio input/output device (start a loopback: "
            'eval "$(bash .ci/audio.sh start)")'
        )
    if reason:
        if REQUIRE:
            pytest.fail(f"RTSDK_REQUIRE_AUDIO=1 but {reason}")
        pytest.skip(reason)


def tone_24k(seconds: float, hz: float = 1_000.0, amp: float = 0.5) -> bytes:
    n = int(24_000 * seconds)
    t = np.arange(n) / 24_000
    x = amp * np.sin(2 * np.pi * hz * t)
    ramp = int(24_000 * 0.005)
    env = np.ones(n)
    env[:ramp] = np.linspace(0, 1, ramp)
    env[-ramp:] = np.linspace(1, 0, ramp)
    return float32_to_pcm16((x * env).astype(np.float32)).tobytes()


def recorded(frames: list[bytes]) -> np.ndarray:
    parts = [np.frombuffer(base64.b64decode(json.loads(f)["audio"]), "<i2") for f in frames]
    return np.concatenate(parts).astype(np.float64) / 32768


def loud_windows(x: np.ndarray, win: int = 120, threshold: float = 0.05) -> np.ndarray:
    """Indices (in 5 ms windows at 24 kHz) whose RMS is above ``threshold``."""
    n = x.size // win
    rms = np.sqrt(np.mean(x[: n * win].reshape(n, win) ** 2, axis=1))
    return np.flatnonzero(rms > threshold)


async def start_duplex(rate: int | None) -> tuple[AudioStreamManager, list[bytes]]:
    frames: list[bytes] = []
    opts = AudioStreamOptions(sample_rate=rate, playback_prebuffer_ms=20, echo_cancellation=False)
    mgr = AudioStreamManager(opts, send_frame=frames.append)
    await mgr.start()
    src = mgr.source
    assert isinstance(src, DeviceSource) and isinstance(mgr.sink, DeviceSink)
    for _ in range(400):  # the first input callback comes 10-30 ms after start
        if src.callbacks:
            break
        await asyncio.sleep(0.005)
    assert src.callbacks, "the input stream delivered nothing within 2 s"
    await asyncio.sleep(0.15)
    return mgr, frames


@REALTIME_ONCE  # one device, one test at a time: see tests/conftest.py
@pytest.mark.parametrize("rate", [None, 16_000, 44_100, 48_000])
async def test_tone_through_playback_comes_back_through_capture(rate: int | None) -> None:
    require_loopback()
    mgr, frames = await start_duplex(rate)
    try:
        start = len(frames) * 480 + mgr.source.readable  # type: ignore[union-attr]
        mgr.play("tone", tone_24k(1.0))
        mgr.end_item("tone")
        assert await mgr.drain(5)
        await asyncio.sleep(0.4)
        played = mgr.take_played()
    finally:
        await mgr.stop()
    assert played == [("tone", 24_000)]
    x = recorded(frames)
    loud = loud_windows(x)
    assert loud.size, "nothing came back from the loopback"
    first, last = loud[0] * 120, (loud[-1] + 1) * 120
    lag = (first - start) / 24_000
    assert 0 <= lag < 0.3, f"round trip {lag * 1000:.0f} ms"
    assert (last - first) / 24_000 == pytest.approx(1.0, abs=0.03)
    seg = x[first + 2_400 : last - 2_400]
    spec = np.abs(np.fft.rfft(seg * np.hanning(seg.size)))
    peak_hz = np.argmax(spec) * 24_000 / seg.size
    assert peak_hz == pytest.approx(1_000, abs=3)
    level_db = 20 * np.log10(np.sqrt(np.mean(seg**2)) / (0.5 / np.sqrt(2)))
    assert -3 < level_db < 6, f"gain {level_db:.1f} dB"  # PipeWire's mono->stereo->mono: +3 dB
    st = mgr.stats
    assert st.device_errors == 0
    assert st.frames_sent == len(frames)
    assert st.played_samples > 0
    assert st.underruns == 0


@REALTIME_ONCE
async def test_barge_in_silences_the_device_at_once() -> None:
    require_loopback()
    mgr, frames = await start_duplex(None)
    try:
        mgr.play("long", tone_24k(3.0))
        played = 0
        for _ in range(200):
            await asyncio.sleep(0.01)
            played += sum(n for _, n in mgr.take_played())
            if played >= 12_000:  # about half a second handed to the device
                break
        cut = len(frames) * 480 + mgr.source.readable  # type: ignore[union-attr]
        played += sum(n for _, n in mgr.interrupt())
        await asyncio.sleep(0.5)
    finally:
        await mgr.stop()
    x = recorded(frames)
    loud = loud_windows(x)
    assert loud.size
    first, last = loud[0] * 120, (loud[-1] + 1) * 120
    heard = (last - first) / 24_000
    # What came back is what was accounted as played, within a device block or two.
    assert heard == pytest.approx(played / 24_000, abs=0.05)
    # And it stopped within the device's round trip of the interrupt.
    assert (last - cut) / 24_000 < 0.25
    assert mgr.stats.discarded_samples > 0


# ------------------------------------------------------------------ callbacks, without PortAudio


def test_output_callback_fans_out_counts_flags_and_never_raises() -> None:
    from rtsdk.audio import Playback

    sink = DeviceSink()
    sink.channels = 2
    sink._scratch = np.zeros(100, np.float32)  # smaller than a block: rendered in pieces
    pb = Playback(session_format="pcm16", sink_rate=24_000, prebuffer_ms=0)
    pb.play("a", float32_to_pcm16(np.full(300, 0.25, np.float32)).tobytes())
    pb.end_item("a")
    sink._pb = pb
    out = np.ones((250, 2), np.float32)
    sink._callback(out, 250, None, "output underflow")
    assert sink.xruns == 1
    np.testing.assert_array_equal(out[:, 0], out[:, 1])
    assert np.allclose(out[10:240, 0], 0.25, atol=1e-3)
    sink._pb = "not a playback"  # type: ignore[assignment]
    sink._callback(out, 250, None, None)  # raises inside: counted, output silenced
    assert sink.errors == 1
    assert not out.any()


def test_input_callback_only_writes_into_the_bridge() -> None:
    src = DeviceSource()
    src.sample_rate, src.channels = 16_000, 2
    bridge = src._make_bridge(AudioStreamOptions(uplink_window_ms=40))
    block = np.arange(200, dtype=np.float32).reshape(100, 2)
    src._callback(block, 100, None, None)
    src._callback(block, 100, None, "input overflow")
    src._callback(block, 100, None, None)  # 300 frames into a 40 ms (640-frame) window: fits
    src._callback(block, 100, None, None)
    assert bridge.readable == 4 * 200
    assert src.xruns == 1
    for _ in range(3):
        src._callback(block, 100, None, None)
    assert src.overruns == 7 * 200 - bridge.capacity  # the excess is dropped and counted
    src._bridge = None
    src._callback(None, 0, None, None)  # type: ignore[arg-type]
    assert src.errors == 0  # nothing to write into: nothing done
    src._finished()  # the stream ended without stop(): a device error
    assert src.errors == 1
