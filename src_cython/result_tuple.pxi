# Result tuples built without the argument parsing of a Python-level tuple(), shared by
# framing.pyx and mediastream.pyx (textually included: `include "result_tuple.pxi"`).


cdef inline tuple _tuple3(object a, object b, object c):
    cdef tuple t = PyTuple_New(3)
    Py_INCREF(a)
    PyTuple_SET_ITEM(t, 0, a)
    Py_INCREF(b)
    PyTuple_SET_ITEM(t, 1, b)
    Py_INCREF(c)
    PyTuple_SET_ITEM(t, 2, c)
    return t


cdef inline tuple _tuple4(object a, object b, object c, object d):
    cdef tuple t = PyTuple_New(4)
    Py_INCREF(a)
    PyTuple_SET_ITEM(t, 0, a)
    Py_INCREF(b)
    PyTuple_SET_ITEM(t, 1, b)
    Py_INCREF(c)
    PyTuple_SET_ITEM(t, 2, c)
    Py_INCREF(d)
    PyTuple_SET_ITEM(t, 3, d)
    return t
