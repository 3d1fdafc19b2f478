/*
 * view: the JSON documents of SPEC §5, built from the store with cJSON.
 * Stored JSON settings (fx, last_result, progress) are embedded as they
 * were written, so the status shows exactly the bytes the sync produced.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "isotime.h"
#include "lock.h"
#include "symbol.h"
#include "view.h"

static cJSON *
parsed_or_null(const char *text)
{
	cJSON *j = text ? cJSON_Parse(text) : NULL;

	return j ? j : cJSON_CreateNull();
}

static int
add_item(cJSON *o, const char *name, cJSON *item)
{
	if (item == NULL)
		return -1;
	if (!cJSON_AddItemToObject(o, name, item)) {
		cJSON_Delete(item);
		return -1;
	}
	return 0;
}

static int
add_num(cJSON *o, const char *name, double d)
{
	if (isnan(d) || isinf(d))
		return cJSON_AddNullToObject(o, name) ? 0 : -1;
	return cJSON_AddNumberToObject(o, name, d) ? 0 : -1;
}

static int
add_str(cJSON *o, const char *name, const char *s)
{
	if (s == NULL || *s == '\0')
		return cJSON_AddNullToObject(o, name) ? 0 : -1;
	return cJSON_AddStringToObject(o, name, s) ? 0 : -1;
}

static int
add_time(cJSON *o, const char *name, int64_t t)
{
	char iso[PS_ISOTIME_LEN];

	return add_str(o, name, t ? ps_isotime_fmt(t, iso) : NULL);
}

static char *
print_free(cJSON *o, int ok, struct ps_err *err)
{
	char *out = ok ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	if (out == NULL)
		ps_err_set(err, PS_ENOMEM, "out of memory");
	return out;
}

enum { K_LAST, K_PROGRESS, K_FX, K_RESULT, K_DAY, K_COUNT, K_N };

char *
ps_view_status(struct ps_store *s, struct ps_err *err)
{
	static const char *const keys[K_N] = {"last_synced",  "progress",
	                                      "fx",           "last_result",
	                                      "requests_day", "requests_count"};
	char *vals[K_N] = {0}, today[PS_ISOTIME_LEN];
	cJSON *o = NULL;
	size_t nsyms = 0, i;
	long requests = 0;
	int running, ok = 0;

	running = ps_lock_held(ps_store_dir(s), err);
	if (running < 0 || ps_store_settings_get(s, keys, vals, K_N, err) < 0 ||
	    ps_store_sym_count(s, &nsyms, err) < 0)
		goto free_vals;
	/* The counter is per UTC day: yesterday's count reads as 0. */
	ps_isotime_fmt(time(NULL), today);
	if (vals[K_DAY] && vals[K_COUNT] &&
	    strncmp(vals[K_DAY], today, 10) == 0)
		requests = strtol(vals[K_COUNT], NULL, 10);
	o = cJSON_CreateObject();
	ok = o != NULL && add_str(o, "last_synced", vals[K_LAST]) == 0 &&
	     cJSON_AddBoolToObject(o, "running", running) &&
	     add_item(o, "progress",
	              parsed_or_null(running ? vals[K_PROGRESS] : NULL)) == 0 &&
	     cJSON_AddNumberToObject(o, "symbols", (double)nsyms) &&
	     add_item(o, "fx", parsed_or_null(vals[K_FX])) == 0 &&
	     add_item(o, "last_result", parsed_or_null(vals[K_RESULT])) == 0 &&
	     cJSON_AddNumberToObject(o, "requests_today", (double)requests);
	for (i = 0; i < K_N; i++)
		free(vals[i]);
	return print_free(o, ok, err);
free_vals:
	for (i = 0; i < K_N; i++)
		free(vals[i]);
	return NULL;
}

/* The CCYGBP rates of the currencies in recs other than USD/GBP/GBp, read
 * in one transaction. rates[i] is NaN when unknown. */
struct rates {
	char ccy[16][PS_CCY_MAX];
	double rate[16];
	size_t n;
	double usd;
};

static double
rate_of(const char *json, const char *field)
{
	cJSON *j = json ? cJSON_Parse(json) : NULL;
	cJSON *v = cJSON_GetObjectItemCaseSensitive(j, field);
	double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;

	cJSON_Delete(j);
	return d;
}

static int
load_rates(struct ps_store *s, const struct ps_symrec *recs, size_t n,
           struct rates *r, char **fx_json, struct ps_err *err)
{
	const char *keys[17];
	char *vals[17] = {0}, names[16][24];
	size_t i, k;

