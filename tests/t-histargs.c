/*
 * t-histargs: the history reads' arguments as the CLI and sync-status
 * give them: defaults, every rule of from/to, limit, interval, the
 * portfolio's dates and backfill's days, the messages (the label, the
 * quoted value, none for an unreadable one) and that a refused value
 * leaves its struct as it was.
 */
#include <stdint.h>
#include <string.h>

#include "histargs.h"
#include "tap.h"

#define T0930 1795599000LL /* 2026-11-25T09:30:00Z */
#define D1125 1795564800LL /* 2026-11-25 */

/* ps_histargs_set of one value on fresh args: its return. */
static int
set1(enum ps_histarg which, const char *value, struct ps_histargs *a,
     struct ps_err *err)
{
	ps_histargs_init(a);
	memset(err, 0, sizeof(*err));
	return ps_histargs_set(a, which, "--x", value, err);
}

static void
test_defaults(void)
{
	struct ps_histargs a;
	struct ps_err err = {0};

	ps_histargs_init(&a);
	tap_ok(a.from == INT64_MIN && a.to == INT64_MAX, "init: all of time");
	tap_int((long long)a.limit, PS_HIST_LIMIT_DEFAULT, "init: limit 1000");
	tap_int(a.daily, 0, "init: every point");
	tap_int(ps_histargs_check(&a, "from and to", &err), 0,
	        "check: nothing given is fine");
}

static void
test_times(void)
{
	struct ps_histargs a;
	struct ps_err err;

	tap_int(set1(PS_HIST_FROM, "2026-11-25T09:30:00Z", &a, &err), 0,
	        "from: a time");
	tap_int(a.from, T0930, "from: its seconds");
	tap_int(a.to, INT64_MAX, "from: to untouched");
	set1(PS_HIST_TO, "2026-11-25T09:30:00+00:00", &a, &err);
	tap_int(a.to, T0930, "to: +00:00");
	set1(PS_HIST_TO, "2026-11-25", &a, &err);
	tap_int(a.to, D1125, "to: a date is its midnight");
	tap_int(set1(PS_HIST_FROM, "yesterday", &a, &err), -1,
	        "from: a word is refused");
	tap_str(ps_code_name(err.code), "invalid", "from: invalid");
	tap_str(err.msg,
	        "bad --x 'yesterday': want an ISO 8601 UTC time like "
	        "2026-11-25T09:30:00Z or a date",
	        "from: the message names the label and quotes the value");
	tap_int(a.from, INT64_MIN, "from: unchanged when refused");
	tap_int(set1(PS_HIST_TO, "2026-13-01", &a, &err), -1,
	        "to: no month 13");
	tap_int(set1(PS_HIST_TO, "", &a, &err), -1, "to: empty");
	tap_int(set1(PS_HIST_FROM, NULL, &a, &err), -1, "from: unreadable");
	tap_str(err.msg,
	        "bad --x: want an ISO 8601 UTC time like "
	        "2026-11-25T09:30:00Z or a date",
	        "from: no quote for an unreadable value");
	tap_int(set1(PS_HIST_FROM, "\x1b[2J", &a, &err), -1,
	        "from: an escape sequence");
	tap_ok(strchr(err.msg, '\x1b') == NULL, "from: not in the message");
}

static void
test_limit(void)
{
	struct ps_histargs a;
	struct ps_err err;

	tap_int(set1(PS_HIST_LIMIT, "1", &a, &err), 0, "limit: 1");
	tap_int((long long)a.limit, 1, "limit: set");
	set1(PS_HIST_LIMIT, "100000", &a, &err);
	tap_int((long long)a.limit, 100000, "limit: the most");
	set1(PS_HIST_LIMIT, " 7", &a, &err);
	tap_int((long long)a.limit, 7, "limit: a leading blank, as strtol");
	tap_int(set1(PS_HIST_LIMIT, "0", &a, &err), -1, "limit: 0");
	tap_str(err.msg, "bad --x '0': want a whole number from 1 to 100000",
	        "limit: the message");
	tap_int((long long)a.limit, PS_HIST_LIMIT_DEFAULT,
	        "limit: unchanged when refused");
	tap_int(set1(PS_HIST_LIMIT, "100001", &a, &err), -1, "limit: one over");
	tap_int(set1(PS_HIST_LIMIT, "-5", &a, &err), -1, "limit: negative");
	tap_int(set1(PS_HIST_LIMIT, "ten", &a, &err), -1, "limit: a word");
	tap_int(set1(PS_HIST_LIMIT, "", &a, &err), -1, "limit: empty");
	tap_int(set1(PS_HIST_LIMIT, "5x", &a, &err), -1, "limit: a tail");
	tap_int(set1(PS_HIST_LIMIT, "99999999999999999999", &a, &err), -1,
	        "limit: past long");
	tap_int(set1(PS_HIST_LIMIT, NULL, &a, &err), -1, "limit: unreadable");
	tap_str(err.msg, "bad --x: want a whole number from 1 to 100000",
	        "limit: no quote for an unreadable value");
}

