"""Playback: the ring a sink's clock drains, per-item played accounting, barge-in, underruns."""

from __future__ import annotations

import asyncio
import base64

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtsdk.audio.playback import Playback
from rtsdk.exceptions import AudioFormatError
from rtsdk.kernels import (
    Resampler,
    alaw_to_pcm16,
    pcm16_to_alaw,
    pcm16_to_float32,
    pcm16_to_ulaw,
    ulaw_to_pcm16,
)


def speechy(n: int, rate: int = 24_000, seed: int = 0) -> np.ndarray:
    """A never-zero test signal (offset chirp-ish mix) as int16."""
    t = np.arange(n) / rate
    rng = np.random.default_rng(seed)
    x = 0.3 + 0.2 * np.sin(2 * np.pi * 310 * t) + 0.05 * rng.standard_normal(n)
    return np.clip(x * 32767, -32768, 32767).astype("<i2")


def render_all(pb: Playback, block: int, blocks: int) -> np.ndarray:
    out = np.zeros(block, np.float32)
    got = []
    for _ in range(blocks):
        pb.render(out)
        got.append(out.copy())
    return np.concatenate(got)


@pytest.mark.parametrize("sink_rate", [16_000, 24_000, 44_100, 48_000])
def test_played_accounting_is_exact_per_item(sink_rate: int) -> None:
    pb = Playback(session_format="pcm16", sink_rate=sink_rate, prebuffer_ms=0)
    a, b = speechy(7_000, seed=1), speechy(5_003, seed=2)
    for chunk in np.array_split(a, 5):
        pb.play("a", chunk.tobytes())
    pb.play("b", b[:3000].tobytes())
    pb.play("b", b[3000:].tobytes())
    pb.end_item("b")
    block = sink_rate // 100
    played: dict[str, int] = {}
    out = np.zeros(block, np.float32)
    rendered = []
    while pb.audible:
        pb.render(out)
        rendered.append(out.copy())
        for item, n in pb.take_played():
            assert n > 0
            played[item] = played.get(item, 0) + n
    assert played == {"a": a.size, "b": b.size}
    # What the sink got is the whole stream resampled in one go (chunking changes nothing).
    x = pcm16_to_float32(np.concatenate([a, b]))
    want = Resampler(24_000, sink_rate).process(x, last=True)
    got = np.concatenate(rendered)[: want.size]
    np.testing.assert_array_equal(got, want)
    assert pb.underruns == 0
    assert pb.played_samples == want.size


def test_partial_play_reports_what_the_sink_consumed() -> None:
    pb = Playback(session_format="pcm16", sink_rate=48_000, prebuffer_ms=0)
    pb.play("a", speechy(24_000).tobytes())
    render_all(pb, 480, 10)  # 100 ms at 48 kHz
    [(item, n)] = pb.take_played()
    assert item == "a"
    assert n == 2400  # 100 ms at 24 kHz, exactly
    assert pb.take_played() == []


def test_interrupt_drops_the_queue_and_accounts_what_was_rendered() -> None:
    pb = Playback(session_format="pcm16", sink_rate=48_000, prebuffer_ms=0)
    pb.play("a", speechy(24_000).tobytes())
    render_all(pb, 480, 7)
    assert pb.audible
    final = pb.interrupt()
    assert final == [("a", 1680)]  # 70 ms
    assert not pb.audible
    after = render_all(pb, 480, 3)
    assert not after.any()  # silence at once
    assert pb.discarded == 48_000 - 3360
    assert pb.take_played() == []
    # Audio queued after the interrupt is kept and counted from zero.
    pb.play("b", speechy(2_400).tobytes())
    pb.end_item("b")
    out = render_all(pb, 480, 12)
    assert out.any()
    assert pb.take_played() == [("b", 2400)]
    assert pb.underruns == 0


def test_underrun_counted_once_and_silence_filled_while_item_open() -> None:
    pb = Playback(session_format="pcm16", sink_rate=24_000, prebuffer_ms=0)
    pb.play("a", speechy(1_000).tobytes())  # 41.7 ms, the item stays open
    out = render_all(pb, 240, 10)
    assert pb.underruns == 1
    assert pb.underrun_samples == 240 - (1_000 % 240)
    assert not out[1_000:].any()
    assert np.all(out[:990] != 0)


