# C-level float32 <-> PCM16 over raw pointers (src_cython/includes/rt_pcm.h), for other
# kernels: `from pcm cimport rt_f32_to_s16` (extern declarations only: no runtime import).

from libc.stdint cimport int16_t

cdef extern from "rt_pcm.h" nogil:
    # dst = saturate(round_half_even(src * 32768)); NaN -> 0, +-inf -> 32767 / -32768.
    void rt_f32_to_s16(const float *src, int16_t *dst, Py_ssize_t n)
    # dst = src / 32768 (exact).
    void rt_s16_to_f32(const int16_t *src, float *dst, Py_ssize_t n)
