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


# The sample loops, typed for convert() (audio_args.pxi).
cdef void ulaw_enc(const void *s, void *d, Py_ssize_t n) noexcept nogil:
    rt_pcm16_to_ulaw(<const int16_t *>s, <uint8_t *>d, n)


cdef void ulaw_dec(const void *s, void *d, Py_ssize_t n) noexcept nogil:
    rt_ulaw_to_pcm16(<const uint8_t *>s, <int16_t *>d, n)


cdef void alaw_enc(const void *s, void *d, Py_ssize_t n) noexcept nogil:
    rt_pcm16_to_alaw(<const int16_t *>s, <uint8_t *>d, n)


cdef void alaw_dec(const void *s, void *d, Py_ssize_t n) noexcept nogil:
    rt_alaw_to_pcm16(<const uint8_t *>s, <int16_t *>d, n)


cdef void ulaw_enc_calc(const void *s, void *d, Py_ssize_t n) noexcept nogil:
    rt_pcm16_to_ulaw_calc(<const int16_t *>s, <uint8_t *>d, n)


cdef void alaw_enc_calc(const void *s, void *d, Py_ssize_t n) noexcept nogil:
    rt_pcm16_to_alaw_calc(<const int16_t *>s, <uint8_t *>d, n)


cdef inline cnp.ndarray encode(x, out, sample_loop loop, str fname):
    return convert(x, out, loop, fname, cnp.NPY_INT16, 2, "int16", True, cnp.NPY_UINT8, "uint8")


cdef inline cnp.ndarray decode(x, out, sample_loop loop, str fname):
    return convert(x, out, loop, fname, cnp.NPY_UINT8, 1, "uint8", True, cnp.NPY_INT16, "int16")


def pcm16_to_ulaw(x, out=None):
    """Encode PCM16 to G.711 u-law codes (one byte per sample).

    ``x`` is a C-contiguous int16 ndarray (the result keeps its shape) or a bytes-like object of
    little-endian int16 (even byte count; the result is 1-D).
    ``out``, when given, is a writable C-contiguous uint8 array with as
    many elements, filled and returned. Bit-exact with the ITU-T G.711 reference coder
    (and ``audioop``). Raises :class:`~rtsdk.exceptions.AudioFormatError` for bad input.
    """
    return encode(x, out, ulaw_enc, "pcm16_to_ulaw")


def ulaw_to_pcm16(x, out=None):
    """Decode G.711 u-law codes to PCM16.

    ``x`` is a C-contiguous uint8 ndarray (the result keeps its shape) or any bytes-like object
    (the result is 1-D). ``out``, when given, is a writable C-contiguous int16 array with as
    many elements, filled and returned. Bit-exact with the ITU-T G.711 reference coder
    (and ``audioop``). Raises :class:`~rtsdk.exceptions.AudioFormatError` for bad input.
    """
    return decode(x, out, ulaw_dec, "ulaw_to_pcm16")


def pcm16_to_alaw(x, out=None):
    """Encode PCM16 to G.711 A-law codes (one byte per sample); arguments, result and errors
    as :func:`pcm16_to_ulaw`."""
    return encode(x, out, alaw_enc, "pcm16_to_alaw")


def alaw_to_pcm16(x, out=None):
    """Decode G.711 A-law codes to PCM16; arguments, result and errors as
    :func:`ulaw_to_pcm16`."""
    return decode(x, out, alaw_dec, "alaw_to_pcm16")


def _encode_calc(x, bint alaw, out=None):
    """Tests and benchmarks only: encode PCM16 with the table-free coder (same codes)."""
    return encode(x, out, alaw_enc_calc if alaw else ulaw_enc_calc, "_encode_calc")
