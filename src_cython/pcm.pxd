# C-level sample conversion over raw pointers, for other kernels: `from pcm cimport ...`.
# Inline (no runtime import of rtsdk._kernels.pcm); loops written so gcc -O3 vectorises them.

from libc.stdint cimport int16_t


cdef inline void rt_f32_to_s16(const float *src, int16_t *dst, Py_ssize_t n) noexcept nogil:
    """dst = saturate(round_half_even(src * 32768)); NaN -> 0, +-inf -> 32767 / -32768."""
    cdef Py_ssize_t i
    cdef float v
    for i in range(n):
        v = src[i] * <float>32768.0
        v = v if v == v else <float>0.0
        v = v if v > <float>-32768.0 else <float>-32768.0
        v = v if v < <float>32767.0 else <float>32767.0
        # 1.5 * 2**23: adding it leaves no fraction bits, so the FPU rounds half to even.
        v = (v + <float>12582912.0) - <float>12582912.0
        dst[i] = <int16_t>v


cdef inline void rt_s16_to_f32(const int16_t *src, float *dst, Py_ssize_t n) noexcept nogil:
    """dst = src / 32768 (exact)."""
    cdef Py_ssize_t i
    for i in range(n):
        dst[i] = <float>src[i] * <float>(1.0 / 32768.0)
