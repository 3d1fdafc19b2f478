/*
 * eod: FMP's end-of-day history (fmp-api.md §9, SPEC §9) with no I/O: the
 * request URL of one symbol and window, and the reading of both answer
 * shapes, stable's flat array (newest first, `price` on the light path,
 * `close` on full) and v3's {"symbol": ..., "historical": [...]}.
 */
#ifndef PS_EOD_H
#define PS_EOD_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"

#define PS_DAY 86400

/* One trading day: its date as Unix seconds of 00:00:00Z, and the close. */
struct ps_eod_row {
	int64_t day;
	double close;
};

/* The URL of symbol's closes from day `from` to day `to` (both 00:00Z
 * Unix seconds, both inclusive): stable
 * /stable/historical-price-eod/light?symbol=X&from=..&to=.., v3
 * /api/v3/historical-price-full/X?from=..&to=..&serietype=line. The key
 * (if any) is the last parameter. malloc'd, caller frees; NULL when out
 * of memory. */
char *ps_eod_url(const struct ps_conf *c, const char *symbol, int64_t from,
                 int64_t to);

/* Reads a history body of either shape into *rows (malloc'd, caller
 * frees; NULL when *n is 0), oldest first, one row per date (of a doubled
 * date, the row first in the body wins). `[]`, `{}` and a v3 object with a
 * `symbol` and no `historical` are no rows. A row without a date, or without a
 * usable close (missing, null, not a finite number > 0), is skipped; numbers
 * may be integers or strings holding a number. -1 with PS_EUPSTREAM
 * ("malformed JSON from FMP") when the body is neither shape. */
int ps_eod_parse(const char *body, size_t len, struct ps_eod_row **rows,
                 size_t *n, struct ps_err *err);

/* Parses "YYYY-MM-DD" (exactly) into 00:00:00Z of that date; -1 if it is
 * not a real date. */
int ps_eod_date(const char *s, int64_t *day);

/* The 00:00:00Z of t's UTC date (floor, also for times before 1970). */
int64_t ps_eod_day_of(int64_t t);

#endif
