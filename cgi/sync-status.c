/*
 * sync-status: the read-only FastCGI (or plain CGI) program of SPEC §5:
 * GET/HEAD …/sync/status, …/prices, …/prices/SYMBOL/history,
 * …/portfolio/history and …/metrics (Prometheus text, lib/metrics.c).
 * Routing is a table matched against the last segments of the path, so
 * the programs work under any URL prefix.
 *
 * Each JSON answer is a document of lib/view.c read in one read
 * transaction and written to the client as it is rendered (no
 * Content-Length: the web server sends it chunked). Its ETag is made
 * before anything is rendered, from the document's version (the store's
 * revision, and for the status the lock and the day) and the request's
 * resolved parameters, so a poller's If-None-Match gets its bodiless 304,
 * and a HEAD its headers, without a symbol read. In FastCGI mode an
 * answer of up to CACHE_DOC_MAX bytes is kept under its ETag (cache.h)
 * and written from memory while the store does not change. An error
 * before the first byte is a JSON error answer; one after it can only cut
 * the body short (and is logged).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "histargs.h"
#include "metrics.h"
#include "symbol.h"
#include "view.h"
#include "web.h"

#define PROG "sync-status"
#define THREADS 8

/* What the threads share: the config and the store, the answers kept. */
struct app {
	struct web_core core;
	struct cache cache;
};

/* One JSON answer on its way out: see on_head and on_out. */
struct answer {
	struct web_req *r;
	struct cache *cache; /* NULL: keep nothing (plain CGI) */
	char params[192];    /* the document and its resolved parameters */
	char etag[HTTP_ETAG_LEN];
	int status;            /* 200 or 304, once on_head decided */
	struct cache_doc *hit; /* the answer, kept from before */
	struct ps_buf keep;    /* the answer so far, while it may be kept */
	int too_big;           /* it may not: over CACHE_DOC_MAX */
};

/* Writes the document the request asks for to a's sink. The conf is
 * read-only and shared by the threads. */
typedef int (*json_fn)(struct web_req *r, const struct ps_conf *c,
                       struct ps_store *s, struct answer *a,
                       struct ps_err *err);
typedef char *(*text_fn)(struct web_req *r, const struct ps_conf *c,
                         struct ps_store *s, struct ps_err *err);

static int on_head(const struct ps_view_version *v, void *arg,
                   struct ps_err *err);
static int on_out(const char *p, size_t n, void *arg);

static int
json_status(struct web_req *r, const struct ps_conf *c, struct ps_store *s,
            struct answer *a, struct ps_err *err)
{
	struct ps_view_sink k = {on_head, on_out, a};

	strcpy(a->params, "status");
	return ps_view_status_write(s, time(NULL), &k, err);
}

static int
json_prices(struct web_req *r, const struct ps_conf *c, struct ps_store *s,
            struct answer *a, struct ps_err *err)
{
	struct ps_view_sink k = {on_head, on_out, a};
	struct ps_txn *t;
	int rc;

	strcpy(a->params, "prices");
	if (ps_txn_begin(s, 0, &t, err) < 0)
		return -1;
	rc = ps_view_prices_write(t, &k, err);
	ps_txn_abort(&t);
	return rc;
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
static int
bad_request(struct ps_err *err)
{
	if (err->code == PS_EINVALID)
		err->code = PS_EBAD_REQUEST;
	return -1;
}

static int
json_history(struct web_req *r, const struct ps_conf *c, struct ps_store *s,
             struct answer *a, struct ps_err *err)
{
	const char *raw = r->path.segs[r->path.nsegs - 2];
	struct ps_view_sink k = {on_head, on_out, a};
	char sym[PS_SYMBOL_MAX + 1];
	struct ps_histargs h;
	struct ps_txn *t;
	int rc;