def test_a_gap_counts_all_its_silence_and_a_pause_does_not() -> None:
    pb = Playback(session_format="pcm16", sink_rate=24_000, prebuffer_ms=0)
    pb.play("a", speechy(960).tobytes())  # 40 ms, then nothing for 100 ms: a gap
    render_all(pb, 240, 4 + 10)
    pb.play("a", speechy(960).tobytes())
    render_all(pb, 240, 4)
    assert pb.underruns == 1 and pb.underrun_samples == 240 * 10
    render_all(pb, 240, 2 * 100 + 4)  # more than a second of nothing: a pause
    pb.play("a", speechy(960).tobytes())
    render_all(pb, 240, 4)
    assert pb.underruns == 2 and pb.underrun_samples == 240 * 10 + 240


def test_no_underrun_at_a_declared_end() -> None:
    pb = Playback(session_format="pcm16", sink_rate=24_000, prebuffer_ms=0)
    pb.play("a", speechy(1_000).tobytes())
    pb.end_item("a")
    render_all(pb, 240, 10)
    assert pb.underruns == 0
    assert pb.take_played() == [("a", 1_000)]


def test_prebuffer_waits_then_starts_anyway() -> None:
    pb = Playback(session_format="pcm16", sink_rate=24_000, prebuffer_ms=60)
    pb.play("a", speechy(480).tobytes())  # 20 ms < 60 ms target, item open
    out = render_all(pb, 240, 10)
    first = int(np.flatnonzero(out)[0])
    assert first == 1440  # waited 60 ms of blocks before starting
    pb2 = Playback(session_format="pcm16", sink_rate=24_000, prebuffer_ms=60)
    pb2.play("a", speechy(480).tobytes())
    pb2.end_item("a")  # complete: no reason to wait
    assert render_all(pb2, 240, 1)[0] != 0


def test_prebuffer_reached_starts_at_once() -> None:
    pb = Playback(session_format="pcm16", sink_rate=24_000, prebuffer_ms=60)
    pb.play("a", speechy(2_400).tobytes())
    assert render_all(pb, 240, 1)[0] != 0


async def test_backlog_refills_the_ring_with_few_wakeups() -> None:
    loop = asyncio.get_running_loop()
    pb = Playback(
        session_format="pcm16", sink_rate=24_000, buffer_ms=100, prebuffer_ms=0, loop=loop
    )
    x = speechy(24_000 * 3)
    pb.play("a", x.tobytes())  # 3 s into a 100 ms ring
    pb.end_item("a")
    assert pb.queue_high_water >= x.size
    out = np.zeros(240, np.float32)
    got = []
    while pb.audible:
        pb.render(out)
        got.append(out.copy())
        await asyncio.sleep(0)  # refills run on the loop
    assert pb.take_played() == [("a", x.size)]
    y = np.concatenate(got)
    np.testing.assert_array_equal(y[: x.size], pcm16_to_float32(x))
    assert pb.underruns == 0
    # One wake-up per half ring drained, not one per block.
    assert pb.wakeups <= x.size // 1_200 + 2


@pytest.mark.parametrize(
    ("fmt", "enc", "dec"),
    [("g711_ulaw", pcm16_to_ulaw, ulaw_to_pcm16), ("g711_alaw", pcm16_to_alaw, alaw_to_pcm16)],
)
def test_g711_downlink(fmt: str, enc: object, dec: object) -> None:
    pb = Playback(session_format=fmt, sink_rate=48_000, prebuffer_ms=0)  # type: ignore[arg-type]
    pcm = speechy(1_600, rate=8_000)
    codes = enc(pcm)  # type: ignore[operator]
    pb.play("a", codes.tobytes())
    pb.end_item("a")
    out = render_all(pb, 480, 25)
    want = Resampler(8_000, 48_000).process(pcm16_to_float32(dec(codes)), last=True)  # type: ignore[operator]
    np.testing.assert_array_equal(out[: want.size], want)
    assert pb.take_played() == [("a", 1_600)]


