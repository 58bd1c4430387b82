"""G.711 u-law/A-law per 20 ms frame and per 1 s block: rtsdk against NumPy and audioop.

Implementations (``extra_info["impl"]``): "rtsdk" (``rtsdk._kernels.g711``), "rtsdk-py" (its
twin), "numpy" (lookup table indexed with ``np.take``, a new array each call: 64 Ki-entry
table to encode, 256-entry table to decode), "numpy-out" (the same into a preallocated buffer),
"rtsdk-calc" (encoders only: the compiled coder without tables) and "audioop"
(``lin2ulaw`` / ``ulaw2lin`` ... on bytes; skipped where it is missing).
Cases: 20 ms at 8 kHz (G.711's own rate, 160 samples), 24 kHz (480) and 48 kHz (960), and 1 s at
24 kHz (24,000 samples).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

CASES = {"20ms-8k": 160, "20ms-24k": 480, "20ms-48k": 960, "1s-24k": 24000}
IMPLS = ["rtsdk", "rtsdk-py", "numpy", "numpy-out", "audioop"]
# Encoders also: "rtsdk-calc", the compiled coder without lookup tables (count-leading-zeros
# segment search), to show what the 16 KiB / 8 KiB encode tables buy.
ENC_IMPLS = [*IMPLS, "rtsdk-calc"]
LAWS = ["ulaw", "alaw"]


def _audioop() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop
        except ImportError:
            audioop = pytest.importorskip("audioop")
    return audioop


def _module(impl: str) -> Any:
    pkg = "rtsdk._kernels" if impl == "rtsdk" else "rtsdk._reference"
    try:
        return importlib.import_module(f"{pkg}.g711")
    except ImportError as exc:
        pytest.skip(f"{pkg}.g711 unavailable: {exc}")


def _tables(law: str) -> tuple[Any, Any]:
    """(encode table indexed by the sample's uint16 bits, decode table by code), from the twin."""
    ref = importlib.import_module("rtsdk._reference.g711")
    enc = getattr(ref, f"pcm16_to_{law}")(np.arange(65536, dtype=np.uint16).view(np.int16))
    dec = getattr(ref, f"{law}_to_pcm16")(np.arange(256, dtype=np.uint8))
    return enc, dec


def _encoder(impl: str, law: str, n: int) -> Callable[[Any], Any]:
    if impl == "rtsdk-calc":
        calc = _module("rtsdk")._encode_calc
        out_calc = np.empty(n, np.uint8)
        return lambda x: calc(x, law == "alaw", out=out_calc)
    if impl in ("rtsdk", "rtsdk-py"):
        fn = getattr(_module(impl), f"pcm16_to_{law}")
        out = np.empty(n, np.uint8)
        return lambda x: fn(x, out=out)
    if impl == "audioop":
        lin2 = getattr(_audioop(), f"lin2{law}")
        return lambda x: lin2(x.tobytes(), 2)
    table, _ = _tables(law)
    if impl == "numpy":
        return lambda x: np.take(table, x.view(np.uint16))
    out8 = np.empty(n, np.uint8)
    return lambda x: np.take(table, x.view(np.uint16), out=out8)


def _decoder(impl: str, law: str, n: int) -> Callable[[Any], Any]:
    if impl in ("rtsdk", "rtsdk-py"):
        fn = getattr(_module(impl), f"{law}_to_pcm16")
        out = np.empty(n, np.int16)
        return lambda x: fn(x, out=out)
    if impl == "audioop":
        to_lin = getattr(_audioop(), f"{law}2lin")
        return lambda x: to_lin(x.tobytes(), 2)
    _, table = _tables(law)
    if impl == "numpy":
        return lambda x: np.take(table, x)
    out16 = np.empty(n, np.int16)
    return lambda x: np.take(table, x, out=out16)


def _speech_like(n: int) -> Any:
    t = np.arange(n) / 24000
    rng = np.random.default_rng(n)
    x = 9000 * np.sin(2 * np.pi * 220 * t) + rng.normal(0, 2000, n)
    return np.clip(x, -32768, 32767).astype(np.int16)


def _as_array(result: Any, dtype: Any) -> Any:
    return np.frombuffer(result, dtype) if isinstance(result, bytes) else result


@pytest.mark.parametrize("impl", ENC_IMPLS)
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("law", LAWS)
def test_encode(benchmark: Any, law: str, case: str, impl: str) -> None:
    n = CASES[case]
    fn = _encoder(impl, law, n)
    x = _speech_like(n)
    want = _tables(law)[0][x.view(np.uint16)]
    benchmark.group = f"g711:pcm16_to_{law}-{case}"
    benchmark.extra_info["impl"] = impl
    assert np.array_equal(_as_array(benchmark(fn, x), np.uint8), want)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("law", LAWS)
def test_decode(benchmark: Any, law: str, case: str, impl: str) -> None:
    n = CASES[case]
    fn = _decoder(impl, law, n)
    codes = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8)
    want = _tables(law)[1][codes]
    benchmark.group = f"g711:{law}_to_pcm16-{case}"
    benchmark.extra_info["impl"] = impl
    assert np.array_equal(_as_array(benchmark(fn, codes), np.int16), want)
