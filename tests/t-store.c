/*
 * t-store: the LMDB store (lib/store.c) on a real environment in a
 * temporary directory: records, the merge rules of sym_add and
 * apply_batch, history ranges and dedup, settings, the daily request
 * counter, a full map, a map grown by another process, threads sharing
 * one store, and a writer killed with SIGKILL in the middle of its
 * transactions.
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "store.h"
#include "tap.h"
#include "txn.h"

#define DAY 86400
#define NOW 1795602600 /* 2026-11-25T09:30:00Z */

static char *
path_join(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *p = malloc(len);

	if (p != NULL)
		snprintf(p, len, "%s/%s", dir, name);
	return p;
}

/* A successful quote for symbol. */
static struct ps_symrec
quote(const char *symbol, double price, int64_t quote_time)
{
	struct ps_symrec r;

	ps_symrec_init(&r, symbol);
	r.price = price;
	r.change = 1.5;
	r.change_percent = 0.25;
	r.day_low = price - 1;
	r.day_high = price + 1;
	r.volume = 1000;
	snprintf(r.name, sizeof(r.name), "%s Inc", symbol);
	snprintf(r.exchange, sizeof(r.exchange), "NASDAQ");
	r.quote_time = quote_time;
	return r;
}

static struct ps_symrec
failed(const char *symbol, const char *why)
{
	struct ps_symrec r;

	ps_symrec_init(&r, symbol);
	snprintf(r.error, sizeof(r.error), "%s", why);
	return r;
}

static int
add_syms(struct ps_store *s, const char *const *syms, size_t n)
{
	struct ps_symrec recs[16];
	struct ps_err err;
	size_t i;

	for (i = 0; i < n && i < 16; i++)
		ps_symrec_init(&recs[i], syms[i]);
	if (tx_sym_add(s, recs, i, &err) < 0) {
		tap_diag("sym_add: %s", err.msg);
		return -1;
	}
	return 0;
}

/* The number of history points of symbol, -1 on error, -2 if absent. */
static long
npoints(struct ps_store *s, const char *symbol)
{
	struct ps_point *pts = NULL;
	struct ps_err err;
	size_t n = 0;
	int rc;

	rc = tx_history(s, symbol, INT64_MIN, INT64_MAX, SIZE_MAX, 0, &pts, &n,
	                &err);
	free(pts);
	if (rc < 0)
		tap_diag("history: %s", err.msg);
	return rc < 0 ? -1 : rc == 0 ? -2 : (long)n;
}

static void
test_open_close(const char *tmp)
{
	struct ps_store *s = NULL;
	struct ps_err err = {0};
	char *dir = path_join(tmp, "nested/deeper/db");
	char *file = path_join(tmp, "plainfile");
	struct stat st;
	FILE *f;

	tap_int(ps_store_open(&s, dir, 16, &err), 0,
	        "open creates the directory and the databases");
	tap_ok(s != NULL && stat(dir, &st) == 0 && S_ISDIR(st.st_mode),
	       "the directory exists");
	tap_str(s ? ps_store_dir(s) : NULL, dir, "ps_store_dir");
	ps_store_close(&s);
	tap_ok(s == NULL, "close sets the pointer to NULL");
	ps_store_close(&s);
	ps_store_close(NULL);
	tap_ok(s == NULL, "close twice and on NULL is safe (and keeps NULL)");
	tap_int(ps_store_open(&s, dir, 16, &err), 0, "reopen");
	ps_store_close(&s);

	f = fopen(file, "w");
	if (f != NULL)
		fclose(f);
	s = NULL;
	tap_int(ps_store_open(&s, file, 16, &err), -1,
	        "open on a plain file fails");
	tap_ok(s == NULL && err.code == PS_ESTORE &&
	               strstr(err.msg, file) != NULL,
	       "... PS_ESTORE naming it (%s)", err.msg);
	tap_int(ps_store_open(&s, "", 16, &err), -1, "open on \"\" fails");
	free(dir);
	free(file);
}

/* Rewrites meta/schema_version behind the store's back. */
static int
set_schema(const char *dir, const char *version)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {.mv_size = 14, .mv_data = "schema_version"};
	MDB_val v = {.mv_size = strlen(version), .mv_data = (void *)version};
	int rc;

	if (mdb_env_create(&env) != 0)
		return -1;
	mdb_env_set_maxdbs(env, 8);
	rc = mdb_env_open(env, dir, 0, 0664);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc == 0) {
		rc = mdb_dbi_open(txn, "meta", 0, &dbi);
		if (rc == 0)
			rc = mdb_put(txn, dbi, &k, &v, 0);
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return rc == 0 ? 0 : -1;
}

static void
test_schema(const char *tmp)
{
	struct ps_store *s = NULL;
	struct ps_err err = {0};
	char *dir = path_join(tmp, "schema");

	tap_int(ps_store_open(&s, dir, 16, &err), 0, "open a fresh store");
	ps_store_close(&s);
	tap_int(set_schema(dir, "2"), 0, "schema_version set to 2 behind it");
	tap_int(ps_store_open(&s, dir, 16, &err), -1,
	        "open refuses another schema version");
	tap_int(err.code, PS_ESTORE, "... with PS_ESTORE");
	tap_ok(strstr(err.msg, "database schema version 2 is not supported "
	                       "by this pricesync (wants 1)") != NULL,
	       "... saying so (%s)", err.msg);
	tap_ok(s == NULL, "... and *sp untouched");
	tap_int(set_schema(dir, "1"), 0, "schema_version set back to 1");
	tap_int(ps_store_open(&s, dir, 16, &err), 0, "open accepts it again");
	ps_store_close(&s);
	free(dir);
}

