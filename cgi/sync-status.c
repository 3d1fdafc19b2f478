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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "histargs.h"
#include "metrics.h"
#include "symbol.h"
#include "view.h"
#include "web.h"

#define PROG "sync-status"
#define THREADS 8

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

/* A query parameter of a history read, through histargs.h's rules. The
 * value is NULL there when it cannot be read (too long, a bad escape). 0
 * when absent or set; -1 with err. */
static int
hist_param(struct web_req *r, const char *name, enum ps_histarg which,
           struct ps_histargs *a, struct ps_dayrange *d, struct ps_err *err)
{
	char v[64], label[32];
	int rc = web_query(r, name, v, sizeof(v));

	if (rc == 0)
		return 0;
	snprintf(label, sizeof(label), "parameter %s", name);
	if (a != NULL)
		return ps_histargs_set(a, which, label, rc > 0 ? v : NULL, err);
	return ps_dayrange_set(d, which, label, rc > 0 ? v : NULL, err);
}

/* A bad argument is the request's fault: 400 (SPEC §5). */
static char *
bad_request(struct ps_err *err)
{
	if (err->code == PS_EINVALID)
		err->code = PS_EBAD_REQUEST;
	return NULL;
}

static char *
view_history(struct web_req *r, const struct ps_conf *c, struct ps_store *s,
             struct ps_err *err)
{
	const char *raw = r->path.segs[r->path.nsegs - 2];
	char sym[PS_SYMBOL_MAX + 1], *doc;
	struct ps_histargs a;
	struct ps_txn *t;

	ps_histargs_init(&a);
	if (hist_param(r, "from", PS_HIST_FROM, &a, NULL, err) < 0 ||
	    hist_param(r, "to", PS_HIST_TO, &a, NULL, err) < 0 ||
	    hist_param(r, "limit", PS_HIST_LIMIT, &a, NULL, err) < 0 ||
	    ps_histargs_check(&a, "parameters from and to", err) < 0 ||
	    hist_param(r, "interval", PS_HIST_INTERVAL, &a, NULL, err) < 0)
		return bad_request(err);
	if (ps_symbol_normalize(raw, sym, err) < 0) {
		/* Not a symbol at all, so certainly not a known one. */
		ps_err_set(err, PS_ENOT_FOUND, "no such symbol");
		return NULL;
	}
	if (ps_txn_begin(s, 0, &t, err) < 0)
		return NULL;
	doc = ps_view_history(t, sym, a.from, a.to, a.limit, a.daily, err);
	ps_txn_abort(&t);
	return doc;
}

static char *
view_portfolio(struct web_req *r, const struct ps_conf *c, struct ps_store *s,
               struct ps_err *err)
{
	struct ps_dayrange d;
	struct ps_txn *t;
	char *doc;

	ps_dayrange_init(&d, time(NULL));
	if (hist_param(r, "to", PS_HIST_TO, NULL, &d, err) < 0 ||
	    hist_param(r, "from", PS_HIST_FROM, NULL, &d, err) < 0 ||
	    ps_dayrange_check(&d, "parameters from and to", err) < 0)
		return bad_request(err);
	if (ps_txn_begin(s, 0, &t, err) < 0)
		return NULL;
	doc = ps_view_portfolio(t, d.from, d.to, err);
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
