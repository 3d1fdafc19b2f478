/*
 * backfill: see backfill.h. Each series (a symbol, or an fx pair) is cut
 * into windows of at most WINDOW_DAYS days; every window is one request,
 * all queued on fetch at once (fetch keeps `concurrency` in flight). A
 * series is finished when all its windows are: its rows go to the store
 * in one write transaction with its backfill record, the progress readers
 * see and the request count, and one progress event follows (symbols
 * only). A pair the plan refuses, or that has no history (FMP may lack
 * USDGBP), is asked once more as its inverse (GBPUSD) and inverted.
 *
 * Limits: rows are kept in memory per series until it finishes (a year is
 * ~250 rows); the whole symbol list is read at start.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backfill.h"
#include "budget.h"
#include "eod.h"
#include "fetch.h"
#include "fmp.h"
#include "isotime.h"
#include "job.h"
#include "lock.h"
#include "settings.h"
#include "symbol.h"
#include "utf8.h"

/* What FMP's answers mean, for the fetch engine. */
static const struct ps_fetch_judge fmp_judge = PS_FMP_JUDGE;

/* Five years, the most one request asks for (fmp-api.md §9: far below
 * the 5,000-row cap, and what FMP's v3 documentation asked for). */
#define WINDOW_DAYS (5 * 365)
#define MAX_PAIRS 16
/* Finished series are written together: a commit (an fsync) per symbol
 * would cost more than the requests. */
#define FLUSH_SERIES 64
#define FLUSH_MS 250

struct series {
	char name[PS_SYMBOL_MAX + 1]; /* symbol, or pair "USDGBP" */
	enum ps_series kind;
	int inverted;   /* asked as the inverse pair: rows are 1/close */
	int refused;    /* the plan refused it ("not in your FMP plan") */
	size_t pending; /* windows not finished */
	struct ps_point *rows;
	size_t n, cap;
	char error[300]; /* "" while it goes well */
};

struct win {
	size_t series;
	int64_t from, to;
	int first_round;
};

struct bf {
	const struct ps_conf *c;
	struct ps_store *s;
	ps_sync_cb cb;
	void *arg;
	struct ps_fetch *f;
	struct ps_budget budget; /* every request passes it (SPEC §8) */

	struct series *ser; /* symbols first, then pairs */
	size_t nsym, nser;
	size_t *ready; /* finished series not yet written */
	size_t nready;
	int64_t last_flush; /* monotonic ms */
	struct win *wins;   /* every window asked, owned here */
	size_t nwins, capwins;
	int64_t from, to, now;

	long done, updated, failed;
	const char **failed_syms; /* borrowed from ser[].name */
	size_t nfailed;
	double fx_rate;
	char fx_error[300];

	size_t first_round, first_round_done, first_round_refused;
	int64_t t0;
	int stopped;
	struct ps_err stop;
};

static int
stop(struct bf *b, enum ps_code code, const char *msg)
{
	if (!b->stopped) {
		b->stopped = 1;
		ps_err_set(&b->stop, code, "%s", msg);
	}
	return 1;
}

static void
emit(struct bf *b, struct ps_event *ev)
{
	char *line;

	if (ev->type == PS_EV_START) {
		line = ps_event_json(ev);
		/* Only the status lags if this fails: not fatal. */
		if (line != NULL)
			ps_job_progress(b->s, line);
		free(line);
	}
	b->cb(ev, b->arg);
}

/* ---- windows and requests ---- */

static size_t
windows_of(int64_t from, int64_t to)
{
	int64_t days = (to - from) / PS_DAY + 1;

	return days <= 0 ? 0 : (size_t)((days + WINDOW_DAYS - 1) / WINDOW_DAYS);
}

/* The name asked upstream: the pair itself, or its inverse. */
static void
asked_name(const struct series *sr, char out[PS_SYMBOL_MAX + 1])
{
	if (sr->inverted)
		snprintf(out, PS_SYMBOL_MAX + 1, "%.3s%.3s", sr->name + 3,
		         sr->name);
	else
		snprintf(out, PS_SYMBOL_MAX + 1, "%s", sr->name);
}

