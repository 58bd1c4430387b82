"""RecordRing (the render tap's transport): records intact in any interleaving, overruns, bad
input, a producer thread against the consumer, the twin."""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtsdk.exceptions import AudioFormatError
from tests.conftest import NO_EXTENSIONS, kernel_params, load_impl

F32 = np.float32


@pytest.fixture(scope="module", params=kernel_params("taprecords"))
def tr(request: pytest.FixtureRequest) -> ModuleType:
    return load_impl(request)


def blocks(sizes: list[int], seed: int = 0) -> list[npt.NDArray[np.float32]]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(k).astype(F32) for k in sizes]


def expected(sizes: list[int], t0: float = 5.0) -> list[tuple[int, int, float, float, int, int]]:
    out, index = [], 0
    for i, k in enumerate(sizes):
        out.append((index, k, t0 + i, 0.5 * i, min(index, index + 3), min(index + k, index + 3)))
        index += k
    return out


def push_all(ring: object, bl: list[npt.NDArray[np.float32]], t0: float = 5.0) -> list[bool]:
    done, index = [], 0
    for i, b in enumerate(bl):
        done.append(ring.push(b, t0 + i, 0.5 * i, index, index + 3))  # type: ignore[attr-defined]
        index += b.size
    return done


def pull_all(ring: object, out: npt.NDArray[np.float32]) -> list[tuple[object, ...]]:
    got = []
    while (rec := ring.pull(out)) is not None:  # type: ignore[attr-defined]
        got.append((*rec, out[: rec[1]].copy()))
    return got


@settings(max_examples=60)
@given(
    sizes=st.lists(st.integers(0, 50), max_size=40),
    pulls=st.lists(st.integers(0, 40), max_size=40),
    with_samples=st.booleans(),
)
def test_any_interleaving_gives_every_record_intact(
    tr: ModuleType, sizes: list[int], pulls: list[int], with_samples: bool
) -> None:
    """Pushes and pulls interleaved anyhow, the ring large enough: every record comes out once,
    in order, header and samples as pushed."""
    bl = blocks(sizes)
    ring = tr.RecordRing(64 * 41 + 4 * 50 * 40, 50, with_samples)
    out = np.zeros(50, dtype=F32)
    got: list[tuple[object, ...]] = []
    index = 0
    at = iter(pulls)
    for i, b in enumerate(bl):
        assert ring.push(b, 5.0 + i, 0.5 * i, index, index + 3) is True
        index += b.size
        for _ in range(next(at, 0)):
            rec = ring.pull(out)
            if rec is None:
                break
            got.append((*rec, out[: rec[1]].copy()))
    got += pull_all(ring, out)
    assert ring.pull(out) is None and ring.readable == 0
    assert [g[:6] for g in got] == expected(sizes)
    for g, b in zip(got, bl, strict=True):
        if with_samples:
            np.testing.assert_array_equal(g[6], b)
    assert ring.samples_pushed == sum(sizes) and ring.overruns == 0


@settings(max_examples=60)
@given(sizes=st.lists(st.integers(0, 30), max_size=40), cap=st.integers(64, 1000))
def test_a_full_ring_drops_whole_records_and_counts_them(
    tr: ModuleType, sizes: list[int], cap: int
) -> None:
    bl = blocks(sizes, seed=1)
    ring = tr.RecordRing(cap, 30)
    done = push_all(ring, bl)
    out = np.zeros(30, dtype=F32)
    got = pull_all(ring, out)
    # exactly the records that fitted, whole; the rest counted; the indexes say what was lost
    want = [e for e, ok in zip(expected(sizes), done, strict=True) if ok]
    assert [g[:6] for g in got] == want
    assert ring.overruns == done.count(False)
    assert ring.samples_pushed == sum(sizes)
    used = 0
    for k, ok in zip(sizes, done, strict=True):  # a record is dropped only when it did not fit
        need = 64 + 4 * k
        assert ok == (used + need <= cap)
        used += need if ok else 0


