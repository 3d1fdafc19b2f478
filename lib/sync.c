/*
 * sync: one sync of every symbol (SPEC §4), yielding typed events.
 *
 * The symbols are walked in batches of batch_size, each read from the store
 * (one cursor range after the previous batch's last symbol, in a short read
 * transaction) only when fetch has room for its requests, and freed once
 * its write commits: a run holds a few batches, whatever the number of
 * symbols. A batch becomes one upstream job (batch mode) or one job per
 * symbol (single mode), plus a profile job for each suffix symbol that
 * wants one (§8, ps_symrec_wants_profile); it is finished when all its jobs
 * are, then its results go to the store in one write transaction and one
 * progress event follows. A switch from batch to single mode (a plan that
 * refuses batch quotes) so takes effect for every batch not yet read. The fx
 * rates ride in the same pool; a pair the plan refuses is asked the other
 * way round and inverted. Every request passes the daily budget
 * (lib/budget.h) as fetch sends it. What a job kind asks for and what its
 * answer does is one row of `kinds`.
 *
 * Limits: the counts of the start event are the store's at the start; the
 * walk then reads at most that many symbols. A symbol removed meanwhile
 * that was not read yet is in neither count (complete then has updated +
 * failed < total); one added meanwhile after the walk's position is synced
 * in place of the last ones, which wait for the next sync. The names of
 * failed symbols are kept until the end (the complete event lists them).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "budget.h"
#include "fetch.h"
#include "fmp.h"
#include "isotime.h"
#include "job.h"
#include "lock.h"
#include "metrics.h"
#include "settings.h"
#include "symbol.h"
#include "sync.h"
#include "utf8.h"

/* What FMP's answers mean, for the fetch engine. */
static const struct ps_fetch_judge fmp_judge = PS_FMP_JUDGE;

#define SINGLE_RETRY_DAYS 7
#define MAX_RATES 16   /* other currencies than USD, GBP and GBp */
#define PASS_CHUNK 128 /* records per read of the daily-limit estimate */
/* Records walked between two ps_store_shed calls: the map pages they were
 * read from leave the resident set (a shed costs a /proc read). */
#define SHED_RECORDS 512

enum job_kind { JOB_BATCH, JOB_SINGLE, JOB_PROFILE, JOB_PAIR };

/* Symbols read from the store and sent, not yet written back. */
struct batch {
	struct batch *prev, *next; /* run->open */
	size_t pending;            /* jobs not finished yet */
	char error[300];           /* why the whole batch failed, or "" */
	size_t n;
	struct ps_symrec recs[]; /* results land here */
};

struct job {
	struct job *prev, *next; /* run->jobs: every job not yet done */
	enum job_kind kind;
	struct batch *b; /* quotes and profiles; NULL for a pair */
	size_t i;        /* b->recs[i] (single, profile), rates[i] (pair) */
	int first_round;
	int inverse; /* a pair: asks for GBPCCY, to be inverted */
	int flipped; /* ... and is the second try, the other way round */
};

/* A CCYGBP rate; rates[0] is USD's, fetched every sync (fx_pair). */
struct rate {
	char ccy[PS_CCY_MAX];
	double value;      /* NaN until fetched */
	const char *basis; /* static: "bid", "price" or "inverse" */
	int queued;
	char error[300]; /* why value is NaN (USD's is the fx_error) */
};

struct failed_name {
	char s[PS_SYMBOL_MAX + 1];
};

struct run {
	const struct ps_conf *c;
	struct ps_store *s;
	ps_sync_cb cb;
	void *arg;
	struct ps_fetch *f;
	struct ps_budget budget; /* every request passes it (SPEC §8) */

	size_t total, nbatches;         /* as the start event says */
	size_t nread;                   /* batches read from the store so far */
	char cursor[PS_SYMBOL_MAX + 1]; /* the last symbol read, "" at first */
	struct batch *open;             /* read and not yet written back */
	struct job *jobs; /* handed to fetch, owned here: a stopped run frees
	                     the ones fetch never finished */
	int single;       /* quotes one symbol per request from now on */

	int64_t now, t0; /* the start: wall clock, monotonic ms */
	long finished, updated;
	struct failed_name *failed; /* copies: the records are gone by then */
	size_t nfailed, cap_failed;

	/* The first round of §4: the first `first_round` quote requests. */
	size_t first_round, marked, answered;
	int reached; /* one of them got an answer from FMP */

	struct rate rates[1 + MAX_RATES];
	size_t nrates;

	int stopped; /* a fatal error is in stop */
	struct ps_err stop;
};

struct kind {
	char *(*url)(const struct run *r, const struct job *j);
	/* 0, or -1 with err: the run stops. */
	int (*done)(struct run *r, struct job *j,
	            const struct ps_fetch_res *res, struct ps_err *err);
	int quote; /* a quote request: counts in the first round */
};

