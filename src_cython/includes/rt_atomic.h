/* C11 atomics for rtsdk kernels, wrapped so that Cython (which cannot spell `_Atomic`) can use
 * them: a 64-bit counter type and acquire/release/relaxed load and store helpers, plus the control
 * block of the single-producer/single-consumer ring (src_cython/ring.pyx).
 *
 * Memory-order contract of the ring: the producer copies bytes into the storage, then publishes
 * the new head with a release store; the consumer loads head with acquire before reading those
 * bytes. Symmetrically the consumer publishes tail with release after it has finished reading,
 * and the producer loads tail with acquire before overwriting the freed space. Each side stores
 * only its own index, so no read-modify-write is needed.
 */
#ifndef RT_ATOMIC_H
#define RT_ATOMIC_H

#include <stdint.h>

#if defined(__STDC_NO_ATOMICS__)
#error "rtsdk needs C11 <stdatomic.h>"
#endif
#include <stdatomic.h>

#define RT_CACHE_LINE 64

typedef struct {
    _Atomic int64_t v;
} rt_atomic_i64;

static inline int64_t rt_load_acquire(const rt_atomic_i64 *a) {
    return atomic_load_explicit((_Atomic int64_t *)&a->v, memory_order_acquire);
}
static inline int64_t rt_load_relaxed(const rt_atomic_i64 *a) {
    return atomic_load_explicit((_Atomic int64_t *)&a->v, memory_order_relaxed);
}
static inline void rt_store_release(rt_atomic_i64 *a, int64_t x) {
    atomic_store_explicit(&a->v, x, memory_order_release);
}
static inline void rt_store_relaxed(rt_atomic_i64 *a, int64_t x) {
    atomic_store_explicit(&a->v, x, memory_order_relaxed);
}
static inline void rt_atomic_init_i64(rt_atomic_i64 *a, int64_t x) {
    atomic_init(&a->v, x);
}

/* Ring control block. Producer-owned and consumer-owned fields sit on separate cache lines so
 * the two threads do not invalidate each other's lines on every call (false sharing). Each side
 * keeps a private, possibly stale copy of the other's index and reloads it (acquire) only when
 * the stale copy says there is not enough room / data. */
typedef struct {
    char pad0_[RT_CACHE_LINE];
    /* written by the producer */
    rt_atomic_i64 head;           /* total bytes ever accepted (monotonic) */
    rt_atomic_i64 overruns;       /* bytes dropped because the ring was full */
    rt_atomic_i64 overrun_events; /* writes that were short */
    int64_t tail_cache;           /* producer's last view of tail */
    char pad1_[RT_CACHE_LINE];
    /* written by the consumer */
    rt_atomic_i64 tail;           /* total bytes ever released (monotonic) */
    int64_t head_cache;           /* consumer's last view of head */
    char pad2_[RT_CACHE_LINE];
} rt_spsc_ctl;

static inline void rt_spsc_ctl_init(rt_spsc_ctl *c) {
    rt_atomic_init_i64(&c->head, 0);
    rt_atomic_init_i64(&c->overruns, 0);
    rt_atomic_init_i64(&c->overrun_events, 0);
    rt_atomic_init_i64(&c->tail, 0);
    c->tail_cache = 0;
    c->head_cache = 0;
}

#endif /* RT_ATOMIC_H */
