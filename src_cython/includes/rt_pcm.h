/* float32 <-> PCM16 loops over raw pointers (declared for Cython in src_cython/pcm.pxd).
 *
 * float -> int16: y = x * 32768, NaN -> 0, clamped to [-32768, 32767], then rounded to nearest
 * with ties to even by adding and subtracting 1.5 * 2^23 (no fraction bits survive the add, so
 * the FPU's default rounding decides). Every step is a select or min/max, so gcc vectorises the
 * loop; on x86-64 with GCC/clang an AVX2 clone is picked at load time when the CPU has it.
 * int16 -> float: y = x / 32768 (exact).
 */
#ifndef RT_PCM_H
#define RT_PCM_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__) && !defined(RT_NO_CLONES)
#define RT_PCM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define RT_PCM_CLONES
#endif

RT_PCM_CLONES
static void rt_f32_to_s16(const float *restrict src, int16_t *restrict dst, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        float v = src[i] * 32768.0f;
        v = (v == v) ? v : 0.0f;
        v = (v > -32768.0f) ? v : -32768.0f;
        v = (v < 32767.0f) ? v : 32767.0f;
        v = (v + 12582912.0f) - 12582912.0f;
        dst[i] = (int16_t)(int32_t)v;
    }
}

RT_PCM_CLONES
static void rt_s16_to_f32(const int16_t *restrict src, float *restrict dst, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        dst[i] = (float)src[i] * (1.0f / 32768.0f);
}

#endif
