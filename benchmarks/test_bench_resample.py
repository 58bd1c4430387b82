"""Streaming resampling per 20 ms frame and per 1 s block: rtsdk against the usual choices.

Implementations (``extra_info["impl"]``):

- "rtsdk": ``rtsdk._kernels.resample.Resampler`` (quality "high"), "rtsdk-py": its NumPy twin;
- "soxr-hq" / "soxr-vhq": ``soxr.ResampleStream(..., dtype="float32", quality="HQ"/"VHQ")``;
- "scipy-resample_poly": ``scipy.signal.resample_poly`` on each block (the obvious way: it
  designs its filter on every call and is not a streaming filter).

Each round feeds the next block of one continuous stream. For the 20 ms cases,
``extra_info["owed_ms_mean"]`` / ``["owed_ms_max"]`` say how much output (in ms) the
implementation still owed after each call (input so far x ratio - output so far), measured over
one second of 20 ms calls; rtsdk's algorithmic delay is in ``extra_info["delay_ms"]``.
"""

from __future__ import annotations

import importlib
import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest

PAIRS = [(48000, 24000), (44100, 24000), (24000, 48000), (16000, 24000)]
BLOCKS = {"20ms": 0.02, "1s": 1.0}
IMPLS = ["rtsdk", "rtsdk-py", "soxr-hq", "soxr-vhq", "scipy-resample_poly"]


def _stream(rate: int, seconds: float, n_blocks: int) -> list[np.ndarray]:
    n = round(rate * seconds)
    t = np.arange(n * n_blocks) / rate
    rng = np.random.default_rng(11)
    x = 0.3 * np.sin(2 * np.pi * 440.0 * t) + 0.05 * rng.standard_normal(t.size)
    return [b.astype(np.float32) for b in np.split(x, n_blocks)]


def _make(impl: str, in_rate: int, out_rate: int) -> Callable[[np.ndarray], np.ndarray]:
    if impl in ("rtsdk", "rtsdk-py"):
        pkg = "rtsdk._kernels" if impl == "rtsdk" else "rtsdk._reference"
        try:
            mod = importlib.import_module(f"{pkg}.resample")
        except ImportError as exc:
            pytest.skip(f"{pkg}.resample unavailable: {exc}")
        return mod.Resampler(in_rate, out_rate).process  # type: ignore[no-any-return]
    if impl.startswith("soxr"):
        soxr = pytest.importorskip("soxr")
        q = "HQ" if impl == "soxr-hq" else "VHQ"
        return soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32", quality=q).resample_chunk  # type: ignore[no-any-return]
    signal = pytest.importorskip("scipy.signal")
    g = math.gcd(in_rate, out_rate)
    up, down = out_rate // g, in_rate // g
    return lambda x: signal.resample_poly(x, up, down)  # type: ignore[no-any-return]


def _owed_ms(impl: str, in_rate: int, out_rate: int) -> tuple[float, float]:
    fn = _make(impl, in_rate, out_rate)
    n_in = n_out = 0
    owed = []
    for block in _stream(in_rate, 0.02, 50):
        n_in += block.size
        n_out += fn(block).size
        owed.append((n_in * out_rate / in_rate - n_out) / out_rate * 1e3)
    return float(np.mean(owed)), float(np.max(owed))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("block", list(BLOCKS))
@pytest.mark.parametrize("pair", PAIRS, ids=[f"{a // 1000}k-{b // 1000}k" for a, b in PAIRS])
def test_resample(benchmark, impl: str, block: str, pair: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    in_rate, out_rate = pair
    benchmark.group = f"resample:{in_rate / 1000:g}k-{out_rate / 1000:g}k:{block}"
    benchmark.extra_info["impl"] = impl
    fn = _make(impl, in_rate, out_rate)
    blocks = _stream(in_rate, BLOCKS[block], 8 if block == "1s" else 50)
    nxt = itertools.cycle(blocks).__next__
    if block == "20ms":
        mean, peak = _owed_ms(impl, in_rate, out_rate)
        benchmark.extra_info["owed_ms_mean"] = round(mean, 3)
        benchmark.extra_info["owed_ms_max"] = round(peak, 3)
        if impl.startswith("rtsdk"):
            mod = importlib.import_module("rtsdk._reference.resample")
            benchmark.extra_info["delay_ms"] = round(
                mod.Resampler(in_rate, out_rate).delay * 1e3, 3
            )
    if impl == "rtsdk-py" or block == "1s":
        benchmark.pedantic(lambda: fn(nxt()), rounds=30 if block == "1s" else 200, warmup_rounds=2)
    else:
        benchmark(lambda: fn(nxt()))


@pytest.mark.parametrize("impl", ["rtsdk", "soxr-hq"])
def test_resample_many_sessions(benchmark, impl: str) -> None:  # type: ignore[no-untyped-def]
    """One 20 ms frame 48k->24k on the next of 300 live streams: states out of cache."""
    benchmark.group = "resample:48k-24k:20ms-300-streams"
    benchmark.extra_info["impl"] = impl
    fns = [_make(impl, 48000, 24000) for _ in range(300)]
    blocks = _stream(48000, 0.02, 50)
    calls = itertools.cycle([(fn, blocks[i % 50]) for i, fn in enumerate(fns)]).__next__

    def step() -> np.ndarray:
        fn, block = calls()
        return fn(block)

    benchmark(step)
