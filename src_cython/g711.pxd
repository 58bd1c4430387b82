# C-level ITU-T G.711 over raw pointers, for other kernels: `from g711 cimport ...`.
# Inline (no runtime import of rtsdk._kernels.g711). Bit-exact with the classic reference
# coder (the one audioop uses): u-law works on the top 14 bits, A-law on the top 13.

from libc.stdint cimport int16_t, int32_t, uint8_t

cdef extern from *:
    int rt_clz32 "__builtin_clz"(unsigned int x) nogil


cdef inline uint8_t rt_ulaw_encode1(int16_t pcm) noexcept nogil:
    cdef int32_t v = pcm >> 2
    cdef int32_t mask = 0xFF if v >= 0 else 0x7F
    cdef int32_t mag = v if v >= 0 else -v
    mag = mag + 0x21  # bias 33 (132 / 4)
    mag = mag if mag < 0x1FFF else 0x1FFF
    # segment: 0 for mag < 0x40, else floor(log2(mag)) - 5 (at most 7)
    cdef int32_t seg = 26 - rt_clz32(<unsigned int>mag)
    seg = seg if seg > 0 else 0
    return <uint8_t>(((seg << 4) | ((mag >> (seg + 1)) & 0xF)) ^ mask)


cdef inline int16_t rt_ulaw_decode1(uint8_t code) noexcept nogil:
    cdef int32_t u = (~code) & 0xFF
    cdef int32_t t = (((u & 0xF) << 3) + 0x84) << ((u >> 4) & 7)
    return <int16_t>(0x84 - t if u & 0x80 else t - 0x84)


cdef inline uint8_t rt_alaw_encode1(int16_t pcm) noexcept nogil:
    cdef int32_t v = pcm >> 3
    cdef int32_t mask = 0xD5 if v >= 0 else 0x55
    cdef int32_t mag = v if v >= 0 else ~v
    # segment: 0 for mag < 0x20, else floor(log2(mag)) - 4 (at most 7, as mag < 4096)
    cdef int32_t seg = 27 - rt_clz32(<unsigned int>(mag | 1))
    seg = seg if seg > 0 else 0
    cdef int32_t shift = seg if seg > 1 else 1
    return <uint8_t>(((seg << 4) | ((mag >> shift) & 0xF)) ^ mask)


cdef inline int16_t rt_alaw_decode1(uint8_t code) noexcept nogil:
    cdef int32_t a = code ^ 0x55
    cdef int32_t seg = (a >> 4) & 7
    cdef int32_t t = ((a & 0xF) << 4) + (8 if seg == 0 else 0x108)
    t = t << (seg - 1) if seg > 1 else t
    return <int16_t>(t if a & 0x80 else -t)


cdef inline void rt_pcm16_to_ulaw(const int16_t *src, uint8_t *dst, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        dst[i] = rt_ulaw_encode1(src[i])


cdef inline void rt_ulaw_to_pcm16(const uint8_t *src, int16_t *dst, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        dst[i] = rt_ulaw_decode1(src[i])


cdef inline void rt_pcm16_to_alaw(const int16_t *src, uint8_t *dst, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        dst[i] = rt_alaw_encode1(src[i])


cdef inline void rt_alaw_to_pcm16(const uint8_t *src, int16_t *dst, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        dst[i] = rt_alaw_decode1(src[i])
