/*
 * viewref.h: the documents of lib/view.c as they were built before they
 * were streamed, from a cJSON tree of the whole document, kept as the
 * reference t-view compares the streamed bytes with. Test code only: it
 * reads every symbol into memory at once.
 */
#ifndef PS_TEST_VIEWREF_H
#define PS_TEST_VIEWREF_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "isotime.h"
#include "portfolio.h"
#include "settings.h"
#include "store.h"
#include "symbol.h"

static void
ref_num(cJSON *o, const char *name, double d)
{
	if (isnan(d) || isinf(d))
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddNumberToObject(o, name, d);
}

static void
ref_str(cJSON *o, const char *name, const char *s)
{
	if (s == NULL || *s == '\0')
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddStringToObject(o, name, s);
}

static void
ref_time(cJSON *o, const char *name, int64_t t)
{
	char iso[PS_ISOTIME_LEN];

	ref_str(o, name, t ? ps_isotime_fmt(t, iso) : NULL);
}

static cJSON *
ref_parsed_or_null(const char *text)
{
	cJSON *j = text ? cJSON_Parse(text) : NULL;

	return j ? j : cJSON_CreateNull();
}

static double
ref_rate(const char *json)
{
	cJSON *j = json ? cJSON_Parse(json) : NULL;
	cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "rate");
	double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;

	cJSON_Delete(j);
	return d;
}

/* The CCYGBP rate of a currency other than USD/GBP/GBp, NaN if none. */
static double
ref_other(struct ps_txn *t, const char *c)
{
	char *json = NULL;
	struct ps_err err;
	double d;

	if (!*c || !strcmp(c, "USD") || !strcmp(c, "GBP") || !strcmp(c, "GBp"))
		return NAN;
	if (ps_settings_rate(t, c, &json, &err) < 0)
		return NAN;
	d = ref_rate(json);
	free(json);
	return d;
}

static cJSON *
ref_row(struct ps_txn *t, const struct ps_symrec *p, double usd, double *value)
{
	cJSON *o = cJSON_CreateObject();
	double gbp = ps_price_gbp(p->price, p->currency, usd,
	                          ref_other(t, p->currency));

	*value = isnan(gbp) || isnan(p->quantity) ? NAN : gbp * p->quantity;
	cJSON_AddStringToObject(o, "symbol", p->symbol);
	ref_str(o, "name", p->name);
	ref_str(o, "exchange", p->exchange);
	ref_str(o, "currency", p->currency);
	ref_num(o, "price", p->price);
	ref_num(o, "change", p->change);
	ref_num(o, "change_percent", p->change_percent);
	ref_num(o, "day_low", p->day_low);
	ref_num(o, "day_high", p->day_high);
	ref_num(o, "volume", p->volume);
	ref_time(o, "quote_time", p->quote_time);
	ref_time(o, "updated_at", p->updated_at);
	ref_num(o, "price_gbp", gbp);
	ref_num(o, "quantity", p->quantity);
	ref_num(o, "value_gbp", *value);
	ref_str(o, "error", p->error);
	return o;
}

static char *
ref_print(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	cJSON_Delete(o);
	return s;
}

/* /api/prices as a cJSON tree printed (malloc'd). */
static char *
ref_prices(struct ps_txn *t)
{
	struct ps_symrec *recs = NULL;
	struct ps_err err;
	char *fx = NULL;
	cJSON *o = cJSON_CreateObject(), *a;
	double total = 0, v, usd;
	size_t n = 0, i, known = 0;

	ps_store_sym_list(t, &recs, &n, &err);
	ps_settings_doc(t, PS_SET_FX, &fx, &err);
	usd = ref_rate(fx);
	cJSON_AddItemToObject(o, "fx", ref_parsed_or_null(fx));
	a = cJSON_AddArrayToObject(o, "symbols");
	for (i = 0; i < n; i++) {
		cJSON_AddItemToArray(a, ref_row(t, &recs[i], usd, &v));
		if (!isnan(v)) {
			total += v;
			known++;
		}
	}
	ref_num(o, "total_value_gbp", known ? total : NAN);
	free(fx);
	free(recs);
	return ref_print(o);
}

static char *
ref_history(struct ps_txn *t, const char *symbol, int64_t from, int64_t to,
            size_t limit, int daily)
{
	struct ps_point *pts = NULL;
	char iso[PS_ISOTIME_LEN];
	struct ps_err err;
	cJSON *o, *a, *p;
	size_t n = 0, i;

	if (ps_store_history(t, symbol, from, to, limit, daily, &pts, &n,
	                     &err) <= 0)
		return NULL;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "symbol", symbol);
	a = cJSON_AddArrayToObject(o, "points");
	for (i = 0; i < n; i++) {
		p = cJSON_CreateObject();
		cJSON_AddItemToArray(a, p);
		cJSON_AddStringToObject(p, "time",
		                        ps_isotime_fmt(pts[i].time, iso));
		ref_num(p, "price", pts[i].price);
	}
	free(pts);
	return ref_print(o);
}

static int
ref_pf_point(const struct ps_pf_day *d, void *arg, struct ps_err *err)
{
	cJSON *p = cJSON_CreateObject(), *m;
	char iso[PS_ISOTIME_LEN];
	size_t i;

	cJSON_AddItemToArray(arg, p);
	ps_isotime_fmt(d->day, iso);
	iso[10] = '\0';
	cJSON_AddStringToObject(p, "date", iso);
	ref_num(p, "value_gbp", d->value_gbp);
	cJSON_AddNumberToObject(p, "symbols", (double)d->nsymbols);
	m = cJSON_AddArrayToObject(p, "missing");
	for (i = 0; i < d->nmissing; i++)
		cJSON_AddItemToArray(m, cJSON_CreateString(d->missing[i]));
	return 0;
}

static char *
ref_portfolio(struct ps_txn *t, int64_t from, int64_t to)
{
	cJSON *o = cJSON_CreateObject(), *a;
	struct ps_err err;

	cJSON_AddStringToObject(o, "currency", "GBP");
	a = cJSON_AddArrayToObject(o, "points");
	ps_portfolio_days(t, from, to, ref_pf_point, a, &err);
	return ref_print(o);
}

#endif