static void
test_symbols(struct ps_store *s)
{
	const char *syms[] = {"MSFT", "VOD.L", "AAPL"};
	struct ps_symrec *list = NULL, r, add;
	struct ps_err err = {0};
	size_t n = 99;

	tap_int(tx_sym_list(s, &list, &n, &err), 0, "list when empty");
	tap_ok(n == 0 && list == NULL, "... is empty and NULL");
	tap_int(add_syms(s, syms, 3), 0, "add three symbols");
	tap_int(tx_sym_count(s, &n, &err), 0, "count");
	tap_int((long long)n, 3, "... is 3");
	tap_int(tx_sym_list(s, &list, &n, &err), 0, "list");
	tap_ok(n == 3 && list != NULL && strcmp(list[0].symbol, "AAPL") == 0 &&
	               strcmp(list[1].symbol, "MSFT") == 0 &&
	               strcmp(list[2].symbol, "VOD.L") == 0,
	       "list is sorted by symbol");
	tap_str(n == 3 ? list[2].currency : NULL, "GBp",
	        "VOD.L's inferred currency is GBp");
	free(list);
	tap_int(tx_sym_get(s, "AAPL", &r, &err), 1, "get AAPL");
	tap_ok(isnan(r.price) && isnan(r.quantity) && r.updated_at == 0,
	       "a new record has no price, no quantity, never updated");
	tap_int(tx_sym_get(s, "NOPE", &r, &err), 0, "get unknown is 0");
	tap_int(tx_sym_get(s, "", &r, &err), -1, "get \"\" is -1");
	tap_int(err.code, PS_EINVALID, "... PS_EINVALID");

	/* Re-adding: quantity and a user currency only, prices stay. */
	r = quote("AAPL", 190.5, NOW - 60);
	tap_int(tx_apply_batch(s, &r, 1, NOW, &err), 0, "price AAPL");
	ps_symrec_init(&add, "AAPL");
	add.quantity = 12.5;
	snprintf(add.currency, sizeof(add.currency), "EUR");
	add.currency_src = PS_CCY_USER;
	add.price = 1;
	snprintf(add.name, sizeof(add.name), "overwritten?");
	tap_int(tx_sym_add(s, &add, 1, &err), 0, "re-add AAPL");
	tx_sym_get(s, "AAPL", &r, &err);
	tap_dbl(r.quantity, 12.5, "... quantity updated");
	tap_ok(strcmp(r.currency, "EUR") == 0 && r.currency_src == PS_CCY_USER,
	       "... user currency updated");
	tap_dbl(r.price, 190.5, "... price kept");
	tap_str(r.name, "AAPL Inc", "... name kept");
	tap_int(r.updated_at, NOW, "... updated_at kept");
	ps_symrec_init(&add, "AAPL");
	tap_int(tx_sym_add(s, &add, 1, &err), 0,
	        "re-add AAPL without quantity or currency");
	tx_sym_get(s, "AAPL", &r, &err);
	tap_dbl(r.quantity, 12.5, "... quantity kept");
	tap_str(r.currency, "EUR", "... user currency kept");
	tap_int(npoints(s, "AAPL"), 1, "... history kept");
}

static void
test_remove(struct ps_store *s)
{
	const char *syms[] = {"A", "AB", "ZZ"};
	const char *bad[] = {"AB", "NOPE"};
	const char *one[] = {"A"};
	struct ps_symrec *recs;
	struct ps_err err = {0};
	size_t i, n = 0, before = 0;
	long pa;

	add_syms(s, syms, 3);
	/* Enough points to span several pages of price_history. */
	recs = calloc(600, sizeof(*recs));
	if (recs == NULL)
		return;
	for (i = 0; i < 600; i++)
		recs[i] = quote("A", (double)i, NOW - 600 + (int64_t)i);
	tap_int(tx_apply_batch(s, recs, 600, NOW, &err), 0,
	        "600 points for A in one batch");
	for (i = 0; i < 600; i++)
		recs[i] = quote(i % 2 ? "AB" : "ZZ", (double)i,
		                NOW - 600 + (int64_t)i);
	tap_int(tx_apply_batch(s, recs, 600, NOW, &err), 0,
	        "300 points each for AB and ZZ");
	free(recs);
	tap_int(npoints(s, "A"), 600, "A has 600 points");
	tap_int(npoints(s, "AB"), 300, "AB has 300 points");

	tx_sym_count(s, &before, &err);
	tap_int(tx_sym_remove(s, bad, 2, &err), -1,
	        "remove with an unknown symbol fails");
	tap_int(err.code, PS_EINVALID, "... PS_EINVALID");
	tap_ok(strstr(err.msg, "NOPE") != NULL, "... naming it (%s)", err.msg);
	tx_sym_count(s, &n, &err);
	tap_int((long long)n, (long long)before, "... and removes nothing");
	tap_int(npoints(s, "AB"), 300, "... not even AB's history");

	tap_int(tx_sym_remove(s, one, 1, &err), 0, "remove A");
	tap_int(npoints(s, "A"), -2, "A is gone (history says absent)");
	tap_int(npoints(s, "AB"), 300,
	        "AB (sorts right after A) keeps its history");
	tap_int(npoints(s, "ZZ"), 300, "ZZ keeps its history");
	add_syms(s, one, 1);
	pa = npoints(s, "A");
	tap_int(pa, 0, "re-added A starts with no history");
}

