/*
 * backfill: daily closes from FMP's end-of-day history (SPEC §6, §9) as
 * one routine yielding the events of §4, like sync: `total` counts the
 * symbols, one `progress` per symbol finished. It takes the sync lock (a
 * backfill and a sync never run at once), asks one request per symbol per
 * window of at most 5 years, `concurrency` in flight, and refuses to start
 * (upstream_quota, saying how many requests it needs) when the requests
 * would pass daily_request_limit. The fx series the symbols use (USDGBP,
 * CCYGBP) are backfilled alongside, quietly: their failure is the
 * complete event's fx_error, never a failed symbol.
 */
#ifndef PS_BACKFILL_H
#define PS_BACKFILL_H

#include <stddef.h>

#include "conf.h"
#include "err.h"
#include "store.h"
#include "sync.h"

struct ps_backfill_opts {
	/* Normalised symbols to backfill (again, if already done); NULL/0:
	 * every symbol not yet backfilled. Borrowed for the call. */
	const char *const *symbols;
	size_t nsymbols;
	int days; /* 1..36500; 0: the config's history_days */
};

/* Runs one backfill. Returns 0 when it ended with `complete`, -1 when it
 * ended with `error` (err then holds the same code and message); the
 * callback has seen the terminal event before this returns. A named
 * symbol that is not tracked is an error before the start. */
int ps_backfill_run(const struct ps_conf *c, struct ps_store *s,
                    const struct ps_backfill_opts *o, ps_sync_cb cb, void *arg,
                    struct ps_err *err);

#endif
