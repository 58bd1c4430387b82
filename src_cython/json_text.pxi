# Writing a JSON string value into a frame being built, shared by framing.pyx and mediastream.pyx
# (textually included: `include "json_text.pxi"`, after their `Python.h` declarations and `_dumps`).
# A plain ASCII str is copied between quotes straight from its data; anything else takes
# json.dumps, so the bytes are those json.dumps would give in every case.


cdef inline bint _plain_ascii(const unsigned char *s, Py_ssize_t n) noexcept nogil:
    """True when s can go between JSON quotes as is."""
    cdef Py_ssize_t i
    cdef unsigned char c
    for i in range(n):
        c = s[i]
        if c < 0x20 or c >= 0x7f or c == 34 or c == 92:
            return False
    return True


cdef inline object _json_str(object s, const unsigned char **p, Py_ssize_t *n):
    """Point p/n at the JSON text of the str s; return the object that owns those bytes.

    That owner is s itself when its text goes between quotes as is (the caller adds the quotes:
    see _put_json_str), else the bytes of json.dumps(s), quotes included. Keep it alive while
    p is in use.
    """
    cdef bytes quoted
    if (PyUnicode_CheckExact(s) and PyUnicode_IS_ASCII(s)
            and _plain_ascii(<const unsigned char *>PyUnicode_DATA(s), PyUnicode_GET_LENGTH(s))):
        p[0] = <const unsigned char *>PyUnicode_DATA(s)
        n[0] = PyUnicode_GET_LENGTH(s)
        return s
    quoted = (<str>_dumps(s)).encode("ascii")
    p[0] = <const unsigned char *>PyBytes_AS_STRING(quoted)
    n[0] = PyBytes_GET_SIZE(quoted)
    return quoted


cdef inline char *_put_json_str(char *dst, const unsigned char *p, Py_ssize_t n,
                                bint quote) noexcept nogil:
    """Write the n bytes at p, between double quotes when quote; return the end."""
    if quote:
        dst[0] = 34
        memcpy(dst + 1, p, n)
        dst[n + 1] = 34
        return dst + n + 2
    memcpy(dst, p, n)
    return dst + n
