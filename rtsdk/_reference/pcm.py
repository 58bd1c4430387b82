"""Sample conversion float32 <-> PCM16: the plain NumPy twin of ``rtsdk._kernels.pcm``.

- :func:`float32_to_pcm16`: ``y = x * 32768`` (full scale 1.0 maps to 32768), rounded to nearest
  with ties to even (as :func:`numpy.rint`), saturated to [-32768, 32767]; NaN gives 0, +inf
  32767 and -inf -32768.
- :func:`pcm16_to_float32`: ``y = x / 32768``, exact, so pcm16 -> float32 -> pcm16 is the
  identity for every int16 value.

Inputs: a C-contiguous ndarray of the stated dtype, any shape (the result keeps it; a 2-D
``(frames, channels)`` array is interleaved audio); PCM16 may also be any bytes-like object of
little-endian int16 with an even byte count (the result is 1-D). ``out``, when given, is a
writable C-contiguous array of the result dtype with as many elements; it is filled and
returned. Anything else raises :class:`~rtsdk.exceptions.AudioFormatError` (a ValueError) with a
message naming the problem.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from rtsdk._reference._audio_args import convert

__all__ = ["float32_to_pcm16", "pcm16_to_float32"]


def _f32_to_s16(x: npt.NDArray[Any]) -> npt.NDArray[Any]:
    y: npt.NDArray[np.float32] = np.empty(x.shape, np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        np.multiply(x, np.float32(32768.0), out=y)
    y = np.nan_to_num(y, nan=0.0, posinf=32767.0, neginf=-32768.0)
    np.clip(y, -32768.0, 32767.0, out=y)
    np.rint(y, out=y)
    return y.astype(np.int16)


def _s16_to_f32(x: npt.NDArray[Any]) -> npt.NDArray[Any]:
    y: npt.NDArray[np.float32] = np.empty(x.shape, np.float32)
    np.multiply(x, np.float32(1.0 / 32768.0), out=y)
    return y


def float32_to_pcm16(x: object, out: object = None) -> npt.NDArray[np.int16]:
    """Convert float32 samples (full scale 1.0) to int16: rint(x * 32768), saturating."""
    return convert(x, out, _f32_to_s16, "float32_to_pcm16", np.float32, np.int16, bytes_ok=False)


def pcm16_to_float32(x: object, out: object = None) -> npt.NDArray[np.float32]:
    """Convert PCM16 (int16 array or little-endian bytes) to float32 samples: x / 32768."""
    return convert(x, out, _s16_to_f32, "pcm16_to_float32", np.int16, np.float32)
