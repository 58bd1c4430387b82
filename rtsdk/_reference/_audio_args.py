"""Argument handling shared by the sample-format twins (:mod:`.pcm`, :mod:`.g711`).

Each conversion is one :func:`convert` call with its sample function. The checks raise
:class:`~rtsdk.exceptions.AudioFormatError` with the same messages as the compiled kernels'
(``src_cython/audio_args.pxi``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from rtsdk.exceptions import AudioFormatError

__all__ = ["as_input", "convert", "output_for"]


def as_input(x: object, dtype: type[np.generic], fname: str, bytes_ok: bool) -> npt.NDArray[Any]:
    """Return x as a C-contiguous native ndarray of dtype (a view, never a copy), or raise."""
    dt = np.dtype(dtype)
    if isinstance(x, np.ndarray):
        if x.dtype != dt:
            raise AudioFormatError(f"{fname}: expected {dt} samples, got {x.dtype}")
        if not x.flags.c_contiguous:
            raise AudioFormatError(f"{fname}: samples must be C-contiguous")
        return x
    if not bytes_ok:
        raise AudioFormatError(f"{fname}: expected a numpy {dt} array, got {type(x).__name__}")
    try:
        mv = memoryview(x)  # type: ignore[arg-type]
        if not mv.c_contiguous:
            raise BufferError("the buffer is not C-contiguous")
        raw = mv.cast("B") if mv.ndim != 1 or mv.format != "B" else mv
    except (TypeError, BufferError) as exc:
        raise AudioFormatError(
            f"{fname}: expected a {dt} array or a C-contiguous bytes-like object, "
            f"got {type(x).__name__} ({exc})"
        ) from None
    n = raw.nbytes
    if n % dt.itemsize:
        raise AudioFormatError(
            f"{fname}: {dt} data needs whole {dt.itemsize}-byte samples, "
            f"got an odd byte count ({n})"
        )
    return np.frombuffer(raw, dtype=dt.newbyteorder("<")).astype(dt, copy=False)


def output_for(
    x: npt.NDArray[Any], out: object, dtype: type[np.generic], fname: str
) -> npt.NDArray[Any]:
    """The output: out once checked, or a new array of dtype shaped like x."""
    dt = np.dtype(dtype)
    if out is None:
        return np.empty(x.shape, dt)
    if not isinstance(out, np.ndarray):
        raise AudioFormatError(f"{fname}: out must be a numpy {dt} array, got {type(out).__name__}")
    if out.dtype != dt:
        raise AudioFormatError(f"{fname}: out must have dtype {dt}, got {out.dtype}")
    if not out.flags.c_contiguous:
        raise AudioFormatError(f"{fname}: out must be C-contiguous")
    if not out.flags.writeable:
        raise AudioFormatError(f"{fname}: out is read-only")
    if out.size != x.size:
        raise AudioFormatError(
            f"{fname}: out has {out.size} elements, the input has {x.size} samples"
        )
    return out


def convert(
    x: object,
    out: object,
    fn: Callable[[npt.NDArray[Any]], npt.NDArray[Any]],
    fname: str,
    in_dtype: type[np.generic],
    out_dtype: type[np.generic],
    bytes_ok: bool = True,
) -> npt.NDArray[Any]:
    """Check x and out, write ``fn`` of x's samples (flattened) into the output, return it."""
    a = as_input(x, in_dtype, fname, bytes_ok=bytes_ok)
    res = output_for(a, out, out_dtype, fname)
    res.reshape(-1)[...] = fn(a.reshape(-1))
    return res