	r->n = 0;
	for (i = 0; i < n && r->n < 16; i++) {
		const char *c = recs[i].currency;

		if (!*c || !strcmp(c, "USD") || !strcmp(c, "GBP") ||
		    !strcmp(c, "GBp"))
			continue;
		for (k = 0; k < r->n && strcmp(r->ccy[k], c); k++)
			;
		if (k == r->n)
			strcpy(r->ccy[r->n++], c);
	}
	keys[0] = "fx";
	for (k = 0; k < r->n; k++) {
		snprintf(names[k], sizeof(names[k]), "fx_rate_%s", r->ccy[k]);
		keys[k + 1] = names[k];
	}
	if (ps_store_settings_get(s, keys, vals, r->n + 1, err) < 0)
		return -1;
	r->usd = rate_of(vals[0], "rate");
	for (k = 0; k < r->n; k++) {
		r->rate[k] = rate_of(vals[k + 1], "rate");
		free(vals[k + 1]);
	}
	*fx_json = vals[0];
	return 0;
}

static double
other_rate(const struct rates *r, const char *ccy)
{
	size_t k;

	for (k = 0; k < r->n; k++)
		if (strcmp(r->ccy[k], ccy) == 0)
			return r->rate[k];
	return NAN;
}

static cJSON *
price_row(const struct ps_symrec *p, const struct rates *r, double *value)
{
	cJSON *o = cJSON_CreateObject();
	double gbp = ps_price_gbp(p->price, p->currency, r->usd,
	                          other_rate(r, p->currency));

	*value = isnan(gbp) || isnan(p->quantity) ? NAN : gbp * p->quantity;
	if (o == NULL || !cJSON_AddStringToObject(o, "symbol", p->symbol) ||
	    add_str(o, "name", p->name) ||
	    add_str(o, "exchange", p->exchange) ||
	    add_str(o, "currency", p->currency) ||
	    add_num(o, "price", p->price) || add_num(o, "change", p->change) ||
	    add_num(o, "change_percent", p->change_percent) ||
	    add_num(o, "day_low", p->day_low) ||
	    add_num(o, "day_high", p->day_high) ||
	    add_num(o, "volume", p->volume) ||
	    add_time(o, "quote_time", p->quote_time) ||
	    add_time(o, "updated_at", p->updated_at) ||
	    add_num(o, "price_gbp", gbp) ||
	    add_num(o, "quantity", p->quantity) ||
	    add_num(o, "value_gbp", *value) || add_str(o, "error", p->error)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

char *
ps_view_prices(struct ps_store *s, struct ps_err *err)
{
	struct ps_symrec *recs = NULL;
	struct rates rates;
	char *fx = NULL;
	cJSON *o = NULL, *a;
	double total = 0;
	size_t n = 0, i, known = 0;
	int ok = 0;

	if (ps_store_sym_list(s, &recs, &n, err) < 0 ||
	    load_rates(s, recs, n, &rates, &fx, err) < 0)
		goto free_recs;
	o = cJSON_CreateObject();
	if (o == NULL || add_item(o, "fx", parsed_or_null(fx)) < 0 ||
	    (a = cJSON_AddArrayToObject(o, "symbols")) == NULL)
		goto print;
	for (i = 0; i < n; i++) {
		double v;
		cJSON *row = price_row(&recs[i], &rates, &v);

		if (row == NULL || !cJSON_AddItemToArray(a, row)) {
			cJSON_Delete(row);
			goto print;
		}
		if (!isnan(v)) {
			total += v;
			known++;
		}
	}
	ok = add_num(o, "total_value_gbp", known ? total : NAN) == 0;
print:
	free(fx);
	free(recs);
	return print_free(o, ok, err);
free_recs:
	free(recs);
	return NULL;
}

char *
ps_view_history(struct ps_store *s, const char *symbol, int64_t from,
                int64_t to, size_t limit, struct ps_err *err)
{
	struct ps_point *pts = NULL;
	char iso[PS_ISOTIME_LEN];
	cJSON *o, *a;
	size_t n = 0, i;
	int rc, ok = 0;

	rc = ps_store_history(s, symbol, from, to, limit, &pts, &n, err);
	if (rc < 0)
		return NULL;
	if (rc == 0) {
		ps_err_set(err, PS_ENOT_FOUND, "unknown symbol %s", symbol);
		return NULL;
	}
	o = cJSON_CreateObject();
	if (o == NULL || !cJSON_AddStringToObject(o, "symbol", symbol) ||
	    (a = cJSON_AddArrayToObject(o, "points")) == NULL)
		goto print;
	for (i = 0; i < n; i++) {
		cJSON *p = cJSON_CreateObject();

		if (p == NULL || !cJSON_AddItemToArray(a, p)) {
			cJSON_Delete(p);
			goto print;
		}
		if (!cJSON_AddStringToObject(
		            p, "time", ps_isotime_fmt(pts[i].time, iso)) ||
		    add_num(p, "price", pts[i].price) < 0)
			goto print;
	}
	ok = 1;
print:
	free(pts);
	return print_free(o, ok, err);
}
