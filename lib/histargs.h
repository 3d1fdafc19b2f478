/*
 * histargs: the arguments of the history reads, as the text a user gave
 * them (a command line, a query string), checked by one set of rules for
 * the CLI and sync-status alike (SPEC §5, §6, §9):
 *
 * - a symbol's price history: from and to, ISO 8601 UTC times or dates
 *   (both optional, from not after to); limit, a whole number 1..100000
 *   (default 1000); interval, only "day" (one point per UTC date);
 * - the portfolio's dates: from and to, YYYY-MM-DD only; to defaults to
 *   today, from to 365 days before to; from not after to, and fewer than
 *   36600 days between them;
 * - backfill's days, a whole number 1..36500.
 *
 * An error is PS_EINVALID with a message that names the argument by the
 * label its caller gives ("--limit", "parameter limit") and quotes the
 * value (ps_err_quote). A value of NULL stands for one given but not
 * readable as text (a bad escape, too long): it is refused like a bad
 * value, without a quote. No state, no allocation: the structs are values.
 */
#ifndef PS_HISTARGS_H
#define PS_HISTARGS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PS_HIST_LIMIT_DEFAULT 1000
#define PS_HIST_LIMIT_MAX 100000
#define PS_HIST_RANGE_DAYS 365  /* the portfolio's default range */
#define PS_HIST_RANGE_MAX 36600 /* days the portfolio's range stays under */
#define PS_HIST_BACKFILL_MAX 36500

/* Which argument a value is for. */
enum ps_histarg { PS_HIST_FROM, PS_HIST_TO, PS_HIST_LIMIT, PS_HIST_INTERVAL };

/* A price history read, as ps_view_history takes it. */
struct ps_histargs {
	int64_t from, to; /* Unix seconds; INT64_MIN / INT64_MAX: not given */
	size_t limit;     /* points, or dates when daily */
	int daily;        /* interval=day, --daily */
};

/* Every argument at its default: all of time, PS_HIST_LIMIT_DEFAULT
 * points, every point. */
void ps_histargs_init(struct ps_histargs *a);
/* Sets argument which of a from value (NULL: unreadable, see above).
 * 0; or -1 with err, a unchanged. */
int ps_histargs_set(struct ps_histargs *a, enum ps_histarg which,
                    const char *label, const char *value, struct ps_err *err);
/* The rules between arguments, once all are set: from not after to.
 * labels names the pair in the error ("parameters from and to"). 0 or -1
 * with err. */
int ps_histargs_check(const struct ps_histargs *a, const char *labels,
                      struct ps_err *err);

/* The portfolio's dates, each a UTC midnight (Unix seconds). */
struct ps_dayrange {
	int64_t from, to;
	int has_from; /* from was given */
};

/* to today (the UTC date of now), from not given. */
void ps_dayrange_init(struct ps_dayrange *d, int64_t now);
/* Sets PS_HIST_FROM or PS_HIST_TO of d from a date value (NULL:
 * unreadable); any other which is refused. 0, or -1 with err, d
 * unchanged. */
int ps_dayrange_set(struct ps_dayrange *d, enum ps_histarg which,
                    const char *label, const char *value, struct ps_err *err);
/* Once both are set: from defaults to PS_HIST_RANGE_DAYS before to; then
 * from not after to, and fewer than PS_HIST_RANGE_MAX days between them.
 * labels names the pair in the error. 0 or -1 with err. */
int ps_dayrange_check(struct ps_dayrange *d, const char *labels,
                      struct ps_err *err);

/* The days of a backfill: a whole number 1..PS_HIST_BACKFILL_MAX into
 * *days. 0, or -1 with err, *days unchanged. */
int ps_histargs_days(const char *label, const char *value, int *days,
                     struct ps_err *err);

#endif
