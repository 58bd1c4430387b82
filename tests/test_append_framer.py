"""AppendFramer (compiled and twin): app float32 audio to append frames in one call, checked
against the ordinary path (one resampler call, PCM16/G.711 conversion, encode_append)."""

from __future__ import annotations

import base64
import importlib
import json
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtsdk._reference import g711 as ref_g711
from rtsdk._reference.append_framer import MAX_FRAME_SAMPLES
from rtsdk._reference.pcm import float32_to_pcm16
from rtsdk._reference.resample import Resampler as RefResampler
from rtsdk.exceptions import AudioFormatError
from tests.conftest import kernel_params, load_impl

RATES = {"pcm16": 24000, "g711_ulaw": 8000, "g711_alaw": 8000}


@pytest.fixture(scope="module", params=kernel_params("append_framer"))
def af(request: pytest.FixtureRequest) -> ModuleType:
    return load_impl(request)


def resampler(af: ModuleType, rate_in: int, rate_out: int, channels: int = 1) -> Any:
    pkg = af.__name__.rsplit(".", 1)[0]
    return importlib.import_module(f"{pkg}.resample").Resampler(rate_in, rate_out, channels)


def payload(frame: bytes) -> bytes:
    event = json.loads(frame)
    assert list(event) == ["type", "audio"] and event["type"] == "input_audio_buffer.append"
    return base64.b64decode(event["audio"], validate=True)


def as_pcm(fmt: str, audio: bytes) -> np.ndarray:
    if fmt == "pcm16":
        return np.frombuffer(audio, "<i2").astype(np.int32)
    codes = np.frombuffer(audio, np.uint8)
    dec = ref_g711.ulaw_to_pcm16 if fmt == "g711_ulaw" else ref_g711.alaw_to_pcm16
    return dec(codes).astype(np.int32)


@given(
    fmt=st.sampled_from(sorted(RATES)),
    rate=st.sampled_from([16000, 24000, 44100, 48000]),
    sizes=st.lists(st.integers(0, 3000), min_size=1, max_size=10),
    seed=st.integers(0, 2**32 - 1),
)
def test_frames_in_any_chunking_carry_the_one_shot_stream(
    af: ModuleType, fmt: str, rate: int, sizes: list[int], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(sum(sizes)) * 0.3).astype(np.float32)
    framer = af.AppendFramer(fmt, resampler(af, rate, RATES[fmt]))
    got = []
    start = 0
    for n in sizes:
        got.append(payload(framer.frame(x[start : start + n])))
        start += n
    want_pcm = float32_to_pcm16(RefResampler(rate, RATES[fmt]).process(x))
    if fmt == "pcm16":
        want = want_pcm.astype(np.int32)
    else:
        enc = ref_g711.pcm16_to_ulaw if fmt == "g711_ulaw" else ref_g711.pcm16_to_alaw
        want = as_pcm(fmt, enc(want_pcm).tobytes())
    have = as_pcm(fmt, b"".join(got))
    assert have.size == want.size
    # the compiled resampler may round the last float32 bit differently (FMA): one PCM16 step,
    # which G.711 can turn into one code step
    tol = 1 if fmt == "pcm16" else int(np.abs(want).max(initial=0) // 16 + 8)
    assert np.abs(have - want).max(initial=0) <= tol


def test_the_framer_and_the_ordinary_path_share_one_stream(af: ModuleType) -> None:
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(4800) * 0.2).astype(np.float32)
    rs = resampler(af, 48000, 24000)
    framer = af.AppendFramer("pcm16", rs)
    first = payload(framer.frame(x[:960]))
    middle = float32_to_pcm16(rs.process(x[960:2880])).tobytes()  # the ordinary path
    last = payload(framer.frame(x[2880:]))
    want = float32_to_pcm16(RefResampler(48000, 24000).process(x)).astype(np.int32)
    have = np.frombuffer(first + middle + last, "<i2").astype(np.int32)
    assert np.abs(have - want).max() <= 1


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros(10, np.float64),
        np.zeros((10, 1), np.float32),
        np.zeros(20, np.float32)[::2],
        [0.0, 0.1],
        b"\x00\x00",
    ],
    ids=["float64", "2-D", "strided", "list", "bytes"],
)
def test_bad_input_is_refused_and_consumes_nothing(af: ModuleType, bad: object) -> None:
    rs = resampler(af, 48000, 24000)
    framer = af.AppendFramer("pcm16", rs)
    with pytest.raises(AudioFormatError, match="float32"):
        framer.frame(bad)
    x = np.full(960, 0.25, np.float32)
    want = payload(af.AppendFramer("pcm16", resampler(af, 48000, 24000)).frame(x))
    assert payload(framer.frame(x)) == want


