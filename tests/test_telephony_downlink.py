"""The downlink's pacing and played accounting (pure: the clock is passed in)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtsdk.telephony import Downlink
from rtsdk.telephony.downlink import RTT_SAMPLES


def mark(n: int) -> bytes:
    return f"mark{n}".encode()


def media(i: int) -> bytes:
    return f"media{i}".encode()


def test_pump_keeps_at_most_the_lead_in_flight() -> None:
    d = Downlink(lead_ms=200)
    for i in range(6):
        d.push("item_A", 640, media(i))  # 80 ms chunks
    out = d.pump(0.0, mark)
    assert out == [media(0), mark(1), media(1), mark(2), media(2), mark(3)]
    assert d.in_flight_ms == 240
    assert d.pump(0.01, mark) == []
    assert d.on_mark(1, 0.08)
    assert d.pump(0.08, mark) == [media(3), mark(4)]
    assert d.take_played() == [("item_A", 640)]
    assert d.take_played() == []


def test_marks_not_in_flight_are_ignored() -> None:
    d = Downlink()
    d.push("i", 160, media(0))
    d.pump(0.0, mark)
    assert not d.on_mark(7, 0.1)
    assert not d.on_mark(-1, 0.1)
    assert d.on_mark(1, 0.1)
    assert not d.on_mark(1, 0.2)
    assert d.marks_ignored == 3
    assert d.idle


def test_a_later_mark_credits_the_ones_before_it() -> None:
    d = Downlink(lead_ms=400)
    d.push("a", 160, media(0))
    d.push("a", 160, media(1))
    d.push("b", 320, media(2))
    d.pump(0.0, mark)
    assert d.on_mark(3, 0.1)  # marks 1 and 2 were lost: 3 says all three played
    assert sorted(d.take_played()) == [("a", 320), ("b", 320)]


def test_interrupt_counts_the_frames_started_since_the_last_mark() -> None:
    d = Downlink(lead_ms=200)
    for i in range(4):
        d.push("item_A", 640, media(i))
    d.pump(0.0, mark)
    d.on_mark(1, 0.080)  # chunk 1 played by t = 0.080 (no network delay); chunk 2 starts then
    played, had_audio = d.interrupt(0.110)  # 30 ms later: 2 frames of 20 ms have started
    assert had_audio
    assert played == [("item_A", 640 + 320)]
    assert d.idle
    assert not d.on_mark(2, 0.2)  # the carrier echoes the cleared marks: ignored
    played, had_audio = d.interrupt(0.3)
    assert (played, had_audio) == ([], False)


def test_interrupt_never_counts_more_than_was_sent() -> None:
    d = Downlink(lead_ms=200)
    d.push("x", 160, media(0))
    d.push("y", 160, media(1))
    d.pump(5.0, mark)  # nothing was playing: these start when they arrive
    played, _ = d.interrupt(9.0)
    assert sorted(played) == [("x", 160), ("y", 160)]


def test_interrupt_at_the_moment_of_a_mark_adds_nothing() -> None:
    d = Downlink(lead_ms=200)
    for i in range(3):
        d.push("a", 640, media(i))
    d.pump(0.0, mark)
    d.on_mark(2, 0.5)
    assert d.interrupt(0.5) == ([("a", 1280)], True)


def test_the_round_trip_is_measured_on_the_first_chunk_after_a_silence() -> None:
    d = Downlink(lead_ms=200)
    assert d.rtt == 0.0
    d.push("a", 640, media(0))  # 80 ms
    d.push("a", 640, media(1))
    d.pump(10.0, mark)
    assert d.on_mark(1, 10.140)  # 80 ms of audio + 60 ms there and back (and the frame wait)
    assert d.rtt == pytest.approx(0.060 - 0.020 / 2)  # less the wait, on average half a frame
    assert d.on_mark(2, 10.300)  # chunk 2 followed chunk 1: not a round trip
    assert d.rtt == pytest.approx(0.060 - 0.020 / 2)
    d.push("b", 640, media(2))
    d.pump(11.0, mark)  # after a silence: measured again
    assert d.on_mark(3, 11.180)  # 100 ms this time (a late start): the least is kept
    assert d.rtt == pytest.approx(0.060 - 0.020 / 3)  # the least of two waits: a third


def test_the_round_trip_is_the_least_of_the_recent_ones() -> None:
    d = Downlink(lead_ms=200)
    now = 0.0
    for i, rtt in enumerate([0.030] + [0.070] * RTT_SAMPLES):
        d.push("a", 160, media(i))
        d.pump(now, mark)
        assert d.on_mark(i + 1, now + 0.020 + rtt)
        now += 1.0
    # the 30 ms one is forgotten (the path changed)
    assert d.rtt == pytest.approx(0.070 - 0.020 / (RTT_SAMPLES + 1))


def test_a_probe_whose_mark_is_lost_measures_nothing() -> None:
    d = Downlink(lead_ms=400)
    d.push("a", 160, media(0))
    d.push("a", 160, media(1))
    d.pump(0.0, mark)
    assert d.on_mark(2, 0.5)  # mark 1 was lost: mark 2 came after both chunks
    assert d.rtt == 0.0


def test_interrupt_adds_the_round_trip_to_the_frames_since_an_echo() -> None:
    d = Downlink(lead_ms=400)
    for i in range(4):
        d.push("a", 640, media(i))
    d.pump(0.0, mark)
    d.on_mark(1, 0.150)  # 80 ms of audio + 70 ms: a 60 ms round trip (+ the frame wait)
    assert d.rtt == pytest.approx(0.060)
    # 10 ms after the echo: the caller is 30 ms further than the echo says, and hears another
    # 30 ms while the clear travels: 70 ms since chunk 2 started, its 4th frame playing
    played, _ = d.interrupt(0.160)
    assert played == [("a", 640 + 4 * 160)]


def test_interrupt_anchored_at_a_send_adds_no_round_trip() -> None:
    d = Downlink(lead_ms=400)
    d.push("a", 160, media(0))
    d.pump(0.0, mark)
    d.on_mark(1, 0.080)  # 60 ms round trip
    d.push("a", 640, media(1))
    d.pump(1.0, mark)  # after a silence: the anchor is the send (it plays from its arrival)
    played, _ = d.interrupt(1.030)
    assert played == [("a", 160 + 2 * 160)]


def test_lead_below_one_frame_is_refused() -> None:
    with pytest.raises(ValueError, match="lead_ms"):
        Downlink(lead_ms=10)


@given(
    sizes=st.lists(st.integers(1, 2000), min_size=1, max_size=30),
    lead=st.integers(20, 1000),
    steps=st.lists(st.tuples(st.integers(0, 3), st.floats(0, 0.5)), max_size=40),
)
def test_accounting_invariants(sizes: list[int], lead: int, steps: list[tuple[int, float]]) -> None:
    """Whatever the marks and timing: played <= sent, in-flight <= lead + one chunk,
    and every byte reported as played is reported once."""
    d = Downlink(lead_ms=lead)
    for i, n in enumerate(sizes):
        d.push(f"item{i % 3}", n, media(i))
    now = 0.0
    sent = 0
    reported = 0
    last = 0
    for action, dt in steps:
        now += dt
        frames = d.pump(now, mark)
        last += len(frames) // 2
        sent = d.sent_bytes
        assert d.in_flight_ms * 8 < lead * 8 + max(sizes)
        if action == 0 and last:
            d.on_mark(last, now)
        elif action == 1 and last:
            d.on_mark(max(1, last - 1), now)
        elif action == 2:
            reported += sum(n for _, n in d.take_played())
        else:
            played, _ = d.interrupt(now)
            reported += sum(n for _, n in played)
        assert reported <= sent
    played, _ = d.interrupt(now + 100.0)
    reported += sum(n for _, n in played)
    assert reported <= d.sent_bytes
