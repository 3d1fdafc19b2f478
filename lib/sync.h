/*
 * sync: the pipeline of SPEC §4 as one routine that yields typed events.
 * Takes the lock, checks cooldown (web only) and the key, reads the symbols,
 * fetches them in batches through fetch, writes each batch in one write
 * transaction, fetches the fx rate, and sets last_synced. The CLI and the
 * HTTP program only serialise the events.
 *
 * Settings it keeps (JSON or ISO text): "last_synced", "fx", "last_result",
 * "progress" (the latest event while running), "sync_started_at" (for
 * cooldown), "fx_rate_CCY" for other currencies, "batch_single_since".
 */
#ifndef PS_SYNC_H
#define PS_SYNC_H

#include "conf.h"
#include "err.h"
#include "event.h"
#include "store.h"

enum ps_sync_origin { PS_SYNC_CLI, PS_SYNC_WEB };

/* Called for every event, in order, on the caller's thread. */
typedef void (*ps_sync_cb)(const struct ps_event *ev, void *arg);

/* Runs one sync. Returns 0 when it ended with `complete`, -1 when it ended
 * with `error` (err then holds the same code and message). The callback has
 * seen the terminal event before this returns. */
int ps_sync_run(const struct ps_conf *c, struct ps_store *s,
                enum ps_sync_origin origin, ps_sync_cb cb, void *arg,
                struct ps_err *err);

/* Reads the listing currency of each symbol from its FMP profile now and
 * stores it, unless the user set one (`pricesync add --refresh-profile`).
 * A failed profile call is an error naming the symbol; nothing else is
 * changed for it. */
int ps_sync_profiles(const struct ps_conf *c, struct ps_store *s,
                     const char *const *symbols, size_t n, struct ps_err *err);

#endif
