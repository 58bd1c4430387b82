"""ITU-T G.711 u-law and A-law: the plain NumPy twin of ``rtsdk._kernels.g711``.

Bit-exact with the classic G.711 reference coder (as in ``audioop``): u-law quantises the top 14
bits of a sample (bias 33, magnitude clipped to 8159), A-law the top 13 (one's-complement
magnitude for negatives); both find the segment (chord) by a search over the segment end
points, then keep 4 mantissa bits, and invert the even bits (A-law, 0x55) or all bits (u-law).
This twin computes every code from that definition with NumPy; it holds no copied table.

Encoders take a C-contiguous int16 ndarray or a bytes-like object of little-endian int16 (even
byte count) and return uint8 codes; decoders take a C-contiguous uint8 ndarray or any bytes-like
object and return int16. Arrays keep their shape; bytes-like inputs give 1-D results. ``out``,
when given, is a writable C-contiguous array of the result dtype with as many elements; it is
filled and returned. Bad input raises :class:`~rtsdk.exceptions.AudioFormatError`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rtsdk._reference._audio_args import convert

__all__ = ["alaw_to_pcm16", "pcm16_to_alaw", "pcm16_to_ulaw", "ulaw_to_pcm16"]

# Segment end points (inclusive upper bounds of each chord's magnitude range).
_ULAW_SEG_END = np.array([(0x40 << s) - 1 for s in range(8)], dtype=np.int32)
_ALAW_SEG_END = np.array([(0x20 << s) - 1 for s in range(8)], dtype=np.int32)


def _ulaw_encode(pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    v = pcm.astype(np.int32) >> 2
    mask = np.where(v < 0, 0x7F, 0xFF)
    mag = np.minimum(np.abs(v), 8159) + 0x21
    seg = np.searchsorted(_ULAW_SEG_END, mag)  # first segment whose end is >= mag
    code = (seg << 4) | ((mag >> (seg + 1)) & 0xF)
    code = np.where(seg >= 8, 0x7F, code)
    return (code ^ mask).astype(np.uint8)


def _ulaw_decode(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    u = ~codes.astype(np.int32) & 0xFF
    t = (((u & 0xF) << 3) + 0x84) << ((u >> 4) & 7)
    return np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.int16)


def _alaw_encode(pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    v = pcm.astype(np.int32) >> 3
    mask = np.where(v < 0, 0x55, 0xD5)
    mag = np.where(v < 0, -v - 1, v)
    seg = np.searchsorted(_ALAW_SEG_END, mag)
    mant = np.where(seg < 2, mag >> 1, mag >> np.maximum(seg, 1)) & 0xF
    code = np.where(seg >= 8, 0x7F, (seg << 4) | mant)
    return (code ^ mask).astype(np.uint8)


def _alaw_decode(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    a = codes.astype(np.int32) ^ 0x55
    seg = (a >> 4) & 7
    t = ((a & 0xF) << 4) + np.where(seg == 0, 8, 0x108)
    t = np.where(seg > 1, t << np.maximum(seg - 1, 0), t)
    return np.where(a & 0x80, t, -t).astype(np.int16)


def pcm16_to_ulaw(x: object, out: object = None) -> npt.NDArray[np.uint8]:
    """Encode PCM16 to G.711 u-law codes (one byte per sample)."""
    return convert(x, out, _ulaw_encode, "pcm16_to_ulaw", np.int16, np.uint8)


def ulaw_to_pcm16(x: object, out: object = None) -> npt.NDArray[np.int16]:
    """Decode G.711 u-law codes to PCM16."""
    return convert(x, out, _ulaw_decode, "ulaw_to_pcm16", np.uint8, np.int16)


def pcm16_to_alaw(x: object, out: object = None) -> npt.NDArray[np.uint8]:
    """Encode PCM16 to G.711 A-law codes (one byte per sample)."""
    return convert(x, out, _alaw_encode, "pcm16_to_alaw", np.int16, np.uint8)


def alaw_to_pcm16(x: object, out: object = None) -> npt.NDArray[np.int16]:
    """Decode G.711 A-law codes to PCM16."""
    return convert(x, out, _alaw_decode, "alaw_to_pcm16", np.uint8, np.int16)