@pytest.mark.skipif(NO_EXTENSIONS, reason="RTSDK_NO_EXTENSIONS=1: no compiled kernel")
@settings(max_examples=40)
@given(sizes=st.lists(st.integers(0, 30), max_size=40), cap=st.integers(64, 1500))
def test_compiled_matches_twin(sizes: list[int], cap: int) -> None:
    cy = importlib.import_module("rtsdk._kernels.taprecords")
    py = importlib.import_module("rtsdk._reference.taprecords")
    res = []
    for mod in (cy, py):
        ring = mod.RecordRing(cap, 30)
        done = push_all(ring, blocks(sizes, seed=2))
        got = pull_all(ring, np.zeros(30, dtype=F32))
        res.append((done, [g[:6] for g in got], [g[6].tolist() for g in got], ring.overruns))
    assert res[0] == res[1]


def test_timing_only_records_carry_no_samples(tr: ModuleType) -> None:
    ring = tr.RecordRing(64 * 3, 100, with_samples=False)
    bl = blocks([100, 100, 100, 100])
    assert push_all(ring, bl) == [True, True, True, False]
    out = np.full(100, 7.0, dtype=F32)
    assert [g[:6] for g in pull_all(ring, out)] == expected([100] * 3)
    np.testing.assert_array_equal(out, 7.0)  # untouched
    assert ring.with_samples is False and ring.capacity == 192 and ring.max_block == 100


def test_a_producer_thread_against_the_consumer(tr: ModuleType) -> None:
    """A callback thread pushes 5000 records of varying length into a small ring while the
    consumer pulls: every record that was not dropped arrives whole and in order."""
    ring = tr.RecordRing(4096, 64)
    n = 5000
    sizes = [(i * 7) % 64 for i in range(n)]
    done: list[bool] = []

    def producer() -> None:
        index = 0
        for i, k in enumerate(sizes):
            b = np.full(k, float(i % 1000), dtype=F32)
            done.append(ring.push(b, float(i), 0.0, index, index + k))
            index += k

    th = threading.Thread(target=producer)
    th.start()
    out = np.zeros(64, dtype=F32)
    got: list[tuple[int, int]] = []
    while th.is_alive() or ring.readable:
        rec = ring.pull(out)
        if rec is None:
            continue
        i = int(rec[2])
        assert rec[1] == sizes[i] and np.all(out[: rec[1]] == float(i % 1000))
        got.append((i, rec[0]))
    th.join()
    assert [g[0] for g in got] == [i for i, ok in enumerate(done) if ok]
    starts = np.cumsum([0, *sizes])
    assert all(idx == starts[i] for i, idx in got)
    assert ring.overruns == done.count(False)


def test_bad_input_names_what_is_wrong_and_changes_nothing(tr: ModuleType) -> None:
    ring = tr.RecordRing(1000, 10)
    out = np.zeros(10, dtype=F32)
    with pytest.raises(AudioFormatError, match="block must be a 1-D float32"):
        ring.push(np.zeros(5), 0.0, 0.0, 0, 0)
    with pytest.raises(AudioFormatError, match="block must be a 1-D float32"):
        ring.push(np.zeros((5, 2), dtype=F32), 0.0, 0.0, 0, 0)
    with pytest.raises(AudioFormatError, match="C-contiguous"):
        ring.push(np.zeros(20, dtype=F32)[::2], 0.0, 0.0, 0, 0)
    with pytest.raises(AudioFormatError, match="longer than max_block"):
        ring.push(np.zeros(11, dtype=F32), 0.0, 0.0, 0, 0)
    assert ring.samples_pushed == 0 and ring.readable == 0 and ring.overruns == 0
    ring.push(np.ones(4, dtype=F32), 1.0, 2.0, 0, 4)
    with pytest.raises(AudioFormatError, match="room for 10 samples"):
        ring.pull(np.zeros(9, dtype=F32))
    ro = np.zeros(10, dtype=F32)
    ro.flags.writeable = False
    with pytest.raises(AudioFormatError, match="writable"):
        ring.pull(ro)
    with pytest.raises(AudioFormatError, match="out must be a 1-D float32"):
        ring.pull(bytearray(40))
    assert ring.pull(out) == (0, 4, 1.0, 2.0, 0, 4)  # the record waited, whole
    with pytest.raises(ValueError, match="max_block"):
        tr.RecordRing(100, 0)
    with pytest.raises(ValueError):
        tr.RecordRing(0, 10)
