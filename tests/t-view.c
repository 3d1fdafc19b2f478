/*
 * t-view: the §5 documents built from a real store in a temporary
 * directory: GBP values per currency, holding values and their total,
 * nulls for what was never known, the status before and after a sync
 * (every field), its day rollover of requests_today, running and progress
 * as one snapshot (also against a writer that syncs meanwhile), and
 * history's shape and unknown symbol.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <lmdb.h>

#include "isotime.h"
#include "lock.h"
#include "store.h"
#include "tap.h"
#include "view.h"
#include "viewref.h"
#include "txn.h"

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const cJSON *
row(const cJSON *doc, const char *sym)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "symbols"))
	{
		if (!strcmp(cJSON_GetObjectItem(r, "symbol")->valuestring, sym))
			return r;
	}
	return NULL;
}

static void
add(struct ps_store *s, const char *sym, double qty, const char *ccy)
{
	struct ps_symrec r;
	struct ps_err err;

	ps_symrec_init(&r, sym);
	r.quantity = qty;
	if (ccy != NULL) {
		strcpy(r.currency, ccy);
		r.currency_src = PS_CCY_USER;
	}
	if (tx_sym_add(s, &r, 1, &err) < 0)
		tap_diag("add %s: %s", sym, err.msg);
}

static void
quote(struct ps_store *s, const char *sym, double price)
{
	struct ps_symrec r;
	struct ps_err err;

	ps_symrec_init(&r, sym);
	r.price = price;
	r.quote_time = 1762549202;
	if (tx_apply_batch(s, &r, 1, 1762550000, &err) < 0)
		tap_diag("apply %s: %s", sym, err.msg);
}

static cJSON *
status(struct ps_store *s)
{
	struct ps_err err;
	char *text = ps_view_status(s, &err);
	cJSON *doc = text ? cJSON_Parse(text) : NULL;

	if (text == NULL)
		tap_diag("status: %s", err.msg);
	free(text);
	return doc;
}

/* The member k of doc printed back, "(absent)" when missing; malloc'd. */
static char *
field(const cJSON *doc, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, k);

	return v ? cJSON_PrintUnformatted(v) : strdup("(absent)");
}

static void
field_is(const cJSON *doc, const char *k, const char *want)
{
	char *got = field(doc, k), name[64];

	snprintf(name, sizeof(name), "status.%s", k);
	tap_str(got, want, name);
	free(got);
}

static void
put(struct ps_store *s, const char *k, const char *v)
{
	struct ps_err err;

	if (tx_setting_put(s, k, v, &err) < 0)
		tap_diag("put %s: %s", k, err.msg);
}

#define FX                                                                     \
	"{\"pair\":\"USDGBP\",\"rate\":0.8,\"basis\":\"price\",\"at\":"        \
	"\"2025-11-07T21:10:00Z\"}"
#define RESULT                                                                 \
	"{\"updated\":5,\"failed\":1,\"failed_symbols\":[\"NEW\"],"            \
	"\"mode\":\"batch\",\"duration_ms\":1234}"
#define START                                                                  \
	"{\"type\":\"start\",\"total\":6,\"batches\":1,\"started_at\":"        \
	"\"2025-11-07T21:09:59Z\"}"

/* Every one of the seven fields after a sync (not only two of them). */
static void
check_status_fields(struct ps_store *s)
{
	cJSON *doc;
	char today[PS_ISOTIME_LEN];

	ps_isotime_fmt(time(NULL), today);
	today[10] = '\0';
	put(s, "last_result", RESULT);
	put(s, PS_REQUESTS_DAY_KEY, today);
	put(s, PS_REQUESTS_COUNT_KEY, "12");
	doc = status(s);
	if (!tap_ok(doc != NULL, "status is JSON"))
		return;
	tap_int(cJSON_GetArraySize(doc), 7, "status has seven fields");
	field_is(doc, "last_synced", "\"2025-11-07T21:10:00Z\"");
	field_is(doc, "running", "false");
	field_is(doc, "progress", "null");
	field_is(doc, "symbols", "6");
	field_is(doc, "fx", FX);
	field_is(doc, "last_result", RESULT);
	field_is(doc, "requests_today", "12");
	cJSON_Delete(doc);
}

