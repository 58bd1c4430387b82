# The append frame without an event id, written in one allocation: shared by framing.pyx,
# append_framer.pyx and mediastream.pyx (textually included after their b64 cimports and their
# cpython.bytes / cpython.unicode cimports).

from rtsdk._reference.framing import APPEND_HEADS, append_head

cdef const char *_HEAD = b'{"type":"input_audio_buffer.append","audio":"'
cdef Py_ssize_t _HEAD_LEN = 45
cdef dict _HEADS = APPEND_HEADS


cdef inline bytes _type_head(object event_type):
    """``{"type":"<event_type>","audio":"`` (a dict lookup once the type has been seen; a
    malformed event_type raises ValueError naming it)."""
    cdef object head
    if PyUnicode_CheckExact(event_type):
        head = _HEADS.get(event_type)
        if head is not None:
            return <bytes>head
    return append_head(event_type)


cdef inline bytes _append_frame_at(const char *head, Py_ssize_t head_len,
                                   const unsigned char *src, Py_ssize_t n):
    """``<head><base64 of src[:n]>"}`` as bytes, head being ``{"type":"...","audio":"``."""
    cdef Py_ssize_t enc = <Py_ssize_t>rt_b64_encoded_len(<size_t>n)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, head_len + enc + 2)
    cdef char *dst = PyBytes_AS_STRING(out)
    memcpy(dst, head, head_len)
    dst += head_len
    if n >= 65536:
        with nogil:
            rt_b64_encode(src, <size_t>n, dst)
    else:
        rt_b64_encode(src, <size_t>n, dst)
    dst[enc] = 34
    dst[enc + 1] = 125
    return out


cdef inline bytes _append_frame(const unsigned char *src, Py_ssize_t n):
    """``{"type":"input_audio_buffer.append","audio":"<base64 of src[:n]>"}`` as bytes."""
    return _append_frame_at(_HEAD, _HEAD_LEN, src, n)
