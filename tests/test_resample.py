"""Resampler: streaming invariance, the twin, the length law, delay, quality figures, soxr."""

from __future__ import annotations

import importlib
import itertools
import math
from fractions import Fraction
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtsdk.exceptions import AudioFormatError, ConfigurationError
from tests.conftest import NO_EXTENSIONS, kernel_params, load_impl

RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000)
PAIRS = [(48000, 24000), (44100, 24000), (24000, 48000), (16000, 24000), (8000, 24000)]


@pytest.fixture(scope="module", params=kernel_params("resample"))
def rs(request: pytest.FixtureRequest) -> ModuleType:
    return load_impl(request)


def _noise(n: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).uniform(-1.0, 1.0, (n, channels)).astype(np.float32)
    return x[:, 0].copy() if channels == 1 else x


def _tone(f: float, fs: int, n: int, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * f * np.arange(n) / fs)).astype(np.float32)


def _fit(y: np.ndarray, f: float, fs: int, delay: float) -> tuple[float, float, float]:
    """Least-squares fit of a sine at f (time shifted by delay): (amplitude, phase, resid rms)."""
    t = np.arange(y.size) / fs - delay
    a = np.stack([np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)], axis=1)
    coef, *_ = np.linalg.lstsq(a, y.astype(np.float64), rcond=None)
    resid = y - a @ coef
    return float(np.hypot(*coef)), float(np.arctan2(coef[1], coef[0])), float(np.std(resid))


def _steady(y: np.ndarray, fs: int, margin_s: float = 0.01) -> slice:
    m = int(margin_s * fs)
    return slice(m, y.size - m)


# -- streaming ---------------------------------------------------------------------------------


@settings(max_examples=40)
@given(
    data=st.data(),
    pair=st.sampled_from([*PAIRS, (96000, 22050), (22050, 22050)]),
    quality=st.sampled_from(["high", "low"]),
    channels=st.integers(1, 3),
    n=st.integers(0, 700),
    last=st.booleans(),
)
def test_any_chunking_equals_one_call_bit_exact(
    rs: ModuleType,
    data: st.DataObject,
    pair: tuple[int, int],
    quality: str,
    channels: int,
    n: int,
    last: bool,
) -> None:
    x = _noise(n, channels, seed=n)
    one = rs.Resampler(*pair, channels, quality).process(x, last=last)
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=8)))
    r = rs.Resampler(*pair, channels, quality)
    bounds = [0, *cuts, n]
    parts = [r.process(x[a:b]) for a, b in itertools.pairwise(bounds)]
    parts.append(r.process(x[n:], last=last))
    got = np.concatenate(parts)
    assert got.dtype == np.float32
    assert got.shape == one.shape
    assert np.array_equal(got, one)


@pytest.mark.parametrize(
    ("pair", "channels"), [((44100, 24000), 2), ((48000, 24000), 1), ((24000, 48000), 1)]
)
def test_one_sample_chunks_equal_one_call(
    rs: ModuleType, pair: tuple[int, int], channels: int
) -> None:
    x = _noise(300, channels, seed=3)
    one = rs.Resampler(*pair, channels).process(x, last=True)
    r = rs.Resampler(*pair, channels)
    parts = [r.process(x[i : i + 1]) for i in range(300)]
    parts.append(r.process(x[:0], last=True))
    assert np.array_equal(np.concatenate(parts), one)


@pytest.mark.parametrize(
    ("pair", "quality"),
    [
        ((48000, 24000), "high"),
        ((96000, 44100), "high"),
        ((24000, 48000), "low"),
        ((24000, 48000), "high"),
        ((8000, 96000), "high"),
    ],
)
@pytest.mark.parametrize("channels", [1, 2])
def test_long_chunks_cross_internal_blocks(
    rs: ModuleType, pair: tuple[int, int], quality: str, channels: int
) -> None:
    # the kernel works through its scratch window in blocks of about 2000 samples
    x = _noise(9000, channels, seed=8)
    one = rs.Resampler(*pair, channels, quality).process(x, last=True)
    r = rs.Resampler(*pair, channels, quality)
    cuts = [0, 1, 2500, 2501, 6000, 9000]
    parts = [r.process(x[a:b]) for a, b in itertools.pairwise(cuts)]
    parts.append(r.process(x[9000:], last=True))
    assert np.array_equal(np.concatenate(parts), one)


def test_reset_restarts_the_stream(rs: ModuleType) -> None:
    x = _noise(500, seed=4)
    r = rs.Resampler(48000, 24000)
    first = r.process(x, last=True)
    with pytest.raises(RuntimeError, match="reset"):
        r.process(x)
    r.reset()
    assert np.array_equal(r.process(x, last=True), first)