static const struct kind kinds[];

static int
nomem(struct ps_err *err)
{
	return ps_err_set(err, PS_ENOMEM, "out of memory");
}

static void
stop(struct run *r, const struct ps_err *why)
{
	if (!r->stopped) {
		r->stopped = 1;
		r->stop = *why;
	}
}

/* A currency that needs its own CCYGBP rate (§8): not USD, GBP, GBp. */
static int
needs_rate(const char *ccy)
{
	return ccy[0] != '\0' && strcmp(ccy, "USD") != 0 &&
	       strcmp(ccy, "GBP") != 0 && strcmp(ccy, "GBp") != 0;
}

/* The slot of ccy's CCYGBP rate, added if new; -1 when the table is full
 * (such symbols are then valued null, as for a failed rate). */
static int
rate_slot(struct run *r, const char *ccy)
{
	size_t i;

	for (i = 1; i <= r->nrates; i++)
		if (strcmp(r->rates[i].ccy, ccy) == 0)
			return (int)i;
	if (r->nrates == MAX_RATES)
		return -1;
	i = ++r->nrates;
	ps_utf8_copy(r->rates[i].ccy, sizeof(r->rates[i].ccy), ccy);
	r->rates[i].value = NAN;
	return (int)i;
}

/* ---- jobs ---- */

static size_t
jobs_in_flight(const struct run *r)
{
	const struct job *j;
	size_t n = 0;

	for (j = r->jobs; j != NULL; j = j->next)
		n++;
	return n;
}

static void
job_free(struct run *r, struct job *j)
{
	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		r->jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	free(j);
}

/* Hands a copy of proto to fetch; its batch then waits for it. */
static int
queue(struct run *r, const struct job *proto, struct ps_err *err)
{
	struct job *j = malloc(sizeof(*j));
	char *url = NULL;
	int rc;

	if (j == NULL ||
	    (*j = *proto, url = kinds[j->kind].url(r, j)) == NULL) {
		free(j);
		return nomem(err);
	}
	/* An fx or profile request that cannot connect says nothing about
	 * the quotes. */
	j->first_round = kinds[j->kind].quote && r->marked < r->first_round;
	r->marked += (size_t)j->first_round;
	rc = ps_fetch_add(r->f, url, j, err);
	free(url);
	if (rc < 0) {
		free(j);
		return -1;
	}
	if (j->b != NULL)
		j->b->pending++;
	j->prev = NULL;
	j->next = r->jobs;
	if (r->jobs != NULL)
		r->jobs->prev = j;
	r->jobs = j;
	return 0;
}

static int
queue_pair(struct run *r, size_t rate, int inverse, int flipped,
           struct ps_err *err)
{
	struct job j = {.kind = JOB_PAIR, .i = rate};

	j.inverse = inverse;
	j.flipped = flipped;
	return queue(r, &j, err);
}

/* Once per sync per currency. */
static int
queue_rate(struct run *r, const char *ccy, struct ps_err *err)
{
	int i = rate_slot(r, ccy);

	if (i < 0 || r->rates[i].queued)
		return 0;
	r->rates[i].queued = 1;
	return queue_pair(r, (size_t)i, 0, 0, err);
}

static int
queue_quotes(struct run *r, struct batch *b, int single, struct ps_err *err)
{
	struct job j = {.kind = single ? JOB_SINGLE : JOB_BATCH, .b = b};

	if (!single)
		return queue(r, &j, err);
	for (j.i = 0; j.i < b->n; j.i++)
		if (queue(r, &j, err) < 0)
			return -1;
	return 0;
}

/* ---- URLs ---- */

static char *
url_batch(const struct run *r, const struct job *j)
{
	const char **syms = malloc((j->b->n ? j->b->n : 1) * sizeof(*syms));
	char *url;
	size_t i;

	if (syms == NULL)
		return NULL;
	for (i = 0; i < j->b->n; i++)
		syms[i] = j->b->recs[i].symbol;
	url = ps_fmp_url_batch(r->c, syms, j->b->n);
	free(syms);
	return url;
}

static char *
url_single(const struct run *r, const struct job *j)
{
	return ps_fmp_url_single(r->c, j->b->recs[j->i].symbol);
}

static char *
url_profile(const struct run *r, const struct job *j)
{
	return ps_fmp_url_profile(r->c, j->b->recs[j->i].symbol);
}

/* CCYGBP, or with inverse GBPCCY (§8: fx_pair GBPUSD, or a plan that
 * refuses the pair). */
static char *
url_pair(const struct run *r, const struct job *j)
{
	char pair[8];

	snprintf(pair, sizeof(pair), j->inverse ? "GBP%.3s" : "%.3sGBP",
	         r->rates[j->i].ccy);
	return ps_fmp_url_fx(r->c, pair);
}