def test_odd_pcm16_byte_count_is_refused() -> None:
    pb = Playback(session_format="pcm16", sink_rate=24_000)
    with pytest.raises(AudioFormatError):
        pb.play("a", b"\x00\x01\x02")


def test_unknown_session_format_is_refused() -> None:
    with pytest.raises(AudioFormatError, match="session_format"):
        Playback(session_format="opus", sink_rate=24_000)  # type: ignore[arg-type]


def test_drain_takes_only_what_is_there() -> None:
    pb = Playback(session_format="pcm16", sink_rate=24_000)
    pb.play("a", speechy(300).tobytes())
    out = np.zeros(1000, np.float32)
    assert pb.drain(out) == 300
    assert pb.drain(out) == 0
    assert pb.underruns == 0
    assert pb.take_played() == [("a", 300)]


def _delta_frame(item: str, audio: bytes) -> bytes:
    b64 = base64.b64encode(audio).decode()
    return (
        '{"type":"response.output_audio.delta","event_id":"event_1","response_id":"resp_1",'
        f'"item_id":"{item}","output_index":0,"content_index":0,"delta":"{b64}"}}'
    ).encode()


OPS = st.one_of(
    st.tuples(st.just("play"), st.sampled_from("aab"), st.integers(1, 1200)),
    st.tuples(st.just("render"), st.integers(1, 3), st.just(0)),
    st.tuples(st.just("take"), st.just(""), st.just(0)),
    st.tuples(st.just("end"), st.just(""), st.just(0)),
    st.tuples(st.just("interrupt"), st.just(""), st.just(0)),
)


