"""Audio helpers of the local server: formats, levels, the echo's conversion, a reply tone."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from .. import kernels
from ..protocol.session import BYTES_PER_MS, SAMPLE_RATES

__all__ = [
    "BYTES_PER_MS",
    "RATES",
    "convert",
    "decode_pcm16",
    "duration_ms",
    "encode_pcm16",
    "level_dbfs",
    "reply_tone",
    "resample",
    "tone",
]

Pcm = npt.NDArray[np.int16]

#: Sample rate of each format name (the protocol core's table).
RATES = SAMPLE_RATES

_SILENCE_DBFS = -120.0


def duration_ms(nbytes: int, fmt: str) -> float:
    """Milliseconds of audio in ``nbytes`` of format ``fmt``."""
    return nbytes / BYTES_PER_MS[fmt]


def decode_pcm16(raw: bytes | bytearray | memoryview, fmt: str) -> Pcm:
    """PCM16 samples (at the format's own rate) of raw audio in ``fmt``.

    A trailing odd byte of PCM16 is ignored (a sample straddling two appends).
    """
    if fmt == "pcm16":
        n = len(raw) - len(raw) % 2
        return np.frombuffer(raw, dtype="<i2", count=n // 2).astype(np.int16, copy=False)
    codes = np.frombuffer(raw, dtype=np.uint8)
    if fmt == "g711_ulaw":
        return kernels.ulaw_to_pcm16(codes)
    return kernels.alaw_to_pcm16(codes)


def encode_pcm16(pcm: Pcm, fmt: str) -> bytes:
    """Raw bytes in ``fmt`` of PCM16 samples already at the format's rate."""
    pcm = np.ascontiguousarray(pcm, dtype=np.int16)
    if fmt == "pcm16":
        return pcm.astype("<i2", copy=False).tobytes()
    if fmt == "g711_ulaw":
        return kernels.pcm16_to_ulaw(pcm).tobytes()
    return kernels.pcm16_to_alaw(pcm).tobytes()


def resample(pcm: Pcm, in_rate: int, out_rate: int) -> Pcm:
    """PCM16 samples at ``in_rate`` resampled to ``out_rate`` (the same array when equal)."""
    if in_rate == out_rate or pcm.size == 0:
        return pcm
    x = kernels.pcm16_to_float32(np.ascontiguousarray(pcm))
    y = kernels.Resampler(in_rate, out_rate).process(np.ascontiguousarray(x), last=True)
    return kernels.float32_to_pcm16(np.ascontiguousarray(y, dtype=np.float32).reshape(-1))


def convert(raw: bytes | bytearray, in_fmt: str, out_fmt: str) -> bytes:
    """Audio in ``in_fmt`` re-encoded (and resampled when the rates differ) to ``out_fmt``."""
    if in_fmt == out_fmt:
        return bytes(raw)
    pcm = resample(decode_pcm16(raw, in_fmt), RATES[in_fmt], RATES[out_fmt])
    return encode_pcm16(pcm, out_fmt)


def level_dbfs(pcm: Pcm) -> float:
    """RMS level in dB relative to full scale (a full-scale square wave is 0 dBFS)."""
    if pcm.size == 0:
        return _SILENCE_DBFS
    x = pcm.astype(np.float64)
    # einsum, not dot: np.dot goes to a multi-threaded BLAS, whose threads spin for
    # milliseconds per call on a busy machine and stall the event loop
    mean_square = float(np.einsum("i,i->", x, x)) / x.size
    if mean_square <= 0.0:
        return _SILENCE_DBFS
    return max(_SILENCE_DBFS, 10.0 * math.log10(mean_square / (32768.0 * 32768.0)))


def tone(ms: float, rate: int, freq: float = 440.0, dbfs: float = -18.0) -> Pcm:
    """A sine tone of ``ms`` at ``rate``, ``dbfs`` RMS, with 10 ms fades (no click at either
    end), as PCM16 samples."""
    n = max(0, int(rate * ms / 1000))
    t = np.arange(n, dtype=np.float64) / rate
    amp = 32768.0 * math.sqrt(2.0) * 10.0 ** (dbfs / 20.0)
    wave = amp * np.sin(2.0 * math.pi * freq * t)
    fade = min(n // 2, rate // 100)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        wave[:fade] *= ramp
        wave[n - fade :] *= ramp[::-1]
    samples: Pcm = np.clip(np.rint(wave), -32768, 32767).astype(np.int16)
    return samples


def reply_tone(ms: int, fmt: str, freq: float = 440.0, dbfs: float = -18.0) -> bytes:
    """The audio of a reply that has no caller audio to echo: a sine tone in ``fmt``.

    ``ms`` long, at ``dbfs`` RMS, with 10 ms fades so that it starts and ends without a click.
    """
    return encode_pcm16(tone(ms, RATES[fmt], freq, dbfs), fmt)
