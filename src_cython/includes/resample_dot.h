/* Inner loops of the polyphase resampler (rtsdk._kernels.resample), one channel at a time.
 *
 * Output n has phase p = (n*down) % up and input window [i - taps + 1, i], i = (n*down)/up:
 *     y[n] = sum_k table[p*taps + k] * x[i - taps + 1 + k],   k = 0 .. taps-1 (oldest first).
 *
 * Every output is computed by the same arithmetic whatever the chunking, so a chunked stream is
 * bit-identical to one call:
 *  - "lanes" (small up and down, e.g. 48k->24k, 24k->48k): each output is one chain of
 *    multiply-adds in k order; eight outputs of the same phase share a vector (their windows
 *    are `down` apart: the window is split into `down` planes first). The separate multiply
 *    and add of the portable version match the NumPy twin bit for bit.
 *  - "dot" (many phases, e.g. 44.1k->24k): a dot product per output, 8 lanes x 4 accumulators
 *    (portable; AVX2: 2, with up to six outputs of one phase sharing each coefficient load) and
 *    a fixed reduction tree, independent of the pointers' alignment.
 *  - "half" (factor 2: 48k<->24k, 16k<->8k, ...): a half-band filter of N = 2K - 1 taps whose
 *    every second tap is zero. Down by 2, output n is the K-tap chain over x[2n - 2K + 2 + 2k]
 *    (one plane of the split window), then plus center * x[2n - K + 1]. Up by 2, odd outputs
 *    are x[(n - 1)/2 - K/2 + 1] itself (center 1.0) and even ones the K-tap chain over
 *    x[n/2 - K + 1 + k]. The chains run on the "lanes" blocks with down = 1.
 * The AVX2+FMA versions (fused multiply-add) are chosen once at run time when the CPU has both;
 * their results differ from the portable ones in the last bits. The portable ones (ISO C, no
 * contraction) compute exactly what the NumPy twin computes.
 *
 * The new samples pass through a scratch window on the stack (history + a block of input, 16 kB
 * in all, 8 kB more for the up-by-2 interleave), so an instance keeps only its history
 * (cfg->hist samples) per channel.
 */
#ifndef RTSDK_RESAMPLE_DOT_H
#define RTSDK_RESAMPLE_DOT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* the portable loops multiply then add, like the twin */
#endif

#define RS_SCRATCH 2048     /* floats in the scratch window; > max taps */
#define RS_LANES_MAX 12     /* up and down at most this: lanes kernel */

typedef struct {
    const float *table;     /* (up, taps), oldest tap first; half-band: (1, taps) non-zero taps */
    int64_t up, down, taps;
    int lanes;              /* 1: lanes kernel, 0: dot kernel */
    int half;               /* 1: factor-2 half-band (up, down) = (1, 2) or (2, 1), see below */
    float center;           /* half-band centre tap: 0.5 (down by 2) or 1.0 (up by 2) */
    int64_t hist;           /* input samples kept per channel between calls */
} rs_cfg;

/* w: the window, w[0] is input index base - cfg->hist; planes: w split into `down` planes
 * (plane r, element m = w[m*down + r]) at pstride apart, or w itself when down == 1. */
typedef void (*rs_kernel_fn)(const rs_cfg *cfg, const float *w, const float *planes,
                             Py_ssize_t pstride, int64_t base, int64_t n0, Py_ssize_t count,
                             float *out, Py_ssize_t ostride);

/* ---- portable ------------------------------------------------------------------------------ */

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

static void rs_dot_run_generic(const rs_cfg *cfg, const float *w, const float *planes,
                               Py_ssize_t pstride, int64_t base, int64_t n0, Py_ssize_t count,
                               float *out, Py_ssize_t ostride)
{
    const int64_t up = cfg->up, down = cfg->down, taps = cfg->taps;
    int64_t p = (n0 * down) % up;
    int64_t s = (n0 * down) / up - base;
    (void)planes;
    (void)pstride;
    for (Py_ssize_t j = 0; j < count; j++) {
        out[j * ostride] = rs_dot_generic(cfg->table + p * taps, w + s, taps);
        p += down;
        s += p / up;
        p %= up;
    }
}

static void rs_lanes_run_generic(const rs_cfg *cfg, const float *w, const float *planes,
                                 Py_ssize_t pstride, int64_t base, int64_t n0, Py_ssize_t count,
                                 float *out, Py_ssize_t ostride)
{
    const int64_t up = cfg->up, down = cfg->down, taps = cfg->taps;
    (void)w;
    for (int64_t t = 0; t < up && t < count; t++) {
        const int64_t n = n0 + t;
        const int64_t p = (n * down) % up;
        const int64_t s = (n * down) / up - base;
        const float *g = cfg->table + p * taps;
        const Py_ssize_t cnt = (Py_ssize_t)((count - t + up - 1) / up);
        Py_ssize_t j = 0;
        for (; j + 8 <= cnt; j += 8) {
            float a[8] = {0};
            int64_t r = s % down, m = s / down + j;
            for (int64_t k = 0; k < taps; k++) {
                const float c = g[k];
                const float *src = planes + r * pstride + m;
                for (int l = 0; l < 8; l++) {
                    a[l] = a[l] + c * src[l];
                }
                if (++r == down) {
                    r = 0;
                    m++;
                }
            }
            for (int l = 0; l < 8; l++) {
                out[(t + (j + l) * up) * ostride] = a[l];
            }
        }
        for (; j < cnt; j++) {
            float a = 0.0f;
            int64_t r = s % down, m = s / down + j;
            for (int64_t k = 0; k < taps; k++) {
                a = a + g[k] * planes[r * pstride + m];
                if (++r == down) {
                    r = 0;
                    m++;
                }
            }
            out[(t + j * up) * ostride] = a;
        }
    }
}

