/*
 * portfolio: the GBP value of the holdings (symbols with a quantity) for
 * each UTC date of a range (SPEC §9): quantity x the symbol's last price on
 * or before the end of the date x its GBP factor that date (§3: GBP x1,
 * GBp / 100, USD x the last USDGBP rate on or before the end of the date,
 * another currency x its CCYGBP rate). A holding with no such price, no
 * such rate, or an unknown currency is left out and named in `missing`.
 * Every series is read with one range scan.
 */
#ifndef PS_PORTFOLIO_H
#define PS_PORTFOLIO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

/* One date; every pointer is borrowed until the callback returns. */
struct ps_pf_day {
	int64_t day;      /* 00:00:00Z */
	double value_gbp; /* the sum of the holdings valued (0 when none) */
	size_t nsymbols;  /* holdings valued */
	const char *const *missing; /* holdings left out, sorted */
	size_t nmissing;
};

/* Returns nonzero to stop (ps_portfolio_days then fails with err as the
 * callback left it). */
typedef int (*ps_pf_day_fn)(const struct ps_pf_day *d, void *arg,
                            struct ps_err *err);

/* Calls fn for each date from `from` to `to` (00:00Z Unix seconds, both
 * inclusive, from <= to), oldest first, from t's snapshot. */
int ps_portfolio_days(struct ps_txn *t, int64_t from, int64_t to,
                      ps_pf_day_fn fn, void *arg, struct ps_err *err);

#endif
