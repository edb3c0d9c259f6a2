/* fuzz_util.h - what the fuzz targets share: FUZZ_CHECK, which aborts with
 * the failed condition and its place (libFuzzer then keeps the input), and a
 * cursor that carves structured values (numbers, lengths, modes) out of raw
 * bytes; reads past the end yield zeros, so every input, however short, is a
 * valid one. */
#ifndef INV_FUZZ_UTIL_H
#define INV_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

typedef struct fuzz_reader {
    const uint8_t *p;
    size_t left;
} fuzz_reader;

/* The next byte, or 0 past the end. */
static inline uint8_t rd_u8(fuzz_reader *r) {
    if (r->left == 0) return 0;
    r->left--;
    return *r->p++;
}

/* The next 8 bytes as a little-endian integer (zeros past the end). */
static inline uint64_t rd_u64(fuzz_reader *r) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)rd_u8(r) << (8 * i);
    return v;
}

#endif
