"""float32 <-> PCM16 per 20 ms frame and per 1 s block: rtsdk against NumPy.

Implementations (``extra_info["impl"]``): "rtsdk" (``rtsdk._kernels.pcm``), "rtsdk-py" (its
twin), "numpy" (the obvious ufunc chain, a new array each call) and "numpy-out" (the same work
into preallocated buffers with ``out=``). Cases: mono float32 at 24 kHz and 48 kHz, 20 ms
(480 / 960 samples) and 1 s (48,000 samples at 48 kHz).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

CASES = {"20ms-24k": 480, "20ms-48k": 960, "1s-48k": 48000}
IMPLS = ["rtsdk", "rtsdk-py", "numpy", "numpy-out"]


def _module(impl: str) -> Any:
    pkg = "rtsdk._kernels" if impl == "rtsdk" else "rtsdk._reference"
    try:
        return importlib.import_module(f"{pkg}.pcm")
    except ImportError as exc:
        pytest.skip(f"{pkg}.pcm unavailable: {exc}")


def _to_pcm16(impl: str, n: int) -> Callable[[Any], Any]:
    if impl in ("rtsdk", "rtsdk-py"):
        mod = _module(impl)
        out = np.empty(n, np.int16)
        return lambda x: mod.float32_to_pcm16(x, out=out)
    if impl == "numpy":
        return lambda x: np.clip(np.rint(x * 32768), -32768, 32767).astype(np.int16)
    tmp = np.empty(n, np.float32)
    out16 = np.empty(n, np.int16)

    def numpy_out(x: Any) -> Any:
        np.multiply(x, np.float32(32768), out=tmp)
        np.rint(tmp, out=tmp)
        np.clip(tmp, -32768, 32767, out=tmp)
        np.copyto(out16, tmp, casting="unsafe")
        return out16

    return numpy_out


def _to_float32(impl: str, n: int) -> Callable[[Any], Any]:
    if impl in ("rtsdk", "rtsdk-py"):
        mod = _module(impl)
        out = np.empty(n, np.float32)
        return lambda x: mod.pcm16_to_float32(x, out=out)
    if impl == "numpy":
        return lambda x: x.astype(np.float32) / 32768
    out32 = np.empty(n, np.float32)
    return lambda x: np.multiply(x, np.float32(1 / 32768), out=out32)


def _signal(n: int) -> Any:
    return np.random.default_rng(n).uniform(-1.1, 1.1, n).astype(np.float32)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", list(CASES))
def test_float32_to_pcm16(benchmark: Any, case: str, impl: str) -> None:
    n = CASES[case]
    fn = _to_pcm16(impl, n)
    x = _signal(n)
    benchmark.group = f"pcm:float32_to_pcm16-{case}"
    benchmark.extra_info["impl"] = impl
    want = np.clip(np.rint(x * np.float32(32768)), -32768, 32767).astype(np.int16)
    assert np.array_equal(benchmark(fn, x), want)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", list(CASES))
def test_pcm16_to_float32(benchmark: Any, case: str, impl: str) -> None:
    n = CASES[case]
    fn = _to_float32(impl, n)
    x = np.clip(np.rint(_signal(n) * 32768), -32768, 32767).astype(np.int16)
    benchmark.group = f"pcm:pcm16_to_float32-{case}"
    benchmark.extra_info["impl"] = impl
    assert np.array_equal(benchmark(fn, x), x / np.float32(32768))