static void
test_apply(struct ps_store *s)
{
	const char *syms[] = {"BATCH", "ERR", "X.DE", "VOD.L", "NOQ"};
	struct ps_symrec recs[6], r;
	struct ps_point *pts = NULL;
	struct ps_err err = {0};
	size_t n = 0;

	add_syms(s, syms, 5);
	recs[0] = quote("ERR", 10, NOW - 100);
	tap_int(tx_apply_batch(s, recs, 1, NOW - 50, &err), 0, "ERR priced");
	ps_symrec_init(&r, "BATCH");
	r.quantity = 3;
	tx_sym_add(s, &r, 1, &err);

	recs[0] = quote("BATCH", 101.25, NOW - 10);
	recs[0].quantity = 99; /* must be ignored */
	recs[1] = failed("ERR", "no price in FMP's answer");
	recs[2] = quote("GONE", 5, NOW - 10);
	recs[3] = quote("X.DE", 20, NOW - 10);
	snprintf(recs[3].currency, sizeof(recs[3].currency), "EUR");
	recs[3].currency_src = PS_CCY_PROFILE;
	recs[4] = quote("VOD.L", 72.3, 0);     /* no quote time: no point */
	recs[5] = quote("NOQ", NAN, NOW - 10); /* NaN price: no point */
	tap_int(tx_apply_batch(s, recs, 6, NOW, &err), 0, "apply a batch");

	tx_sym_get(s, "BATCH", &r, &err);
	tap_dbl(r.price, 101.25, "success: price stored");
	tap_dbl(r.day_high, 102.25, "success: day high stored");
	tap_str(r.name, "BATCH Inc", "success: name stored");
	tap_str(r.exchange, "NASDAQ", "success: exchange stored");
	tap_int(r.quote_time, NOW - 10, "success: quote time stored");
	tap_int(r.updated_at, NOW, "success: updated_at = now");
	tap_dbl(r.quantity, 3, "success: quantity untouched");
	tap_int(npoints(s, "BATCH"), 1, "success: one history point");

	tx_sym_get(s, "ERR", &r, &err);
	tap_str(r.error, "no price in FMP's answer", "error: error stored");
	tap_dbl(r.price, 10, "error: old price stays");
	tap_int(r.updated_at, NOW - 50, "error: updated_at stays");
	tap_int(npoints(s, "ERR"), 1, "error: no history point");
	recs[0] = quote("ERR", 11, NOW - 5);
	tx_apply_batch(s, recs, 1, NOW + 1, &err);
	tx_sym_get(s, "ERR", &r, &err);
	tap_str(r.error, "", "a later success clears the error");

	tap_int(tx_sym_get(s, "GONE", &r, &err), 0,
	        "a symbol not in the store is skipped, not created");
	tap_int(npoints(s, "GONE"), -2, "... and gets no history");

	tx_sym_get(s, "X.DE", &r, &err);
	tap_ok(strcmp(r.currency, "EUR") == 0 &&
	               r.currency_src == PS_CCY_PROFILE,
	       "a profile currency replaces an unknown inferred one");
	recs[0] = quote("VOD.L", 72.5, NOW - 10);
	snprintf(recs[0].currency, sizeof(recs[0].currency), "GBP");
	recs[0].currency_src = PS_CCY_PROFILE;
	tx_apply_batch(s, recs, 1, NOW, &err);
	tx_sym_get(s, "VOD.L", &r, &err);
	tap_str(r.currency, "GBP", "a profile currency replaces GBp inferred");
	recs[0] = quote("AAPL", 191, NOW - 5);
	snprintf(recs[0].currency, sizeof(recs[0].currency), "USD");
	recs[0].currency_src = PS_CCY_PROFILE;
	tx_apply_batch(s, recs, 1, NOW, &err);
	tx_sym_get(s, "AAPL", &r, &err);
	tap_ok(strcmp(r.currency, "EUR") == 0 && r.currency_src == PS_CCY_USER,
	       "a profile currency never replaces a user's");

	tap_int(tx_sym_set_currency(s, "MSFT", "CAD", &err), 1,
	        "set_currency replaces an inferred currency");
	tx_sym_get(s, "MSFT", &r, &err);
	tap_ok(strcmp(r.currency, "CAD") == 0 &&
	               r.currency_src == PS_CCY_PROFILE,
	       "... as a profile currency");
	tap_int(tx_sym_set_currency(s, "AAPL", "USD", &err), 0,
	        "set_currency leaves a user currency alone");
	tx_sym_get(s, "AAPL", &r, &err);
	tap_str(r.currency, "EUR", "... which stays");
	tap_int(tx_sym_set_currency(s, "GONE", "USD", &err), 0,
	        "set_currency on an absent symbol is 0");
	tap_int(tx_sym_get(s, "GONE", &r, &err), 0, "... and adds none");

	tap_int(npoints(s, "VOD.L"), 1,
	        "quote time 0 added no point (only the later quote did)");
	tx_sym_get(s, "NOQ", &r, &err);
	tap_ok(isnan(r.price) && npoints(s, "NOQ") == 0,
	       "a NaN price adds no point");

	/* Dedup by quote time. */
	recs[0] = quote("BATCH", 102, NOW - 10);
	tap_int(tx_apply_batch(s, recs, 1, NOW + 60, &err), 0,
	        "the same quote time again");
	tap_int(npoints(s, "BATCH"), 1, "... adds no second point");
	tap_ok(tx_history(s, "BATCH", INT64_MIN, INT64_MAX, 1, 0, &pts, &n,
	                  &err) == 1 &&
	               n == 1 && pts[0].price == 101.25,
	       "... and keeps the first point as it was");
	free(pts);
	tx_apply_batch(s, recs, 1, NOW + 61, &err);
	tap_int(npoints(s, "BATCH"), 1, "... nor a third time");
	tx_sym_get(s, "BATCH", &r, &err);
	tap_int(r.updated_at, NOW + 61, "... but the record is refreshed");
	recs[0] = quote("BATCH", 103, NOW + 50);
	tx_apply_batch(s, recs, 1, NOW + 120, &err);
	tap_int(npoints(s, "BATCH"), 2, "a new quote time adds a point");

	tap_int(tx_apply_batch(s, recs, 0, NOW, &err), 0,
	        "an empty batch is fine");
	recs[0] = quote("BATCH", 1, NOW + 500);
	recs[1] = quote("", 1, NOW + 500);
	tap_int(tx_apply_batch(s, recs, 2, NOW + 500, &err), -1,
	        "a batch with an empty symbol fails");
	tx_sym_get(s, "BATCH", &r, &err);
	tap_ok(r.price == 103 && npoints(s, "BATCH") == 2,
	       "... and writes none of it");
}

