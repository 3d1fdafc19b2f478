/*
 * sync: the pipeline of SPEC §4 as one routine that yields typed events.
 * Takes the lock, applies the caller's policy (the cooldown) and checks the
 * key, walks the symbols in batches read from the store one at a time,
 * fetches them through fetch, writes each batch in one write transaction,
 * fetches the fx rates, and sets last_synced. The CLI and the HTTP program
 * only serialise the events. What it keeps in settings is lib/settings.h's
 * business.
 */
#ifndef PS_SYNC_H
#define PS_SYNC_H

#include "conf.h"
#include "err.h"
#include "event.h"
#include "store.h"

/* What the caller asks of a sync beyond the config; all 0 = nothing. */
struct ps_sync_policy {
	/* Refuse with PS_ECOOLDOWN (and err->retry_after) a sync within
	 * min_interval_s of the start of the last one (SPEC §2: the
	 * HTTP-triggered ones). */
	int enforce_cooldown;
};

/* Called for every event, in order, on the caller's thread. */
typedef void (*ps_sync_cb)(const struct ps_event *ev, void *arg);

/* Runs one sync under policy p (NULL: all 0). Returns 0 when it ended with
 * `complete`, -1 when it ended with `error` (err then holds the same code
 * and message). The callback has seen the terminal event before this
 * returns. Memory does not grow with the number of symbols, only with the
 * number that fail (their names are kept for the `complete` event). */
int ps_sync_run(const struct ps_conf *c, struct ps_store *s,
                const struct ps_sync_policy *p, ps_sync_cb cb, void *arg,
                struct ps_err *err);

#endif
