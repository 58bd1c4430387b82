/* A validating scanner for one server event frame (a JSON object), in one pass, no allocation.
 *
 * It answers only when it is certain: rt_scan_event() returns 1 when the whole text is one valid
 * JSON object (optional JSON whitespace around it) in which "type" occurs exactly once as a plain
 * string, and fills in where the values of "type", "response_id", "item_id" and "delta" are when
 * they are plain strings (no escape, no non-ASCII char). Anything it is not sure of returns 0 and
 * the caller parses the frame with json.loads instead: escapes in keys, a repeated relevant key,
 * NaN/Infinity, non-ASCII bytes (bytes input), nesting deeper than RT_SCAN_MAX_DEPTH, number
 * tokens longer than RT_SCAN_MAX_NUMBER (Python's int-digit limit), and of course invalid JSON.
 *
 * Input is one char per byte: UTF-8 bytes (allow_high=0: any byte >= 0x80 means "not sure") or
 * the data of a 1-byte-kind str (allow_high=1: code points 0x80-0xff are plain chars in strings).
 */
#ifndef RT_JSON_DELTA_SCAN_H
#define RT_JSON_DELTA_SCAN_H

#include <stddef.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum { RT_KEY_OTHER = 0, RT_KEY_TYPE, RT_KEY_RID, RT_KEY_IID, RT_KEY_DELTA, RT_NKEYS };

#define RT_SCAN_MAX_DEPTH 64
#define RT_SCAN_MAX_NUMBER 4000

/* String flags. */
#define RT_STR_ESCAPE 1
#define RT_STR_HIGH 2

typedef struct {
    const unsigned char *val[RT_NKEYS]; /* start of a plain string value, else NULL */
    size_t len[RT_NKEYS];
    int seen[RT_NKEYS];
} rt_scan_t;

static inline const unsigned char *rt_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* After one member or element (p just past its value, or NULL when that value was invalid):
 * whitespace, then ',' or the byte `close`. Returns the next token after a ',' with *more = 1,
 * or just past `close` with *more = 0; NULL when p is NULL or neither follows. */
static inline const unsigned char *rt_after_member(const unsigned char *p, const unsigned char *end,
                                                   unsigned char close, int *more)
{
    if (!p)
        return NULL;
    p = rt_ws(p, end);
    if (p >= end)
        return NULL;
    if (*p == ',') {
        *more = 1;
        return rt_ws(p + 1, end);
    }
    *more = 0;
    return *p == close ? p + 1 : NULL;
}

static inline int rt_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* p is just past the opening quote; returns just past the closing quote, or NULL. */
static inline const unsigned char *rt_string(const unsigned char *p, const unsigned char *end,
                                             int allow_high, int *flags)
{
    for (;;) {
#if defined(__SSE2__)
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                      space = _mm_set1_epi8(0x20);
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)p);
            /* signed compare: true for chars < 0x20 and for bytes >= 0x80 */
            __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                                    _mm_cmpeq_epi8(v, bslash)),
                                       _mm_cmplt_epi8(v, space));
            int m = _mm_movemask_epi8(hit);
            if (m) {
                p += __builtin_ctz((unsigned)m);
                break;
            }
            p += 16;
        }
#endif
        if (p >= end)
            return NULL;
        unsigned char c = *p;
        if (c == '"')
            return p + 1;
        if (c == '\\') {
            if (end - p < 2)
                return NULL;
            unsigned char e = p[1];
            *flags |= RT_STR_ESCAPE;
            if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                e == 'r' || e == 't') {
                p += 2;
            } else if (e == 'u') {
                if (end - p < 6 || !rt_hex(p[2]) || !rt_hex(p[3]) || !rt_hex(p[4]) ||
                    !rt_hex(p[5]))
                    return NULL;
                p += 6;
            } else {
                return NULL;
            }
            continue;
        }
        if (c < 0x20)
            return NULL;
        if (c >= 0x80) {
            if (!allow_high)
                return NULL;
            *flags |= RT_STR_HIGH;
        }
        p++;
    }
}

static inline int rt_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static const unsigned char *rt_number(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *start = p;
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return NULL;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && rt_digit(*p))
            p++;
    } else {
        return NULL;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !rt_digit(*p))
            return NULL;
        while (p < end && rt_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !rt_digit(*p))
            return NULL;
        while (p < end && rt_digit(*p))
            p++;
    }
    if (p - start > RT_SCAN_MAX_NUMBER)
        return NULL;
    return p;
}

