"""float32 <-> PCM16 kernels (compiled and twin): exhaustive tables, properties, bad input."""

from __future__ import annotations

import itertools
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rtsdk._reference import pcm as pcm_py
from rtsdk.exceptions import AudioFormatError
from tests.conftest import kernel_params, load_impl

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)


@pytest.fixture(scope="module", params=kernel_params("pcm"))
def pcm(request: pytest.FixtureRequest) -> ModuleType:
    return load_impl(request)


def _formula(x: npt.NDArray[np.float32]) -> npt.NDArray[np.int16]:
    """The contract written out plainly, one sample at a time in float64 (exact for float32)."""
    out = np.empty(x.shape, np.int16)
    for i, v in enumerate(x.reshape(-1).tolist()):
        if v != v:
            r = 0
        else:
            y = v * 32768.0
            r = int(min(max(np.rint(y), -32768.0), 32767.0)) if abs(y) != float("inf") else 0
            if y == float("inf"):
                r = 32767
            elif y == float("-inf"):
                r = -32768
        out.reshape(-1)[i] = r
    return out


def test_pcm16_to_float32_is_exact_and_inverted_for_every_value(pcm: ModuleType) -> None:
    f = pcm.pcm16_to_float32(ALL_INT16)
    assert f.dtype == np.float32 and f.shape == ALL_INT16.shape
    assert np.array_equal(f, ALL_INT16.astype(np.float64) / 32768.0)
    back = pcm.float32_to_pcm16(f)
    assert back.dtype == np.int16
    assert np.array_equal(back, ALL_INT16)
    assert np.array_equal(pcm.pcm16_to_float32(ALL_INT16.tobytes()), f)


def test_backends_agree_on_every_half_step(pcm: ModuleType) -> None:
    # Every k / 65536 for k in the int16 range doubled: integers and exact ties (k odd), plus
    # values just outside the range.
    x = (np.arange(-65540, 65540, dtype=np.float64) / 65536.0).astype(np.float32)
    got = pcm.float32_to_pcm16(x)
    assert np.array_equal(got, pcm_py.float32_to_pcm16(x))
    assert np.array_equal(got, _formula(x))
    # ties go to even: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2
    ties = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 32766.5, -32767.5], np.float32) / 32768
    assert pcm.float32_to_pcm16(ties).tolist() == [0, 2, 2, 0, -2, 32766, -32768]


def test_special_values_and_clipping(pcm: ModuleType) -> None:
    x = np.array(
        [
            np.nan,
            -np.nan,
            np.inf,
            -np.inf,
            1.0,
            -1.0,
            0.99999,
            1.00001,
            -1.00001,
            3e38,
            -3e38,
            1e-45,
            -1e-45,
            1.2e-38,
            32767.4 / 32768,
            32767.5 / 32768,
            -32768.5 / 32768,
        ],
        np.float32,
    )
    want = [
        0,
        0,
        32767,
        -32768,
        32767,
        -32768,
        32767,
        32767,
        -32768,
        32767,
        -32768,
        0,
        0,
        0,
        32767,
        32767,
        -32768,
    ]
    assert pcm.float32_to_pcm16(x).tolist() == want


float32_arrays = hnp.arrays(
    np.float32,
    hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=40),
    elements=st.floats(width=32, allow_nan=True, allow_infinity=True, allow_subnormal=True),
)


@given(x=float32_arrays)
def test_float32_to_pcm16_equals_formula(pcm: ModuleType, x: npt.NDArray[np.float32]) -> None:
    got = pcm.float32_to_pcm16(x)
    assert got.shape == x.shape and got.dtype == np.int16
    assert np.array_equal(got, _formula(x))
    assert np.array_equal(got, pcm_py.float32_to_pcm16(x))


@given(x=hnp.arrays(np.int16, st.integers(0, 300)))
def test_pcm16_round_trip_through_bytes(pcm: ModuleType, x: npt.NDArray[np.int16]) -> None:
    f = pcm.pcm16_to_float32(bytearray(x.tobytes()))
    assert f.shape == x.shape
    assert np.array_equal(pcm.float32_to_pcm16(f), x)
    assert np.array_equal(pcm.pcm16_to_float32(memoryview(x.tobytes())), f)


