# cython: freethreading_compatible = False
"""Sample conversion float32 <-> PCM16 (compiled): see :mod:`rtsdk._reference.pcm`."""

cimport numpy as cnp
from libc.stdint cimport int16_t

from pcm cimport rt_f32_to_s16, rt_s16_to_f32

from rtsdk.exceptions import AudioFormatError

__all__ = ["float32_to_pcm16", "pcm16_to_float32"]

cnp.import_array()

include "audio_args.pxi"


# The sample loops, typed for convert() (audio_args.pxi).
cdef void f32_to_s16(const void *s, void *d, Py_ssize_t n) noexcept nogil:
    rt_f32_to_s16(<const float *>s, <int16_t *>d, n)


cdef void s16_to_f32(const void *s, void *d, Py_ssize_t n) noexcept nogil:
    rt_s16_to_f32(<const int16_t *>s, <float *>d, n)


def float32_to_pcm16(x, out=None):
    """Convert float32 samples (full scale 1.0) to int16: round(x * 32768), saturating.

    Rounding is to nearest with ties to even (as :func:`numpy.rint`); NaN gives 0, +inf 32767,
    -inf -32768. ``x`` is a C-contiguous float32 ndarray of any shape (the result keeps it);
    ``out``, when given, is a writable C-contiguous int16 array with as many elements, filled
    and returned. Raises :class:`~rtsdk.exceptions.AudioFormatError` for anything else.
    """
    return convert(x, out, f32_to_s16, "float32_to_pcm16", cnp.NPY_FLOAT32, 4, "float32", False,
                   cnp.NPY_INT16, "int16")


def pcm16_to_float32(x, out=None):
    """Convert PCM16 to float32 samples: x / 32768 (exact; float32_to_pcm16 inverts it).

    ``x`` is a C-contiguous int16 ndarray (the result keeps its shape) or a bytes-like object of
    little-endian int16 (the result is 1-D). ``out``, when given, is a writable C-contiguous
    float32 array with as many elements, filled and returned. Raises
    :class:`~rtsdk.exceptions.AudioFormatError` for a wrong dtype, an odd byte count, a
    non-contiguous input or an unsuitable ``out``.
    """
    return convert(x, out, s16_to_f32, "pcm16_to_float32", cnp.NPY_INT16, 2, "int16", True,
                   cnp.NPY_FLOAT32, "float32")
