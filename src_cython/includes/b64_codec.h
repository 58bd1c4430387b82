/* Standard base64 (RFC 4648, '=' padding) over raw pointers: table-driven scalar codec.
 *
 * Call rt_b64_init() once before use (module init). Encoding writes 4*ceil(n/3) chars. Decoding
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

static size_t rt_b64_encode(const unsigned char *src, size_t n, char *dst)
{
    char *out = dst;
    size_t i = 0;
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

/* Decode m data chars (no '=') into dst, which has room for the exact output length
 * (m/4*3 + tail). Returns 0, or RT_B64_ERR_CHAR if a char is outside the alphabet. */
static int rt_b64_decode_data(const unsigned char *src, size_t m, unsigned char *dst)
{
    const uint32_t *d0 = rt_b64_dec[0], *d1 = rt_b64_dec[1], *d2 = rt_b64_dec[2],
                   *d3 = rt_b64_dec[3];
    size_t q = m / 4;
    uint32_t bad = 0;
    size_t i = 0;
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

#endif
