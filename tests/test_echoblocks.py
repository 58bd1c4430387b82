"""Echo stage block kernel (EchoMeter, TailGuard): the twin, streaming, bounds, bad input."""

from __future__ import annotations

import importlib
import itertools
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtsdk.exceptions import AudioFormatError
from tests.conftest import NO_EXTENSIONS, kernel_params, load_impl

F32 = np.float32
Signals = tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]


@pytest.fixture(scope="module", params=kernel_params("echoblocks"))
def eb(request: pytest.FixtureRequest) -> ModuleType:
    return load_impl(request)


def room(seed: int, block: int, blocks: int, delay: int, coupling: float, leak: float) -> Signals:
    """A reference in bursts with pauses, its echo ``delay`` blocks later at ``coupling`` (power),
    room noise, and a "canceller output" that keeps ``leak`` of the echo while the reference
    plays and all of its tail."""
    rng = np.random.default_rng(seed)
    n = block * blocks
    ref = rng.standard_normal(n) * 0.3
    on = np.zeros(blocks, dtype=bool)
    pos = int(rng.integers(0, 20))
    while pos < blocks:
        length = int(rng.integers(5, 60))
        on[pos : pos + length] = True
        pos += length + int(rng.integers(5, 70))
    ref *= np.repeat(on, block)
    d = min(delay * block, n)
    echo = np.zeros(n)
    echo[d:] = ref[: n - d] * np.sqrt(coupling)
    # a short tail: the echo rings on for a few blocks after the reference stops
    for k in range(1, 4):
        echo[d + k * block :] += 0.3**k * ref[: max(0, n - d - k * block)] * np.sqrt(coupling)
    mic = echo + rng.standard_normal(n) * 1e-3
    playing = np.repeat(on, block)
    out = np.where(playing, leak * echo, echo) + (mic - echo)
    return ref.astype(F32), mic.astype(F32), out.astype(F32)


def cuts(draw: st.DrawFn, blocks: int) -> list[int]:
    """Cut points (in blocks) of a signal into calls: any sizes, empty calls included."""
    sizes = draw(st.lists(st.integers(0, 40), max_size=30))
    out, pos = [0], 0
    for s in sizes:
        pos = min(blocks, pos + s)
        out.append(pos)
    out.append(blocks)
    return out


@st.composite
def rooms(draw: st.DrawFn) -> tuple[int, Signals, list[int], dict[str, Any]]:
    block = draw(st.sampled_from([1, 3, 16, 80]))
    blocks = draw(st.integers(1, 260))
    sig = room(
        draw(st.integers(0, 2**31)),
        block,
        blocks,
        draw(st.integers(1, 20)),
        draw(st.sampled_from([0.01, 0.1, 0.5])),
        draw(st.sampled_from([0.003, 0.03, 0.3, 1.0])),
    )
    kw = {
        "warmup_ms": draw(st.sampled_from([0, 100, 1000])),
        "default_lead_ms": draw(st.sampled_from([20, 150, 600])),
        "rt60": draw(st.sampled_from([0.2, 0.4])),
    }
    return block, sig, cuts(draw, blocks), kw


def run_meter(
    mod: ModuleType, block: int, sig: Signals, at: list[int], kw: dict[str, Any], guard: bool
) -> tuple[npt.NDArray[np.float32], Any]:
    ref, mic, out = sig
    y = out.copy()
    meter = mod.EchoMeter(block, mod.TailGuard(block, **kw) if guard else None)
    for a, b in itertools.pairwise(at):
        s = slice(a * block, b * block)
        meter.measure(mic[s], ref[s], y[s])
    return y, meter


def state(meter: Any) -> tuple[Any, ...]:
    g = meter.guard
    gs = (
        () if g is None else (g.guarded_blocks, g.lead, g.lead_lo, g.lead_hi, g.lead_ms, g.coupling)
    )
    return (meter.mic_power, meter.out_power, meter.active_blocks, *gs)


