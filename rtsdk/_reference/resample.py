"""Streaming polyphase windowed-sinc resampler: the plain NumPy twin, and the filter design.

The filter design lives here, in NumPy and double precision, and the compiled
:mod:`rtsdk._kernels.resample` imports :func:`_design` to build its tables: both backends run the
very same float32 coefficients. See :class:`Resampler` for the contract and the measured figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt

from rtsdk.exceptions import AudioFormatError, ConfigurationError

__all__ = ["Resampler"]

SUPPORTED_RATES: Final[tuple[int, ...]] = (8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000)
QUALITIES: Final[tuple[str, ...]] = ("high", "low")

# Per quality: the filter's span in seconds of input (its delay is half of it) and the stopband
# attenuation the Kaiser window is designed for, in dB.
_SPAN_S: Final[dict[str, float]] = {"high": 0.004, "low": 0.002}
_ATTEN_DB: Final[dict[str, float]] = {"high": 110.0, "low": 80.0}
_LANES: Final[int] = 8  # taps per phase are a multiple of this (the kernel's vector width)
_LANES_MAX: Final[int] = 12  # up and down at most this: the kernel's "lanes" loop (_chain)
# Factor-2 pairs: non-zero taps of the half-band filter per quality (fewer when the delay budget,
# half the span, is shorter than the filter's own delay).
_HALF_TAPS: Final[dict[str, int]] = {"high": 48, "low": 24}


@dataclass(frozen=True)
class _Design:
    """A polyphase filter for one (in_rate, out_rate, quality); shared by every instance."""

    up: int  # L: interpolation factor (out_rate / gcd)
    down: int  # M: decimation factor (in_rate / gcd)
    taps: int  # K: taps per phase (half-band: its non-zero taps besides the centre)
    length: int  # N: prototype length at the rate in_rate * L (K * L; half-band: 2 K - 1)
    #: ``table[p, k]``: phase ``p``'s taps in time order (oldest input first), float32, shape
    #: (up, taps), C-contiguous, read-only. Half-band: shape (1, K), the non-zero taps.
    table: npt.NDArray[np.float32]
    delay: float  # seconds: (N - 1) / 2 prototype samples
    flush_zeros: int  # zeros fed at last=True to complete the tail
    passband_hz: float  # design passband edge (ripple within the Kaiser window's delta)
    stopband_hz: float  # design stopband edge (the lower Nyquist; half-band: its mirror)
    history: int  # input samples kept per channel between calls
    half: bool = False  # a factor-2 half-band filter (see _half_band)
    center: float = 0.0  # half-band: the centre tap (0.5 down, 1.0 up), exact in float32


def _check_rate(name: str, rate: object) -> int:
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)):
        raise AudioFormatError(f"{name} must be an int in Hz, got {rate!r}")
    if int(rate) not in SUPPORTED_RATES:
        supported = ", ".join(str(r) for r in SUPPORTED_RATES)
        raise AudioFormatError(f"unsupported {name} {rate} Hz; supported rates: {supported}")
    return int(rate)


def _check_config(in_rate: object, out_rate: object, channels: object, quality: object) -> None:
    """Validate constructor arguments (shared by both backends)."""
    _check_rate("in_rate", in_rate)
    _check_rate("out_rate", out_rate)
    if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)):
        raise AudioFormatError(f"channels must be an int, got {channels!r}")
    if channels < 1:
        raise AudioFormatError(f"channels must be >= 1, got {channels}")
    if quality not in QUALITIES:
        raise ConfigurationError(f"quality must be one of {QUALITIES}, got {quality!r}")


def _check_samples(x: object, channels: int) -> np.ndarray:
    """Validate one ``process`` input (shared by both backends); returns it as an ndarray."""
    if not isinstance(x, np.ndarray):
        raise AudioFormatError(
            f"samples must be a numpy.ndarray of float32, got {type(x).__name__}"
        )
    if x.dtype != np.float32:
        raise AudioFormatError(f"samples must be float32, got dtype {x.dtype}")
    if x.ndim == 1:
        if channels != 1:
            raise AudioFormatError(
                f"1-D samples are mono, but the resampler has {channels} channels: "
                "pass a 2-D (frames, channels) array"
            )
    elif x.ndim == 2:
        if x.shape[1] != channels:
            raise AudioFormatError(
                f"samples have {x.shape[1]} channels, the resampler has {channels} channels"
            )
    else:
        raise AudioFormatError(f"samples must be 1-D or 2-D (frames, channels), got {x.ndim}-D")
    if not x.flags.c_contiguous:
        raise AudioFormatError("samples must be C-contiguous (interleaved frames)")
    return x


@cache
def _design(in_rate: int, out_rate: int, quality: str) -> _Design:
    """Design the polyphase filter for one rate pair and quality (cached, shared).

    A Kaiser-windowed sinc prototype at ``in_rate * L``: its span is fixed per quality (so its
    delay is), its stopband edge is the lower of the two Nyquist frequencies, and the Kaiser
    formula for the quality's attenuation sets the transition width, hence the passband edge.
    Computed in double precision, normalised to a DC gain of exactly 1 per output sample on
    average, stored as float32.
    """
    g = math.gcd(in_rate, out_rate)
    up, down = out_rate // g, in_rate // g
    if up == down:
        table = np.ones((1, 1), dtype=np.float32)
        table.setflags(write=False)
        nyq = in_rate / 2
        return _Design(1, 1, 1, 1, table, 0.0, 1, nyq, nyq, 0)
    if sorted((up, down)) == [1, 2]:
        return _half_band(in_rate, out_rate, quality)
    # Taps per phase: the largest multiple of _LANES whose delay fits half the span.
    taps = int(_SPAN_S[quality] * in_rate + 1.0 / up) // _LANES * _LANES
    length = taps * up
    fs_proto = float(in_rate * up)
    atten = _ATTEN_DB[quality]
    nyq = min(in_rate, out_rate) / 2.0
    # Kaiser: length - 1 = (A - 7.95) / (2.285 * dw), dw the transition in rad/sample.
    dw = (atten - 7.95) / (2.285 * (length - 1))
    transition = dw * fs_proto / (2.0 * math.pi)
    cutoff = nyq - transition / 2.0
    beta = 0.1102 * (atten - 8.7)
    t = np.arange(length, dtype=np.float64) - (length - 1) / 2.0
    fc = 2.0 * cutoff / fs_proto  # normalised to the prototype's Nyquist
    h = fc * np.sinc(fc * t) * np.kaiser(length, beta)
    h *= up / h.sum()
    # Phase p, tap k (newest first) is h[p + k * up]; store oldest first for a forward dot.
    table = np.ascontiguousarray(h.reshape(taps, up).T[:, ::-1], dtype=np.float32)
    table.setflags(write=False)
    delay = (length - 1) / 2.0 / fs_proto
    flush = (length - 1) // (2 * up) + 1
    return _Design(up, down, taps, length, table, delay, flush, nyq - transition, nyq, taps - 1)


def _half_band(in_rate: int, out_rate: int, quality: str) -> _Design:
    """The factor-2 filter (48k <-> 24k, 16k <-> 8k, ...): a Kaiser half-band.

    A windowed sinc cut off exactly at the lower Nyquist ``fn`` (-6 dB there), ``N = 2 K - 1``
    taps at the higher rate: every second tap is exactly zero, so an output costs ``K``
    multiply-adds plus the centre tap instead of ``N``. What folds across ``fn`` lands between
    the passband edge and ``fn``, the mirror of the stopband: never in the passband. ``K`` is
    ``_HALF_TAPS[quality]``, or the largest multiple of the kernel's vector width whose delay
    fits the quality's budget. Down by 2, the centre tap is 0.5 and the others sum to 0.5; up by
    2, the odd outputs are the input itself (centre 1.0) and the even ones a K-tap filter whose
    taps sum to 1, so each output phase has a DC gain of exactly 1 (up to float32 rounding).
    """
    up = 2 if out_rate > in_rate else 1
    fs_proto = float(max(in_rate, out_rate))
    budget = int(_SPAN_S[quality] / 2.0 * fs_proto)  # delay budget, prototype samples
    taps = min(_HALF_TAPS[quality], (budget + 1) // _LANES * _LANES)  # (N - 1) / 2 = K - 1
    length = 2 * taps - 1
    atten = _ATTEN_DB[quality]
    beta = 0.1102 * (atten - 8.7)
    t = np.arange(length) - (taps - 1)
    h = 0.5 * np.sinc(0.5 * t) * np.kaiser(length, beta)
    g = h[t % 2 != 0]  # the non-zero side taps (t odd), oldest first; symmetric
    center = 1.0 if up == 2 else 0.5
    table = np.ascontiguousarray((g * (center / g.sum()))[None, :], dtype=np.float32)
    table.setflags(write=False)
    nyq = min(in_rate, out_rate) / 2.0
    transition = (atten - 7.95) / (2.285 * (length - 1)) * fs_proto / (2.0 * math.pi)
    history = length - 1 if up == 1 else taps - 1
    return _Design(
        up, 3 - up, taps, length, table, (taps - 1) / fs_proto, (length - 1) // (2 * up) + 1,
        nyq - transition / 2.0, nyq + transition / 2.0, history, True, center,
    )  # fmt: skip


def _half_outputs(d: _Design, w: np.ndarray, n: np.ndarray, n_in0: int) -> np.ndarray:
    """Half-band outputs ``n`` from window ``w`` (w[0] is input ``n_in0 - d.history``).

    Down by 2: the K-tap chain over every second sample, then plus the centre tap's product.
    Up by 2: odd outputs copy the input at the centre; even ones are the K-tap chain.
    """
    k = d.taps
    if d.up == 1:
        start = 2 * n - n_in0
        acc = _chain(np.broadcast_to(d.table, (n.size, k)), w, start, stride=2)
        out: np.ndarray = acc + np.float32(d.center) * w[start + k - 1]
        return out
    start = n // 2 - n_in0
    out = np.empty((n.size, w.shape[1]), dtype=np.float32)
    odd = (n % 2).astype(bool)
    out[odd] = w[start[odd] + k // 2]
    even = ~odd
    out[even] = _chain(np.broadcast_to(d.table, (int(even.sum()), k)), w, start[even])
    return out


def _chain(g: np.ndarray, w: np.ndarray, start: np.ndarray, stride: int = 1) -> np.ndarray:
    """Outputs as one multiply-add chain each, taps in order (the kernel's "lanes" loop).

    ``g``: (n, taps) each output's phase; ``w``: (frames, channels) window; ``start``: (n,)
    each output's window start in ``w``; tap ``k`` reads ``w[start + stride * k]``. float32
    throughout, a multiply then an add per tap.
    """
    acc = np.zeros((start.size, w.shape[1]), dtype=np.float32)
    for k in range(g.shape[1]):
        acc += g[:, k, None] * w[start + stride * k]
    return acc


def _tree(g: np.ndarray, w: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Outputs as dot products, 8 lanes x 4 accumulators and a fixed tree (the "dot" loop)."""
    taps = g.shape[1]
    a = np.zeros((4, start.size, 8, w.shape[1]), dtype=np.float32)
    lane = np.arange(8)
    k = 0
    while k < taps:
        for j in range(4 if k + 32 <= taps else 1):
            idx = k + 8 * j + lane
            a[j] += g[:, idx, None] * w[start[:, None] + idx]
        k += 32 if k + 32 <= taps else 8
    v: np.ndarray = (a[0] + a[1]) + (a[2] + a[3])
    out: np.ndarray = ((v[:, 0] + v[:, 4]) + (v[:, 2] + v[:, 6])) + (
        (v[:, 1] + v[:, 5]) + (v[:, 3] + v[:, 7])
    )
    return out


class Resampler:
    """Streaming polyphase windowed-sinc resampler, float32 in and out.

    ``Resampler(in_rate, out_rate, channels=1, quality="high")`` for any pair of
    8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000 Hz (equal rates pass samples through
    unchanged, with the same streaming API). ``process(x)`` takes float32 samples, 1-D for mono
    or C-contiguous 2-D ``(frames, channels)``, and returns the same layout.

    Latency: every call returns every output sample whose input support has arrived, so after
    ``n`` input samples in total exactly ``ceil(n * out_rate / in_rate)`` have been returned;
    nothing is held back beyond the filter's own :attr:`delay`. At 20 ms chunks each call
    returns exactly 20 ms.

    End of stream: ``process(x, last=True)`` also flushes the tail, as if zeros followed: the
    stream's total is then ``ceil((n + D) * out_rate / in_rate)`` samples, ``D`` the delay in
    input samples, ``(N - 1) / (2 L)`` for a prototype of ``N`` taps at ``L`` times the input
    rate (0 samples for an empty stream), so the output holds the whole input shifted by
    :attr:`delay`. After that, ``process`` raises ``RuntimeError`` until :meth:`reset`.

    Any chunking (empty and 1-sample chunks included) gives bit-identical output to one call.

    Filters: one Kaiser-windowed sinc per rate pair and quality, designed in double precision
    and stored as float32 polyphase tables shared by all instances. Its stopband starts at the
    lower Nyquist frequency ``fn`` (no aliasing into the passband or transition band), its span
    is fixed by the delay budget and the Kaiser formula for the target attenuation sets the
    transition width (about 1.8 kHz for "high", 2.5 kHz for "low", whatever the rates).

    Factor-2 pairs (48k<->24k, 96k<->48k, 44.1k<->22.05k, 32k<->16k, 16k<->8k) use a half-band
    filter instead: cut off at ``fn`` itself, so every second tap is exactly zero and an output
    costs about a quarter of the multiply-adds. Its stopband mirrors its passband about ``fn``:
    what folds across ``fn`` (down by 2), or images across it (up by 2), lands between the
    passband edge and ``fn``, never lower. "high": 95 taps (48 non-zero plus the centre); at
    48k<->24k the passband is flat to 1e-5 up to 10.2 kHz, and everything that would fold or
    image below 10.2 kHz (13.8 kHz and up at 48 kHz) is at least 100 dB down. Up by 2, every
    second output is an input sample itself. 16k<->8k: 63 taps (the delay budget).
    Measured (float32 run, steady state, tone fits; stopband from the float32 prototype):

    ``"high"``: delay <= 2 ms (half its 4 ms span), stopband >= 109 dB from ``fn``.

    ===========  ==========  ========  ====================  ==============  =============
    pair         taps x ph.  delay     flat +-0.1 dB up to   997 Hz SINAD    21 kHz tone
    ===========  ==========  ========  ====================  ==============  =============
    48k->24k     95 half     0.979 ms  10.8 kHz              144 dB          -139 dB
    44.1k->24k   176 x 80    1.995 ms  10.5 kHz              145 dB          -130 dB
    16k->24k     64 x 3      1.990 ms  6.5 kHz               134 dB          (not present)
    24k->48k     95 half     0.979 ms  10.8 kHz              142 dB          (not present)
    8k->24k      32 x 3      1.979 ms  2.5 kHz               124 dB          (not present)
    ===========  ==========  ========  ====================  ==============  =============

    ``"low"``: delay <= 1 ms (2 ms span), stopband >= 79 dB from ``fn``, half the taps
    (half-band: 47 taps, everything folding below 8.5 kHz at least 80 dB down at 48k<->24k).

    ===========  ==========  ========  ====================  ==============  =============
    pair         taps x ph.  delay     flat +-0.1 dB up to   997 Hz SINAD    21 kHz tone
    ===========  ==========  ========  ====================  ==============  =============
    48k->24k     47 half     0.479 ms  10.0 kHz              146 dB          -93 dB
    44.1k->24k   88 x 80     0.998 ms  9.7 kHz               122 dB          -100 dB
    16k->24k     32 x 3      0.990 ms  5.7 kHz               101 dB          (not present)
    24k->48k     47 half     0.479 ms  10.0 kHz              94 dB           (not present)
    8k->24k      16 x 3      0.979 ms  1.7 kHz               93 dB           (not present)
    ===========  ==========  ========  ====================  ==============  =============

    The fixed 1.8 kHz transition costs the most at 8 kHz: "high" 8k->24k is flat to 2.5 kHz
    and -3 dB at 2.95 kHz. Equal rates: a copy, delay 0.

    Arithmetic: float32. Every output is computed from the same window by the same operations
    whatever the chunking. The compiled kernel's portable loops (multiply, then add) give
    exactly what this twin gives; its AVX2+FMA loops differ by float32 rounding (< 1e-6 for
    samples in [-1, 1]).
    """

    def __init__(
        self, in_rate: int, out_rate: int, channels: int = 1, quality: str = "high"
    ) -> None:
        _check_config(in_rate, out_rate, channels, quality)
        self._in_rate = int(in_rate)
        self._out_rate = int(out_rate)
        self._channels = int(channels)
        self._quality = str(quality)
        d = _design(self._in_rate, self._out_rate, self._quality)
        self._d = d
        self._table = d.table
        self._hist = np.zeros((d.history, self._channels), dtype=np.float32)
        self._n_in = 0
        self._n_out = 0
        self._done = False

    @property
    def in_rate(self) -> int:
        """Input sample rate in Hz."""
        return self._in_rate

    @property
    def out_rate(self) -> int:
        """Output sample rate in Hz."""
        return self._out_rate

    @property
    def channels(self) -> int:
        """Number of interleaved channels."""
        return self._channels

    @property
    def quality(self) -> str:
        """Filter quality: ``"high"`` or ``"low"``."""
        return self._quality

    @property
    def delay(self) -> float:
        """Algorithmic delay in seconds (the filter's group delay)."""
        return self._d.delay

    def reset(self) -> None:
        """Forget all history: the next ``process`` starts a new stream."""
        self._hist[:] = 0.0
        self._n_in = 0
        self._n_out = 0
        self._done = False

    def process(self, x: npt.NDArray[np.float32], last: bool = False) -> npt.NDArray[np.float32]:
        """Resample one chunk; with ``last=True`` also flush the filter tail."""
        if self._done:
            raise RuntimeError("Resampler.process() after last=True: call reset() first")
        xa = _check_samples(x, self._channels)
        d = self._d
        frames = xa.reshape(xa.shape[0], self._channels)
        n_new = frames.shape[0]
        n_in0 = self._n_in
        n_in1 = n_in0 + n_new
        up, down = d.up, d.down
        end = -(-(up * n_in1) // down)  # ceil: outputs whose support has arrived
        w = np.concatenate([self._hist, frames], axis=0)
        if last:
            if n_in1 > 0:
                end = -(-(2 * up * n_in1 + d.length - 1) // (2 * down))
            pad = np.zeros((d.flush_zeros, self._channels), dtype=np.float32)
            w = np.concatenate([w, pad], axis=0)
            self._done = True
        n = np.arange(self._n_out, end, dtype=np.int64)
        if d.half:
            acc = _half_outputs(d, w, n, n_in0)
        else:
            phase = (n * down) % up
            start = (n * down) // up - n_in0  # window start in w
            kernel = _chain if up <= _LANES_MAX and down <= _LANES_MAX else _tree
            acc = kernel(self._table[phase], w, start)
        self._n_out = end
        self._n_in = n_in1
        if d.history:
            self._hist = w[n_new : n_new + d.history].copy()
        return acc.reshape(-1) if xa.ndim == 1 else acc
