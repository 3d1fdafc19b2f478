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
#include "portfolio.h"
#include "settings.h"
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
add_item_to_array(cJSON *a, cJSON *item)
{
	if (item == NULL)
		return -1;
	if (!cJSON_AddItemToArray(a, item)) {
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

/* What the status shows from the store, read in one snapshot. */
struct status_vals {
	int64_t last_synced; /* 0: never */
	char *progress, *fx, *result;
	long requests;
	size_t nsyms;
};

static void
status_vals_free(struct status_vals *v)
{
	free(v->progress);
	free(v->fx);
	free(v->result);
	memset(v, 0, sizeof(*v));
}

static int
status_read(struct ps_store *s, struct status_vals *v, struct ps_err *err)
{
	struct ps_txn *t;
	int rc = -1;

	memset(v, 0, sizeof(*v));
	if (ps_txn_begin(s, 0, &t, err) < 0)
		return -1;
	if (ps_settings_time(t, PS_SET_LAST_SYNCED, &v->last_synced, err) < 0 ||
	    ps_settings_doc(t, PS_SET_PROGRESS, &v->progress, err) < 0 ||
	    ps_settings_doc(t, PS_SET_FX, &v->fx, err) < 0 ||
	    ps_settings_doc(t, PS_SET_LAST_RESULT, &v->result, err) < 0 ||
	    ps_settings_requests(t, time(NULL), &v->requests, err) < 0 ||
	    ps_store_sym_count(t, &v->nsyms, err) < 0)
		status_vals_free(v);
	else
		rc = 0;
	ps_txn_abort(&t);
	return rc;
}

/*
 * running and progress as one snapshot. The settings are read in one
 * transaction first, the lock after it. A sync stores its outcome (and
 * drops its progress) before it lets the lock go, and stores its start
 * event after it took the lock; so "lock held, no progress" is a sync
 * before its start event or after its outcome, and shows as not running,
 * never as running with no progress. Progress with the lock free is a sync
 * that has just ended (or died): the settings are read once more, so the
 * answer shows what it left, and a dead sync's progress is not shown.
 */
static int
status_snapshot(struct ps_store *s, struct status_vals *v, int *running,
                struct ps_err *err)
{
	int held, tries;

	for (tries = 0;; tries++) {
		if (status_read(s, v, err) < 0)
			return -1;
		held = ps_lock_held(ps_store_dir(s), err);
		if (held < 0) {
			status_vals_free(v);
			return -1;
		}
		*running = held && v->progress != NULL;
		if (held || v->progress == NULL || tries == 1)
			return 0;
		status_vals_free(v);
	}
}

char *
ps_view_status(struct ps_store *s, struct ps_err *err)
{
	struct status_vals v;
	cJSON *o = NULL, *progress = NULL;
	int running, ok = 0;

	if (status_snapshot(s, &v, &running, err) < 0)
		return NULL;
	/* A progress that does not parse cannot be shown, so it does not
	 * count as one either. */
	if (running && (progress = cJSON_Parse(v.progress)) == NULL)
		running = 0;
	if (progress == NULL)
		progress = cJSON_CreateNull();
	o = cJSON_CreateObject();
	ok = o != NULL && add_time(o, "last_synced", v.last_synced) == 0 &&
	     cJSON_AddBoolToObject(o, "running", running);
	if (ok) {
		ok = add_item(o, "progress", progress) == 0;
		progress = NULL; /* add_item took it, or freed it */
	}
	cJSON_Delete(progress);
	ok = ok && cJSON_AddNumberToObject(o, "symbols", (double)v.nsyms) &&
	     add_item(o, "fx", parsed_or_null(v.fx)) == 0 &&
	     add_item(o, "last_result", parsed_or_null(v.result)) == 0 &&
	     cJSON_AddNumberToObject(o, "requests_today", (double)v.requests);
	status_vals_free(&v);
	return print_free(o, ok, err);
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
load_rates(struct ps_txn *t, const struct ps_symrec *recs, size_t n,
           struct rates *r, char **fx_json, struct ps_err *err)
{
	char *val;
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
	for (k = 0; k < r->n; k++) {
		if (ps_settings_rate(t, r->ccy[k], &val, err) < 0)
			return -1;
		r->rate[k] = rate_of(val, "rate");
		free(val);
	}
	if (ps_settings_doc(t, PS_SET_FX, fx_json, err) < 0)
		return -1;
	r->usd = rate_of(*fx_json, "rate");
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
ps_view_prices(struct ps_txn *t, struct ps_err *err)
{
	struct ps_symrec *recs = NULL;
	struct rates rates;
	char *fx = NULL;
	cJSON *o = NULL, *a;
	double total = 0;
	size_t n = 0, i, known = 0;
	int ok = 0;

	if (ps_store_sym_list(t, &recs, &n, err) < 0 ||
	    load_rates(t, recs, n, &rates, &fx, err) < 0)
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
ps_view_history(struct ps_txn *t, const char *symbol, int64_t from, int64_t to,
                size_t limit, int daily, struct ps_err *err)
{
	struct ps_point *pts = NULL;
	char iso[PS_ISOTIME_LEN];
	cJSON *o, *a;
	size_t n = 0, i;
	int rc, ok = 0;

	rc = ps_store_history(t, symbol, from, to, limit, daily, &pts, &n, err);
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

/* The callback's "stop" after an allocation failed. */
static int
pf_oom(struct ps_err *err)
{
	ps_err_set(err, PS_ENOMEM, "out of memory");
	return 1;
}

static int
pf_point(const struct ps_pf_day *d, void *arg, struct ps_err *err)
{
	cJSON *p = cJSON_CreateObject(), *m;
	char iso[PS_ISOTIME_LEN];
	size_t i;

	if (p == NULL || !cJSON_AddItemToArray(arg, p)) {
		cJSON_Delete(p);
		return pf_oom(err);
	}
	ps_isotime_fmt(d->day, iso);
	iso[10] = '\0';
	if (!cJSON_AddStringToObject(p, "date", iso) ||
	    add_num(p, "value_gbp", d->value_gbp) < 0 ||
	    !cJSON_AddNumberToObject(p, "symbols", (double)d->nsymbols) ||
	    (m = cJSON_AddArrayToObject(p, "missing")) == NULL)
		return pf_oom(err);
	for (i = 0; i < d->nmissing; i++)
		if (add_item_to_array(m, cJSON_CreateString(d->missing[i])) < 0)
			return pf_oom(err);
	return 0;
}

char *
ps_view_portfolio(struct ps_txn *t, int64_t from, int64_t to,
                  struct ps_err *err)
{
	cJSON *o = cJSON_CreateObject(), *a;

	if (o == NULL || !cJSON_AddStringToObject(o, "currency", "GBP") ||
	    (a = cJSON_AddArrayToObject(o, "points")) == NULL) {
		cJSON_Delete(o);
		ps_err_set(err, PS_ENOMEM, "out of memory");
		return NULL;
	}
	if (ps_portfolio_days(t, from, to, pf_point, a, err) < 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return print_free(o, 1, err);
}
