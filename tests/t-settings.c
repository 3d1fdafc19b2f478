/*
 * t-settings: lib/settings.c on a real store: each key's type and encoding
 * on disk (tests read the raw value back), what a mangled value reads as,
 * the request counter's day rollover, and the sync counters.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "store.h"
#include "tap.h"
#include "txn.h"

#define DAY 86400
#define NOW 1795602600 /* 2026-11-25T10:30:00Z */

static void
test_times(struct ps_store *s)
{
	struct ps_txn *t;
	struct ps_err err;
	int64_t at = 0;
	char *raw = NULL;

	ps_txn_begin(s, 0, &t, &err);
	tap_int(ps_settings_time(t, PS_SET_LAST_SYNCED, &at, &err), 0,
	        "time: absent reads as 0");
	ps_txn_abort(&t);
	ps_txn_begin(s, 1, &t, &err);
	tap_int(ps_settings_set_time(t, PS_SET_LAST_SYNCED, NOW, &err), 0,
	        "time: put last_synced");
	ps_settings_set_time(t, PS_SET_SYNC_STARTED_AT, NOW - 5, &err);
	ps_settings_set_time(t, PS_SET_SINGLE_SINCE, NOW - DAY, &err);
	ps_txn_commit(&t, &err);
	tx_setting_get(s, "last_synced", &raw, &err);
	tap_str(raw, "2026-11-25T10:30:00Z", "time: stored as ISO 8601 UTC");
	free(raw);
	tx_setting_get(s, "sync_started_at", &raw, &err);
	tap_str(raw, "2026-11-25T10:29:55Z", "time: sync_started_at's key");
	free(raw);
	tx_setting_get(s, "batch_single_since", &raw, &err);
	tap_str(raw, "2026-11-24T10:30:00Z", "time: batch_single_since's key");
	free(raw);
	ps_txn_begin(s, 0, &t, &err);
	tap_int(ps_settings_time(t, PS_SET_LAST_SYNCED, &at, &err), 1,
	        "time: read back");
	tap_int(at, NOW, "time: the same second");
	ps_txn_abort(&t);
	tx_setting_put(s, "last_synced", "yesterday", &err);
	ps_txn_begin(s, 0, &t, &err);
	tap_int(ps_settings_time(t, PS_SET_LAST_SYNCED, &at, &err), 0,
	        "time: a mangled one reads as absent");
	ps_txn_abort(&t);
	ps_txn_begin(s, 1, &t, &err);
	ps_settings_clear_time(t, PS_SET_SINGLE_SINCE, &err);
	ps_txn_commit(&t, &err);
	tap_int(tx_setting_get(s, "batch_single_since", &raw, &err), 0,
	        "time: cleared");
}

static void
test_docs(struct ps_store *s)
{
	struct ps_txn *t;
	struct ps_err err;
	char *doc = NULL, *raw = NULL;

	ps_txn_begin(s, 1, &t, &err);
	ps_settings_set_doc(t, PS_SET_PROGRESS, "{\"type\":\"start\"}", &err);
	ps_settings_set_doc(t, PS_SET_LAST_RESULT, "{\"updated\":1}", &err);
	ps_settings_set_doc(t, PS_SET_FX, "{\"rate\":0.79}", &err);
	tap_int(ps_settings_set_rate(t, "EUR", "{\"rate\":0.85}", &err), 0,
	        "doc: put a rate");
	ps_txn_commit(&t, &err);
	tx_setting_get(s, "progress", &raw, &err);
	tap_str(raw, "{\"type\":\"start\"}", "doc: progress's key");
	free(raw);
	tx_setting_get(s, "last_result", &raw, &err);
	tap_str(raw, "{\"updated\":1}", "doc: last_result's key");
	free(raw);
	tx_setting_get(s, "fx", &raw, &err);
	tap_str(raw, "{\"rate\":0.79}", "doc: fx's key");
	free(raw);
	tx_setting_get(s, "fx_rate_EUR", &raw, &err);
	tap_str(raw, "{\"rate\":0.85}", "doc: a rate's key");
	free(raw);
	ps_txn_begin(s, 1, &t, &err);
	tap_int(ps_settings_doc(t, PS_SET_FX, &doc, &err), 1, "doc: read");
	tap_str(doc, "{\"rate\":0.79}", "doc: as written");
	free(doc);
	ps_settings_set_doc(t, PS_SET_PROGRESS, NULL, &err);
	tap_int(ps_settings_doc(t, PS_SET_PROGRESS, &doc, &err), 0,
	        "doc: NULL deletes");
	tap_int(ps_settings_rate(t, "", &doc, &err), -1,
	        "rate: an empty currency is refused");
	tap_int(err.code, PS_EINVALID, "rate: ... as invalid");
	ps_txn_commit(&t, &err);
}

