/*
 * metrics: the Prometheus text exposition (format 0.0.4) of SPEC §5's
 * `…/metrics`, and the counter of finished syncs by result that it
 * reports. The figures are read from the same documents as the status and
 * the prices (lib/view.c), so a scrape never disagrees with the JSON API;
 * the counter lives in the store's settings, so it survives restarts.
 * Knows nothing of HTTP: the caller sends the text with
 * PS_METRICS_CONTENT_TYPE.
 */
#ifndef PS_METRICS_H
#define PS_METRICS_H

#include <stdint.h>

#include "err.h"
#include "store.h"

#define PS_METRICS_CONTENT_TYPE "text/plain; version=0.0.4"

/* How a sync that started ended: complete with no failed symbol, complete
 * with some failed, or stopped early with an `error` event. A sync that
 * never started (cooldown, lock held, …) is no sync and is not counted. */
enum ps_sync_result { PS_SYNC_COMPLETE, PS_SYNC_PARTIAL, PS_SYNC_ERROR };

/* Adds one to the counter of res, inside the caller's write transaction
 * (the one that stores the sync's outcome, so the two are seen together). */
int ps_metrics_count_sync(struct ps_txn *t, enum ps_sync_result res,
                          struct ps_err *err);

/* The whole exposition as a malloc'd string (caller frees), or NULL with
 * err. daily_request_limit is the configured limit (0 = none, then that
 * metric is left out, like every value never known); now is the clock for
 * pricesync_symbols_stale. */
char *ps_metrics_text(struct ps_store *s, long daily_request_limit, int64_t now,
                      struct ps_err *err);

#endif