/* w[0:len] into `down` planes: planes[r * pstride + m] = w[m * down + r] */
static void rs_split_generic(const float *w, Py_ssize_t len, int64_t down, float *planes,
                             Py_ssize_t pstride)
{
    for (int64_t r = 0; r < down; r++) {
        float *dst = planes + r * pstride;
        Py_ssize_t m = 0;
        for (Py_ssize_t i = r; i < len; i += down) dst[m++] = w[i];
    }
}

/* Half-band, portable: each output exactly as the twin computes it (multiply, then add). */
static void rs_half_run_generic(const rs_cfg *cfg, const float *w, const float *planes,
                                Py_ssize_t pstride, int64_t base, int64_t n0, Py_ssize_t count,
                                float *out, Py_ssize_t ostride)
{
    const int64_t taps = cfg->taps;
    const float *g = cfg->table;
    (void)planes;
    (void)pstride;
    for (Py_ssize_t j = 0; j < count; j++) {
        const int64_t n = n0 + j;
        float a = 0.0f;
        if (cfg->down == 2) {
            const float *src = w + (2 * n - base);
            for (int64_t k = 0; k < taps; k++) a = a + g[k] * src[2 * k];
            a = a + cfg->center * src[taps - 1];
        } else if (n & 1) {
            a = w[n / 2 - base + taps / 2];
        } else {
            const float *src = w + (n / 2 - base);
            for (int64_t k = 0; k < taps; k++) a = a + g[k] * src[k];
        }
        out[j * ostride] = a;
    }
}

/* ---- AVX2 + FMA ---------------------------------------------------------------------------- */

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define RS_HAVE_AVX2 1
#define RS_AVX2 __attribute__((target("avx2,fma")))

/* Keeps a loaded vector in a register: without it the compiler folds each use into its FMA as
 * a memory operand, loading the same vector twice. */
#define RS_IN_REG(x) __asm__("" : "+x"(x))

/* out[0..15] = a0 b0 a1 b1 ... a7 b7: two rows of 8 interleaved (two output phases) */
RS_AVX2 static inline void rs_store_pairs(float *out, __m256 a, __m256 b)
{
    const __m256 lo = _mm256_unpacklo_ps(a, b), hi = _mm256_unpackhi_ps(a, b);
    _mm256_storeu_ps(out, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(out + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
}

/* N outputs of the same phase (taps h) at once, output o over x + o * xstep: each is the same
 * dot product whatever N, two accumulators (even and odd 8-tap vectors, the tail on the even
 * one), summed, then the portable tree (v0+v4, v1+v5, v2+v6, v3+v7), (.0+.2, .1+.3), the sum.
 * The coefficient vectors are loaded once for the N outputs. */
#define RS_DOTN(N)                                                                                \
    RS_AVX2 static inline __attribute__((always_inline)) void rs_dot##N##_avx2(                   \
        const float *restrict h, const float *restrict x, Py_ssize_t xstep, Py_ssize_t taps,      \
        float *out, Py_ssize_t ostep)                                                             \
    {                                                                                             \
        __m256 a0[N], a1[N];                                                                      \
        for (int o = 0; o < (N); o++) a0[o] = a1[o] = _mm256_setzero_ps();                        \
        Py_ssize_t k = 0;                                                                         \
        for (; k + 16 <= taps; k += 16) {                                                         \
            __m256 h0 = _mm256_loadu_ps(h + k);                                                   \
            RS_IN_REG(h0);                                                                        \
            for (int o = 0; o < (N); o++)                                                         \
                a0[o] = _mm256_fmadd_ps(h0, _mm256_loadu_ps(x + o * xstep + k), a0[o]);           \
            __m256 h1 = _mm256_loadu_ps(h + k + 8);                                               \
            RS_IN_REG(h1);                                                                        \
            for (int o = 0; o < (N); o++)                                                         \
                a1[o] = _mm256_fmadd_ps(h1, _mm256_loadu_ps(x + o * xstep + k + 8), a1[o]);       \
        }                                                                                         \
        if (k < taps) {                                                                           \
            __m256 h0 = _mm256_loadu_ps(h + k);                                                   \
            RS_IN_REG(h0);                                                                        \
            for (int o = 0; o < (N); o++)                                                         \
                a0[o] = _mm256_fmadd_ps(h0, _mm256_loadu_ps(x + o * xstep + k), a0[o]);           \
        }                                                                                         \
        for (int o = 0; o < (N); o++) {                                                           \
            const __m256 v = _mm256_add_ps(a0[o], a1[o]);                                         \
            __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));        \
            __m128 r = _mm_add_ps(q, _mm_movehl_ps(q, q));                                        \
            __m128 t = _mm_add_ss(r, _mm_shuffle_ps(r, r, 1));                                    \
            out[o * ostep] = _mm_cvtss_f32(t);                                                    \
        }                                                                                         \
    }
