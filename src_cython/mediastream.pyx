# cython: freethreading_compatible = False
"""Carrier media-stream splicing (compiled): see :mod:`rtsdk._reference.mediastream`.

Both functions copy the base64 text from one JSON frame into a new one, sized once, after a
validating C scan (``includes/media_scan.h`` for carrier messages, ``json_delta_scan.h`` for
server events) and a check of the base64 that decodes into a scratch buffer on the stack and
keeps nothing. A frame the scanners are not certain about goes through the twin's
``json.loads`` path, which decides (same results, same errors).
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_FromStringAndSize
from cpython.bytes cimport PyBytes_GET_SIZE
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
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
from rtsdk._reference.mediastream import delta_to_media as _slow_delta
from rtsdk._reference.mediastream import media_to_append as _slow_media

__all__ = ["delta_to_media", "media_to_append"]

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object o)
    int PyUnicode_KIND(object o)
    void *PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    object PyUnicode_DecodeASCII(const char *s, Py_ssize_t size, const char *errors)
    object PyLong_FromLongLong(long long v)
    object PyLong_FromSsize_t(Py_ssize_t v)

include "json_delta_scan.pxi"

cdef extern from "media_scan.h" nogil:
    int RT_MK_EVENT
    int RT_MK_SEQ
    int RT_MK_TRACK
    int RT_MK_TS
    int RT_MK_PAYLOAD
    ctypedef struct rt_mscan_t:
        const unsigned char *val[7]
        size_t len[7]
        int seen[7]
        int media_object
    int rt_scan_media(const unsigned char *p, size_t n, int allow_high, rt_mscan_t *st)
    long long rt_digits(const unsigned char *s, size_t n)

rt_b64_init()
rt_b64_select(1)

cdef enum:
    SCRATCH_CHARS = 4096  # base64 chars checked per step (3072 bytes of scratch)

cdef const char *_MEDIA = b'{"event":"media","streamSid":'
cdef Py_ssize_t _MEDIA_LEN = 29
cdef const char *_PAYLOAD = b',"media":{"payload":"'
cdef Py_ssize_t _PAYLOAD_LEN = 21
cdef const char *_GA = b"response.output_audio.delta"
cdef const char *_BETA = b"response.audio.delta"
cdef const char *_SESSION = b"session.output_audio.delta"
cdef Py_ssize_t _MAX_AUDIO = MAX_APPEND_BYTES

_dumps = json.dumps


def _set_simd(bint enabled):
    """Tests only: use the AVX2 base64 paths when the CPU has them (True) or the portable ones.

    Returns whether the AVX2 paths are now in use. Not thread-safe.
    """
    return bool(rt_b64_select(enabled))


cdef Py_ssize_t _b64_size(const unsigned char *s, size_t n) noexcept nogil:
    """Decoded length of strict standard base64, or -1 when it is not valid."""
    cdef size_t ndata = 0
    cdef Py_ssize_t out_len = rt_b64_decoded_len(s, n, &ndata)
    cdef unsigned char scratch[3072]
    cdef size_t i = 0, step
    if out_len < 0:
        return -1
    while i < ndata:
        step = ndata - i
        if step > SCRATCH_CHARS:
            step = SCRATCH_CHARS
        if rt_b64_decode_data(s + i, step, scratch):
            return -1
        i += step
    return out_len


include "json_text.pxi"
include "result_tuple.pxi"
include "append_text.pxi"


cdef int _view(object frame, const unsigned char **p, Py_ssize_t *n, int *allow_high):
    """Point at the chars of a bytes or 1-byte-kind str; 0 when it is another kind of object."""
    if PyBytes_CheckExact(frame):
        p[0] = <const unsigned char *>PyBytes_AS_STRING(frame)
        n[0] = PyBytes_GET_SIZE(frame)
        allow_high[0] = 0
        return 1
    if PyUnicode_CheckExact(frame) and PyUnicode_KIND(frame) == 1:
        p[0] = <const unsigned char *>PyUnicode_DATA(frame)
        n[0] = PyUnicode_GET_LENGTH(frame)
        allow_high[0] = not PyUnicode_IS_ASCII(frame)
        return 1
    return 0


def media_to_append(frame, *, event_type=None):
    """``(sequence_number, timestamp_ms, append_frame)`` of a carrier ``media`` message.

    ``None`` for any other valid message and for media of a track other than ``"inbound"``.
    ``event_type``: the append's type when not ``input_audio_buffer.append``. Raises
    :class:`ValueError` for malformed input (see the twin for the exact contract).
    """
    cdef const char *head = _HEAD
    cdef Py_ssize_t head_len = _HEAD_LEN
    cdef bytes typed
    if event_type is not None:
        typed = _type_head(event_type)
        head = PyBytes_AS_STRING(typed)
        head_len = PyBytes_GET_SIZE(typed)
    cdef const unsigned char *p
    cdef Py_ssize_t n
    cdef int allow_high
    cdef rt_mscan_t st
    cdef long long seq, ts
    cdef Py_ssize_t plen, nbytes
    cdef const unsigned char *payload
    cdef const unsigned char *track
    if not _view(frame, &p, &n, &allow_high) or not rt_scan_media(p, <size_t>n, allow_high, &st):
        return _slow_media(frame, event_type=event_type)
    if not (st.len[RT_MK_EVENT] == 5 and memcmp(st.val[RT_MK_EVENT], b"media", 5) == 0):
        return None
    if not st.media_object:
        return _slow_media(frame, event_type=event_type)
    track = st.val[RT_MK_TRACK]
    if st.seen[RT_MK_TRACK] and not (
            track != NULL and st.len[RT_MK_TRACK] == 7 and memcmp(track, b"inbound", 7) == 0):
        return _slow_media(frame, event_type=event_type)
    seq = rt_digits(st.val[RT_MK_SEQ], st.len[RT_MK_SEQ])
    ts = rt_digits(st.val[RT_MK_TS], st.len[RT_MK_TS])
    payload = st.val[RT_MK_PAYLOAD]
    if seq < 0 or ts < 0 or payload == NULL:
        return _slow_media(frame, event_type=event_type)
    plen = <Py_ssize_t>st.len[RT_MK_PAYLOAD]
    nbytes = _b64_size(payload, <size_t>plen)
    if nbytes <= 0 or nbytes > _MAX_AUDIO:
        return _slow_media(frame, event_type=event_type)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, head_len + plen + 2)
    cdef char *dst = PyBytes_AS_STRING(out)
    memcpy(dst, head, head_len)
    memcpy(dst + head_len, payload, plen)
    dst[head_len + plen] = 34
    dst[head_len + plen + 1] = 125
    cdef object a = PyLong_FromLongLong(seq)
    cdef object b = PyLong_FromLongLong(ts)
    return _tuple3(a, b, out)


def delta_to_media(frame, stream_sid):
    """``(response_id, item_id, nbytes, media_message)`` of an output audio delta frame
    (``("", "", nbytes, media_message)`` for an id-less ``session.output_audio.delta``).

    ``None`` for any other valid event. Raises :class:`ValueError` for malformed input and
    :class:`TypeError` for a ``stream_sid`` that is not a ``str`` (see the twin).
    """
    cdef const unsigned char *p
    cdef Py_ssize_t n
    cdef int allow_high
    cdef rt_scan_t st
    cdef const unsigned char *t
    cdef size_t tlen
    cdef const unsigned char *sidp
    cdef Py_ssize_t sidlen
    cdef bint quote
    cdef bint session = False
    if not PyUnicode_CheckExact(stream_sid):
        return _slow_delta(frame, stream_sid)
    if not _view(frame, &p, &n, &allow_high) or not rt_scan_event(p, <size_t>n, allow_high, &st):
        return _slow_delta(frame, stream_sid)
    t = st.val[RT_KEY_TYPE]
    tlen = st.len[RT_KEY_TYPE]
    if tlen == 26 and memcmp(t, _SESSION, 26) == 0:
        session = True
    elif not ((tlen == 27 and memcmp(t, _GA, 27) == 0)
              or (tlen == 20 and memcmp(t, _BETA, 20) == 0)):
        return None
    cdef const unsigned char *rid = st.val[RT_KEY_RID]
    cdef const unsigned char *iid = st.val[RT_KEY_IID]
    cdef const unsigned char *delta = st.val[RT_KEY_DELTA]
    if delta == NULL or (not session and (rid == NULL or iid == NULL)):
        return _slow_delta(frame, stream_sid)
    cdef Py_ssize_t dlen = <Py_ssize_t>st.len[RT_KEY_DELTA]
    cdef Py_ssize_t nbytes = _b64_size(delta, <size_t>dlen)
    if nbytes < 0:
        return _slow_delta(frame, stream_sid)
    cdef object owner = _json_str(stream_sid, &sidp, &sidlen)
    quote = owner is stream_sid
    cdef Py_ssize_t total = _MEDIA_LEN + sidlen + (2 if quote else 0) + _PAYLOAD_LEN + dlen + 3
    cdef bytes out = PyBytes_FromStringAndSize(NULL, total)
    cdef char *dst = PyBytes_AS_STRING(out)
    memcpy(dst, _MEDIA, _MEDIA_LEN)
    dst = _put_json_str(dst + _MEDIA_LEN, sidp, sidlen, quote)
    memcpy(dst, _PAYLOAD, _PAYLOAD_LEN)
    dst += _PAYLOAD_LEN
    memcpy(dst, delta, dlen)
    dst[dlen] = 34
    dst[dlen + 1] = 125
    dst[dlen + 2] = 125
    cdef object nb = PyLong_FromSsize_t(nbytes)
    if session:
        return _tuple4("", "", nb, out)
    cdef object rs = PyUnicode_DecodeASCII(<const char *>rid, st.len[RT_KEY_RID], NULL)
    cdef object its = PyUnicode_DecodeASCII(<const char *>iid, st.len[RT_KEY_IID], NULL)
    return _tuple4(rs, its, nb, out)
