"""base64 kernels (compiled and twin) against the standard library."""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Iterator
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import kernel_params, load_impl


@pytest.fixture(scope="module", params=kernel_params("b64"))
def b64_impl(request: pytest.FixtureRequest) -> ModuleType:
    return load_impl(request)


@pytest.fixture(scope="module", params=[True, False], ids=["simd", "portable"])
def b64(request: pytest.FixtureRequest, b64_impl: ModuleType) -> Iterator[ModuleType]:
    """The module with its SIMD base64 paths on (when the CPU has them) or forced off."""
    select = getattr(b64_impl, "_set_simd", None)
    if select is None:
        if not request.param:
            pytest.skip("the twin has a single path")
        yield b64_impl
        return
    select(request.param)
    try:
        yield b64_impl
    finally:
        select(True)


def _stdlib(data: bytes | str) -> bytes | None:
    """``base64.b64decode(validate=True)``, or None when it refuses the input."""
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


@given(data=st.binary(max_size=3000))
def test_encode_equals_stdlib_and_round_trips(b64: ModuleType, data: bytes) -> None:
    enc = b64.b64encode(data)
    assert type(enc) is bytes
    assert enc == base64.b64encode(data)
    assert b64.b64decode(enc) == data
    assert b64.b64decode(enc.decode("ascii")) == data
    assert b64.b64decode(bytearray(enc)) == data
    assert b64.b64decode(memoryview(enc)) == data


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 11, 12, 13, 14, 960, 1920, 48000, 70001])
def test_every_buffer_kind(b64: ModuleType, n: int) -> None:
    raw = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8)
    want = base64.b64encode(raw.tobytes())
    assert b64.b64encode(raw) == want
    assert b64.b64encode(memoryview(raw)) == want
    assert b64.b64encode(bytearray(raw.tobytes())) == want
    if n % 2 == 0:
        assert b64.b64encode(raw.view(np.int16)) == want
    assert b64.b64decode(want) == raw.tobytes()


def test_non_contiguous_buffer_is_refused(b64: ModuleType) -> None:
    with pytest.raises((BufferError, ValueError, TypeError)):
        b64.b64encode(np.zeros(20, np.int16)[::2])


def test_short_inputs_agree_with_stdlib_exhaustively(b64: ModuleType) -> None:
    # Every string up to 7 chars over {A, Q, =, !}: padding rules, misplaced '=', bad chars.
    for size in range(8):
        for chars in itertools.product(b"AQ=!", repeat=size):
            text = bytes(chars)
            want = _stdlib(text)
            if want is None:
                with pytest.raises(ValueError):
                    b64.b64decode(text)
            else:
                assert b64.b64decode(text) == want, text


_JUNK = st.sampled_from(["=", "==", "\n", " ", "-", "_", "!", "\x00", "\x7f", "\xff", ".", "A"])


@given(data=st.binary(max_size=200), edits=st.data())
def test_corruptions_raise_exactly_when_stdlib_does(
    b64: ModuleType, data: bytes, edits: st.DataObject
) -> None:
    text = base64.b64encode(data).decode("ascii")
    for _ in range(edits.draw(st.integers(1, 3))):
        kind = edits.draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        i = edits.draw(st.integers(0, len(text)))
        if kind == "insert":
            text = text[:i] + edits.draw(_JUNK) + text[i:]
        elif kind == "delete":
            text = text[:i] + text[i + 1 :]
        elif kind == "replace":
            text = text[:i] + edits.draw(_JUNK) + text[i + 1 :]
        else:
            text = text[:i]
    raw = text.encode("latin-1")
    want = _stdlib(raw)
    for form in (raw, text):
        if want is None:
            with pytest.raises(ValueError) as info:
                b64.b64decode(form)
            assert str(info.value)
        else:
            assert b64.b64decode(form) == want


def test_non_ascii_str_is_refused(b64: ModuleType) -> None:
    with pytest.raises(ValueError, match="ASCII"):
        b64.b64decode("QUJD\u00e9")
    with pytest.raises(ValueError, match="ASCII"):
        b64.b64decode("QUJD\u20ac")


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("QUJ", "padding"),
        ("Q", "multiple of 4"),
        ("QU=D", "alphabet|padding"),
        ("QU?D", "alphabet|base64 data"),
        ("=", "padding"),
    ],
)
def test_error_messages_say_what_is_wrong(b64: ModuleType, text: str, what: str) -> None:
    with pytest.raises(ValueError, match=what):
        b64.b64decode(text)


def test_every_length_across_the_vector_steps(b64: ModuleType) -> None:
    # the SIMD encoder's first step, its 24-byte steps and the scalar tail meet at these lengths
    data = np.random.default_rng(5).integers(0, 256, 200, dtype=np.uint8).tobytes()
    for n in range(len(data) + 1):
        assert b64.b64encode(data[:n]) == base64.b64encode(data[:n]), n
        assert b64.b64decode(base64.b64encode(data[:n])) == data[:n], n


def test_large_input_round_trips(b64: ModuleType) -> None:
    data = np.random.default_rng(7).integers(0, 256, 3 * 1024 * 1024 + 1, np.uint8).tobytes()
    enc = b64.b64encode(data)
    assert enc == base64.b64encode(data)
    assert b64.b64decode(enc) == data


def test_every_byte_value_at_every_lane(b64: ModuleType) -> None:
    # 96 chars: whole 32-char SIMD steps and a portable tail; each position, each byte value.
    text = bytearray(base64.b64encode(bytes(range(72))))
    alphabet = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    for pos in range(0, len(text), 5):
        for value in range(256):
            probe = bytearray(text)
            probe[pos] = value
            if value in alphabet:
                assert b64.b64decode(bytes(probe)) == base64.b64decode(bytes(probe))
            elif value != ord("=") or pos < len(text) - 2:
                with pytest.raises(ValueError):
                    b64.b64decode(bytes(probe))
