"""SpscRing: compiled kernel and twin against a bytes-FIFO model, wrap-around, threads, errors."""

from __future__ import annotations

import gc
import random
import threading
import time
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtsdk._reference import ring as twin
from rtsdk.exceptions import AudioFormatError
from tests.conftest import kernel_params, load_impl


@pytest.fixture(scope="module", params=kernel_params("ring"))
def ring_mod(request: pytest.FixtureRequest) -> ModuleType:
    return load_impl(request)


def _pattern(n: int, start: int = 0) -> bytes:
    return ((np.arange(start, start + n, dtype=np.int64)) % 251).astype(np.uint8).tobytes()


PATTERN = _pattern(1 << 22)


class _Model:
    """A plain bytes FIFO with the ring's stated policy (reject the newest bytes)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = b""
        self.written = 0
        self.read = 0
        self.overruns = 0
        self.events = 0

    def write(self, b: bytes) -> int:
        m = min(len(b), self.cap - len(self.data))
        self.data += b[:m]
        self.written += m
        if m < len(b):
            self.overruns += len(b) - m
            self.events += 1
        return m

    def take(self, n: int) -> bytes:
        out, self.data = self.data[:n], self.data[n:]
        self.read += len(out)
        return out


def _check_counters(r: Any, m: _Model) -> None:
    assert r.readable == len(r) == len(m.data)
    assert r.writable == m.cap - len(m.data)
    assert r.capacity == m.cap
    assert r.total_written == m.written
    assert r.total_read == m.read
    assert r.overruns == m.overruns
    assert r.overrun_events == m.events


def _as_input(data: bytes, kind: str) -> Any:
    if kind == "bytearray":
        return bytearray(data)
    if kind == "memoryview":
        return memoryview(data)
    if kind == "u8":
        return np.frombuffer(data, np.uint8)
    if kind == "f32" and len(data) % 4 == 0:
        return np.frombuffer(data, np.float32).copy()
    if kind == "i16x2" and len(data) % 4 == 0:
        return np.frombuffer(data, np.int16).reshape(-1, 2).copy()
    return data


OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("write"),
            st.integers(0, 80),
            st.sampled_from(["bytes", "bytearray", "memoryview", "u8", "f32", "i16x2"]),
        ),
        st.tuples(st.just("read"), st.integers(0, 80), st.just("")),
        st.tuples(st.just("peek"), st.integers(0, 100), st.just("")),
        st.tuples(st.just("clear"), st.just(0), st.just("")),
    ),
    max_size=60,
)


@given(cap=st.integers(1, 50), ops=OPS)
def test_matches_twin_and_fifo_model(ring_mod: ModuleType, cap: int, ops: list[Any]) -> None:
    rings = [ring_mod.SpscRing(cap), twin.SpscRing(cap)]
    model = _Model(cap)
    src = 0
    for op, n, kind in ops:
        if op == "write":
            data = _pattern(n, src)
            src += n
            want = model.write(data)
            for r in rings:
                assert r.write(_as_input(data, kind)) == want
        elif op == "read":
            want_b = model.take(n)
            for r in rings:
                out = bytearray(b"\xee" * n)
                got = r.read_into(out)
                assert got == len(want_b)
                assert bytes(out[:got]) == want_b
                assert out[got:] == b"\xee" * (n - got)
        elif op == "peek":
            k = len(model.data) * n // 100
            for r in rings:
                views = r.peek()
                assert b"".join(bytes(v) for v in views) == model.data
                assert len(views) <= 2 and all(v.nbytes > 0 and v.readonly for v in views)
                r.advance(k)
            model.take(k)
        else:
            dropped = len(model.data)
            model.take(dropped)
            for r in rings:
                assert r.clear() == dropped
        for r in rings:
            _check_counters(r, model)


def test_wrap_gives_two_views(ring_mod: ModuleType) -> None:
    r = ring_mod.SpscRing(10)
    assert r.peek() == ()
    assert r.write(b"abcdefgh") == 8
    assert r.read_into(bytearray(6)) == 6
    assert r.write(b"0123456") == 7  # 2 at the end, 5 wrapped to the front
    views = r.peek()
    assert [bytes(v) for v in views] == [b"gh01", b"23456"]
    r.advance(4)
    assert [bytes(v) for v in r.peek()] == [b"23456"]
    out = bytearray(10)
    assert r.read_into(out) == 5 and out[:5] == b"23456"
    assert r.peek() == () and r.readable == 0 and r.writable == 10


def test_capacity_is_kept_exactly_and_fills_completely(ring_mod: ModuleType) -> None:
    for cap in (1, 3, 7, 1000, 4097):
        r = ring_mod.SpscRing(cap)
        assert r.capacity == cap
        assert r.write(_pattern(cap + 5)) == cap
        assert r.overruns == 5 and r.overrun_events == 1 and r.writable == 0
        assert r.write(b"") == 0 and r.overrun_events == 1
        out = bytearray(cap)
        assert r.read_into(out) == cap and bytes(out) == _pattern(cap)


def test_counts_bytes_not_items(ring_mod: ModuleType) -> None:
    r = ring_mod.SpscRing(4000)
    frame = np.linspace(-1, 1, 960, dtype=np.float32)
    assert r.write(frame) == 3840
    back = np.empty(960, np.float32)
    assert r.read_into(back) == 3840
    np.testing.assert_array_equal(back, frame)
    assert r.write(np.zeros((10, 2), np.int16)) == 40  # C-contiguous 2-D is fine


def test_large_copies_without_the_gil(ring_mod: ModuleType) -> None:
    r = ring_mod.SpscRing(100_000)
    data = PATTERN[:150_000]
    assert r.write(data[:30_000]) == 30_000
    assert r.read_into(bytearray(20_000)) == 20_000
    assert r.write(data[30_000:150_000]) == 90_000  # wraps, drops 30_000
    assert r.overruns == 30_000
    out = bytearray(100_000)
    assert r.read_into(out) == 100_000
    assert bytes(out) == data[20_000:120_000]


def test_views_outlive_the_ring_and_are_read_only(ring_mod: ModuleType) -> None:
    r = ring_mod.SpscRing(16)
    r.write(b"hello")
    (v,) = r.peek()
    with pytest.raises(TypeError):
        v[0] = 0
    del r
    gc.collect()
    assert bytes(v) == b"hello"


def test_write_while_views_are_exported(ring_mod: ModuleType) -> None:
    r = ring_mod.SpscRing(8)
    r.write(b"abc")
    views = r.peek()
    assert r.write(b"defgh") == 5  # storage is written in place, never resized
    assert [bytes(v) for v in views] == [b"abc"]
    r.advance(3)
    assert b"".join(bytes(v) for v in r.peek()) == b"defgh"


@pytest.mark.parametrize("bad", [0, -1, -(1 << 70)])
def test_capacity_must_be_positive(ring_mod: ModuleType, bad: int) -> None:
    with pytest.raises(ValueError, match="capacity must be a positive int"):
        ring_mod.SpscRing(bad)


@pytest.mark.parametrize("bad", [1.5, "10", None, True])
def test_capacity_must_be_an_int(ring_mod: ModuleType, bad: Any) -> None:
    with pytest.raises(TypeError, match="capacity must be a positive int"):
        ring_mod.SpscRing(bad)


def test_capacity_too_large(ring_mod: ModuleType) -> None:
    with pytest.raises((MemoryError, ValueError), match="SpscRing"):
        ring_mod.SpscRing(1 << 80)
    with pytest.raises(MemoryError, match="could not allocate"):
        ring_mod.SpscRing(1 << 61)


def test_bad_buffers(ring_mod: ModuleType) -> None:
    r = ring_mod.SpscRing(64)
    with pytest.raises(AudioFormatError, match=r"C-contiguous.*non-contiguous ndarray"):
        r.write(np.zeros((4, 4), np.float32)[:, ::2])
    with pytest.raises(AudioFormatError, match="C-contiguous"):
        r.write(np.zeros((4, 4), np.float32).T)
    with pytest.raises(TypeError, match="bytes-like"):
        r.write("text")
    with pytest.raises(TypeError, match="bytes-like"):
        r.write(12)
    r.write(b"abcd")
    with pytest.raises(TypeError, match=r"writable buffer.*read-only bytes"):
        r.read_into(b"xxxx")
    ro = np.zeros(4, np.uint8)
    ro.flags.writeable = False
    with pytest.raises(TypeError, match="writable"):
        r.read_into(ro)
    with pytest.raises(AudioFormatError, match="C-contiguous"):
        r.read_into(np.zeros(8, np.uint8)[::2])
    assert r.readable == 4 and r.total_written == 4 and r.overruns == 0


def test_advance_bounds(ring_mod: ModuleType) -> None:
    r = ring_mod.SpscRing(8)
    r.write(b"abc")
    with pytest.raises(ValueError, match=r"advance\(4\).*readable \(3\)"):
        r.advance(4)
    with pytest.raises(ValueError, match="advance"):
        r.advance(-1)
    r.advance(0)
    r.advance(3)
    assert r.readable == 0 and r.total_read == 3


def _spin(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise TimeoutError("ring stress test made no progress")
    time.sleep(0)


@pytest.mark.parametrize(
    ("cap", "chunk", "total"), [(1000, 700, 3_000_000), (70_000, 40_000, 4_000_000)]
)
def test_threads_move_every_byte_in_order(
    ring_mod: ModuleType, cap: int, chunk: int, total: int
) -> None:
    r = ring_mod.SpscRing(cap)
    data = PATTERN[:total]
    received = bytearray(total)
    deadline = time.monotonic() + 30
    errors: list[BaseException] = []
    short = [0, 0]  # bytes refused, short writes (the producer then retries them)

    def produce() -> None:
        rng = random.Random(1)
        pos = 0
        try:
            while pos < total:
                n = min(rng.randint(0, chunk), total - pos)
                wrote = r.write(data[pos : pos + n])
                pos += wrote
                if wrote < n:  # short write: retry the rest, so nothing is lost
                    short[0] += n - wrote
                    short[1] += 1
                    _spin(deadline)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def consume() -> None:
        rng = random.Random(2)
        pos = 0
        buf = bytearray(chunk)
        try:
            while pos < total:
                if rng.random() < 0.5:
                    got = r.read_into(memoryview(buf)[: rng.randint(1, chunk)])
                    received[pos : pos + got] = buf[:got]
                else:
                    got = 0
                    for v in r.peek():
                        received[pos + got : pos + got + v.nbytes] = v
                        got += v.nbytes
                    r.advance(got)
                pos += got
                if got == 0:
                    _spin(deadline)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    assert bytes(received) == data
    assert r.total_written == r.total_read == total
    assert (r.overruns, r.overrun_events) == tuple(short)

    # The consumer stops: the ring fills and every further byte is counted as dropped.
    before = r.overruns, r.overrun_events
    for _ in range(50):
        r.write(data[:chunk])
    assert r.total_written == total + cap
    assert r.overruns - before[0] == 50 * chunk - cap
    assert r.overrun_events - before[1] == 50 - cap // chunk
    assert r.readable == cap


def test_clear_concurrent_with_producer(ring_mod: ModuleType) -> None:
    """Whatever the consumer reads, between clears, is the stream at its own read offset."""
    r = ring_mod.SpscRing(777)
    total = 1_000_000
    done = threading.Event()
    deadline = time.monotonic() + 30

    def produce() -> None:
        pos = 0
        rng = random.Random(3)
        while pos < total and time.monotonic() < deadline:
            pos += r.write(PATTERN[pos : min(total, pos + rng.randint(1, 500))])
            time.sleep(0)
        done.set()

    t = threading.Thread(target=produce)
    t.start()
    rng = random.Random(4)
    buf = bytearray(600)
    checked = 0
    while not done.is_set() or r.readable:
        if rng.random() < 0.05:
            r.clear()
            continue
        start = r.total_read
        got = r.read_into(buf)
        assert bytes(buf[:got]) == PATTERN[start : start + got]
        checked += got
        time.sleep(0)
    t.join(10)
    assert not t.is_alive()
    assert r.total_written == total and r.total_read == total
    assert checked > 0
