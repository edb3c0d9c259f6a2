/* alloc_name.c - see alloc_name.h. Looks mimalloc up at run time (dlsym), so
 * the same object links into builds with and without it. */
#include "alloc_name.h"

#include <dlfcn.h>
#include <stdio.h>

const char *alloc_name(char *buf, size_t cap) {
    int (*mi_version)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "mi_version");
    if (mi_version == NULL) return "the C library's malloc";
    int v = mi_version(); /* e.g. 209 for 2.0.9 */
    snprintf(buf, cap, "mimalloc %d.%d.%d", v / 100, v / 10 % 10, v % 10);
    return buf;
}