/* ---- batches: read, written back, freed ---- */

static void
batch_free(struct run *r, struct batch *b)
{
	if (b->prev != NULL)
		b->prev->next = b->next;
	else
		r->open = b->next;
	if (b->next != NULL)
		b->next->prev = b->prev;
	free(b);
}

/* Room for n more failed names. */
static int
failed_reserve(struct run *r, size_t n, struct ps_err *err)
{
	struct failed_name *p;
	size_t cap = r->cap_failed ? r->cap_failed : 16;

	if (r->nfailed + n <= r->cap_failed)
		return 0;
	while (cap < r->nfailed + n)
		cap *= 2;
	p = realloc(r->failed, cap * sizeof(*p));
	if (p == NULL)
		return nomem(err);
	r->failed = p;
	r->cap_failed = cap;
	return 0;
}

/* The failed names from `from` on, as the event wants them (malloc'd;
 * valid until r->failed grows). */
static const char **
failed_list(const struct run *r, size_t from, size_t n)
{
	const char **v = malloc((n ? n : 1) * sizeof(*v));
	size_t i;

	if (v != NULL)
		for (i = 0; i < n; i++)
			v[i] = r->failed[from + i].s;
	return v;
}

/* The batch's quotes, the progress readers see and the request count go
 * in one transaction: one commit, one fsync, per batch. */
static int
write_batch(struct run *r, const struct batch *b, const char *progress,
            long requests, struct ps_err *err)
{
	int64_t now = time(NULL);
	struct ps_txn *t;

	if (ps_txn_begin(r->s, 1, &t, err) < 0)
		return -1;
	if (ps_store_apply_batch(t, b->recs, b->n, now, err) < 0 ||
	    ps_settings_set_doc(t, PS_SET_PROGRESS, progress, err) < 0 ||
	    (requests != 0 &&
	     ps_settings_requests_add(t, now, requests, NULL, err) < 0)) {
		ps_txn_abort(&t);
		return -1;
	}
	return ps_txn_commit(&t, err);
}

static int
finish_batch(struct run *r, struct batch *b, struct ps_err *err)
{
	struct ps_event ev = {.type = PS_EV_PROGRESS};
	long requests = ps_budget_pending(&r->budget);
	const char **bad = NULL;
	size_t i, nbad = 0;
	char *line = NULL;
	int rc = -1;

	if (failed_reserve(r, b->n, err) < 0)
		return -1;
	for (i = 0; i < b->n; i++)
		if (b->recs[i].error[0] != '\0')
			memcpy(r->failed[r->nfailed + nbad++].s,
			       b->recs[i].symbol, sizeof(r->failed[0].s));
	ev.batch = r->finished + 1;
	ev.batches = (long)r->nbatches;
	ev.total = (long)r->total;
	ev.updated = r->updated + (long)(b->n - nbad);
	ev.failed = (long)(r->nfailed + nbad);
	ev.done = ev.updated + ev.failed;
	ev.error = b->error[0] ? b->error : NULL;
	ev.n_failed_symbols = nbad;
	ev.failed_symbols = bad = failed_list(r, r->nfailed, nbad);
	if (bad == NULL || (line = ps_event_json(&ev)) == NULL) {
		nomem(err);
		goto free_line;
	}
	if (write_batch(r, b, line, requests, err) < 0)
		goto free_line;
	ps_budget_recorded(&r->budget, requests);
	r->finished++;
	if (r->finished % (SHED_RECORDS / r->c->batch_size + 1) == 0)
		ps_store_shed(r->s);
	r->nfailed += nbad;
	r->updated = ev.updated;
	r->cb(&ev, r->arg);
	batch_free(r, b);
	rc = 0;
free_line:
	free(line);
	free(bad);
	return rc;
}

static int
wants_profile(const struct run *r, const struct ps_symrec *rec)
{
	return ps_symrec_wants_profile(rec, r->now);
}

/* Queues what the batch's symbols need: profiles, rates, quotes. Results
 * start from the stored records: quantity and currency are the store's
 * business, and a failed symbol keeps its price. */
static int
send_batch(struct run *r, struct batch *b, struct ps_err *err)
{
	struct job j = {.kind = JOB_PROFILE, .b = b};

	for (j.i = 0; j.i < b->n; j.i++) {
		struct ps_symrec *rec = &b->recs[j.i];

		rec->error[0] = '\0';
		if (needs_rate(rec->currency) &&
		    queue_rate(r, rec->currency, err) < 0)
			return -1;
		if (wants_profile(r, rec) && queue(r, &j, err) < 0)
			return -1;
	}
	if (b->n > 0 && queue_quotes(r, b, r->single, err) < 0)
		return -1;
	/* Its symbols were all removed meanwhile: nothing to wait for. */
	return b->pending == 0 ? finish_batch(r, b, err) : 0;
}