static int
check_points(struct ps_store *s, const char *sym, int64_t from, int64_t to,
             size_t limit, const int64_t *want, size_t nwant, const char *name)
{
	struct ps_point *pts = NULL;
	struct ps_err err = {0};
	size_t n = 0, i;
	int rc, ok;

	rc = tx_history(s, sym, from, to, limit, 0, &pts, &n, &err);
	ok = rc == 1 && n == nwant;
	for (i = 0; ok && i < n; i++)
		ok = pts[i].time == want[i] && pts[i].price == want[i] / 10.0;
	tap_ok(ok, "%s", name);
	if (!ok) {
		tap_diag("rc %d n %zu (%s)", rc, n, err.msg);
		for (i = 0; i < n; i++)
			tap_diag("  %lld %g", (long long)pts[i].time,
			         pts[i].price);
	}
	free(pts);
	return ok;
}

static void
test_history(struct ps_store *s)
{
	const char *syms[] = {"H", "HA", "G", "ZZZZ"};
	const int64_t all[] = {-5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
	struct ps_symrec recs[11];
	struct ps_point *pts = (struct ps_point *)1;
	struct ps_err err = {0};
	size_t i, n = 7;

	add_syms(s, syms, 4);
	for (i = 0; i < 11; i++)
		recs[i] = quote("H", all[i] / 10.0, all[i]);
	tx_apply_batch(s, recs, 11, NOW, &err);
	for (i = 0; i < 11; i++)
		recs[i] = quote(i % 2 ? "G" : "HA", 1, 1000 + (int64_t)i);
	tx_apply_batch(s, recs, 11, NOW, &err);
	for (i = 0; i < 11; i++)
		recs[i] = quote("ZZZZ", all[i] / 10.0, all[i]);
	tx_apply_batch(s, recs, 11, NOW, &err);

	check_points(s, "H", INT64_MIN, INT64_MAX, SIZE_MAX, all, 11,
	             "all points, oldest first");
	check_points(s, "ZZZZ", INT64_MIN, INT64_MAX, SIZE_MAX, all, 11,
	             "all points of the last symbol in the database");
	check_points(s, "H", INT64_MIN, INT64_MAX, 3, all + 8, 3,
	             "limit 3: the newest three, oldest first");
	check_points(s, "ZZZZ", INT64_MIN, INT64_MAX, 2, all + 9, 2,
	             "limit 2 on the last symbol");
	check_points(s, "H", 25, 65, SIZE_MAX, all + 3, 4,
	             "from 25 to 65: 30..60");
	check_points(s, "H", 30, 60, SIZE_MAX, all + 3, 4,
	             "from and to are inclusive");
	check_points(s, "H", 30, 60, 2, all + 5, 2, "a range and a limit");
	check_points(s, "H", INT64_MIN, 0, SIZE_MAX, all, 1,
	             "a negative time sorts first");
	check_points(s, "H", 101, INT64_MAX, SIZE_MAX, NULL, 0,
	             "after the last point: none");
	check_points(s, "H", INT64_MIN, -6, SIZE_MAX, NULL, 0,
	             "before the first point: none");
	check_points(s, "H", 60, 30, SIZE_MAX, NULL, 0, "from > to: none");
	check_points(s, "H", INT64_MIN, INT64_MAX, 0, NULL, 0, "limit 0: none");
	tap_int(tx_history(s, "NOPE", INT64_MIN, INT64_MAX, 10, 0, &pts, &n,
	                   &err),
	        0, "history of an unknown symbol is 0");
	tap_ok(pts == NULL && n == 0, "... with no points");
	check_points(s, "BATCH", INT64_MIN, INT64_MAX, 0, NULL, 0,
	             "a known symbol with limit 0 is still 1");
}

static void
test_settings(struct ps_store *s)
{
	const char *keys[] = {"last_synced", "fx_rate", "absent", "fx_pair"};
	const char *vals[] = {"2026-11-25T09:30:00Z", "0.7891", NULL, "USDGBP"};
	const char *del[] = {NULL};
	char *got[4] = {NULL}, *v = (char *)1;
	struct ps_err err = {0};
	size_t i;

	tap_int(tx_setting_get(s, "last_synced", &v, &err), 0,
	        "an absent setting is 0");
	tap_ok(v == NULL, "... and NULL");
	tap_int(tx_setting_put(s, "last_synced", "x", &err), 0, "put");
	tap_int(tx_setting_get(s, "last_synced", &v, &err), 1, "get");
	tap_str(v, "x", "... round trip");
	free(v);
	tap_int(tx_settings_put(s, keys, vals, 4, &err), 0,
	        "put several in one transaction");
	tap_int(tx_settings_get(s, keys, got, 4, &err), 0,
	        "get several in one transaction");
	tap_ok(got[0] && got[1] && !got[2] && got[3] &&
	               strcmp(got[0], vals[0]) == 0 &&
	               strcmp(got[1], vals[1]) == 0 &&
	               strcmp(got[3], vals[3]) == 0,
	       "... the values, NULL for the absent one");
	for (i = 0; i < 4; i++)
		free(got[i]);
	tap_int(tx_settings_put(s, keys + 1, del, 1, &err), 0,
	        "a NULL value deletes");
	tap_int(tx_setting_get(s, "fx_rate", &v, &err), 0, "... gone");
	tap_int(tx_setting_put(s, "fx_rate", NULL, &err), 0,
	        "deleting an absent key is fine");
	tap_int(tx_setting_put(s, "", "v", &err), -1,
	        "an empty key is refused");
	tap_int(tx_setting_put(s, "empty", "", &err), 0,
	        "an empty value is stored");
	tx_setting_get(s, "empty", &v, &err);
	tap_str(v, "", "... and read back");
	free(v);
}

static void
test_requests(struct ps_store *s)
{
	struct ps_err err = {0};
	char *day = NULL;
	long c = -1;

	tap_int(tx_requests_add(s, NOW, 0, &c, &err), 0, "read counter");
	tap_int(c, 0, "... starts at 0");
	tx_requests_add(s, NOW, 3, &c, &err);
	tap_int(c, 3, "add 3");
	tx_requests_add(s, NOW + 3600, 2, &c, &err);
	tap_int(c, 5, "add 2 later the same day");
	tx_requests_add(s, NOW + 3600, 0, &c, &err);
	tap_int(c, 5, "delta 0 reads it");
	tx_setting_get(s, "requests_day", &day, &err);
	tap_str(day, "2026-11-25", "requests_day is the UTC day");
	free(day);
	tx_requests_add(s, NOW + DAY, 0, &c, &err);
	tap_int(c, 0, "the next day reads 0");
	tx_requests_add(s, NOW + DAY, 4, &c, &err);
	tap_int(c, 4, "the next day counts from 0");
	tx_setting_get(s, "requests_day", &day, &err);
	tap_str(day, "2026-11-26", "requests_day rolled over");
	free(day);
	tx_requests_add(s, NOW, 0, &c, &err);
	tap_int(c, 0, "the old day no longer counts");
}

/* Fills a 1 MiB map: every failed write is a clean PS_ESTORE and what was
 * committed before stays readable. */
static void
test_map_full(const char *tmp)
{
	struct ps_store *s = NULL;
	struct ps_symrec recs[50], r;
	struct ps_err err = {0};
	char *dir = path_join(tmp, "full");
	size_t i, added = 0, n = 0;
	int rc = 0, round;

	if (ps_store_open(&s, dir, 1, &err) < 0) {
		tap_ok(0, "open a 1 MiB store: %s", err.msg);
		free(dir);
		return;
	}
	for (round = 0; round < 10000 && rc == 0; round++) {
		for (i = 0; i < 50; i++) {
			char sym[16];

			snprintf(sym, sizeof(sym), "S%05zu", added + i);
			ps_symrec_init(&recs[i], sym);
			snprintf(recs[i].name, sizeof(recs[i].name),
			         "a long enough company name to fill pages %zu",
			         added + i);
		}
		rc = tx_sym_add(s, recs, 50, &err);
		if (rc == 0)
			added += 50;
	}
	tap_int(rc, -1, "adding symbols to a 1 MiB map fails at last");
	tap_diag("%zu symbols fit", added);
	tap_int(err.code, PS_ESTORE, "... with PS_ESTORE");
	tap_str(err.msg,
	        "database full (map_size_mb = 1): raise map_size_mb in the "
	        "config",
	        "... saying what to do");
	tap_int(tx_sym_count(s, &n, &err), 0, "the store still reads");
	tap_int((long long)n, (long long)added,
	        "... every committed batch is there, the failed one is not");
	tap_int(tx_sym_get(s, "S00000", &r, &err), 1,
	        "... the first symbol reads back");

	/* History growth fills it as well; the record update goes too. */
	rc = 0;
	for (round = 0; round < 100000 && rc == 0; round++) {
		for (i = 0; i < 50; i++)
			recs[i] = quote("S00000", (double)round,
			                (int64_t)round * 50 + (int64_t)i + 1);
		rc = tx_apply_batch(s, recs, 50, NOW + round, &err);
	}
	tap_int(rc, -1, "history growth fails at last");
	tap_ok(err.code == PS_ESTORE &&
	               strstr(err.msg, "database full") != NULL,
	       "... with database full (%s)", err.msg);
	tx_sym_get(s, "S00000", &r, &err);
	tap_int(r.updated_at, NOW + round - 2,
	        "... the last committed batch is intact, the failed one "
	        "absent");
	tap_int(npoints(s, "S00000"), (long)(round - 1) * 50,
	        "... history holds exactly the committed points");
	ps_store_close(&s);
	tap_int(ps_store_open(&s, dir, 1, &err), 0, "a full store reopens");
	tx_sym_count(s, &n, &err);
	tap_int((long long)n, (long long)added, "... with its data");
	ps_store_close(&s);
	free(dir);
}

struct worker {
	struct ps_store *s;
	int id, failures;
};

static void *
worker_run(void *p)
{
	struct worker *w = p;
	struct ps_symrec r;
	struct ps_err err;
	char sym[16];
	int i;

	snprintf(sym, sizeof(sym), "T%d", w->id);
	ps_symrec_init(&r, sym);
	if (tx_sym_add(w->s, &r, 1, &err) < 0)
		w->failures++;
	for (i = 1; i <= 40; i++) {
		r = quote(sym, i, i);
		if (tx_apply_batch(w->s, &r, 1, NOW, &err) < 0 ||
		    tx_sym_get(w->s, sym, &r, &err) != 1 || r.price != i)
			w->failures++;
	}
	return NULL;
}

static void
test_threads(struct ps_store *s)
{
	struct worker w[4];
	pthread_t t[4];
	int i, started = 0, failures = 0;

	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){.s = s, .id = i};
		if (pthread_create(&t[i], NULL, worker_run, &w[i]) == 0)
			started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		failures += w[i].failures;
	}
	tap_int(started, 4, "four threads share one store");
	tap_int(failures, 0, "... every write and read succeeded");
	tap_int(npoints(s, "T3"), 40, "... and every point is there");
}