@settings(max_examples=60)
@given(case=rooms(), guard=st.booleans())
def test_any_chunking_equals_one_call(
    eb: ModuleType, case: tuple[int, Signals, list[int], dict[str, Any]], guard: bool
) -> None:
    block, sig, at, kw = case
    blocks = sig[0].size // block
    y1, m1 = run_meter(eb, block, sig, [0, blocks], kw, guard)
    y2, m2 = run_meter(eb, block, sig, at, kw, guard)
    np.testing.assert_array_equal(y1, y2)
    # the guard and the count do not depend on the calls; the ERLE powers are smoothed per call
    assert state(m1)[2:] == state(m2)[2:]
    assert (m2.mic_power, m2.out_power) == pytest.approx(erle_powers(block, sig, at), rel=1e-9)


def erle_powers(block: int, sig: Signals, at: list[int]) -> tuple[float, float]:
    """The smoothed powers, computed here: per call, the mean over its blocks with the reference
    audible, smoothed with weight 0.02 (the first such call sets them)."""
    ref, mic, out = (x.reshape(-1, block).astype(np.float64) for x in sig)
    e_ref, e_mic, e_out = (np.mean(x * x, axis=1) for x in (ref, mic, out))
    pm = po = 0.0
    for a, b in itertools.pairwise(at):
        on = e_ref[a:b] > 1e-6
        if on.any():
            w = 0.02 if pm > 0.0 else 1.0
            pm += w * (float(np.mean(e_mic[a:b][on])) - pm)
            po += w * (float(np.mean(e_out[a:b][on])) - po)
    return pm, po


@settings(max_examples=60)
@given(case=rooms(), guard=st.booleans())
def test_bounds(
    eb: ModuleType, case: tuple[int, Signals, list[int], dict[str, Any]], guard: bool
) -> None:
    block, sig, at, kw = case
    ref, mic, out = sig
    blocks = ref.size // block
    y, m = run_meter(eb, block, sig, at, kw, guard)
    a, b = np.abs(out.astype(np.float64)), np.abs(y.astype(np.float64))
    if guard and m.guard.mic_blocks:
        # blocks sent from the microphone (and the ramps into and out of them): a mix of the
        # two, each weighed at most 1
        assert np.all(b <= (a + np.abs(mic.astype(np.float64))) * (1 + 1e-6))
    else:
        # a gain between the guard's floor and 1 on every sample; nothing else changes
        assert np.all(b <= a * (1 + 1e-6))
        floor = 10 ** (-30 / 20)
        assert np.all(b >= a * floor * (1 - 1e-6))
    if not guard:
        np.testing.assert_array_equal(y, out)
    assert 0 <= m.active_blocks <= blocks
    assert m.mic_power >= 0.0 and m.out_power >= 0.0
    audible = ref.reshape(-1, block).astype(np.float64)
    audible = np.einsum("ij,ij->i", audible, audible) / block > 1e-6
    assert m.active_blocks == int(audible.sum())
    if guard:
        g = m.guard
        assert 0 <= g.guarded_blocks <= blocks
        assert 0 <= g.mic_blocks <= g.user_blocks <= blocks
        assert 2 <= g.lead <= 60 and g.lead_ms == 10 * g.lead
        assert 2 <= g.lead_lo <= g.lead <= g.lead_hi <= 60
        assert g.coupling > 0.0
        if not audible.any():  # no reference: nothing to guard against
            np.testing.assert_array_equal(y, out)


@pytest.mark.skipif(NO_EXTENSIONS, reason="RTSDK_NO_EXTENSIONS=1: no compiled kernel")
@settings(max_examples=80)
@given(case=rooms(), guard=st.booleans())
def test_compiled_matches_twin(
    case: tuple[int, Signals, list[int], dict[str, Any]], guard: bool
) -> None:
    block, sig, at, kw = case
    cy = importlib.import_module("rtsdk._kernels.echoblocks")
    py = importlib.import_module("rtsdk._reference.echoblocks")
    y1, m1 = run_meter(cy, block, sig, at, kw, guard)
    y2, m2 = run_meter(py, block, sig, at, kw, guard)
    # the same gains (the block energies are double sums that may round apart in the last bit)
    np.testing.assert_allclose(y1, y2, rtol=1e-6, atol=0)
    s1, s2 = state(m1), state(m2)
    assert s1[2:] == pytest.approx(s2[2:], rel=1e-9)
    assert s1[:2] == pytest.approx(s2[:2], rel=1e-9)


