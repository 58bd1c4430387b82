/* Standard base64 (RFC 4648, '=' padding) over raw pointers: a table-driven portable codec and
 * AVX2 paths picked at run time (rt_b64_select; both give identical results).
 *
 * Call rt_b64_init() and rt_b64_select(1) once before use (module init). Encoding writes 4*ceil(n/3) chars. Decoding
 * follows Python's base64.b64decode(data, validate=True) (strict binascii.a2b_base64): alphabet
 * characters, then '=' only at the very end; data length mod 4 must not be 1; a last group of 2
 * data chars needs exactly "==", of 3 exactly one '='; after whole groups any run of '=' is
 * accepted (as CPython does); unused low bits of the last group are ignored. */
#ifndef RT_B64_CODEC_H
#define RT_B64_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "b64_codec.h assumes a little-endian target"
#endif

static const char rt_b64_alpha[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 12 input bits -> two output chars (little-endian pair). */
static uint16_t rt_b64_enc12[4096];
/* One decode table per position in the group, pre-shifted into a 24-bit big-endian value laid
 * out for a little-endian 32-bit store; invalid chars set bit 31. */
static uint32_t rt_b64_dec[4][256];
static int rt_b64_ready = 0;

#define RT_B64_BAD 0x80000000u

static void rt_b64_init(void)
{
    if (rt_b64_ready)
        return;
    for (int i = 0; i < 4096; i++) {
        unsigned char pair[2] = {(unsigned char)rt_b64_alpha[i >> 6],
                                 (unsigned char)rt_b64_alpha[i & 63]};
        memcpy(&rt_b64_enc12[i], pair, 2);
    }
    for (int k = 0; k < 4; k++)
        for (int c = 0; c < 256; c++)
            rt_b64_dec[k][c] = RT_B64_BAD;
    for (uint32_t v = 0; v < 64; v++) {
        unsigned char c = (unsigned char)rt_b64_alpha[v];
        /* 24-bit value v0<<18 | v1<<12 | v2<<6 | v3, stored as bytes b0 b1 b2 (memory order). */
        uint32_t w0 = v << 18, w1 = v << 12, w2 = v << 6, w3 = v;
        uint32_t t[4] = {w0, w1, w2, w3};
        for (int k = 0; k < 4; k++) {
            uint32_t x = t[k];
            /* byte-swap the 24-bit value into memory order b0 b1 b2 for a little-endian store */
            rt_b64_dec[k][c] = ((x >> 16) & 0xff) | (x & 0xff00) | ((x & 0xff) << 16);
        }
    }
    rt_b64_ready = 1;
}

static inline size_t rt_b64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

static size_t rt_b64_encode_scalar(const unsigned char *src, size_t n, char *dst, size_t i)
{
    /* Encodes src[i:n] (i a multiple of 3) to dst + i/3*4; returns the total length written. */
    char *out = dst + i / 3 * 4;
    for (; i + 12 <= n; i += 12) {
        for (int j = 0; j < 12; j += 3) {
            uint32_t v = ((uint32_t)src[i + j] << 16) | ((uint32_t)src[i + j + 1] << 8) | src[i + j + 2];
            memcpy(out, &rt_b64_enc12[v >> 12], 2);
            memcpy(out + 2, &rt_b64_enc12[v & 0xfff], 2);
            out += 4;
        }
    }
    for (; i + 3 <= n; i += 3) {
        uint32_t v = ((uint32_t)src[i] << 16) | ((uint32_t)src[i + 1] << 8) | src[i + 2];
        memcpy(out, &rt_b64_enc12[v >> 12], 2);
        memcpy(out + 2, &rt_b64_enc12[v & 0xfff], 2);
        out += 4;
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)src[i] << 16;
        out[0] = rt_b64_alpha[v >> 18];
        out[1] = rt_b64_alpha[(v >> 12) & 63];
        out[2] = '=';
        out[3] = '=';
        out += 4;
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)src[i] << 16) | ((uint32_t)src[i + 1] << 8);
        out[0] = rt_b64_alpha[v >> 18];
        out[1] = rt_b64_alpha[(v >> 12) & 63];
        out[2] = rt_b64_alpha[(v >> 6) & 63];
        out[3] = '=';
        out += 4;
    }
    return (size_t)(out - dst);
}

/* Errors of rt_b64_decoded_len / rt_b64_decode. */
#define RT_B64_ERR_CHAR (-1)     /* a character outside the alphabet (or misplaced '=') */
#define RT_B64_ERR_LEN1 (-2)     /* data length is 1 more than a multiple of 4 */
#define RT_B64_ERR_PAD (-3)      /* incorrect padding */
#define RT_B64_ERR_LEADPAD (-4)  /* padding with no data */

static const char *rt_b64_strerror(ptrdiff_t code)
{
    switch (code) {
    case RT_B64_ERR_CHAR:
        return "a character outside the base64 alphabet (or a misplaced '=')";
    case RT_B64_ERR_LEN1:
        return "the number of data characters cannot be 1 more than a multiple of 4";
    case RT_B64_ERR_LEADPAD:
        return "padding with no data";
    default:
        return "incorrect padding";
    }
}

