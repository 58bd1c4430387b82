/* A validating scanner for one carrier media-stream message (Twilio Media Streams shape), in one
 * pass, no allocation. Same rule as json_delta_scan.h: it answers only when certain.
 *
 * rt_scan_media() returns 1 when the whole text is one valid JSON object in which "event" occurs
 * exactly once as a plain string (no escape, no non-ASCII char). It also says where these are
 * when they are plain strings: "sequenceNumber" (top level) and, inside a top-level "media"
 * object, "track", "timestamp" and "payload". Any key of interest seen twice at its level, or a
 * "media" that is not an object, makes the answer "not sure" (0) only when it matters: the
 * caller falls back to json.loads for every case it does not handle itself.
 */
#ifndef RT_MEDIA_SCAN_H
#define RT_MEDIA_SCAN_H

#include "json_delta_scan.h"

enum {
    RT_MK_OTHER = 0,
    RT_MK_EVENT,
    RT_MK_SEQ,
    RT_MK_MEDIA,
    RT_MK_TRACK,
    RT_MK_TS,
    RT_MK_PAYLOAD,
    RT_MNKEYS
};

typedef struct {
    const unsigned char *val[RT_MNKEYS]; /* start of a plain string value, else NULL */
    size_t len[RT_MNKEYS];
    int seen[RT_MNKEYS];
    int media_object; /* "media" was an object (its members were scanned) */
} rt_mscan_t;

static inline int rt_mkey_top(const unsigned char *k, size_t n)
{
    if (n == 5 && memcmp(k, "event", 5) == 0)
        return RT_MK_EVENT;
    if (n == 5 && memcmp(k, "media", 5) == 0)
        return RT_MK_MEDIA;
    if (n == 14 && memcmp(k, "sequenceNumber", 14) == 0)
        return RT_MK_SEQ;
    return RT_MK_OTHER;
}

static inline int rt_mkey_media(const unsigned char *k, size_t n)
{
    if (n == 5 && memcmp(k, "track", 5) == 0)
        return RT_MK_TRACK;
    if (n == 7 && memcmp(k, "payload", 7) == 0)
        return RT_MK_PAYLOAD;
    if (n == 9 && memcmp(k, "timestamp", 9) == 0)
        return RT_MK_TS;
    return RT_MK_OTHER;
}

/* p at '{'. Scans one object's members; nested = 1 for the "media" object. Returns just past
 * the closing brace, or NULL when invalid or not sure. */
static const unsigned char *rt_mscan_object(const unsigned char *p, const unsigned char *end,
                                            int allow_high, int nested, rt_mscan_t *st)
{
    int more = 0;
    p = rt_ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    for (;;) {
        int flags = 0;
        if (p >= end || *p != '"')
            return NULL;
        const unsigned char *k = p + 1;
        p = rt_string(k, end, allow_high, &flags);
        if (!p || (flags & RT_STR_ESCAPE))
            return NULL;
        size_t klen = (size_t)(p - 1 - k);
        int key = nested ? rt_mkey_media(k, klen) : rt_mkey_top(k, klen);
        p = rt_ws(p, end);
        if (p >= end || *p != ':')
            return NULL;
        p = rt_ws(p + 1, end);
        if (p >= end)
            return NULL;
        if (key != RT_MK_OTHER && st->seen[key]++)
            return NULL;
        if (key == RT_MK_MEDIA && *p == '{') {
            st->media_object = 1;
            p = rt_mscan_object(p, end, allow_high, 1, st);
        } else if (key != RT_MK_OTHER && key != RT_MK_MEDIA && *p == '"') {
            const unsigned char *v = p + 1;
            flags = 0;
            p = rt_string(v, end, allow_high, &flags);
            if (p && !flags) {
                st->val[key] = v;
                st->len[key] = (size_t)(p - 1 - v);
            }
        } else {
            p = rt_value(p, end, allow_high, nested + 1);
        }
        p = rt_after_member(p, end, '}', &more);
        if (!p || !more)
            return p;
    }
}

/* 1: certain (see the top of this file), 0: not sure (parse with json.loads). */
static int rt_scan_media(const unsigned char *p, size_t n, int allow_high, rt_mscan_t *st)
{
    const unsigned char *end = p + n;
    memset(st, 0, sizeof(*st));
    p = rt_ws(p, end);
    if (p >= end || *p != '{')
        return 0;
    p = rt_mscan_object(p, end, allow_high, 0, st);
    if (!p)
        return 0;
    p = rt_ws(p, end);
    if (p != end)
        return 0;
    return st->val[RT_MK_EVENT] != NULL;
}

/* A plain counter string: 1-18 ASCII digits -> value, else -1. */
static inline long long rt_digits(const unsigned char *s, size_t n)
{
    if (s == NULL || n == 0 || n > 18)
        return -1;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

#endif
