/*
 * t-sync-run: the sync module (lib/sync.c) driven directly against the fake
 * FMP (tests/fake_fmp.py), for what the CLI tests cannot see: the order in
 * which batches are walked and requested, symbols removed or added while a
 * sync runs, the caller's policy, the switch to single mode, the failures
 * list, and a 5,000-symbol run whose symbols in hand stay bounded. What
 * was requested is read from the fake's request log (GET /_stats), from
 * inside the event callback where the test needs "so far".
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "buf.h"
#include "conf.h"
#include "settings.h"
#include "store.h"
#include "sync.h"
#include "fakefmp.h"
#include "tap.h"
#include "txn.h"

static char fake_url[64];

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	return ps_buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

/* One request to the fake's test endpoints; its JSON answer, or NULL. */
static cJSON *
fake_call(const char *path, const char *post)
{
	struct ps_buf body = {0};
	char url[128];
	CURL *h = curl_easy_init();
	cJSON *doc = NULL;

	snprintf(url, sizeof(url), "%s%s", fake_url, path);
	if (h == NULL)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	if (post != NULL)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
	if (curl_easy_perform(h) == CURLE_OK && body.data != NULL)
		doc = cJSON_Parse(body.data);
	curl_easy_cleanup(h);
	ps_buf_free(&body);
	return doc;
}

static void
fake_set(const char *control)
{
	cJSON_Delete(fake_call("/_reset", "{\"state\": true}"));
	if (control != NULL)
		cJSON_Delete(fake_call("/_control", control));
}

static int
is_quote_path(const char *p)
{
	return strcmp(p, "/stable/batch-quote") == 0 ||
	       strcmp(p, "/stable/quote") == 0;
}

/* The quote requests of the log (the fx ones left out), in the order they
 * started: an array of arrays of symbols; caller deletes. */
static cJSON *
quote_requests(void)
{
	cJSON *st = fake_call("/_stats", NULL), *out = cJSON_CreateArray();
	cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItem(st, "log"))
	{
		cJSON *path = cJSON_GetObjectItem(e, "path");
		cJSON *syms = cJSON_GetObjectItem(e, "symbols");
		cJSON *first = cJSON_GetArrayItem(syms, 0);

		if (!cJSON_IsString(path) || !is_quote_path(path->valuestring))
			continue;
		if (cJSON_GetArraySize(syms) == 1 && cJSON_IsString(first) &&
		    strcmp(first->valuestring, "USDGBP") == 0)
			continue;
		cJSON_AddItemToArray(out, cJSON_Duplicate(syms, 1));
	}
	cJSON_Delete(st);
	return out;
}

static int
count_path(const char *path)
{
	cJSON *st = fake_call("/_stats", NULL), *e;
	int n = 0;

	cJSON_ArrayForEach(e, cJSON_GetObjectItem(st, "log"))
	{
		cJSON *p = cJSON_GetObjectItem(e, "path");

		n += cJSON_IsString(p) && strcmp(p->valuestring, path) == 0;
	}
	cJSON_Delete(st);
	return n;
}

/* 1 when sym was named by some quote request. */
static int
requested(const cJSON *reqs, const char *sym)
{
	const cJSON *r, *s;

	cJSON_ArrayForEach(r, reqs) cJSON_ArrayForEach(s, r)
	{
		if (strcmp(s->valuestring, sym) == 0)
			return 1;
	}
	return 0;
}

static int
n_requested(const cJSON *reqs)
{
	const cJSON *r;
	int n = 0;

	cJSON_ArrayForEach(r, reqs) n += cJSON_GetArraySize(r);
	return n;
}

/* ---- one store and config per scenario ---- */

struct world {
	char *dir;
	struct ps_store *s;
	struct ps_conf c;
};

static int
world_open(struct world *w, int batch_size, int concurrency)
{
	struct ps_err err;

	memset(w, 0, sizeof(*w));
	w->dir = tap_tmpdir();
	if (w->dir == NULL || ps_store_open(&w->s, w->dir, 64, &err) < 0 ||
	    ps_conf_defaults(&w->c, &err) < 0)
		return tap_ok(0, "a store and a config");
	free(w->c.fmp_base_url);
	w->c.fmp_base_url = strdup(fake_url);
	w->c.base_url_is_default = 0;
	w->c.batch_size = batch_size;
	w->c.concurrency = concurrency;
	w->c.retries = 0;
	w->c.min_interval_s = 0;
	return 1;
}

static void
world_close(struct world *w)
{
	ps_conf_free(&w->c);
	ps_store_close(&w->s);
	if (w->dir != NULL)
		tap_rmrf(w->dir);
	free(w->dir);
}

