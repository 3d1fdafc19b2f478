/*
 * web: the accept loop and the request helpers shared by `sync` and
 * `sync-status` (see web.h).
 *
 * FastCGI mode: a pool of worker threads, each with its own FCGX_Request,
 * takes turns in FCGX_Accept_r under a mutex (as libfcgi's
 * examples/threaded.c does), so one long sync never blocks the answer to
 * another request. The thread holding the mutex first polls the listening
 * socket together with a wake-up pipe: that is how SIGTERM reaches a
 * thread blocked waiting for a connection without interrupting any thread
 * in the middle of a request. Signals are blocked in every thread and
 * taken by the main thread with sigwait, so no handler runs at an awkward
 * moment and there is no global flag.
 *
 * Plain CGI mode: one request from the environment, written to stdout.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcgiapp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "event.h"
#include "web.h"

extern char **environ;

/* ---- logs ---- */

void
web_log(const char *prog, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One line per message, whatever a message holds. */
	for (i = 0; line[i]; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	/* One fprintf, so lines of two threads do not interleave. */
	fprintf(stderr, "%s: %s\n", prog, line);
}

int
web_cmdline(const char *prog, int argc, char **argv)
{
	if (argc < 2)
		return -1;
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("%s (pricesync) %s\n", prog, PACKAGE_VERSION);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: %s\n"
		       "A FastCGI program of pricesync: run it under "
		       "spawn-fcgi or systemd\n(the listening socket on "
		       "stdin), or as a plain CGI program. Its config is\n"
		       "$PRICESYNC_CONFIG, else %s/pricesync.conf. "
		       "See pricesync-fcgi(8).\n",
		       prog, SYSCONFDIR);
		return 0;
	}
	fprintf(stderr, "usage: %s [--help | --version]\n", prog);
	return 2;
}

/* ---- parameters and the path ---- */

const char *
web_param(const struct web_req *r, const char *name)
{
	if (r->fcgi)
		return FCGX_GetParam(name, ((FCGX_Request *)r->fcgi)->envp);
	return getenv(name);
}

const char *
web_method(const struct web_req *r)
{
	const char *m = web_param(r, "REQUEST_METHOD");

	return m ? m : "";
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes %XX in place; '+' stays '+' (it is not a space outside forms,
 * and "+00:00" in a time must survive). -1 on a bad escape or a NUL. */
static int
pct_decode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '%') {
			int hi = hexval((unsigned char)s[1]);
			int lo = hi < 0 ? -1 : hexval((unsigned char)s[2]);

			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			*w++ = (char)(hi * 16 + lo);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return 0;
}

/* The raw path: REQUEST_URI without its query, else SCRIPT_NAME plus
 * PATH_INFO (some plain CGI servers set no REQUEST_URI). */
static char *
raw_path(const struct web_req *r)
{
	const char *uri = web_param(r, "REQUEST_URI");
	struct ps_buf b = {0};

	if (uri && *uri) {
		if (ps_buf_append(&b, uri, strcspn(uri, "?#")) < 0)
			return NULL;
	} else {
		const char *sn = web_param(r, "SCRIPT_NAME");
		const char *pi = web_param(r, "PATH_INFO");

		if (ps_buf_puts(&b, sn ? sn : "") < 0 ||
		    ps_buf_puts(&b, pi ? pi : "") < 0) {
			ps_buf_free(&b);
			return NULL;
		}
	}
	return ps_buf_take(&b);
}

/* Splits the path into non-empty segments, each percent-decoded (after the
 * split, so an encoded '/' stays inside its segment). -1 on a bad path. */
static int
parse_path(struct web_req *r)
{
	char *p, *save = NULL, *seg;

	r->path = raw_path(r);
	if (!r->path)
		return -1;
	for (p = r->path; (seg = strtok_r(p, "/", &save)); p = NULL) {
		if (pct_decode(seg) < 0)
			return -1;
		if (r->nsegs == WEB_MAX_SEGS) {
			/* Keep the last segments: routing looks at those. */
			memmove(r->segs, r->segs + 1,
			        sizeof(r->segs[0]) * (WEB_MAX_SEGS - 1));
			r->nsegs--;
		}
		r->segs[r->nsegs++] = seg;
	}
	return 0;
}

