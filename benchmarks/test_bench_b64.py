"""Standard base64 per 20 ms frame and per 1 s block: rtsdk against stdlib and pybase64.

Implementations (``extra_info["impl"]``): "rtsdk" (``rtsdk._kernels.b64``), "rtsdk-py" (its twin),
"stdlib" (``base64.b64encode`` / ``base64.b64decode(validate=True)``), "pybase64" (same calls).
Cases: PCM16 mono at 24 kHz, 20 ms (960 bytes) and 1 s (48,000 bytes); 20 ms at 48 kHz
(1,920 bytes).
"""

from __future__ import annotations

import base64
import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

CASES = {"20ms-24k": 960, "20ms-48k": 1920, "1s-24k": 48000}
IMPLS = ["rtsdk", "rtsdk-py", "stdlib", "pybase64"]


def _codec(impl: str) -> tuple[Callable[[Any], bytes], Callable[[Any], bytes]]:
    if impl in ("rtsdk", "rtsdk-py"):
        pkg = "rtsdk._kernels" if impl == "rtsdk" else "rtsdk._reference"
        try:
            mod = importlib.import_module(f"{pkg}.b64")
        except ImportError as exc:
            pytest.skip(f"{pkg}.b64 unavailable: {exc}")
        return mod.b64encode, mod.b64decode
    if impl == "stdlib":
        return base64.b64encode, lambda s: base64.b64decode(s, validate=True)
    pybase64 = pytest.importorskip("pybase64")
    return pybase64.b64encode, lambda s: pybase64.b64decode(s, validate=True)


def _pcm(n: int) -> bytes:
    return np.random.default_rng(n).integers(-3000, 3000, n // 2, dtype=np.int16).tobytes()


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", list(CASES))
def test_encode(benchmark: Any, case: str, impl: str) -> None:
    encode, _ = _codec(impl)
    pcm = _pcm(CASES[case])
    benchmark.group = f"b64:encode-{case}"
    benchmark.extra_info["impl"] = impl
    assert benchmark(encode, pcm) == base64.b64encode(pcm)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", list(CASES))
def test_decode(benchmark: Any, case: str, impl: str) -> None:
    _, decode = _codec(impl)
    pcm = _pcm(CASES[case])
    text = base64.b64encode(pcm)
    benchmark.group = f"b64:decode-{case}"
    benchmark.extra_info["impl"] = impl
    assert benchmark(decode, text) == pcm
