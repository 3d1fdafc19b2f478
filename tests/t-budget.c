/*
 * t-budget: the request gate of daily_request_limit (lib/budget.c) on a
 * real store: take until the limit, then refuse with upstream_quota and
 * count nothing; pending units show in `left` before they are written; a
 * count written by someone else (another process) is seen at once; no
 * limit counts without refusing; a new UTC day starts from 0.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "store.h"
#include "tap.h"
#include "txn.h"

/* 2026-12-03T12:00:00Z and the next day. */
#define DAY1 INT64_C(1796299200)
#define DAY2 (DAY1 + 86400)

static long
stored(struct ps_store *s, int64_t now)
{
	long n = -1;

	tx_requests_add(s, now, 0, &n, NULL);
	return n;
}

static void
test_limit(struct ps_store *s)
{
	struct ps_budget b;
	struct ps_err err;
	long left = -1, used = -1;
	int i, ok = 1;

	ps_budget_init(&b, s, 5);
	tap_int(ps_budget_left(&b, DAY1, &left, &used, &err), 0, "left reads");
	tap_ok(left == 5 && used == 0, "5 left, 0 used (%ld %ld)", left, used);
	for (i = 0; i < 5; i++)
		ok &= ps_budget_take(&b, DAY1, &err) == 0;
	tap_ok(ok, "5 requests taken");
	tap_int(ps_budget_pending(&b), 5, "5 pending");
	ps_budget_left(&b, DAY1, &left, &used, &err);
	tap_ok(left == 0 && used == 5, "pending ones count: 0 left, 5 used");
	tap_int(ps_budget_take(&b, DAY1, &err), -1, "the 6th is refused");
	tap_int(err.code, PS_EUPSTREAM_QUOTA, "... with upstream_quota");
	tap_ok(strstr(err.msg, "daily_request_limit (5)") != NULL,
	       "... naming the limit (%s)", err.msg);
	tap_int(ps_budget_pending(&b), 5, "a refused take counts nothing");
	tap_int(stored(s, DAY1), 0, "nothing written yet");
	ps_budget_recorded(&b, 2);
	tap_int(ps_budget_pending(&b), 3, "recorded(2) leaves 3 pending");
	tx_requests_add(s, DAY1, 2, &used, NULL);
	tap_int(ps_budget_flush(&b, DAY1, &err), 0, "flush");
	tap_int(ps_budget_pending(&b), 0, "nothing pending after flush");
	tap_int(stored(s, DAY1), 5, "the store holds 5");
	tap_int(ps_budget_flush(&b, DAY1, &err), 0, "flush of nothing");
	tap_int(stored(s, DAY1), 5, "... writes nothing");
	tap_int(ps_budget_take(&b, DAY1, &err), -1,
	        "still refused after flush");
	tap_int(ps_budget_take(&b, DAY2, &err), 0, "a new UTC day starts at 0");
	ps_budget_flush(&b, DAY2, &err);
	tap_int(stored(s, DAY2), 1, "the new day holds 1");
}

static void
test_others(struct ps_store *s)
{
	struct ps_budget b;
	struct ps_err err;
	long used;

	ps_budget_init(&b, s, 3);
	tap_int(ps_budget_take(&b, DAY2, &err), 0, "1 (of 3) with 1 stored");
	tx_requests_add(s, DAY2, 1, &used, NULL);
	tap_int(ps_budget_take(&b, DAY2, &err), -1,
	        "another writer's request is seen at once: refused");
	tap_int(ps_budget_afford(&b, DAY2, "this sync", 13, &err), -1,
	        "afford refuses 13 with 0 left");
	tap_ok(err.code == PS_EUPSTREAM_QUOTA &&
	               strstr(err.msg, "this sync needs 13 upstream requests "
	                               "but only 0 of today's "
	                               "daily_request_limit (3)") != NULL,
	       "refuse says what needs how many (%s)", err.msg);
}

static void
test_no_limit(struct ps_store *s)
{
	struct ps_budget b;
	struct ps_err err;
	long left, used;
	int i, ok = 1;

	ps_budget_init(&b, s, 0);
	for (i = 0; i < 1000; i++)
		ok &= ps_budget_take(&b, DAY2, &err) == 0;
	tap_ok(ok, "no limit: 1000 takes allowed (2 already stored)");
	ps_budget_left(&b, DAY2, &left, &used, &err);
	tap_ok(left == LONG_MAX && used == 1002, "left is LONG_MAX, used 1002");
	ps_budget_flush(&b, DAY2, &err);
	tap_int(stored(s, DAY2), 1002, "all of them written");
}

int
main(void)
{
	char *dir = tap_tmpdir();
	struct ps_store *s = NULL;
	struct ps_err err;

	if (!tap_ok(dir != NULL && ps_store_open(&s, dir, 8, &err) == 0,
	            "store opened"))
		return tap_done();
	test_limit(s);
	test_others(s);
	test_no_limit(s);
	ps_store_close(&s);
	tap_rmrf(dir);
	free(dir);
	return tap_done();
}
