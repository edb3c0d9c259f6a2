/* digits.h - decimal digit pairs for the formatters on the output path
 * (stock_json.c, timestamp.c): one table read writes two digits. */
#ifndef INV_DIGITS_H
#define INV_DIGITS_H

#include <string.h>

/* "00" "01" ... "99". */
static const char inv_digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324"
    "25262728293031323334353637383940414243444546474849"
    "50515253545556575859606162636465666768697071727374"
    "75767778798081828384858687888990919293949596979899";

/* Any thread. Writes v (< 100) as two digits at out. */
static inline void inv_put2(char *out, unsigned v) {
    memcpy(out, &inv_digit_pairs[2 * v], 2);
}

#endif
