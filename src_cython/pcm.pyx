# cython: freethreading_compatible = False
"""Sample conversion float32 <-> PCM16 (compiled): see :mod:`rtsdk._reference.pcm`."""

cimport numpy as cnp
from libc.stdint cimport int16_t

from pcm cimport rt_f32_to_s16, rt_s16_to_f32

from rtsdk.exceptions import AudioFormatError

__all__ = ["float32_to_pcm16", "pcm16_to_float32"]

cnp.import_array()

include "audio_args.pxi"

cdef enum:
    # Inputs at least this long are converted with the GIL released.
    NOGIL_MIN = 65536


def float32_to_pcm16(x, out=None):
    """Convert float32 samples (full scale 1.0) to int16: round(x * 32768), saturating.

    Rounding is to nearest with ties to even (as :func:`numpy.rint`); NaN gives 0, +inf 32767,
    -inf -32768. ``x`` is a C-contiguous float32 ndarray of any shape (the result keeps it);
    ``out``, when given, is a writable C-contiguous int16 array with as many elements, filled
    and returned. Raises :class:`~rtsdk.exceptions.AudioFormatError` for anything else.
    """
    cdef Py_buffer view
    cdef Py_ssize_t n = get_input(x, cnp.NPY_FLOAT32, 4, "float32_to_pcm16", "float32",
                                  False, &view)
    cdef const float *src = <const float *>view.buf
    cdef int16_t *dst
    cdef cnp.ndarray res
    try:
        res = new_output(x, out, cnp.NPY_INT16, n, "float32_to_pcm16", "int16")
        dst = <int16_t *>cnp.PyArray_DATA(res)
        if n >= NOGIL_MIN:
            with nogil:
                rt_f32_to_s16(src, dst, n)
        else:
            rt_f32_to_s16(src, dst, n)
    finally:
        PyBuffer_Release(&view)
    return res


def pcm16_to_float32(x, out=None):
    """Convert PCM16 to float32 samples: x / 32768 (exact; float32_to_pcm16 inverts it).

    ``x`` is a C-contiguous int16 ndarray (the result keeps its shape) or a bytes-like object of
    little-endian int16 (the result is 1-D). ``out``, when given, is a writable C-contiguous
    float32 array with as many elements, filled and returned. Raises
    :class:`~rtsdk.exceptions.AudioFormatError` for a wrong dtype, an odd byte count, a
    non-contiguous input or an unsuitable ``out``.
    """
    cdef Py_buffer view
    cdef Py_ssize_t n = get_input(x, cnp.NPY_INT16, 2, "pcm16_to_float32", "int16", True, &view)
    cdef const int16_t *src = <const int16_t *>view.buf
    cdef float *dst
    cdef cnp.ndarray res
    try:
        res = new_output(x, out, cnp.NPY_FLOAT32, n, "pcm16_to_float32", "float32")
        dst = <float *>cnp.PyArray_DATA(res)
        if n >= NOGIL_MIN:
            with nogil:
                rt_s16_to_f32(src, dst, n)
        else:
            rt_s16_to_f32(src, dst, n)
    finally:
        PyBuffer_Release(&view)
    return res