int
web_path_ends(const struct web_req *r, const char *const *pat, int n)
{
	int i, off = r->nsegs - n;

	if (off < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(pat[i], "*") != 0 &&
		    strcmp(pat[i], r->segs[off + i]) != 0)
			return 0;
	return 1;
}

int
web_query(const struct web_req *r, const char *name, char *out, size_t n)
{
	const char *q = web_param(r, "QUERY_STRING");
	size_t nl = strlen(name);

	if (!q || !*q) {
		const char *uri = web_param(r, "REQUEST_URI");

		q = uri ? strchr(uri, '?') : NULL;
		q = q ? q + 1 : "";
	}
	while (*q) {
		size_t len = strcspn(q, "&#");

		if (len >= nl && strncmp(q, name, nl) == 0 &&
		    (len == nl || q[nl] == '=')) {
			size_t vl = len == nl ? 0 : len - nl - 1;

			if (vl >= n)
				return -1;
			memcpy(out, q + nl + (len > nl), vl);
			out[vl] = '\0';
			return pct_decode(out) < 0 ? -1 : 1;
		}
		if (q[len] != '&')
			break;
		q += len + 1;
	}
	return 0;
}

/* ---- writing ---- */

int
web_write(struct web_req *r, const void *p, size_t n)
{
	if (r->gone)
		return -1;
	if (r->fcgi) {
		FCGX_Stream *out = ((FCGX_Request *)r->fcgi)->out;

		if (FCGX_PutStr(p, (int)n, out) != (int)n ||
		    FCGX_GetError(out) != 0)
			r->gone = 1;
	} else if (fwrite(p, 1, n, stdout) != n) {
		r->gone = 1;
	}
	return r->gone ? -1 : 0;
}