/* The child writes batches forever, reporting each commit on a pipe. */
static void
crash_child(const char *dir, int fd)
{
	struct ps_store *s = NULL;
	struct ps_symrec recs[20];
	struct ps_err err;
	int64_t i, j;

	if (ps_store_open(&s, dir, 64, &err) < 0)
		_exit(1);
	for (i = 1;; i++) {
		for (j = 0; j < 20; j++)
			recs[j] = quote("K", (double)i, i * 20 + j);
		if (tx_apply_batch(s, recs, 20, i, &err) < 0)
			_exit(2);
		if (write(fd, &i, sizeof(i)) != sizeof(i))
			_exit(3);
	}
}

static void
test_crash(const char *tmp)
{
	struct ps_store *s = NULL;
	struct ps_symrec r;
	struct ps_err err = {0};
	char *dir = path_join(tmp, "crash");
	int64_t seen = 0, got;
	int fds[2], status = 0;
	const char *k[] = {"K"};
	pid_t pid;

	if (ps_store_open(&s, dir, 64, &err) < 0 || add_syms(s, k, 1) < 0 ||
	    pipe(fds) < 0) {
		tap_ok(0, "crash setup: %s", err.msg);
		free(dir);
		return;
	}
	ps_store_close(&s); /* the child opens its own env after fork */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		crash_child(dir, fds[1]);
	}
	close(fds[1]);
	while (seen < 30 && read(fds[0], &got, sizeof(got)) == sizeof(got))
		seen = got;
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	close(fds[0]);
	tap_ok(seen >= 30, "the child committed %lld batches", (long long)seen);
	tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	       "the child was killed mid-write");
	tap_int(ps_store_open(&s, dir, 64, &err), 0,
	        "the store opens after the kill");
	if (s == NULL) {
		tap_diag("%s", err.msg);
		free(dir);
		return;
	}
	tap_int(tx_sym_get(s, "K", &r, &err), 1, "K reads back");
	tap_ok(r.price >= (double)seen && r.updated_at >= seen,
	       "... with at least the last reported commit (%g)", r.price);
	tap_ok(npoints(s, "K") >= seen * 20 && npoints(s, "K") % 20 == 0,
	       "... history holds whole batches only (%ld)", npoints(s, "K"));
	r = quote("K", 1e6, INT64_MAX);
	tap_int(tx_apply_batch(s, &r, 1, NOW, &err), 0,
	        "a writer can write again (the dead writer's lock recovered)");
	ps_store_close(&s);
	free(dir);
}