@given(
    fmt=st.sampled_from(["pcm16", "g711_ulaw"]),
    sink_rate=st.sampled_from([16_000, 48_000]),
    ops=st.lists(OPS, min_size=1, max_size=40),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_delta_player_shortcut_is_indistinguishable_from_play(
    fmt: str, sink_rate: int, ops: list[tuple[str, str, int]], seed: int
) -> None:
    """The same deltas, renders, barge-ins and item ends: one playback takes every delta through
    ``play``, the other through its armed delta player wherever the service would. What the
    sink renders, the per-item played accounting and the queue counters are identical."""
    rng = np.random.default_rng(seed)
    plain = Playback(session_format=fmt, sink_rate=sink_rate, buffer_ms=100, prebuffer_ms=20)
    quick = Playback(session_format=fmt, sink_rate=sink_rate, buffer_ms=100, prebuffer_ms=20)
    player = quick.delta_player
    block = np.zeros(sink_rate // 100, np.float32)
    other = np.zeros_like(block)
    fast = 0
    for op, item, n in ops:
        if op == "play":
            if fmt == "pcm16":
                audio = speechy(n, seed=int(rng.integers(1 << 30))).tobytes()
            else:
                audio = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
            plain.play(item, audio)
            if player.play(_delta_frame(item, audio)) >= 0:
                fast += 1
            else:  # what the service does: the ordinary path, then arm for the next delta
                player.disarm()
                quick.play(item, audio)
                quick.arm_fast("resp_1", item)
        elif op == "render":
            for _ in range(n):
                plain.render(block)
                quick.render(other)
                np.testing.assert_array_equal(block, other)
        elif op == "take":
            assert plain.take_played() == quick.take_played()
        elif op == "end":
            plain.end_item()
            quick.end_item()
        else:
            assert plain.interrupt() == quick.interrupt()
        assert plain.queued_samples == quick.queued_samples
        assert plain.queue_high_water == quick.queue_high_water
        assert plain.underruns == quick.underruns
    for _ in range(1000):  # play out (take_played refills the ring from a backlog)
        assert plain.take_played() == quick.take_played()
        if not (plain.audible or quick.audible):
            break
        plain.render(block)
        quick.render(other)
        np.testing.assert_array_equal(block, other)
    assert not (plain.audible or quick.audible)
    assert player.played == fast


def test_the_shortcut_arms_only_behind_the_item_just_played() -> None:
    pb = Playback(session_format="pcm16", sink_rate=24_000, buffer_ms=20)
    assert not pb.arm_fast("r", "a")  # nothing played yet
    pb.play("a", speechy(240).tobytes())
    assert not pb.arm_fast("r", "b")  # the last audio queued was a's
    assert pb.arm_fast("r", "a") and pb.delta_player.armed
    pb.end_item("a")
    assert not pb.delta_player.armed and not pb.arm_fast("r", "a")  # a has ended
    pb.play("a", speechy(2400).tobytes())  # more than the 20 ms ring: a backlog waits
    assert not pb.arm_fast("r", "a")


def test_playing_through_play_disarms_the_shortcut() -> None:
    """Audio of another item queued with play() while the player is armed: the player must not
    go on counting its deltas into the first item's mark."""
    pb = Playback(session_format="pcm16", sink_rate=24_000, buffer_ms=500, prebuffer_ms=0)
    pb.play("a", speechy(240).tobytes())
    assert pb.arm_fast("resp_1", "a")
    pb.play("b", speechy(480).tobytes())
    assert not pb.delta_player.armed
    frame = _delta_frame("a", speechy(240).tobytes())
    assert pb.delta_player.play(frame) == -1
    out = np.zeros(720, np.float32)
    pb.render(out)
    assert pb.take_played() == [("a", 240), ("b", 480)]


def test_the_shortcut_counts_after_its_item_was_played_out() -> None:
    """take_played lets go of a mark whose audio has all been played; deltas the armed player
    plays after that still count as played (a new mark, as play() makes)."""
    pb = Playback(session_format="pcm16", sink_rate=24_000, buffer_ms=500, prebuffer_ms=0)
    pb.play("a", speechy(240).tobytes())
    assert pb.arm_fast("resp_1", "a")
    out = np.zeros(240, np.float32)
    pb.render(out)
    assert pb.take_played() == [("a", 240)]
    assert pb.delta_player.play(_delta_frame("a", speechy(240).tobytes())) == 240
    pb.render(out)
    assert pb.take_played() == [("a", 240)]


def test_adaptive_prebuffer_follows_the_arrival_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """A continuous stream: the prebuffer starts at the floor, rises at once to absorb a late
    delta (never past the configured cap) and decays back while arrivals are on time."""
    import rtsdk.audio.playback as playback_module

    now = [100.0]
    monkeypatch.setattr(playback_module, "_monotonic", lambda: now[0])
    pb = Playback(session_format="pcm16", sink_rate=24_000, prebuffer_ms=100, adaptive=True)
    delta = b"\0\0" * 960  # 40 ms at 24 kHz
    assert pb.prebuffer_ms == playback_module.ADAPTIVE_MIN_MS
    for _ in range(10):  # paced exactly at real time
        pb.play("", delta)
        now[0] += 0.040
    assert pb.prebuffer_ms == pytest.approx(20, abs=1)
    now[0] += 0.030  # one delta 30 ms late
    pb.play("", delta)
    assert pb.prebuffer_ms == pytest.approx(50, abs=1)
    assert pb.jitter_high_water == pytest.approx(0.030)
    now[0] += 0.040 + 0.200  # 200 ms late: capped at the configured 100 ms
    pb.play("", delta)
    assert pb.prebuffer_ms == pytest.approx(100, abs=1)
    for _ in range(600):  # calm again for 24 s: back near the floor
        now[0] += 0.040
        pb.play("", delta)
        pb.drain(np.zeros(4096, dtype=np.float32))
    assert pb.prebuffer_ms < 25
    now[0] += 2.0  # a pause between utterances is a new run, not lateness
    pb.play("", delta)
    assert pb.prebuffer_ms < 25


def test_fixed_prebuffer_unless_adaptive() -> None:
    pb = Playback(session_format="pcm16", sink_rate=24_000, prebuffer_ms=60)
    pb.play("a", b"\0\0" * 960)
    assert pb.prebuffer_ms == 60 and not pb.adaptive
