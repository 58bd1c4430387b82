# cython: freethreading_compatible = False
"""ITU-T G.711 u-law and A-law (compiled): see :mod:`rtsdk._reference.g711`."""

cimport numpy as cnp
from libc.stdint cimport int16_t, uint8_t

from g711 cimport (
    rt_alaw_to_pcm16,
    rt_g711_init,
    rt_pcm16_to_alaw,
    rt_pcm16_to_alaw_calc,
    rt_pcm16_to_ulaw,
    rt_pcm16_to_ulaw_calc,
    rt_ulaw_to_pcm16,
)

from rtsdk.exceptions import AudioFormatError

__all__ = ["alaw_to_pcm16", "pcm16_to_alaw", "pcm16_to_ulaw", "ulaw_to_pcm16"]

cnp.import_array()
rt_g711_init()

include "audio_args.pxi"

cdef enum:
    # Inputs at least this long are coded with the GIL released.
    NOGIL_MIN = 65536


def pcm16_to_ulaw(x, out=None):
    """Encode PCM16 to G.711 u-law codes (one byte per sample).

    ``x`` is a C-contiguous int16 ndarray (the result keeps its shape) or a bytes-like object of
    little-endian int16 (even byte count; the result is 1-D).
    ``out``, when given, is a writable C-contiguous uint8 array with as
    many elements, filled and returned. Bit-exact with the ITU-T G.711 reference coder
    (and ``audioop``). Raises :class:`~rtsdk.exceptions.AudioFormatError` for bad input.
    """
    cdef Py_buffer view
    cdef Py_ssize_t n = get_input(x, cnp.NPY_INT16, 2, "pcm16_to_ulaw", "int16", True, &view)
    cdef const int16_t *src = <const int16_t *>view.buf
    cdef uint8_t *dst
    cdef cnp.ndarray res
    try:
        res = new_output(x, out, cnp.NPY_UINT8, n, "pcm16_to_ulaw", "uint8")
        dst = <uint8_t *>cnp.PyArray_DATA(res)
        if n >= NOGIL_MIN:
            with nogil:
                rt_pcm16_to_ulaw(src, dst, n)
        else:
            rt_pcm16_to_ulaw(src, dst, n)
    finally:
        PyBuffer_Release(&view)
    return res


def ulaw_to_pcm16(x, out=None):
    """Decode G.711 u-law codes to PCM16.

    ``x`` is a C-contiguous uint8 ndarray (the result keeps its shape) or any bytes-like object
    (the result is 1-D). ``out``, when given, is a writable C-contiguous int16 array with as
    many elements, filled and returned. Bit-exact with the ITU-T G.711 reference coder
    (and ``audioop``). Raises :class:`~rtsdk.exceptions.AudioFormatError` for bad input.
    """
    cdef Py_buffer view
    cdef Py_ssize_t n = get_input(x, cnp.NPY_UINT8, 1, "ulaw_to_pcm16", "uint8", True, &view)
    cdef const uint8_t *src = <const uint8_t *>view.buf
    cdef int16_t *dst
    cdef cnp.ndarray res
    try:
        res = new_output(x, out, cnp.NPY_INT16, n, "ulaw_to_pcm16", "int16")
        dst = <int16_t *>cnp.PyArray_DATA(res)
        if n >= NOGIL_MIN:
            with nogil:
                rt_ulaw_to_pcm16(src, dst, n)
        else:
            rt_ulaw_to_pcm16(src, dst, n)
    finally:
        PyBuffer_Release(&view)
    return res


def pcm16_to_alaw(x, out=None):
    """Encode PCM16 to G.711 A-law codes (one byte per sample).

    ``x`` is a C-contiguous int16 ndarray (the result keeps its shape) or a bytes-like object of
    little-endian int16 (even byte count; the result is 1-D).
    ``out``, when given, is a writable C-contiguous uint8 array with as
    many elements, filled and returned. Bit-exact with the ITU-T G.711 reference coder
    (and ``audioop``). Raises :class:`~rtsdk.exceptions.AudioFormatError` for bad input.
    """
    cdef Py_buffer view
    cdef Py_ssize_t n = get_input(x, cnp.NPY_INT16, 2, "pcm16_to_alaw", "int16", True, &view)
    cdef const int16_t *src = <const int16_t *>view.buf
    cdef uint8_t *dst
    cdef cnp.ndarray res
    try:
        res = new_output(x, out, cnp.NPY_UINT8, n, "pcm16_to_alaw", "uint8")
        dst = <uint8_t *>cnp.PyArray_DATA(res)
        if n >= NOGIL_MIN:
            with nogil:
                rt_pcm16_to_alaw(src, dst, n)
        else:
            rt_pcm16_to_alaw(src, dst, n)
    finally:
        PyBuffer_Release(&view)
    return res


def alaw_to_pcm16(x, out=None):
    """Decode G.711 A-law codes to PCM16.

    ``x`` is a C-contiguous uint8 ndarray (the result keeps its shape) or any bytes-like object
    (the result is 1-D). ``out``, when given, is a writable C-contiguous int16 array with as
    many elements, filled and returned. Bit-exact with the ITU-T G.711 reference coder
    (and ``audioop``). Raises :class:`~rtsdk.exceptions.AudioFormatError` for bad input.
    """
    cdef Py_buffer view
    cdef Py_ssize_t n = get_input(x, cnp.NPY_UINT8, 1, "alaw_to_pcm16", "uint8", True, &view)
    cdef const uint8_t *src = <const uint8_t *>view.buf
    cdef int16_t *dst
    cdef cnp.ndarray res
    try:
        res = new_output(x, out, cnp.NPY_INT16, n, "alaw_to_pcm16", "int16")
        dst = <int16_t *>cnp.PyArray_DATA(res)
        if n >= NOGIL_MIN:
            with nogil:
                rt_alaw_to_pcm16(src, dst, n)
        else:
            rt_alaw_to_pcm16(src, dst, n)
    finally:
        PyBuffer_Release(&view)
    return res


def _encode_calc(x, bint alaw, out=None):
    """Tests and benchmarks only: encode PCM16 with the table-free coder (same codes)."""
    cdef Py_buffer view
    cdef Py_ssize_t n = get_input(x, cnp.NPY_INT16, 2, "_encode_calc", "int16", True, &view)
    cdef const int16_t *src = <const int16_t *>view.buf
    cdef uint8_t *dst
    cdef cnp.ndarray res
    try:
        res = new_output(x, out, cnp.NPY_UINT8, n, "_encode_calc", "uint8")
        dst = <uint8_t *>cnp.PyArray_DATA(res)
        if alaw:
            rt_pcm16_to_alaw_calc(src, dst, n)
        else:
            rt_pcm16_to_ulaw_calc(src, dst, n)
    finally:
        PyBuffer_Release(&view)
    return res
