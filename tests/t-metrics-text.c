/*
 * t-metrics-text: lib/metrics on a real store in a temporary directory,
 * without HTTP: every family has # HELP and # TYPE; values never known are
 * left out (no NaN, no empty sample); the daily limit only when one is
 * set; the sync counter by result, kept in the store across a reopen; a
 * label value with a quote and a backslash escaped; the figures of a
 * stored result and fx rate; stale quotes counted against the clock.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "store.h"
#include "tap.h"
#include "txn.h"

#define NOW 1762550000

static char *
text(struct ps_store *s, long limit, int64_t now)
{
	struct ps_err err;
	char *t = ps_metrics_text(s, limit, now, &err);

	if (t == NULL)
		tap_diag("metrics: %s", err.msg);
	return t;
}

/* 1 when the text holds this exact line. */
static int
has_line(const char *t, const char *line)
{
	size_t n = strlen(line);
	const char *p = t;

	while (t && (p = strstr(p, line)) != NULL) {
		if ((p == t || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

/* 1 when some sample line (not a comment) starts with name. */
static int
has_sample(const char *t, const char *name)
{
	char pat[128];

	snprintf(pat, sizeof(pat), "\n%s", name);
	return t && (strncmp(t, name, strlen(name)) == 0 || strstr(t, pat));
}

/* Sample lines whose value is not a finite number (NaN, Inf, empty). */
static int
bad_values(const char *t)
{
	const char *ln = t, *end, *sp;
	char val[64], *stop;
	int bad = 0;

	for (; t && *ln; ln = *end ? end + 1 : end) {
		end = ln + strcspn(ln, "\n");
		if (*ln == '#' || end == ln)
			continue;
		sp = ln;
		while (memchr(sp, ' ', (size_t)(end - sp)))
			sp = (const char *)memchr(sp, ' ', (size_t)(end - sp)) +
			     1;
		snprintf(val, sizeof(val), "%.*s", (int)(end - sp), sp);
		if (!*val || !isfinite(strtod(val, &stop)) || *stop) {
			tap_diag("bad sample: %.*s", (int)(end - ln), ln);
			bad++;
		}
	}
	return bad;
}

static void
families(const char *t)
{
	static const char *const names[] = {
	        "pricesync_last_sync_timestamp_seconds gauge",
	        "pricesync_last_sync_duration_seconds gauge",
	        "pricesync_last_sync_updated gauge",
	        "pricesync_last_sync_failed gauge",
	        "pricesync_sync_running gauge",
	        "pricesync_symbols gauge",
	        "pricesync_symbols_failed gauge",
	        "pricesync_symbols_stale gauge",
	        "pricesync_upstream_requests_today gauge",
	        "pricesync_daily_request_limit gauge",
	        "pricesync_fx_rate gauge",
	        "pricesync_portfolio_value_gbp gauge",
	        "pricesync_syncs_total counter",
	        "pricesync_build_info gauge",
	};
	char line[128], help[96];
	size_t i, missing = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(line, sizeof(line), "# TYPE %s", names[i]);
		snprintf(help, sizeof(help), "# HELP %.*s ",
		         (int)strcspn(names[i], " "), names[i]);
		if (!has_line(t, line) || !strstr(t, help)) {
			tap_diag("no HELP/TYPE for %s", names[i]);
			missing++;
		}
	}
	tap_int((long long)missing, 0,
	        "every SPEC family has # HELP and # TYPE");
}

static void
empty_store(struct ps_store *s)
{
	char *t = text(s, 0, NOW);

	families(t);
	tap_int(bad_values(t), 0, "no NaN, Inf or empty value before any sync");
	tap_ok(!has_sample(t, "pricesync_last_sync_timestamp_seconds") &&
	               !has_sample(t, "pricesync_last_sync_duration_seconds") &&
	               !has_sample(t, "pricesync_last_sync_updated") &&
	               !has_sample(t, "pricesync_fx_rate") &&
	               !has_sample(t, "pricesync_portfolio_value_gbp"),
	       "values never known are left out");
	tap_ok(!has_sample(t, "pricesync_daily_request_limit"),
	       "no daily limit configured: no sample");
	tap_ok(has_line(t, "pricesync_syncs_total{result=\"complete\"} 0") &&
	               has_line(
	                       t,
	                       "pricesync_syncs_total{result=\"partial\"} 0") &&
	               has_line(t, "pricesync_syncs_total{result=\"error\"} 0"),
	       "the counter starts at 0 for each result");
	tap_ok(has_line(t, "pricesync_sync_running 0") &&
	               has_line(t, "pricesync_symbols 0"),
	       "not running, no symbols");
	free(t);
	t = text(s, 250, NOW);
	tap_ok(has_line(t, "pricesync_daily_request_limit 250"),
	       "daily_request_limit 250 is shown");
	free(t);
}

static void
after_sync(struct ps_store *s)
{
	struct ps_symrec r[2];
	struct ps_err err;
	char *t;
	int i;

	for (i = 0; i < 2; i++) {
		ps_symrec_init(&r[i], i ? "MSFT" : "AAPL");
		r[i].quantity = 2;
	}
	if (tx_sym_add(s, r, 2, &err) < 0)
		tap_diag("add: %s", err.msg);
	r[0].price = 100;
	r[0].quote_time = NOW - 4 * 86400;
	strcpy(r[1].error, "not returned by FMP");
	if (tx_apply_batch(s, r, 2, NOW, &err) < 0)
		tap_diag("apply: %s", err.msg);
	tx_setting_put(s, "last_synced", "2025-11-07T21:13:20Z", NULL);
	tx_setting_put(s, "last_result",
	               "{\"updated\":1,\"failed\":1,\"failed_symbols\":"
	               "[\"MSFT\"],\"mode\":\"batch\",\"duration_ms\":1500}",
	               NULL);
	tx_setting_put(s, "fx",
	               "{\"pair\":\"US\\\"D\\\\\",\"rate\":0.5,\"basis\":"
	               "\"price\",\"at\":\"2025-11-07T21:13:20Z\"}",
	               NULL);
	tx_count_sync(s, PS_SYNC_PARTIAL, NULL);
	tx_count_sync(s, PS_SYNC_PARTIAL, NULL);
	tx_count_sync(s, PS_SYNC_ERROR, NULL);
	t = text(s, 0, NOW);
	tap_int(bad_values(t), 0, "every value finite after a sync");
	tap_ok(has_line(t, "pricesync_last_sync_timestamp_seconds 1762550000"),
	       "last_sync_timestamp_seconds from last_synced");
	tap_ok(has_line(t, "pricesync_last_sync_duration_seconds 1.5"),
	       "duration in seconds");
	tap_ok(has_line(t, "pricesync_last_sync_updated 1") &&
	               has_line(t, "pricesync_last_sync_failed 1"),
	       "updated and failed from last_result");
	tap_ok(has_line(t, "pricesync_symbols 2") &&
	               has_line(t, "pricesync_symbols_failed 1") &&
	               has_line(t, "pricesync_symbols_stale 1"),
	       "2 symbols, 1 failed, 1 quote older than 3 days");
	tap_ok(has_line(t, "pricesync_fx_rate{pair=\"US\\\"D\\\\\","
	                   "basis=\"price\"} 0.5"),
	       "fx_rate with its labels, quote and backslash escaped");
	tap_ok(has_line(t, "pricesync_portfolio_value_gbp 100"),
	       "portfolio value: 2 AAPL at 100 USD at 0.5 (MSFT unknown)");
	tap_ok(has_line(t, "pricesync_syncs_total{result=\"partial\"} 2") &&
	               has_line(t,
	                        "pricesync_syncs_total{result=\"error\"} 1") &&
	               has_line(t,
	                        "pricesync_syncs_total{result=\"complete\"} 0"),
	       "the counter by result");
	free(t);
	t = text(s, 0, NOW - 2 * 86400);
	tap_ok(has_line(t, "pricesync_symbols_stale 0"),
	       "stale is against the clock given");
	free(t);
}

int
main(void)
{
	struct ps_store *s = NULL;
	struct ps_err err;
	char *dir = tap_tmpdir(), *t;

	if (!tap_ok(ps_store_open(&s, dir, 16, &err) == 0, "store opens"))
		return tap_done();
	empty_store(s);
	after_sync(s);
	ps_store_close(&s);
	if (tap_ok(ps_store_open(&s, dir, 16, &err) == 0, "store reopens")) {
		t = text(s, 0, NOW);
		tap_ok(has_line(t,
		                "pricesync_syncs_total{result=\"partial\"} 2"),
		       "the counter survives a reopen");
		free(t);
		ps_store_close(&s);
	}
	tap_rmrf(dir);
	free(dir);
	return tap_done();
}
