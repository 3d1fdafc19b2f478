/*
 * t-portfolio: the history half of the store and the portfolio value
 * (lib/store.c daily closes and fx series, lib/portfolio.c, the views):
 * a real quote's date gets no backfilled close, a second backfill adds
 * nothing, interval=day has one point per date, backfill records (and
 * their removal with the symbol), and the value per date by SPEC §9's
 * rule, worked out by hand, with a holding not priced yet, a missing
 * rate and an unknown currency.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "portfolio.h"
#include "store.h"
#include "tap.h"
#include "view.h"
#include "txn.h"

#define DAY 86400
#define D0 1795564800 /* 2026-11-25T00:00:00Z, a Wednesday */

static struct ps_store *st;

static void
holding(const char *sym, const char *ccy, double qty)
{
	struct ps_symrec r;
	struct ps_err err;

	ps_symrec_init(&r, sym);
	r.quantity = qty;
	if (ccy != NULL) {
		snprintf(r.currency, sizeof(r.currency), "%s", ccy);
		r.currency_src = PS_CCY_USER;
	}
	if (tx_sym_add(st, &r, 1, &err) < 0)
		tap_diag("sym_add %s: %s", sym, err.msg);
}

static size_t
closes(enum ps_series kind, const char *name, const struct ps_point *rows,
       size_t n)
{
	struct ps_daily_write w = {0};
	struct ps_err err;
	size_t added = 0;

	w.kind = kind, w.name = name, w.rows = rows, w.n = n;
	w.record = 1, w.at = D0 + 10 * DAY, w.from = rows[0].time;
	if (tx_daily_put(st, &w, &added, &err) < 0)
		tap_diag("daily_put %s: %s", name, err.msg);
	return added;
}

static void
real_quote(const char *sym, double price, int64_t t)
{
	struct ps_symrec r;
	struct ps_err err;

	tx_sym_get(st, sym, &r, &err);
	r.price = price;
	r.quote_time = t;
	r.error[0] = '\0';
	if (tx_apply_batch(st, &r, 1, t, &err) < 0)
		tap_diag("apply_batch: %s", err.msg);
}

static void
daily_rules(void)
{
	const struct ps_point a[] = {{D0, 100},
	                             {D0 + DAY, 101},
	                             {D0 + 2 * DAY, 102},
	                             {D0 + 5 * DAY, 105}};
	struct ps_point *pts = NULL;
	struct ps_backfill_rec rec;
	struct ps_err err;
	size_t n = 0;

	holding("AAA", "USD", 10);
	/* A sync saw AAA on D0+1 at 21:00 and at 15:00: the real quotes. */
	real_quote("AAA", 90, D0 + DAY + 15 * 3600);
	real_quote("AAA", 91, D0 + DAY + 21 * 3600);
	tap_int((long)closes(PS_SERIES_SYMBOL, "AAA", a, 4), 3,
	        "backfill adds a close for each date without a point");
	tap_int((long)closes(PS_SERIES_SYMBOL, "AAA", a, 4), 0,
	        "a second backfill adds nothing");
	tx_history(st, "AAA", INT64_MIN, INT64_MAX, 100, 0, &pts, &n, &err);
	tap_int((long)n, 5, "raw history: 3 closes and 2 real quotes");
	free(pts);
	tx_history(st, "AAA", INT64_MIN, INT64_MAX, 100, 1, &pts, &n, &err);
	tap_ok(n == 4 && pts[0].time == D0 && pts[1].price == 91 &&
	               pts[1].time == D0 + DAY + 21 * 3600 &&
	               pts[2].price == 102 && pts[3].time == D0 + 5 * DAY,
	       "daily: one point per date, the real quote's day keeps it");
	free(pts);
	tx_history(st, "AAA", INT64_MIN, INT64_MAX, 2, 1, &pts, &n, &err);
	tap_ok(n == 2 && pts[0].price == 102 && pts[1].price == 105,
	       "daily: limit counts dates, newest kept");
	free(pts);
	tap_ok(tx_backfill_get(st, PS_SERIES_SYMBOL, "AAA", &rec, &err) == 1 &&
	               rec.from == D0 && rec.at == D0 + 10 * DAY,
	       "the symbol records when and how far back");
	tap_int(tx_backfill_get(st, PS_SERIES_FX, "AAA", &rec, &err), 0,
	        "an fx series of that name is another thing");
	{
		const char *names[] = {"AAA"};

		tx_sym_remove(st, names, 1, &err);
	}
	tap_int(tx_backfill_get(st, PS_SERIES_SYMBOL, "AAA", &rec, &err), 0,
	        "remove forgets the backfill");
	tap_int((long)closes(PS_SERIES_SYMBOL, "AAA", a, 4), 0,
	        "a symbol removed meanwhile gets no points");
}

/* The portfolio document's points, parsed. */
static cJSON *
portfolio(int64_t from, int64_t to)
{
	struct ps_err err;
	char *doc = tx_view_portfolio(st, from, to, &err);
	cJSON *j = doc ? cJSON_Parse(doc) : NULL;

	if (doc == NULL)
		tap_diag("portfolio: %s", err.msg);
	free(doc);
	return j;
}

static int
rel_eq(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(1, fmax(fabs(a), fabs(b)));
}