RS_DOTN(1)
RS_DOTN(3)
RS_DOTN(6)

/* Outputs of one phase (t, t + up, t + 2 up, ... windows `down` apart) six, then three, then
 * one at a time. */
RS_AVX2 static void rs_dot_run_avx2(const rs_cfg *cfg, const float *w, const float *planes,
                                    Py_ssize_t pstride, int64_t base, int64_t n0,
                                    Py_ssize_t count, float *out, Py_ssize_t ostride)
{
    const int64_t up = cfg->up, down = cfg->down, taps = cfg->taps;
    (void)planes;
    (void)pstride;
    for (int64_t t = 0; t < up && t < count; t++) {
        const int64_t n = n0 + t;
        const float *h = cfg->table + ((n * down) % up) * taps;
        const float *x = w + ((n * down) / up - base);
        const Py_ssize_t cnt = (Py_ssize_t)((count - t + up - 1) / up);
        const Py_ssize_t step = (Py_ssize_t)up * ostride;
        float *o = out + t * ostride;
        Py_ssize_t i = 0;
        for (; i + 6 <= cnt; i += 6, x += 6 * down, o += 6 * step)
            rs_dot6_avx2(h, x, (Py_ssize_t)down, taps, o, step);
        for (; i + 3 <= cnt; i += 3, x += 3 * down, o += 3 * step)
            rs_dot3_avx2(h, x, (Py_ssize_t)down, taps, o, step);
        for (; i < cnt; i++, x += down, o += step) rs_dot1_avx2(h, x, 0, taps, o, 0);
    }
}

RS_AVX2 static void rs_split_avx2(const float *w, Py_ssize_t len, int64_t down, float *planes,
                                  Py_ssize_t pstride)
{
    if (down != 2) {
        rs_split_generic(w, len, down, planes, pstride);
        return;
    }
    float *even = planes, *odd = planes + pstride;
    Py_ssize_t m = 0, i = 0;
    for (; i + 16 <= len; i += 16, m += 8) {
        const __m256 a = _mm256_loadu_ps(w + i), b = _mm256_loadu_ps(w + i + 8);
        /* (a0 a2 b0 b2 | a4 a6 b4 b6) -> (a0 a2 a4 a6 b0 b2 b4 b6) */
        const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
        const __m256 o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
        _mm256_storeu_ps(even + m, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e),
                                                                           0xD8)));
        _mm256_storeu_ps(odd + m, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o),
                                                                          0xD8)));
    }
    for (; i < len; i++) {
        planes[(i & 1) * pstride + (i >> 1)] = w[i];
    }
}

/* AVX2 lanes blocks: V vectors of 8 outputs of one phase (consecutive j), V independent FMA
 * chains, each through its taps in k order (as the portable loop and the one-output tail).
 * Vector u of tap k reads the plane of tap k at offset k/down + 8u; so does vector u+1 of tap
 * k - 8*down. Vectors 2w+1 therefore run 8*down taps behind vectors 2w: one load serves both,
 * with the two taps' coefficients broadcast once for all the vectors. */

/* row[e]: where tap e of output j reads (tap k = d*q + e reads row[e] + q) */
#define RS_ROWS(d)                                                                                \
    const float *row[RS_LANES_MAX];                                                               \
    for (int64_t e = 0; e < (d); e++)                                                             \
        row[e] = planes + ((s + e) % (d)) * pstride + (s + e) / (d) + j;

/* Taps k .. k1-1 (e = k % d, q = k / d kept in step): the leading vectors (even, if LEAD) take
 * tap k, the lagging ones (odd, if LAG) tap k - span, both from the vector at row[e] + q + 16w.
 * With d known at compile time (k and k1 then multiples of d: taps are a multiple of 8) the
 * planes are taken in turn without a branch. */
#define RS_SKEW_TAP(V, LEAD, LAG, E)                                                              \
    {                                                                                             \
        const __m256 c0 = _mm256_broadcast_ss(g + ((LEAD) ? k : 0));                              \
        const __m256 c1 = _mm256_broadcast_ss(g + ((LAG) ? k - span : 0));                        \
        const float *src = row[E] + q;                                                            \
        for (int w = 0; w < (V) / 2; w++) {                                                       \
            __m256 x = _mm256_loadu_ps(src + 16 * w);                                             \
            RS_IN_REG(x);                                                                         \
            if (LEAD) a[2 * w] = _mm256_fmadd_ps(c0, x, a[2 * w]);                                \
            if (LAG) a[2 * w + 1] = _mm256_fmadd_ps(c1, x, a[2 * w + 1]);                         \
        }                                                                                         \
    }
