/*
 * view: the JSON documents of SPEC §5 built from the store, shared by the
 * CLI (`status`, `list --json`, `history`) and `sync-status`, so both print
 * the same bytes. Each returns a malloc'd string (caller frees) or NULL with
 * err.
 */
#ifndef PS_VIEW_H
#define PS_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

/* The status: last_synced, running (the lock held now), progress, symbols,
 * fx, last_result, requests_today. Reads in transactions of its own: the
 * lock is read between two snapshots (see view.c). */
char *ps_view_status(struct ps_store *s, struct ps_err *err);

/* The others read t's snapshot. */

/* Every symbol with its quote, GBP value and holding value; the total. */
char *ps_view_prices(struct ps_txn *t, struct ps_err *err);

/* {"symbol":..,"points":[..]}; NULL with PS_ENOT_FOUND for an unknown
 * symbol. from/to/limit/daily as for ps_store_history (daily:
 * interval=day, at most one point per UTC date, limit counts dates). */
char *ps_view_history(struct ps_txn *t, const char *symbol, int64_t from,
                      int64_t to, size_t limit, int daily, struct ps_err *err);

/* {"currency":"GBP","points":[{"date","value_gbp","symbols","missing"}]}
 * for each UTC date from `from` to `to` (00:00Z, from <= to), SPEC §9. */
char *ps_view_portfolio(struct ps_txn *t, int64_t from, int64_t to,
                        struct ps_err *err);

#endif