static void
test_interval(void)
{
	struct ps_histargs a;
	struct ps_err err;

	tap_int(set1(PS_HIST_INTERVAL, "day", &a, &err), 0, "interval: day");
	tap_int(a.daily, 1, "interval: daily");
	tap_int(set1(PS_HIST_INTERVAL, "week", &a, &err), -1, "interval: week");
	tap_str(err.msg, "bad --x 'week': the only interval is day",
	        "interval: the message");
	tap_int(a.daily, 0, "interval: unchanged when refused");
	tap_int(set1(PS_HIST_INTERVAL, "Day", &a, &err), -1,
	        "interval: case counts");
	tap_int(set1(PS_HIST_INTERVAL, "", &a, &err), -1, "interval: empty");
	tap_int(set1(PS_HIST_INTERVAL, NULL, &a, &err), -1,
	        "interval: unreadable");
}

static void
test_check(void)
{
	struct ps_histargs a;
	struct ps_err err = {0};

	ps_histargs_init(&a);
	a.from = a.to = T0930;
	tap_int(ps_histargs_check(&a, "parameters from and to", &err), 0,
	        "check: from = to");
	a.from = T0930 + 1;
	tap_int(ps_histargs_check(&a, "parameters from and to", &err), -1,
	        "check: from after to");
	tap_str(err.msg, "bad parameters from and to: from is after to",
	        "check: the message names the pair");
	tap_str(ps_code_name(err.code), "invalid", "check: invalid");
}

static void
test_dayrange(void)
{
	struct ps_dayrange d;
	struct ps_err err = {0};

	ps_dayrange_init(&d, T0930);
	tap_int(d.to, D1125, "range: to is today");
	tap_int(ps_dayrange_check(&d, "from and to", &err), 0,
	        "range: defaults are fine");
	tap_int(d.from, D1125 - 365 * 86400LL, "range: from a year before");
	ps_dayrange_init(&d, T0930);
	tap_int(ps_dayrange_set(&d, PS_HIST_TO, "to", "2026-01-31", &err), 0,
	        "range: to set");
	ps_dayrange_check(&d, "from and to", &err);
	tap_int(d.from, d.to - 365 * 86400LL, "range: from follows to");
	ps_dayrange_init(&d, T0930);
	tap_int(ps_dayrange_set(&d, PS_HIST_FROM, "from", "2026-11-20", &err),
	        0, "range: from set");
	tap_int(d.has_from, 1, "range: from given");
	tap_int(ps_dayrange_check(&d, "from and to", &err), 0,
	        "range: given from kept");
	tap_int(d.from, D1125 - 5 * 86400LL, "range: its midnight");
	tap_int(ps_dayrange_set(&d, PS_HIST_FROM, "parameter from",
	                        "2026-02-30", &err),
	        -1, "range: no 30 February");
	tap_str(err.msg,
	        "bad parameter from '2026-02-30': want a date like 2026-11-25",
	        "range: the message");
	tap_int(d.from, D1125 - 5 * 86400LL, "range: unchanged when refused");
	tap_int(ps_dayrange_set(&d, PS_HIST_FROM, "from",
	                        "2026-01-01T00:00:00Z", &err),
	        -1, "range: a time is not a date");
	tap_int(ps_dayrange_set(&d, PS_HIST_TO, "to", "yesterday", &err), -1,
	        "range: a word");
	tap_int(ps_dayrange_set(&d, PS_HIST_TO, "to", NULL, &err), -1,
	        "range: unreadable");
	tap_str(err.msg, "bad to: want a date like 2026-11-25",
	        "range: no quote for an unreadable value");
	tap_int(ps_dayrange_set(&d, PS_HIST_LIMIT, "limit", "5", &err), -1,
	        "range: has no limit");
	tap_str(ps_code_name(err.code), "internal", "range: a caller's bug");
	ps_dayrange_init(&d, T0930);
	ps_dayrange_set(&d, PS_HIST_FROM, "from", "2026-11-26", &err);
	tap_int(ps_dayrange_check(&d, "parameters from and to", &err), -1,
	        "range: from after to");
	tap_str(err.msg, "bad parameters from and to: from is after to",
	        "range: that message");
	ps_dayrange_init(&d, 0);
	d.to = 36599 * 86400LL;
	ps_dayrange_set(&d, PS_HIST_FROM, "from", "1970-01-01", &err);
	tap_int(ps_dayrange_check(&d, "from and to", &err), 0,
	        "range: 36599 days between");
	d.to += 86400;
	tap_int(ps_dayrange_check(&d, "parameters from and to", &err), -1,
	        "range: 36600 days between");
	tap_str(err.msg, "bad parameters from and to: at most 36600 days",
	        "range: the span's message");
}

static void
test_days(void)
{
	struct ps_err err = {0};
	int days = 9;

	tap_int(ps_histargs_days("--days", "1", &days, &err), 0, "days: 1");
	tap_int(days, 1, "days: set");
	ps_histargs_days("--days", "36500", &days, &err);
	tap_int(days, 36500, "days: the most");
	tap_int(ps_histargs_days("--days", "36501", &days, &err), -1,
	        "days: one over");
	tap_int(days, 36500, "days: unchanged when refused");
	tap_int(ps_histargs_days("--days", "0", &days, &err), -1, "days: 0");
	tap_str(err.msg, "bad --days '0': want a whole number from 1 to 36500",
	        "days: the message names --days");
	tap_int(ps_histargs_days("--days", "a", &days, &err), -1,
	        "days: a word");
}

int
main(void)
{
	test_defaults();
	test_times();
	test_limit();
	test_interval();
	test_check();
	test_dayrange();
	test_days();
	return tap_done();
}
