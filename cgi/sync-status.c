/*
 * sync-status: the read-only FastCGI (or plain CGI) program of SPEC §5:
 * GET/HEAD …/sync/status, …/prices, …/prices/SYMBOL/history,
 * …/portfolio/history and …/metrics (Prometheus text, lib/metrics.c). Each
 * JSON answer is a document built by lib/view.c in one short read
 * transaction, sent with an ETag so a poller's If-None-Match gets a
 * bodiless 304. Routing is
 * a table matched against the last segments of the path, so the programs
 * work under any URL prefix.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eod.h"
#include "isotime.h"
#include "metrics.h"
#include "symbol.h"
#include "view.h"
#include "web.h"

#define PROG "sync-status"
#define THREADS 8
#define HISTORY_LIMIT_DEFAULT 1000
#define HISTORY_LIMIT_MAX 100000
#define PORTFOLIO_DAYS_MAX 36600

/* The conf is read-only and shared by the threads. */
typedef char *(*view_fn)(struct web_req *r, const struct ps_conf *c,
                         struct ps_store *s, struct ps_err *err);
typedef void (*send_fn)(struct web_req *r, const char *body);

static char *
view_status(struct web_req *r, const struct ps_conf *c, struct ps_store *s,
            struct ps_err *err)
{
	return ps_view_status(s, err);
}

static char *
view_prices(struct web_req *r, const struct ps_conf *c, struct ps_store *s,
            struct ps_err *err)
{
	struct ps_txn *t;
	char *doc;

	if (ps_txn_begin(s, 0, &t, err) < 0)
		return NULL;
	doc = ps_view_prices(t, err);
	ps_txn_abort(&t);
	return doc;
}

/* A from/to parameter: 0 (absent: *t unchanged, or parsed), -1 with err. */
static int
time_param(struct web_req *r, const char *name, int64_t *t, struct ps_err *err)
{
	char v[64];
	int rc = web_query(r, name, v, sizeof(v));

	if (rc == 0)
		return 0;
	if (rc < 0 || ps_isotime_parse(v, t) < 0)
		return ps_err_set(err, PS_EBAD_REQUEST,
		                  "bad parameter %s: want an ISO 8601 UTC time "
		                  "like 2026-11-25T09:30:00Z or a date",
		                  name);
	return 0;
}

static int
limit_param(struct web_req *r, size_t *limit, struct ps_err *err)
{
	char v[32], *end;
	long n;
	int rc = web_query(r, "limit", v, sizeof(v));

	if (rc == 0)
		return 0;
	errno = 0;
	n = rc > 0 ? strtol(v, &end, 10) : 0;
	if (rc < 0 || !v[0] || *end || errno || n < 1 || n > HISTORY_LIMIT_MAX)
		return ps_err_set(err, PS_EBAD_REQUEST,
		                  "bad parameter limit: want a whole number "
		                  "from 1 to %d",
		                  HISTORY_LIMIT_MAX);
	*limit = (size_t)n;
	return 0;
}

/* interval: absent (every point) or "day" (one per UTC date). */
static int
interval_param(struct web_req *r, int *daily, struct ps_err *err)
{
	char v[16];
	int rc = web_query(r, "interval", v, sizeof(v));

	if (rc == 0)
		return 0;
	if (rc < 0 || strcmp(v, "day") != 0)
		return ps_err_set(err, PS_EBAD_REQUEST,
		                  "bad parameter interval: the only interval "
		                  "is day");
	*daily = 1;
	return 0;
}

static char *
view_history(struct web_req *r, const struct ps_conf *c, struct ps_store *s,
             struct ps_err *err)
{
	const char *raw = r->path.segs[r->path.nsegs - 2];
	char sym[PS_SYMBOL_MAX + 1], *doc;
	struct ps_txn *t;
	int64_t from = INT64_MIN, to = INT64_MAX;
	size_t limit = HISTORY_LIMIT_DEFAULT;
	int daily = 0;

	if (time_param(r, "from", &from, err) < 0 ||
	    time_param(r, "to", &to, err) < 0 ||
	    limit_param(r, &limit, err) < 0)
		return NULL;
	if (from > to) {
		ps_err_set(err, PS_EBAD_REQUEST,
		           "bad parameters from and to: from is after to");
		return NULL;
	}
	if (interval_param(r, &daily, err) < 0)
		return NULL;
	if (ps_symbol_normalize(raw, sym, err) < 0) {
		/* Not a symbol at all, so certainly not a known one. */
		ps_err_set(err, PS_ENOT_FOUND, "no such symbol");
		return NULL;
	}
	if (ps_txn_begin(s, 0, &t, err) < 0)
		return NULL;
	doc = ps_view_history(t, sym, from, to, limit, daily, err);
	ps_txn_abort(&t);
	return doc;
}