/* Output length of a valid input, or a negative RT_B64_ERR_*; *ndata gets the data char count.
 * Only looks at the length and the trailing '=' (the characters are checked by decode). */
static inline ptrdiff_t rt_b64_decoded_len(const unsigned char *src, size_t n, size_t *ndata)
{
    size_t pads = 0;
    while (pads < n && src[n - 1 - pads] == '=')
        pads++;
    size_t m = n - pads;
    *ndata = m;
    size_t r = m & 3;
    if (r == 1)
        return RT_B64_ERR_LEN1;
    if (m == 0)
        return pads ? RT_B64_ERR_LEADPAD : 0;
    if (r == 2 && pads != 2)
        return RT_B64_ERR_PAD;
    if (r == 3 && pads != 1)
        return RT_B64_ERR_PAD;
    return (ptrdiff_t)(m / 4 * 3 + (r == 2 ? 1 : r == 3 ? 2 : 0));
}

/* Portable decoder of groups i.. of m data chars; see rt_b64_decode_data. */
static int rt_b64_decode_scalar(const unsigned char *src, size_t m, unsigned char *dst,
                                size_t i)
{
    const uint32_t *d0 = rt_b64_dec[0], *d1 = rt_b64_dec[1], *d2 = rt_b64_dec[2],
                   *d3 = rt_b64_dec[3];
    size_t q = m / 4;
    uint32_t bad = 0;
    /* All groups but the last write 4 bytes (one too many, overwritten by the next group). */
    for (; i + 1 < q; i++) {
        const unsigned char *s = src + 4 * i;
        uint32_t v = d0[s[0]] | d1[s[1]] | d2[s[2]] | d3[s[3]];
        bad |= v;
        memcpy(dst + 3 * i, &v, 4);
    }
    if (i < q) {
        const unsigned char *s = src + 4 * i;
        uint32_t v = d0[s[0]] | d1[s[1]] | d2[s[2]] | d3[s[3]];
        bad |= v;
        unsigned char b[4];
        memcpy(b, &v, 4);
        memcpy(dst + 3 * i, b, 3);
        i++;
    }
    size_t r = m & 3;
    if (r) {
        const unsigned char *s = src + 4 * q;
        uint32_t v = d0[s[0]] | d1[s[1]] | (r == 3 ? d2[s[2]] : 0);
        bad |= v;
        unsigned char b[4];
        memcpy(b, &v, 4);
        memcpy(dst + 3 * q, b, r - 1);
    }
    return (bad & RT_B64_BAD) ? RT_B64_ERR_CHAR : 0;
}


/* ---------------------------------------------------------------- AVX2 (runtime dispatch) */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RT_B64_HAVE_AVX2 1
#include <immintrin.h>

/* 24 input bytes -> 32 chars per step. Each 32-bit lane of a 128-bit half takes one triple
 * (b0 b1 b2) as the bytes [b1 b0 b2 b1]; two multiplies move the four 6-bit fields into the four
 * bytes; a 16-entry offset table maps each field value to its character. */
__attribute__((target("avx2"))) static inline __m256i rt_b64_enc_step(__m256i in)
{
    const __m256i mask_ac = _mm256_set1_epi32(0x0fc0fc00);
    const __m256i mul_ac = _mm256_set1_epi32(0x04000040);
    const __m256i mask_bd = _mm256_set1_epi32(0x003f03f0);
    const __m256i mul_bd = _mm256_set1_epi32(0x01000010);
    /* offset by class: 0 -> 26..51, 1..10 -> 52..61, 11 -> 62, 12 -> 63, 13 -> 0..25 */
    const __m256i offsets = _mm256_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16,
                                             65, 0, 0, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4,
                                             -19, -16, 65, 0, 0);
    const __m256i c51 = _mm256_set1_epi8(51), c26 = _mm256_set1_epi8(26),
                  c13 = _mm256_set1_epi8(13);
    __m256i ac = _mm256_mulhi_epu16(_mm256_and_si256(in, mask_ac), mul_ac);
    __m256i bd = _mm256_mullo_epi16(_mm256_and_si256(in, mask_bd), mul_bd);
    __m256i idx = _mm256_or_si256(ac, bd);
    __m256i cls = _mm256_subs_epu8(idx, c51);
    cls = _mm256_or_si256(cls, _mm256_and_si256(_mm256_cmpgt_epi8(c26, idx), c13));
    return _mm256_add_epi8(idx, _mm256_shuffle_epi8(offsets, cls));
}