def test_meter_guard_is_the_guard_alone(eb: ModuleType) -> None:
    block = 160
    ref, mic, out = room(3, block, 300, 8, 0.1, 0.03)
    y1, m = run_meter(eb, block, (ref, mic, out), list(range(0, 301, 2)), {}, True)
    g = eb.TailGuard(block)
    y2 = out.copy()
    for i in range(0, y2.size, 2 * block):
        g.process(mic[i : i + 2 * block], ref[i : i + 2 * block], y2[i : i + 2 * block])
    np.testing.assert_array_equal(y1, y2)
    assert g.guarded_blocks == m.guard.guarded_blocks > 0
    assert (g.lead, g.coupling) == (m.guard.lead, m.guard.coupling)


def test_the_guard_learns_the_room(eb: ModuleType) -> None:
    """On a room with an echo 8 blocks late at -10 dB: the lead measured (+2 blocks), the
    coupling learnt, the tails held down."""
    block = 160
    ref, mic, out = room(5, block, 600, 8, 0.1, 0.01)
    y, m = run_meter(eb, block, (ref, mic, out), [0, 600], {"warmup_ms": 0}, True)
    # the tails (the echo the fake canceller lets through whole after each burst), once the
    # lead is known (after 2 s): the blocks no louder than the predicted echo are held down by
    # 30 dB (about half of them here, where the tail is as loud as the prediction)
    e_ref, e_out, e_y = (
        np.mean(x.reshape(-1, block).astype(np.float64) ** 2, axis=1) for x in (ref, out, y)
    )
    tails = (e_ref < 1e-9) & (e_out > 1e-4)
    tails[:200] = False
    assert tails.sum() > 20
    assert 10 * np.log10(e_out[tails].sum() / e_y[tails].sum()) > 3.0
    assert np.count_nonzero(e_y[tails] < 2e-3 * e_out[tails]) > tails.sum() // 3
    g = m.guard
    assert g.lead in (9, 10, 11)
    assert -13.0 < 10 * np.log10(g.coupling) < -7.0
    assert 0 < g.guarded_blocks < 600
    assert m.mic_power / m.out_power > 10.0  # the fake canceller's 40 dB, less its leaks
    assert "TailGuard lead=" in repr(g)


def jittery_room(seed: int, block: int, blocks: int, delays: tuple[int, ...]) -> Signals:
    """Bursts of low-passed reference whose echo arrives after a delay that changes from burst
    to burst (a sound server's timestamps jitter by a quantum or two), at -10 dB, its first 3
    blocks with a broadband crackle beside them (a small speaker's onset), and a "canceller"
    that leaks those 3 blocks whole and 1 % of the rest."""
    rng = np.random.default_rng(seed)
    n = block * blocks
    ref = np.zeros(n)
    mic = rng.standard_normal(n) * 1e-3
    out = mic.copy()
    pos = 10
    while pos < blocks - 60:
        length = int(rng.integers(8, 40))
        burst = np.convolve(rng.standard_normal(length * block), np.ones(8) / 8, "same")
        burst[:block] *= 0.1  # a word's onset: its first block 20 dB under the rest
        ref[pos * block : (pos + length) * block] = burst
        at = (pos + int(rng.choice(delays))) * block
        echo = burst * np.sqrt(0.1)
        echo[: 3 * block] += rng.standard_normal(3 * block) * 0.5 * float(np.std(echo))
        mic[at : at + echo.size] += echo
        leak = np.full(echo.size, 0.01)
        leak[: 3 * block] = 1.0
        out[at : at + echo.size] += leak * echo
        pos += length + int(rng.integers(15, 50))
    return ref.astype(F32), mic.astype(F32), out.astype(F32)


def test_onsets_held_whatever_the_arrivals_jitter(eb: ModuleType) -> None:
    """Echo onsets the canceller leaks whole stay held when the echo arrives 9 or 13 blocks
    after its reference: the guard covers the spread of recent arrivals, not only their
    median (with the median alone, the early arrivals' onsets pass)."""
    block = 160
    ref, mic, out = jittery_room(4, block, 1500, (9, 13, 13))
    y, m = run_meter(eb, block, (ref, mic, out), list(range(0, 1501, 2)), {}, True)
    g = m.guard
    assert g.lead_lo <= 12 and g.lead_hi >= 14 and g.lead_lo < g.lead <= g.lead_hi
    e_mic, e_out, e_y = (
        np.mean(x.reshape(-1, block).astype(np.float64) ** 2, axis=1) for x in (mic, out, y)
    )
    # the onset blocks let through whole by the "canceller" (the room's noise is 1e-6)
    leaks = (e_out > 0.1 * e_mic) & (e_mic > 1e-4)
    leaks[:300] = False  # after the warm-up and the first arrivals
    assert leaks.sum() > 30
    assert np.all(e_y[leaks] < 1e-2 * e_out[leaks]), np.flatnonzero(
        e_y[leaks] >= 1e-2 * e_out[leaks]
    )