	ps_histargs_init(&h);
	if (hist_param(r, "from", PS_HIST_FROM, &h, NULL, err) < 0 ||
	    hist_param(r, "to", PS_HIST_TO, &h, NULL, err) < 0 ||
	    hist_param(r, "limit", PS_HIST_LIMIT, &h, NULL, err) < 0 ||
	    ps_histargs_check(&h, "parameters from and to", err) < 0 ||
	    hist_param(r, "interval", PS_HIST_INTERVAL, &h, NULL, err) < 0)
		return bad_request(err);
	if (ps_symbol_normalize(raw, sym, err) < 0)
		/* Not a symbol at all, so certainly not a known one. */
		return ps_err_set(err, PS_ENOT_FOUND, "no such symbol");
	snprintf(a->params, sizeof(a->params),
	         "history %s %" PRId64 " %" PRId64 " %zu %d", sym, h.from, h.to,
	         h.limit, h.daily);
	if (ps_txn_begin(s, 0, &t, err) < 0)
		return -1;
	rc = ps_view_history_write(t, sym, h.from, h.to, h.limit, h.daily, &k,
	                           err);
	ps_txn_abort(&t);
	return rc;
}

static int
json_portfolio(struct web_req *r, const struct ps_conf *c, struct ps_store *s,
               struct answer *a, struct ps_err *err)
{
	struct ps_view_sink k = {on_head, on_out, a};
	struct ps_dayrange d;
	struct ps_txn *t;
	int rc;

