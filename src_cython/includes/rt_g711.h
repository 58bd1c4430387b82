/* ITU-T G.711 u-law and A-law over raw pointers (declared for Cython in src_cython/g711.pxd).
 *
 * Bit-exact with the classic reference coder (the one audioop uses): u-law quantises the top
 * 14 bits of a sample (bias 33, magnitude clipped to 8159), A-law the top 13 (one's-complement
 * magnitude for negatives). The per-sample functions compute a code from that definition with
 * a count-leading-zeros segment search; rt_g711_init() turns them into lookup tables:
 * u-law encode indexed by the top 14 bits (16 KiB), A-law by the top 13 (8 KiB), decoders by
 * code (512 bytes each): 25 KiB in all, against 128 KiB for two full 64 Ki-entry encode tables.
 * Each C translation unit that includes this header has its own tables: call rt_g711_init()
 * once (at module import) before any loop.
 */
#ifndef RT_G711_H
#define RT_G711_H

#include <stddef.h>
#include <stdint.h>

static inline int rt_g711_seg(uint32_t mag, int base)
{
    /* floor(log2(mag)) - base, at least 0; mag > 0 */
    int s = 31 - __builtin_clz(mag) - base;
    return s > 0 ? s : 0;
}

static inline uint8_t rt_ulaw_encode1(int16_t pcm)
{
    int32_t v = pcm >> 2;
    int32_t mask = v >= 0 ? 0xFF : 0x7F;
    int32_t mag = (v >= 0 ? v : -v) + 0x21;
    if (mag > 0x1FFF)
        mag = 0x1FFF; /* 8159 + 33 = 8192 falls in no segment: top code of segment 7 */
    int seg = rt_g711_seg((uint32_t)mag, 5);
    return (uint8_t)(((seg << 4) | ((mag >> (seg + 1)) & 0xF)) ^ mask);
}

static inline int16_t rt_ulaw_decode1(uint8_t code)
{
    int32_t u = ~code & 0xFF;
    int32_t t = (((u & 0xF) << 3) + 0x84) << ((u >> 4) & 7);
    return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

static inline uint8_t rt_alaw_encode1(int16_t pcm)
{
    int32_t v = pcm >> 3;
    int32_t mask = v >= 0 ? 0xD5 : 0x55;
    int32_t mag = v >= 0 ? v : ~v; /* 0 .. 4095 */
    int seg = rt_g711_seg((uint32_t)mag | 1u, 4);
    int shift = seg > 1 ? seg : 1;
    return (uint8_t)(((seg << 4) | ((mag >> shift) & 0xF)) ^ mask);
}

static inline int16_t rt_alaw_decode1(uint8_t code)
{
    int32_t a = code ^ 0x55;
    int32_t seg = (a >> 4) & 7;
    int32_t t = ((a & 0xF) << 4) + (seg == 0 ? 8 : 0x108);
    if (seg > 1)
        t <<= seg - 1;
    return (int16_t)((a & 0x80) ? t : -t);
}

static uint8_t rt_ulaw_enc_tab[1 << 14]; /* by (uint16_t)pcm >> 2 */
static uint8_t rt_alaw_enc_tab[1 << 13]; /* by (uint16_t)pcm >> 3 */
static int16_t rt_ulaw_dec_tab[256];
static int16_t rt_alaw_dec_tab[256];

static void rt_g711_init(void)
{
    for (uint32_t i = 0; i < (1u << 14); i++)
        rt_ulaw_enc_tab[i] = rt_ulaw_encode1((int16_t)(uint16_t)(i << 2));
    for (uint32_t i = 0; i < (1u << 13); i++)
        rt_alaw_enc_tab[i] = rt_alaw_encode1((int16_t)(uint16_t)(i << 3));
    for (uint32_t c = 0; c < 256; c++) {
        rt_ulaw_dec_tab[c] = rt_ulaw_decode1((uint8_t)c);
        rt_alaw_dec_tab[c] = rt_alaw_decode1((uint8_t)c);
    }
}

static void rt_pcm16_to_ulaw(const int16_t *restrict src, uint8_t *restrict dst, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        dst[i] = rt_ulaw_enc_tab[(uint16_t)src[i] >> 2];
}

static void rt_pcm16_to_alaw(const int16_t *restrict src, uint8_t *restrict dst, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        dst[i] = rt_alaw_enc_tab[(uint16_t)src[i] >> 3];
}

static void rt_ulaw_to_pcm16(const uint8_t *restrict src, int16_t *restrict dst, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        dst[i] = rt_ulaw_dec_tab[src[i]];
}

static void rt_alaw_to_pcm16(const uint8_t *restrict src, int16_t *restrict dst, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        dst[i] = rt_alaw_dec_tab[src[i]];
}

/* Table-free encoders (the same codes), kept for comparison and for tests. */
static void rt_pcm16_to_ulaw_calc(const int16_t *restrict src, uint8_t *restrict dst, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        dst[i] = rt_ulaw_encode1(src[i]);
}

static void rt_pcm16_to_alaw_calc(const int16_t *restrict src, uint8_t *restrict dst, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        dst[i] = rt_alaw_encode1(src[i]);
}

#endif
