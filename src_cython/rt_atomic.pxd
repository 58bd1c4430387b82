# Cython declarations of src_cython/includes/rt_atomic.h (C11 atomics; the SPSC control block).
# `from rt_atomic cimport ...` (src_cython/ is on the Cython include path).
from libc.stdint cimport int64_t


cdef extern from "rt_atomic.h" nogil:
    ctypedef struct rt_atomic_i64:
        pass

    ctypedef struct rt_spsc_ctl:
        rt_atomic_i64 head
        rt_atomic_i64 overruns
        rt_atomic_i64 overrun_events
        int64_t tail_cache
        rt_atomic_i64 tail
        int64_t head_cache

    int64_t rt_load_acquire(const rt_atomic_i64 *a)
    int64_t rt_load_relaxed(const rt_atomic_i64 *a)
    void rt_store_release(rt_atomic_i64 *a, int64_t x)
    void rt_store_relaxed(rt_atomic_i64 *a, int64_t x)
    void rt_spsc_ctl_init(rt_spsc_ctl *c)
