/* rcu.c - retire and barrier helpers over liburcu's memb flavour (see rcu.h). */
#include "rcu.h"

#include "inv_assert.h"

#ifdef INV_TSAN
char inv_rcu_tsan_token;
#endif

/* Any thread. See rcu.h. */
void inv_rcu_retire(struct rcu_head *head, void (*fn)(struct rcu_head *head)) {
    inv_assert(head != NULL);
    inv_assert(fn != NULL);
#ifdef INV_TSAN
    /* Everything written before the retire happens-before the callback. */
    __tsan_release(&inv_rcu_tsan_token);
#endif
    urcu_memb_call_rcu(head, fn);
}

/* Any thread outside a read section. See rcu.h. */
void inv_rcu_barrier(void) {
    inv_assert(!urcu_memb_read_ongoing());
    urcu_memb_barrier();
}
