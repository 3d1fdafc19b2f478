/*
 * metrics: SPEC §5's Prometheus exposition, built from lib/view.c so that
 * each figure is the one the JSON API shows: the status document (parsed
 * back with cJSON: it is small) and the price list's sums
 * (ps_view_prices_summary: one walk, flat in memory), plus the sync
 * counter kept in settings (lib/settings.h). Every family gets its # HELP
 * and # TYPE; a sample whose value was never known is left out rather
 * than printed as NaN. Limits: the status and the prices are read in two
 * snapshots, so a sync committing between them may show in one and not
 * the other.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "config.h"
#include "isotime.h"
#include "metrics.h"
#include "settings.h"
#include "view.h"

#define STALE_S (3 * 86400)

static const char *const result_names[] = {"complete", "partial", "error"};
static const enum ps_set_counter result_counters[] = {
        PS_SET_SYNCS_COMPLETE, PS_SET_SYNCS_PARTIAL, PS_SET_SYNCS_ERROR};

int
ps_metrics_count_sync(struct ps_txn *t, enum ps_sync_result res,
                      struct ps_err *err)
{
	return ps_settings_counter_add(t, result_counters[res], 1, err);
}

/* A label value with \, " and newline escaped as the format wants. */
static int
put_label(struct ps_buf *b, const char *name, const char *val)
{
	const char *p;

	if (ps_buf_printf(b, "%s=\"", name) < 0)
		return -1;
	for (p = val; *p; p++) {
		const char *esc = *p == '\\'   ? "\\\\"
		                  : *p == '"'  ? "\\\""
		                  : *p == '\n' ? "\\n"
		                               : NULL;

		if (esc ? ps_buf_puts(b, esc) < 0 : ps_buf_append(b, p, 1) < 0)
			return -1;
	}
	return ps_buf_puts(b, "\"");
}

static int
family(struct ps_buf *b, const char *name, const char *type, const char *help)
{
	return ps_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	                     name, type);
}

/* One sample; nothing when v is not finite (never known). labels is
 * "" or the text between the braces. */
static int
sample(struct ps_buf *b, const char *name, const char *labels, double v)
{
	char num[PS_DOUBLE_LEN];

	if (!isfinite(v))
		return 0;
	if (v == floor(v) && fabs(v) < 1e15)
		return ps_buf_printf(b, "%s%s%s%s %.0f\n", name,
		                     *labels ? "{" : "", labels,
		                     *labels ? "}" : "", v);
	return ps_buf_printf(b, "%s%s%s%s %s\n", name, *labels ? "{" : "",
	                     labels, *labels ? "}" : "", ps_fmt_double(num, v));
}

static int
gauge(struct ps_buf *b, const char *name, const char *help, double v)
{
	return family(b, name, "gauge", help) < 0 ? -1 : sample(b, name, "", v);
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static double
time_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	int64_t t;

	if (!cJSON_IsString(v) || ps_isotime_parse(v->valuestring, &t) < 0)
		return NAN;
	return (double)t;
}

/* The gauges of a table, in order; the first that fails stops it. */
struct gauge_row {
	const char *name, *help;
	double v;
};

static int
gauges(struct ps_buf *b, const struct gauge_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (gauge(b, rows[i].name, rows[i].help, rows[i].v) < 0)
			return -1;
	return 0;
}

static int
status_part(struct ps_buf *b, const cJSON *st, long limit)
{
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(st, "last_result");
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(st, "running");
	const struct gauge_row rows[] = {
	        {"pricesync_last_sync_timestamp_seconds",
	         "Unix time of the last sync that updated prices "
	         "(last_synced).",
	         time_of(st, "last_synced")},
	        {"pricesync_last_sync_duration_seconds",
	         "How long the last complete sync took.",
	         num(res, "duration_ms") / 1000},
	        {"pricesync_last_sync_updated",
	         "Symbols updated by the last complete sync.",
	         num(res, "updated")},
	        {"pricesync_last_sync_failed",
	         "Symbols failed in the last complete sync.",
	         num(res, "failed")},
	        {"pricesync_sync_running",
	         "1 while a sync holds the lock, else 0.",
	         cJSON_IsTrue(run) ? 1 : 0},
	        {"pricesync_symbols", "Symbols tracked.", num(st, "symbols")},
	        {"pricesync_upstream_requests_today",
	         "Upstream (FMP) requests made this UTC day.",
	         num(st, "requests_today")},
	        {"pricesync_daily_request_limit",
	         "The configured daily_request_limit (absent when there is "
	         "none).",
	         limit > 0 ? (double)limit : NAN},
	};

	return gauges(b, rows, sizeof(rows) / sizeof(rows[0]));
}