static const unsigned char *rt_value(const unsigned char *p, const unsigned char *end,
                                     int allow_high, int depth);

/* p at '{' or '['. */
static const unsigned char *rt_container(const unsigned char *p, const unsigned char *end,
                                         int allow_high, int depth)
{
    if (depth >= RT_SCAN_MAX_DEPTH)
        return NULL;
    int obj = *p == '{';
    unsigned char close = obj ? '}' : ']';
    int more = 0;
    p = rt_ws(p + 1, end);
    if (p < end && *p == close)
        return p + 1;
    for (;;) {
        if (obj) {
            int flags = 0;
            if (p >= end || *p != '"')
                return NULL;
            p = rt_string(p + 1, end, allow_high, &flags);
            if (!p)
                return NULL;
            p = rt_ws(p, end);
            if (p >= end || *p != ':')
                return NULL;
            p = rt_ws(p + 1, end);
        }
        p = rt_after_member(rt_value(p, end, allow_high, depth + 1), end, close, &more);
        if (!p || !more)
            return p;
    }
}

static const unsigned char *rt_value(const unsigned char *p, const unsigned char *end,
                                     int allow_high, int depth)
{
    if (p >= end)
        return NULL;
    int flags = 0;
    switch (*p) {
    case '"':
        return rt_string(p + 1, end, allow_high, &flags);
    case '{':
    case '[':
        return rt_container(p, end, allow_high, depth);
    case 't':
        return (end - p >= 4 && memcmp(p, "true", 4) == 0) ? p + 4 : NULL;
    case 'f':
        return (end - p >= 5 && memcmp(p, "false", 5) == 0) ? p + 5 : NULL;
    case 'n':
        return (end - p >= 4 && memcmp(p, "null", 4) == 0) ? p + 4 : NULL;
    default:
        return rt_number(p, end);
    }
}

static inline int rt_key_id(const unsigned char *k, size_t n)
{
    switch (n) {
    case 4:
        return memcmp(k, "type", 4) == 0 ? RT_KEY_TYPE : RT_KEY_OTHER;
    case 5:
        return memcmp(k, "delta", 5) == 0 ? RT_KEY_DELTA : RT_KEY_OTHER;
    case 7:
        return memcmp(k, "item_id", 7) == 0 ? RT_KEY_IID : RT_KEY_OTHER;
    case 11:
        return memcmp(k, "response_id", 11) == 0 ? RT_KEY_RID : RT_KEY_OTHER;
    default:
        return RT_KEY_OTHER;
    }
}

/* 1: certain (see the top of this file), 0: not sure (parse with json.loads). */
static int rt_scan_event(const unsigned char *p, size_t n, int allow_high, rt_scan_t *st)
{
    int more = 0;
    const unsigned char *end = p + n;
    memset(st, 0, sizeof(*st));
    p = rt_ws(p, end);
    if (p >= end || *p != '{')
        return 0;
    p = rt_ws(p + 1, end);
    for (;;) {
        int flags = 0;
        if (p >= end || *p != '"')
            return 0;
        const unsigned char *k = p + 1;
        p = rt_string(k, end, allow_high, &flags);
        if (!p || (flags & RT_STR_ESCAPE))
            return 0;
        int key = rt_key_id(k, (size_t)(p - 1 - k));
        p = rt_ws(p, end);
        if (p >= end || *p != ':')
            return 0;
        p = rt_ws(p + 1, end);
        if (p >= end)
            return 0;
        if (key != RT_KEY_OTHER) {
            if (st->seen[key]++)
                return 0;
            if (*p == '"') {
                const unsigned char *v = p + 1;
                flags = 0;
                p = rt_string(v, end, allow_high, &flags);
                if (!p)
                    return 0;
                if (!flags) {
                    st->val[key] = v;
                    st->len[key] = (size_t)(p - 1 - v);
                }
            } else {
                p = rt_value(p, end, allow_high, 1);
                if (!p)
                    return 0;
            }
        } else {
            p = rt_value(p, end, allow_high, 1);
            if (!p)
                return 0;
        }
        p = rt_after_member(p, end, '}', &more);
        if (!p)
            return 0;
        if (more)
            continue;
        p = rt_ws(p, end);
        break;
    }
    if (p != end)
        return 0;
    return st->val[RT_KEY_TYPE] != NULL;
}

#endif