/* What sync's batch write composes: the quotes, a setting and the request
 * count in one write transaction, which fails whole. */
static int
apply_with(struct ps_store *s, const struct ps_symrec *r, int64_t now,
           const char *key, const char *val, long requests, struct ps_err *err)
{
	struct ps_txn *t;

	if (ps_txn_begin(s, 1, &t, err) < 0)
		return -1;
	if (ps_store_apply_batch(t, r, 1, now, err) < 0 ||
	    ps_store_setting_put(t, key, val, err) < 0 ||
	    ps_settings_requests_add(t, now, requests, NULL, err) < 0) {
		ps_txn_abort(&t);
		return -1;
	}
	return ps_txn_commit(&t, err);
}

static void
test_apply_with(struct ps_store *s)
{
	struct ps_symrec r;
	struct ps_err err;
	const char *key = "progress", *val = "{\"type\":\"progress\"}";
	char *got = NULL;
	long before = 0, after = 0;
	int64_t now = 1795599000;

	ps_symrec_init(&r, "WITH");
	tx_sym_add(s, &r, 1, &err);
	tx_requests_add(s, now, 0, &before, &err);
	r.price = 12.5;
	r.quote_time = 1762549202;
	tap_int(apply_with(s, &r, now, key, val, 3, &err), 0,
	        "one transaction commits quotes, a setting and requests");
	tx_requests_add(s, now, 0, &after, &err);
	tap_int(after - before, 3, "the request count moved by 3");
	tap_int(tx_setting_get(s, "progress", &got, &err), 1,
	        "the setting is there");
	tap_str(got, val, "with its value");
	free(got);
	tx_sym_get(s, "WITH", &r, &err);
	tap_dbl(r.price, 12.5, "and the quote");
	/* An empty key fails the whole transaction: the quote stays out. */
	key = "";
	r.price = 99;
	r.quote_time = 1762549999;
	tap_int(apply_with(s, &r, now, key, val, 5, &err), -1,
	        "a bad setting fails the batch");
	tx_requests_add(s, now, 0, &before, &err);
	tap_int(before, after, "and the request count did not move");
	tx_sym_get(s, "WITH", &r, &err);
	tap_dbl(r.price, 12.5, "nor the quote");
}

static uint64_t
revision(struct ps_store *s)
{
	struct ps_txn *t;
	uint64_t rev = UINT64_MAX;

	if (ps_txn_begin(s, 0, &t, NULL) == 0) {
		ps_store_revision(t, &rev, NULL);
		ps_txn_abort(&t);
	}
	return rev;
}

/* A caller's transaction: several writes commit or abort whole, a read
 * sees one snapshot, and the revision moves with each commit only. */
static void
test_txn(struct ps_store *s)
{
	struct ps_symrec a, b, got;
	struct ps_txn *t = NULL, *r = NULL;
	struct ps_err err;
	uint64_t rev0 = revision(s), rev;

	ps_symrec_init(&a, "TXA");
	ps_symrec_init(&b, "TXB");
	tap_int(ps_txn_begin(s, 1, &t, &err), 0, "txn: begin a write");
	tap_int(ps_store_sym_add(t, &a, 1, &err), 0, "txn: add one");
	tap_int(ps_store_sym_get(t, "TXA", &got, &err), 1,
	        "txn: the write sees its own write");
	ps_store_sym_add(t, &b, 1, &err);
	ps_txn_abort(&t);
	tap_ok(t == NULL, "txn: abort clears the handle");
	tap_int(tx_sym_get(s, "TXA", &got, &err), 0, "txn: abort keeps none");
	tap_int((long long)(revision(s) - rev0), 0,
	        "txn: an aborted write leaves the revision");
	ps_txn_begin(s, 0, &r, &err);
	ps_store_revision(r, &rev, &err);
	tap_int((long long)(rev - rev0), 0, "txn: a reader's revision");
	ps_txn_begin(s, 1, &t, &err);
	ps_store_sym_add(t, &a, 1, &err);
	ps_store_sym_add(t, &b, 1, &err);
	tap_int(ps_txn_commit(&t, &err), 0, "txn: commit two adds");
	tap_ok(t == NULL, "txn: commit clears the handle");
	tap_int(ps_store_sym_get(r, "TXA", &got, &err), 0,
	        "txn: a reader begun before keeps its snapshot");
	ps_store_revision(r, &rev, &err);
	tap_int((long long)(rev - rev0), 0, "txn: ... and its revision");
	ps_txn_commit(&r, &err);
	tap_int(tx_sym_get(s, "TXB", &got, &err), 1, "txn: both committed");
	tap_int((long long)(revision(s) - rev0), 1,
	        "txn: one commit bumps the revision by one");
	tx_sym_count(s, &(size_t){0}, &err);
	tap_int((long long)(revision(s) - rev0), 1,
	        "txn: a read does not bump it");
	ps_txn_abort(&t);
	ps_txn_abort(NULL);
	tap_ok(1, "txn: abort is safe on NULL");
	tx_sym_remove(s, (const char *[]){"TXA", "TXB"}, 2, &err);
}

