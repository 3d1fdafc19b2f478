/*
 * view: the JSON documents of SPEC §5, written as they are read (see
 * view.h). Rows are printed with lib/jsonw.c, which follows cJSON's
 * printing rules, so the bytes are those a cJSON tree of the whole
 * document printed. Stored JSON settings (fx, last_result, progress) are
 * parsed and printed back, as they always were: one small document each.
 *
 * Limits: a history is read whole by ps_store_history (at most `limit`
 * points, 16 bytes each) before it is written; the price list is walked
 * PS_VIEW_CHUNK symbols at a time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "isotime.h"
#include "jsonw.h"
#include "lock.h"
#include "portfolio.h"
#include "settings.h"
#include "symbol.h"
#include "view.h"

/* Symbols walked between two sheds of the map's pages (prices_rows). */
#define SHED_EVERY (32 * PS_VIEW_CHUNK)

/* ---- one document on its way out ---- */

struct doc {
	const struct ps_view_sink *k;
	struct ps_buf b;
	struct ps_err *err;
	size_t rows; /* rows written so far (for their commas) */
};

static int
oom(struct ps_err *err)
{
	return ps_err_set(err, PS_ENOMEM, "out of memory");
}

/* The head's verdict on v: 1 render, 0 stop, -1 failed. */
static int
doc_head(struct doc *d, const struct ps_view_version *v)
{
	if (d->k->head == NULL)
		return 1;
	return d->k->head(v, d->k->arg, d->err);
}

/* Hands the buffer to the writer once it holds PS_VIEW_FLUSH bytes (or
 * any, when all is set). */
static int
doc_flush(struct doc *d, int all)
{
	if (d->b.len == 0 || (!all && d->b.len < PS_VIEW_FLUSH))
		return 0;
	if (d->k->out(d->b.data, d->b.len, d->k->arg) != 0)
		return ps_err_set(d->err, PS_EINTERNAL, "the writer stopped");
	ps_buf_reset(&d->b);
	return 0;
}

static int
put(struct doc *d, const char *lit)
{
	return ps_buf_puts(&d->b, lit) < 0 ? oom(d->err) : 0;
}

/* The stored JSON text, parsed and printed back; null when absent or not
 * JSON. */
static int
put_embedded(struct doc *d, const char *text)
{
	cJSON *j = text ? cJSON_Parse(text) : NULL;
	char *s;
	int rc;

	if (j == NULL)
		return put(d, "null");
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	rc = s ? put(d, s) : oom(d->err);
	free(s);
	return rc;
}

static int
put_time(struct ps_buf *b, int64_t t)
{
	char iso[PS_ISOTIME_LEN];

	return ps_jw_str_or_null(b, t ? ps_isotime_fmt(t, iso) : NULL);
}

/* ---- the status ---- */

/* What the status shows from the store, read in one snapshot. */
struct status_vals {
	uint64_t revision;
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
status_read(struct ps_store *s, int64_t now, struct status_vals *v,
            struct ps_err *err)
{
	struct ps_txn *t;
	int rc = -1;

