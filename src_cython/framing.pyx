# cython: freethreading_compatible = False
"""Audio event framing (compiled): see :mod:`rtsdk._reference.framing` for the contract.

:func:`encode_append` sizes the frame once and writes the JSON text and the base64 straight into
one ``bytes`` (the head of an append of another type comes from a dict, made once per type).
:func:`decode_audio_delta` and :func:`decode_session_audio_delta` run a validating C scanner
(``includes/json_delta_scan.h``) that answers only when certain; every other frame goes through
the twin's ``json.loads`` path, which decides (same results, same errors).
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_CheckExact
from cpython.bytearray cimport PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_FromStringAndSize
from cpython.bytes cimport PyBytes_GET_SIZE
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.ref cimport Py_INCREF
from cpython.unicode cimport PyUnicode_CheckExact
from libc.string cimport memcmp, memcpy

from b64 cimport (
    rt_b64_decode_data,
    rt_b64_decoded_len,
    rt_b64_encode,
    rt_b64_encoded_len,
    rt_b64_init,
    rt_b64_select,
)

import json

from rtsdk._reference.framing import MAX_APPEND_BYTES
from rtsdk._reference.framing import decode_audio_delta as _slow
from rtsdk._reference.framing import decode_session_audio_delta as _slow_session
from rtsdk.exceptions import AudioFormatError

__all__ = ["decode_audio_delta", "decode_session_audio_delta", "encode_append"]

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object o)
    int PyUnicode_KIND(object o)
    void *PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    object PyUnicode_DecodeASCII(const char *s, Py_ssize_t size, const char *errors)

include "json_delta_scan.pxi"

rt_b64_init()
rt_b64_select(1)


def _set_simd(bint enabled):
    """Tests only: use the AVX2 base64 paths when the CPU has them (True) or the portable ones.

    Returns whether the AVX2 paths are now in use. Not thread-safe.
    """
    return bool(rt_b64_select(enabled))


cdef const char *_ID_KEY = b',"event_id":'
cdef Py_ssize_t _ID_KEY_LEN = 12
cdef Py_ssize_t _AUDIO_KEY_LEN = 10  # ',"audio":"', how every append head ends
cdef Py_ssize_t _MAX_AUDIO = MAX_APPEND_BYTES

cdef const char *_GA = b"response.output_audio.delta"
cdef const char *_BETA = b"response.audio.delta"
cdef const char *_SESSION = b"session.output_audio.delta"

_dumps = json.dumps


include "json_text.pxi"
include "result_tuple.pxi"
include "append_text.pxi"


cdef bytes _id_frame(const char *head, Py_ssize_t head_len, const unsigned char *src,
                     Py_ssize_t n, object event_id):
    """The append frame of ``head`` (``{"type":"...","audio":"``) with ``"event_id"`` after
    the type."""
    cdef Py_ssize_t enc = <Py_ssize_t>rt_b64_encoded_len(<size_t>n)
    cdef Py_ssize_t idlen = 0, total
    cdef Py_ssize_t type_len = head_len - _AUDIO_KEY_LEN
    cdef const unsigned char *idp = NULL
    cdef object owner
    cdef bytes out
    cdef char *dst
    cdef size_t written
    cdef bint quote = False
    if not isinstance(event_id, str):
        raise TypeError(f"event_id must be a str or None, got {type(event_id).__name__}")
    owner = _json_str(event_id, &idp, &idlen)
    quote = owner is event_id
    total = head_len + _ID_KEY_LEN + idlen + (2 if quote else 0) + enc + 2
    out = PyBytes_FromStringAndSize(NULL, total)
    dst = PyBytes_AS_STRING(out)
    memcpy(dst, head, type_len)
    memcpy(dst + type_len, _ID_KEY, _ID_KEY_LEN)
    dst = _put_json_str(dst + type_len + _ID_KEY_LEN, idp, idlen, quote)
    memcpy(dst, head + type_len, _AUDIO_KEY_LEN)
    dst += _AUDIO_KEY_LEN
    if n >= 65536:
        with nogil:
            written = rt_b64_encode(src, <size_t>n, dst)
    else:
        written = rt_b64_encode(src, <size_t>n, dst)
    dst[enc] = 34
    dst[enc + 1] = 125
    return out


cdef inline bytes _frame(const unsigned char *src, Py_ssize_t n, object event_id, object head):
    """The append frame; ``head`` None for input_audio_buffer.append, else another type's."""
    if head is None:
        if event_id is None:
            return _append_frame(src, n)
        return _id_frame(_HEAD, _HEAD_LEN, src, n, event_id)
    if event_id is None:
        return _append_frame_at(PyBytes_AS_STRING(head), PyBytes_GET_SIZE(head), src, n)
    return _id_frame(PyBytes_AS_STRING(head), PyBytes_GET_SIZE(head), src, n, event_id)


cdef inline int _check_len(Py_ssize_t n, int sample_width) except -1:
    if sample_width == 2:
        if n & 1:
            raise AudioFormatError(
                f"PCM16 audio must hold a whole number of samples, got an odd byte count ({n})")
    elif sample_width != 1:
        raise ValueError(f"sample_width must be 1 (G.711) or 2 (PCM16), got {sample_width!r}")
    if n > _MAX_AUDIO:
        raise ValueError(f"one append carries at most {_MAX_AUDIO} bytes of audio, got {n}")
    return 0


def encode_append(audio, event_id=None, *, int sample_width=2, event_type=None):
    """Return the UTF-8 text frame ``{"type":"input_audio_buffer.append","audio":"<base64>"}``.

    ``audio`` is any C-contiguous buffer (bytes, an int16 or uint8 array, a memoryview): PCM16
    (``sample_width=2``, an even byte count) or G.711 bytes (``sample_width=1``). With
    ``event_id`` the frame also carries ``"event_id"`` (any ``str``, JSON-escaped), after the
    type. ``event_type`` (1 to 64 of ``A-Z a-z 0-9 _ .``) replaces the type: GPT-Live's
    ``"session.input_audio.append"``, a translation session's
    ``"session.input_audio_buffer.append"``; ``None`` is ``input_audio_buffer.append``. Raises
    :class:`~rtsdk.exceptions.AudioFormatError` for an odd PCM16 byte count,
    :class:`ValueError` above the server's 15 MiB limit or for a malformed ``event_type``.
    """
    cdef Py_buffer view
    cdef Py_ssize_t n
    cdef object head = None
    if event_type is not None:
        head = _type_head(event_type)
    if PyBytes_CheckExact(audio):
        n = PyBytes_GET_SIZE(audio)
        _check_len(n, sample_width)
        return _frame(<const unsigned char *>PyBytes_AS_STRING(audio), n, event_id, head)
    try:
        PyObject_GetBuffer(audio, &view, PyBUF_SIMPLE)
    except (BufferError, ValueError) as exc:
        raise AudioFormatError(f"audio must be a C-contiguous buffer ({exc})") from None
    try:
        _check_len(view.len, sample_width)
        return _frame(<const unsigned char *>view.buf, view.len, event_id, head)
    finally:
        PyBuffer_Release(&view)


cdef object _pcm_of(const unsigned char *delta, size_t dlen):
    """The bytes of the plain base64 ``delta[:dlen]``, else NotImplemented."""
    cdef size_t ndata = 0
    cdef Py_ssize_t out_len = rt_b64_decoded_len(delta, dlen, &ndata)
    if out_len < 0:
        return NotImplemented
    cdef bytes pcm = PyBytes_FromStringAndSize(NULL, out_len)
    cdef unsigned char *dst = <unsigned char *>PyBytes_AS_STRING(pcm)
    cdef int rc
    if out_len >= 65536:
        with nogil:
            rc = rt_b64_decode_data(delta, ndata, dst)
    else:
        rc = rt_b64_decode_data(delta, ndata, dst)
    if rc:
        return NotImplemented
    return pcm


cdef object _delta_result(rt_scan_t *st):
    """The tuple for a scanned GA/beta audio delta with plain ids and delta, else NotImplemented."""
    cdef const unsigned char *rid = st.val[RT_KEY_RID]
    cdef const unsigned char *iid = st.val[RT_KEY_IID]
    cdef const unsigned char *delta = st.val[RT_KEY_DELTA]
    if rid == NULL or iid == NULL or delta == NULL:
        return NotImplemented
    cdef object pcm = _pcm_of(delta, st.len[RT_KEY_DELTA])
    if pcm is NotImplemented:
        return NotImplemented
    cdef object rs = PyUnicode_DecodeASCII(<const char *>rid, st.len[RT_KEY_RID], NULL)
    cdef object its = PyUnicode_DecodeASCII(<const char *>iid, st.len[RT_KEY_IID], NULL)
    return _tuple3(rs, its, pcm)


cdef int _scan(object frame, rt_scan_t *st):
    """Scan a bytes, 1-byte-kind str or bytearray frame: 1 when the scanner is certain (``st``
    filled in), 0 when the twin's json.loads path must decide."""
    cdef const unsigned char *p
    cdef Py_ssize_t n
    cdef int allow_high = 0
    cdef int rc
    cdef bint immutable = True
    if PyBytes_CheckExact(frame):
        p = <const unsigned char *>PyBytes_AS_STRING(frame)
        n = PyBytes_GET_SIZE(frame)
    elif PyUnicode_CheckExact(frame) and PyUnicode_KIND(frame) == 1:
        p = <const unsigned char *>PyUnicode_DATA(frame)
        n = PyUnicode_GET_LENGTH(frame)
        allow_high = not PyUnicode_IS_ASCII(frame)
    elif PyByteArray_CheckExact(frame):
        # Scanned in place: the scanner runs with the GIL held, so nothing can resize it.
        p = <const unsigned char *>PyByteArray_AS_STRING(frame)
        n = PyByteArray_GET_SIZE(frame)
        immutable = False
    else:
        return 0
    if n >= 1048576 and immutable:
        with nogil:
            rc = rt_scan_event(p, <size_t>n, allow_high, st)
    else:
        rc = rt_scan_event(p, <size_t>n, allow_high, st)
    return rc


def decode_audio_delta(frame):
    """Return ``(response_id, item_id, pcm_bytes)`` of an output audio delta frame, else ``None``.

    ``frame`` is the text of one server event (``str``, or UTF-8 ``bytes``). Any valid event of
    another type gives ``None``. Raises :class:`ValueError` for invalid JSON, a non-object, a
    missing or non-string ``type``, or an audio delta whose ``response_id``/``item_id``/``delta``
    is missing, not a string, or (``delta``) not valid base64.
    """
    cdef rt_scan_t st
    if not _scan(frame, &st):
        return _slow(frame)
    cdef const unsigned char *t = st.val[RT_KEY_TYPE]
    cdef size_t tlen = st.len[RT_KEY_TYPE]
    if ((tlen == 27 and memcmp(t, _GA, 27) == 0)
            or (tlen == 20 and memcmp(t, _BETA, 20) == 0)):
        result = _delta_result(&st)
        if result is NotImplemented:
            return _slow(frame)
        return result
    return None


def decode_session_audio_delta(frame):
    """Return ``("", "", pcm_bytes)`` of a ``session.output_audio.delta`` frame, else ``None``.

    GPT-Live's and translation sessions' output audio: only ``delta`` counts, every other key
    (``event_id``, ``start_ms``/``end_ms``) is ignored. Any valid event of another type (a
    Realtime delta too) gives ``None``. Raises :class:`ValueError` for invalid JSON, a
    non-object, a missing or non-string ``type``, or a session audio delta whose ``delta`` is
    missing, not a string or not valid base64. An odd byte count is returned as decoded.
    """
    cdef rt_scan_t st
    if not _scan(frame, &st):
        return _slow_session(frame)
    if not (st.len[RT_KEY_TYPE] == 26 and memcmp(st.val[RT_KEY_TYPE], _SESSION, 26) == 0):
        return None
    cdef const unsigned char *delta = st.val[RT_KEY_DELTA]
    if delta == NULL:
        return _slow_session(frame)
    pcm = _pcm_of(delta, st.len[RT_KEY_DELTA])
    if pcm is NotImplemented:
        return _slow_session(frame)
    return _tuple3("", "", pcm)
