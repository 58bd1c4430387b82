"""G.711 kernels (compiled and twin): exhaustive against audioop, round trips, bad input."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rtsdk._reference import g711 as g711_py
from rtsdk.exceptions import AudioFormatError
from tests.conftest import kernel_params, load_impl

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)
ALL_CODES = np.arange(256, dtype=np.uint8)


def _audioop() -> Any:
    """The independent oracle: stdlib audioop (3.11/3.12, deprecated) or audioop-lts (3.13+)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop
        except ImportError:
            audioop = pytest.importorskip("audioop")  # audioop-lts installs the same name
    return audioop


@pytest.fixture(scope="module", params=kernel_params("g711"))
def g711(request: pytest.FixtureRequest) -> ModuleType:
    return load_impl(request)


@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_every_sample_and_code_matches_audioop(g711: ModuleType, law: str) -> None:
    ao = _audioop()
    enc = getattr(g711, f"pcm16_to_{law}")
    dec = getattr(g711, f"{law}_to_pcm16")
    codes = enc(ALL_INT16)
    assert codes.dtype == np.uint8 and codes.shape == ALL_INT16.shape
    assert codes.tobytes() == getattr(ao, f"lin2{law}")(ALL_INT16.tobytes(), 2)
    pcm = dec(ALL_CODES)
    assert pcm.dtype == np.int16 and pcm.shape == (256,)
    assert pcm.tobytes() == getattr(ao, f"{law}2lin")(ALL_CODES.tobytes(), 2)
    # ... and the two backends agree (the twin computes from the segment search)
    assert np.array_equal(codes, getattr(g711_py, f"pcm16_to_{law}")(ALL_INT16))
    assert np.array_equal(pcm, getattr(g711_py, f"{law}_to_pcm16")(ALL_CODES))


def test_table_free_encoder_gives_the_same_codes(g711: ModuleType) -> None:
    calc = getattr(g711, "_encode_calc", None)
    if calc is None:
        pytest.skip("the twin has a single coder")
    assert np.array_equal(calc(ALL_INT16, False), g711.pcm16_to_ulaw(ALL_INT16))
    assert np.array_equal(calc(ALL_INT16, True), g711.pcm16_to_alaw(ALL_INT16))


def test_decode_then_encode_round_trip(g711: ModuleType) -> None:
    # A-law has no duplicate: every code survives. u-law has two zeros: 0x7F (-0) and 0xFF
    # (+0) both decode to 0, which encodes as 0xFF. Every other code survives.
    assert np.array_equal(g711.pcm16_to_alaw(g711.alaw_to_pcm16(ALL_CODES)), ALL_CODES)
    back = g711.pcm16_to_ulaw(g711.ulaw_to_pcm16(ALL_CODES))
    changed = np.nonzero(back != ALL_CODES)[0].tolist()
    assert changed == [0x7F]
    assert back[0x7F] == 0xFF
    # Encoding is idempotent through a decode: enc(dec(enc(x))) == enc(x) for every sample.
    for law in ("ulaw", "alaw"):
        enc = getattr(g711, f"pcm16_to_{law}")
        dec = getattr(g711, f"{law}_to_pcm16")
        codes = enc(ALL_INT16)
        assert np.array_equal(enc(dec(codes)), codes)


def test_decoded_values_are_monotonic_and_bounded(g711: ModuleType) -> None:
    # Positive u-law codes 0xFF..0x80 and A-law codes by magnitude increase strictly.
    u = g711.ulaw_to_pcm16(np.arange(0xFF, 0x7F, -1, dtype=np.uint8)).astype(int)
    assert u[0] == 0 and np.all(np.diff(u) > 0) and u[-1] == 32124
    a_codes = (np.arange(128) ^ 0xD5).astype(np.uint8)  # magnitude order, positive sign
    a = g711.alaw_to_pcm16(a_codes).astype(int)
    assert a[0] == 8 and np.all(np.diff(a) > 0) and a[-1] == 32256


@given(x=hnp.arrays(np.int16, st.integers(0, 500)))
def test_backends_agree_on_arrays_and_bytes(g711: ModuleType, x: npt.NDArray[np.int16]) -> None:
    for law in ("ulaw", "alaw"):
        enc = getattr(g711, f"pcm16_to_{law}")
        dec = getattr(g711, f"{law}_to_pcm16")
        codes = enc(x)
        assert np.array_equal(codes, getattr(g711_py, f"pcm16_to_{law}")(x))
        assert np.array_equal(enc(x.tobytes()), codes)
        assert np.array_equal(enc(bytearray(x.tobytes())), codes)
        assert np.array_equal(dec(codes.tobytes()), dec(codes))
        assert np.array_equal(dec(memoryview(codes)), getattr(g711_py, f"{law}_to_pcm16")(codes))


@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_out_and_shape(g711: ModuleType, law: str) -> None:
    enc = getattr(g711, f"pcm16_to_{law}")
    dec = getattr(g711, f"{law}_to_pcm16")
    x = np.random.default_rng(7).integers(-32768, 32768, (480, 2), dtype=np.int16)
    codes = enc(x)
    assert codes.shape == (480, 2)
    out8 = np.full(960, 3, np.uint8)
    assert enc(x, out=out8) is out8
    assert np.array_equal(out8, codes.reshape(-1))
    out16 = np.zeros((480, 2), np.int16)
    assert dec(out8, out=out16) is out16
    assert np.array_equal(out16, dec(codes))
    assert dec(codes).shape == (480, 2)
    assert dec(b"").shape == (0,) and enc(b"").shape == (0,)


Call = Callable[[ModuleType], object]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda m: m.pcm16_to_ulaw(np.zeros(4, np.int32)), "expected int16 samples, got int32"),
        (lambda m: m.pcm16_to_alaw(b"abc"), r"pcm16_to_alaw: .*odd byte count \(3\)"),
        (lambda m: m.pcm16_to_ulaw(np.zeros(8, np.int16)[::2]), "C-contiguous"),
        (lambda m: m.ulaw_to_pcm16(np.zeros(4, np.int16)), "expected uint8 samples, got int16"),
        (lambda m: m.alaw_to_pcm16(np.zeros(4, np.int8)), "expected uint8 samples, got int8"),
        (lambda m: m.alaw_to_pcm16("abc"), "got str"),
        (
            lambda m: m.ulaw_to_pcm16(b"ab", out=np.zeros(2, np.uint8)),
            "out must have dtype int16, got uint8",
        ),
        (
            lambda m: m.pcm16_to_ulaw(b"abcd", out=np.zeros(3, np.uint8)),
            "out has 3 elements, the input has 2 samples",
        ),
    ],
)
def test_bad_input_is_named(g711: ModuleType, call: Call, match: str) -> None:
    with pytest.raises(AudioFormatError, match=match):
        call(g711)
