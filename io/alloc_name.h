/* alloc_name.h - names the malloc a process runs on.
 *
 * The plain build links mimalloc into invsyncd and bench-e2e (Makefile:
 * ALLOC_LDLIBS); it then serves every malloc, librdkafka's per-message ones
 * included. A sanitizer build uses the C library's. invsyncd's start-up line
 * and bench-e2e's header print the name, so a figure always says which
 * allocator it was measured on. */
#ifndef INV_ALLOC_NAME_H
#define INV_ALLOC_NAME_H

#include <stddef.h>

/* Any thread. Writes "mimalloc X.Y.Z" into buf (cap bytes) when mimalloc is
 * loaded and returns buf; otherwise returns the static string "the C
 * library's malloc". */
const char *alloc_name(char *buf, size_t cap);

#endif
