/*
 * sync: one sync of every symbol (SPEC §4), yielding typed events.
 *
 * The symbols are cut into batches of batch_size. Each batch becomes one
 * upstream job (batch mode) or one job per symbol (single mode), plus a
 * profile job for each suffix symbol that wants one (§8,
 * ps_symrec_wants_profile). A batch is finished when all its jobs are: its
 * results go to the store in one write transaction and one progress event
 * follows. Jobs are handed to fetch lazily, a few more than `concurrency` at a
 * time, so a switch from batch to single mode (a plan that refuses batch
 * quotes) takes effect for every batch not yet sent. The fx rates ride in the
 * same pool; a pair the plan refuses is asked the other way round and inverted.
 * Every request passes the daily budget (lib/budget.h) as fetch sends it.
 *
 * Limits: results are matched to symbols in memory (the whole symbol list
 * is read at start: 10,000 symbols are ~5 MB of records).
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
#define MAX_RATES 16

enum job_kind { JOB_BATCH, JOB_SINGLE, JOB_PROFILE, JOB_FX, JOB_RATE };

struct job {
	struct job *prev, *next; /* run->jobs: every job not yet done */
	enum job_kind kind;
	size_t batch; /* JOB_BATCH, JOB_SINGLE, JOB_PROFILE */
	size_t sym;   /* JOB_SINGLE, JOB_PROFILE: index into run->res */
	size_t rate;  /* JOB_RATE: index into run->rates */
	int first_round;
	int inverse; /* JOB_FX, JOB_RATE: asks for GBPCCY, to be inverted */
	int flipped; /* ... and is the second try, the other way round */
};

struct batch {
	size_t first, count;
	size_t pending; /* jobs not finished yet */
	char error[300];
};

struct rate {
	char ccy[PS_CCY_MAX];
	double value;      /* NaN until fetched */
	const char *basis; /* static: "bid", "price" or "inverse" */
	int queued;
};

struct run {
	const struct ps_conf *c;
	struct ps_store *s;
	ps_sync_cb cb;
	void *arg;
	struct ps_fetch *f;

	struct ps_symrec *res; /* one per symbol, sorted; results land here */
	size_t n;
	struct batch *batches;
	size_t nbatches;
	size_t next_batch;  /* first batch not yet sent */
	size_t outstanding; /* jobs handed to fetch and not done */
	struct job *jobs;   /* those jobs, owned here: a stopped run frees
	                       the ones fetch never finished */
	int single;         /* quotes one symbol per request from now on */

	int64_t now; /* when the sync began, wall clock */
	long batches_done, updated, failed;
	const char **failed_syms; /* borrowed from res[].symbol */
	size_t nfailed;

	size_t first_round, first_round_marked;
	size_t first_round_done, first_round_refused;

	double fx_rate;
	const char *fx_basis;
	char fx_error[300];
	struct rate rates[MAX_RATES];
	size_t nrates;

	struct ps_budget budget; /* every request passes it (SPEC §8) */
	int64_t t0;
	int stopped; /* a fatal error is in stop */
	struct ps_err stop;
};

static void
emit(struct run *r, struct ps_event *ev)
{
	char *line = ps_event_json(ev);

	/* Readers (status) show the latest event of the running sync; losing
	 * one to a failed write only makes the status lag, so it is not
	 * fatal. */
	if (line != NULL && ev->type != PS_EV_ERROR &&
	    ev->type != PS_EV_COMPLETE)
		ps_job_progress(r->s, line);
	free(line);
	r->cb(ev, r->arg);
}

static int
stop(struct run *r, enum ps_code code, const char *msg)
{
	if (!r->stopped) {
		r->stopped = 1;
		ps_err_set(&r->stop, code, "%s", msg);
	}
	return 1;
}

static int
rate_index(struct run *r, const char *ccy)
{
	size_t i;

	for (i = 0; i < r->nrates; i++)
		if (strcmp(r->rates[i].ccy, ccy) == 0)
			return (int)i;
	return -1;
}

