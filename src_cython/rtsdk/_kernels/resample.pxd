# C-level face of rtsdk._kernels.resample: other kernels
# `from rtsdk._kernels.resample cimport Resampler` and call process_into without the GIL.
from libc.stdint cimport int64_t


cdef extern from "resample_dot.h" nogil:
    ctypedef struct rs_cfg:
        const float *table
        int64_t up
        int64_t down
        int64_t taps
        int lanes
        int half
        float center
        int64_t hist


cdef class Resampler:
    cdef readonly int in_rate
    cdef readonly int out_rate
    cdef readonly int channels
    cdef readonly str quality
    cdef readonly double delay
    cdef object _design        # keeps the shared float32 table alive
    cdef rs_cfg _cfg
    cdef int64_t _length, _flush
    cdef float *_hist          # channels x history samples (C heap)
    cdef int64_t _n_in, _n_out
    cdef bint _done

    # Output frames the next process_into(frames, last) writes.
    cdef Py_ssize_t out_frames(self, Py_ssize_t frames, bint last) noexcept nogil
    # Resample `frames` interleaved frames from x into out (out_frames(frames, last) * channels
    # floats). Returns the frames written, or -1 after last=True (reset() first). Trusts its
    # arguments; allocates nothing.
    cdef Py_ssize_t process_into(self, const float *x, Py_ssize_t frames, bint last,
                                 float *out) noexcept nogil