def held_down_room(block: int, user_db: float | None, *, timed: bool = True) -> tuple[Signals, int]:
    """Bursts of reference with pauses (their onsets time the echo's arrival; not ``timed``: the
    reference plays from the first block, before the room was heard, and nothing can be timed),
    then a long reply; its echo 10 blocks late at -3 dB; a user ``user_db`` over the
    echo from block 600 to 660 (None: nobody); and a "canceller" that takes 40 dB out of
    everything while the reference plays, the user included (a suppressor that took them for
    echo), and passes the pauses whole. ``(signals, the user's first block)``."""
    rng = np.random.default_rng(11)
    blocks = 800
    on = np.zeros(blocks, dtype=bool)
    if timed:
        for start in range(40, 340, 50):
            on[start : start + 25] = True
    on[400 if timed else 0 : 760] = True
    n = blocks * block
    ref = rng.standard_normal(n) * 0.2 * np.repeat(on, block)
    echo = np.zeros(n)
    echo[10 * block :] = ref[: n - 10 * block] * np.sqrt(0.5)
    user = np.zeros(n)
    if user_db is not None:
        part = rng.standard_normal(60 * block)
        part *= np.sqrt(np.mean(echo[500 * block : 600 * block] ** 2) * 10 ** (user_db / 10))
        user[600 * block : 660 * block] = part
    noise = rng.standard_normal(n) * 1e-3
    mic = echo + user + noise
    playing = np.repeat(on, block)
    out = np.where(playing, 0.01 * (echo + user), echo + user) + noise
    return (ref.astype(F32), mic.astype(F32), out.astype(F32)), 600


def test_a_user_the_canceller_holds_down_is_sent_from_the_microphone(eb: ModuleType) -> None:
    """The user 8 dB over the echo, whom the canceller's suppressor takes 40 dB out of: after 4
    blocks of that evidence the guard sends the microphone (less the echo's share) while it
    lasts; the echo alone is never sent so, nor anything before the echo's arrival was timed."""
    block = 160
    runs = {}
    cases = (("user", 8.0, True), ("echo", None, True), ("untimed", 8.0, False))
    for name, user_db, timed in cases:
        (ref, mic, out), first = held_down_room(block, user_db, timed=timed)
        y, m = run_meter(eb, block, (ref, mic, out), list(range(0, 801, 2)), {}, True)
        runs[name] = (mic, out, y, m.guard)
    mic, out, y, g = runs["user"]
    e_mic, e_out, e_y = (
        np.mean(x.reshape(-1, block).astype(np.float64) ** 2, axis=1) for x in (mic, out, y)
    )
    assert g.mic_blocks > 40
    # blocks within 10 dB of the microphone during the reply (the fake canceller's 40 dB)
    sent = 420 + np.flatnonzero(e_y[420:760] > 0.1 * e_mic[420:760])
    assert sent[0] in range(first + 3, first + 5), sent[:5]  # from the fourth block of evidence
    talk = slice(first + 5, first + 58)
    assert np.all(e_y[talk] > 0.5 * e_mic[talk])
    # the echo's share taken off: sent a little under the microphone, far over the canceller
    assert np.all(e_y[talk] < e_mic[talk]) and np.all(e_y[talk] > 1e3 * e_out[talk])
    assert np.all(sent < first + 62), sent[-5:]  # and no longer than the user talks
    for name in ("echo", "untimed"):
        mic, out, y, g = runs[name]
        assert g.mic_blocks == 0, name
        assert np.all(np.abs(y) <= np.abs(out) * (1 + 1e-6)), name
    if not NO_EXTENSIONS:  # the compiled kernel and its twin agree on the mix
        (ref, mic, out), _ = held_down_room(block, 8.0)
        ys = [
            run_meter(mod, block, (ref, mic, out), [0, 800], {}, True)[0]
            for mod in (
                importlib.import_module("rtsdk._kernels.echoblocks"),
                importlib.import_module("rtsdk._reference.echoblocks"),
            )
        ]
        np.testing.assert_allclose(ys[0], ys[1], rtol=1e-5, atol=1e-9)