static int
fx_part(struct ps_buf *b, const cJSON *st)
{
	const cJSON *fx = cJSON_GetObjectItemCaseSensitive(st, "fx");
	const cJSON *pair = cJSON_GetObjectItemCaseSensitive(fx, "pair");
	const cJSON *basis = cJSON_GetObjectItemCaseSensitive(fx, "basis");
	struct ps_buf labels = {0};
	double rate = num(fx, "rate");
	int rc = -1;

	if (family(b, "pricesync_fx_rate", "gauge",
	           "The stored USD to GBP rate; pair is fx_pair, basis bid, "
	           "price or inverse.") < 0)
		return -1;
	if (!cJSON_IsString(pair) || !isfinite(rate))
		return 0;
	if (put_label(&labels, "pair", pair->valuestring) < 0 ||
	    ps_buf_puts(&labels, ",") < 0 ||
	    put_label(&labels, "basis",
	              cJSON_IsString(basis) ? basis->valuestring : "") < 0)
		goto labels_free;
	rc = sample(b, "pricesync_fx_rate", labels.data, rate);
labels_free:
	ps_buf_free(&labels);
	return rc;
}

static int
prices_part(struct ps_buf *b, const struct ps_view_summary *sum)
{
	const struct gauge_row rows[] = {
	        {"pricesync_symbols_failed",
	         "Symbols whose last sync failed (an error is stored).",
	         (double)sum->failed},
	        {"pricesync_symbols_stale",
	         "Symbols whose quote is older than 3 days.",
	         (double)sum->stale},
	        {"pricesync_portfolio_value_gbp",
	         "GBP value of the holdings whose value is known "
	         "(total_value_gbp).",
	         sum->total_value_gbp},
	};

	return gauges(b, rows, sizeof(rows) / sizeof(rows[0]));
}

static int
counter_part(struct ps_buf *b, const long *vals, struct ps_err *err)
{
	char labels[32];
	size_t i;
	int rc = 0;

	if (family(b, "pricesync_syncs_total", "counter",
	           "Syncs that started, by how they ended: complete (no "
	           "symbol failed), partial (some failed) or error "
	           "(stopped early).") < 0)
		rc = -1;
	for (i = 0; i < 3; i++) {
		strcpy(labels, "result=\"");
		strcat(labels, result_names[i]);
		strcat(labels, "\"");
		if (rc == 0 && sample(b, "pricesync_syncs_total", labels,
		                      (double)vals[i]) < 0)
			rc = -1;
	}
	if (rc < 0)
		ps_err_set(err, PS_ENOMEM, "out of memory");
	return rc;
}

static int
build_part(struct ps_buf *b)
{
	if (family(b, "pricesync_build_info", "gauge",
	           "Always 1; the version of pricesync in its label.") < 0)
		return -1;
	return ps_buf_puts(b, "pricesync_build_info{version=\"" PACKAGE_VERSION
	                      "\"} 1\n");
}

/* The price list's sums and the sync counters, in one snapshot. */
static int
store_figures(struct ps_store *s, int64_t now, struct ps_view_summary *sum,
              long *counters, struct ps_err *err)
{
	struct ps_txn *t;
	size_t i;
	int rc;

	if (ps_txn_begin(s, 0, &t, err) < 0)
		return -1;
	rc = ps_view_prices_summary(t, now, STALE_S, sum, err);
	for (i = 0; rc == 0 && i < PS_SET_NCOUNTERS; i++)
		rc = ps_settings_counter(t, result_counters[i], &counters[i],
		                         err);
	ps_txn_abort(&t);
	return rc;
}

char *
ps_metrics_text(struct ps_store *s, long daily_request_limit, int64_t now,
                struct ps_err *err)
{
	struct ps_view_summary sum;
	long counters[PS_SET_NCOUNTERS];
	struct ps_buf b = {0};
	char *st_text, *out = NULL;
	cJSON *st = NULL;

	st_text = ps_view_status(s, err);
	if (st_text == NULL || store_figures(s, now, &sum, counters, err) < 0)
		goto docs_free;
	st = cJSON_Parse(st_text);
	if (st == NULL) {
		ps_err_set(err, PS_ENOMEM, "out of memory");
		goto docs_free;
	}
	if (status_part(&b, st, daily_request_limit) < 0 ||
	    fx_part(&b, st) < 0 || prices_part(&b, &sum) < 0 ||
	    build_part(&b) < 0) {
		ps_err_set(err, PS_ENOMEM, "out of memory");
		goto docs_free;
	}
	if (counter_part(&b, counters, err) < 0)
		goto docs_free;
	out = ps_buf_take(&b);
	if (out == NULL)
		ps_err_set(err, PS_ENOMEM, "out of memory");
docs_free:
	ps_buf_free(&b);
	cJSON_Delete(st);
	free(st_text);
	return out;
}
