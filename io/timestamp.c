/* timestamp.c - ISO-8601 UTC parse and format with milliseconds (timestamp.h).
 *
 * The parser runs once per event on the decode path. The exact form invsync
 * writes, "YYYY-MM-DDTHH:MM:SS.mmmZ", has its own path (parse_exact): all
 * 24 bytes checked in one branch (SSE2: one range test per byte, a digit or
 * its fixed separator), the values taken as digit pairs of three 64-bit
 * words, every range in one more branch. Every other length, and any 24
 * bytes it declines, take the general path: the first 16 bytes,
 * "YYYY-MM-DDTHH:MM", checked and turned into two-digit values a 64-bit
 * word at a time (SWAR: punctuation by mask, digits by nibble tests, pairs
 * by one multiply), so a valid timestamp costs no branch per digit, then
 * seconds, fraction and zone. The exact path accepts only what the general
 * one accepts, with the same value (tests/test_json_event.c checks it on
 * every day of several centuries and on every byte value at every position).
 * Civil date <-> day number uses the 400-year-cycle algorithm (H. Hinnant,
 * "chrono-compatible low-level date algorithms"), with the year shifted by
 * one cycle so every division is of a non-negative number: year 0000 (the
 * smallest accepted) is handled like any other. */
#include "timestamp.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "digits.h"
#include "inv_assert.h"
#include "inv_limits.h"

#define DAYS_PER_ERA             146097 /* days in 400 Gregorian years */
#define DAYS_0000_03_01_TO_EPOCH 719468

_Static_assert(INV_TIMESTAMP_MS_MAX == 253402300799999LL, "9999-12-31T23:59:59.999Z");
_Static_assert(INV_TIMESTAMP_MS_MIN == 0, "the formatter handles 1970 and later");

/* File-local. Days since 1970-01-01 of the valid date y-m-d, y in 0..9999. */
static int64_t days_from_civil(unsigned y, unsigned m, unsigned d) {
    inv_debug_assert(y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= 31);
    unsigned ys = y + 400 - (m <= 2); /* one era later, so never negative */
    unsigned era = ys / 400;
    unsigned yoe = ys - era * 400;
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return ((int64_t)era - 1) * DAYS_PER_ERA + (int64_t)doe - DAYS_0000_03_01_TO_EPOCH;
}