	memset(v, 0, sizeof(*v));
	if (ps_txn_begin(s, 0, &t, err) < 0)
		return -1;
	if (ps_store_revision(t, &v->revision, err) < 0 ||
	    ps_settings_time(t, PS_SET_LAST_SYNCED, &v->last_synced, err) < 0 ||
	    ps_settings_doc(t, PS_SET_PROGRESS, &v->progress, err) < 0 ||
	    ps_settings_doc(t, PS_SET_FX, &v->fx, err) < 0 ||
	    ps_settings_doc(t, PS_SET_LAST_RESULT, &v->result, err) < 0 ||
	    ps_settings_requests(t, now, &v->requests, err) < 0 ||
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
status_snapshot(struct ps_store *s, int64_t now, struct status_vals *v,
                int *running, struct ps_err *err)
{
	int held, tries;

	for (tries = 0;; tries++) {
		if (status_read(s, now, v, err) < 0)
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

static int
status_body(struct doc *d, const struct status_vals *v, cJSON *progress)
{
	struct ps_buf *b = &d->b;
	char *p = NULL;
	int rc;

	if (progress && (p = cJSON_PrintUnformatted(progress)) == NULL)
		return oom(d->err);
	rc = ps_buf_puts(b, "{\"last_synced\":") < 0 ||
	     put_time(b, v->last_synced) < 0 ||
	     ps_buf_puts(b, progress
	                            ? ",\"running\":true,\"progress\":"
	                            : ",\"running\":false,\"progress\":") < 0 ||
	     ps_buf_puts(b, p ? p : "null") < 0 ||
	     ps_buf_puts(b, ",\"symbols\":") < 0 ||
	     ps_jw_num(b, (double)v->nsyms) < 0;
	free(p);
	if (rc)
		return oom(d->err);
	if (put(d, ",\"fx\":") < 0 || put_embedded(d, v->fx) < 0 ||
	    put(d, ",\"last_result\":") < 0 || put_embedded(d, v->result) < 0 ||
	    put(d, ",\"requests_today\":") < 0)
		return -1;
	if (ps_jw_num(b, (double)v->requests) < 0 || ps_buf_puts(b, "}") < 0)
		return oom(d->err);
	return doc_flush(d, 1);
}

int
ps_view_status_write(struct ps_store *s, int64_t now,
                     const struct ps_view_sink *k, struct ps_err *err)
{
	struct doc d = {.k = k, .err = err};
	struct ps_view_version ver = {0};
	struct status_vals v;
	cJSON *progress = NULL;
	int running, rc;

	if (status_snapshot(s, now, &v, &running, err) < 0)
		return -1;
	/* A progress that does not parse cannot be shown, so it does not
	 * count as one either. */
	if (running && (progress = cJSON_Parse(v.progress)) == NULL)
		running = 0;
	ver.revision = v.revision;
	ver.day = now / 86400;
	ver.running = running;
	rc = doc_head(&d, &ver);
	if (rc > 0)
		rc = status_body(&d, &v, progress);
	cJSON_Delete(progress);
	status_vals_free(&v);
	ps_buf_free(&d.b);
	return rc < 0 ? -1 : 0;
}

/* ---- the price list ---- */

/* The CCYGBP rates of the currencies other than USD/GBP/GBp met so far,
 * read from t when first met; NaN when unknown. */
#define RATES_KEPT 16

struct rates {
	struct ps_txn *t;
	char ccy[RATES_KEPT][PS_CCY_MAX];
	double rate[RATES_KEPT];
	size_t n;
	double usd;
};

static double
rate_of(const char *json)
{
	cJSON *j = json ? cJSON_Parse(json) : NULL;
	cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "rate");
	double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;

	cJSON_Delete(j);
	return d;
}

static int
other_rate(struct rates *r, const char *ccy, double *rate, struct ps_err *err)
{
	char *json;
	size_t k;

	*rate = NAN;
	if (!*ccy || !strcmp(ccy, "USD") || !strcmp(ccy, "GBP") ||
	    !strcmp(ccy, "GBp"))
		return 0;
	for (k = 0; k < r->n; k++)
		if (strcmp(r->ccy[k], ccy) == 0) {
			*rate = r->rate[k];
			return 0;
		}
	if (ps_settings_rate(r->t, ccy, &json, err) < 0)
		return -1;
	*rate = rate_of(json);
	free(json);
	/* Past RATES_KEPT currencies, a rate is read for each row. */
	if (r->n < RATES_KEPT) {
		strcpy(r->ccy[r->n], ccy);
		r->rate[r->n++] = *rate;
	}
	return 0;
}

static int
row_nums(struct ps_buf *b, const struct ps_symrec *p)
{
	return ps_buf_puts(b, ",\"price\":") < 0 ||
	       ps_jw_num(b, p->price) < 0 ||
	       ps_buf_puts(b, ",\"change\":") < 0 ||
	       ps_jw_num(b, p->change) < 0 ||
	       ps_buf_puts(b, ",\"change_percent\":") < 0 ||
	       ps_jw_num(b, p->change_percent) < 0 ||
	       ps_buf_puts(b, ",\"day_low\":") < 0 ||
	       ps_jw_num(b, p->day_low) < 0 ||
	       ps_buf_puts(b, ",\"day_high\":") < 0 ||
	       ps_jw_num(b, p->day_high) < 0 ||
	       ps_buf_puts(b, ",\"volume\":") < 0 ||
	       ps_jw_num(b, p->volume) < 0 ||
	       ps_buf_puts(b, ",\"quote_time\":") < 0 ||
	       put_time(b, p->quote_time) < 0 ||
	       ps_buf_puts(b, ",\"updated_at\":") < 0 ||
	       put_time(b, p->updated_at) < 0;
}

/* One symbol as the price list shows it: its GBP price and the value of
 * its holding (NaN: unknown). */
struct priced {
	const struct ps_symrec *p;
	double gbp, value;
};

typedef int (*row_fn)(const struct priced *row, void *arg, struct ps_err *err);

/* One row of "symbols". */
static int
price_row(const struct priced *row, void *arg, struct ps_err *err)
{
	struct doc *d = arg;
	const struct ps_symrec *p = row->p;
	struct ps_buf *b = &d->b;

	if ((d->rows++ > 0 && ps_buf_puts(b, ",") < 0) ||
	    ps_buf_puts(b, "{\"symbol\":") < 0 || ps_jw_str(b, p->symbol) < 0 ||
	    ps_buf_puts(b, ",\"name\":") < 0 ||
	    ps_jw_str_or_null(b, p->name) < 0 ||
	    ps_buf_puts(b, ",\"exchange\":") < 0 ||
	    ps_jw_str_or_null(b, p->exchange) < 0 ||
	    ps_buf_puts(b, ",\"currency\":") < 0 ||
	    ps_jw_str_or_null(b, p->currency) < 0 || row_nums(b, p) ||
	    ps_buf_puts(b, ",\"price_gbp\":") < 0 ||
	    ps_jw_num(b, row->gbp) < 0 ||
	    ps_buf_puts(b, ",\"quantity\":") < 0 ||
	    ps_jw_num(b, p->quantity) < 0 ||
	    ps_buf_puts(b, ",\"value_gbp\":") < 0 ||
	    ps_jw_num(b, row->value) < 0 || ps_buf_puts(b, ",\"error\":") < 0 ||
	    ps_jw_str_or_null(b, p->error) < 0 || ps_buf_puts(b, "}") < 0)
		return oom(err);
	return doc_flush(d, 0);
}

/*
 * Every symbol priced, in symbol order, PS_VIEW_CHUNK per range read, and
 * the total of the values known. The pages of the map a long walk has
 * read are shed (ps_store_shed) every SHED_EVERY symbols: they stay in
 * the page cache, but would otherwise all count as this process's memory
 * (100,000 symbols are some 60 MB of pages).
 */
static int
prices_walk(struct rates *r, row_fn fn, void *arg, double *total, size_t *known,
            struct ps_err *err)
{
	struct ps_symrec *recs = malloc(PS_VIEW_CHUNK * sizeof(*recs));
	char after[PS_SYMBOL_MAX + 1] = "";
	struct priced row;
	size_t n, i, walked = 0;
	double other;
	int rc = -1;

	if (recs == NULL)
		return oom(err);
	do {
		if (ps_store_sym_range(r->t, after, recs, PS_VIEW_CHUNK, &n,
		                       err) < 0)
			goto recs_free;
		for (i = 0; i < n; i++) {
			row.p = &recs[i];
			if (other_rate(r, row.p->currency, &other, err) < 0)
				goto recs_free;
			row.gbp = ps_price_gbp(row.p->price, row.p->currency,
			                       r->usd, other);
			row.value = isnan(row.gbp) || isnan(row.p->quantity)
			                    ? NAN
			                    : row.gbp * row.p->quantity;
			if (fn(&row, arg, err) < 0)
				goto recs_free;
			if (!isnan(row.value)) {
				*total += row.value;
				(*known)++;
			}
		}
		if (n > 0)
			strcpy(after, recs[n - 1].symbol);
		walked += n;
		if (walked % SHED_EVERY == 0 && n > 0)
			ps_store_shed(ps_txn_store(r->t));
	} while (n == PS_VIEW_CHUNK);
	rc = 0;
recs_free:
	free(recs);
	return rc;
}

int
ps_view_prices_write(struct ps_txn *t, const struct ps_view_sink *k,
                     struct ps_err *err)
{
	struct doc d = {.k = k, .err = err};
	struct ps_view_version ver = {0};
	struct rates r = {.t = t};
	char *fx = NULL;
	double total = 0;
	size_t known = 0;
	int rc;

	if (ps_store_revision(t, &ver.revision, err) < 0)
		return -1;
	rc = doc_head(&d, &ver);
	if (rc <= 0)
		return rc;
	rc = -1;
	if (ps_settings_doc(t, PS_SET_FX, &fx, err) < 0)
		return -1;
	r.usd = rate_of(fx);
	if (put(&d, "{\"fx\":") < 0 || put_embedded(&d, fx) < 0 ||
	    put(&d, ",\"symbols\":[") < 0 ||
	    prices_walk(&r, price_row, &d, &total, &known, err) < 0 ||
	    put(&d, "],\"total_value_gbp\":") < 0)
		goto buf_free;
	if (ps_jw_num(&d.b, known ? total : NAN) < 0 ||
	    ps_buf_puts(&d.b, "}") < 0) {
		oom(err);
		goto buf_free;
	}
	rc = doc_flush(&d, 1);
buf_free:
	free(fx);
	ps_buf_free(&d.b);
	return rc;
}

/* ---- the price list's figures, for the metrics ---- */

struct summary {
	struct ps_view_summary *out;
	int64_t now, stale_s;
};

static int
summary_row(const struct priced *row, void *arg, struct ps_err *err)
{
	struct summary *sm = arg;

	(void)err;
	if (row->p->error[0] != '\0')
		sm->out->failed++;
	if (row->p->quote_time != 0 &&
	    sm->now - row->p->quote_time > sm->stale_s)
		sm->out->stale++;
	return 0;
}

int
ps_view_prices_summary(struct ps_txn *t, int64_t now, int64_t stale_s,
                       struct ps_view_summary *out, struct ps_err *err)
{
	struct summary sm = {.out = out, .now = now, .stale_s = stale_s};
	struct rates r = {.t = t};
	double total = 0;
	size_t known = 0;
	char *fx = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (ps_settings_doc(t, PS_SET_FX, &fx, err) < 0)
		return -1;
	r.usd = rate_of(fx);
	free(fx);
	rc = prices_walk(&r, summary_row, &sm, &total, &known, err);
	out->total_value_gbp = known ? total : NAN;
	return rc;
}

/* ---- a history ---- */

static int
history_points(struct doc *d, const struct ps_point *pts, size_t n)
{
	char iso[PS_ISOTIME_LEN];
	size_t i;

	for (i = 0; i < n; i++) {
		if (ps_buf_puts(&d->b, i ? ",{\"time\":\"" : "{\"time\":\"") <
		            0 ||
		    ps_buf_puts(&d->b, ps_isotime_fmt(pts[i].time, iso)) < 0 ||
		    ps_buf_puts(&d->b, "\",\"price\":") < 0 ||
		    ps_jw_num(&d->b, pts[i].price) < 0 ||
		    ps_buf_puts(&d->b, "}") < 0)
			return oom(d->err);
		if (doc_flush(d, 0) < 0)
			return -1;
	}
	return 0;
}

int
ps_view_history_write(struct ps_txn *t, const char *symbol, int64_t from,
                      int64_t to, size_t limit, int daily,
                      const struct ps_view_sink *k, struct ps_err *err)
{
	struct doc d = {.k = k, .err = err};
	struct ps_view_version ver = {0};
	struct ps_point *pts = NULL;
	struct ps_symrec rec;
	size_t n = 0;
	int rc;

	if (ps_store_revision(t, &ver.revision, err) < 0)
		return -1;
	rc = ps_store_sym_get(t, symbol, &rec, err);
	if (rc == 0)
		ps_err_set(err, PS_ENOT_FOUND, "unknown symbol %s", symbol);
	if (rc <= 0)
		return -1;
	rc = doc_head(&d, &ver);
	if (rc <= 0)
		return rc;
	if (ps_store_history(t, symbol, from, to, limit, daily, &pts, &n, err) <
	    0)
		return -1;
	rc = -1;
	if (put(&d, "{\"symbol\":") < 0)
		goto free_pts;
	if (ps_jw_str(&d.b, symbol) < 0) {
		oom(err);
		goto free_pts;
	}
	if (put(&d, ",\"points\":[") < 0 || history_points(&d, pts, n) < 0 ||
	    put(&d, "]}") < 0)
		goto free_pts;
	rc = doc_flush(&d, 1);
free_pts:
	free(pts);
	ps_buf_free(&d.b);
	return rc;
}

/* ---- the portfolio's value ---- */

struct pf {
	struct doc *d;
	int first;
};

/* The callback's "stop" after an allocation failed. */
static int
pf_oom(struct ps_err *err)
{
	oom(err);
	return 1;
}

static int
pf_point(const struct ps_pf_day *day, void *arg, struct ps_err *err)
{
	struct pf *pf = arg;
	struct ps_buf *b = &pf->d->b;
	char iso[PS_ISOTIME_LEN];
	size_t i;

	ps_isotime_fmt(day->day, iso);
	iso[10] = '\0';
	if (ps_buf_puts(b, pf->first ? "{\"date\":" : ",{\"date\":") < 0 ||
	    ps_jw_str(b, iso) < 0 || ps_buf_puts(b, ",\"value_gbp\":") < 0 ||
	    ps_jw_num(b, day->value_gbp) < 0 ||
	    ps_buf_puts(b, ",\"symbols\":") < 0 ||
	    ps_jw_num(b, (double)day->nsymbols) < 0 ||
	    ps_buf_puts(b, ",\"missing\":[") < 0)
		return pf_oom(err);
	for (i = 0; i < day->nmissing; i++)
		if ((i && ps_buf_puts(b, ",") < 0) ||
		    ps_jw_str(b, day->missing[i]) < 0)
			return pf_oom(err);
	if (ps_buf_puts(b, "]}") < 0)
		return pf_oom(err);
	pf->first = 0;
	return doc_flush(pf->d, 0) < 0 ? 1 : 0;
}

int
ps_view_portfolio_write(struct ps_txn *t, int64_t from, int64_t to,
                        const struct ps_view_sink *k, struct ps_err *err)
{
	struct doc d = {.k = k, .err = err};
	struct ps_view_version ver = {0};
	struct pf pf = {.d = &d, .first = 1};
	int rc;

	if (ps_store_revision(t, &ver.revision, err) < 0)
		return -1;
	rc = doc_head(&d, &ver);
	if (rc <= 0)
		return rc;
	rc = -1;
	if (put(&d, "{\"currency\":\"GBP\",\"points\":[") == 0 &&
	    ps_portfolio_days(t, from, to, pf_point, &pf, err) == 0 &&
	    put(&d, "]}") == 0)
		rc = doc_flush(&d, 1);
	ps_buf_free(&d.b);
	return rc;
}

/* ---- whole documents ---- */

int
ps_view_buf_out(const char *p, size_t n, void *arg)
{
	return ps_buf_append(arg, p, n);
}

/* The string of a document written into b by a write that returned rc. */
static char *
doc_string(int rc, struct ps_buf *b, struct ps_err *err)
{
	char *s = rc == 0 ? ps_buf_take(b) : NULL;

	ps_buf_free(b);
	if (rc == 0 && s == NULL)
		oom(err);
	return s;
}

char *
ps_view_status(struct ps_store *s, struct ps_err *err)
{
	struct ps_buf b = {0};
	struct ps_view_sink k = {NULL, ps_view_buf_out, &b};

	return doc_string(ps_view_status_write(s, time(NULL), &k, err), &b,
	                  err);
}

char *
ps_view_prices(struct ps_txn *t, struct ps_err *err)
{
	struct ps_buf b = {0};
	struct ps_view_sink k = {NULL, ps_view_buf_out, &b};

	return doc_string(ps_view_prices_write(t, &k, err), &b, err);
}

char *
ps_view_history(struct ps_txn *t, const char *symbol, int64_t from, int64_t to,
                size_t limit, int daily, struct ps_err *err)
{
	struct ps_buf b = {0};
	struct ps_view_sink k = {NULL, ps_view_buf_out, &b};

	return doc_string(ps_view_history_write(t, symbol, from, to, limit,
	                                        daily, &k, err),
	                  &b, err);
}

char *
ps_view_portfolio(struct ps_txn *t, int64_t from, int64_t to,
                  struct ps_err *err)
{
	struct ps_buf b = {0};
	struct ps_view_sink k = {NULL, ps_view_buf_out, &b};

	return doc_string(ps_view_portfolio_write(t, from, to, &k, err), &b,
	                  err);
}