/* requests_today is the count of the current UTC day: the view reads the
 * counter in its own snapshot, so its rollover is tested here, not only
 * the store's. */
static void
check_rollover(struct ps_store *s)
{
	static const struct {
		int64_t day_offset;
		const char *count, *want, *name;
	} cases[] = {
	        {0, "12", "12", "today's count"},
	        {-86400, "12", "0", "yesterday's count reads as 0"},
	        {86400, "12", "0", "a day ahead (clock went back) reads as 0"},
	        {0, "-3", "0", "a negative count reads as 0"},
	        {0, "7x", "0", "a mangled count reads as 0"},
	        {0, "", "0", "an empty count reads as 0"},
	};
	char day[PS_ISOTIME_LEN], *got;
	size_t i;
	cJSON *doc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ps_isotime_fmt(time(NULL) + cases[i].day_offset, day);
		day[10] = '\0';
		put(s, PS_REQUESTS_DAY_KEY, day);
		put(s, PS_REQUESTS_COUNT_KEY, cases[i].count);
		doc = status(s);
		got = field(doc, "requests_today");
		tap_str(got, cases[i].want, cases[i].name);
		free(got);
		cJSON_Delete(doc);
	}
	put(s, PS_REQUESTS_DAY_KEY, NULL);
	doc = status(s);
	got = field(doc, "requests_today");
	tap_str(got, "0", "no day stored reads as 0");
	free(got);
	cJSON_Delete(doc);
}

/* running and progress agree: running is true exactly when a progress is
 * shown. The lock is held here by hand, as a sync holds it. */
static void
check_snapshot(struct ps_store *s)
{
	struct ps_lock lock = {.fd = -1};
	struct ps_err err;
	cJSON *doc;

	if (!tap_int(ps_lock_try(&lock, ps_store_dir(s), &err), 1,
	             "take the sync lock"))
		return;
	put(s, "progress", NULL);
	doc = status(s);
	field_is(doc, "running", "false");
	field_is(doc, "progress", "null");
	tap_diag("lock held, outcome stored (no progress): not running, "
	         "never running with a null progress");
	cJSON_Delete(doc);
	put(s, "progress", START);
	doc = status(s);
	field_is(doc, "running", "true");
	field_is(doc, "progress", START);
	cJSON_Delete(doc);
	put(s, "progress", "{not json");
	doc = status(s);
	field_is(doc, "running", "false");
	field_is(doc, "progress", "null");
	cJSON_Delete(doc);
	put(s, "progress", START);
	ps_lock_release(&lock);
	doc = status(s);
	field_is(doc, "running", "false");
	field_is(doc, "progress", "null");
	tap_diag("a dead sync's progress with the lock free is not shown");
	cJSON_Delete(doc);
	put(s, "progress", NULL);
}

struct syncer {
	struct ps_store *s;
	volatile int stop;
	long syncs;
};

/* Syncs as lib/sync.c does, as fast as it can: lock, start event, a
 * progress per batch, the outcome (progress dropped) in one commit, then
 * the lock released. */
