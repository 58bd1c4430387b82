# The JSON event scanner (includes/json_delta_scan.h): the keys it finds and its entry point.
# Included by the kernels that read Realtime events without a full parse.

cdef extern from "json_delta_scan.h" nogil:
    int RT_KEY_TYPE
    int RT_KEY_RID
    int RT_KEY_IID
    int RT_KEY_DELTA
    ctypedef struct rt_scan_t:
        const unsigned char *val[5]
        size_t len[5]
    int rt_scan_event(const unsigned char *p, size_t n, int allow_high, rt_scan_t *st)