def test_mono_as_2d_keeps_its_layout(rs: ModuleType) -> None:
    x = _noise(480, seed=10)
    flat = rs.Resampler(24000, 16000).process(x, last=True)
    col = rs.Resampler(24000, 16000).process(x[:, None].copy(), last=True)
    assert col.shape == (flat.size, 1)
    assert np.array_equal(col[:, 0], flat)


def test_equal_rates_pass_through(rs: ModuleType) -> None:
    x = _noise(333, 2, seed=5)
    r = rs.Resampler(24000, 24000, 2)
    assert r.delay == 0.0
    got = np.concatenate([r.process(x[:100]), r.process(x[100:], last=True)])
    assert np.array_equal(got, x)


@pytest.mark.skipif(NO_EXTENSIONS, reason="RTSDK_NO_EXTENSIONS=1")
@pytest.mark.parametrize("quality", ["high", "low"])
@pytest.mark.parametrize("pair", [*PAIRS, (96000, 8000), (8000, 44100), (16000, 8000)])
@pytest.mark.parametrize("channels", [1, 2])
def test_compiled_matches_twin(pair: tuple[int, int], quality: str, channels: int) -> None:
    cy = importlib.import_module("rtsdk._kernels.resample")
    py = importlib.import_module("rtsdk._reference.resample")
    x = _noise(2000, channels, seed=6)
    a = cy.Resampler(*pair, channels, quality).process(x, last=True)
    b = py.Resampler(*pair, channels, quality).process(x, last=True)
    assert a.shape == b.shape
    # FMA vs separate multiply/add and a different summation order: a few float32 ulps.
    assert np.max(np.abs(a - b)) <= 1e-6


@pytest.mark.skipif(NO_EXTENSIONS, reason="RTSDK_NO_EXTENSIONS=1")
@pytest.mark.parametrize("quality", ["high", "low"])
@pytest.mark.parametrize(
    "pair", [*PAIRS, (96000, 8000), (22050, 96000), (44100, 8000), (16000, 8000), (22050, 44100)]
)
@pytest.mark.parametrize("channels", [1, 2])
def test_portable_kernels_equal_twin_bit_exact(
    pair: tuple[int, int], quality: str, channels: int
) -> None:
    cy = importlib.import_module("rtsdk._kernels.resample")
    py = importlib.import_module("rtsdk._reference.resample")
    x = _noise(1500, channels, seed=7)
    cy._use_portable(True)
    try:
        a = cy.Resampler(*pair, channels, quality).process(x, last=True)
    finally:
        assert cy._use_portable(False) == cy.USES_FMA
    assert np.array_equal(a, py.Resampler(*pair, channels, quality).process(x, last=True))


# -- lengths and delay ----------------------------------------------------------------------


@pytest.mark.parametrize("pair", [*PAIRS, (96000, 22050), (22050, 96000), (32000, 32000)])
@pytest.mark.parametrize("quality", ["high", "low"])
def test_output_length_law(rs: ModuleType, pair: tuple[int, int], quality: str) -> None:
    in_rate, out_rate = pair
    r = rs.Resampler(in_rate, out_rate, quality=quality)
    d_in = Fraction(r.delay).limit_denominator(10**10) * in_rate
    n_in = n_out = 0
    for step, n in enumerate([0, 1, 7, 160, 441, 960, 1]):
        n_in += n
        n_out += r.process(_noise(n, seed=step)).size
        # everything whose input support has arrived, nothing more
        assert n_out == math.ceil(Fraction(n_in * out_rate, in_rate))
    n_out += r.process(_noise(5, seed=9), last=True).size
    n_in += 5
    assert n_out == math.ceil((n_in + d_in) * Fraction(out_rate, in_rate))
    r.reset()
    assert r.process(np.zeros(0, np.float32), last=True).size == 0