/* Reads the next batch: the symbols after the cursor, as many as the
 * batch had at the start. */
static int
read_batch(struct run *r, struct ps_err *err)
{
	size_t bs = (size_t)r->c->batch_size, first = r->nread * bs;
	size_t want = r->total - first < bs ? r->total - first : bs;
	struct batch *b = calloc(1, sizeof(*b) + want * sizeof(b->recs[0]));
	struct ps_txn *t;
	int rc;

	if (b == NULL)
		return nomem(err);
	b->next = r->open;
	if (r->open != NULL)
		r->open->prev = b;
	r->open = b;
	r->nread++;
	if (ps_txn_begin(r->s, 0, &t, err) < 0)
		return -1;
	rc = ps_store_sym_range(t, r->cursor, b->recs, want, &b->n, err);
	ps_txn_abort(&t);
	if (rc < 0)
		return -1;
	if (b->n > 0)
		memcpy(r->cursor, b->recs[b->n - 1].symbol, sizeof(r->cursor));
	return send_batch(r, b, err);
}

/* Keeps fetch's queue a little longer than its slots, so no slot idles,
 * while the batches not yet read can still change mode. */
static int
top_up(struct run *r, struct ps_err *err)
{
	size_t want = (size_t)r->c->concurrency * 2;

	while (r->nread < r->nbatches && jobs_in_flight(r) < want)
		if (read_batch(r, err) < 0)
			return -1;
	return 0;
}

/* ---- answers ---- */

static void
fail_batch(struct batch *b, const char *why)
{
	size_t i;

	ps_utf8_copy(b->error, sizeof(b->error), why);
	for (i = 0; i < b->n; i++)
		ps_utf8_copy(b->recs[i].error, sizeof(b->recs[i].error), why);
}

/* One time setting, in a transaction of its own. */
static int
set_time(struct ps_store *s, enum ps_set_time k, int64_t at, struct ps_err *err)
{
	struct ps_txn *t;

	if (ps_txn_begin(s, 1, &t, err) < 0)
		return -1;
	if (ps_settings_set_time(t, k, at, err) < 0) {
		ps_txn_abort(&t);
		return -1;
	}
	return ps_txn_commit(&t, err);
}

/* 1 with *at, 0 when absent, -1: one time setting. */
static int
get_time(struct ps_store *s, enum ps_set_time k, int64_t *at,
         struct ps_err *err)
{
	struct ps_txn *t;
	int rc;

	if (ps_txn_begin(s, 0, &t, err) < 0)
		return -1;
	rc = ps_settings_time(t, k, at, err);
	ps_txn_abort(&t);
	return rc;
}

/* The plan has no batch quotes: this batch and every later one go one
 * symbol per request (§8), remembered for later syncs. */
static int
go_single(struct run *r, struct batch *b, struct ps_err *err)
{
	if (r->c->fmp_batch != PS_BATCH_AUTO)
		return ps_err_set(err, PS_EUPSTREAM_PLAN,
		                  "FMP refused batch quotes for this key's "
		                  "plan: set fmp_batch = auto or single");
	if (!r->single) {
		r->single = 1;
		if (set_time(r->s, PS_SET_SINGLE_SINCE, time(NULL), err) < 0)
			return -1;
	}
	return queue_quotes(r, b, 1, err);
}

static int
on_batch(struct run *r, struct job *j, const struct ps_fetch_res *res,
         struct ps_err *err)
{
	struct ps_err why;

	switch (res->verdict) {
	case PS_FMP_OK:
		if (ps_fmp_parse_quotes(res->body, res->len, j->b->recs,
		                        j->b->n, &why) < 0)
			fail_batch(j->b, why.msg);
		return 0;
	case PS_FMP_RESTRICTED:
		return go_single(r, j->b, err);
	case PS_FMP_SYMBOL_PLAN:
		/* A symbol outside the plan spoils the batch: ask one by one
		 * so only that symbol fails. */
		return queue_quotes(r, j->b, 1, err);
	default:
		fail_batch(j->b, res->error);
		return 0;
	}
}

static int
on_single(struct run *r, struct job *j, const struct ps_fetch_res *res,
          struct ps_err *err)
{
	struct ps_symrec *rec = &j->b->recs[j->i];
	struct ps_err why;

	(void)r;
	switch (res->verdict) {
	case PS_FMP_OK:
		if (ps_fmp_parse_quotes(res->body, res->len, rec, 1, &why) < 0)
			ps_utf8_copy(rec->error, sizeof(rec->error), why.msg);
		return 0;
	case PS_FMP_SYMBOL_PLAN:
		snprintf(rec->error, sizeof(rec->error),
		         "not in your FMP plan");
		return 0;
	case PS_FMP_RESTRICTED:
		return ps_err_set(err, PS_EUPSTREAM_PLAN,
		                  "FMP refused quotes for this key's plan: "
		                  "check the key's subscription");
	default:
		ps_utf8_copy(rec->error, sizeof(rec->error), res->error);
		return 0;
	}
}