int
web_flush(struct web_req *r)
{
	if (r->gone)
		return -1;
	if (r->fcgi) {
		if (FCGX_FFlush(((FCGX_Request *)r->fcgi)->out) < 0)
			r->gone = 1;
	} else if (fflush(stdout) != 0) {
		r->gone = 1;
	}
	return r->gone ? -1 : 0;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

int
web_begin(struct web_req *r, int status, const char *headers)
{
	char line[64];

	r->started = 1;
	snprintf(line, sizeof(line), "Status: %d %s\r\n", status,
	         reason(status));
	web_write(r, line, strlen(line));
	if (headers)
		web_write(r, headers, strlen(headers));
	return web_write(r, "\r\n", 2);
}

/* ---- errors ---- */

int
web_status_for(enum ps_code code)
{
	switch (code) {
	case PS_EBAD_REQUEST:
		return 400;
	case PS_EFORBIDDEN_ORIGIN:
		return 403;
	case PS_ENOT_FOUND:
		return 404;
	case PS_EMETHOD:
		return 405;
	case PS_ESYNC_IN_PROGRESS:
		return 409;
	case PS_ECOOLDOWN:
	case PS_EUPSTREAM_QUOTA:
		return 429;
	default:
		return 500;
	}
}

static int
is_head(const struct web_req *r)
{
	return strcmp(web_method(r), "HEAD") == 0;
}

/* Status, headers and a complete body with its Content-Length. */
static void
send_body(struct web_req *r, int status, const char *headers, const char *body,
          size_t n)
{
	struct ps_buf h = {0};
	int head = is_head(r);

	/* A 304 carries no length: it would describe the 200's body. */
	if ((status != 304 &&
	     ps_buf_printf(&h, "Content-Length: %zu\r\n", n) < 0) ||
	    ps_buf_puts(&h, headers ? headers : "") < 0) {
		web_begin(r, 500, NULL);
		goto buf_free;
	}
	web_begin(r, status, h.data);
	if (!head && status != 304)
		web_write(r, body, n);
	web_flush(r);
buf_free:
	ps_buf_free(&h);
}

void
web_error(struct web_req *r, const struct ps_err *err, const char *headers)
{
	static const char oom[] = "{\"type\":\"error\",\"code\":"
	                          "\"out_of_memory\",\"message\":"
	                          "\"out of memory\"}\n";
	struct ps_buf h = {0}, b = {0};
	char *json = ps_error_json(err);
	int status = web_status_for(err->code);

	if (!json || ps_buf_puts(&b, json) < 0 || ps_buf_puts(&b, "\n") < 0)
		goto oom;
	if (ps_buf_puts(&h, "Content-Type: application/json\r\n"
	                    "Cache-Control: no-store\r\n") < 0)
		goto oom;
	if (err->code == PS_ECOOLDOWN && err->retry_after > 0 &&
	    ps_buf_printf(&h, "Retry-After: %ld\r\n", err->retry_after) < 0)
		goto oom;
	if (headers && ps_buf_puts(&h, headers) < 0)
		goto oom;
	send_body(r, status, h.data, b.data, b.len);
	goto bufs_free;
oom:
	send_body(r, 500, "Content-Type: application/json\r\n", oom,
	          sizeof(oom) - 1);
bufs_free:
	ps_buf_free(&h);
	ps_buf_free(&b);
	free(json);
}

void
web_errorf(struct web_req *r, enum ps_code code, const char *headers,
           const char *fmt, ...)
{
	struct ps_err err = {0};
	va_list ap;

	err.code = code;
	va_start(ap, fmt);
	vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
	va_end(ap);
	web_error(r, &err, headers);
}

void
web_method_not_allowed(struct web_req *r, const char *allow)
{
	char h[128];

	snprintf(h, sizeof(h), "Allow: %s\r\n", allow);
	web_errorf(r, PS_EMETHOD, h, "method %s not allowed here; use %s",
	           web_method(r), allow);
}

/* ---- ETag ---- */

void
web_etag(const char *body, size_t n, char out[WEB_ETAG_LEN])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)body[i];
		h *= 0x100000001b3ULL;
	}
	snprintf(out, WEB_ETAG_LEN, "\"%016llx\"", (unsigned long long)h);
}

int
web_etag_matches(const char *inm, const char *etag)
{
	size_t el = strlen(etag);

	if (!inm)
		return 0;
	while (*inm) {
		size_t len;

		inm += strspn(inm, " \t,");
		if (strncmp(inm, "W/", 2) == 0)
			inm += 2; /* weak comparison, as RFC 9110 asks */
		len = strcspn(inm, " \t,");
		if ((len == 1 && inm[0] == '*') ||
		    (len == el && strncmp(inm, etag, el) == 0))
			return 1;
		inm += len;
	}
	return 0;
}

void
web_json_cached(struct web_req *r, const char *body)
{
	char etag[WEB_ETAG_LEN], h[160];
	struct ps_buf b = {0};

	if (ps_buf_puts(&b, body) < 0 || ps_buf_puts(&b, "\n") < 0) {
		web_errorf(r, PS_ENOMEM, NULL, "out of memory");
		goto buf_free;
	}
	web_etag(b.data, b.len, etag);
	snprintf(h, sizeof(h),
	         "Content-Type: application/json\r\n"
	         "Cache-Control: no-cache\r\nETag: %s\r\n",
	         etag);
	if (web_etag_matches(web_param(r, "HTTP_IF_NONE_MATCH"), etag))
		send_body(r, 304, h + strcspn(h, "\n") + 1, "", 0);
	else
		send_body(r, 200, h, b.data, b.len);
buf_free:
	ps_buf_free(&b);
}

/* ---- Origin ---- */

/* Splits "host[:port]" or "[v6]:port" (len bytes) into its name and port
 * ("" when none). 0, or -1 when it does not fit. */