static void *
syncer_run(void *p)
{
	struct syncer *y = p;
	const char *keys[] = {"progress", "last_result"};
	const char *vals[] = {NULL, RESULT};
	struct ps_lock lock = {.fd = -1};
	struct ps_err err;

	while (!__atomic_load_n(&y->stop, __ATOMIC_ACQUIRE)) {
		if (ps_lock_try(&lock, ps_store_dir(y->s), &err) != 1)
			break;
		tx_setting_put(y->s, "progress", START, &err);
		tx_setting_put(y->s, "progress",
		               "{\" type\":\" progress\",\" batch\":1}", &err);
		tx_settings_put(y->s, keys, vals, 2, &err);
		ps_lock_release(&lock);
		__atomic_add_fetch(&y->syncs, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void
check_snapshot_racing(struct ps_store *s)
{
	struct syncer y = {.s = s};
	pthread_t t;
	long polls, torn = 0, running = 0;
	cJSON *doc;

	if (!tap_ok(pthread_create(&t, NULL, syncer_run, &y) == 0,
	            "a writer syncs meanwhile"))
		return;
	/* Until the writer has synced 50 times: polls alone may all fall
	 * between two of its (fsync'd) commits. */
	for (polls = 0;
	     polls < 200000 &&
	     (polls < 500 || __atomic_load_n(&y.syncs, __ATOMIC_RELAXED) < 50);
	     polls++) {
		const cJSON *r, *p;

		doc = status(s);
		r = cJSON_GetObjectItem(doc, "running");
		p = cJSON_GetObjectItem(doc, "progress");
		if (doc == NULL || !cJSON_IsBool(r) || p == NULL ||
		    cJSON_IsTrue(r) == cJSON_IsNull(p))
			torn++;
		running += cJSON_IsTrue(r);
		cJSON_Delete(doc);
	}
	__atomic_store_n(&y.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	tap_diag("%ld polls during %ld syncs, %ld saw one running", polls,
	         y.syncs, running);
	tap_int(torn, 0,
	        "no status showed running without progress or "
	        "progress without running");
}

/* The price list's sums (for /metrics): its total as the document's, the
 * rows with an error, the quotes older than stale_s; on a store of its own
 * where each is known. */
static void
check_summary(void)
{
	struct ps_view_summary sum = {0};
	struct ps_symrec r[3];
	struct ps_store *s = NULL;
	struct ps_txn *t = NULL;
	struct ps_err err;
	char *dir = tap_tmpdir(), *text;
	cJSON *doc;
	int rc = -1;

	if (!tap_ok(ps_store_open(&s, dir, 16, &err) == 0, "summary: a store"))
		return;
	add(s, "A", 2, "USD");
	add(s, "B", 1, "USD");
	add(s, "C", 3, "GBP");
	tx_setting_put(s, "fx", "{\"pair\":\"USDGBP\",\"rate\":0.5}", &err);
	ps_symrec_init(&r[0], "A"), r[0].price = 10, r[0].quote_time = 5000;
	ps_symrec_init(&r[1], "B"), strcpy(r[1].error, "not returned by FMP");
	ps_symrec_init(&r[2], "C"), r[2].price = 4, r[2].quote_time = 3000;
	tx_apply_batch(s, r, 3, 5000, &err);
	if (ps_txn_begin(s, 0, &t, &err) == 0)
		rc = ps_view_prices_summary(t, 5050, 1000, &sum, &err);
	ps_txn_abort(&t);
	tap_int(rc, 0, "summary: read");
	tap_dbl(sum.total_value_gbp, 10 * 0.5 * 2 + 4 * 3,
	        "summary: the values known, summed");
	tap_int((long long)sum.failed, 1, "summary: one row with an error");
	tap_int((long long)sum.stale, 1,
	        "summary: one quote older than stale_s (never quoted: not)");
	text = tx_view_prices(s, &err);
	doc = text ? cJSON_Parse(text) : NULL;
	tap_dbl(sum.total_value_gbp, num(doc, "total_value_gbp"),
	        "summary: the document's total_value_gbp");
	cJSON_Delete(doc);
	free(text);
	ps_store_close(&s);
	tap_rmrf(dir);
	free(dir);
}

static void
check_prices(struct ps_store *s)
{
	struct ps_err err;
	char *text = tx_view_prices(s, &err);
	cJSON *doc = text ? cJSON_Parse(text) : NULL;
	const cJSON *r;

	tap_ok(doc != NULL, "prices is JSON");
	if (doc == NULL)
		return;
	tap_dbl(num(cJSON_GetObjectItem(doc, "fx"), "rate"), 0.8, "fx.rate");
	r = row(doc, "AAPL");
	tap_dbl(num(r, "price_gbp"), 200 * 0.8, "USD x rate");
	tap_dbl(num(r, "value_gbp"), 200 * 0.8 * 10, "value = gbp x qty");
	r = row(doc, "VOD.L");
	tap_dbl(num(r, "price_gbp"), 0.725, "GBp / 100");
	tap_str(cJSON_GetObjectItem(r, "currency")->valuestring, "GBp",
	        ".L inferred GBp");
	r = row(doc, "ISF.L");
	tap_dbl(num(r, "price_gbp"), 8.1, "GBP x 1");
	r = row(doc, "SAP.DE");
	tap_dbl(num(r, "price_gbp"), 100 * 0.85, "EUR x stored EURGBP");
	r = row(doc, "XYZ.TO");
	tap_ok(cJSON_IsNull(cJSON_GetObjectItem(r, "currency")) &&
	               cJSON_IsNull(cJSON_GetObjectItem(r, "price_gbp")) &&
	               cJSON_IsNull(cJSON_GetObjectItem(r, "value_gbp")),
	       "unknown currency: currency, price_gbp, value_gbp null");
	r = row(doc, "NEW");
	tap_ok(cJSON_IsNull(cJSON_GetObjectItem(r, "price")) &&
	               cJSON_IsNull(cJSON_GetObjectItem(r, "name")) &&
	               cJSON_IsNull(cJSON_GetObjectItem(r, "updated_at")) &&
	               cJSON_IsNull(cJSON_GetObjectItem(r, "error")),
	       "never synced: fields null");
	tap_dbl(num(doc, "total_value_gbp"), 1600 + 72.5 + 81,
	        "total sums the known values only");
	cJSON_Delete(doc);
	free(text);
}

/* ---- the streamed documents ---- */

/* What a sink saw: the bytes, the pieces, the version, the head's calls. */
struct seen {
	struct ps_buf b;
	size_t pieces, biggest;
	int heads, verdict; /* verdict: what on_head answers */
	int stop_after;     /* out answers "stop" after this many pieces */
	struct ps_view_version v;
};

static int
seen_head(const struct ps_view_version *v, void *arg, struct ps_err *err)
{
	struct seen *w = arg;

	w->heads++;
	w->v = *v;
	return w->verdict;
}

static int
seen_out(const char *p, size_t n, void *arg)
{
	struct seen *w = arg;

	w->pieces++;
	if (n > w->biggest)
		w->biggest = n;
	if (w->stop_after && w->pieces > (size_t)w->stop_after)
		return 1;
	return ps_buf_append(&w->b, p, n);
}

static struct ps_view_sink
sink_of(struct seen *w)
{
	struct ps_view_sink k = {seen_head, seen_out, w};

	ps_buf_free(&w->b); /* what the sink saw before */
	memset(w, 0, sizeof(*w));
	w->verdict = 1;
	return k;
}

/* The streamed prices of one snapshot next to the reference's. */
static void
prices_same(struct ps_store *s, const char *name)
{
	struct seen w = {0};
	struct ps_view_sink k = sink_of(&w);
	struct ps_txn *t = NULL;
	struct ps_err err;
	char *want = NULL;
	int rc = -1;

	if (ps_txn_begin(s, 0, &t, &err) == 0) {
		want = ref_prices(t);
		rc = ps_view_prices_write(t, &k, &err);
	}
	ps_txn_abort(&t);
	tap_ok(rc == 0 && want && w.b.data && strcmp(w.b.data, want) == 0,
	       "%s: the streamed prices are the tree's bytes (%zu bytes, "
	       "%zu pieces)",
	       name, w.b.len, w.pieces);
	/* A piece is the buffer once it passed PS_VIEW_FLUSH: one row more
	 * at most, and a row is under 2 KiB. */
	tap_ok(w.biggest < PS_VIEW_FLUSH + 2048 &&
	               (w.b.len <= PS_VIEW_FLUSH + 2048 || w.pieces > 1),
	       "%s: written in pieces of at most PS_VIEW_FLUSH and a row "
	       "(biggest %zu)",
	       name, w.biggest);
	free(want);
	ps_buf_free(&w.b);
}

/* A record with something in every field that could print wrong. */
static void
odd_record(struct ps_symrec *r, size_t i)
{
	static const char *const ccy[] = {"USD", "GBp", "GBP", "EUR",
	                                  "CHF", "",    "JPY"};
	static const double prices[] = {189.3, 0.1 + 0.2, 1e21,   -0.0,
	                                72.5,  3e9,       1.0 / 3};
	char sym[PS_SYMBOL_MAX + 1];

	snprintf(sym, sizeof(sym), "S%04zu%s", i, i % 5 == 1 ? ".L" : "");
	ps_symrec_init(r, sym);
	r->price = prices[i % 7];
	r->change = i % 4 ? -1.25 * (double)i : NAN;
	r->change_percent = (double)i / 7;
	r->volume = i % 3 ? 4294967296.0 + (double)i : 48213000;
	r->quantity = i % 2 ? 0.5 * (double)i : NAN;
	r->quote_time = i % 6 ? 1762549202 + (int64_t)i : 0;
	strcpy(r->currency, ccy[i % 7]);
	r->currency_src = PS_CCY_USER;
	if (i % 3 == 0)
		snprintf(r->name, sizeof(r->name),
		         "Soci\xc3\xa9t\xc3\xa9 \"%zu\" \\ "
		         "G\xc3\xa9n\xc3\xa9rale",
		         i);
	if (i % 4 == 0)
		strcpy(r->exchange, "LSE");
	if (i % 9 == 4)
		strcpy(r->error, "upstream said \"no\"");
}

/* n more symbols, quoted or failed. */
static void
add_odd(struct ps_store *s, size_t from, size_t n)
{
	struct ps_symrec *r = calloc(n ? n : 1, sizeof(*r));
	struct ps_err err;
	size_t i;

	for (i = 0; i < n; i++)
		odd_record(&r[i], from + i);
	if (n &&
	    (tx_sym_add(s, r, n, &err) < 0 ||
	     tx_apply_batch(s, r, n, 1762550000 + (int64_t)from, &err) < 0))
		tap_diag("add_odd: %s", err.msg);
	free(r);
}

/* 0, 1, chunk - 1, chunk, chunk + 1 symbols and more: byte for byte. */
static void
check_chunk_bounds(void)
{
	static const size_t sizes[] = {0,
	                               1,
	                               PS_VIEW_CHUNK - 1,
	                               PS_VIEW_CHUNK,
	                               PS_VIEW_CHUNK + 1,
	                               3 * PS_VIEW_CHUNK + 1};
	const char *keys[] = {"fx", "fx_rate_EUR", "fx_rate_CHF"};
	const char *vals[] = {FX, "{\"pair\":\"EURGBP\",\"rate\":0.85}",
	                      "{\"pair\":\"CHFGBP\",\"rate\":0.9123456789}"};
	char *dir = tap_tmpdir(), name[64];
	struct ps_store *s = NULL;
	struct ps_err err;
	size_t i, have = 0;

	if (!tap_ok(ps_store_open(&s, dir, 64, &err) == 0, "a second store"))
		return;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		add_odd(s, have, sizes[i] - have);
		have = sizes[i];
		if (i == 2)
			tx_settings_put(s, keys, vals, 3, &err);
		snprintf(name, sizeof(name), "%zu symbols%s", have,
		         i >= 2 ? ", rates set" : ", no fx");
		prices_same(s, name);
	}
	ps_store_close(&s);
	tap_rmrf(dir);
	free(dir);
}

/* History and portfolio, streamed, next to the reference's. */
static void
check_other_docs(struct ps_store *s)
{
	struct seen w = {0};
	struct ps_view_sink k;
	struct ps_txn *t = NULL;
	struct ps_err err;
	char *want;
	int daily, rc;

	if (ps_txn_begin(s, 0, &t, &err) < 0)
		return;
	for (daily = 0; daily < 2; daily++) {
		k = sink_of(&w);
		want = ref_history(t, "AAPL", INT64_MIN, INT64_MAX, 1000,
		                   daily);
		rc = ps_view_history_write(t, "AAPL", INT64_MIN, INT64_MAX,
		                           1000, daily, &k, &err);
		tap_ok(rc == 0 && want && w.b.data && !strcmp(w.b.data, want),
		       "history%s: the tree's bytes", daily ? " (daily)" : "");
		free(want);
		ps_buf_free(&w.b);
	}
	k = sink_of(&w);
	want = ref_portfolio(t, 1762473600 - 3 * 86400, 1762473600 + 86400);
	rc = ps_view_portfolio_write(t, 1762473600 - 3 * 86400,
	                             1762473600 + 86400, &k, &err);
	tap_ok(rc == 0 && want && w.b.data && !strcmp(w.b.data, want),
	       "portfolio: the tree's bytes (%s)", w.b.data);
	free(want);
	ps_buf_free(&w.b);
	ps_txn_abort(&t);
}

/* The version prices_write reports from a fresh snapshot. */
static uint64_t
revision_now(struct ps_store *s)
{
	struct seen w = {0};
	struct ps_view_sink k = sink_of(&w);
	struct ps_txn *t;
	struct ps_err err;

	w.verdict = 0;
	if (ps_txn_begin(s, 0, &t, &err) < 0)
		return 0;
	ps_view_prices_write(t, &k, &err);
	ps_txn_abort(&t);
	return w.v.revision;
}

/* Every write moves the version; reads and a write that failed do not. */
static void
check_versions(struct ps_store *s)
{
	const char *gone[] = {"NOSUCH"};
	uint64_t r0 = revision_now(s), r;
	struct ps_err err;
	char *text;

	tap_ok(revision_now(s) == r0, "version: the same when nothing wrote");
	text = tx_view_prices(s, &err);
	free(text);
	text = ps_view_status(s, &err);
	free(text);
	tap_ok(revision_now(s) == r0,
	       "version: reading documents moves nothing");
	put(s, "last_result", RESULT);
	r = revision_now(s);
	tap_ok(r != r0, "version: a setting written moves it");
	add(s, "ZZV", 1, NULL);
	tap_ok(revision_now(s) != r, "version: a symbol added moves it");
	r = revision_now(s);
	quote(s, "ZZV", 12.5);
	tap_ok(revision_now(s) != r, "version: a quote applied moves it");
	r = revision_now(s);
	tx_sym_remove(s, gone, 1, &err);
	tap_ok(revision_now(s) == r, "version: a write that failed does not");
	tx_sym_remove(s, (const char *[]){"ZZV"}, 1, &err);
	tap_ok(revision_now(s) != r, "version: a symbol removed moves it");
}

/* The status's version: the lock and the day, not only the revision. */
static void
check_status_version(struct ps_store *s)
{
	struct ps_lock lock = {.fd = -1};
	struct seen w = {0};
	struct ps_view_sink k;
	struct ps_view_version v0;
	struct ps_err err;
	int64_t now = time(NULL);

	put(s, "progress", START);
	k = sink_of(&w);
	w.verdict = 0;
	ps_view_status_write(s, now, &k, &err);
	v0 = w.v;
	tap_ok(!v0.running && v0.day == now / 86400,
	       "status version: not running, today's day");
	if (ps_lock_try(&lock, ps_store_dir(s), &err) != 1) {
		ps_buf_free(&w.b);
		return;
	}
	k = sink_of(&w);
	ps_view_status_write(s, now, &k, &err);
	tap_ok(w.v.running && w.v.revision == v0.revision,
	       "status version: the lock taken, no write: running differs, "
	       "the revision does not");
	ps_lock_release(&lock);
	k = sink_of(&w);
	w.verdict = 0;
	ps_view_status_write(s, now + 86400, &k, &err);
	tap_ok(!w.v.running && w.v.day == v0.day + 1 &&
	               w.v.revision == v0.revision,
	       "status version: a sync died (lock free): running again "
	       "false; the next day is another version");
	put(s, "progress", NULL);
	ps_buf_free(&w.b);
}

/* Puts a record that does not decode, with LMDB alone (the store closed). */
static int
corrupt(const char *dir, const char *sym)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {strlen(sym), (void *)sym}, v = {5, "junk!"};
	int rc;

	if (mdb_env_create(&env) != 0)
		return -1;
	mdb_env_set_maxdbs(env, 16);
	mdb_env_set_mapsize(env, 16 << 20);
	rc = mdb_env_open(env, dir, 0, 0664);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc == 0) {
		rc = mdb_dbi_open(txn, "symbols", 0, &dbi);
		if (rc == 0)
			rc = mdb_put(txn, dbi, &k, &v, 0);
		rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
	}
	mdb_env_close(env);
	return rc == 0 ? 0 : -1;
}

/* A 304 (the head says stop) reads no symbol: a store whose symbol does
 * not decode fails to render, and still answers the head. */
static void
check_head_reads_nothing(void)
{
	char *dir = tap_tmpdir();
	struct ps_store *s = NULL;
	struct ps_txn *t = NULL;
	struct seen w = {0};
	struct ps_view_sink k;
	struct ps_err err;
	int rc;

	if (ps_store_open(&s, dir, 16, &err) < 0)
		return;
	add_odd(s, 0, 3);
	ps_store_close(&s);
	if (!tap_ok(corrupt(dir, "S0001") == 0 &&
	                    ps_store_open(&s, dir, 16, &err) == 0,
	            "a store with a record that does not decode"))
		return;
	ps_txn_begin(s, 0, &t, &err);
	k = sink_of(&w);
	rc = ps_view_prices_write(t, &k, &err);
	tap_ok(rc < 0 && err.code == PS_ESTORE, "rendering it fails (%s)",
	       err.msg);
	k = sink_of(&w);
	w.verdict = 0;
	rc = ps_view_prices_write(t, &k, &err);
	tap_ok(rc == 0 && w.heads == 1 && w.pieces == 0,
	       "the head said stop: done, nothing written, no symbol read");
	k = sink_of(&w);
	rc = ps_view_history_write(t, "NOSUCH", INT64_MIN, INT64_MAX, 10, 0, &k,
	                           &err);
	tap_ok(rc < 0 && err.code == PS_ENOT_FOUND && w.heads == 0,
	       "an unknown symbol's history fails before its head");
	ps_buf_free(&w.b);
	ps_txn_abort(&t);
	ps_store_close(&s);
	tap_rmrf(dir);
	free(dir);
}

/* A writer that stops: the document fails after what it took. */
static void
check_writer_stops(struct ps_store *s)
{
	struct seen w = {0};
	struct ps_view_sink k = sink_of(&w);
	struct ps_txn *t = NULL;
	struct ps_err err;
	int rc;

	w.stop_after = 1;
	ps_txn_begin(s, 0, &t, &err);
	rc = ps_view_prices_write(t, &k, &err);
	ps_txn_abort(&t);
	tap_ok(rc < 0 && err.code == PS_EINTERNAL && w.pieces == 2,
	       "a writer that stops ends the document (%s)", err.msg);
	ps_buf_free(&w.b);
}

/* Enough symbols for several pieces, for the writer that stops. */
static void
check_stream(struct ps_store *s)
{
	check_other_docs(s);
	check_versions(s);
	check_status_version(s);
	check_chunk_bounds();
	check_summary();
	check_head_reads_nothing();
	add_odd(s, 1000, 2 * PS_VIEW_CHUNK);
	prices_same(s, "the first store");
	check_writer_stops(s);
}

int
main(void)
{
	char *dir = tap_tmpdir(), *text;
	struct ps_store *s = NULL;
	struct ps_err err;
	const char *keys[] = {"fx", "fx_rate_EUR", "last_synced"};
	const char *vals[] = {FX,
	                      "{\"pair\":\"EURGBP\",\"rate\":0.85,\"at\":"
	                      "\"2025-11-07T21:10:00Z\"}",
	                      "2025-11-07T21:10:00Z"};

	if (!tap_ok(ps_store_open(&s, dir, 16, &err) == 0, "store opens"))
		return tap_done();
	text = ps_view_status(s, &err);
	tap_str(text,
	        "{\"last_synced\":null,\"running\":false,\"progress\":null,"
	        "\"symbols\":0,\"fx\":null,\"last_result\":null,"
	        "\"requests_today\":0}",
	        "status before any sync");
	free(text);
	add(s, "AAPL", 10, NULL);
	add(s, "VOD.L", 100, NULL);
	add(s, "ISF.L", 10, "GBP");
	add(s, "SAP.DE", NAN, "EUR");
	add(s, "XYZ.TO", 5, NULL);
	add(s, "NEW", NAN, NULL);
	quote(s, "AAPL", 200);
	quote(s, "VOD.L", 72.5);
	quote(s, "ISF.L", 8.1);
	quote(s, "SAP.DE", 100);
	quote(s, "XYZ.TO", 3);
	tx_settings_put(s, keys, vals, 3, &err);
	check_prices(s);

	check_status_fields(s);
	check_rollover(s);
	check_snapshot(s);
	check_snapshot_racing(s);
	check_stream(s);

	text = tx_view_history(s, "AAPL", INT64_MIN, INT64_MAX, 1000, 0, &err);
	tap_str(text,
	        "{\"symbol\":\"AAPL\",\"points\":[{\"time\":"
	        "\"2025-11-07T21:00:02Z\",\"price\":200}]}",
	        "history shape");
	free(text);
	text = tx_view_history(s, "ZZZ", INT64_MIN, INT64_MAX, 1000, 0, &err);
	tap_ok(text == NULL && err.code == PS_ENOT_FOUND,
	       "unknown symbol is not_found");
	free(text);
	ps_store_close(&s);
	tap_rmrf(dir);
	free(dir);
	return tap_done();
}
