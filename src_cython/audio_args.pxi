# Argument checks shared by pcm.pyx and g711.pyx (textually included: `include "audio_args.pxi"`).
# Python validates once here, with a message naming what is wrong; the loops then trust.

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
            # Only below every NOGIL_MIN: the GIL is held throughout, so nothing can resize
            # the array meanwhile.
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
