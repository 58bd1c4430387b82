"""base64 kernels (compiled and twin) against the standard library."""

from __future__ import annotations

import base64
import binascii
import ctypes
import importlib
import itertools
import json
import mmap
import platform
import sys
from collections.abc import Callable, Iterator
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import NO_EXTENSIONS, kernel_params, load_impl


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


# -- the SIMD paths leave the vector unit as they found it ----------------------------------------


def _machine_code(code: bytes) -> tuple[object, Callable[[], int]]:
    """A function of machine code (x86-64, no arguments, the result in eax) and its page."""
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(code)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(page))
    return page, ctypes.CFUNCTYPE(ctypes.c_uint32)(addr)


@pytest.mark.skipif(NO_EXTENSIONS, reason="RTSDK_NO_EXTENSIONS=1: no compiled kernel")
@pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64") or sys.platform != "linux",
    reason="reads the x86-64 XINUSE state bits (Linux)",
)
def test_avx2_paths_leave_the_upper_vector_halves_clean() -> None:
    """After the AVX2 base64 paths, the upper halves of the vector registers are zeroed again
    (XGETBV(1) bit 2, "YMM state in use", is clear). Left in use, every later SSE instruction in
    the process runs slower: WebRTC's echo canceller took twice as long after each encoded
    append frame."""
    # cpuid(0xd, 1).eax bit 2: XGETBV with ecx=1 is supported (push rbx; cpuid; pop rbx)
    p1, xsave_features = _machine_code(bytes.fromhex("53b80d000000b9010000000fa25bc3"))
    if not xsave_features() & 4:
        pytest.skip("this CPU does not report XINUSE (XGETBV with ecx=1)")
    p2, xinuse = _machine_code(bytes.fromhex("b9010000000f01d0c3"))  # mov ecx,1; xgetbv; ret
    for module in ("b64", "framing", "mediastream"):
        mod = importlib.import_module(f"rtsdk._kernels.{module}")
        if hasattr(mod, "_set_simd") and not mod._set_simd(True):
            pytest.skip("no AVX2 on this CPU: the SIMD paths are off")
    from rtsdk._kernels.b64 import b64decode, b64encode
    from rtsdk._kernels.framing import decode_audio_delta, decode_session_audio_delta, encode_append
    from rtsdk._kernels.mediastream import media_to_append

    pcm = np.arange(960, dtype=np.int16)
    text = base64.b64encode(pcm.tobytes()).decode()
    delta = (
        '{"type":"response.output_audio.delta","response_id":"r","item_id":"i",'
        f'"output_index":0,"content_index":0,"delta":"{text}"}}'
    ).encode()
    session_delta = f'{{"type":"session.output_audio.delta","delta":"{text}"}}'.encode()
    media = json.dumps(
        {
            "event": "media",
            "sequenceNumber": "4",
            "media": {"timestamp": "20", "payload": base64.b64encode(bytes(160)).decode()},
        }
    ).encode()
    calls = {
        "b64encode": lambda: b64encode(pcm.tobytes()),
        "b64decode": lambda: b64decode(text),
        "encode_append": lambda: encode_append(pcm),
        "decode_audio_delta": lambda: decode_audio_delta(delta),
        "decode_session_audio_delta": lambda: decode_session_audio_delta(session_delta),
        "media_to_append": lambda: media_to_append(media),
    }
    for name, call in calls.items():
        assert call() is not None
        assert not xinuse() & 4, f"{name} left the upper vector halves in use"
    del p1, p2