/* A currency that needs its own CCYGBP rate (§8): not USD, GBP, GBp. */
static int
needs_rate(const char *ccy)
{
	return ccy[0] != '\0' && strcmp(ccy, "USD") != 0 &&
	       strcmp(ccy, "GBP") != 0 && strcmp(ccy, "GBp") != 0;
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

static int
queue(struct run *r, const char *url, struct job *j, struct ps_err *err)
{
	int rc;

	if (url == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	/* The first round of §4 is quote requests: an fx, rate or profile
	 * request that cannot connect says nothing about the quotes. */
	if ((j->kind == JOB_BATCH || j->kind == JOB_SINGLE) &&
	    r->first_round_marked < r->first_round) {
		j->first_round = 1;
		r->first_round_marked++;
	}
	rc = ps_fetch_add(r->f, url, j, err);
	if (rc < 0) {
		free(j);
		return -1;
	}
	r->outstanding++;
	j->next = r->jobs;
	if (r->jobs != NULL)
		r->jobs->prev = j;
	r->jobs = j;
	return 0;
}

static int
queue_job(struct run *r, enum job_kind kind, size_t batch, size_t sym,
          struct ps_err *err)
{
	struct job *j = calloc(1, sizeof(*j));
	char *url = NULL;
	int rc;

	if (j == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	j->kind = kind;
	j->batch = batch;
	j->sym = sym;
	switch (kind) {
	case JOB_BATCH: {
		struct batch *b = &r->batches[batch];
		const char **syms = malloc(b->count * sizeof(*syms));
		size_t i;

		if (syms == NULL)
			break;
		for (i = 0; i < b->count; i++)
			syms[i] = r->res[b->first + i].symbol;
		url = ps_fmp_url_batch(r->c, syms, b->count);
		free(syms);
		break;
	}
	case JOB_SINGLE:
		url = ps_fmp_url_single(r->c, r->res[sym].symbol);
		break;
	case JOB_PROFILE:
		url = ps_fmp_url_profile(r->c, r->res[sym].symbol);
		break;
	case JOB_FX:
	case JOB_RATE:
		break; /* queue_pair */
	}
	rc = queue(r, url, j, err);
	free(url);
	return rc;
}

/* Queues the request for the CCYGBP rate (JOB_FX: USD, JOB_RATE: the
 * rate slot's currency), or with inverse for GBPCCY (§8: fx_pair GBPUSD,
 * or a plan that refuses the pair). */
static int
queue_pair(struct run *r, enum job_kind kind, size_t rate, int inverse,
           int flipped, struct ps_err *err)
{
	struct job *j = calloc(1, sizeof(*j));
	const char *ccy = kind == JOB_FX ? "USD" : r->rates[rate].ccy;
	char pair[8];
	char *url;
	int rc;

	if (j == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	j->kind = kind;
	j->rate = rate;
	j->inverse = inverse;
	j->flipped = flipped;
	snprintf(pair, sizeof(pair), inverse ? "GBP%.3s" : "%.3sGBP", ccy);
	url = ps_fmp_url_fx(r->c, pair);
	rc = queue(r, url, j, err);
	free(url);
	return rc;
}

/* The slot of ccy's CCYGBP rate, added if new; -1 when the table is full
 * (such symbols are then valued null, as for a failed rate). */
static int
rate_slot(struct run *r, const char *ccy)
{
	int i = rate_index(r, ccy);

	if (i >= 0 || r->nrates == MAX_RATES)
		return i;
	i = (int)r->nrates++;
	ps_utf8_copy(r->rates[i].ccy, sizeof(r->rates[i].ccy), ccy);
	r->rates[i].value = NAN;
	return i;
}

static int
queue_rate(struct run *r, const char *ccy, struct ps_err *err)
{
	int i = rate_slot(r, ccy);

	if (i < 0 || r->rates[i].queued)
		return 0;
	r->rates[i].queued = 1;
	return queue_pair(r, JOB_RATE, (size_t)i, 0, 0, err);
}

static int
wants_profile(const struct run *r, const struct ps_symrec *rec)
{
	return ps_symrec_wants_profile(rec, r->now);
}

static int
send_batch_quotes(struct run *r, size_t bi, int single, struct ps_err *err)
{
	struct batch *b = &r->batches[bi];
	size_t i;

	if (!single) {
		b->pending++;
		return queue_job(r, JOB_BATCH, bi, 0, err);
	}
	for (i = 0; i < b->count; i++) {
		b->pending++;
		if (queue_job(r, JOB_SINGLE, bi, b->first + i, err) < 0)
			return -1;
	}
	return 0;
}

/* Keeps fetch's queue a little longer than its slots, so no slot idles,
 * while the batches not yet sent can still change mode. */
static int
top_up(struct run *r, struct ps_err *err)
{
	size_t want = (size_t)r->c->concurrency * 2;

	while (r->outstanding < want && r->next_batch < r->nbatches) {
		size_t bi = r->next_batch++;
		struct batch *b = &r->batches[bi];
		size_t i;

		for (i = 0; i < b->count; i++) {
			if (!wants_profile(r, &r->res[b->first + i]))
				continue;
			b->pending++;
			if (queue_job(r, JOB_PROFILE, bi, b->first + i, err) <
			    0)
				return -1;
		}
		if (send_batch_quotes(r, bi, r->single, err) < 0)
			return -1;
	}
	return 0;
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
	if (ps_store_apply_batch(t, &r->res[b->first], b->count, now, err) <
	            0 ||
	    ps_settings_set_doc(t, PS_SET_PROGRESS, progress, err) < 0 ||
	    (requests != 0 &&
	     ps_settings_requests_add(t, now, requests, NULL, err) < 0)) {
		ps_txn_abort(&t);
		return -1;
	}
	return ps_txn_commit(&t, err);
}

static int
finish_batch(struct run *r, size_t bi)
{
	struct batch *b = &r->batches[bi];
	struct ps_event ev = {.type = PS_EV_PROGRESS};
	const char **bad = r->failed_syms + r->nfailed;
	struct ps_err err;
	long requests = ps_budget_pending(&r->budget);
	size_t i, nbad = 0;
	char *line;
	int rc;

	for (i = 0; i < b->count; i++)
		if (r->res[b->first + i].error[0] != '\0')
			bad[nbad++] = r->res[b->first + i].symbol;
	r->batches_done++;
	ev.batch = r->batches_done;
	ev.batches = (long)r->nbatches;
	ev.total = (long)r->n;
	ev.updated = r->updated + (long)(b->count - nbad);
	ev.failed = r->failed + (long)nbad;
	ev.done = ev.updated + ev.failed;
	ev.error = b->error[0] ? b->error : NULL;
	ev.failed_symbols = bad;
	ev.n_failed_symbols = nbad;
	line = ps_event_json(&ev);
	if (line == NULL)
		return stop(r, PS_ENOMEM, "out of memory");
	rc = write_batch(r, b, line, requests, &err);
	free(line);
	if (rc < 0)
		return stop(r, err.code, err.msg);
	ps_budget_recorded(&r->budget, requests);
	r->nfailed += nbad;
	r->updated = ev.updated;
	r->failed = ev.failed;
	r->cb(&ev, r->arg);
	return 0;
}

static void
fail_symbols(struct run *r, size_t first, size_t count, const char *why)
{
	size_t i;

	for (i = first; i < first + count; i++)
		ps_utf8_copy(r->res[i].error, sizeof(r->res[i].error), why);
}

/* Errors that no other request can get past (§4, §8). */
static int
fatal_verdict(struct run *r, const struct ps_fetch_res *res)
{
	struct ps_err e;

	if (!ps_fmp_verdict_fatal(res->verdict, res->error, &e))
		return 0;
	return stop(r, e.code, e.msg);
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

static int
on_batch(struct run *r, struct job *j, const struct ps_fetch_res *res,
         struct ps_err *err)
{
	struct batch *b = &r->batches[j->batch];

	if (res->verdict == PS_FMP_OK) {
		if (ps_fmp_parse_quotes(res->body, res->len, &r->res[b->first],
		                        b->count, err) < 0) {
			ps_utf8_copy(b->error, sizeof(b->error), err->msg);
			fail_symbols(r, b->first, b->count, err->msg);
		}
		return 0;
	}
	if (res->verdict == PS_FMP_RESTRICTED) {
		if (r->c->fmp_batch != PS_BATCH_AUTO)
			return stop(r, PS_EUPSTREAM_PLAN,
			            "FMP refused batch quotes for this key's "
			            "plan: set fmp_batch = auto or single");
		/* The plan has no batch quotes: this batch and every later
		 * one go one symbol per request (§8). */
		if (!r->single) {
			r->single = 1;
			if (set_time(r->s, PS_SET_SINGLE_SINCE, time(NULL),
			             err) < 0)
				return -1;
		}
		return send_batch_quotes(r, j->batch, 1, err);
	}
	if (res->verdict == PS_FMP_SYMBOL_PLAN)
		/* A symbol outside the plan spoils the batch: ask one by one
		 * so only that symbol fails. */
		return send_batch_quotes(r, j->batch, 1, err);
	ps_utf8_copy(b->error, sizeof(b->error), res->error);
	fail_symbols(r, b->first, b->count, res->error);
	return 0;
}

static int
on_single(struct run *r, struct job *j, const struct ps_fetch_res *res,
          struct ps_err *err)
{
	struct ps_symrec *rec = &r->res[j->sym];

	switch (res->verdict) {
	case PS_FMP_OK:
		if (ps_fmp_parse_quotes(res->body, res->len, rec, 1, err) < 0)
			ps_utf8_copy(rec->error, sizeof(rec->error), err->msg);
		return 0;
	case PS_FMP_SYMBOL_PLAN:
		snprintf(rec->error, sizeof(rec->error),
		         "not in your FMP plan");
		return 0;
	case PS_FMP_RESTRICTED:
		return stop(r, PS_EUPSTREAM_PLAN,
		            "FMP refused quotes for this key's plan: check "
		            "the key's subscription");
	default:
		ps_utf8_copy(rec->error, sizeof(rec->error), res->error);
		return 0;
	}
}

static int
on_profile(struct run *r, struct job *j, const struct ps_fetch_res *res,
           struct ps_err *err)
{
	struct ps_symrec *rec = &r->res[j->sym];
	char ccy[PS_CCY_MAX];

	/* Remembered whatever the answer: the next call is due only after
	 * PS_PROFILE_RETRY_DAYS (each call counts against the quota). */
	rec->profile_at = r->now;
	/* A failed or refused profile leaves the suffix rule (§8). */
	if (res->verdict != PS_FMP_OK ||
	    ps_fmp_parse_profile(res->body, res->len, ccy, err) < 0)
		return 0;
	ps_utf8_copy(rec->currency, sizeof(rec->currency), ccy);
	rec->currency_src = PS_CCY_PROFILE;
	if (needs_rate(ccy))
		return queue_rate(r, ccy, err);
	return 0;
}

/* The CCYGBP rate in an fx answer to j, inverted when j asked for
 * GBPCCY. -1 with err when there is none. */
static int
pair_rate(struct run *r, struct job *j, const struct ps_fetch_res *res,
          double *rate, const char **basis, struct ps_err *err)
{
	double v;

	if (res->verdict != PS_FMP_OK)
		return ps_err_set(err, PS_EUPSTREAM, "%s", res->error);
	if (ps_fmp_parse_fx(res->body, res->len, r->c->fmp_api, &v, basis,
	                    err) < 0)
		return -1;
	if (j->inverse) {
		v = 1.0 / v;
		*basis = "inverse";
		if (!isfinite(v) || v <= 0)
			return ps_err_set(err, PS_EUPSTREAM,
			                  "no usable fx rate in FMP's answer "
			                  "(its inverse is not a number)");
	}
	*rate = v;
	return 0;
}

/* A plan that refuses a pair may have its inverse (§8: free plans cover
 * GBPUSD but maybe not USDGBP): ask for it, once. 1 when queued. */
static int
try_inverse(struct run *r, struct job *j, const struct ps_fetch_res *res,
            struct ps_err *err)
{
	if (res->verdict != PS_FMP_SYMBOL_PLAN || j->flipped)
		return 0;
	if (queue_pair(r, j->kind, j->rate, !j->inverse, 1, err) < 0)
		return -1;
	return 1;
}

static int
on_fx(struct run *r, struct job *j, const struct ps_fetch_res *res,
      struct ps_err *err)
{
	struct ps_err why;
	int rc = try_inverse(r, j, res, err);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (pair_rate(r, j, res, &r->fx_rate, &r->fx_basis, &why) < 0) {
		r->fx_rate = NAN;
		ps_utf8_copy(r->fx_error, sizeof(r->fx_error), why.msg);
	}
	return 0;
}

static int
on_rate(struct run *r, struct job *j, const struct ps_fetch_res *res,
        struct ps_err *err)
{
	struct rate *rt = &r->rates[j->rate];
	int rc = try_inverse(r, j, res, err);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (pair_rate(r, j, res, &rt->value, &rt->basis, NULL) < 0)
		rt->value = NAN;
	return 0;
}

/* upstream_unavailable (§4): every request of the first round failed to
 * connect, so nothing reached FMP and nothing later will. */
static int
first_round(struct run *r, const struct ps_fetch_res *res, char *why)
{
	r->first_round_done++;
	if (res->connect_failed) {
		r->first_round_refused++;
		ps_utf8_copy(why, 300, res->error);
	}
	return r->first_round_done == r->first_round &&
	       r->first_round_refused == r->first_round;
}

static int
on_done(const struct ps_fetch_res *res, void *arg)
{
	struct run *r = arg;
	struct job *j = res->user;
	struct ps_err err;
	char why[300];
	int rc = 0;

	r->outstanding--;
	if (fatal_verdict(r, res))
		goto free_job;
	if (j->first_round && first_round(r, res, why)) {
		stop(r, PS_EUPSTREAM_UNAVAILABLE, why);
		goto free_job;
	}
	ps_err_clear(&err);
	switch (j->kind) {
	case JOB_BATCH:
		rc = on_batch(r, j, res, &err);
		break;
	case JOB_SINGLE:
		rc = on_single(r, j, res, &err);
		break;
	case JOB_PROFILE:
		rc = on_profile(r, j, res, &err);
		break;
	case JOB_FX:
		rc = on_fx(r, j, res, &err);
		break;
	case JOB_RATE:
		rc = on_rate(r, j, res, &err);
		break;
	}
	if (rc < 0) {
		stop(r, err.code, err.msg);
		goto free_job;
	}
	if (r->stopped)
		goto free_job;
	if (j->kind == JOB_BATCH || j->kind == JOB_SINGLE ||
	    j->kind == JOB_PROFILE) {
		struct batch *b = &r->batches[j->batch];

		if (--b->pending == 0 && finish_batch(r, j->batch))
			goto free_job;
	}
	if (top_up(r, &err) < 0)
		stop(r, err.code, err.msg);
free_job:
	job_free(r, j);
	return r->stopped;
}

/* ---- before the start: checks that make a sync "no sync at all" ---- */

static int
check_cooldown(struct run *r, enum ps_sync_origin origin, int64_t now,
               struct ps_err *err)
{
	int64_t last;
	int rc;

	if (origin != PS_SYNC_WEB || r->c->min_interval_s == 0)
		return 0;
	rc = get_time(r->s, PS_SET_SYNC_STARTED_AT, &last, err);
	if (rc <= 0)
		return rc;
	if (now - last >= r->c->min_interval_s || now < last)
		return 0;
	ps_err_set(err, PS_ECOOLDOWN,
	           "a sync started %lld s ago; the next may start in %lld s "
	           "(min_interval_s = %d)",
	           (long long)(now - last),
	           (long long)(last + r->c->min_interval_s - now),
	           r->c->min_interval_s);
	err->retry_after = (long)(last + r->c->min_interval_s - now);
	return -1;
}

/* Batch mode unless the plan refused it within the last 7 days (§8). */
static int
pick_mode(struct run *r, int64_t now, struct ps_err *err)
{
	int64_t since;
	int rc;

	if (r->c->fmp_batch == PS_BATCH_SINGLE) {
		r->single = 1;
		return 0;
	}
	if (r->c->fmp_batch == PS_BATCH_BATCH)
		return 0;
	rc = get_time(r->s, PS_SET_SINGLE_SINCE, &since, err);
	if (rc < 0)
		return -1;
	if (rc == 1 && now - since < SINGLE_RETRY_DAYS * 86400)
		r->single = 1;
	return 0;
}

static long
requests_needed(struct run *r)
{
	long need = r->single ? (long)r->n : (long)r->nbatches;
	size_t i;

	if (r->n == 0)
		return 0;
	need += 1 + (long)r->nrates;
	for (i = 0; i < r->n; i++)
		need += wants_profile(r, &r->res[i]);
	return need;
}

/* The up-front estimate (SPEC §2): a sync that would pass the limit does
 * not start. The estimate cannot see retries or a switch to single mode;
 * the budget stops those request by request. */
static int
check_daily_limit(struct run *r, int64_t now, struct ps_err *err)
{
	long left, need;

	if (ps_budget_left(&r->budget, now, &left, NULL, err) < 0)
		return -1;
	need = requests_needed(r);
	if (need <= left)
		return 0;
	return ps_budget_refuse(&r->budget, "this sync", need, left, err);
}

static int
load_symbols(struct run *r, struct ps_err *err)
{
	size_t i, bs = (size_t)r->c->batch_size;
	struct ps_txn *t;
	int rc;

	if (ps_txn_begin(r->s, 0, &t, err) < 0)
		return -1;
	rc = ps_store_sym_list(t, &r->res, &r->n, err);
	ps_txn_abort(&t);
	if (rc < 0)
		return -1;
	r->nbatches = (r->n + bs - 1) / bs;
	r->batches = calloc(r->nbatches ? r->nbatches : 1, sizeof(*r->batches));
	r->failed_syms = calloc(r->n ? r->n : 1, sizeof(*r->failed_syms));
	if (r->batches == NULL || r->failed_syms == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	for (i = 0; i < r->nbatches; i++) {
		r->batches[i].first = i * bs;
		r->batches[i].count = r->n - i * bs < bs ? r->n - i * bs : bs;
	}
	/* Results start from the stored records: quantity and currency
	 * are the store's business, and a failed symbol keeps its price. */
	for (i = 0; i < r->n; i++) {
		r->res[i].error[0] = '\0';
		if (needs_rate(r->res[i].currency))
			rate_slot(r, r->res[i].currency);
	}
	return 0;
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
	    !cJSON_AddNumberToObject(o, "failed", r->failed) ||
	    (a = cJSON_AddArrayToObject(o, "failed_symbols")) == NULL)
		goto free_json;
	for (i = 0; i < r->nfailed; i++) {
		cJSON *sym = cJSON_CreateString(r->failed_syms[i]);

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
store_rates(struct run *r, struct ps_txn *t, int64_t now, struct ps_err *err)
{
	char pair[8], *doc;
	size_t i;
	int rc;

	if (!isnan(r->fx_rate)) {
		doc = json_fx("USDGBP", r->fx_rate, r->fx_basis, now);
		rc = doc == NULL ? ps_err_set(err, PS_ENOMEM, "out of memory")
		                 : ps_settings_set_doc(t, PS_SET_FX, doc, err);
		free(doc);
		if (rc < 0 ||
		    ps_store_fx_put(t, "USDGBP", now, r->fx_rate, err) < 0)
			return -1;
	}
	for (i = 0; i < r->nrates; i++) {
		if (isnan(r->rates[i].value))
			continue;
		snprintf(pair, sizeof(pair), "%.3sGBP", r->rates[i].ccy);
		doc = json_fx(pair, r->rates[i].value, r->rates[i].basis, now);
		rc = doc == NULL ? ps_err_set(err, PS_ENOMEM, "out of memory")
		                 : ps_settings_set_rate(t, r->rates[i].ccy, doc,
		                                        err);
		free(doc);
		if (rc < 0 ||
		    ps_store_fx_put(t, pair, now, r->rates[i].value, err) < 0)
			return -1;
	}
	return 0;
}

/* One transaction for everything a complete sync leaves behind, so a
 * reader never sees last_synced without its result, nor the result
 * uncounted. */
static int
store_outcome(struct run *r, int64_t now, long duration_ms,
              int64_t *last_synced, struct ps_err *err)
{
	char *result = json_result(r, duration_ms);
	struct ps_txn *t;
	int rc = -1;

	if (result == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	if (ps_txn_begin(r->s, 1, &t, err) < 0)
		goto free_result;
	if (ps_settings_set_doc(t, PS_SET_PROGRESS, NULL, err) < 0 ||
	    ps_settings_set_doc(t, PS_SET_LAST_RESULT, result, err) < 0 ||
	    store_rates(r, t, now, err) < 0 ||
	    ((r->updated > 0 || r->n == 0) &&
	     ps_settings_set_time(t, PS_SET_LAST_SYNCED, now, err) < 0) ||
	    (!r->single && r->c->fmp_batch == PS_BATCH_AUTO &&
	     ps_settings_clear_time(t, PS_SET_SINGLE_SINCE, err) < 0) ||
	    ps_metrics_count_sync(
	            t, r->failed ? PS_SYNC_PARTIAL : PS_SYNC_COMPLETE, err) < 0)
		goto txn_abort;
	if (ps_txn_commit(&t, err) < 0)
		goto free_result;
	if (r->updated > 0 || r->n == 0)
		*last_synced = now;
	rc = 0;
	goto free_result;
txn_abort:
	ps_txn_abort(&t);
free_result:
	free(result);
	return rc;
}

static void
emit_complete(struct run *r)
{
	struct ps_event ev = {.type = PS_EV_COMPLETE};

	ev.total = (long)r->n;
	ev.updated = r->updated;
	ev.failed = r->failed;
	ev.failed_symbols = r->failed_syms;
	ev.n_failed_symbols = r->nfailed;
	ev.mode = r->single ? "single" : "batch";
	ev.fx_rate = r->fx_rate;
	ev.fx_error = r->fx_error[0] ? r->fx_error : NULL;
	ev.duration_ms = (long)(ps_monotonic_ms() - r->t0);
	ev.last_synced = ps_job_last_synced(r->s);
	/* Counted before the event leaves, so a reader who saw it sees it
	 * counted. */
	if (store_outcome(r, time(NULL), ev.duration_ms, &ev.last_synced,
	                  &r->stop) < 0) {
		r->stopped = 1;
		return;
	}
	emit(r, &ev);
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
	ev.failed = r->failed;
	/* The status only lags if this cannot be written: the error the
	 * caller must hear about is e. */
	if (started && ps_txn_begin(r->s, 1, &t, NULL) == 0) {
		if (ps_settings_set_doc(t, PS_SET_PROGRESS, NULL, NULL) < 0 ||
		    ps_metrics_count_sync(t, PS_SYNC_ERROR, NULL) < 0)
			ps_txn_abort(&t);
		else
			ps_txn_commit(&t, NULL);
	}
	emit(r, &ev);
}

static int
start(struct run *r, int64_t now, struct ps_err *err)
{
	struct ps_event ev = {.type = PS_EV_START};
	size_t i;

	if (set_time(r->s, PS_SET_SYNC_STARTED_AT, now, err) < 0)
		return -1;
	r->t0 = ps_monotonic_ms();
	ev.total = (long)r->n;
	ev.batches = (long)r->nbatches;
	ev.started_at = now;
	emit(r, &ev);
	if (r->n == 0)
		return 0;
	/* The first `concurrency` quote requests (§4): batches, or in single
	 * mode single quotes. */
	r->first_round = (size_t)r->c->concurrency;
	if (r->first_round > (r->single ? r->n : r->nbatches))
		r->first_round = r->single ? r->n : r->nbatches;
	if (queue_pair(r, JOB_FX, 0, strcmp(r->c->fx_pair, "GBPUSD") == 0, 0,
	               err) < 0)
		return -1;
	for (i = 0; i < r->nrates; i++)
		if (queue_rate(r, r->rates[i].ccy, err) < 0)
			return -1;
	return top_up(r, err);
}

static void
run_free(struct run *r)
{
	ps_fetch_free(r->f);
	while (r->jobs != NULL)
		job_free(r, r->jobs);
	free(r->res);
	free(r->batches);
	free(r->failed_syms);
}

int
ps_sync_run(const struct ps_conf *c, struct ps_store *s,
            enum ps_sync_origin origin, ps_sync_cb cb, void *arg,
            struct ps_err *err)
{
	struct run r;
	struct ps_lock lock = {.fd = -1};
	int64_t now = time(NULL);
	int rc;

	memset(&r, 0, sizeof(r));
	r.c = c, r.s = s, r.cb = cb, r.arg = arg, r.fx_rate = NAN, r.now = now;
	ps_budget_init(&r.budget, s, c->daily_request_limit);
	ps_err_clear(err);
	if (ps_conf_check_key(c, err) < 0)
		goto not_started;
	rc = ps_lock_try(&lock, ps_store_dir(s), err);
	if (rc < 0)
		goto not_started;
	if (rc == 0) {
		ps_err_set(err, PS_ESYNC_IN_PROGRESS,
		           "another sync is running; try again when it ends");
		goto not_started;
	}
	if (ps_job_clear_dead(s, err) < 0 ||
	    check_cooldown(&r, origin, now, err) < 0 ||
	    load_symbols(&r, err) < 0 || pick_mode(&r, now, err) < 0 ||
	    check_daily_limit(&r, now, err) < 0 ||
	    (r.f = ps_fetch_new(c, &fmp_judge, err)) == NULL)
		goto release_lock;
	ps_fetch_set_budget(r.f, &r.budget);
	if (start(&r, now, err) < 0 ||
	    (r.n > 0 && ps_fetch_run(r.f, on_done, &r, err) < 0))
		stop(&r, err->code, err->msg);
	if (!r.stopped && r.batches_done != (long)r.nbatches) {
		ps_err_set(&r.stop, PS_EINTERNAL,
		           "sync ended with %ld of %zu batches done",
		           r.batches_done, r.nbatches);
		r.stopped = 1;
	}
	/* Losing the count of the last requests only makes the status lag;
	 * the sync's own outcome is what the caller must hear about. */
	ps_budget_flush(&r.budget, time(NULL), NULL);
	if (!r.stopped)
		emit_complete(&r);
	if (r.stopped) {
		*err = r.stop;
		emit_error(&r, err, 1);
	}
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

/* ---- pricesync add --refresh-profile ---- */

struct profiles {
	struct ps_store *s;
	const char *const *symbols;
	int failed;
	struct ps_err err;
};

static int
set_currency(struct ps_store *s, const char *sym, const char *ccy,
             struct ps_err *err)
{
	struct ps_txn *t;

	if (ps_txn_begin(s, 1, &t, err) < 0)
		return -1;
	if (ps_store_sym_set_currency(t, sym, ccy, err) < 0) {
		ps_txn_abort(&t);
		return -1;
	}
	return ps_txn_commit(&t, err);
}

static int
on_profile_only(const struct ps_fetch_res *res, void *arg)
{
	struct profiles *p = arg;
	const char *sym = p->symbols[(size_t)(uintptr_t)res->user];
	char ccy[PS_CCY_MAX];
	struct ps_err err;

	if (p->failed)
		return 1;
	if (res->verdict != PS_FMP_OK) {
		ps_err_set(&p->err, PS_EUPSTREAM, "profile of %s: %s", sym,
		           res->error);
		p->failed = 1;
	} else if (ps_fmp_parse_profile(res->body, res->len, ccy, &err) < 0) {
		ps_err_set(&p->err, err.code, "profile of %s: %s", sym,
		           err.msg);
		p->failed = 1;
	} else if (set_currency(p->s, sym, ccy, &p->err) < 0) {
		p->failed = 1;
	}
	return p->failed;
}

int
ps_sync_profiles(const struct ps_conf *c, struct ps_store *s,
                 const char *const *symbols, size_t n, struct ps_err *err)
{
	struct profiles p = {.s = s, .symbols = symbols};
	struct ps_budget budget;
	struct ps_fetch *f;
	long left;
	size_t i;
	int rc = -1;

	if (ps_conf_check_key(c, err) < 0)
		return -1;
	ps_budget_init(&budget, s, c->daily_request_limit);
	if (ps_budget_left(&budget, time(NULL), &left, NULL, err) < 0)
		return -1;
	if ((long)n > left)
		return ps_budget_refuse(&budget, "reading these profiles",
		                        (long)n, left, err);
	f = ps_fetch_new(c, &fmp_judge, err);
	if (f == NULL)
		return -1;
	ps_fetch_set_budget(f, &budget);
	for (i = 0; i < n; i++) {
		char *url = ps_fmp_url_profile(c, symbols[i]);
		int added =
		        url ? ps_fetch_add(f, url, (void *)(uintptr_t)i, err)
		            : ps_err_set(err, PS_ENOMEM, "out of memory");

		free(url);
		if (added < 0)
			goto free_fetch;
	}
	if (ps_fetch_run(f, on_profile_only, &p, err) < 0)
		goto flush_budget;
	if (p.failed) {
		*err = p.err;
		goto flush_budget;
	}
	rc = 0;
flush_budget:
	/* What was sent counts, whatever became of it. */
	ps_budget_flush(&budget, time(NULL), NULL);
free_fetch:
	ps_fetch_free(f);
	return rc;
}