static int
on_profile(struct run *r, struct job *j, const struct ps_fetch_res *res,
           struct ps_err *err)
{
	struct ps_symrec *rec = &j->b->recs[j->i];
	char ccy[PS_CCY_MAX];

	/* Remembered whatever the answer: the next call is due only after
	 * PS_PROFILE_RETRY_DAYS (each call counts against the quota). */
	rec->profile_at = r->now;
	/* A failed or refused profile leaves the suffix rule (§8). */
	if (res->verdict != PS_FMP_OK ||
	    ps_fmp_parse_profile(res->body, res->len, ccy, NULL) < 0)
		return 0;
	ps_utf8_copy(rec->currency, sizeof(rec->currency), ccy);
	rec->currency_src = PS_CCY_PROFILE;
	return needs_rate(ccy) ? queue_rate(r, ccy, err) : 0;
}

/* The CCYGBP rate in an fx answer to j, inverted when j asked for
 * GBPCCY. -1 with err when there is none. */
static int
pair_rate(const struct run *r, const struct job *j,
          const struct ps_fetch_res *res, struct rate *rt, struct ps_err *err)
{
	double v;

	if (res->verdict != PS_FMP_OK)
		return ps_err_set(err, PS_EUPSTREAM, "%s", res->error);
	if (ps_fmp_parse_fx(res->body, res->len, r->c->fmp_api, &v, &rt->basis,
	                    err) < 0)
		return -1;
	if (j->inverse) {
		v = 1.0 / v;
		rt->basis = "inverse";
		if (!isfinite(v) || v <= 0)
			return ps_err_set(err, PS_EUPSTREAM,
			                  "no usable fx rate in FMP's answer "
			                  "(its inverse is not a number)");
	}
	rt->value = v;
	return 0;
}

static int
on_pair(struct run *r, struct job *j, const struct ps_fetch_res *res,
        struct ps_err *err)
{
	struct rate *rt = &r->rates[j->i];
	struct ps_err why;

	/* A plan that refuses a pair may have its inverse (§8: free plans
	 * cover GBPUSD but maybe not USDGBP): ask for it, once. */
	if (res->verdict == PS_FMP_SYMBOL_PLAN && !j->flipped)
		return queue_pair(r, j->i, !j->inverse, 1, err);
	if (pair_rate(r, j, res, rt, &why) < 0) {
		rt->value = NAN;
		ps_utf8_copy(rt->error, sizeof(rt->error), why.msg);
	}
	return 0;
}

static const struct kind kinds[] = {
        [JOB_BATCH] = {url_batch, on_batch, 1},
        [JOB_SINGLE] = {url_single, on_single, 1},
        [JOB_PROFILE] = {url_profile, on_profile, 0},
        [JOB_PAIR] = {url_pair, on_pair, 0},
};

/* upstream_unavailable (§4): every request of the first round failed to
 * connect, so nothing reached FMP and nothing later will. 1 with err. */
static int
first_round_failed(struct run *r, const struct job *j,
                   const struct ps_fetch_res *res, struct ps_err *err)
{
	if (!j->first_round)
		return 0;
	r->answered++;
	if (!res->connect_failed)
		r->reached = 1;
	if (r->reached || r->answered < r->first_round)
		return 0;
	ps_err_set(err, PS_EUPSTREAM_UNAVAILABLE, "%s", res->error);
	return 1;
}

/* The job's batch has one answer less to wait for. The requests that can
 * go are sent before its commit (an fsync), so the slot this answer freed
 * does not idle meanwhile: at 100,000 symbols the commits held slots idle
 * for 9 s of 57. */
static int
settle(struct run *r, struct job *j, struct ps_err *err)
{
	if (j->b == NULL || --j->b->pending > 0)
		return 0;
	if (top_up(r, err) < 0 || ps_fetch_kick(r->f, err) < 0)
		return -1;
	return finish_batch(r, j->b, err);
}

static int
on_done(const struct ps_fetch_res *res, void *arg)
{
	struct run *r = arg;
	struct job *j = res->user;
	struct ps_err err;

	ps_err_clear(&err);
	/* Errors that no other request can get past (§4, §8). */
	if (ps_fmp_verdict_fatal(res->verdict, res->error, &err) ||
	    first_round_failed(r, j, res, &err) ||
	    kinds[j->kind].done(r, j, res, &err) < 0 ||
	    settle(r, j, &err) < 0 || top_up(r, &err) < 0)
		stop(r, &err);
	job_free(r, j);
	return r->stopped;
}