static int
queue_window(struct bf *b, size_t si, int64_t from, int64_t to,
             struct ps_err *err)
{
	char name[PS_SYMBOL_MAX + 1], *url;
	struct win *w;
	int rc;

	if (b->nwins == b->capwins)
		return ps_err_set(err, PS_EINTERNAL,
		                  "backfill: window table "
		                  "full");
	w = &b->wins[b->nwins];
	w->series = si, w->from = from, w->to = to;
	w->first_round = b->nwins < b->first_round;
	asked_name(&b->ser[si], name);
	url = ps_eod_url(b->c, name, from, to);
	if (url == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	rc = ps_fetch_add(b->f, url, w, err);
	free(url);
	if (rc < 0)
		return -1;
	b->nwins++;
	b->ser[si].pending++;
	return 0;
}

static int
queue_series(struct bf *b, size_t si, struct ps_err *err)
{
	int64_t from;

	for (from = b->from; from <= b->to; from += WINDOW_DAYS * PS_DAY) {
		int64_t to = from + (WINDOW_DAYS - 1) * (int64_t)PS_DAY;

		if (queue_window(b, si, from, to < b->to ? to : b->to, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- results ---- */

static int
rows_add(struct series *sr, const struct ps_eod_row *rows, size_t n,
         struct ps_err *err)
{
	size_t i;

	if (sr->n + n > sr->cap) {
		size_t ncap = sr->n + n + 64;
		struct ps_point *p = realloc(sr->rows, ncap * sizeof(*p));

		if (p == NULL)
			return ps_err_set(err, PS_ENOMEM, "out of memory");
		sr->rows = p;
		sr->cap = ncap;
	}
	for (i = 0; i < n; i++) {
		sr->rows[sr->n].time = rows[i].day;
		sr->rows[sr->n].price =
		        sr->inverted ? 1.0 / rows[i].close : rows[i].close;
		sr->n++;
	}
	return 0;
}

/* The newest close of a series: windows finish in any order. */
static double
newest(const struct series *sr)
{
	size_t i, at = 0;

	for (i = 1; i < sr->n; i++)
		if (sr->rows[i].time > sr->rows[at].time)
			at = i;
	return sr->rows[at].price;
}

/* Notes what a finished fx series means for the complete event. */
static void
note_pair(struct bf *b, const struct series *sr)
{
	size_t k = strlen(sr->name);

	if (sr->error[0] == '\0') {
		if (sr->n > 0 && strcmp(sr->name, "USDGBP") == 0)
			b->fx_rate = newest(sr);
		return;
	}
	if (b->fx_error[0] != '\0')
		return;
	ps_utf8_copy(b->fx_error, sizeof(b->fx_error), sr->name);
	ps_utf8_copy(b->fx_error + k, sizeof(b->fx_error) - k, ": ");
	ps_utf8_copy(b->fx_error + k + 2, sizeof(b->fx_error) - k - 2,
	             sr->error);
}

/* The progress event of symbol series sr after the counts in *at, which
 * it advances. */
static void
progress_of(const struct bf *b, const struct series *sr, struct ps_event *at,
            const char **bad, struct ps_event *ev)
{
	int ok = sr->error[0] == '\0';

	memset(ev, 0, sizeof(*ev));
	ev->type = PS_EV_PROGRESS;
	ev->batch = ev->done = at->done + 1;
	ev->batches = ev->total = (long)b->nsym;
	ev->updated = at->updated + ok;
	ev->failed = at->failed + !ok;
	ev->error = ok ? NULL : sr->error;
	*bad = sr->name;
	ev->failed_symbols = ok ? NULL : bad;
	ev->n_failed_symbols = !ok;
	at->done = ev->done, at->updated = ev->updated, at->failed = ev->failed;
}

/* The last progress event this flush will yield, as readers should see
 * it; NULL when the flush has no symbol or out of memory (*oom set). */
static char *
last_progress(const struct bf *b, int *oom)
{
	struct ps_event at = {0}, ev;
	const char *bad;
	size_t i;
	int any = 0;

	at.done = b->done, at.updated = b->updated, at.failed = b->failed;
	for (i = 0; i < b->nready; i++) {
		const struct series *sr = &b->ser[b->ready[i]];

		if (sr->kind == PS_SERIES_SYMBOL) {
			progress_of(b, sr, &at, &bad, &ev);
			any = 1;
		}
	}
	if (!any)
		return NULL;
	{
		char *line = ps_event_json(&ev);

		*oom = line == NULL;
		return line;
	}
}

/* The finished series, the progress readers see and the request count,
 * in one transaction: one fsync, however many series. */
static int
write_ready(struct bf *b, const struct ps_daily_write *w, const char *progress,
            long requests, struct ps_err *err)
{
	struct ps_txn *t;
	size_t i;

	if (ps_txn_begin(b->s, 1, &t, err) < 0)
		return -1;
	for (i = 0; i < b->nready; i++)
		if (ps_store_daily_put(t, &w[i], NULL, err) < 0)
			goto txn_abort;
	if ((progress != NULL &&
	     ps_settings_set_doc(t, PS_SET_PROGRESS, progress, err) < 0) ||
	    (requests != 0 &&
	     ps_settings_requests_add(t, b->now, requests, NULL, err) < 0))
		goto txn_abort;
	return ps_txn_commit(&t, err);
txn_abort:
	ps_txn_abort(&t);
	return -1;
}

/* Writes every finished series, then tells the caller about each symbol
 * in it, in order. */
static int
flush(struct bf *b)
{
	struct ps_event at = {0}, ev;
	struct ps_daily_write *w;
	struct ps_err err;
	const char *bad;
	char *line;
	size_t i;
	long requests;
	int oom = 0;

	if (b->nready == 0)
		return 0;
	w = calloc(b->nready, sizeof(*w));
	line = last_progress(b, &oom);
	if (w == NULL || oom) {
		free(w);
		return stop(b, PS_ENOMEM, "out of memory");
	}
	for (i = 0; i < b->nready; i++) {
		struct series *sr = &b->ser[b->ready[i]];
		int ok = sr->error[0] == '\0';

		w[i].kind = sr->kind, w[i].name = sr->name;
		w[i].rows = ok ? sr->rows : NULL, w[i].n = ok ? sr->n : 0;
		w[i].record = ok, w[i].at = b->now, w[i].from = b->from;
	}
	requests = ps_budget_pending(&b->budget);
	if (write_ready(b, w, line, requests, &err) < 0) {
		free(line);
		free(w);
		return stop(b, err.code, err.msg);
	}
	ps_budget_recorded(&b->budget, requests);
	free(line);
	free(w);
	at.done = b->done, at.updated = b->updated, at.failed = b->failed;
	for (i = 0; i < b->nready; i++) {
		struct series *sr = &b->ser[b->ready[i]];

		if (sr->kind != PS_SERIES_SYMBOL) {
			note_pair(b, sr);
			continue;
		}
		progress_of(b, sr, &at, &bad, &ev);
		if (ev.n_failed_symbols)
			b->failed_syms[b->nfailed++] = sr->name;
		b->done = ev.done, b->updated = ev.updated,
		b->failed = ev.failed;
		b->cb(&ev, b->arg);
	}
	b->nready = 0;
	b->last_flush = ps_monotonic_ms();
	return 0;
}

/* A series is finished: it is written with the next flush, which comes
 * once FLUSH_SERIES are waiting or FLUSH_MS have passed (so the progress
 * stays lively), and after the last request. */
static int
finish_series(struct bf *b, size_t si)
{
	b->ready[b->nready++] = si;
	if (b->nready >= FLUSH_SERIES ||
	    ps_monotonic_ms() - b->last_flush >= FLUSH_MS)
		return flush(b);
	return 0;
}

/* Errors that no other request can get past (§8, §9). */
static int
fatal_verdict(struct bf *b, const struct ps_fetch_res *res)
{
	struct ps_err e;

	if (res->verdict == PS_FMP_RESTRICTED)
		return stop(b, PS_EUPSTREAM_PLAN,
		            "FMP refused end-of-day history for this key's "
		            "plan: check the key's subscription");
	if (!ps_fmp_verdict_fatal(res->verdict, res->error, &e))
		return 0;
	return stop(b, e.code, e.msg);
}

static int
on_window(struct bf *b, struct win *w, const struct ps_fetch_res *res,
          struct ps_err *err)
{
	struct series *sr = &b->ser[w->series];
	struct ps_eod_row *rows = NULL;
	size_t n = 0;
	int rc = 0;

	if (res->verdict == PS_FMP_SYMBOL_PLAN) {
		sr->refused = 1;
		ps_utf8_copy(sr->error, sizeof(sr->error),
		             "not in your FMP plan");
	} else if (res->verdict != PS_FMP_OK) {
		ps_utf8_copy(sr->error, sizeof(sr->error), res->error);
	} else if (ps_eod_parse(res->body, res->len, &rows, &n, err) < 0) {
		if (err->code == PS_ENOMEM)
			return -1;
		ps_utf8_copy(sr->error, sizeof(sr->error), err->msg);
	} else {
		rc = rows_add(sr, rows, n, err);
	}
	free(rows);
	return rc;
}

/* Once every window of a pair is in: a refusal or an empty history is
 * worth one more try as the inverse pair (fmp-api.md §9: USDGBP may be
 * missing where GBPUSD is not). 1 when it was queued again. */
static int
pair_retry(struct bf *b, size_t si, struct ps_err *err)
{
	struct series *sr = &b->ser[si];

	if (sr->kind != PS_SERIES_FX || sr->inverted ||
	    !(sr->refused || (sr->error[0] == '\0' && sr->n == 0)))
		return 0;
	sr->inverted = 1;
	sr->refused = 0;
	sr->error[0] = '\0';
	sr->n = 0;
	if (queue_series(b, si, err) < 0)
		return -1;
	return 1;
}

/* upstream_unavailable (§4): every request of the first round failed to
 * connect, so nothing reached FMP and nothing later will. */
static int
first_round(struct bf *b, const struct ps_fetch_res *res, char *why,
            size_t size)
{
	b->first_round_done++;
	if (res->connect_failed) {
		b->first_round_refused++;
		ps_utf8_copy(why, size, res->error);
	}
	return b->first_round_done == b->first_round &&
	       b->first_round_refused == b->first_round;
}

static int
on_done(const struct ps_fetch_res *res, void *arg)
{
	struct bf *b = arg;
	struct win *w = res->user;
	struct series *sr = &b->ser[w->series];
	struct ps_err err;
	char why[300];
	int rc;

	if (fatal_verdict(b, res))
		return 1;
	if (w->first_round && first_round(b, res, why, sizeof(why)))
		return stop(b, PS_EUPSTREAM_UNAVAILABLE, why);
	ps_err_clear(&err);
	if (on_window(b, w, res, &err) < 0)
		return stop(b, err.code, err.msg);
	if (--sr->pending > 0)
		return 0;
	rc = pair_retry(b, w->series, &err);
	if (rc < 0)
		return stop(b, err.code, err.msg);
	if (rc == 0 && finish_series(b, w->series))
		return 1;
	return b->stopped;
}

/* ---- before the start ---- */

static int
needs_pair(const char *ccy)
{
	return strlen(ccy) == 3 && strcmp(ccy, "GBP") != 0 &&
	       strcmp(ccy, "GBp") != 0;
}

static int
add_series(struct bf *b, enum ps_series kind, const char *name)
{
	struct series *sr = &b->ser[b->nser++];

	memset(sr, 0, sizeof(*sr));
	sr->kind = kind;
	ps_utf8_copy(sr->name, sizeof(sr->name), name);
	return 0;
}

/* The pairs the symbols' currencies use, each once, that this backfill
 * must (re)fetch: never backfilled, or not as far back as b->from. */
static int
pick_pairs(struct bf *b, struct ps_txn *t, const struct ps_symrec *recs,
           size_t n, struct ps_err *err)
{
	char pairs[MAX_PAIRS][8];
	size_t np = 0, i, k;

	for (i = 0; i < n && np < MAX_PAIRS; i++) {
		if (!needs_pair(recs[i].currency))
			continue;
		snprintf(pairs[np], sizeof(pairs[np]), "%sGBP",
		         recs[i].currency);
		for (k = 0; k < np && strcmp(pairs[k], pairs[np]); k++)
			;
		if (k == np)
			np++;
	}
	for (k = 0; k < np; k++) {
		struct ps_backfill_rec rec;
		int rc = ps_store_backfill_get(t, PS_SERIES_FX, pairs[k], &rec,
		                               err);

		if (rc < 0)
			return -1;
		/* A later backfill reaching further back (--days) extends
		 * the rates too; otherwise a pair is fetched once. */
		if (rc == 1 && (rec.from <= b->from || b->nsym == 0))
			continue;
		add_series(b, PS_SERIES_FX, pairs[k]);
	}
	return 0;
}

/* The symbols named (each must be tracked), or those never backfilled. */
static int
pick(struct bf *b, const struct ps_backfill_opts *o, struct ps_err *err)
{
	struct ps_symrec *recs = NULL;
	struct ps_txn *t;
	size_t n = 0, i, j;
	int rc = -1;

	if (ps_txn_begin(b->s, 0, &t, err) < 0)
		return -1;
	if (ps_store_sym_list(t, &recs, &n, err) < 0)
		goto txn_abort;
	b->ser = calloc(n + MAX_PAIRS + 1, sizeof(*b->ser));
	b->ready = calloc(n + MAX_PAIRS + 1, sizeof(*b->ready));
	b->failed_syms = calloc(n + 1, sizeof(*b->failed_syms));
	if (b->ser == NULL || b->ready == NULL || b->failed_syms == NULL) {
		ps_err_set(err, PS_ENOMEM, "out of memory");
		goto free_recs;
	}
	for (j = 0; j < o->nsymbols; j++) {
		for (i = 0; i < n && strcmp(recs[i].symbol, o->symbols[j]); i++)
			;
		if (i == n) {
			char q[PS_QUOTE_SIZE];

			ps_err_set(err, PS_EINVALID,
			           "%s: no such symbol (add it first)",
			           ps_err_quote(o->symbols[j], q));
			goto free_recs;
		}
	}
	for (i = 0; i < n; i++) {
		struct ps_backfill_rec rec;
		int named = 0, done;

		for (j = 0; j < o->nsymbols && !named; j++)
			named = strcmp(recs[i].symbol, o->symbols[j]) == 0;
		if (o->nsymbols > 0 && !named)
			continue;
		done = ps_store_backfill_get(t, PS_SERIES_SYMBOL,
		                             recs[i].symbol, &rec, err);
		if (done < 0)
			goto free_recs;
		if (named || !done)
			add_series(b, PS_SERIES_SYMBOL, recs[i].symbol);
	}
	b->nsym = b->nser;
	rc = pick_pairs(b, t, recs, n, err);
free_recs:
	free(recs);
txn_abort:
	ps_txn_abort(&t);
	return rc;
}

static long
requests_needed(const struct bf *b)
{
	return (long)(b->nser * windows_of(b->from, b->to));
}

/* The up-front check (SPEC §9): a backfill that would pass the limit
 * does not start. Retries and inverse pairs are not foreseen; the budget
 * stops those request by request. */
static int
check_daily_limit(struct bf *b, struct ps_err *err)
{
	return ps_budget_afford(&b->budget, b->now, "this backfill",
	                        requests_needed(b), err);
}

/* ---- start and end ---- */

static int
start(struct bf *b, struct ps_err *err)
{
	struct ps_event ev = {.type = PS_EV_START};
	size_t i;

	/* An inverse retry of each pair may add one round of windows. */
	b->capwins =
	        (b->nser + (b->nser - b->nsym)) * windows_of(b->from, b->to);
	b->wins = calloc(b->capwins ? b->capwins : 1, sizeof(*b->wins));
	if (b->wins == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	b->t0 = b->last_flush = ps_monotonic_ms();
	b->first_round = (size_t)b->c->concurrency;
	if (b->first_round > b->nser * windows_of(b->from, b->to))
		b->first_round = b->nser * windows_of(b->from, b->to);
	ev.total = ev.batches = (long)b->nsym;
	ev.started_at = b->now;
	emit(b, &ev);
	for (i = 0; i < b->nser; i++)
		if (queue_series(b, i, err) < 0)
			return -1;
	return 0;
}

static void
emit_end(struct bf *b, const struct ps_err *e, int started)
{
	struct ps_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.updated = b->updated;
	ev.failed = b->failed;
	if (started)
		ps_job_progress(b->s, NULL);
	if (e != NULL) {
		ev.type = PS_EV_ERROR;
		ev.code = e->code;
		ev.message = e->msg;
		ev.started = started;
	} else {
		ev.type = PS_EV_COMPLETE;
		ev.total = (long)b->nsym;
		ev.failed_symbols = b->failed_syms;
		ev.n_failed_symbols = b->nfailed;
		ev.mode = "single"; /* one request per symbol and window */
		ev.fx_rate = b->fx_rate;
		ev.fx_error = b->fx_error[0] ? b->fx_error : NULL;
		ev.last_synced = ps_job_last_synced(b->s);
		ev.duration_ms = (long)(ps_monotonic_ms() - b->t0);
	}
	b->cb(&ev, b->arg);
}

static void
bf_free(struct bf *b)
{
	size_t i;

	ps_fetch_free(b->f);
	for (i = 0; b->ser != NULL && i < b->nser; i++)
		free(b->ser[i].rows);
	free(b->ser);
	free(b->ready);
	free(b->wins);
	free(b->failed_syms);
}

static int
prepare(struct bf *b, const struct ps_backfill_opts *o, struct ps_err *err)
{
	int days = o->days > 0 ? o->days : b->c->history_days;

	if (days < 1 || days > 36500)
		return ps_err_set(err, PS_EINVALID,
		                  "bad --days %d: expected 1..36500", days);
	b->to = ps_eod_day_of(b->now);
	/* The N days before today, and today: what …/portfolio/history
	 * shows by default (365 days before `to`). */
	b->from = b->to - (int64_t)days * PS_DAY;
	if (pick(b, o, err) < 0 || check_daily_limit(b, err) < 0)
		return -1;
	b->f = ps_fetch_new(b->c, &fmp_judge, err);
	if (b->f == NULL)
		return -1;
	ps_fetch_set_budget(b->f, &b->budget);
	return 0;
}

int
ps_backfill_run(const struct ps_conf *c, struct ps_store *s,
                const struct ps_backfill_opts *o, ps_sync_cb cb, void *arg,
                struct ps_err *err)
{
	struct ps_lock lock = {.fd = -1};
	struct bf b;

	memset(&b, 0, sizeof(b));
	b.c = c, b.s = s, b.cb = cb, b.arg = arg, b.fx_rate = NAN;
	b.now = time(NULL);
	ps_budget_init(&b.budget, s, c->daily_request_limit);
	ps_err_clear(err);
	if (ps_conf_check_key(c, err) < 0)
		goto not_started;
	if (ps_job_begin(s, &lock, err) < 0)
		goto not_started;
	if (prepare(&b, o, err) < 0)
		goto release_lock;
	if (start(&b, err) < 0 || ps_fetch_run(b.f, on_done, &b, err) < 0)
		stop(&b, err->code, err->msg);
	/* Series finished before a stop are whole: they are kept too. */
	flush(&b);
	if (!b.stopped && b.done != (long)b.nsym)
		stop(&b, PS_EINTERNAL, "backfill ended with symbols not done");
	/* Losing the count of the last requests only makes the status lag. */
	ps_budget_flush(&b.budget, time(NULL), NULL);
	if (b.stopped)
		*err = b.stop;
	emit_end(&b, b.stopped ? err : NULL, 1);
	bf_free(&b);
	ps_lock_release(&lock);
	return b.stopped ? -1 : 0;

release_lock:
	bf_free(&b);
	ps_lock_release(&lock);
not_started:
	emit_end(&b, err, 0);
	return -1;
}
