/* bench_rcu.c - the cost of liburcu's read-side pair, called vs inlined (make bench-rcu).
 *
 * invsync calls urcu_memb_read_lock/unlock through the library (no
 * _LGPL_SOURCE: see engine/rcu.h for why). This program measures what that
 * choice costs a reader: built twice by the Makefile, once as the engine uses
 * liburcu and once with _LGPL_SOURCE (the inlined fast path), it times a loop
 * of empty read sections and prints ns per lock+unlock pair. Only this
 * benchmark is ever built with _LGPL_SOURCE; nothing of it ships. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <urcu/urcu-memb.h>

#ifdef _LGPL_SOURCE
#define VARIANT "inlined (_LGPL_SOURCE)"
#else
#define VARIANT "library call (as invsync)"
#endif

#define PAIRS 200000000L

int main(void) {
    struct timespec a, b;
    urcu_memb_register_thread();
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < PAIRS; i++) {
        urcu_memb_read_lock();
        __asm__ volatile("" ::: "memory"); /* an empty read section the compiler keeps */
        urcu_memb_read_unlock();
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    urcu_memb_unregister_thread();
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    printf("rcu read-side pair, %-26s %6.2f ns (%ld pairs)\n", VARIANT ":", ns / PAIRS, PAIRS);
    return 0;
}