def test_reset_is_a_fresh_start(eb: ModuleType) -> None:
    block = 80
    sig = room(9, block, 200, 5, 0.1, 0.03)
    y1, m1 = run_meter(eb, block, sig, [0, 200], {}, True)
    m1.reset()
    assert state(m1) == (0.0, 0.0, 0, 0, 15, 15, 15, 150, 1.0)
    ref, mic, out = sig
    y2 = out.copy()
    m1.measure(mic, ref, y2)
    np.testing.assert_array_equal(y1, y2)


def test_bad_input_names_what_is_wrong_and_changes_nothing(eb: ModuleType) -> None:
    block = 160
    x = np.zeros(320, dtype=F32)
    m = eb.EchoMeter(block, eb.TailGuard(block))
    ref, mic, out = room(1, block, 4, 1, 0.1, 0.1)
    m.measure(mic, ref, out)
    before = state(m)
    with pytest.raises(AudioFormatError, match="mic must be 1-D C-contiguous float32"):
        m.measure(x.astype(np.float64), x, x)
    with pytest.raises(AudioFormatError, match="ref must be a numpy float32 array"):
        m.measure(x, list(x), x)
    with pytest.raises(AudioFormatError, match="out must be 1-D"):
        m.measure(x, x, np.zeros((160, 2), dtype=F32))
    with pytest.raises(AudioFormatError, match="C-contiguous"):
        m.measure(np.zeros(640, dtype=F32)[::2], x, x)
    with pytest.raises(AudioFormatError, match="a multiple of 160 samples; got 300, 300 and 300"):
        m.measure(x[:300], x[:300], x[:300])
    with pytest.raises(AudioFormatError, match="one length"):
        m.measure(x, x[:160], x)
    ro = x.copy()
    ro.flags.writeable = False
    with pytest.raises(AudioFormatError, match="out must be writable"):
        m.measure(x, x, ro)
    with pytest.raises(AudioFormatError, match=r"TailGuard\.process: mic"):
        m.guard.process(x.astype(np.int16), x, x)
    assert state(m) == before
    with pytest.raises(ValueError, match="block must be an int"):
        eb.EchoMeter(0)
    with pytest.raises(ValueError, match="block must be an int"):
        eb.TailGuard(True)
    with pytest.raises(ValueError, match="the guard's block is 80"):
        eb.EchoMeter(160, eb.TailGuard(80))
    with pytest.raises(TypeError, match="guard must be a TailGuard"):
        eb.EchoMeter(160, object())
    with pytest.raises(ValueError, match="alpha"):
        eb.EchoMeter(160, alpha=0.0)
    with pytest.raises(ValueError, match="default_lead_ms from 20 to 600"):
        eb.TailGuard(160, default_lead_ms=0)
    with pytest.raises(ValueError, match="rt60 > 0"):
        eb.TailGuard(160, rt60=float("nan"))


@pytest.mark.parametrize(
    ("block", "rate"), [(80, 8_000), (240, 24_000), (441, 44_100), (480, 48_000)]
)
def test_band_plan_covers_the_voice_band(eb: ModuleType, block: int, rate: int) -> None:
    g = eb.TailGuard(block, rate=rate)
    assert g.bands == 16 and g.fft_size >= block and g.fft_size & (g.fft_size - 1) == 0
    assert g.rate == rate
    np.testing.assert_array_equal(g.band_coupling(), np.ones(16))
    assert eb.TailGuard(160).rate == 16_000  # 100 blocks a second unless told


