# Growing a kernel's C scratch buffer, shared by delta_player.pyx and append_framer.pyx
# (textually included after `from libc.stdlib cimport realloc`).


cdef inline void *_regrow(void *p, size_t nbytes) except NULL:
    """``realloc(p, nbytes)`` (at least one byte); MemoryError when it fails (p is kept)."""
    cdef void *q = realloc(p, nbytes if nbytes else 1)
    if q == NULL:
        raise MemoryError()
    return q
