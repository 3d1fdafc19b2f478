/*
 * isotime: ISO 8601 UTC timestamps to the second ("2026-11-25T09:30:00Z"),
 * the only time format pricesync prints.
 */
#ifndef PS_ISOTIME_H
#define PS_ISOTIME_H

#include <stdint.h>

#define PS_ISOTIME_LEN 21 /* "YYYY-MM-DDTHH:MM:SSZ" + NUL */

/* Formats t (Unix seconds) into out; returns out. */
char *ps_isotime_fmt(int64_t t, char out[PS_ISOTIME_LEN]);

/* Parses "YYYY-MM-DDTHH:MM:SSZ", "YYYY-MM-DDTHH:MM:SS+00:00" or a date
 * "YYYY-MM-DD" (midnight UTC) into *t. Returns 0, or -1 if s is not one of
 * these or names an impossible date. */
int ps_isotime_parse(const char *s, int64_t *t);

/* Milliseconds from a monotonic clock, for durations. */
int64_t ps_monotonic_ms(void);

#endif