def voices(block: int, rate: int, n: int, seed: int) -> tuple[npt.NDArray[np.float32], ...]:
    """A reference of low-pass noise (under 1 kHz), its echo 12 blocks later at -3 dB, and a
    user of high-pass noise (over 2 kHz) as loud as that echo, from block ``n // 2`` on."""
    from scipy.signal import butter, lfilter

    rng = np.random.default_rng(seed)
    size = block * n
    b, a = butter(4, 1000 / (rate / 2))
    ref = (lfilter(b, a, rng.standard_normal(size)) * 0.3).astype(F32)
    echo = np.zeros(size, dtype=F32)
    echo[12 * block :] = ref[: size - 12 * block] * np.float32(10 ** (-3 / 20))
    b, a = butter(4, 2000 / (rate / 2), "high")
    user = lfilter(b, a, rng.standard_normal(size))
    user *= np.sqrt(np.mean(echo[size // 2 :] ** 2) / np.mean(user**2))
    user[: size // 2] = 0.0
    noise = (rng.standard_normal(size) * 1e-3).astype(F32)
    return ref, (echo + noise).astype(F32), (echo + user.astype(F32) + noise).astype(F32)


def test_a_voice_the_echo_cannot_explain_passes_at_the_echos_level(eb: ModuleType) -> None:
    """The canceller's output stands in as a 25 dB echo reduction (the user untouched); the
    echo alone is held down throughout, the user at the same level passes within 20 ms, in
    bands the reference leaves empty, though no louder than the echo broadband."""
    block, rate, n = 160, 16_000, 300
    ref, echo_only, with_user = voices(block, rate, n, 3)
    echo_part = echo_only - (with_user - echo_only) * 0  # the echo and noise
    user = with_user - echo_only
    out_alone = (echo_part * np.float32(10 ** (-25 / 20))).astype(F32)
    out_user = (out_alone + user).astype(F32)
    rng = np.random.default_rng(5)
    leading = (rng.standard_normal(block * 40) * 1e-3).astype(F32)  # the room, then the reference
    ref2 = np.concatenate([np.zeros_like(leading), ref])
    outs = []
    for mic, out in ((echo_only, out_alone), (with_user, out_user)):
        g = eb.TailGuard(block, rate=rate, warmup_ms=0)
        m = eb.EchoMeter(block, g)
        mic2 = np.concatenate([leading, mic])
        y = np.concatenate([leading, out])
        for i in range(0, y.size, 2 * block):
            m.measure(mic2[i : i + 2 * block], ref2[i : i + 2 * block], y[i : i + 2 * block])
        outs.append((y[leading.size :], g, m))
    (y0, g0, m0), (y1, g1, m1) = outs
    half = slice(n // 2 * block, n * block)
    e_user = np.mean(user[half].astype(np.float64) ** 2)
    e_echo = np.mean(echo_part[half].astype(np.float64) ** 2)
    assert abs(10 * np.log10(e_user / e_echo)) < 0.5  # the user as loud as the echo
    assert db_of(out_alone[half], y0[half]) > 25.0 and g0.user_blocks == 0  # echo: held down
    late = slice(n // 2 * block + 2 * block, n * block)
    assert db_of(out_user[late], y1[late]) < 1.0  # the user: through, from the third block
    assert g1.user_blocks >= n // 2 - 3
    assert g1.band_coupling()[-1] == 1.0  # no reference up there: nothing learnt
    # what leaves the stage: the guard's 30 dB counted for the echo alone, not for the user
    assert 10 * np.log10(m0.out_power / m0.stage_power) > 20.0
    assert 10 * np.log10(m1.out_power / m1.stage_power) < 10.0


def db_of(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    ea = np.mean(a.astype(np.float64) ** 2)
    eb_ = np.mean(b.astype(np.float64) ** 2)
    return float(10 * np.log10(ea / eb_))


def test_meter_without_a_guard_passes_everything_to_the_stage(eb: ModuleType) -> None:
    ref, mic, out = room(4, 80, 100, 3, 0.1, 0.1)
    m = eb.EchoMeter(80)
    m.measure(mic, ref, out)
    assert m.stage_power == m.out_power > 0.0
    m.reset()
    assert (m.mic_power, m.out_power, m.stage_power) == (0.0, 0.0, 0.0)


def test_rate_must_be_a_rate(eb: ModuleType) -> None:
    with pytest.raises(ValueError, match="rate must be None or an int from 100"):
        eb.TailGuard(160, rate=50)
    with pytest.raises(ValueError, match="rate must be None or an int from 100"):
        eb.TailGuard(160, rate=16_000.0)
