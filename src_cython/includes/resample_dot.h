/* Inner loop of the polyphase resampler: one channel, a run of output samples.
 *
 * Output n (phase p = (n*down) % up, window start s = (n*down)/up - base) is
 *     y = sum_k table[p*taps + k] * w[s + k],   k = 0 .. taps-1, taps a multiple of 8,
 * computed in a fixed order (8 lanes x up to 4 accumulators, a fixed reduction tree) that does
 * not depend on the pointers' alignment: the same window gives the same bits wherever it lies,
 * so any chunking of a stream gives the same output.
 *
 * Two versions: AVX2+FMA (fused multiply-add, chosen at run time when the CPU has both) and a
 * portable one (separate multiply and add). They differ in the last bits; a process uses one.
 */
#ifndef RTSDK_RESAMPLE_DOT_H
#define RTSDK_RESAMPLE_DOT_H

#include <stddef.h>
#include <stdint.h>

typedef void (*rs_run_fn)(const float *table, Py_ssize_t taps, int64_t up, int64_t down,
                          const float *w, int64_t base, int64_t n0, Py_ssize_t count,
                          float *out, Py_ssize_t stride);

/* Portable: 8 lanes x 4 accumulators written out; the compiler may vectorize the lanes (ISO C
 * mode, no contraction: each lane is a multiply then an add, in source order). */
static inline float rs_dot_generic(const float *restrict h, const float *restrict x,
                                   Py_ssize_t taps)
{
    float a[4][8] = {{0}};
    Py_ssize_t k = 0;
    for (; k + 32 <= taps; k += 32) {
        for (int j = 0; j < 4; j++) {
            for (int l = 0; l < 8; l++) {
                a[j][l] += h[k + 8 * j + l] * x[k + 8 * j + l];
            }
        }
    }
    for (; k < taps; k += 8) {
        for (int l = 0; l < 8; l++) {
            a[0][l] += h[k + l] * x[k + l];
        }
    }
    float v[8];
    for (int l = 0; l < 8; l++) {
        v[l] = (a[0][l] + a[1][l]) + (a[2][l] + a[3][l]);
    }
    return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
}

static void rs_run_generic(const float *table, Py_ssize_t taps, int64_t up, int64_t down,
                           const float *w, int64_t base, int64_t n0, Py_ssize_t count,
                           float *out, Py_ssize_t stride)
{
    int64_t acc = n0 * down;
    int64_t p = acc % up;
    int64_t s = acc / up - base;
    for (Py_ssize_t j = 0; j < count; j++) {
        out[j * stride] = rs_dot_generic(table + p * taps, w + s, taps);
        p += down;
        s += p / up;
        p %= up;
    }
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define RS_HAVE_AVX2 1

__attribute__((target("avx2,fma"))) static inline float
rs_dot_avx2(const float *restrict h, const float *restrict x, Py_ssize_t taps)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    Py_ssize_t k = 0;
    for (; k + 32 <= taps; k += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(h + k), _mm256_loadu_ps(x + k), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(h + k + 8), _mm256_loadu_ps(x + k + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(h + k + 16), _mm256_loadu_ps(x + k + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(h + k + 24), _mm256_loadu_ps(x + k + 24), a3);
    }
    for (; k < taps; k += 8) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(h + k), _mm256_loadu_ps(x + k), a0);
    }
    __m256 v = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    /* (v0+v4, v1+v5, v2+v6, v3+v7), then pairs, then the last two: the same tree as above */
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    __m128 r = _mm_add_ps(q, _mm_movehl_ps(q, q)); /* (q0+q2, q1+q3, ..) */
    __m128 s = _mm_add_ss(r, _mm_shuffle_ps(r, r, 1));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) static void
rs_run_avx2(const float *table, Py_ssize_t taps, int64_t up, int64_t down, const float *w,
            int64_t base, int64_t n0, Py_ssize_t count, float *out, Py_ssize_t stride)
{
    int64_t acc = n0 * down;
    int64_t p = acc % up;
    int64_t s = acc / up - base;
    for (Py_ssize_t j = 0; j < count; j++) {
        out[j * stride] = rs_dot_avx2(table + p * taps, w + s, taps);
        p += down;
        s += p / up;
        p %= up;
    }
}
#endif

/* The implementation this process uses, chosen once (rs_select at module import). */
static rs_run_fn rs_run = rs_run_generic;
static int rs_uses_fma = 0;

static void rs_select(void)
{
#ifdef RS_HAVE_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        rs_run = rs_run_avx2;
        rs_uses_fma = 1;
    }
#endif
}

#endif /* RTSDK_RESAMPLE_DOT_H */
