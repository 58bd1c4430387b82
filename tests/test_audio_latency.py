"""The round-trip check (``rtsdk.audio.latency``, ``python -m rtsdk devices --latency``) and the
device rate rtsdk chooses.

The probe's analysis is checked on a simulated loopback (its callbacks driven with known delays
and timestamps); the command itself on the CI audio stack (``bash .ci/audio.sh run``), with the
loopback working and with the monitor muted (no echo heard). Timing figures belong to the
benchmark (``benchmarks/latency.py``); here only what the check says.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from rtsdk.audio import devices
from rtsdk.audio.devices import DeviceInfo, native_rate
from rtsdk.audio.latency import LatencyReport, RoundTrip, _Probe, chirp, measure_round_trip
from rtsdk.exceptions import ConfigurationError
from tests.conftest import REALTIME_ONCE
from tests.test_audio_devices import require_loopback

RATE = 48_000
BLOCK = 256


def _simulate(path: int, out_lead: float, in_lag: float, gain: float, noise: float) -> _Probe:
    """Drive a probe as a loopback would: output sample n reaches the DAC at n / RATE (its
    block handed over ``out_lead`` s before), the microphone hears it ``path`` samples later
    (times ``gain``, plus noise), and each input block is delivered ``in_lag`` s after its last
    sample reached the ADC."""
    probe = _Probe(RATE, 5)
    nblocks = (probe.total + RATE) // BLOCK
    out = np.zeros((nblocks * BLOCK, 1), dtype=np.float32)
    for k in range(nblocks):
        t = SimpleNamespace(
            currentTime=k * BLOCK / RATE - out_lead, outputBufferDacTime=k * BLOCK / RATE
        )
        probe.out_cb(out[k * BLOCK : (k + 1) * BLOCK], BLOCK, t, None)
    rng = np.random.default_rng(7)
    mic = np.zeros_like(out)
    mic[path:] = gain * out[:-path]
    mic[:, 0] += (noise * rng.standard_normal(mic.shape[0])).astype(np.float32)
    for m in range(nblocks):
        t = SimpleNamespace(
            currentTime=(m + 1) * BLOCK / RATE + in_lag, inputBufferAdcTime=m * BLOCK / RATE
        )
        probe.in_cb(mic[m * BLOCK : (m + 1) * BLOCK], BLOCK, t, None)
    return probe


def test_the_analysis_finds_each_chirp_its_round_trip_and_the_echo_path() -> None:
    probe = _simulate(path=240, out_lead=0.010, in_lag=0.002, gain=0.3, noise=0.001)
    rts, paths = probe.analyse()
    assert len(rts) == probe.nsent == 5
    # the echo path is the 5 ms the simulated room added, exactly (on the fitted clocks)
    assert paths == pytest.approx([5.0] * 5, abs=0.01)
    # its block handed over 10 ms before the block's DAC time, heard 5 ms after its own, and
    # delivered with the rest of its input block 2 ms after that block's end: 17 ms plus where
    # it sat in the two blocks (each less than one)
    for rt in rts:
        assert 17.0 <= rt < 17.0 + 2000 * BLOCK / RATE
    trip = RoundTrip(RATE, "low", 0, 8.0, 8.0, rts, paths, sent=5, heard=5, input_block=BLOCK)
    assert trip.stable
    assert "round trip" in trip.describe() and "devices report 16.0 ms" in trip.describe()


def test_nothing_heard_gives_no_numbers() -> None:
    silent = _simulate(path=240, out_lead=0.01, in_lag=0.002, gain=0.0, noise=0.001)
    assert silent.analyse() == ([], [])
    trip = RoundTrip(RATE, "low", 0, 8.0, 8.0, sent=5)
    assert not trip.stable and trip.p50_ms is None
    info = DeviceInfo(1, "default", "ALSA", 64, 64, 44_100.0, True, True)
    report = LatencyReport(info, info, [trip])
    text = report.describe()
    assert not report.heard and report.best is None and report.echo_delay_hint_ms is None
    assert "no echo heard" in text and " ms (" not in text  # a message, not a number


def test_a_lost_chirp_or_an_xrun_is_not_stable() -> None:
    probe = _simulate(path=100, out_lead=0.01, in_lag=0.0, gain=0.5, noise=0.0)
    rts, paths = probe.analyse()
    lost = RoundTrip(RATE, "low", 0, 8.0, 8.0, rts[:4], paths[:4], sent=5, heard=4)
    flagged = RoundTrip(RATE, "low", 0, 8.0, 8.0, rts, paths, sent=5, heard=5, xruns=1)
    good = RoundTrip(RATE, "high", 0, 30.0, 30.0, rts, paths, sent=5, heard=5, input_block=BLOCK)
    info = DeviceInfo(0, "pipewire", "ALSA", 64, 64, 44_100.0, False, False)
    report = LatencyReport(info, info, [lost, flagged, good])
    assert report.best is good
    assert report.echo_delay_hint_ms == 32  # the 30 ms lead + the 2.1 ms path
    assert "lowest stable: sample_rate=48000, latency='high'" in report.describe()


def test_bad_settings_are_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match="latency must be"):
        measure_round_trip(latency="lowest")
    with pytest.raises(ConfigurationError, match="blocksize"):
        measure_round_trip(blocksize=-1)
    with pytest.raises(ConfigurationError, match="chirps"):
        measure_round_trip(chirps=1)
    c = chirp(16_000)
    assert c.dtype == np.float32 and c.size == 80 and 0.45 < float(np.abs(c).max()) <= 0.5


class _SD:
    """A PortAudio whose ALSA device converts any rate (a sound server's plugin) or not."""

    def __init__(self, converting: bool) -> None:
        self.converting = converting
        self.asked: list[int] = []

    def _check(self, *, device: int, samplerate: int, **kw: Any) -> None:
        self.asked.append(samplerate)
        if not self.converting and samplerate not in (44_100, 48_000):
            raise ValueError("Invalid sample rate")

    check_input_settings = check_output_settings = _check


def test_native_rate_prefers_the_sound_servers_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = DeviceInfo(1, "default", "ALSA", 64, 64, 44_100.0, True, True)
    card = DeviceInfo(2, "USB Audio (hw:1,0)", "ALSA", 2, 2, 44_100.0, False, False)
    mac = DeviceInfo(3, "MacBook Speakers", "Core Audio", 0, 2, 44_100.0, False, True)
    odd = DeviceInfo(4, "odd", "Core Audio", 0, 2, 11_025.0, False, False)
    monkeypatch.setattr(devices, "_converting", {})
    monkeypatch.setattr(devices, "_sd", lambda: _SD(True))
    assert native_rate(plugin) == 48_000  # PortAudio's 44.1 kHz guess on a converting device
    assert native_rate(mac) == 44_100  # another host API reports the device's own rate
    assert native_rate(odd) == 48_000  # not a rate rtsdk resamples from
    monkeypatch.setattr(devices, "_sd", lambda: _SD(False))
    assert native_rate(card) == 44_100  # a card keeps what it advertises
    assert native_rate(plugin) == 48_000  # asked once per device: remembered


# ---------------------------------------------------------------------- on the CI audio stack


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rtsdk", "devices", "--latency", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _mute_monitor(mute: bool) -> None:
    subprocess.run(
        ["pactl", "set-source-mute", "@DEFAULT_SOURCE@", "1" if mute else "0"],
        check=True,
        timeout=10,
        capture_output=True,
    )


@REALTIME_ONCE
def test_the_cli_measures_the_loopback_and_says_when_no_echo_is_heard() -> None:
    """About 5 s: two rates at 3 chirps each, then the first with the loopback's monitor muted."""
    require_loopback()
    if shutil.which("pactl") is None or not os.environ.get("RTSDK_AUDIO_DIR"):
        if os.environ.get("RTSDK_REQUIRE_AUDIO", "").strip() not in ("", "0"):
            pytest.fail("the no-echo case needs the CI audio stack's pactl (bash .ci/audio.sh)")
        pytest.skip("not on the CI audio stack (bash .ci/audio.sh run ...)")
    # 'high': a setting that holds on a busy 2-core CI box ('low' can underrun there)
    got = _cli("--portaudio-latency", "high", "--chirps", "3")
    assert got.returncode == 0, got.stderr
    out = got.stdout
    assert "advertises 44100 Hz" in out  # PortAudio's ALSA device...
    trials = [line.strip() for line in out.splitlines() if "Hz, latency high" in line]
    assert trials[0].startswith("48000 Hz") and trials[1].startswith("44100 Hz")  # ...at 48k first
    assert all(" ms (" in line and "devices report" in line for line in trials), out
    assert "heard 3/3" in out and "echo delay hint" in out, out
    assert "lowest stable: sample_rate=" in out or "no setting was stable" in out, out
    _mute_monitor(True)
    try:
        muted = _cli("--chirps", "3")
    finally:
        _mute_monitor(False)
    assert muted.returncode == 1, muted.stdout + muted.stderr
    assert "no echo heard" in muted.stdout
    assert "round trip" not in muted.stdout.replace("no round trip", "")
    assert muted.stdout.count("Hz, latency") == 1  # nothing heard: no second setting tried


def test_a_pause_between_two_replies_is_not_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Realtime replies come in bursts with pauses between them: the adaptive prebuffer (on for
    every session) stays at its 20 ms floor when the next reply comes 0.3 s after the last one
    ended, and a late delta inside a reply still raises it."""
    from rtsdk.audio import playback
    from rtsdk.kernels import float32_to_pcm16

    now = [100.0]
    monkeypatch.setattr(playback, "_monotonic", lambda: now[0])
    pb = playback.Playback(session_format="pcm16", sink_rate=RATE, prebuffer_ms=60, adaptive=True)
    delta = float32_to_pcm16(np.full(960, 0.1, np.float32)).tobytes()  # 40 ms
    for _ in range(15):  # a burst: 600 ms at once
        pb.play("a", delta)
    pb.end_item("a")
    now[0] += 0.9  # the burst has played out 0.3 s ago: the next reply begins
    for _ in range(5):  # paced at real time
        pb.play("b", delta)
        now[0] += 0.04
    assert pb.prebuffer_ms == 20.0
    now[0] += 0.015  # a delta 15 ms late
    pb.play("b", delta)
    assert pb.prebuffer_ms == pytest.approx(35.0, abs=0.1)
    pb.interrupt()  # barge-in: what follows is a new run too
    now[0] += 0.3
    pb.play("c", delta)
    assert pb.prebuffer_ms == pytest.approx(35.0, abs=0.1)  # the jitter seen is kept


@REALTIME_ONCE
async def test_the_low_latency_device_mode_plays_and_captures_on_the_loopback() -> None:
    """``latency="low"`` end to end (about 2 s): the devices open at 48 kHz with PortAudio's
    short buffers, a tone played through the playback comes back through the capture, whole,
    and the played accounting holds. Underruns are not asserted: on a loaded 2-core box this
    mode can underrun (that is why it is not the default; the benchmark measures it)."""
    import asyncio

    from rtsdk.audio import AudioStreamManager, AudioStreamOptions
    from tests.test_audio_devices import loud_windows, recorded, tone_24k

    require_loopback()
    frames: list[bytes] = []
    opts = AudioStreamOptions(latency="low", echo_cancellation=False)
    mgr = AudioStreamManager(opts, send_frame=frames.append)
    await mgr.start()
    try:
        src, sink = mgr.source, mgr.sink
        assert src is not None and sink is not None
        assert src.sample_rate == sink.sample_rate == 48_000  # the server's rate, not 44.1k
        assert 0 < mgr.output_latency < 0.02  # PortAudio's short buffer (35 ms at "high")
        for _ in range(400):
            if src.callbacks:
                break
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.1)
        mgr.play("tone", tone_24k(0.6))
        mgr.end_item("tone")
        assert await mgr.drain(5)
        await asyncio.sleep(0.2)
        played = mgr.take_played()
    finally:
        await mgr.stop()
    assert played == [("tone", 14_400)]
    loud = loud_windows(recorded(frames))
    assert loud.size, "nothing came back from the loopback"
    assert (loud[-1] + 1 - loud[0]) * 120 / 24_000 == pytest.approx(0.6, abs=0.05)
    assert mgr.stats.device_errors == 0