/* Walking the symbols in pieces of any size gives each once, in order. */
static void
test_range(const char *tmp)
{
	struct ps_symrec recs[40], out[7];
	char *dir = path_join(tmp, "range"), last[sizeof(recs[0].symbol)] = "";
	struct ps_store *s = NULL;
	struct ps_txn *t;
	struct ps_err err;
	size_t i, n, seen = 0, calls = 0;
	int ordered = 1;

	if (!tap_int(ps_store_open(&s, dir, 16, &err), 0, "range: open")) {
		free(dir);
		return;
	}
	ps_txn_begin(s, 0, &t, &err);
	tap_int(ps_store_sym_range(t, NULL, out, 7, &n, &err), 0,
	        "range: an empty store");
	tap_int((long long)n, 0, "range: ... has no records");
	ps_txn_abort(&t);
	for (i = 0; i < 40; i++) {
		char sym[16];

		snprintf(sym, sizeof(sym), "S%02zu", 39 - i);
		ps_symrec_init(&recs[i], sym);
	}
	tx_sym_add(s, recs, 40, &err);
	ps_txn_begin(s, 0, &t, &err);
	do {
		if (ps_store_sym_range(t, last, out, 7, &n, &err) < 0)
			break;
		for (i = 0; i < n; i++) {
			ordered &= strcmp(out[i].symbol, last) > 0;
			memcpy(last, out[i].symbol, sizeof(last));
		}
		seen += n;
		calls++;
	} while (n == 7);
	tap_int((long long)seen, 40, "range: 40 symbols in pieces of 7");
	tap_int((long long)calls, 6, "range: in 6 ranges");
	tap_ok(ordered, "range: each once, in symbol order");
	ps_store_sym_range(t, "S10", out, 2, &n, &err);
	tap_ok(n == 2 && !strcmp(out[0].symbol, "S11") &&
	               !strcmp(out[1].symbol, "S12"),
	       "range: after an existing symbol starts at the next");
	ps_store_sym_range(t, "S105", out, 1, &n, &err);
	tap_ok(n == 1 && !strcmp(out[0].symbol, "S11"),
	       "range: after an absent one starts at the next that sorts "
	       "after it");
	ps_store_sym_range(t, "S39", out, 7, &n, &err);
	tap_int((long long)n, 0, "range: after the last, none");
	ps_txn_abort(&t);
	ps_store_close(&s);
	free(dir);
}

/* The resident kB of file-backed pages (the map's among them). */
static long
rss_file_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "RssFile: %ld", &kb) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kb;
}

/* Shedding the map's pages drops them from this process's resident set
 * and changes nothing a reader sees, even inside an open transaction. */
static void
test_shed(const char *tmp)
{
	static struct ps_symrec recs[3000], out[3000];
	char *dir = path_join(tmp, "shed");
	struct ps_store *s = NULL;
	struct ps_txn *t;
	struct ps_err err;
	size_t i, n = 0;
	long before, after;
	int same = 1;

	if (!tap_int(ps_store_open(&s, dir, 64, &err), 0, "shed: open")) {
		free(dir);
		return;
	}
	for (i = 0; i < 3000; i++) {
		char sym[16];

		snprintf(sym, sizeof(sym), "SH%04zu", i);
		recs[i] = quote(sym, (double)i, NOW);
	}
	tx_sym_add(s, recs, 3000, &err);
	ps_txn_begin(s, 0, &t, &err);
	ps_store_sym_range(t, NULL, out, 3000, &n, &err);
	before = rss_file_kb();
	ps_store_shed(s);
	after = rss_file_kb();
	tap_ok(before > 0 && after < before - 256,
	       "shed: the walked pages leave the resident set (%ld -> %ld "
	       "kB)",
	       before, after);
	ps_store_sym_range(t, NULL, out, 3000, &n, &err);
	for (i = 0; i < n; i++)
		same &= strcmp(out[i].symbol, recs[i].symbol) == 0 &&
		        out[i].price == recs[i].price;
	tap_ok(n == 3000 && same, "shed: the open reader reads the same");
	ps_txn_abort(&t);
	ps_store_close(&s);
	free(dir);
}

/* A profile found for a symbol whose quote failed is kept, and so is the
 * time of the call (issue 9, defect 8). */