def test_an_oversized_frame_is_refused_before_resampling(af: ModuleType) -> None:
    framer = af.AppendFramer("pcm16", resampler(af, 24000, 24000))
    big = np.zeros(MAX_FRAME_SAMPLES + 1, np.float32)
    with pytest.raises(ValueError, match="at most"):
        framer.frame(big)
    assert payload(framer.frame(np.full(4, 0.5, np.float32))) == np.full(4, 16384, "<i2").tobytes()


def test_bad_construction_is_refused_by_name(af: ModuleType) -> None:
    with pytest.raises(ValueError, match="session_format"):
        af.AppendFramer("opus", resampler(af, 48000, 24000))
    with pytest.raises(ValueError, match="mono"):
        af.AppendFramer("pcm16", resampler(af, 48000, 24000, channels=2))
    with pytest.raises(TypeError):
        af.AppendFramer("pcm16", None)


@given(
    fmt=st.sampled_from(sorted(RATES)),
    event_type=st.sampled_from(
        ["session.input_audio.append", "session.input_audio_buffer.append", "x", "A_b.9"]
    ),
    sizes=st.lists(st.integers(0, 2000), min_size=1, max_size=6),
    seed=st.integers(0, 2**32 - 1),
)
def test_typed_frames_differ_from_the_default_only_in_their_type(
    af: ModuleType, fmt: str, event_type: str, sizes: list[int], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(sum(sizes)) * 0.3).astype(np.float32)
    plain = af.AppendFramer(fmt, resampler(af, 48000, RATES[fmt]))
    typed = af.AppendFramer(fmt, resampler(af, 48000, RATES[fmt]), event_type=event_type)
    default = af.AppendFramer(fmt, resampler(af, 48000, RATES[fmt]), event_type=None)
    start = 0
    for n in sizes:
        chunk = x[start : start + n]
        start += n
        want = plain.frame(chunk)
        assert default.frame(chunk) == want
        got = typed.frame(chunk)
        event = json.loads(got)
        assert list(event) == ["type", "audio"] and event["type"] == event_type
        assert got == want.replace(b"input_audio_buffer.append", event_type.encode(), 1)


@pytest.mark.parametrize("bad", ["", "a b", "x" * 65, "caf\u00e9", 3])
def test_a_malformed_event_type_is_refused_at_construction(af: ModuleType, bad: object) -> None:
    with pytest.raises(ValueError, match="event_type"):
        af.AppendFramer("pcm16", resampler(af, 48000, 24000), event_type=bad)


@pytest.mark.parametrize("fmt", sorted(RATES))
def test_append_encoder_passes_its_event_type_through(fmt: str) -> None:
    """The Python-side encoder (rtsdk.audio.encode, live kernels): the same frames but for the
    type, and a malformed type refused when it is made."""
    from rtsdk.audio.encode import AppendEncoder
    from rtsdk.kernels import encode_append

    y = (np.random.default_rng(2).standard_normal(480) * 0.3).astype(np.float32)
    plain = AppendEncoder(fmt).frame(y)
    live = AppendEncoder(fmt, event_type="session.input_audio.append")
    assert live.event_type == "session.input_audio.append"
    got = live.frame(y)
    assert got == plain.replace(b"input_audio_buffer.append", b"session.input_audio.append", 1)
    assert AppendEncoder(fmt, 960).frame(y) == plain
    width = 2 if fmt == "pcm16" else 1
    assert payload(plain) == base64.b64decode(json.loads(got)["audio"])
    assert plain == encode_append(payload(plain), sample_width=width)
    with pytest.raises(ValueError, match="event_type"):
        AppendEncoder(fmt, event_type="session input")