/* ---- before the start: checks that make a sync "no sync at all" ---- */

static int
check_cooldown(struct run *r, const struct ps_sync_policy *p,
               struct ps_err *err)
{
	int64_t last, wait;
	int rc;

	if (p == NULL || !p->enforce_cooldown || r->c->min_interval_s == 0)
		return 0;
	rc = get_time(r->s, PS_SET_SYNC_STARTED_AT, &last, err);
	if (rc <= 0)
		return rc;
	if (r->now - last >= r->c->min_interval_s || r->now < last)
		return 0;
	wait = last + r->c->min_interval_s - r->now;
	ps_err_set(err, PS_ECOOLDOWN,
	           "a sync started %lld s ago; the next may start in %lld s "
	           "(min_interval_s = %d)",
	           (long long)(r->now - last), (long long)wait,
	           r->c->min_interval_s);
	err->retry_after = (long)wait;
	return -1;
}

/* Batch mode unless the plan refused it within the last 7 days (§8). */
static int
pick_mode(struct run *r, struct ps_err *err)
{
	int64_t since;
	int rc;

	if (r->c->fmp_batch != PS_BATCH_AUTO) {
		r->single = r->c->fmp_batch == PS_BATCH_SINGLE;
		return 0;
	}
	rc = get_time(r->s, PS_SET_SINGLE_SINCE, &since, err);
	if (rc < 0)
		return -1;
	r->single = rc == 1 && r->now - since < SINGLE_RETRY_DAYS * 86400;
	return 0;
}

/* The symbol count, and for the daily-limit estimate how many want a
 * profile (the currencies that need a rate go in the rate table), in one
 * read transaction and bounded memory: a cursor range at a time. */
static int
count_pass(struct run *r, long *profiles, struct ps_err *err)
{
	struct ps_symrec *chunk = malloc(PASS_CHUNK * sizeof(*chunk));
	char after[PS_SYMBOL_MAX + 1] = "";
	struct ps_txn *t;
	size_t n, i;
	int rc = -1;

	if (chunk == NULL)
		return nomem(err);
	if (ps_txn_begin(r->s, 0, &t, err) < 0)
		goto free_chunk;
	do {
		if (ps_store_sym_range(t, after, chunk, PASS_CHUNK, &n, err) <
		    0)
			goto txn_abort;
		for (i = 0; i < n; i++) {
			*profiles += wants_profile(r, &chunk[i]);
			if (needs_rate(chunk[i].currency))
				rate_slot(r, chunk[i].currency);
		}
		r->total += n;
		if (n > 0)
			memcpy(after, chunk[n - 1].symbol, sizeof(after));
		if (r->total % SHED_RECORDS == 0)
			ps_store_shed(r->s);
	} while (n == PASS_CHUNK);
	rc = 0;
txn_abort:
	ps_txn_abort(&t);
free_chunk:
	free(chunk);
	return rc;
}

/* How many symbols and batches the sync has, and the up-front estimate
 * (SPEC §2): a sync that would pass the limit does not start. The
 * estimate cannot see retries or a switch to single mode; the budget stops
 * those request by request. Without a limit, no record is read here. */
static int
plan(struct run *r, struct ps_err *err)
{
	size_t bs = (size_t)r->c->batch_size;
	long need, profiles = 0;
	struct ps_txn *t;
	int rc;

	if (r->budget.limit > 0)
		rc = count_pass(r, &profiles, err);
	else if ((rc = ps_txn_begin(r->s, 0, &t, err)) == 0) {
		rc = ps_store_sym_count(t, &r->total, err);
		ps_txn_abort(&t);
	}
	if (rc < 0 || pick_mode(r, err) < 0)
		return -1;
	r->nbatches = (r->total + bs - 1) / bs;
	if (r->budget.limit == 0 || r->total == 0)
		return 0;
	need = (long)(r->single ? r->total : r->nbatches) + 1 +
	       (long)r->nrates + profiles;
	return ps_budget_afford(&r->budget, r->now, "this sync", need, err);
}

/* The start event, also stored as the progress readers see, with the
 * start time (cooldown) in the same commit; then the first requests. */