/* A from/to date of …/portfolio/history: YYYY-MM-DD, nothing else. */
static int
date_param(struct web_req *r, const char *name, int64_t *day,
           struct ps_err *err)
{
	char v[64];
	int rc = web_query(r, name, v, sizeof(v));

	if (rc == 0)
		return 0;
	if (rc < 0 || ps_eod_date(v, day) < 0)
		return ps_err_set(err, PS_EBAD_REQUEST,
		                  "bad parameter %s: want a date like "
		                  "2026-11-25",
		                  name);
	return 1;
}

static char *
view_portfolio(struct web_req *r, const struct ps_conf *c, struct ps_store *s,
               struct ps_err *err)
{
	int64_t to = ps_eod_day_of(time(NULL)), from;
	struct ps_txn *t;
	char *doc;
	int has_from;

	if (date_param(r, "to", &to, err) < 0 ||
	    (has_from = date_param(r, "from", &from, err)) < 0)
		return NULL;
	if (!has_from)
		from = to - 365 * (int64_t)PS_DAY;
	if (from > to) {
		ps_err_set(err, PS_EBAD_REQUEST,
		           "bad parameters from and to: from is after to");
		return NULL;
	}
	if ((to - from) / PS_DAY >= PORTFOLIO_DAYS_MAX) {
		ps_err_set(err, PS_EBAD_REQUEST,
		           "bad parameters from and to: at most %d days",
		           PORTFOLIO_DAYS_MAX);
		return NULL;
	}
	if (ps_txn_begin(s, 0, &t, err) < 0)
		return NULL;
	doc = ps_view_portfolio(t, from, to, err);
	ps_txn_abort(&t);
	return doc;
}

static char *
view_metrics(struct web_req *r, const struct ps_conf *c, struct ps_store *s,
             struct ps_err *err)
{
	return ps_metrics_text(s, c->daily_request_limit, time(NULL), err);
}

/* Prometheus neither sends If-None-Match nor wants a stale copy. */
static void
send_metrics(struct web_req *r, const char *body)
{
	size_t n = strlen(body);
	char h[160];

	snprintf(h, sizeof(h),
	         "Content-Type: " PS_METRICS_CONTENT_TYPE "\r\n"
	         "Cache-Control: no-store\r\nContent-Length: %zu\r\n",
	         n);
	if (web_begin(r, 200, h) < 0)
		return;
	if (strcmp(web_method(r), "HEAD") != 0)
		web_write(r, body, n);
}

/* The routes, matched in order against the last segments of the path. */
static const struct route {
	const char *pat[3];
	int n;
	view_fn view;
	send_fn send;
} routes[] = {
        {{"sync", "status"}, 2, view_status, web_json_cached},
        {{"prices"}, 1, view_prices, web_json_cached},
        {{"prices", "*", "history"}, 3, view_history, web_json_cached},
        {{"portfolio", "history"}, 2, view_portfolio, web_json_cached},
        {{"metrics"}, 1, view_metrics, send_metrics},
};

static void
handle(struct web_req *r, void *arg)
{
	struct web_core *core = arg;
	const struct route *rt = NULL;
	struct ps_err err = {0};
	struct ps_store *s;
	const char *m = web_method(r);
	char *body;
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]) && !rt; i++)
		if (web_path_ends(r, routes[i].pat, routes[i].n))
			rt = &routes[i];
	if (!rt) {
		web_errorf(r, PS_ENOT_FOUND, NULL,
		           "no such path: try .../sync/status, .../prices, "
		           ".../prices/SYMBOL/history, "
		           ".../portfolio/history or .../metrics");
		return;
	}
	if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) {
		web_method_not_allowed(r, "GET, HEAD");
		return;
	}
	s = web_core_store(core, &err);
	body = s ? rt->view(r, &core->conf, s, &err) : NULL;
	if (!body) {
		if (err.code != PS_ENOT_FOUND && err.code != PS_EBAD_REQUEST)
			web_log(PROG, "%s: %s", ps_code_name(err.code),
			        err.msg);
		web_error(r, &err, NULL);
		return;
	}
	rt->send(r, body);
	free(body);
}

static void
start(void *arg)
{
	web_core_init(arg, PROG);
}

static void
finish(void *arg)
{
	web_core_free(arg);
}

int
main(int argc, char **argv)
{
	struct web_core core;
	struct web_app app = {.name = PROG,
	                      .threads = THREADS,
	                      .handle = handle,
	                      .arg = &core,
	                      .start = start,
	                      .finish = finish};
	int status;

	status = web_cmdline(PROG, argc, argv);
	if (status >= 0)
		return status;
	return web_run(&app);
}
