# The input_audio_buffer.append frame without an event id, written in one allocation: shared by
# framing.pyx and append_framer.pyx (textually included after their b64 cimports).

cdef const char *_HEAD = b'{"type":"input_audio_buffer.append","audio":"'
cdef Py_ssize_t _HEAD_LEN = 45


cdef inline bytes _append_frame(const unsigned char *src, Py_ssize_t n):
    """``{"type":"input_audio_buffer.append","audio":"<base64 of src[:n]>"}`` as bytes."""
    cdef Py_ssize_t enc = <Py_ssize_t>rt_b64_encoded_len(<size_t>n)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, _HEAD_LEN + enc + 2)
    cdef char *dst = PyBytes_AS_STRING(out)
    memcpy(dst, _HEAD, _HEAD_LEN)
    dst += _HEAD_LEN
    if n >= 65536:
        with nogil:
            rt_b64_encode(src, <size_t>n, dst)
    else:
        rt_b64_encode(src, <size_t>n, dst)
    dst[enc] = 34
    dst[enc + 1] = 125
    return out