#define RS_SKEW(V, D, k1, LEAD, LAG)                                                              \
    if (D) {                                                                                      \
        for (; k < (k1); q++)                                                                     \
            for (int64_t e = 0; e < (D); e++, k++) RS_SKEW_TAP(V, LEAD, LAG, e)                   \
    } else {                                                                                      \
        for (; k < (k1); k++) {                                                                   \
            RS_SKEW_TAP(V, LEAD, LAG, e)                                                          \
            if (++e == d) {                                                                       \
                e = 0;                                                                            \
                q++;                                                                              \
            }                                                                                     \
        }                                                                                         \
    }

/* V vectors (8V outputs of one phase, consecutive j) as V independent FMA chains; D: down when
 * known at compile time, else 0 (then `down`). Writes out[l * step] (l = 0 .. 8V-1), or with
 * `mix` out[2l] = mix[l], out[2l + 1] = output l. */
#define RS_LANES_BLOCK(V, D, NAME)                                                                \
    RS_AVX2 static inline __attribute__((always_inline)) void NAME(                               \
        const float *g, int64_t taps, int64_t down, const float *planes, Py_ssize_t pstride,      \
        int64_t s, Py_ssize_t j, float *out, Py_ssize_t step, const float *mix)                   \
    {                                                                                             \
        const int64_t d = (D) ? (D) : down, span = 8 * d;                                         \
        __m256 a[V];                                                                              \
        for (int v = 0; v < V; v++) a[v] = _mm256_setzero_ps();                                   \
        RS_ROWS(d)                                                                                \
        int64_t k = 0, q = 0, e = 0;                                                              \
        if ((V) % 2 == 0 && taps >= span) {                                                       \
            RS_SKEW(V, D, span, 1, 0)                                                             \
            RS_SKEW(V, D, taps, 1, 1)                                                             \
            RS_SKEW(V, D, taps + span, 0, 1)                                                      \
        } else {                                                                                  \
            for (; k < taps; k++) {                                                               \
                const __m256 c = _mm256_broadcast_ss(g + k);                                      \
                const float *src = row[e] + q;                                                    \
                for (int v = 0; v < V; v++)                                                       \
                    a[v] = _mm256_fmadd_ps(c, _mm256_loadu_ps(src + 8 * v), a[v]);                \
                if (++e == d) {                                                                   \
                    e = 0;                                                                        \
                    q++;                                                                          \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
        if (mix) {                                                                                \
            for (int v = 0; v < V; v++)                                                           \
                rs_store_pairs(out + 16 * v, _mm256_loadu_ps(mix + 8 * v), a[v]);                 \
        } else if (step == 1) {                                                                   \
            for (int v = 0; v < V; v++) _mm256_storeu_ps(out + 8 * v, a[v]);                      \
        } else {                                                                                  \
            float tmp[8 * V];                                                                     \
            for (int v = 0; v < V; v++) _mm256_storeu_ps(tmp + 8 * v, a[v]);                      \
            for (int l = 0; l < 8 * V; l++) out[l * step] = tmp[l];                               \
        }                                                                                         \
    }

/* One output (j): the chain of one lane of the blocks. */
#define RS_LANES_ONE(D, NAME)                                                                     \
    RS_AVX2 static inline __attribute__((always_inline)) float NAME(                              \
        const float *g, int64_t taps, int64_t down, const float *planes, Py_ssize_t pstride,      \
        int64_t s, Py_ssize_t j)                                                                  \
    {                                                                                             \
        const int64_t d = (D) ? (D) : down;                                                       \
        __m128 a = _mm_setzero_ps();                                                              \
        RS_ROWS(d)                                                                                \
        for (int64_t k = 0, q = 0, e = 0; k < taps; k++) {                                        \
            a = _mm_fmadd_ss(_mm_load_ss(g + k), _mm_load_ss(row[e] + q), a);                     \
            if (++e == d) {                                                                       \
                e = 0;                                                                            \
                q++;                                                                              \
            }                                                                                     \
        }                                                                                         \
        return _mm_cvtss_f32(a);                                                                  \
    }

#ifndef RS_VMAX
#define RS_VMAX 10
#endif
/* Pipelined runs of RS_VMAX-vector blocks (down = D known at compile time, 1 or 2; taps >= 8*D):
 * the lagging (odd) vectors of one block finish their last 8*D taps together with the first
 * 8*D taps of the leading (even) vectors of the next block, so the run has no stretch with only
 * half the chains busy (there the FMA units wait on latency). Each chain is still the k-order
 * chain of the blocks above. Blocks: j = 0, 8V, 16V, ... and a last one ending at cnt (cnt >=
 * 8V); with nph == 2 each j has two blocks, phase 0 into tmp, then phase 1 interleaved with it
 * into o + 2j. Used for short filters (taps <= 32*D), where those stretches are a large part of
 * a block; for longer ones it measured no faster. */
#define RS_PW (RS_VMAX / 2)
#define RS_PIPE_STORE(acc, par, out, step, mix)                                                   \
    for (int w = 0; w < RS_PW; w++) {                                                             \
        const int v = 2 * w + (par);                                                              \
        if (mix) {                                                                                \
            rs_store_pairs((out) + 16 * v, _mm256_loadu_ps((mix) + 8 * v), acc[w]);               \
        } else if ((step) == 1) {                                                                 \
            _mm256_storeu_ps((out) + 8 * v, acc[w]);                                              \
        } else {                                                                                  \
            float t8[8];                                                                          \
            _mm256_storeu_ps(t8, acc[w]);                                                         \
            for (int l = 0; l < 8; l++) (out)[(8 * v + l) * (step)] = t8[l];                      \
        }                                                                                         \
    }
/* block b's coefficients, rows, output and mix */
#define RS_PIPE_BLK(b, G, ROW, OUT, STEP, MIX)                                                    \
    {                                                                                             \
        const Py_ssize_t ib = (b) / nph, ph = (b) % nph;                                          \
        const Py_ssize_t jb = ib * 8 * RS_VMAX < cnt - 8 * RS_VMAX ? ib * 8 * RS_VMAX             \
                                                                   : cnt - 8 * RS_VMAX;           \
        const int64_t sb = ss[ph];                                                                \
        G = gs[ph];                                                                               \
        for (int e = 0; e < pd; e++)                                                              \
            ROW[e] = planes + ((sb + e) % pd) * pstride + (sb + e) / pd + jb;                     \
        if (nph == 1) {                                                                           \
            OUT = o + jb * step;                                                                  \
            STEP = step;                                                                          \
            MIX = NULL;                                                                           \
        } else if (ph == 0) {                                                                     \
            OUT = tmp;                                                                            \
            STEP = 1;                                                                             \
            MIX = NULL;                                                                           \
        } else {                                                                                  \
            OUT = o + 2 * jb;                                                                     \
            STEP = 1;                                                                             \
            MIX = tmp;                                                                            \
        }                                                                                         \
    }
#define RS_PIPE_FMA(acc, coef, ptr)                                                               \
    {                                                                                             \
        const __m256 c_ = _mm256_broadcast_ss(coef);                                              \
        for (int w = 0; w < RS_PW; w++)                                                           \
            acc[w] = _mm256_fmadd_ps(c_, _mm256_loadu_ps((ptr) + 16 * w), acc[w]);                \
    }
#define RS_LANES_PIPE(D, NAME)                                                                    \
    RS_AVX2 static void NAME(const rs_cfg *cfg, const float *planes, Py_ssize_t pstride,          \
                             Py_ssize_t nph, const int64_t *ss, const float *const *gs,           \
                             Py_ssize_t cnt, float *o, Py_ssize_t step, float *tmp)               \
    {                                                                                             \
        const int64_t taps = cfg->taps, span = 8 * (D), qt = taps / (D), pd = (D);                \
        const Py_ssize_t nb = (cnt + 8 * RS_VMAX - 1) / (8 * RS_VMAX) * nph;                      \
        const float *g, *gn = NULL, *row[D], *rown[D] = {NULL};                                   \
        float *out, *outn = NULL;                                                                 \
        Py_ssize_t st, stn = 1;                                                                   \
        const float *mix, *mixn = NULL;                                                           \
        __m256 ev[RS_PW], od[RS_PW];                                                              \
        RS_PIPE_BLK(0, g, row, out, st, mix)                                                      \
        for (int w = 0; w < RS_PW; w++) ev[w] = _mm256_setzero_ps();                              \
        for (int64_t q = 0; q < 8; q++)                                                           \
            for (int e = 0; e < (D); e++) RS_PIPE_FMA(ev, g + q * (D) + e, row[e] + q)            \
        for (Py_ssize_t b = 0; b < nb; b++) {                                                     \
            for (int w = 0; w < RS_PW; w++) od[w] = _mm256_setzero_ps();                          \
            for (int64_t q = 8; q < qt; q++) {                                                    \
                for (int e = 0; e < (D); e++) {                                                   \
                    const __m256 c0 = _mm256_broadcast_ss(g + q * (D) + e);                       \
                    const __m256 c1 = _mm256_broadcast_ss(g + q * (D) + e - span);                \
                    const float *src = row[e] + q;                                                \
                    for (int w = 0; w < RS_PW; w++) {                                             \
                        __m256 x = _mm256_loadu_ps(src + 16 * w);                                 \
                        RS_IN_REG(x);                                                             \
                        ev[w] = _mm256_fmadd_ps(c0, x, ev[w]);                                    \
                        od[w] = _mm256_fmadd_ps(c1, x, od[w]);                                    \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
            RS_PIPE_STORE(ev, 0, out, st, mix)                                                    \
            if (b + 1 < nb) {                                                                     \
                RS_PIPE_BLK(b + 1, gn, rown, outn, stn, mixn)                                     \
                for (int w = 0; w < RS_PW; w++) ev[w] = _mm256_setzero_ps();                      \
                for (int64_t q = 0; q < 8; q++) {                                                 \
                    for (int e = 0; e < (D); e++) {                                               \
                        RS_PIPE_FMA(od, g + taps - span + q * (D) + e, row[e] + qt + q)           \
                        RS_PIPE_FMA(ev, gn + q * (D) + e, rown[e] + q)                            \
                    }                                                                             \
                }                                                                                 \
            } else {                                                                              \
                for (int64_t q = 0; q < 8; q++)                                                   \
                    for (int e = 0; e < (D); e++)                                                 \
                        RS_PIPE_FMA(od, g + taps - span + q * (D) + e, row[e] + qt + q)           \
            }                                                                                     \
            RS_PIPE_STORE(od, 1, out, st, mix)                                                    \
            g = gn;                                                                               \
            for (int e = 0; e < (D); e++) row[e] = rown[e];                                       \
            out = outn;                                                                           \
            st = stn;                                                                             \
            mix = mixn;                                                                           \
        }                                                                                         \
    }
RS_LANES_PIPE(1, rs_pipe_d1)
RS_LANES_PIPE(2, rs_pipe_d2)

/* One phase: cnt outputs o[j * step], j = 0 .. cnt-1, in blocks of the largest size that fits;
 * the last block ends at cnt and may overlap the one before it (it writes the same values).
 * NAME##_two: two phases (up == 2, out contiguous): o[2j] from (g0, s0), o[2j+1] from (g1, s1),
 * count outputs in all, the blocks' results interleaved in registers. */
#define RS_LANES_RUN(D, NAME, PIPE)                                                               \
    RS_LANES_BLOCK(RS_VMAX, D, NAME##_bm)                                                         \
    RS_LANES_BLOCK(8, D, NAME##_b8)                                                               \
    RS_LANES_BLOCK(4, D, NAME##_b4)                                                               \
    RS_LANES_BLOCK(2, D, NAME##_b2)                                                               \
    RS_LANES_BLOCK(1, D, NAME##_b1)                                                               \
    RS_LANES_ONE(D, NAME##_one)                                                                   \
    RS_AVX2 static void NAME(const rs_cfg *cfg, int64_t s, const float *planes,                   \
                             Py_ssize_t pstride, Py_ssize_t cnt, float *o, Py_ssize_t step,       \
                             const float *g)                                                      \
    {                                                                                             \
        const int64_t taps = cfg->taps, down = cfg->down;                                         \
        Py_ssize_t j = 0;                                                                         \
        if ((D) && cnt >= 8 * RS_VMAX && taps >= 8 * (D) && taps <= 32 * (D)) {                   \
            PIPE(cfg, planes, pstride, 1, &s, &g, cnt, o, step, NULL);                            \
            return;                                                                               \
        }                                                                                         \
        RS_BLOCKS(RS_VMAX, NAME##_bm, NAME)                                                       \
        RS_BLOCKS(8, NAME##_b8, NAME)                                                             \
        RS_BLOCKS(4, NAME##_b4, NAME)                                                             \
        RS_BLOCKS(2, NAME##_b2, NAME)                                                             \
        RS_BLOCKS(1, NAME##_b1, NAME)                                                             \
        for (; j < cnt; j++) o[j * step] = NAME##_one(g, taps, down, planes, pstride, s, j);      \
    }                                                                                             \
    RS_AVX2 static void NAME##_two(const rs_cfg *cfg, int64_t s0, const float *g0, int64_t s1,    \
                                   const float *g1, const float *planes, Py_ssize_t pstride,      \
                                   Py_ssize_t count, float *o)                                    \
    {                                                                                             \
        const int64_t taps = cfg->taps, down = cfg->down;                                         \
        const Py_ssize_t cnt = count / 2;                                                         \
        float tmp[8 * RS_VMAX];                                                                   \
        Py_ssize_t j = 0;                                                                         \
        if (count & 1)                                                                            \
            o[count - 1] = NAME##_one(g0, taps, down, planes, pstride, s0, cnt);                  \
        if ((D) && cnt >= 8 * RS_VMAX && taps >= 8 * (D) && taps <= 32 * (D)) {                   \
            const int64_t ss[2] = {s0, s1};                                                       \
            const float *gs[2] = {g0, g1};                                                        \
            PIPE(cfg, planes, pstride, 2, ss, gs, cnt, o, 1, tmp);                                \
            return;                                                                               \
        }                                                                                         \
        RS_TWO_BLOCKS(RS_VMAX, NAME##_bm, NAME)                                                   \
        RS_TWO_BLOCKS(8, NAME##_b8, NAME)                                                         \
        RS_TWO_BLOCKS(4, NAME##_b4, NAME)                                                         \
        RS_TWO_BLOCKS(2, NAME##_b2, NAME)                                                         \
        RS_TWO_BLOCKS(1, NAME##_b1, NAME)                                                         \
        for (; j < cnt; j++) {                                                                    \
            o[2 * j] = NAME##_one(g0, taps, down, planes, pstride, s0, j);                        \
            o[2 * j + 1] = NAME##_one(g1, taps, down, planes, pstride, s1, j);                    \
        }                                                                                         \
    }
#define RS_BLOCKS(V, FN, NAME)                                                                    \
    if (cnt >= 8 * (V)) {                                                                         \
        for (; j + 8 * (V) <= cnt; j += 8 * (V))                                                  \
            FN(g, taps, down, planes, pstride, s, j, o + j * step, step, NULL);                   \
        if (j < cnt && (V) > 8 && cnt - j <= 64) {                                                \
            j = cnt - 64;                                                                         \
            NAME##_b8(g, taps, down, planes, pstride, s, j, o + j * step, step, NULL);            \
        } else if (j < cnt) {                                                                     \
            j = cnt - 8 * (V);                                                                    \
            FN(g, taps, down, planes, pstride, s, j, o + j * step, step, NULL);                   \
        }                                                                                         \
        return;                                                                                   \
    }
#define RS_TWO_BLOCKS(V, FN, NAME)                                                                \
    if (cnt >= 8 * (V)) {                                                                         \
        for (;; j += 8 * (V)) {                                                                   \
            if (j + 8 * (V) > cnt) {                                                              \
                if (j >= cnt) break;                                                              \
                j = cnt - 8 * (V);                                                                \
            }                                                                                     \
            if ((V) > 8 && j + 64 >= cnt && j > 0) {                                              \
                j = cnt - 64;                                                                     \
                NAME##_b8(g0, taps, down, planes, pstride, s0, j, tmp, 1, NULL);                  \
                NAME##_b8(g1, taps, down, planes, pstride, s1, j, o + 2 * j, 1, tmp);             \
                break;                                                                            \
            }                                                                                     \
            FN(g0, taps, down, planes, pstride, s0, j, tmp, 1, NULL);                             \
            FN(g1, taps, down, planes, pstride, s1, j, o + 2 * j, 1, tmp);                        \
        }                                                                                         \
        return;                                                                                   \
    }
RS_LANES_RUN(1, rs_phase_d1, rs_pipe_d1)
RS_LANES_RUN(2, rs_phase_d2, rs_pipe_d2)
RS_LANES_RUN(0, rs_phase_dn, rs_pipe_d1)

/* Half-band, AVX2: the K-tap chains are a down = 1 "lanes" run over one plane (down by 2) or
 * over the window (up by 2, even outputs); then the centre term is added (down) or the input
 * copied into the odd outputs (up). */
RS_AVX2 static void rs_half_run_avx2(const rs_cfg *cfg, const float *w, const float *planes,
                                     Py_ssize_t pstride, int64_t base, int64_t n0,
                                     Py_ssize_t count, float *out, Py_ssize_t ostride)
{
    const int64_t taps = cfg->taps;
    const rs_cfg fir = {cfg->table, 1, 1, taps, 1, 0, 0.0f, taps - 1};
    if (cfg->down == 2) {
        const int64_t s0 = 2 * n0 - base, r = s0 & 1;
        rs_phase_d1(&fir, s0 >> 1, planes + r * pstride, pstride, count, out, ostride,
                    cfg->table);
        const float *xc = planes + (1 - r) * pstride + ((s0 + taps - 1) >> 1);
        const __m256 c = _mm256_set1_ps(cfg->center);
        Py_ssize_t j = 0;
        if (ostride == 1) {
            for (; j + 8 <= count; j += 8)
                _mm256_storeu_ps(out + j, _mm256_fmadd_ps(c, _mm256_loadu_ps(xc + j),
                                                          _mm256_loadu_ps(out + j)));
        }
        for (; j < count; j++) out[j * ostride] = fmaf(cfg->center, xc[j], out[j * ostride]);
        return;
    }
    /* up by 2: even outputs n = n0 + e0 + 2i, odd ones n = n0 + (1 - e0) + 2i */
    const int64_t e0 = n0 & 1;
    const Py_ssize_t ne = (count - e0 + 1) / 2, no = count - ne;
    const int64_t n1 = n0 + 1 - e0;
    const float *xc = w + ((n1 - 1) / 2 - base + taps / 2);
    if (ostride != 1 || ne > RS_SCRATCH) {
        if (ne > 0)
            rs_phase_d1(&fir, (n0 + e0) / 2 - base, w, 0, ne, out + e0 * ostride, 2 * ostride,
                        cfg->table);
        float *o = out + (1 - e0) * ostride;
        for (Py_ssize_t i = 0; i < no; i++) o[2 * i * ostride] = xc[i];
        return;
    }
    /* mono: the chains into a scratch row, then both rows interleaved into out */
    float even[RS_SCRATCH];
    if (ne > 0) rs_phase_d1(&fir, (n0 + e0) / 2 - base, w, 0, ne, even, 1, cfg->table);
    const float *ev = even;
    if (e0) { /* the first output is odd */
        *out++ = *xc++;
        count--;
    }
    Py_ssize_t i = 0;
    for (; 2 * i + 16 <= count; i += 8)
        rs_store_pairs(out + 2 * i, _mm256_loadu_ps(ev + i), _mm256_loadu_ps(xc + i));
    for (Py_ssize_t m = 2 * i; m < count; m++) out[m] = (m & 1) ? xc[m / 2] : ev[m / 2];
}

RS_AVX2 static void rs_lanes_run_avx2(const rs_cfg *cfg, const float *w, const float *planes,
                                      Py_ssize_t pstride, int64_t base, int64_t n0,
                                      Py_ssize_t count, float *out, Py_ssize_t ostride)
{
    const int64_t up = cfg->up, down = cfg->down, taps = cfg->taps;
    (void)w;
    if (up == 2 && ostride == 1 && count >= 2) {
        const int64_t p0 = (n0 * down) % 2, p1 = ((n0 + 1) * down) % 2;
        const int64_t s0 = (n0 * down) / 2 - base, s1 = ((n0 + 1) * down) / 2 - base;
        const float *g0 = cfg->table + p0 * taps, *g1 = cfg->table + p1 * taps;
        if (down == 1) {
            rs_phase_d1_two(cfg, s0, g0, s1, g1, planes, pstride, count, out);
        } else if (down == 2) {
            rs_phase_d2_two(cfg, s0, g0, s1, g1, planes, pstride, count, out);
        } else {
            rs_phase_dn_two(cfg, s0, g0, s1, g1, planes, pstride, count, out);
        }
        return;
    }
    for (int64_t t = 0; t < up && t < count; t++) {
        const int64_t n = n0 + t;
        const int64_t p = (n * down) % up;
        const int64_t s = (n * down) / up - base;
        const Py_ssize_t cnt = (Py_ssize_t)((count - t + up - 1) / up);
        const Py_ssize_t step = (Py_ssize_t)up * ostride;
        float *o = out + t * ostride;
        const float *g = cfg->table + p * taps;
        if (down == 1) {
            rs_phase_d1(cfg, s, planes, pstride, cnt, o, step, g);
        } else if (down == 2) {
            rs_phase_d2(cfg, s, planes, pstride, cnt, o, step, g);
        } else {
            rs_phase_dn(cfg, s, planes, pstride, cnt, o, step, g);
        }
    }
}
#endif

/* ---- dispatch and the per-channel driver ---------------------------------------------------- */

static rs_kernel_fn rs_dot_run = rs_dot_run_generic;
static rs_kernel_fn rs_lanes_run = rs_lanes_run_generic;
static rs_kernel_fn rs_half_run = rs_half_run_generic;
static void (*rs_split)(const float *, Py_ssize_t, int64_t, float *, Py_ssize_t) =
    rs_split_generic;
static int rs_uses_fma = 0;

/* force the portable kernels (1) or choose by CPU (0); tests compare them with the twin */
static void rs_select_portable(int portable)
{
    rs_dot_run = rs_dot_run_generic;
    rs_lanes_run = rs_lanes_run_generic;
    rs_half_run = rs_half_run_generic;
    rs_split = rs_split_generic;
    rs_uses_fma = 0;
    if (portable) return;
#ifdef RS_HAVE_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        rs_dot_run = rs_dot_run_avx2;
        rs_lanes_run = rs_lanes_run_avx2;
        rs_half_run = rs_half_run_avx2;
        rs_split = rs_split_avx2;
        rs_uses_fma = 1;
    }
#endif
}

/* Feed `frames` samples (x[j * xstride]) then `zeros` zeros to one channel whose history
 * (cfg->hist samples) is `hist`, `n_in` samples and `n_out` outputs into the stream; write the
 * next `count` outputs to out[j * ostride]. Updates hist. */
static void rs_channel(const rs_cfg *cfg, float *hist, const float *x, Py_ssize_t xstride,
                       Py_ssize_t frames, Py_ssize_t zeros, int64_t n_in, int64_t n_out,
                       Py_ssize_t count, float *out, Py_ssize_t ostride)
{
    const Py_ssize_t h = (Py_ssize_t)cfg->hist;
    const Py_ssize_t block = RS_SCRATCH - h;
    const Py_ssize_t total = frames + zeros;
    const int64_t up = cfg->up, down = cfg->down, end = n_out + count;
    float w[RS_SCRATCH];
    float rs_planes[RS_SCRATCH + 16 * RS_LANES_MAX];
    Py_ssize_t pos = 0;
    memcpy(w, hist, (size_t)h * sizeof(float));
    while (pos < total) {
        Py_ssize_t b = total - pos < block ? total - pos : block;
        Py_ssize_t nx = frames - pos < b ? (frames - pos > 0 ? frames - pos : 0) : b;
        if (xstride == 1) {
            memcpy(w + h, x + pos, (size_t)nx * sizeof(float));
        } else {
            for (Py_ssize_t j = 0; j < nx; j++) w[h + j] = x[(pos + j) * xstride];
        }
        memset(w + h + nx, 0, (size_t)(b - nx) * sizeof(float));
        const int64_t base = n_in + pos;
        int64_t stop = (up * (base + b) + down - 1) / down;
        if (stop > end) stop = end;
        if (stop > n_out) {
            const Py_ssize_t len = h + b;
            const float *planes = w;
            Py_ssize_t pstride = 0;
            if (cfg->lanes && down > 1) {
                pstride = (len + down - 1) / down + 8;
                rs_split(w, len, down, rs_planes, pstride);
                planes = rs_planes;
            }
            (cfg->half ? rs_half_run : cfg->lanes ? rs_lanes_run : rs_dot_run)(
                cfg, w, planes, pstride, base, n_out, (Py_ssize_t)(stop - n_out), out, ostride);
            out += (stop - n_out) * ostride;
            n_out = stop;
        }
        memmove(w, w + b, (size_t)h * sizeof(float));
        pos += b;
    }
    memcpy(hist, w, (size_t)h * sizeof(float));
}

#endif /* RTSDK_RESAMPLE_DOT_H */
