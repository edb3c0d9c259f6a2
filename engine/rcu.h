/* rcu.h - the one place invsync touches liburcu.
 *
 * Flavour: urcu-memb (readers need no quiescent-state reports, so HTTP and
 * other foreign threads can read; the read-side pair is a few instructions
 * plus a library call). We do NOT define _LGPL_SOURCE: inlining liburcu's
 * LGPL-2.1 fast paths into an MIT binary would put LGPL code in our object
 * files. The price is a call per rcu_read_lock/unlock (make bench-rcu: 14.8 ns
 * per pair against 2.1 ns inlined, on the 2-core CI machine);
 * only readers pay it, and readers are never on the apply hot path (the
 * owning worker reads its own table without RCU).
 *
 * Pointers are published and read with C11 release/acquire atomics, which is
 * what rcu_assign_pointer/rcu_dereference do on every platform we build for;
 * using the compiler's atomics lets ThreadSanitizer see the ordering. The
 * grace period itself comes from liburcu (call_rcu / synchronize_rcu). Under
 * TSan the end of every read section is annotated as a release and each
 * reclaim as an acquire on one token, which is exactly the ordering a grace
 * period guarantees and TSan cannot see inside the uninstrumented library. */
#ifndef INV_RCU_H
#define INV_RCU_H

#include <urcu/urcu-memb.h>

#if defined(__SANITIZE_THREAD__)
#define INV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define INV_TSAN 1
#endif
#endif

#ifdef INV_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char inv_rcu_tsan_token;
#endif

/* Any thread that reads RCU-protected engine data must be registered once.
 * Workers register themselves (worker.c), so they may call the read API too. */
static inline void inv_rcu_register_thread(void) {
    urcu_memb_register_thread();
}
static inline void inv_rcu_unregister_thread(void) {
    urcu_memb_unregister_thread();
}

/* Registered threads. Read sections nest; nothing inside may block. */
static inline void inv_rcu_read_lock(void) {
    urcu_memb_read_lock();
}
static inline void inv_rcu_read_unlock(void) {
#ifdef INV_TSAN
    __tsan_release(&inv_rcu_tsan_token);
#endif
    urcu_memb_read_unlock();
}

/* Publish p at *slot: everything written to *p before happens-before a
 * reader's inv_rcu_deref of it. */
#define inv_rcu_publish(slot, p) __atomic_store_n((slot), (p), __ATOMIC_RELEASE)
/* Read an RCU-protected pointer; inside a read section (or by its only writer). */
#define inv_rcu_deref(slot) __atomic_load_n((slot), __ATOMIC_ACQUIRE)

/* Any thread. Runs fn(head) on liburcu's call_rcu thread after every read
 * section that could see the retired object has ended. Never blocks. */
void inv_rcu_retire(struct rcu_head *head, void (*fn)(struct rcu_head *head));

/* Any thread, outside any read section. Waits for every retire queued so far
 * to have run (used at shutdown and in tests). */
void inv_rcu_barrier(void);

/* Called by a retire callback before it frees: tells TSan the grace period
 * ordered every earlier read section before the free. No-op otherwise. */
static inline void inv_rcu_reclaim_begin(void) {
#ifdef INV_TSAN
    __tsan_acquire(&inv_rcu_tsan_token);
#endif
}

#endif