static int
split_hostport(const char *s, size_t len, char *name, size_t nn, char *port,
               size_t pn)
{
	const char *colon = NULL;
	size_t hl;

	if (len > 0 && s[0] == '[') {
		const char *end = memchr(s, ']', len);

		if (!end)
			return -1;
		hl = (size_t)(end - s) + 1;
		if (hl < len) {
			if (s[hl] != ':')
				return -1;
			colon = s + hl;
		}
	} else {
		colon = memchr(s, ':', len);
		hl = colon ? (size_t)(colon - s) : len;
	}
	if (hl == 0 || hl >= nn)
		return -1;
	memcpy(name, s, hl);
	name[hl] = '\0';
	port[0] = '\0';
	if (colon) {
		size_t plen = len - (size_t)(colon + 1 - s);

		if (plen >= pn)
			return -1;
		memcpy(port, colon + 1, plen);
		port[plen] = '\0';
	}
	return 0;
}

int
web_origin_ok(const char *origin, const char *host)
{
	char oname[256], oport[16], hname[256], hport[16];
	const char *sep, *hp;
	size_t len;

	if (!origin || !*origin)
		return 1; /* curl and other non-browser clients */
	if (!host || !*host)
		return 0;
	sep = strstr(origin, "://");
	if (!sep)
		return 0; /* "null" and anything else naming no host */
	hp = sep + 3;
	len = strcspn(hp, "/?#");
	if (split_hostport(hp, len, oname, sizeof(oname), oport,
	                   sizeof(oport)) < 0 ||
	    split_hostport(host, strlen(host), hname, sizeof(hname), hport,
	                   sizeof(hport)) < 0)
		return 0;
	if (strcasecmp(oname, hname) != 0)
		return 0;
	if (!hport[0])
		return 1; /* Debian's nginx passes Host without its port */
	if (!oport[0]) {
		if (strncasecmp(origin, "https:", 6) == 0)
			strcpy(oport, "443");
		else if (strncasecmp(origin, "http:", 5) == 0)
			strcpy(oport, "80");
	}
	return atol(oport) == atol(hport) && atol(hport) > 0;
}

/* ---- the config and the store ---- */

int
web_core_init(struct web_core *c, const char *prog)
{
	struct ps_err err = {0};

	memset(c, 0, sizeof(*c));
	c->prog = prog;
	pthread_mutex_init(&c->mu, NULL);
	if (ps_conf_load(&c->conf, NULL, &c->conf_err) < 0) {
		web_log(prog, "%s", c->conf_err.msg);
		return 0;
	}
	c->conf_ok = 1;
	if (ps_store_open(&c->store, c->conf.db_path, c->conf.map_size_mb,
	                  &err) < 0)
		web_log(prog, "%s (will retry on the next request)", err.msg);
	return 0;
}

struct ps_store *
web_core_store(struct web_core *c, struct ps_err *err)
{
	struct ps_store *s;

	if (!c->conf_ok) {
		*err = c->conf_err;
		return NULL;
	}
	pthread_mutex_lock(&c->mu);
	if (!c->store && ps_store_open(&c->store, c->conf.db_path,
	                               c->conf.map_size_mb, err) < 0)
		web_log(c->prog, "%s", err->msg);
	s = c->store;
	pthread_mutex_unlock(&c->mu);
	return s;
}

void
web_core_free(struct web_core *c)
{
	ps_store_close(&c->store);
	if (c->conf_ok)
		ps_conf_free(&c->conf);
	c->conf_ok = 0;
	pthread_mutex_destroy(&c->mu);
}

/* ---- serving one request ---- */

static void
serve(const struct web_app *app, void *fcgi)
{
	struct web_req r = {0};

	r.prog = app->name;
	r.fcgi = fcgi;
	if (parse_path(&r) < 0)
		web_errorf(&r, PS_EBAD_REQUEST, NULL,
		           "the request path is not a valid URL path");
	else
		app->handle(&r, app->arg);
	if (!r.started)
		web_errorf(&r, PS_EINTERNAL, NULL, "no answer");
	web_flush(&r);
	free(r.path);
}