def test_out_is_filled_and_returned(pcm: ModuleType) -> None:
    x = np.linspace(-1.2, 1.2, 960, dtype=np.float32).reshape(480, 2)
    out16 = np.full(960, 7, np.int16)
    r = pcm.float32_to_pcm16(x, out=out16)
    assert r is out16
    assert np.array_equal(out16, pcm.float32_to_pcm16(x).reshape(-1))
    out32 = np.zeros((480, 2), np.float32)
    assert pcm.pcm16_to_float32(out16, out=out32) is out32
    assert np.array_equal(out32.reshape(-1), out16 / np.float32(32768))
    # reuse: a second call overwrites
    pcm.float32_to_pcm16(np.zeros_like(x), out=out16)
    assert not out16.any()


def test_shape_is_kept(pcm: ModuleType) -> None:
    x = np.zeros((480, 2), np.float32)
    assert pcm.float32_to_pcm16(x).shape == (480, 2)
    assert pcm.pcm16_to_float32(np.zeros((3, 4, 2), np.int16)).shape == (3, 4, 2)
    assert pcm.float32_to_pcm16(np.array(0.5, np.float32)).shape == ()
    assert pcm.pcm16_to_float32(b"").shape == (0,)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda m: m.float32_to_pcm16(np.zeros(4)), "expected float32 samples, got float64"),
        (lambda m: m.float32_to_pcm16([0.0]), "expected a numpy float32 array, got list"),
        (lambda m: m.float32_to_pcm16(b"\0" * 8), "expected a numpy float32 array, got bytes"),
        (lambda m: m.float32_to_pcm16(np.zeros(8, np.float32)[::2]), "C-contiguous"),
        (lambda m: m.float32_to_pcm16(np.zeros(4, ">f4")), "expected float32 samples, got >f4"),
        (lambda m: m.pcm16_to_float32(np.zeros(4, np.int32)), "expected int16 samples, got int32"),
        (lambda m: m.pcm16_to_float32(b"abc"), r"odd byte count \(3\)"),
        (lambda m: m.pcm16_to_float32("abcd"), "got str"),
        (lambda m: m.pcm16_to_float32(np.zeros(8, np.int16)[::2]), "C-contiguous"),
        (lambda m: m.pcm16_to_float32(memoryview(b"abcd")[::2]), "C-contiguous"),
        (
            lambda m: m.float32_to_pcm16(np.zeros(4, np.float32), out=np.zeros(4, np.int32)),
            "out must have dtype int16, got int32",
        ),
        (
            lambda m: m.float32_to_pcm16(np.zeros(4, np.float32), out=np.zeros(5, np.int16)),
            "out has 5 elements, the input has 4 samples",
        ),
        (
            lambda m: m.pcm16_to_float32(b"abcd", out=np.zeros(4, np.float32)[::2]),
            "out must be C-contiguous",
        ),
        (
            lambda m: m.pcm16_to_float32(b"abcd", out=bytearray(8)),
            "out must be a numpy float32 array, got bytearray",
        ),
    ],
)
def test_bad_input_is_named(pcm: ModuleType, call: object, match: str) -> None:
    with pytest.raises(AudioFormatError, match=match):
        call(pcm)  # type: ignore[operator]


def test_read_only_out_is_refused(pcm: ModuleType) -> None:
    out = np.zeros(2, np.float32)
    out.setflags(write=False)
    with pytest.raises(AudioFormatError, match="out is read-only"):
        pcm.pcm16_to_float32(b"abcd", out=out)
    assert issubclass(AudioFormatError, ValueError)


@given(
    x=hnp.arrays(np.float32, st.integers(0, 200), elements=st.floats(-2, 2, width=32)),
    cuts=st.lists(st.integers(0, 200), max_size=5),
)
def test_chunked_into_out_slices_equals_one_shot(
    pcm: ModuleType, x: npt.NDArray[np.float32], cuts: list[int]
) -> None:
    whole = pcm.float32_to_pcm16(x)
    out = np.empty(x.size, np.int16)
    edges = sorted({0, x.size, *(c for c in cuts if c <= x.size)})
    for lo, hi in itertools.pairwise(edges):
        pcm.float32_to_pcm16(x[lo:hi], out=out[lo:hi])
    assert np.array_equal(out, whole)
    back = np.empty(x.size, np.float32)
    for lo, hi in itertools.pairwise(edges):
        pcm.pcm16_to_float32(whole[lo:hi].tobytes(), out=back[lo:hi])
    assert np.array_equal(back, pcm.pcm16_to_float32(whole))
