# C-level ITU-T G.711 over raw pointers (src_cython/includes/rt_g711.h), for other kernels:
# `from g711 cimport ...` (extern declarations only: no runtime import). The loops read lookup
# tables private to each including module: call rt_g711_init() once at module import first.

from libc.stdint cimport int16_t, uint8_t

cdef extern from "rt_g711.h" nogil:
    void rt_g711_init()
    uint8_t rt_ulaw_encode1(int16_t pcm)
    int16_t rt_ulaw_decode1(uint8_t code)
    uint8_t rt_alaw_encode1(int16_t pcm)
    int16_t rt_alaw_decode1(uint8_t code)
    void rt_pcm16_to_ulaw(const int16_t *src, uint8_t *dst, Py_ssize_t n)
    void rt_pcm16_to_alaw(const int16_t *src, uint8_t *dst, Py_ssize_t n)
    void rt_ulaw_to_pcm16(const uint8_t *src, int16_t *dst, Py_ssize_t n)
    void rt_alaw_to_pcm16(const uint8_t *src, int16_t *dst, Py_ssize_t n)
    void rt_pcm16_to_ulaw_calc(const int16_t *src, uint8_t *dst, Py_ssize_t n)
    void rt_pcm16_to_alaw_calc(const int16_t *src, uint8_t *dst, Py_ssize_t n)
