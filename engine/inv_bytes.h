/* inv_bytes.h - unaligned little loads, for comparing short byte strings a
 * word at a time without a call (keys in the table, member names in the JSON
 * decoder). memcpy of a constant size compiles to one load. Any thread. */
#ifndef INV_BYTES_H
#define INV_BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint64_t inv_load_u64(const char *p) {
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint32_t inv_load_u32(const char *p) {
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint16_t inv_load_u16(const char *p) {
    uint16_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

#endif
