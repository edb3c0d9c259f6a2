/* inv_assert.h - programmer-error checks that stay on in release builds.
 *
 * inv_assert(cond) aborts with file, line and the failed condition. It is for
 * invariants only: operating errors (bad input, broker down, disk full) are
 * returned as codes, never asserted. inv_debug_assert() is compiled only with
 * INV_DEBUG (the sanitizer builds) for checks too costly for the hot path. */
#ifndef INV_ASSERT_H
#define INV_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define inv_assert(cond)                                                               \
    do {                                                                               \
        if (__builtin_expect(!(cond), 0)) inv_assert_fail(#cond, __FILE__, __LINE__); \
    } while (0)

#ifdef INV_DEBUG
#define inv_debug_assert(cond) inv_assert(cond)
#else
#define inv_debug_assert(cond) ((void)0)
#endif

#define inv_unreachable() inv_assert_fail("unreachable", __FILE__, __LINE__)

/* Any thread. Prints "invsync: assertion failed: COND at FILE:LINE" and aborts. */
__attribute__((noreturn, cold)) static inline void inv_assert_fail(const char *cond,
                                                                   const char *file,
                                                                   int line) {
    fprintf(stderr, "invsync: assertion failed: %s at %s:%d\n", cond, file, line);
    fflush(stderr);
    abort();
}

#endif
