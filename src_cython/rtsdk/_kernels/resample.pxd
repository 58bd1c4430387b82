# C-level face of rtsdk._kernels.resample, for other kernels to cimport.
from libc.stdint cimport int64_t


cdef class Resampler:
    cdef readonly int in_rate
    cdef readonly int out_rate
    cdef readonly int channels
    cdef readonly str quality
    cdef readonly double delay
    cdef object _design        # keeps the shared float32 table alive
    cdef const float *_table   # (up, taps), oldest tap first
    cdef int64_t _up, _down, _taps, _length, _flush
    cdef float *_work          # per channel: history (taps - 1) then new input (C heap)
    cdef Py_ssize_t _cap       # floats per channel row of _work
    cdef int64_t _n_in, _n_out
    cdef bint _done

    # Output frames the next process_into(frames, last) writes.
    cdef Py_ssize_t out_frames(self, Py_ssize_t frames, bint last) noexcept nogil
    # Resample ``frames`` interleaved frames from x into out (out_frames(...) * channels
    # floats). Returns the frames written, or -1 after last=True (reset first) or when out of
    # memory. Trusts its arguments.
    cdef Py_ssize_t process_into(self, const float *x, Py_ssize_t frames, bint last,
                                 float *out) noexcept nogil
    cdef int _grow(self, Py_ssize_t frames) noexcept nogil