/* File-local. True when year y is a Gregorian leap year. */
static inline bool is_leap(unsigned y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* File-local. Days in month m (1..12) of year y. */
static unsigned days_in_month(unsigned y, unsigned m) {
    static const unsigned char dim[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    inv_debug_assert(m >= 1 && m <= 12);
    return m == 2 && is_leap(y) ? 29 : dim[m];
}

/* File-local. The two digits at p; sets *bad when either is not a digit. */
static inline unsigned dig2(const unsigned char *p, unsigned *bad) {
    unsigned a = (unsigned)p[0] - '0', b = (unsigned)p[1] - '0';
    *bad |= (a > 9) | (b > 9);
    return a * 10 + b;
}

/* File-local. Parses the optional ".f{1,9}" at s[i] and the zone that ends
 * the string; returns the fraction's milliseconds (truncated, not rounded:
 * .9999 is 999), or -1 when malformed. */
static int parse_fraction_zone(const unsigned char *s, size_t len, size_t i) {
    if (len == INV_TIMESTAMP_ISO_LEN && s[i] == '.' && s[i + 4] == 'Z') { /* ".mmmZ" */
        unsigned a = s[i + 1] - '0', b = s[i + 2] - '0', c = s[i + 3] - '0';
        if ((a > 9) | (b > 9) | (c > 9)) return -1;
        return (int)(a * 100 + b * 10 + c);
    }
    unsigned ms = 0;
    if (i < len && s[i] == '.') {
        i++;
        size_t first = i;
        while (i < len && (unsigned)(s[i] - '0') <= 9 && i - first < 9) {
            if (i - first < 3) ms = ms * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        size_t digits = i - first;
        if (digits == 0) return -1;
        for (size_t k = digits; k < 3; k++)
            ms *= 10; /* ".1" is 100 ms */
    }
    size_t rest = len - i;
    if (rest == 1 && s[i] == 'Z') return (int)ms;
    if (rest == 6 && s[i] == '+' && s[i + 1] == '0' && s[i + 2] == '0' && s[i + 3] == ':' &&
        s[i + 4] == '0' && s[i + 5] == '0') {
        return (int)ms;
    }
    return -1;
}

/* SWAR over the first 16 bytes, "YYYY-MM-DDTHH:MM", as two little-endian
 * words: which bytes are digits, what the others must be. */
#define TS_ONES     0x0101010101010101ull
#define TS_A_DIGITS 0x00ffff00ffffffffull /* "YYYY-MM-": digits at 0-3, 5-6 */
#define TS_A_PUNCT  0x2d00002d00000000ull /* '-' at 4 and 7 */
#define TS_B_DIGITS 0xffff00ffff00ffffull /* "DDTHH:MM": digits at 0-1, 3-4, 6-7 */
#define TS_B_PUNCT  0x00003a0000540000ull /* 'T' at 2, ':' at 5 */

/* File-local. True when the bytes of x under mask are all ASCII digits:
 * high nibble 3, and adding 6 keeps it 3 (0x3a..0x3f become 0x4_). No carry
 * crosses a byte for bytes that pass the first test. */
static inline bool swar_digits(uint64_t x, uint64_t mask) {
    uint64_t hi = 0xf0 * TS_ONES & mask, three = 0x30 * TS_ONES & mask;
    return ((x & hi) == three) & ((((x & mask) + (0x06 * TS_ONES & mask)) & hi) == three);
}

/* File-local. Turns the digit bytes of x (validated) into two-digit values:
 * byte i of the result is 10 * digit(i) + digit(i + 1). */
static inline uint64_t swar_pairs(uint64_t x, uint64_t mask) {
    uint64_t v = (x & mask) - (0x30 * TS_ONES & mask);
    return v * 10 + (v >> 8);
}

/* File-local. Byte i of x. */
static inline unsigned byte_at(uint64_t x, unsigned i) {
    return (unsigned)(x >> (8 * i)) & 0xff;
}

/* Days from March 1 to the first of month m (1..12) in a year that starts in
 * March, as days_from_civil counts: (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5. */
static const uint16_t days_before_month_from_march[13] = {0,   306, 337, 0,   31,  61, 92,
                                                          122, 153, 184, 214, 245, 275};

/* The last 8 bytes of the exact form, ":SS.mmmZ". */
#define TS_C_DIGITS 0x00ffffff00ffff00ull /* digits at 1-2 and 4-6 */
#define TS_C_PUNCT  0x5a0000002e00003aull /* ':' at 0, '.' at 3, 'Z' at 7 */

/* File-local. True when the 24 bytes at s have the shape
 * "dddd-dd-ddTdd:dd:dd.dddZ" (d an ASCII digit). With SSE2 each byte is one
 * range test, x + bias in [-128, -128 + n) as a signed byte, with its own
 * bias and n: n = 10 for a digit, 1 for a fixed byte; two vectors, one
 * branch. Otherwise the SWAR tests of the general parser, on three words. */
static inline bool exact_shape(const unsigned char *s) {
#if defined(__SSE2__)
#define D    (char)(0x80 - '0')
#define DN   (char)(0x80 + 10)
#define F(c) (char)(0x80 - (c))
#define FN   (char)(0x80 + 1)
    const __m128i bias_lo =
        _mm_setr_epi8(D, D, D, D, F('-'), D, D, F('-'), D, D, F('T'), D, D, F(':'), D, D);
    const __m128i lim_lo =
        _mm_setr_epi8(DN, DN, DN, DN, FN, DN, DN, FN, DN, DN, FN, DN, DN, FN, DN, DN);
    /* The high half of the second vector is zero (a 64-bit load): tested as
     * the fixed byte 0. */
    const __m128i bias_hi = _mm_setr_epi8(F(':'), D, D, F('.'), D, D, D, F('Z'), F(0), F(0), F(0),
                                          F(0), F(0), F(0), F(0), F(0));
    const __m128i lim_hi =
        _mm_setr_epi8(FN, DN, DN, FN, DN, DN, DN, FN, FN, FN, FN, FN, FN, FN, FN, FN);
#undef D
#undef DN
#undef F
#undef FN
    __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i hi = _mm_loadl_epi64((const __m128i *)(const void *)(s + 16));
    __m128i ok = _mm_and_si128(_mm_cmplt_epi8(_mm_add_epi8(lo, bias_lo), lim_lo),
                               _mm_cmplt_epi8(_mm_add_epi8(hi, bias_hi), lim_hi));
    return _mm_movemask_epi8(ok) == 0xffff;
#else
    uint64_t a, b, c;
    memcpy(&a, s, sizeof(a));
    memcpy(&b, s + 8, sizeof(b));
    memcpy(&c, s + 16, sizeof(c));
    return ((a & ~TS_A_DIGITS) == TS_A_PUNCT) & ((b & ~TS_B_DIGITS) == TS_B_PUNCT) &
           ((c & ~TS_C_DIGITS) == TS_C_PUNCT) & swar_digits(a, TS_A_DIGITS) &
           swar_digits(b, TS_B_DIGITS) & swar_digits(c, TS_C_DIGITS);
#endif
}

/* File-local. The exact form invsync writes, "YYYY-MM-DDTHH:MM:SS.mmmZ"
 * (len == INV_TIMESTAMP_ISO_LEN): the shape in one branch (exact_shape),
 * the values as digit pairs of three words (swar_pairs), every range in one
 * more branch (and a leap-year test only past the 28th), the day number
 * straight from the shifted year. Returns false for anything else, valid or
 * not, and leaves *ms_out alone: the caller then runs the general parser,
 * which gives the same answer for every input accepted here. */
static inline bool parse_exact(const unsigned char *s, int64_t *ms_out) {
    inv_debug_assert(s != NULL && ms_out != NULL);
    if (!exact_shape(s)) return false;
    uint64_t a, b, c;
    memcpy(&a, s, sizeof(a));
    memcpy(&b, s + 8, sizeof(b));
    memcpy(&c, s + 16, sizeof(c));
    uint64_t pa = swar_pairs(a, TS_A_DIGITS), pb = swar_pairs(b, TS_B_DIGITS);
    uint64_t vc = (c & TS_C_DIGITS) - (0x30 * TS_ONES & TS_C_DIGITS), pc = vc * 10 + (vc >> 8);
    unsigned y = byte_at(pa, 0) * 100 + byte_at(pa, 2), mo = byte_at(pa, 5);
    unsigned d = byte_at(pb, 0), h = byte_at(pb, 3), mi = byte_at(pb, 6);
    unsigned sec = byte_at(pc, 1), ms = byte_at(pc, 4) * 10 + byte_at(vc, 6);
    inv_debug_assert(y <= 9999 && ms <= 999);
    if ((mo - 1 > 11) | (d - 1 > 30) | (h > 23) | (mi > 59) | (sec > 59)) return false;
    if (d > 28 && d > days_in_month(y, mo)) return false;
    /* days_from_civil without the era split: with ys >= 0 the 400-year
     * cycle needs no separate step (ys / 400 * 146097 + the rest of the
     * cycle is 365 * ys + ys / 4 - ys / 100 + ys / 400). */
    unsigned ys = y + 400 - (mo <= 2);
    unsigned doe =
        ys * 365 + ys / 4 - ys / 100 + ys / 400 + days_before_month_from_march[mo] + d - 1;
    int64_t days = (int64_t)doe - DAYS_PER_ERA - DAYS_0000_03_01_TO_EPOCH;
    inv_debug_assert(days == days_from_civil(y, mo, d));
    *ms_out = days * 86400000 + (int64_t)(h * 3600000u + mi * 60000u + sec * 1000u + ms);
    return true;
}

/* File-local. Every accepted form, the exact one included; see
 * timestamp_parse_iso. Out of line: the exact form is settled before it. */
__attribute__((noinline)) static bool parse_general(const unsigned char *s, size_t len,
                                                    int64_t *ms_out) {
    inv_debug_assert(s != NULL || len == 0);
    if (len < 20 || len > INV_TIMESTAMP_ISO_LEN_MAX) return false;
    uint64_t a, b;
    memcpy(&a, s, sizeof(a));
    memcpy(&b, s + 8, sizeof(b));
    bool ok = ((a & ~TS_A_DIGITS) == TS_A_PUNCT) & ((b & ~TS_B_DIGITS) == TS_B_PUNCT) &
              swar_digits(a, TS_A_DIGITS) & swar_digits(b, TS_B_DIGITS) & (s[16] == ':');
    unsigned bad = 0;
    unsigned sec = dig2(s + 17, &bad);
    if (!ok || bad) return false;
    uint64_t pa = swar_pairs(a, TS_A_DIGITS), pb = swar_pairs(b, TS_B_DIGITS);
    unsigned y = byte_at(pa, 0) * 100 + byte_at(pa, 2), mo = byte_at(pa, 5);
    unsigned d = byte_at(pb, 0), h = byte_at(pb, 3), mi = byte_at(pb, 6);
    inv_debug_assert(y <= 9999 && mo <= 99 && d <= 99 && h <= 99 && mi <= 99);
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return false;
    if (h > 23 || mi > 59 || sec > 59) return false;
    int frac_ms = parse_fraction_zone(s, len, 19);
    if (frac_ms < 0) return false;
    inv_debug_assert(frac_ms <= 999);
    int64_t days = days_from_civil(y, mo, d);
    *ms_out = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000 + frac_ms;
    return true;
}

/* Any thread. See timestamp.h. The exact form invsync writes is settled by
 * parse_exact; every other length, and any 24 bytes it declines, take the
 * general parser. */
bool timestamp_parse_iso(const char *str, size_t len, int64_t *ms_out) {
    inv_assert(str != NULL || len == 0);
    inv_assert(ms_out != NULL);
    const unsigned char *s = (const unsigned char *)str;
    if (len == INV_TIMESTAMP_ISO_LEN && parse_exact(s, ms_out)) return true;
    return parse_general(s, len, ms_out);
}

/* Any thread. See timestamp.h. */
size_t timestamp_format_iso(int64_t ms, char *out) {
    inv_assert(ms >= INV_TIMESTAMP_MS_MIN && ms <= INV_TIMESTAMP_MS_MAX);
    inv_assert(out != NULL);
    int64_t days = ms / 86400000;
    unsigned ms_of_day = (unsigned)(ms % 86400000);
    /* civil_from_days on a non-negative day number (ms >= 0). */
    uint64_t z = (uint64_t)days + DAYS_0000_03_01_TO_EPOCH;
    uint64_t era = z / DAYS_PER_ERA;
    unsigned doe = (unsigned)(z - era * DAYS_PER_ERA);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    unsigned y = (unsigned)(era * 400) + yoe + (m <= 2);
    inv_assert(y <= 9999);
    const unsigned sec_of_day = ms_of_day / 1000, milli = ms_of_day % 1000;
    inv_put2(out, y / 100);
    inv_put2(out + 2, y % 100);
    out[4] = '-';
    inv_put2(out + 5, m);
    out[7] = '-';
    inv_put2(out + 8, d);
    out[10] = 'T';
    inv_put2(out + 11, sec_of_day / 3600);
    out[13] = ':';
    inv_put2(out + 14, sec_of_day / 60 % 60);
    out[16] = ':';
    inv_put2(out + 17, sec_of_day % 60);
    out[19] = '.';
    out[20] = (char)('0' + milli / 100);
    inv_put2(out + 21, milli % 100);
    out[23] = 'Z';
    return INV_TIMESTAMP_ISO_LEN;
}
