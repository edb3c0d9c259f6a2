/* timestamp.h - ISO-8601 UTC timestamps with milliseconds, parsed and formatted.
 *
 * The one textual form invsync reads is "YYYY-MM-DDTHH:MM:SS[.f]Z": a four-
 * digit year 0000-9999 of the proleptic Gregorian calendar, 1 to 9 fraction
 * digits truncated to milliseconds, and the zone "Z" or "+00:00". Everything
 * else is rejected: other offsets, lower-case 't'/'z', a space for the 'T',
 * ',' as the decimal mark, missing seconds, and the leap second :60 (epoch
 * milliseconds, the engine's time, cannot represent it; producers send
 * :59.999 or the next second). The calendar is checked: month lengths, Feb
 * 29 only in leap years (every 4th year, not centuries unless divisible by
 * 400: 2000-02-29 exists, 1900-02-29 does not). Years before 1970 parse to
 * negative milliseconds; event_validate rejects those as out of range.
 *
 * The form invsync writes is always exactly INV_TIMESTAMP_ISO_LEN bytes,
 * "YYYY-MM-DDTHH:MM:SS.mmmZ", for any time in [INV_TIMESTAMP_MS_MIN,
 * INV_TIMESTAMP_MS_MAX]. Both directions are pure arithmetic (days from the
 * civil date with the 400-year cycle): no libc time functions, no locale. */
#ifndef INV_TIMESTAMP_H
#define INV_TIMESTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INV_TIMESTAMP_ISO_LEN     24 /* "2026-11-23T10:15:30.123Z" */
#define INV_TIMESTAMP_ISO_LEN_MAX 35 /* 9 fraction digits and "+00:00" */

/* Any thread. Parses the len bytes at s (not NUL-terminated) as above.
 * Returns true and sets *ms_out to epoch milliseconds (negative before
 * 1970), or returns false and leaves *ms_out untouched. */
bool timestamp_parse_iso(const char *s, size_t len, int64_t *ms_out);

/* Any thread. Writes ms, which must be in [INV_TIMESTAMP_MS_MIN,
 * INV_TIMESTAMP_MS_MAX] (asserted), as exactly INV_TIMESTAMP_ISO_LEN bytes
 * to out (no NUL) and returns INV_TIMESTAMP_ISO_LEN. */
size_t timestamp_format_iso(int64_t ms, char *out);

#endif