static int
run_cgi(const struct web_app *app)
{
	if (!getenv("REQUEST_METHOD")) {
		fprintf(stderr,
		        "%s: a FastCGI program: run it under spawn-fcgi, "
		        "systemd or a web server (see pricesync-fcgi(8))\n",
		        app->name);
		return 2;
	}
	serve(app, NULL);
	return 0;
}

/* ---- the FastCGI pool ---- */

struct pool {
	const struct web_app *app;
	pthread_mutex_t accept_mu;
	int wake[2]; /* written once at shutdown, never read: stays ready */
};

/* 1 when a connection waits, 0 when shutting down, -1 on error. */
static int
wait_conn(struct pool *p)
{
	struct pollfd fds[2] = {{.fd = 0, .events = POLLIN},
	                        {.fd = p->wake[0], .events = POLLIN}};

	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (fds[1].revents)
			return 0;
		if (fds[0].revents & (POLLERR | POLLNVAL))
			return -1;
		if (fds[0].revents)
			return 1;
	}
}

static void *
worker(void *arg)
{
	struct pool *p = arg;
	FCGX_Request req;

	if (FCGX_InitRequest(&req, 0, 0) != 0) {
		web_log(p->app->name, "FCGX_InitRequest failed");
		kill(getpid(), SIGTERM);
		return NULL;
	}
	for (;;) {
		int rc;

		pthread_mutex_lock(&p->accept_mu);
		rc = wait_conn(p);
		if (rc == 1)
			rc = FCGX_Accept_r(&req) < 0 ? -1 : 1;
		pthread_mutex_unlock(&p->accept_mu);
		if (rc == 0)
			break;
		if (rc < 0) {
			/* Shutting down, or the socket broke: either way this
			 * process is done; tell the main thread. */
			if (poll(&(struct pollfd){.fd = p->wake[0],
			                          .events = POLLIN},
			         1, 0) == 0) {
				web_log(p->app->name, "accept failed: %s",
				        strerror(errno));
				kill(getpid(), SIGTERM);
			}
			break;
		}
		serve(p->app, &req);
		FCGX_Finish_r(&req);
		/* One request per connection: a connection the server would
		 * keep open would otherwise tie this worker to it. */
		FCGX_Free(&req, 1);
	}
	FCGX_Free(&req, 1);
	return NULL;
}

static int
run_fcgi(const struct web_app *app)
{
	struct pool p = {.app = app};
	pthread_t tids[64];
	sigset_t set;
	int i, n = app->threads, sig = 0, status = 0;

	if (n < 1)
		n = 1;
	if (n > 64)
		n = 64;
	if (FCGX_Init() != 0 || pipe(p.wake) < 0) {
		web_log(app->name, "cannot start: %s", strerror(errno));
		return 1;
	}
	pthread_mutex_init(&p.accept_mu, NULL);
	/* Blocked in every thread (they inherit the mask), taken below. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1); /* libfcgi's "graceful stop" signal */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < n; i++)
		if (pthread_create(&tids[i], NULL, worker, &p) != 0)
			break;
	if (i == 0) {
		web_log(app->name, "cannot start a thread");
		status = 1;
		goto wake_close;
	}
	n = i;
	web_log(app->name, "ready (FastCGI, %d threads)", n);
	while (sigwait(&set, &sig) != 0)
		;
	web_log(app->name, "signal %d: stopping after the requests in hand",
	        sig);
	FCGX_ShutdownPending();
	if (write(p.wake[1], "x", 1) < 0)
		web_log(app->name, "wake-up pipe: %s", strerror(errno));
	for (i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
wake_close:
	close(p.wake[0]);
	close(p.wake[1]);
	pthread_mutex_destroy(&p.accept_mu);
	return status;
}

int
web_run(const struct web_app *app)
{
	/* A client that hangs up must not kill a running sync. */
	signal(SIGPIPE, SIG_IGN);
	if (FCGX_IsCGI())
		return run_cgi(app);
	return run_fcgi(app);
}
