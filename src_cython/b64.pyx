# cython: freethreading_compatible = False
"""Standard base64 (compiled): see :mod:`rtsdk._reference.b64` for the contract."""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_FromStringAndSize
from cpython.bytes cimport PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_Check

from b64 cimport (
    rt_b64_decode_data,
    rt_b64_decoded_len,
    rt_b64_encode,
    rt_b64_encoded_len,
    rt_b64_init,
    rt_b64_select,
    rt_b64_strerror,
)

__all__ = ["b64decode", "b64encode"]

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object o)
    void *PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)

cdef enum:
    # Inputs at least this long are coded with the GIL released.
    NOGIL_MIN = 65536

rt_b64_init()
rt_b64_select(1)


def _set_simd(bint enabled):
    """Tests only: use the AVX2 base64 paths when the CPU has them (True) or the portable ones.

    Returns whether the AVX2 paths are now in use. Not thread-safe.
    """
    return bool(rt_b64_select(enabled))


cdef str b64_error_message(Py_ssize_t code, Py_ssize_t ndata):
    return f"invalid base64 ({ndata} data characters): {rt_b64_strerror(code).decode()}"


cdef bytes b64_decode_ptr(const unsigned char *src, Py_ssize_t n):
    """Decode n chars at src; raises ValueError when they are not valid base64."""
    cdef size_t ndata = 0
    cdef Py_ssize_t out_len = rt_b64_decoded_len(src, <size_t>n, &ndata)
    cdef int rc
    if out_len < 0:
        raise ValueError(b64_error_message(out_len, <Py_ssize_t>ndata))
    cdef bytes out = PyBytes_FromStringAndSize(NULL, out_len)
    cdef unsigned char *dst = <unsigned char *>PyBytes_AS_STRING(out)
    if n >= NOGIL_MIN:
        with nogil:
            rc = rt_b64_decode_data(src, ndata, dst)
    else:
        rc = rt_b64_decode_data(src, ndata, dst)
    if rc:
        raise ValueError(b64_error_message(rc, <Py_ssize_t>ndata))
    return out


cdef bytes _encode_ptr(const unsigned char *src, Py_ssize_t n):
    cdef bytes out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>rt_b64_encoded_len(<size_t>n))
    cdef char *dst = PyBytes_AS_STRING(out)
    cdef size_t written
    if n >= NOGIL_MIN:
        with nogil:
            written = rt_b64_encode(src, <size_t>n, dst)
    else:
        written = rt_b64_encode(src, <size_t>n, dst)
    return out


def b64encode(buf):
    """Return the standard base64 encoding (with ``=`` padding) of a C-contiguous buffer."""
    cdef Py_buffer view
    if PyBytes_CheckExact(buf):
        return _encode_ptr(<const unsigned char *>PyBytes_AS_STRING(buf), PyBytes_GET_SIZE(buf))
    PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE)
    try:
        return _encode_ptr(<const unsigned char *>view.buf, view.len)
    finally:
        PyBuffer_Release(&view)


def b64decode(data):
    """Decode standard base64 (bytes-like or ASCII ``str``); strict: no whitespace, no other chars.

    Raises :class:`ValueError` for a character outside the alphabet, bad padding or a length that
    cannot be base64, and for a ``str`` holding non-ASCII characters.
    """
    cdef Py_buffer view
    if PyBytes_CheckExact(data):
        return b64_decode_ptr(<const unsigned char *>PyBytes_AS_STRING(data),
                              PyBytes_GET_SIZE(data))
    if PyUnicode_Check(data):
        if not PyUnicode_IS_ASCII(data):
            raise ValueError("base64 text must contain only ASCII characters")
        return b64_decode_ptr(<const unsigned char *>PyUnicode_DATA(data),
                              PyUnicode_GET_LENGTH(data))
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        return b64_decode_ptr(<const unsigned char *>view.buf, view.len)
    finally:
        PyBuffer_Release(&view)
