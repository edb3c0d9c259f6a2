/* bench_util.h - what the benchmarks share: the seeded generator. Clocks come
 * from engine/inv_clock.h. */
#ifndef INV_BENCH_UTIL_H
#define INV_BENCH_UTIL_H

#include <stdint.h>

/* splitmix64: a fast, seedable generator; the same seed gives the same run. */
static inline uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif
