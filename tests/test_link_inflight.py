"""The in-flight bound (rtsdk.link.inflight): the drain rate it measures, when it says
congested, how often it reads the queue, and a real socket's queue read."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator

import pytest

from rtsdk.link.inflight import (
    CALM_BYTES,
    CHECK_BYTES,
    MIN_BUDGET,
    TARGET_S,
    InFlightBound,
)


class Scripted(InFlightBound):
    """A bound whose socket queue and clock the test sets."""

    def __init__(self) -> None:
        self.now = 0.0
        self.queued = 0
        super().__init__(socket.socket(), clock=lambda: self.now)

    def queue(self) -> int | None:
        return self.queued

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def bound() -> Iterator[Scripted]:
    b = Scripted()
    yield b
    b.close()


def test_a_link_that_keeps_up_is_never_congested_and_read_ever_more_seldom(
    bound: Scripted,
) -> None:
    steps = []
    for _ in range(6):
        bound.written = bound.next_check
        bound.now += 0.25
        assert not bound.check()
        steps.append(bound.step)
    assert steps[-1] == CALM_BYTES and steps == sorted(steps)
    assert bound.rate is None and bound.holds == 0 and bound.delay_s == 0.0


def test_a_narrow_link_is_measured_and_held_to_its_drain(bound: Scripted) -> None:
    rate = 16_000  # bytes/s: 128 kbit/s
    sent = 0.0
    for _ in range(40):  # 64 KB/s offered for 2 s, the link drains 16 KB/s
        bound.now += 0.05
        bound.written += 3200
        sent = min(bound.written, sent + rate * 0.05)
        bound.queued = int(bound.written - sent)
        bound.check()
    assert bound.rate == pytest.approx(rate, rel=0.1)
    assert bound.budget == pytest.approx(max(MIN_BUDGET, rate * TARGET_S), rel=0.1)
    assert bound.congested and bound.holds == 1
    assert bound.step == CHECK_BYTES // 4  # near the budget: read more often
    assert bound.delay_s == pytest.approx(min(1.0, bound.queued / bound.rate), rel=1e-6)
    assert bound.queue_high_water >= bound.queued
    # the queue drains: not congested any more
    bound.queued = 0
    bound.now += 0.2
    assert not bound.check() and bound.holds == 1


def test_an_unreadable_queue_is_no_bound(bound: Scripted) -> None:
    bound.queue = lambda: None  # type: ignore[method-assign]
    assert not bound.check()
    assert bound.next_check > CHECK_BYTES


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIOCOUTQ is Linux's")
def test_the_queue_of_a_real_socket_is_read() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    peer, _ = server.accept()
    try:
        bound = InFlightBound.for_socket(client)
        assert bound is not None
        assert bound.queue() == 0
        client.setblocking(False)
        with pytest.raises(BlockingIOError):  # the peer never reads: the queue fills
            while True:
                client.send(b"x" * 65536)
        assert (bound.queue() or 0) > 0
    finally:
        for s in (client, peer, server):
            s.close()
    assert InFlightBound.for_socket(None) is None