__attribute__((target("avx2"))) static size_t rt_b64_encode_avx2(const unsigned char *src,
                                                                  size_t n, char *dst)
{
    const __m256i spread = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
                                            1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
    /* after the first step: one 32-byte load from 4 bytes back puts the step's bytes 0..11 at
     * 4..15 of the low half and 12..23 at 0..11 of the high half */
    const __m256i spread4 = _mm256_setr_epi8(5, 4, 6, 5, 8, 7, 9, 8, 11, 10, 12, 11, 14, 13, 15,
                                             14, 1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11,
                                             10);
    size_t i = 0;
    char *out = dst;
    if (n < 28) return rt_b64_encode_scalar(src, n, dst, 0);
    {
        __m128i lo = _mm_loadu_si128((const __m128i *)src);
        __m128i hi = _mm_loadu_si128((const __m128i *)(src + 12));
        __m256i in = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
        _mm256_storeu_si256((__m256i *)out, rt_b64_enc_step(_mm256_shuffle_epi8(in, spread)));
        i = 24;
        out += 32;
    }
    for (; i + 28 <= n; i += 24, out += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(src + i - 4));
        _mm256_storeu_si256((__m256i *)out, rt_b64_enc_step(_mm256_shuffle_epi8(a, spread4)));
    }
    /* Clear the upper halves before leaving for non-VEX code (the compiler does not on this
     * tail call): left dirty, every later SSE instruction in the process, the echo canceller's
     * included, runs slower (measured: AEC3 twice as slow). */
    _mm256_zeroupper();
    return rt_b64_encode_scalar(src, n, dst, i);
}

/* 32 chars -> 24 bytes per step. Validity: a char is in the alphabet iff the class bits of its
 * low nibble and of its high nibble do not meet. Value: char + an offset picked by the high
 * nibble ('/' moved to its own slot). Two multiply-adds pack four 6-bit values per 32-bit lane. */
__attribute__((target("avx2"))) static int rt_b64_decode_avx2(const unsigned char *src,
                                                               size_t m, unsigned char *dst)
{
    const __m256i lut_lo = _mm256_setr_epi8(
        0x0b, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x07, 0x15, 0x17, 0x17,
        0x17, 0x15, 0x0b, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x07, 0x15,
        0x17, 0x17, 0x17, 0x15);
    const __m256i lut_hi = _mm256_setr_epi8(
        0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x08, 0x10, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x08, 0x10, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01);
    const __m256i lut_off = _mm256_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0,
                                             0, 0, 0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0,
                                             0, 0, 0, 0);
    const __m256i nib = _mm256_set1_epi8(0x0f), slash = _mm256_set1_epi8('/');
    const __m256i merge1 = _mm256_set1_epi32(0x01400140), merge2 = _mm256_set1_epi32(0x00011000);
    const __m256i pack = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
                                          2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
    __m256i bad = _mm256_setzero_si256();
    size_t i = 0;
    unsigned char *out = dst;
    /* 32 bytes are stored per step: keep at least 32 bytes of output ahead (m - i >= 44). */
    for (; i + 44 <= m; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(src + i));
        __m256i hi = _mm256_and_si256(_mm256_srli_epi32(v, 4), nib);
        __m256i lo = _mm256_and_si256(v, nib);
        bad = _mm256_or_si256(bad, _mm256_and_si256(_mm256_shuffle_epi8(lut_lo, lo),
                                                    _mm256_shuffle_epi8(lut_hi, hi)));
        __m256i roll = _mm256_add_epi8(hi, _mm256_cmpeq_epi8(v, slash));
        __m256i vals = _mm256_add_epi8(v, _mm256_shuffle_epi8(lut_off, roll));
        __m256i w = _mm256_madd_epi16(_mm256_maddubs_epi16(vals, merge1), merge2);
        w = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(w, pack), lanes);
        _mm256_storeu_si256((__m256i *)out, w);
        out += 24;
    }
    int any_bad = !_mm256_testz_si256(bad, bad);
    _mm256_zeroupper(); /* before the scalar tail (see rt_b64_encode_avx2) */
    int rc = rt_b64_decode_scalar(src, m, dst, i / 4);
    return any_bad ? RT_B64_ERR_CHAR : rc;
}

static int rt_b64_use_avx2 = 0;

/* Pick the AVX2 paths when the CPU has them and want_simd is set; returns whether they are on. */
static int rt_b64_select(int want_simd)
{
    __builtin_cpu_init();
    rt_b64_use_avx2 = want_simd && __builtin_cpu_supports("avx2");
    return rt_b64_use_avx2;
}
#else
static int rt_b64_select(int want_simd)
{
    (void)want_simd;
    return 0;
}
#endif

/* Encode n bytes at src into dst (room for rt_b64_encoded_len(n)); returns the length. */
static inline size_t rt_b64_encode(const unsigned char *src, size_t n, char *dst)
{
#ifdef RT_B64_HAVE_AVX2
    if (rt_b64_use_avx2 && n >= 28)
        return rt_b64_encode_avx2(src, n, dst);
#endif
    return rt_b64_encode_scalar(src, n, dst, 0);
}

/* Decode m data chars (no '=') into dst, which has room for the exact output length
 * (m/4*3 + tail). Returns 0, or RT_B64_ERR_CHAR if a char is outside the alphabet. */
static inline int rt_b64_decode_data(const unsigned char *src, size_t m, unsigned char *dst)
{
#ifdef RT_B64_HAVE_AVX2
    if (rt_b64_use_avx2 && m >= 44)
        return rt_b64_decode_avx2(src, m, dst);
#endif
    return rt_b64_decode_scalar(src, m, dst, 0);
}

#endif