static int
start(struct run *r, struct ps_err *err)
{
	struct ps_event ev = {.type = PS_EV_START};
	struct ps_txn *t;
	char *line;
	size_t i;
	int rc = -1;

	ev.total = (long)r->total;
	ev.batches = (long)r->nbatches;
	ev.started_at = r->now;
	if ((line = ps_event_json(&ev)) == NULL)
		return nomem(err);
	if (ps_txn_begin(r->s, 1, &t, err) == 0) {
		if (ps_settings_set_time(t, PS_SET_SYNC_STARTED_AT, r->now,
		                         err) < 0 ||
		    ps_settings_set_doc(t, PS_SET_PROGRESS, line, err) < 0)
			ps_txn_abort(&t);
		else
			rc = ps_txn_commit(&t, err);
	}
	free(line);
	if (rc < 0)
		return -1;
	r->t0 = ps_monotonic_ms();
	r->cb(&ev, r->arg);
	if (r->total == 0)
		return 0;
	/* The first `concurrency` quote requests (§4): batches, or in single
	 * mode single quotes. */
	r->first_round = (size_t)r->c->concurrency;
	if (r->first_round > (r->single ? r->total : r->nbatches))
		r->first_round = r->single ? r->total : r->nbatches;
	if (queue_pair(r, 0, strcmp(r->c->fx_pair, "GBPUSD") == 0, 0, err) < 0)
		return -1;
	for (i = 1; i <= r->nrates; i++)
		if (queue_rate(r, r->rates[i].ccy, err) < 0)
			return -1;
	return top_up(r, err);
}

/* ---- the end: what a complete sync leaves in settings ---- */

static char *
json_fx(const char *pair, double rate, const char *basis, int64_t at)
{
	char iso[PS_ISOTIME_LEN];
	cJSON *o = cJSON_CreateObject();
	char *out = NULL;

	if (o != NULL && cJSON_AddStringToObject(o, "pair", pair) &&
	    cJSON_AddNumberToObject(o, "rate", rate) &&
	    (basis == NULL || cJSON_AddStringToObject(o, "basis", basis)) &&
	    cJSON_AddStringToObject(o, "at", ps_isotime_fmt(at, iso)))
		out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

static char *
json_result(const struct run *r, long duration_ms)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char *out = NULL;
	size_t i;

	if (o == NULL || !cJSON_AddNumberToObject(o, "updated", r->updated) ||
	    !cJSON_AddNumberToObject(o, "failed", (double)r->nfailed) ||
	    (a = cJSON_AddArrayToObject(o, "failed_symbols")) == NULL)
		goto free_json;
	for (i = 0; i < r->nfailed; i++) {
		cJSON *sym = cJSON_CreateString(r->failed[i].s);

		if (sym == NULL || !cJSON_AddItemToArray(a, sym)) {
			cJSON_Delete(sym);
			goto free_json;
		}
	}
	if (cJSON_AddStringToObject(o, "mode",
	                            r->single ? "single" : "batch") &&
	    cJSON_AddNumberToObject(o, "duration_ms", (double)duration_ms))
		out = cJSON_PrintUnformatted(o);
free_json:
	cJSON_Delete(o);
	return out;
}

/* Each rate fetched is a point of its pair's fx series (SPEC §9), so old
 * values use old rates, and its document is what the prices use. The USD
 * rate is USDGBP's whatever fx_pair says: the rate stored is always GBP per
 * USD. */
static int
store_rates(const struct run *r, struct ps_txn *t, int64_t now,
            struct ps_err *err)
{
	char pair[8], *doc;
	size_t i;
	int rc;

	for (i = 0; i <= r->nrates; i++) {
		const struct rate *rt = &r->rates[i];

		if (isnan(rt->value))
			continue;
		snprintf(pair, sizeof(pair), "%.3sGBP", rt->ccy);
		doc = json_fx(pair, rt->value, rt->basis, now);
		if (doc == NULL)
			rc = nomem(err);
		else if (i == 0)
			rc = ps_settings_set_doc(t, PS_SET_FX, doc, err);
		else
			rc = ps_settings_set_rate(t, rt->ccy, doc, err);
		free(doc);
		if (rc < 0 || ps_store_fx_put(t, pair, now, rt->value, err) < 0)
			return -1;
	}
	return 0;
}

/* One transaction for everything a complete sync leaves behind, so a
 * reader never sees last_synced without its result, nor the result
 * uncounted. */
static int
store_outcome(const struct run *r, int64_t now, long duration_ms,
              struct ps_err *err)
{
	char *result = json_result(r, duration_ms);
	struct ps_txn *t;
	int rc = -1;

	if (result == NULL)
		return nomem(err);
	if (ps_txn_begin(r->s, 1, &t, err) < 0)
		goto free_result;
	if (ps_settings_set_doc(t, PS_SET_PROGRESS, NULL, err) < 0 ||
	    ps_settings_set_doc(t, PS_SET_LAST_RESULT, result, err) < 0 ||
	    store_rates(r, t, now, err) < 0 ||
	    ((r->updated > 0 || r->total == 0) &&
	     ps_settings_set_time(t, PS_SET_LAST_SYNCED, now, err) < 0) ||
	    (!r->single && r->c->fmp_batch == PS_BATCH_AUTO &&
	     ps_settings_clear_time(t, PS_SET_SINGLE_SINCE, err) < 0) ||
	    ps_metrics_count_sync(
	            t, r->nfailed ? PS_SYNC_PARTIAL : PS_SYNC_COMPLETE, err) <
	            0) {
		ps_txn_abort(&t);
		goto free_result;
	}
	rc = ps_txn_commit(&t, err);
free_result:
	free(result);
	return rc;
}