	ps_dayrange_init(&d, time(NULL));
	if (hist_param(r, "to", PS_HIST_TO, NULL, &d, err) < 0 ||
	    hist_param(r, "from", PS_HIST_FROM, NULL, &d, err) < 0 ||
	    ps_dayrange_check(&d, "parameters from and to", err) < 0)
		return bad_request(err);
	/* The default `to` is today: the resolved dates go in the ETag. */
	snprintf(a->params, sizeof(a->params), "portfolio %" PRId64 " %" PRId64,
	         d.from, d.to);
	if (ps_txn_begin(s, 0, &t, err) < 0)
		return -1;
	rc = ps_view_portfolio_write(t, d.from, d.to, &k, err);
	ps_txn_abort(&t);
	return rc;
}

static char *
text_metrics(struct web_req *r, const struct ps_conf *c, struct ps_store *s,
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

/* ---- the answer to a JSON document ---- */

static void
answer_headers(const struct answer *a, long long len, char *h, size_t n)
{
	if (a->status == 304) {
		/* A 304 says nothing of the body's type: it has none. */
		snprintf(h, n, "Cache-Control: no-cache\r\nETag: %s\r\n",
		         a->etag);
		return;
	}
	snprintf(h, n,
	         "Content-Type: application/json\r\n"
	         "Cache-Control: no-cache\r\nETag: %s\r\n",
	         a->etag);
	if (len >= 0)
		snprintf(h + strlen(h), n - strlen(h),
		         "Content-Length: %lld\r\n", len);
}

/* The ETag of the document a->params at version v: equal tags are equal
 * bytes, so it may also key the cache. */
static void
make_etag(struct answer *a, const struct ps_view_version *v)
{
	char s[320];
	int n;

	n = snprintf(s, sizeof(s),
	             PACKAGE_VERSION " %s rev %" PRIu64 " day %" PRId64
	                             " running %d",
	             a->params, v->revision, v->day, v->running);
	http_etag(s, n > 0 && (size_t)n < sizeof(s) ? (size_t)n : 0, a->etag);
}

/* Before the document's first byte: 304 when If-None-Match names its
 * ETag, headers only for HEAD, the kept copy when there is one; else it
 * is rendered (1). */
static int
on_head(const struct ps_view_version *v, void *arg, struct ps_err *err)
{
	struct answer *a = arg;

	make_etag(a, v);
	if (http_etag_matches(web_param(a->r, "HTTP_IF_NONE_MATCH"), a->etag)) {
		a->status = 304;
		return 0;
	}
	a->status = 200;
	if (strcmp(web_method(a->r), "HEAD") == 0)
		return 0;
	if (a->cache)
		a->hit = cache_get(a->cache, a->etag);
	return a->hit == NULL;
}

/* The document's bytes: the 200's headers go first. */
static int
on_out(const char *p, size_t n, void *arg)
{
	struct answer *a = arg;
	char h[192];

	if (!a->r->started) {
		answer_headers(a, -1, h, sizeof(h));
		if (web_begin(a->r, 200, h) < 0)
			return -1;
	}
	if (a->cache && !a->too_big) {
		if (a->keep.len + n >= CACHE_DOC_MAX ||
		    ps_buf_append(&a->keep, p, n) < 0) {
			a->too_big = 1;
			ps_buf_free(&a->keep);
		}
	}
	return web_write(a->r, p, n) < 0 ? -1 : 0;
}

/* The end of an answer whose document was written (or ended by on_head):
 * the headers still owed, a kept copy, or the newline after a body. */
static void
answer_end(struct answer *a)
{
	struct web_req *r = a->r;
	char h[192];

	if (r->started) {
		web_write(r, "\n", 1);
		if (a->cache && !a->too_big &&
		    ps_buf_append(&a->keep, "\n", 1) == 0)
			cache_put(a->cache, a->etag, a->keep.data, a->keep.len);
		return;
	}
	answer_headers(a, a->hit ? (long long)a->hit->len : -1, h, sizeof(h));
	if (web_begin(r, a->status, h) < 0 || !a->hit)
		return;
	web_write(r, a->hit->data, a->hit->len);
}

static void
send_json(struct web_req *r, struct app *app, struct ps_store *s, json_fn fn)
{
	struct answer a = {.r = r};
	struct ps_err err = {0};

	/* One request per process in plain CGI: nothing to keep it for. */
	if (r->fcgi)
		a.cache = &app->cache;
	if (fn(r, &app->core.conf, s, &a, &err) == 0)
		answer_end(&a);
	else if (!r->started) {
		if (err.code != PS_ENOT_FOUND && err.code != PS_EBAD_REQUEST)
			web_log(PROG, "%s: %s", ps_code_name(err.code),
			        err.msg);
		web_error(r, &err, NULL);
	} else if (!r->gone)
		web_log(PROG, "answer cut short: %s: %s",
		        ps_code_name(err.code), err.msg);
	cache_release(a.cache, a.hit);
	ps_buf_free(&a.keep);
}

static void
send_text(struct web_req *r, struct app *app, struct ps_store *s, text_fn fn)
{
	struct ps_err err = {0};
	char *body = fn(r, &app->core.conf, s, &err);

	if (!body) {
		web_log(PROG, "%s: %s", ps_code_name(err.code), err.msg);
		web_error(r, &err, NULL);
		return;
	}
	send_metrics(r, body);
	free(body);
}

/* The routes, matched in order against the last segments of the path. */
static const struct route {
	const char *pat[3];
	int n;
	json_fn json; /* a document of lib/view.c */
	text_fn text; /* else the metrics */
} routes[] = {
        {{"sync", "status"}, 2, json_status, NULL},
        {{"prices"}, 1, json_prices, NULL},
        {{"prices", "*", "history"}, 3, json_history, NULL},
        {{"portfolio", "history"}, 2, json_portfolio, NULL},
        {{"metrics"}, 1, NULL, text_metrics},
};

static void
handle(struct web_req *r, void *arg)
{
	struct app *app = arg;
	const struct route *rt = NULL;
	struct ps_err err = {0};
	struct ps_store *s;
	const char *m = web_method(r);
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
	s = web_core_store(&app->core, &err);
	if (!s) {
		web_log(PROG, "%s: %s", ps_code_name(err.code), err.msg);
		web_error(r, &err, NULL);
	} else if (rt->json)
		send_json(r, app, s, rt->json);
	else
		send_text(r, app, s, rt->text);
}

static void
start(void *arg)
{
	struct app *app = arg;

	cache_init(&app->cache);
	web_core_init(&app->core, PROG);
}

static void
finish(void *arg)
{
	struct app *app = arg;

	web_core_free(&app->core);
	cache_free(&app->cache);
}

int
main(int argc, char **argv)
{
	struct app shared;
	struct web_app app = {.name = PROG,
	                      .threads = THREADS,
	                      .handle = handle,
	                      .arg = &shared,
	                      .start = start,
	                      .finish = finish};
	int status;

	status = web_cmdline(PROG, argc, argv);
	if (status >= 0)
		return status;
	return web_run(&app);
}
