"""Echo cancellation offline: a numpy room through EchoCanceller and the alignment code."""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
import pytest

from rtsdk.audio import echo as echo_mod
from rtsdk.audio.align import EchoStage, ReferenceAligner, echo_plan
from rtsdk.audio.echo import EchoCanceller, WebRtcEchoCanceller
from rtsdk.audio.files import WavSink
from rtsdk.audio.options import AudioStreamOptions
from rtsdk.audio.push import PushSource
from rtsdk.audio.tailguard import TailGuard
from rtsdk.audio.tap import RenderTap
from rtsdk.exceptions import AudioFormatError, ConfigurationError
from tests.echo_room import db, echo_of, speechlike, user_voice


def run(
    ec: EchoCanceller, mic: npt.NDArray[np.float32], ref: npt.NDArray[np.float32], frame: int
) -> npt.NDArray[np.float32]:
    outs = [
        ec.process(mic[i : i + frame], ref[i : i + frame])
        for i in range(0, mic.size - frame + 1, frame)
    ]
    return np.concatenate(outs)


@pytest.mark.parametrize("rate", [16_000, 48_000])
def test_erle_and_convergence_in_a_reverberant_room(rate: int) -> None:
    far = speechlike(rate, 4.0)
    echo, noise = echo_of(far, rate, delay_ms=60)
    mic = echo + noise
    ec = WebRtcEchoCanceller(rate, delay_hint_ms=30)
    out = run(ec, mic, far, rate // 50)
    s = slice(rate, out.size)
    # residual echo against the echo itself (noise passes through and is not echo)
    assert db(mic[s], out[s]) >= 20.0
    # converged within the first half second: 250-750 ms already 20 dB down
    w = slice(rate // 4, 3 * rate // 4)
    assert db(mic[w], out[w]) >= 20.0
    st = ec.stats
    assert st["backend"] == "webrtc-aec3" and st["active_samples"] > 0
    assert st["erle_db"] is not None and st["erle_db"] >= 18.0
    # without a canceller, the same "ERLE" is 0 dB: the measure is not rigged
    assert abs(db(mic[s], mic[s])) < 1e-9


def test_erle_holds_with_clock_drift_and_a_long_delay() -> None:
    rate = 16_000
    far = speechlike(rate, 5.0, seed=4)
    echo, noise = echo_of(far, rate, delay_ms=250, drift_ppm=100)
    ec = WebRtcEchoCanceller(rate, delay_hint_ms=30)
    out = run(ec, echo + noise, far, rate // 50)
    s = slice(2 * rate, out.size)
    assert db((echo + noise)[s], out[s]) >= 18.0


@pytest.mark.parametrize(
    ("echo_gain", "tail_guard"), [(0.5, False), (0.15, True)], ids=["canceller", "with-guard"]
)
def test_double_talk_keeps_the_user(echo_gain: float, tail_guard: bool) -> None:
    """A real voice (the sample's hello.wav) over the assistant loses at most 6 dB: through the
    canceller alone with the echo 3 dB louder than the voice at the microphone, and through
    canceller and tail guard with the voice louder than the echo (the guard holds down what is
    no louder than the echo: see rtsdk.audio.tailguard)."""
    rate = 16_000
    far = speechlike(rate, 8.0, seed=5)
    user = np.zeros_like(far)
    user[2 * rate :] = user_voice(rate, far.size - 2 * rate, level=0.3)
    echo, noise = echo_of(far, rate, gain=echo_gain)
    s = slice(3 * rate, far.size)
    ser = db(echo[s], user[s])
    assert ser > 2.0 if not tail_guard else ser < -5.0
    ec = WebRtcEchoCanceller(rate, delay_hint_ms=30, tail_guard=tail_guard)
    out = run(ec, echo + noise + user, far, 320)
    ec2 = WebRtcEchoCanceller(rate, delay_hint_ms=30, tail_guard=tail_guard)
    alone = run(ec2, user + noise, 0 * far, 320)
    s = slice(3 * rate, out.size)
    assert db(out[s], alone[s]) > -6.0


@pytest.mark.parametrize("frame_ms", [15, 25])
def test_carry_framing_equals_ten_ms_blocks(frame_ms: int) -> None:
    rate = 24_000
    far = speechlike(rate, 1.0, seed=7)
    echo, noise = echo_of(far, rate)
    mic = echo + noise
    ref10 = run(WebRtcEchoCanceller(rate), mic, far, rate // 100)
    ec = WebRtcEchoCanceller(rate)
    out = run(ec, mic, far, rate * frame_ms // 1000)
    lat = ec.latency
    assert lat == rate // 200  # 5 ms: gcd(15 or 25, 10) ms short of a block
    assert out.size % (rate * frame_ms // 1000) == 0
    np.testing.assert_array_equal(out[:lat], 0.0)
    k = out.size - lat
    np.testing.assert_array_equal(out[lat:], ref10[:k])


def test_shorter_call_grows_the_latency_and_keeps_every_sample() -> None:
    rate = 16_000
    ec = WebRtcEchoCanceller(rate)
    x = np.zeros(320, dtype=np.float32)
    assert ec.process(x, x).size == 320 and ec.latency == 0
    assert ec.process(x[:50], x[:50]).size == 50
    assert ec.latency == 50 and ec.latency_growths == 1
    assert ec.process(x[:0], x[:0]).size == 0


def test_bad_input_names_what_is_wrong() -> None:
    ec = WebRtcEchoCanceller(16_000)
    x = np.zeros(160, dtype=np.float32)
    with pytest.raises(AudioFormatError, match="float32"):
        ec.process(x.astype(np.int16), x)  # type: ignore[arg-type]
    with pytest.raises(AudioFormatError, match="mono"):
        ec.process(np.zeros((160, 2), dtype=np.float32), x)
    with pytest.raises(AudioFormatError, match="equal lengths"):
        ec.process(x, x[:100])
    with pytest.raises(AudioFormatError, match="numpy array"):
        ec.process(b"\0" * 640, x)  # type: ignore[arg-type]
    with pytest.raises(AudioFormatError, match="22050"):
        WebRtcEchoCanceller(22_050)
    with pytest.raises(ConfigurationError, match="delay_hint_ms"):
        WebRtcEchoCanceller(16_000, delay_hint_ms=-1)
    assert ec.samples == 0  # nothing half-done


def test_reset_forgets_the_echo_path() -> None:
    rate = 16_000
    far = speechlike(rate, 2.0, seed=8)
    echo, noise = echo_of(far, rate)
    ec = WebRtcEchoCanceller(rate)
    run(ec, echo + noise, far, 320)
    assert ec.erle_db is not None
    ec.reset()
    assert ec.erle_db is None and ec.latency == 0
    ec.delay_hint_ms = 45
    assert ec.settings.delay_hint_ms == 45


# ----------------------------------------------------------------------------- alignment
def test_aligner_pairs_capture_with_what_left_the_speaker_margin_later() -> None:
    al = ReferenceAligner(48_000, 48_000, margin_ms=30)
    ref = np.zeros(48_000, dtype=np.float32)
    ref[24_000] = 1.0  # reaches the speaker at DAC time 100 + 0.5 s
    for i in range(0, ref.size, 480):
        al.add(i, ref[i : i + 480], 100.0 + i / 48_000, 7.0 + i / 48_000)
    # the capture frame whose first sample hit the ADC 30 ms before the click was played
    got = al.reference(960, 100.0 + 0.5 - 0.030)
    assert got[0] == 1.0 and np.count_nonzero(got) == 1
    # the next frame continues where this one ended (no timestamp: cursor only)
    assert np.count_nonzero(al.reference(960, None)) == 0
    # on the monotonic clock the same
    al2 = ReferenceAligner(48_000, 48_000, margin_ms=30)
    for i in range(0, ref.size, 480):
        al2.add(i, ref[i : i + 480], 0.0, 7.0 + i / 48_000)
    got = al2.reference(960, 7.0 + 0.5 - 0.030 - 480 / 48_000, mono=True)
    assert got[480] == 1.0


def test_aligner_resamples_and_resyncs_on_a_jump() -> None:
    al = ReferenceAligner(44_100, 48_000, margin_ms=30)
    ref = np.zeros(44_100, dtype=np.float32)
    ref[22_050] = 1.0
    for i in range(0, ref.size, 441):
        al.add(i, ref[i : i + 441], 5.0 + i / 44_100, 0.0)
    got = al.reference(960, 5.0 + 0.5 - 0.030)
    peak = int(np.argmax(np.abs(got)))
    assert peak <= 2 and got[peak] > 0.5  # within the resampler's rounding of sample 0
    # timestamps that jump 100 ms (a stall): the cursor follows, counted
    for _ in range(5):
        al.reference(960, 5.0 + 0.7)
    assert al.resyncs >= 1


def _simulate(
    *,
    ro: int,
    ri: int,
    out_lat: float,
    in_lat: float,
    acoustic_ms: float,
    pa_times: bool,
    seconds: float = 4.0,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], EchoStage]:
    """Devices on a shared clock: the speaker renders 512-frame blocks ``out_lat`` ahead of its
    DAC, the microphone delivers 20 ms frames ``in_lat`` after its ADC; the room sits between."""
    from scipy.signal import resample_poly

    far_o = speechlike(ro, seconds, seed=9)
    far_i = resample_poly(far_o, ri, ro).astype(np.float32) if ro != ri else far_o
    echo, noise = echo_of(far_i, ri, delay_ms=acoustic_ms)
    mic = echo + noise
    tap = RenderTap(ro)
    al = ReferenceAligner(ro, ri, margin_ms=30)
    mark: list[tuple[int, float, float] | None] = [None]
    pa_off, mono_off = 1000.0, 50.0
    stage = EchoStage(WebRtcEchoCanceller(ri, delay_hint_ms=30), tap, al, lambda: mark[0])
    bo, frame = 512, ri // 50
    far_o = np.concatenate([far_o, np.zeros(ro // 2, dtype=np.float32)])  # keeps rendering
    events = [((i / ro) - out_lat, 0, i) for i in range(0, far_o.size - bo, bo)]
    events += [((j + frame) / ri + in_lat, 1, j) for j in range(0, mic.size - frame + 1, frame)]
    events.sort()
    outs = []
    for _, kind, i in events:
        if kind == 0:
            blk = far_o[i : i + bo]
            tap.push(blk, (i / ro + pa_off) if pa_times else 0.0, i / ro + mono_off, 0, 0)
        else:
            mark[0] = (i, (i / ri + pa_off) if pa_times else 0.0, i / ri + mono_off)
            outs.append(stage.process(mic[i : i + frame], i))
    out = np.concatenate(outs)
    return mic[: out.size], out, stage


@pytest.mark.parametrize(
    ("ro", "ri", "pa_times"),
    [(48_000, 48_000, True), (44_100, 48_000, True), (48_000, 16_000, False)],
)
def test_stream_alignment_cancels_with_simulated_latencies(
    ro: int, ri: int, pa_times: bool
) -> None:
    mic, out, stage = _simulate(
        ro=ro, ri=ri, out_lat=0.045, in_lat=0.030, acoustic_ms=60, pa_times=pa_times
    )
    s = slice(ri, out.size)
    assert db(mic[s], out[s]) >= 20.0
    st = stage.stats
    assert st["resyncs"] == 0 and st["reference_overruns"] == 0
    assert st["reference_missing_samples"] == 0
    assert abs(st["lead_error_ms"]) < 2.0


# ----------------------------------------------------------------------------- faults
class _Boom(EchoCanceller):
    backend = "boom"

    def __init__(self) -> None:
        super().__init__(16_000)
        self.calls = 0

    def _process_blocks(
        self, mic: npt.NDArray[np.float32], ref: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        self.calls += 1
        raise RuntimeError("backend broke")

    def _reset(self) -> None:
        pass


def test_backend_exception_is_reported_once_and_the_uplink_continues(
    caplog: pytest.LogCaptureFixture,
) -> None:
    boom = _Boom()
    stage = EchoStage(boom, RenderTap(16_000), ReferenceAligner(16_000, 16_000), lambda: None)
    x = np.full(320, 0.25, dtype=np.float32)
    with caplog.at_level(logging.WARNING, logger="rtsdk.audio.echo"):
        for _ in range(5):
            assert stage.process(x, 0) is x
    assert boom.calls == 1
    msgs = [r.getMessage() for r in caplog.records if "echo cancellation failed" in r.getMessage()]
    assert len(msgs) == 1 and "backend broke" in msgs[0]
    st = stage.stats
    assert st["active"] is False and st["errors"] == 1 and "RuntimeError" in st["last_error"]


def test_render_tap_counts_overruns_and_lost_samples() -> None:
    tap = RenderTap(16_000, capacity_ms=100)
    blk = np.ones(160, dtype=np.float32)
    for i in range(30):  # 300 ms into a 100 ms tap the loop does not read
        tap.push(blk, 10.0 + i * 0.01, 0.0, i * 160, (i + 1) * 160)
    assert tap.overruns > 0
    seen: list[int] = []
    tap.pull(lambda rec, x: seen.append(rec[0]))
    tap.push(blk, 10.3, 0.0, 4800, 4960)
    tap.pull(lambda rec, x: seen.append(rec[0]))
    assert seen[0] == 0 and seen[-1] == 30 * 160
    assert tap.lost_samples == tap.overruns * 160
    # heard at the ear: 5 ms into the last block
    assert tap.heard_position(10.3053) == 4800 + 84
    assert tap.heard_position(0.0) == 0  # before anything played: the first block's start


# ----------------------------------------------------------------------------- options
def test_options_validate_echo_fields() -> None:
    assert AudioStreamOptions().echo_cancellation == "auto"
    with pytest.raises(ConfigurationError, match="echo_cancellation"):
        AudioStreamOptions(echo_cancellation="on")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="noise_suppression"):
        AudioStreamOptions(noise_suppression=1)  # type: ignore[arg-type]


class _FakeDeviceSink(WavSink):
    def attach_tap(self, tap: RenderTap | None) -> None:
        pass


class _FakeDeviceSource(PushSource):
    timestamps = True


def test_auto_rules_and_the_half_duplex_fallback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    push, wav = PushSource(24_000), WavSink(str(tmp_path) + "/o.wav")
    assert echo_plan("auto", push, wav)[:2] == (False, False)
    assert echo_plan(False, _FakeDeviceSource(24_000), _FakeDeviceSink("x.wav"))[0] is False
    with pytest.raises(ConfigurationError, match="device source and a device sink"):
        echo_plan(True, push, wav)
    dev = (_FakeDeviceSource(24_000), _FakeDeviceSink("x.wav"))
    assert echo_plan("auto", *dev) == (True, False, "on")
    monkeypatch.setattr(echo_mod, "echo_backend_available", lambda: (False, "no module"))
    on, fallback, why = echo_plan("auto", *dev)
    assert (on, fallback) == (False, True) and "pip install" in why and "half duplex" in why
    with pytest.raises(ConfigurationError, match="pip install 'pywebrtc-audio"):
        echo_plan(True, *dev)
    with pytest.raises(ConfigurationError, match="pywebrtc-audio"):
        WebRtcEchoCanceller(16_000)


# ----------------------------------------------------------------------------- tail guard
def _guard_run(
    guard: TailGuard,
    mic: npt.NDArray[np.float32],
    ref: npt.NDArray[np.float32],
    out: npt.NDArray[np.float32],
) -> npt.NDArray[np.float32]:
    y = out.copy()
    for i in range(0, y.size, 320):
        guard.process(mic[i : i + 320], ref[i : i + 320], y[i : i + 320])
    return y


def test_tail_guard_holds_down_a_leaking_tail_and_lets_a_louder_user_through() -> None:
    rate = 16_000
    far = speechlike(rate, 3.0, seed=12, floor=0.5)
    far[2 * rate :] = 0.0  # the assistant stops at 2 s
    echo, noise = echo_of(far, rate, delay_ms=80, gain=0.3)
    mic = echo + noise
    # a canceller that removes 30 dB while the reference plays and nothing of the tail
    out = (mic * np.where(np.arange(mic.size) < 2 * rate + rate // 10, 0.03, 1.0)).astype(
        np.float32
    )
    g = TailGuard(rate // 100, warmup_ms=0)
    y = _guard_run(g, mic, far, out)
    tail = slice(2 * rate + rate // 10, 2 * rate + rate // 4)
    assert db(out[tail], y[tail]) > 20.0  # the tail is gone
    late = slice(2 * rate + rate // 2, 3 * rate)
    np.testing.assert_array_equal(y[late], out[late])  # the room alone is left alone
    assert 60 <= g.lead_ms <= 150  # 80 ms of room, +20
    # a user 10 dB louder than the echo, talking into that tail, passes untouched
    user = np.zeros_like(mic)
    user[tail] = 3.0 * speechlike(rate, 1.0, seed=13, floor=0.5)[: tail.stop - tail.start]
    assert db(user[tail], echo[tail]) > 8.0
    g2 = TailGuard(rate // 100, warmup_ms=0)
    y2 = _guard_run(g2, mic + user, far, out + user)
    assert db((out + user)[tail], y2[tail]) < 1.0


def test_tail_guard_warm_up_holds_the_first_second_down() -> None:
    rate = 16_000
    far = speechlike(rate, 2.0, seed=14, floor=0.5)
    mic = (0.1 * far).astype(np.float32)
    g = TailGuard(rate // 100)
    y = _guard_run(g, mic, far, mic)
    assert db(mic[320 : rate // 2], y[320 : rate // 2]) > 25.0  # after the first block's ramp
    assert g.guarded_blocks >= 100
    g.reset()
    assert g.guarded_blocks == 0 and g.lead_ms == 150