static int
emit_complete(struct run *r, struct ps_err *err)
{
	struct ps_event ev = {.type = PS_EV_COMPLETE};
	int64_t now = time(NULL);

	ev.total = (long)r->total;
	ev.updated = r->updated;
	ev.failed = (long)r->nfailed;
	ev.n_failed_symbols = r->nfailed;
	ev.mode = r->single ? "single" : "batch";
	ev.fx_rate = r->rates[0].value;
	ev.fx_error = r->rates[0].error[0] ? r->rates[0].error : NULL;
	ev.duration_ms = (long)(ps_monotonic_ms() - r->t0);
	ev.last_synced = ps_job_last_synced(r->s);
	if (r->updated > 0 || r->total == 0)
		ev.last_synced = now;
	ev.failed_symbols = failed_list(r, 0, r->nfailed);
	/* Counted before the event leaves, so a reader who saw it sees it
	 * counted. */
	if (ev.failed_symbols == NULL ||
	    store_outcome(r, now, ev.duration_ms, err) < 0) {
		free((void *)ev.failed_symbols);
		return ev.failed_symbols == NULL ? nomem(err) : -1;
	}
	r->cb(&ev, r->arg);
	free((void *)ev.failed_symbols);
	return 0;
}

static void
emit_error(struct run *r, const struct ps_err *e, int started)
{
	struct ps_event ev = {.type = PS_EV_ERROR};
	struct ps_txn *t;

	ev.code = e->code;
	ev.message = e->msg;
	ev.retry_after = e->retry_after;
	ev.started = started;
	ev.updated = r->updated;
	ev.failed = (long)r->nfailed;
	/* The status only lags if this cannot be written: the error the
	 * caller must hear about is e. */
	if (started && ps_txn_begin(r->s, 1, &t, NULL) == 0) {
		if (ps_settings_set_doc(t, PS_SET_PROGRESS, NULL, NULL) < 0 ||
		    ps_metrics_count_sync(t, PS_SYNC_ERROR, NULL) < 0)
			ps_txn_abort(&t);
		else
			ps_txn_commit(&t, NULL);
	}
	r->cb(&ev, r->arg);
}

/* From the start event to the terminal one. */
static void
run_started(struct run *r)
{
	struct ps_err err;

	ps_err_clear(&err);
	if (start(r, &err) < 0 ||
	    (r->total > 0 && ps_fetch_run(r->f, on_done, r, &err) < 0))
		stop(r, &err);
	if (!r->stopped && r->finished != (long)r->nbatches) {
		ps_err_set(&err, PS_EINTERNAL,
		           "sync ended with %ld of %zu batches done",
		           r->finished, r->nbatches);
		stop(r, &err);
	}
	/* Losing the count of the last requests only makes the status lag;
	 * the sync's own outcome is what the caller must hear about. */
	ps_budget_flush(&r->budget, time(NULL), NULL);
	if (!r->stopped && emit_complete(r, &err) < 0)
		stop(r, &err);
	if (r->stopped)
		emit_error(r, &r->stop, 1);
}

static void
run_free(struct run *r)
{
	ps_fetch_free(r->f);
	while (r->jobs != NULL)
		job_free(r, r->jobs);
	while (r->open != NULL)
		batch_free(r, r->open);
	free(r->failed);
}

int
ps_sync_run(const struct ps_conf *c, struct ps_store *s,
            const struct ps_sync_policy *p, ps_sync_cb cb, void *arg,
            struct ps_err *err)
{
	struct run r = {.c = c, .s = s, .cb = cb, .arg = arg};
	struct ps_lock lock = {.fd = -1};

	r.now = time(NULL);
	r.rates[0].value = NAN;
	memcpy(r.rates[0].ccy, "USD", 4);
	ps_budget_init(&r.budget, s, c->daily_request_limit);
	ps_err_clear(err);
	if (ps_conf_check_key(c, err) < 0)
		goto not_started;
	if (ps_job_begin(s, &lock, err) < 0)
		goto not_started;
	if (check_cooldown(&r, p, err) < 0 || plan(&r, err) < 0 ||
	    (r.f = ps_fetch_new(c, &fmp_judge, err)) == NULL)
		goto release_lock;
	ps_fetch_set_budget(r.f, &r.budget);
	run_started(&r);
	if (r.stopped)
		*err = r.stop;
	run_free(&r);
	ps_lock_release(&lock);
	return r.stopped ? -1 : 0;

release_lock:
	run_free(&r);
	ps_lock_release(&lock);
not_started:
	emit_error(&r, err, 0);
	return -1;
}