static int
add(struct ps_store *s, const char *sym)
{
	struct ps_symrec r;
	struct ps_err err;

	ps_symrec_init(&r, sym);
	return tx_sym_add(s, &r, 1, &err);
}

static int
add_n(struct ps_store *s, const char *fmt, int n)
{
	char sym[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(sym, sizeof(sym), fmt, i);
		if (add(s, sym) < 0)
			return -1;
	}
	return 0;
}

static int
sym_get(struct ps_store *s, const char *sym, struct ps_symrec *r)
{
	struct ps_err err;

	return tx_sym_get(s, sym, r, &err);
}

/* ---- what a sync said ---- */

struct seen {
	int starts, progress, completes, errors, rules_ok;
	long total, batches, last_batch, done, updated, failed;
	int batch_errors;
	enum ps_code code;
	long retry_after;
	char mode[8];
	struct ps_buf failed_names; /* "A,B,..." of complete, sorted */
	/* called after each event is recorded, for changes mid-sync */
	void (*hook)(struct seen *sn, const struct ps_event *ev);
	void *arg;
};

static void
see_progress(struct seen *sn, const struct ps_event *ev)
{
	sn->progress++;
	/* SPEC §4: batch counts the finished ones; counts never go down;
	 * done = updated + failed. */
	if (ev->batch != sn->last_batch + 1 || ev->batches != sn->batches ||
	    ev->total != sn->total || ev->done != ev->updated + ev->failed ||
	    ev->done < sn->done || ev->done > sn->total ||
	    ev->failed - sn->failed != (long)ev->n_failed_symbols)
		sn->rules_ok = 0;
	sn->last_batch = ev->batch;
	sn->done = ev->done;
	sn->updated = ev->updated;
	sn->failed = ev->failed;
	sn->batch_errors += ev->error != NULL;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "A,B,..." sorted: the event lists them in the order batches ended. */
static void
sorted_names(struct ps_buf *out, const char *const *names, size_t n)
{
	const char **v = calloc(n + 1, sizeof(*v));
	size_t i;

	if (v == NULL)
		return;
	memcpy(v, names, n * sizeof(*v));
	qsort(v, n, sizeof(*v), by_name);
	for (i = 0; i < n; i++)
		ps_buf_printf(out, "%s%s", i ? "," : "", v[i]);
	free(v);
}

static void
on_event(const struct ps_event *ev, void *arg)
{
	struct seen *sn = arg;

	switch (ev->type) {
	case PS_EV_START:
		sn->starts++;
		sn->total = ev->total;
		sn->batches = ev->batches;
		break;
	case PS_EV_PROGRESS:
		see_progress(sn, ev);
		break;
	case PS_EV_COMPLETE:
		sn->completes++;
		sn->updated = ev->updated;
		sn->failed = ev->failed;
		snprintf(sn->mode, sizeof(sn->mode), "%s", ev->mode);
		sorted_names(&sn->failed_names, ev->failed_symbols,
		             ev->n_failed_symbols);
		break;
	case PS_EV_ERROR:
		sn->errors++;
		sn->code = ev->code;
		sn->retry_after = ev->retry_after;
		break;
	}
	if (sn->hook != NULL)
		sn->hook(sn, ev);
}

static int
run_sync(struct world *w, const struct ps_sync_policy *p, struct seen *sn)
{
	struct ps_err err;
	void (*hook)(struct seen *, const struct ps_event *) = sn->hook;
	void *arg = sn->arg;

	ps_buf_free(&sn->failed_names);
	memset(sn, 0, sizeof(*sn));
	sn->rules_ok = 1;
	sn->hook = hook;
	sn->arg = arg;
	return ps_sync_run(&w->c, w->s, p, on_event, sn, &err);
}

/* ---- the scenarios ---- */

/* Batches are walked in symbol order, each read and requested whole, and
 * their results land on their own symbols. */
static void
test_batches(void)
{
	struct world w;
	struct seen sn = {0};
	struct ps_symrec r;
	cJSON *reqs, *req;
	const char *want[] = {"S00,S01,S02", "S03,S04,S05", "S06,S07"};
	int i = 0, prices_ok = 1;

	if (!world_open(&w, 3, 1))
		return;
	fake_set("{\"prices\": {\"S01\": 11.5, \"S04\": 44.25, "
	         "\"S07\": 77}}");
	add_n(w.s, "S%02d", 8); /* S00 .. S07 */
	tap_int(run_sync(&w, NULL, &sn), 0, "batches: complete");
	tap_ok(sn.rules_ok, "batches: the events follow SPEC §4");
	tap_ok(sn.total == 8 && sn.batches == 3 && sn.progress == 3,
	       "batches: 8 symbols, 3 batches of 3, 3 progress events (%ld "
	       "%ld %d)",
	       sn.total, sn.batches, sn.progress);
	tap_int(sn.updated, 8, "batches: every symbol updated");
	reqs = quote_requests();
	tap_int(cJSON_GetArraySize(reqs), 3, "batches: 3 quote requests");
	cJSON_ArrayForEach(req, reqs)
	{
		struct ps_buf b = {0};
		cJSON *s;

		cJSON_ArrayForEach(s, req) ps_buf_printf(
		        &b, "%s%s", s == req->child ? "" : ",", s->valuestring);
		tap_str(b.data, i < 3 ? want[i] : "",
		        "batches: in symbol order");
		i++;
		ps_buf_free(&b);
	}
	cJSON_Delete(reqs);
	for (i = 0; i < 8; i++) {
		char sym[8];
		double p[] = {NAN, 11.5, NAN, NAN, 44.25, NAN, NAN, 77};

		snprintf(sym, sizeof(sym), "S%02d", i);
		if (sym_get(w.s, sym, &r) != 1 || r.updated_at == 0 ||
		    r.error[0] != '\0' || (!isnan(p[i]) && r.price != p[i]))
			prices_ok = 0;
	}
	tap_ok(prices_ok, "batches: each result on its own symbol");
	ps_buf_free(&sn.failed_names);
	world_close(&w);
}

/* Made at the start event: the counts are fixed, no batch is read yet. */
static void
remove_a3(struct seen *sn, const struct ps_event *ev)
{
	const char *gone = "A3";
	struct world *w = sn->arg;
	struct ps_err err;

	if (ev->type == PS_EV_START)
		tx_sym_remove(w->s, &gone, 1, &err);
}

static void
add_a35(struct seen *sn, const struct ps_event *ev)
{
	struct world *w = sn->arg;

	if (ev->type == PS_EV_START)
		add(w->s, "A35");
}

/* A symbol removed before its batch is read is in neither count; one
 * added after the walk's position is synced in place of the last, which
 * waits for the next sync (lib/sync.c's Limits). */
static void
test_changes(void)
{
	struct world w;
	struct seen sn = {.hook = remove_a3, .arg = &w};
	struct ps_symrec r;
	cJSON *reqs;

	if (!world_open(&w, 2, 1))
		return;
	fake_set(NULL);
	add_n(w.s, "A%d", 7); /* A0 .. A6 */
	tap_int(run_sync(&w, NULL, &sn), 0, "removed: complete");
	tap_ok(sn.rules_ok && sn.progress == 4 && sn.total == 7,
	       "removed: 7 symbols, 4 progress events (%d)", sn.progress);
	tap_ok(sn.updated == 6 && sn.failed == 0,
	       "removed: 6 updated, none failed (%ld, %ld)", sn.updated,
	       sn.failed);
	reqs = quote_requests();
	tap_ok(!requested(reqs, "A3") && requested(reqs, "A6") &&
	               n_requested(reqs) == 6,
	       "removed: never asked for, the others were");
	cJSON_Delete(reqs);
	world_close(&w);

	if (!world_open(&w, 2, 1))
		return;
	fake_set(NULL);
	add_n(w.s, "A%d", 7);
	sn.hook = add_a35;
	tap_int(run_sync(&w, NULL, &sn), 0, "added: complete");
	tap_ok(sn.rules_ok && sn.updated == 7 && sn.total == 7,
	       "added: 7 updated of 7");
	tap_ok(sym_get(w.s, "A35", &r) == 1 && r.updated_at != 0,
	       "added: the new symbol was synced");
	tap_ok(sym_get(w.s, "A6", &r) == 1 && r.updated_at == 0,
	       "added: the last one waits for the next sync");
	sn.hook = NULL;
	tap_int(run_sync(&w, NULL, &sn), 0, "added: the next sync");
	tap_ok(sym_get(w.s, "A6", &r) == 1 && r.updated_at != 0 &&
	               sn.total == 8 && sn.updated == 8,
	       "added: ... syncs all 8");
	ps_buf_free(&sn.failed_names);
	world_close(&w);
}

/* The cooldown is the caller's to ask for (the HTTP program does). */
static void
test_policy(void)
{
	const struct ps_sync_policy web = {.enforce_cooldown = 1};
	const struct ps_sync_policy none = {0};
	struct world w;
	struct seen sn = {0};

	if (!world_open(&w, 10, 2))
		return;
	fake_set(NULL);
	add_n(w.s, "P%d", 3);
	w.c.min_interval_s = 30;
	tap_int(run_sync(&w, NULL, &sn), 0, "policy: no policy, complete");
	tap_int(run_sync(&w, &web, &sn), -1,
	        "policy: cooldown asked for, a sync just ran: refused");
	tap_ok(sn.code == PS_ECOOLDOWN && sn.starts == 0 && sn.errors == 1,
	       "policy: ... cooldown, its error event only");
	tap_ok(sn.retry_after > 0 && sn.retry_after <= 30,
	       "policy: ... retry after %ld s", sn.retry_after);
	tap_int(run_sync(&w, &none, &sn), 0,
	        "policy: cooldown not asked for: complete");
	tap_int(run_sync(&w, NULL, &sn), 0, "policy: NULL: complete");
	w.c.min_interval_s = 0;
	tap_int(run_sync(&w, &web, &sn), 0,
	        "policy: cooldown asked for, min_interval_s 0: complete");
	ps_buf_free(&sn.failed_names);
	world_close(&w);
}

/* A plan without batch quotes: the refused batches and every later one
 * go one by one; the next sync starts so; a forced batch mode stops. */
static void
test_single(void)
{
	struct world w;
	struct seen sn = {0};
	struct ps_err err;
	int64_t since = 0;
	cJSON *reqs;
	int nbatch;

	if (!world_open(&w, 2, 1))
		return;
	fake_set("{\"plan\": \"starter\"}");
	add_n(w.s, "Q%d", 5);
	tap_int(run_sync(&w, NULL, &sn), 0, "single: complete");
	tap_ok(sn.rules_ok && sn.updated == 5 && strcmp(sn.mode, "single") == 0,
	       "single: all 5 updated, mode single (%s)", sn.mode);
	nbatch = count_path("/stable/batch-quote");
	tap_ok(nbatch >= 1 && nbatch <= 2,
	       "single: only the batches in hand were asked whole (%d)",
	       nbatch);
	tap_int(count_path("/stable/quote"), 5 + 1,
	        "single: then each symbol once (and the fx pair)");
	{
		struct ps_txn *t;

		if (ps_txn_begin(w.s, 0, &t, &err) == 0) {
			tap_int(ps_settings_time(t, PS_SET_SINGLE_SINCE, &since,
			                         &err),
			        1, "single: remembered in settings");
			ps_txn_abort(&t);
		}
	}
	fake_set("{\"plan\": \"starter\"}");
	tap_int(run_sync(&w, NULL, &sn), 0, "single: the next sync");
	tap_int(count_path("/stable/batch-quote"), 0,
	        "single: ... asks for no batch");
	reqs = quote_requests();
	tap_int(n_requested(reqs), 5, "single: ... and each symbol once");
	cJSON_Delete(reqs);
	w.c.fmp_batch = PS_BATCH_BATCH;
	tap_int(run_sync(&w, NULL, &sn), -1, "single: fmp_batch = batch stops");
	tap_int(sn.code, PS_EUPSTREAM_PLAN, "single: ... upstream_plan");
	ps_buf_free(&sn.failed_names);
	world_close(&w);
}

/* A failed batch and a symbol left out: the sync goes on, and the
 * complete event lists exactly those. */
static void
test_failures(void)
{
	struct world w;
	struct seen sn = {0};
	struct ps_symrec r;

	if (!world_open(&w, 5, 2))
		return;
	fake_set("{\"fail\": [{\"match\": \"F02\", \"status\": 500}], "
	         "\"drop\": [\"F08\"]}");
	add_n(w.s, "F%02d", 10);
	tap_int(run_sync(&w, NULL, &sn), 0, "failures: complete");
	tap_ok(sn.rules_ok && sn.updated == 4 && sn.failed == 6,
	       "failures: 4 updated, 6 failed (%ld, %ld)", sn.updated,
	       sn.failed);
	tap_int(sn.batch_errors, 1, "failures: one batch failed whole");
	tap_str(sn.failed_names.data, "F00,F01,F02,F03,F04,F08",
	        "failures: the complete event names them");
	tap_ok(sym_get(w.s, "F02", &r) == 1 && r.error[0] != '\0' &&
	               r.updated_at == 0,
	       "failures: F02's error stored (%s)", r.error);
	tap_ok(sym_get(w.s, "F08", &r) == 1 &&
	               strstr(r.error, "not returned") != NULL,
	       "failures: F08 not returned (%s)", r.error);
	tap_ok(sym_get(w.s, "F05", &r) == 1 && r.error[0] == '\0' &&
	               r.updated_at != 0,
	       "failures: F05 updated");
	ps_buf_free(&sn.failed_names);
	world_close(&w);
}

#define MANY 5000
#define MANY_BS 50
#define MANY_C 4

struct many {
	struct world *w;
	long most_ahead; /* symbols asked for and not yet reported */
	int added;
};

/* After each batch: what fetch has asked for beyond what is written back
 * is what the run holds; it must not grow with the number of symbols. At
 * the tenth batch a symbol is added far ahead of the walk. */
static void
watch_many(struct seen *sn, const struct ps_event *ev)
{
	struct many *m = sn->arg;
	cJSON *reqs;
	long ahead;

	if (ev->type != PS_EV_PROGRESS)
		return;
	reqs = quote_requests();
	ahead = n_requested(reqs) - ev->done;
	cJSON_Delete(reqs);
	if (ahead > m->most_ahead)
		m->most_ahead = ahead;
	if (ev->batch == 10)
		m->added = add(m->w->s, "M4000A") == 0;
}

/* The requests are the sorted symbols cut in consecutive batches. */
static int
consecutive(const cJSON *reqs)
{
	char prev[32] = "";
	const cJSON *r, *s;
	int n = 0;

	cJSON_ArrayForEach(r, reqs)
	{
		if (cJSON_GetArraySize(r) != MANY_BS)
			return 0;
		cJSON_ArrayForEach(s, r)
		{
			if (s != r->child && strcmp(s->valuestring, prev) <= 0)
				return 0;
			snprintf(prev, sizeof(prev), "%s", s->valuestring);
			n++;
		}
	}
	return n == MANY;
}

static int
by_first(const void *a, const void *b)
{
	const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;

	return strcmp(x->child->valuestring, y->child->valuestring);
}

static void
test_many(void)
{
	struct world w;
	struct many m = {.w = &w};
	struct seen sn = {.hook = watch_many, .arg = &m};
	struct ps_symrec r;
	cJSON *reqs, *sorted, **v, *e;
	int i, n;

	if (!world_open(&w, MANY_BS, MANY_C))
		return;
	fake_set(NULL);
	if (!tap_int(add_n(w.s, "M%04d", MANY), 0, "many: 5,000 symbols")) {
		world_close(&w);
		return;
	}
	tap_int(run_sync(&w, NULL, &sn), 0, "many: complete");
	tap_ok(sn.rules_ok && sn.progress == MANY / MANY_BS &&
	               sn.updated == MANY && sn.failed == 0,
	       "many: 100 batches, all updated (%d, %ld)", sn.progress,
	       sn.updated);
	tap_ok(m.most_ahead > 0 && m.most_ahead <= 2 * MANY_C * MANY_BS,
	       "many: at most %d symbols in hand at any batch's end (%ld)",
	       2 * MANY_C * MANY_BS, m.most_ahead);
	reqs = quote_requests();
	n = cJSON_GetArraySize(reqs);
	v = calloc((size_t)n + 1, sizeof(*v));
	sorted = cJSON_CreateArray();
	for (i = 0, e = reqs->child; e != NULL; e = e->next)
		v[i++] = e;
	qsort(v, (size_t)n, sizeof(*v), by_first);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(sorted, cJSON_Duplicate(v[i], 1));
	tap_ok(n == MANY / MANY_BS && consecutive(sorted),
	       "many: %d requests, each 50 consecutive symbols", n);
	tap_ok(m.added && requested(reqs, "M4000A") &&
	               sym_get(w.s, "M4000A", &r) == 1 && r.updated_at != 0,
	       "many: a symbol added mid-sync ahead of the walk was synced "
	       "(the batches are read as they go)");
	tap_ok(!requested(reqs, "M4999"), "many: ... in place of the last");
	free(v);
	cJSON_Delete(sorted);
	cJSON_Delete(reqs);
	ps_buf_free(&sn.failed_names);
	world_close(&w);
}

int
main(void)
{
	char *dir = tap_tmpdir();
	int port;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	port = dir != NULL ? start_fake(dir) : -1;
	if (!tap_ok(port > 0, "fake FMP started"))
		return tap_done();
	snprintf(fake_url, sizeof(fake_url), "http://127.0.0.1:%d", port);
	test_batches();
	test_changes();
	test_policy();
	test_single();
	test_failures();
	test_many();
	stop_fake();
	curl_global_cleanup();
	tap_rmrf(dir);
	free(dir);
	return tap_done();
}
