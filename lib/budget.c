/*
 * budget: check-and-count of upstream requests against daily_request_limit.
 * The store keeps the day's count (settings, reset on a new UTC day); this
 * module adds what the running process has sent and not yet written, so a
 * check never waits for a write transaction (one fsync) per request: a read
 * transaction per request costs microseconds.
 */
#include <limits.h>

#include "budget.h"
#include "settings.h"

void
ps_budget_init(struct ps_budget *b, struct ps_store *s, long limit)
{
	b->s = s;
	b->limit = limit > 0 ? limit : 0;
	b->pending = 0;
}

int
ps_budget_left(struct ps_budget *b, int64_t now, long *left, long *used,
               struct ps_err *err)
{
	struct ps_txn *t;
	long stored = 0;

	if (ps_txn_begin(b->s, 0, &t, err) < 0)
		return -1;
	if (ps_settings_requests(t, now, &stored, err) < 0) {
		ps_txn_abort(&t);
		return -1;
	}
	ps_txn_abort(&t);
	if (used != NULL)
		*used = stored + b->pending;
	if (b->limit == 0)
		*left = LONG_MAX;
	else if (stored + b->pending >= b->limit)
		*left = 0;
	else
		*left = b->limit - stored - b->pending;
	return 0;
}

int
ps_budget_take(struct ps_budget *b, int64_t now, struct ps_err *err)
{
	long left, used;

	if (b->limit == 0) {
		b->pending++;
		return 0;
	}
	if (ps_budget_left(b, now, &left, &used, err) < 0)
		return -1;
	if (left <= 0)
		return ps_err_set(err, PS_EUPSTREAM_QUOTA,
		                  "daily_request_limit (%ld) reached: %ld "
		                  "upstream requests made today; the count "
		                  "resets at 00:00 UTC",
		                  b->limit, used);
	b->pending++;
	return 0;
}

long
ps_budget_pending(const struct ps_budget *b)
{
	return b->pending;
}

void
ps_budget_recorded(struct ps_budget *b, long n)
{
	b->pending = n < b->pending ? b->pending - n : 0;
}

int
ps_budget_flush(struct ps_budget *b, int64_t now, struct ps_err *err)
{
	struct ps_txn *t;

	if (b->pending == 0)
		return 0;
	if (ps_txn_begin(b->s, 1, &t, err) < 0)
		return -1;
	if (ps_settings_requests_add(t, now, b->pending, NULL, err) < 0) {
		ps_txn_abort(&t);
		return -1;
	}
	if (ps_txn_commit(&t, err) < 0)
		return -1;
	b->pending = 0;
	return 0;
}

int
ps_budget_afford(struct ps_budget *b, int64_t now, const char *what, long need,
                 struct ps_err *err)
{
	long left;

	if (ps_budget_left(b, now, &left, NULL, err) < 0)
		return -1;
	if (need <= left)
		return 0;
	return ps_err_set(err, PS_EUPSTREAM_QUOTA,
	                  "%s needs %ld upstream requests but only %ld of "
	                  "today's daily_request_limit (%ld) are left; the "
	                  "count resets at 00:00 UTC",
	                  what, need, left, b->limit);
}