static void
check_day(cJSON *pts, int i, double value, int nsym, const char *missing)
{
	cJSON *p = cJSON_GetArrayItem(pts, i), *m, *x;
	char got[128] = "";
	double v = cJSON_GetObjectItem(p, "value_gbp")
	                   ? cJSON_GetObjectItem(p, "value_gbp")->valuedouble
	                   : NAN;

	m = cJSON_GetObjectItem(p, "missing");
	cJSON_ArrayForEach(x, m)
	{
		if (got[0])
			strcat(got, ",");
		strncat(got, x->valuestring, 20);
	}
	if (!tap_ok(rel_eq(v, value) &&
	                    cJSON_GetObjectItem(p, "symbols")->valueint ==
	                            nsym &&
	                    strcmp(got, missing) == 0,
	            "day %d: %.9g GBP from %d, missing [%s]", i, value, nsym,
	            missing))
		tap_diag("got %.17g, %d, [%s]", v,
		         cJSON_GetObjectItem(p, "symbols")->valueint, got);
}

static void
values(void)
{
	const struct ps_point usd[] = {{D0, 0.8}, {D0 + DAY, 0.81}};
	const struct ps_point eur[] = {{D0 + DAY, 0.85}};
	const struct ps_point b[] = {
	        {D0, 50}, {D0 + DAY, 52}, {D0 + 4 * DAY, 54}};
	const struct ps_point l[] = {{D0, 1000}, {D0 + 3 * DAY, 1010}};
	const struct ps_point g[] = {{D0 - 30 * DAY, 7}};
	const struct ps_point e[] = {{D0, 20}};
	const struct ps_point n[] = {{D0 + 2 * DAY, 30}};
	struct ps_err err;
	cJSON *j, *pts;

	holding("BBB", "USD", 10);
	holding("LLL.L", NULL, 100); /* GBp by its suffix */
	holding("GGG", "GBP", 2);
	holding("EEE", "EUR", 4);
	holding("NNN", "USD", 5);   /* no price before D0+2 */
	holding("UUU.ZZ", NULL, 1); /* unknown currency: always missing */
	holding("QQQ", "USD", NAN); /* no quantity: not a holding */
	closes(PS_SERIES_FX, "USDGBP", usd, 2);
	closes(PS_SERIES_FX, "EURGBP", eur, 1);
	closes(PS_SERIES_SYMBOL, "BBB", b, 3);
	closes(PS_SERIES_SYMBOL, "LLL.L", l, 2);
	closes(PS_SERIES_SYMBOL, "GGG", g, 1);
	closes(PS_SERIES_SYMBOL, "EEE", e, 1);
	closes(PS_SERIES_SYMBOL, "NNN", n, 1);
	closes(PS_SERIES_SYMBOL, "QQQ", e, 1);
	/* A sync on D0+2 at 14:00 saw BBB at 53 and USDGBP at 0.82. */
	real_quote("BBB", 53, D0 + 2 * DAY + 14 * 3600);
	tx_fx_put(st, "USDGBP", D0 + 2 * DAY + 14 * 3600, 0.82, &err);

	j = portfolio(D0 - DAY, D0 + 5 * DAY);
	pts = cJSON_GetObjectItem(j, "points");
	tap_int(cJSON_GetArraySize(pts), 7, "one point per date");
	tap_str(cJSON_GetStringValue(cJSON_GetObjectItem(
	                cJSON_GetArrayItem(pts, 0), "date")),
	        "2026-11-24", "dates are YYYY-MM-DD");
	/* D0-1: only GGG (its close from a month before carries on). */
	check_day(pts, 0, 2 * 7.0, 1, "BBB,EEE,LLL.L,NNN,UUU.ZZ");
	/* D0: no EUR rate yet. */
	check_day(pts, 1, 10 * 50 * 0.8 + 100 * 1000 / 100.0 + 2 * 7, 3,
	          "EEE,NNN,UUU.ZZ");
	check_day(pts, 2, 10 * 52 * 0.81 + 1000 + 14 + 4 * 20 * 0.85, 4,
	          "NNN,UUU.ZZ");
	/* D0+2: the sync's quote and rate of the day. */
	check_day(pts, 3,
	          10 * 53 * 0.82 + 1000 + 14 + 4 * 20 * 0.85 + 5 * 30 * 0.82, 5,
	          "UUU.ZZ");
	check_day(pts, 4,
	          10 * 53 * 0.82 + 1010 + 14 + 4 * 20 * 0.85 + 5 * 30 * 0.82, 5,
	          "UUU.ZZ");
	check_day(pts, 5,
	          10 * 54 * 0.82 + 1010 + 14 + 4 * 20 * 0.85 + 5 * 30 * 0.82, 5,
	          "UUU.ZZ");
	cJSON_Delete(j);
	j = portfolio(D0 + 2 * DAY, D0 + 2 * DAY);
	tap_int(cJSON_GetArraySize(cJSON_GetObjectItem(j, "points")), 1,
	        "from = to: one date");
	cJSON_Delete(j);
	tap_ok(tx_view_portfolio(st, D0, D0 - DAY, &err) == NULL,
	       "from after to is refused");
}

int
main(void)
{
	char *dir = tap_tmpdir();
	struct ps_err err;

	if (dir == NULL || ps_store_open(&st, dir, 64, &err) < 0) {
		tap_ok(0, "open a store");
		return tap_done();
	}
	daily_rules();
	values();
	ps_store_close(&st);
	tap_rmrf(dir);
	free(dir);
	return tap_done();
}
