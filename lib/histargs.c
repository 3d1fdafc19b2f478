/*
 * histargs: the history reads' arguments from text (see histargs.h).
 * Whole numbers go through strtol, as they always have in both programs:
 * leading blanks and a sign are taken, anything after the digits is not.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eod.h"
#include "histargs.h"
#include "isotime.h"

/* "bad LABEL 'VALUE': " and what is wanted; no quote for a NULL value. */
static int __attribute__((format(printf, 4, 5)))
bad(const char *label, const char *value, struct ps_err *err, const char *fmt,
    ...)
{
	char q[PS_QUOTE_SIZE], want[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	if (value == NULL)
		return ps_err_set(err, PS_EINVALID, "bad %s: %s", label, want);
	return ps_err_set(err, PS_EINVALID, "bad %s '%s': %s", label,
	                  ps_err_quote(value, q), want);
}

static int
whole(const char *label, const char *value, long max, long *n,
      struct ps_err *err)
{
	char *end = NULL;
	long v = 0;

	errno = 0;
	if (value != NULL)
		v = strtol(value, &end, 10);
	if (value == NULL || end == value || *end || errno || v < 1 || v > max)
		return bad(label, value, err,
		           "want a whole number from 1 to %ld", max);
	*n = v;
	return 0;
}

static int
iso_time(const char *label, const char *value, int64_t *t, struct ps_err *err)
{
	int64_t v;

	if (value == NULL || ps_isotime_parse(value, &v) < 0)
		return bad(label, value, err,
		           "want an ISO 8601 UTC time like "
		           "2026-11-25T09:30:00Z or a date");
	*t = v;
	return 0;
}

void
ps_histargs_init(struct ps_histargs *a)
{
	a->from = INT64_MIN;
	a->to = INT64_MAX;
	a->limit = PS_HIST_LIMIT_DEFAULT;
	a->daily = 0;
}

int
ps_histargs_set(struct ps_histargs *a, enum ps_histarg which, const char *label,
                const char *value, struct ps_err *err)
{
	long n;

	switch (which) {
	case PS_HIST_FROM:
		return iso_time(label, value, &a->from, err);
	case PS_HIST_TO:
		return iso_time(label, value, &a->to, err);
	case PS_HIST_LIMIT:
		if (whole(label, value, PS_HIST_LIMIT_MAX, &n, err) < 0)
			return -1;
		a->limit = (size_t)n;
		return 0;
	case PS_HIST_INTERVAL:
		if (value == NULL || strcmp(value, "day") != 0)
			return bad(label, value, err,
			           "the only interval is day");
		a->daily = 1;
		return 0;
	}
	return ps_err_set(err, PS_EINTERNAL, "no such history argument");
}

int
ps_histargs_check(const struct ps_histargs *a, const char *labels,
                  struct ps_err *err)
{
	if (a->from > a->to)
		return ps_err_set(err, PS_EINVALID, "bad %s: from is after to",
		                  labels);
	return 0;
}

void
ps_dayrange_init(struct ps_dayrange *d, int64_t now)
{
	d->to = ps_eod_day_of(now);
	d->from = d->to;
	d->has_from = 0;
}

int
ps_dayrange_set(struct ps_dayrange *d, enum ps_histarg which, const char *label,
                const char *value, struct ps_err *err)
{
	int64_t day;

	if (which != PS_HIST_FROM && which != PS_HIST_TO)
		return ps_err_set(err, PS_EINTERNAL,
		                  "no such argument of a date range");
	if (value == NULL || ps_eod_date(value, &day) < 0)
		return bad(label, value, err, "want a date like 2026-11-25");
	if (which == PS_HIST_TO) {
		d->to = day;
		return 0;
	}
	d->from = day;
	d->has_from = 1;
	return 0;
}

int
ps_dayrange_check(struct ps_dayrange *d, const char *labels, struct ps_err *err)
{
	if (!d->has_from)
		d->from = d->to - PS_HIST_RANGE_DAYS * (int64_t)PS_DAY;
	if (d->from > d->to)
		return ps_err_set(err, PS_EINVALID, "bad %s: from is after to",
		                  labels);
	if ((d->to - d->from) / PS_DAY >= PS_HIST_RANGE_MAX)
		return ps_err_set(err, PS_EINVALID, "bad %s: at most %d days",
		                  labels, PS_HIST_RANGE_MAX);
	return 0;
}

int
ps_histargs_days(const char *label, const char *value, int *days,
                 struct ps_err *err)
{
	long n;

	if (whole(label, value, PS_HIST_BACKFILL_MAX, &n, err) < 0)
		return -1;
	*days = (int)n;
	return 0;
}