static void
test_apply_profile(struct ps_store *s)
{
	struct ps_symrec r;
	struct ps_err err;

	ps_symrec_init(&r, "GONE.DE");
	tx_sym_add(s, &r, 1, &err);
	r = failed("GONE.DE", "not returned by FMP");
	r.profile_at = NOW - 5;
	tap_int(tx_apply_batch(s, &r, 1, NOW, &err), 0,
	        "a failed quote with a profile call");
	tx_sym_get(s, "GONE.DE", &r, &err);
	tap_int(r.profile_at, NOW - 5, "... profile_at stored");
	tap_int(r.updated_at, 0, "... still never updated");
	r = failed("GONE.DE", "not returned by FMP");
	snprintf(r.currency, sizeof(r.currency), "CHF");
	r.currency_src = PS_CCY_PROFILE;
	tx_apply_batch(s, &r, 1, NOW, &err);
	tx_sym_get(s, "GONE.DE", &r, &err);
	tap_ok(strcmp(r.currency, "CHF") == 0 &&
	               r.currency_src == PS_CCY_PROFILE,
	       "... a profile currency is kept though the quote failed");
	tap_int(r.profile_at, NOW - 5, "... an older or absent call keeps it");
}

/* The other process of test_map_resized (this program run again with
 * --grow DIR): opens DIR with a 16 MiB map and writes 2.5 MiB into it, far
 * past the 1 MiB map of the process that waits for it. */
static int
grow_main(const char *dir)
{
	struct ps_store *s = NULL;
	struct ps_err err;
	char key[16], *big = malloc(64 * 1024 + 1);
	int i, rc = 0;

	if (big == NULL || ps_store_open(&s, dir, 16, &err) < 0)
		return 1;
	memset(big, 'x', 64 * 1024);
	big[64 * 1024] = '\0';
	for (i = 0; i < 40 && rc == 0; i++) {
		snprintf(key, sizeof(key), "big%d", i);
		rc = tx_setting_put(s, key, big, &err);
	}
	if (rc == 0)
		rc = tx_setting_put(s, "grown", "yes", &err);
	if (rc < 0)
		fprintf(stderr, "grow: %s\n", err.msg);
	ps_store_close(&s);
	free(big);
	return rc < 0 ? 2 : 0;
}

struct reader {
	struct ps_store *s;
	volatile int *stop;
	long reads, failures;
	char why[512];
};

/* Reads until told to stop, then 50 times more: some of those reads see
 * the grown map and adopt it while the other threads read too. */
static void *
reader_run(void *p)
{
	struct reader *r = p;
	struct ps_symrec rec;
	struct ps_err err;
	int after = 0;

	while (after < 50) {
		if (__atomic_load_n(r->stop, __ATOMIC_ACQUIRE))
			after++;
		r->reads++;
		if (tx_sym_get(r->s, "R", &rec, &err) != 1) {
			r->failures++;
			memcpy(r->why, err.msg, sizeof(r->why));
		}
	}
	return NULL;
}

/* Another process grows the map past this one's while this one keeps its
 * store open (an operator raised map_size_mb, then the CLI wrote): the
 * next transaction here adopts the new size instead of failing with
 * MDB_MAP_RESIZED for the rest of the process's life. */
static void
test_map_resized(const char *tmp, const char *self)
{
	struct ps_store *s = NULL;
	struct ps_err err = {0};
	char *dir = path_join(tmp, "resized"), *got = NULL;
	const char *k[] = {"R"};
	struct reader rd[3];
	pthread_t t[3];
	volatile int stop = 0;
	size_t n = 0;
	int status = -1, i, started = 0;
	long failures = 0;
	pid_t pid;

	if (ps_store_open(&s, dir, 1, &err) < 0 || add_syms(s, k, 1) < 0) {
		tap_ok(0, "resize setup: %s", err.msg);
		free(dir);
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl(self, self, "--grow", dir, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 3; i++) {
		rd[i] = (struct reader){.s = s, .stop = &stop};
		if (pthread_create(&t[i], NULL, reader_run, &rd[i]) == 0)
			started++;
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		failures += rd[i].failures;
		if (rd[i].failures)
			tap_diag("reader %d: %s", i, rd[i].why);
	}
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "another process wrote 2.5 MiB with a 16 MiB map (%d)", status);
	tap_int(started, 3, "three threads read meanwhile");
	tap_int(failures, 0, "... and every read succeeded, after it too");
	ps_err_clear(&err);
	tap_ok(tx_setting_get(s, "grown", &got, &err) == 1,
	       "this process, open on a 1 MiB map, reads after it: %s",
	       err.msg);
	tap_str(got, "yes", "... what the other process wrote");
	free(got);
	got = NULL;
	tap_int(tx_setting_get(s, "big39", &got, &err), 1,
	        "... even past its old map's end");
	tap_int(got ? (long long)strlen(got) : -1, 64 * 1024, "... all of it");
	free(got);
	tap_ok(tx_setting_put(s, "after", "1", &err) == 0, "... and writes: %s",
	       err.msg);
	tap_int(tx_sym_count(s, &n, &err), 0, "... and reads again");
	tap_int((long long)n, 1, "... its own data too");
	ps_store_close(&s);
	free(dir);
}

int
main(int argc, char **argv)
{
	struct ps_store *s = NULL;
	struct ps_err err = {0};
	char *tmp, *dir;

	if (argc == 3 && strcmp(argv[1], "--grow") == 0)
		return grow_main(argv[2]);
	tmp = tap_tmpdir();
	if (!tap_ok(tmp != NULL, "temporary directory"))
		return tap_done();
	test_open_close(tmp);
	test_schema(tmp);
	dir = path_join(tmp, "main");
	if (tap_int(ps_store_open(&s, dir, 64, &err), 0,
	            "open the main store")) {
		test_symbols(s);
		test_remove(s);
		test_apply(s);
		test_history(s);
		test_settings(s);
		test_requests(s);
		test_apply_with(s);
		test_txn(s);
		test_apply_profile(s);
		test_threads(s);
		ps_store_close(&s);
	} else {
		tap_diag("%s", err.msg);
	}
	free(dir);
	test_range(tmp);
	test_shed(tmp);
	test_map_full(tmp);
	test_map_resized(tmp, argv[0]);
	test_crash(tmp);
	tap_rmrf(tmp);
	free(tmp);
	return tap_done();
}