@pytest.mark.parametrize("pair", [*PAIRS, (22050, 44100), (96000, 48000)])
@pytest.mark.parametrize("quality", ["high", "low"])
def test_delay_is_the_measured_group_delay(
    rs: ModuleType, pair: tuple[int, int], quality: str
) -> None:
    in_rate, out_rate = pair
    r = rs.Resampler(in_rate, out_rate, quality=quality)
    assert 0.0 < r.delay <= (0.002 if quality == "high" else 0.001)
    f = 437.0
    y = r.process(_tone(f, in_rate, in_rate // 5))
    seg = _steady(y, out_rate)
    amp, phase, _ = _fit(y[seg], f, out_rate, r.delay - seg.start / out_rate)
    assert amp == pytest.approx(0.5, rel=1e-3)
    # a pure sine delayed by exactly `delay` fits with zero phase
    assert abs(phase) / (2 * np.pi * f) < 1e-7


# -- quality figures (48k -> 24k) --------------------------------------------------------------


def _sinad_db(rs: ModuleType, pair: tuple[int, int], quality: str, f: float = 997.0) -> float:
    in_rate, out_rate = pair
    r = rs.Resampler(in_rate, out_rate, quality=quality)
    y = r.process(_tone(f, in_rate, in_rate // 4))
    seg = _steady(y, out_rate)
    amp, _, resid = _fit(y[seg], f, out_rate, r.delay - seg.start / out_rate)
    return 20 * math.log10(amp / math.sqrt(2) / resid)


def _gain_db(rs: ModuleType, pair: tuple[int, int], quality: str, f: float) -> float:
    in_rate, out_rate = pair
    r = rs.Resampler(in_rate, out_rate, quality=quality)
    y = r.process(_tone(f, in_rate, in_rate // 10))
    seg = _steady(y, out_rate)
    return 20 * math.log10(np.sqrt(2) * np.std(y[seg].astype(np.float64)) / 0.5)


@pytest.mark.parametrize(("quality", "sinad", "reject", "flat_hz"), [
    ("high", 100.0, 100.0, 10000.0),
    ("low", 75.0, 75.0, 9000.0),
])  # fmt: skip
def test_quality_figures_48k_to_24k(
    rs: ModuleType, quality: str, sinad: float, reject: float, flat_hz: float
) -> None:
    pair = (48000, 24000)
    assert _sinad_db(rs, pair, quality) >= sinad
    # 21 kHz would alias to 3 kHz: it must be gone
    assert _gain_db(rs, pair, quality, 21000.0) <= -reject
    for f in (100.0, 1000.0, 5000.0, 8000.0, flat_hz):
        assert abs(_gain_db(rs, pair, quality, f)) <= 0.1, f


@pytest.mark.parametrize(("pair", "fold_from", "flat_hz"), [
    ((48000, 24000), 13800.0, 10800.0),
    ((96000, 48000), 27600.0, 21600.0),
    ((16000, 8000), 4950.0, 3400.0),
])  # fmt: skip
def test_factor_two_folds_only_above_the_passband(
    rs: ModuleType, pair: tuple[int, int], fold_from: float, flat_hz: float
) -> None:
    # The half-band mirrors about the output Nyquist fn: a tone at f >= fold_from would land at
    # 2 fn - f <= clean, and is >= 100 dB down; up to clean the passband is flat to 1e-5.
    fn = pair[1] / 2
    clean = 2 * fn - fold_from
    for f in (fold_from, 0.5 * (fold_from + pair[0] / 2), 0.9 * pair[0] / 2):
        assert _gain_db(rs, pair, "high", f) <= -100.0, f
    for f in (0.25 * clean, clean):
        assert abs(_gain_db(rs, pair, "high", f)) <= 1e-3, f
    assert abs(_gain_db(rs, pair, "high", flat_hz)) <= 0.1
    assert -6.02 < _gain_db(rs, pair, "high", 0.97 * fn) < -0.1  # the transition band


@pytest.mark.parametrize(("pair", "f"), [
    ((24000, 48000), 10200.0), ((24000, 48000), 997.0), ((8000, 16000), 3000.0),
])  # fmt: skip
def test_factor_two_up_images_are_gone(rs: ModuleType, pair: tuple[int, int], f: float) -> None:
    # Up by 2, a tone at f has an image at in_rate - f: the residual after the tone's fit.
    assert _sinad_db(rs, pair, "high", f) >= 100.0


@pytest.mark.parametrize("pair", [(44100, 24000), (16000, 24000), (24000, 48000), (8000, 24000)])
def test_high_quality_sinad_other_pairs(rs: ModuleType, pair: tuple[int, int]) -> None:
    assert _sinad_db(rs, pair, "high") >= 100.0


# -- soxr as an independent oracle -------------------------------------------------------------


@pytest.mark.parametrize("pair", [(48000, 24000), (44100, 24000), (24000, 48000)])
def test_agrees_with_soxr_after_delay_alignment(rs: ModuleType, pair: tuple[int, int]) -> None:
    soxr = pytest.importorskip("soxr")
    in_rate, out_rate = pair
    freqs = (211.0, 1234.0, 3001.0, 7013.0)
    n = in_rate // 5
    t = np.arange(n) / in_rate
    x = sum(0.2 * np.sin(2 * np.pi * f * t + i) for i, f in enumerate(freqs)).astype(np.float32)
    ref = soxr.resample(x, in_rate, out_rate, quality="VHQ")  # delay-compensated one-shot
    r = rs.Resampler(in_rate, out_rate)
    y = r.process(x)
    # model soxr's output as the tones, then evaluate the model `delay` later
    ts = np.arange(ref.size) / out_rate
    seg = _steady(ref, out_rate)
    basis = np.concatenate(
        [[np.sin(2 * np.pi * f * ts), np.cos(2 * np.pi * f * ts)] for f in freqs]
    ).T
    coef, *_ = np.linalg.lstsq(basis[seg], ref[seg].astype(np.float64), rcond=None)
    to = np.arange(y.size) / out_rate - r.delay
    shifted = np.concatenate(
        [[np.sin(2 * np.pi * f * to), np.cos(2 * np.pi * f * to)] for f in freqs]
    ).T
    pred = shifted @ coef
    segy = _steady(y, out_rate)
    err = np.max(np.abs(y[segy] - pred[segy]))
    assert err < 1e-5  # about -100 dB; measured about 6e-7


# -- every pair ---------------------------------------------------------------------------------


@pytest.mark.parametrize("in_rate", RATES)
@pytest.mark.parametrize("quality", ["high", "low"])
def test_every_pair_runs_with_unit_dc_gain(rs: ModuleType, in_rate: int, quality: str) -> None:
    for out_rate in RATES:
        r = rs.Resampler(in_rate, out_rate, quality=quality)
        assert (r.in_rate, r.out_rate, r.channels, r.quality) == (in_rate, out_rate, 1, quality)
        y = r.process(np.full(in_rate // 50, 0.5, np.float32), last=True)
        assert y.dtype == np.float32
        skip = int(2 * r.delay * out_rate) + 1
        core = y[skip : y.size - skip]
        assert core.size > 0
        assert np.max(np.abs(core - 0.5)) < 1e-4, (in_rate, out_rate)


# -- validation ------------------------------------------------------------------------------


def test_bad_arguments(rs: ModuleType) -> None:
    with pytest.raises(AudioFormatError, match=r"in_rate 44000 Hz.*8000, 16000, 22050"):
        rs.Resampler(44000, 24000)
    with pytest.raises(AudioFormatError, match=r"out_rate 11025"):
        rs.Resampler(48000, 11025)
    with pytest.raises(AudioFormatError, match="channels must be >= 1, got 0"):
        rs.Resampler(48000, 24000, 0)
    with pytest.raises(ConfigurationError, match="quality"):
        rs.Resampler(48000, 24000, 1, "ultra")


def test_bad_samples(rs: ModuleType) -> None:
    r = rs.Resampler(48000, 24000, 2)
    with pytest.raises(AudioFormatError, match="float64"):
        r.process(np.zeros((4, 2)))
    with pytest.raises(AudioFormatError, match="3 channels, the resampler has 2"):
        r.process(np.zeros((4, 3), np.float32))
    with pytest.raises(AudioFormatError, match="1-D"):
        r.process(np.zeros(4, np.float32))
    with pytest.raises(AudioFormatError, match="contiguous"):
        r.process(np.zeros((2, 8), np.float32).T)
    with pytest.raises(AudioFormatError, match="ndarray"):
        r.process([0.0, 0.0])
    m = rs.Resampler(48000, 24000)
    with pytest.raises(AudioFormatError, match="contiguous"):
        m.process(np.zeros(8, np.float32)[::2])
    with pytest.raises(AudioFormatError, match="int16"):
        m.process(np.zeros(8, np.int16))
    # a failed call consumed nothing
    assert np.array_equal(
        m.process(_noise(100), last=True), rs.Resampler(48000, 24000).process(_noise(100), True)
    )


@pytest.mark.skipif(NO_EXTENSIONS, reason="RTSDK_NO_EXTENSIONS=1")
def test_compiled_docstring_states_the_same_figures() -> None:
    cy = importlib.import_module("rtsdk._kernels.resample")
    py = importlib.import_module("rtsdk._reference.resample")
    assert py.Resampler.__doc__
    cy_doc = " ".join((cy.Resampler.__doc__ or "").split())
    for line in py.Resampler.__doc__.splitlines():
        assert " ".join(line.split()) in cy_doc


def test_properties_are_read_only(rs: ModuleType) -> None:
    r = rs.Resampler(44100, 24000, 2, "low")
    with pytest.raises(AttributeError):
        r.in_rate = 48000
    assert (r.in_rate, r.out_rate, r.channels, r.quality) == (44100, 24000, 2, "low")
    assert isinstance(r.delay, float)
