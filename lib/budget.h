/*
 * budget: the daily_request_limit of SPEC §8 as a gate in front of every
 * upstream request. Whoever sends requests (fetch, for a sync, a backfill,
 * a profile refresh) takes one unit right before each send; the gate reads
 * today's count from the store each time, so requests counted by another
 * process meanwhile are seen too. What was taken and not yet written to the
 * store is "pending": the caller writes it, either in a transaction of its
 * own (ps_settings_requests_add in the transaction that stores the results,
 * then ps_budget_recorded) or with ps_budget_flush. Each call here is a
 * transaction of its own: none may be made while the caller holds one.
 *
 * Limits: two processes taking at the same instant can each see the other's
 * pending units only once written; the sync lock keeps syncs and backfills
 * apart, so only a concurrent `add --refresh-profile` can overlap one.
 */
#ifndef PS_BUDGET_H
#define PS_BUDGET_H

#include <stdint.h>

#include "err.h"
#include "store.h"

/* A caller-owned value; nothing to free. */
struct ps_budget {
	struct ps_store *s; /* borrowed: must outlive the budget */
	long limit;         /* requests per UTC day; 0 = no limit */
	long pending;       /* taken, not yet written to the store */
};

/* Starts a budget on s for limit requests a day (0 = none). */
void ps_budget_init(struct ps_budget *b, struct ps_store *s, long limit);

/* *left = requests still allowed today (counting pending ones); LONG_MAX
 * when there is no limit. *used (may be NULL) = today's count, pending
 * included. -1 on a store error. */
int ps_budget_left(struct ps_budget *b, int64_t now, long *left, long *used,
                   struct ps_err *err);

/* Counts one request about to be sent at now. -1 with PS_EUPSTREAM_QUOTA
 * ("daily_request_limit (N) reached ...") when it would pass the limit (then
 * nothing is counted and the request must not be sent), or with the
 * store's error. */
int ps_budget_take(struct ps_budget *b, int64_t now, struct ps_err *err);

/* Units taken and not yet written to the store. */
long ps_budget_pending(const struct ps_budget *b);

/* The caller wrote n of the pending units to the store itself. */
void ps_budget_recorded(struct ps_budget *b, long n);

/* Writes the pending units to the store (one transaction, none when 0). */
int ps_budget_flush(struct ps_budget *b, int64_t now, struct ps_err *err);

/* The up-front check of a job that needs `need` requests (SPEC §2, §9):
 * 0 when they fit in what is left today; else -1 with PS_EUPSTREAM_QUOTA
 * naming what: "this sync needs 13 upstream requests but only 10 ...". */
int ps_budget_afford(struct ps_budget *b, int64_t now, const char *what,
                     long need, struct ps_err *err);

#endif
