# Argument handling shared by pcm.pyx and g711.pyx (textually included: `include "audio_args.pxi"`).
# Python validates once here, with a message naming what is wrong; the loops then trust.
# Each public conversion is one call of convert() with its sample loop.

cdef extern from "Python.h":
    int PyObject_GetBuffer(object obj, Py_buffer *view, int flags) except -1
    void PyBuffer_Release(Py_buffer *view)
    int PyBUF_SIMPLE

cdef extern from *:
    """
    static inline void rt_borrowed_view(Py_buffer *v, void *buf, Py_ssize_t len) {
        v->buf = buf;
        v->len = len;
        v->obj = NULL;
    }
    """
    void rt_borrowed_view(Py_buffer *v, void *buf, Py_ssize_t len)


cdef enum:
    # ndarrays smaller than this (bytes) are read without a buffer export (see get_input).
    BORROW_MAX = 16384


cdef Py_ssize_t get_input(object x, int typenum, Py_ssize_t itemsize, str fname, str dtname,
                          bint bytes_ok, Py_buffer *view) except -1:
    """Check x and fill view (the caller releases it); return the number of samples.

    x is a C-contiguous native-order ndarray of typenum, or (when bytes_ok) any other
    bytes-like object whose byte count is a multiple of itemsize.
    """
    cdef cnp.ndarray a
    if cnp.PyArray_Check(x):
        a = <cnp.ndarray>x
        if cnp.PyArray_TYPE(a) != typenum or not cnp.PyArray_ISNOTSWAPPED(a):
            raise AudioFormatError(f"{fname}: expected {dtname} samples, got {a.dtype}")
        if not cnp.PyArray_IS_C_CONTIGUOUS(a):
            raise AudioFormatError(f"{fname}: samples must be C-contiguous")
        if cnp.PyArray_NBYTES(a) < BORROW_MAX:
            # The array's own memory, without a buffer export (numpy's costs more than a 20 ms
            # frame's conversion); view.obj NULL makes the caller's PyBuffer_Release a no-op.
            # Only below NOGIL_MIN: the GIL is held throughout, so nothing can resize the
            # array meanwhile.
            rt_borrowed_view(view, cnp.PyArray_DATA(a), cnp.PyArray_NBYTES(a))
            return view.len // itemsize
    elif not bytes_ok:
        raise AudioFormatError(
            f"{fname}: expected a numpy {dtname} array, got {type(x).__name__}"
        )
    try:
        PyObject_GetBuffer(x, view, PyBUF_SIMPLE)
    except (TypeError, BufferError) as exc:
        raise AudioFormatError(
            f"{fname}: expected a {dtname} array or a C-contiguous bytes-like object, "
            f"got {type(x).__name__} ({exc})"
        ) from None
    if view.len % itemsize:
        n = view.len
        PyBuffer_Release(view)
        raise AudioFormatError(
            f"{fname}: {dtname} data needs whole {itemsize}-byte samples, "
            f"got an odd byte count ({n})"
        )
    return view.len // itemsize


cdef cnp.ndarray new_output(object x, object out, int typenum, Py_ssize_t n, str fname,
                            str dtname):
    """The output array: out checked (dtype, contiguity, writable, size), or a new one shaped
    like x when x is an ndarray (1-D otherwise)."""
    cdef cnp.ndarray a
    cdef cnp.npy_intp dim
    if out is None:
        if cnp.PyArray_Check(x):
            a = <cnp.ndarray>x
            return <cnp.ndarray>cnp.PyArray_SimpleNew(
                cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), typenum
            )
        dim = n
        return <cnp.ndarray>cnp.PyArray_SimpleNew(1, &dim, typenum)
    if not cnp.PyArray_Check(out):
        raise AudioFormatError(
            f"{fname}: out must be a numpy {dtname} array, got {type(out).__name__}"
        )
    a = <cnp.ndarray>out
    if cnp.PyArray_TYPE(a) != typenum or not cnp.PyArray_ISNOTSWAPPED(a):
        raise AudioFormatError(f"{fname}: out must have dtype {dtname}, got {a.dtype}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise AudioFormatError(f"{fname}: out must be C-contiguous")
    if not cnp.PyArray_ISWRITEABLE(a):
        raise AudioFormatError(f"{fname}: out is read-only")
    if cnp.PyArray_SIZE(a) != n:
        raise AudioFormatError(
            f"{fname}: out has {cnp.PyArray_SIZE(a)} elements, the input has {n} samples"
        )
    return a


# A sample loop over raw buffers: n samples from src to dst (types fixed by the conversion).
ctypedef void (*sample_loop)(const void *src, void *dst, Py_ssize_t n) noexcept nogil

cdef enum:
    # Inputs at least this long are converted with the GIL released.
    NOGIL_MIN = 65536


cdef cnp.ndarray convert(object x, object out, sample_loop loop, str fname,
                         int in_type, Py_ssize_t in_size, str in_name, bint bytes_ok,
                         int out_type, str out_name, bint nogil_ok=True):
    """Check x and out (see get_input and new_output), run loop from x into the output, return
    the output. Long inputs run with the GIL released when nogil_ok."""
    cdef Py_buffer view
    cdef Py_ssize_t n = get_input(x, in_type, in_size, fname, in_name, bytes_ok, &view)
    cdef cnp.ndarray res
    cdef void *dst
    try:
        res = new_output(x, out, out_type, n, fname, out_name)
        dst = cnp.PyArray_DATA(res)
        if nogil_ok and n >= NOGIL_MIN:
            with nogil:
                loop(view.buf, dst, n)
        else:
            loop(view.buf, dst, n)
    finally:
        PyBuffer_Release(&view)
    return res