static long
requests(struct ps_store *s, int64_t now)
{
	struct ps_txn *t;
	long n = -1;

	ps_txn_begin(s, 0, &t, NULL);
	ps_settings_requests(t, now, &n, NULL);
	ps_txn_abort(&t);
	return n;
}

static void
test_requests(struct ps_store *s)
{
	struct ps_err err;
	long c = 0;
	char *raw = NULL;

	tap_int(requests(s, NOW), 0, "requests: none yet");
	tx_requests_add(s, NOW, 3, &c, &err);
	tap_int(c, 3, "requests: add 3");
	tx_requests_add(s, NOW + 3600, 2, &c, &err);
	tap_int(c, 5, "requests: same UTC day adds up");
	tx_setting_get(s, "requests_day", &raw, &err);
	tap_str(raw, "2026-11-25", "requests: the day's key and format");
	free(raw);
	tx_setting_get(s, "requests_count", &raw, &err);
	tap_str(raw, "5", "requests: the count's key, decimal");
	free(raw);
	tap_int(requests(s, NOW + DAY), 0, "requests: a new day starts at 0");
	tx_requests_add(s, NOW + DAY, 1, &c, &err);
	tap_int(c, 1, "requests: ... and counts from there");
	tx_requests_add(s, NOW + DAY, -5, &c, &err);
	tap_int(c, 0, "requests: never below 0");
	tx_setting_put(s, "requests_count", "12x", &err);
	tap_int(requests(s, NOW + DAY), 0, "requests: a mangled count is 0");
	tx_setting_put(s, "requests_count", "-4", &err);
	tap_int(requests(s, NOW + DAY), 0, "requests: a negative one too");
}

static void
test_counters(struct ps_store *s)
{
	struct ps_txn *t;
	struct ps_err err;
	long v = -1;
	char *raw = NULL;

	tx_count_sync(s, PS_SYNC_COMPLETE, &err);
	tx_count_sync(s, PS_SYNC_COMPLETE, &err);
	tx_count_sync(s, PS_SYNC_ERROR, &err);
	tx_setting_get(s, "syncs_total_complete", &raw, &err);
	tap_str(raw, "2", "counter: complete's key, decimal");
	free(raw);
	ps_txn_begin(s, 0, &t, &err);
	ps_settings_counter(t, PS_SET_SYNCS_PARTIAL, &v, &err);
	tap_int(v, 0, "counter: never counted is 0");
	ps_settings_counter(t, PS_SET_SYNCS_ERROR, &v, &err);
	tap_int(v, 1, "counter: error's");
	ps_txn_abort(&t);
	tx_setting_put(s, "syncs_total_error", "x", &err);
	tx_count_sync(s, PS_SYNC_ERROR, &err);
	tx_setting_get(s, "syncs_total_error", &raw, &err);
	tap_str(raw, "1", "counter: a mangled one restarts");
	free(raw);
}

int
main(void)
{
	struct ps_store *s = NULL;
	struct ps_err err;
	char *tmp = tap_tmpdir();

	if (!tap_ok(tmp != NULL, "temporary directory"))
		return tap_done();
	if (tap_int(ps_store_open(&s, tmp, 16, &err), 0, "open a store")) {
		test_times(s);
		test_docs(s);
		test_requests(s);
		test_counters(s);
		ps_store_close(&s);
	}
	tap_rmrf(tmp);
	free(tmp);
	return tap_done();
}
