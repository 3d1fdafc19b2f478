/*
 * web: the accept loop and the request helpers shared by `sync` and
 * `sync-status` (see web.h).
 *
 * FastCGI mode: a pool of worker threads, each with its own FCGX_Request.
 * A worker takes a connection under a mutex (conn_accept: poll on the
 * listening socket and the wake-up pipe, then a non-blocking accept), and
 * only then, outside the mutex, waits for that peer's request head, with
 * a deadline (conn_wait_head) before libfcgi reads it. So a peer that
 * connects and says nothing holds one worker for CONN_READ_TIMEOUT_MS at
 * most and never the others, and one long sync never blocks the answer
 * to another request. The wake-up pipe, written once at SIGTERM, ends
 * every wait for a connection or a head at once, without interrupting
 * any request in hand. Signals are blocked in every thread and taken by
 * the main thread with sigwait, so no handler runs at an awkward moment
 * and there is no global flag.
 *
 * Plain CGI mode: one request from the environment, written to stdout.
 */
#include "config.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conn.h"
#include "detach.h"
#include "http.h"
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

int
web_path_ends(const struct web_req *r, const char *const *pat, int n)
{
	return http_path_ends(&r->path, pat, n);
}

int
web_query(const struct web_req *r, const char *name, char *out, size_t n)
{
	return http_query_get(http_query_of(web_param(r, "QUERY_STRING"),
	                                    web_param(r, "REQUEST_URI")),
	                      name, out, n);
}

/* ---- writing ---- */

/* Less than libfcgi's 8 KiB output buffer: a piece never flushes it. */
#define WEB_FCGI_PIECE 4096

/* The client is taken as gone: nothing more is written, and the
 * connection is cut now, so that neither libfcgi's closing records nor
 * a relay can wait on it. fd is replaced, not closed, in plain CGI: a
 * later open() must not land on 1. */
static void
client_gone(struct web_req *r)
{
	int null;

	if (r->gone)
		return;
	r->gone = 1;
	if (r->fcgi) {
		shutdown(r->fd, SHUT_RDWR);
		return;
	}
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, r->fd);
		close(null);
	}
}

/* 1 when fd takes bytes within timeout_ms, else 0 (or on error). */
static int
writable(int fd, int timeout_ms)
{
	struct pollfd w = {.fd = fd, .events = POLLOUT};
	int rc;

	do
		rc = poll(&w, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	return rc > 0 && !(w.revents & (POLLERR | POLLNVAL)) &&
	       (w.revents & POLLOUT);
}

/* Writes n bytes to fd within timeout_ms in all: pieces of PIPE_BUF
 * after each POLLOUT, which a pipe takes whole without blocking. 0 or
 * -1 (the time ran out, or the reader is gone). */
static int
write_within(int fd, const char *p, size_t n, int timeout_ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (n > 0) {
		long left;
		ssize_t w;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000 +
		                     (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || !writable(fd, (int)left))
			return -1;
		w = write(fd, p, n < PIPE_BUF ? n : PIPE_BUF);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
web_write(struct web_req *r, const void *p, size_t n)
{
	if (r->gone)
		return -1;
	if (r->fcgi) {
		FCGX_Stream *out = ((FCGX_Request *)r->fcgi)->out;
		const char *c = p;

		/* A big write goes in pieces smaller than libfcgi's buffer,
		 * each flushed, so that it goes out through web_flush and its
		 * budget, not through libfcgi's own unbounded flushes. */
		if (n > WEB_FCGI_PIECE)
			web_flush(r);
		while (n > 0 && !r->gone) {
			size_t k = n < WEB_FCGI_PIECE ? n : WEB_FCGI_PIECE;

			if (FCGX_PutStr(c, (int)k, out) != (int)k ||
			    FCGX_GetError(out) != 0)
				client_gone(r);
			c += k;
			n -= k;
			if (k == WEB_FCGI_PIECE)
				web_flush(r);
		}
	} else if (ps_buf_append(&r->out, p, n) < 0) {
		client_gone(r);
	} else if (r->out.len >= WEB_CGI_BUF) {
		web_flush(r);
	}
	return r->gone ? -1 : 0;
}

static long
ms_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

int
web_flush(struct web_req *r)
{
	long t0, budget = CONN_WRITE_TIMEOUT_MS - r->waited_ms;

	if (r->gone)
		return -1;
	/* The time writes wait for the reader counts against one budget
	 * for the whole answer: a reader that takes a little time, often,
	 * would otherwise set the sync's pace as surely as one that stops. */
	t0 = ms_now();
	if (budget <= 0)
		client_gone(r);
	else if (r->fcgi) {
		if (!writable(r->fd, (int)budget) ||
		    FCGX_FFlush(((FCGX_Request *)r->fcgi)->out) < 0)
			client_gone(r);
	} else {
		if (write_within(r->fd, r->out.data, r->out.len, (int)budget) <
		    0)
			client_gone(r);
		ps_buf_reset(&r->out);
	}
	r->waited_ms += ms_now() - t0;
	if (r->gone)
		web_log(r->prog,
		        "the client is gone, or kept the answer waiting %d s "
		        "in all: the rest of it is dropped",
		        CONN_WRITE_TIMEOUT_MS / 1000);
	return r->gone ? -1 : 0;
}

int
web_begin(struct web_req *r, int status, const char *headers)
{
	struct ps_buf h = {0};
	int rc;

	r->started = 1;
	if (http_head(&h, status, -1, headers) < 0) {
		ps_buf_reset(&h);
		if (http_head(&h, 500, -1, NULL) < 0) {
			r->gone = 1; /* no memory for even that */
			return -1;
		}
	}
	rc = web_write(r, h.data, h.len);
	ps_buf_free(&h);
	return rc;
}

/* ---- errors ---- */

/* Status, headers and a complete body with its Content-Length. */
static void
send_body(struct web_req *r, int status, const char *headers, const char *body,
          size_t n)
{
	struct ps_buf h = {0};

	r->started = 1;
	if (http_head(&h, status, (long long)n, headers) < 0) {
		web_begin(r, 500, NULL);
		goto buf_free;
	}
	web_write(r, h.data, h.len);
	if (http_has_body(status, web_method(r)))
		web_write(r, body, n);
	web_flush(r);
buf_free:
	ps_buf_free(&h);
}

/* The JSON error answer for err, with status (0: the code's). */
static void
error_answer_h(struct web_req *r, int status, const struct ps_err *err,
               const char *headers)
{
	static const char oom[] = "{\"type\":\"error\",\"code\":"
	                          "\"out_of_memory\",\"message\":"
	                          "\"out of memory\"}\n";
	struct ps_buf h = {0}, b = {0};
	int st;

	if (http_error_answer(err, headers, &st, &h, &b) < 0)
		send_body(r, 500, "Content-Type: application/json\r\n", oom,
		          sizeof(oom) - 1);
	else
		send_body(r, status ? status : st, h.data, b.data, b.len);
	ps_buf_free(&h);
	ps_buf_free(&b);
}

static void
error_answer(struct web_req *r, int status, const struct ps_err *err)
{
	error_answer_h(r, status, err, NULL);
}

void
web_error(struct web_req *r, const struct ps_err *err, const char *headers)
{
	error_answer_h(r, 0, err, headers);
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

void
web_json_cached(struct web_req *r, const char *body)
{
	struct ps_buf b = {0}, h = {0};
	int status;

	if (ps_buf_puts(&b, body) < 0 || ps_buf_puts(&b, "\n") < 0 ||
	    http_cached_answer(b.data, b.len,
	                       web_param(r, "HTTP_IF_NONE_MATCH"), &status,
	                       &h) < 0)
		web_errorf(r, PS_ENOMEM, NULL, "out of memory");
	else
		send_body(r, status, h.data, b.data, b.len);
	ps_buf_free(&h);
	ps_buf_free(&b);
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
	for (int i = 0; i < c->conf.nwarnings; i++)
		web_log(prog, "warning: %s", c->conf.warnings[i]);
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
serve(const struct web_app *app, void *fcgi, int fd)
{
	struct web_req r = {0};
	struct ps_err err = {0};
	int body;

	r.prog = app->name;
	r.fcgi = fcgi;
	r.fd = fd;
	body = http_body_size_ok(web_param(&r, "CONTENT_LENGTH"),
	                         HTTP_BODY_MAX);
	if (body <= 0) {
		ps_err_set(&err, PS_EBAD_REQUEST,
		           body < 0 ? "CONTENT_LENGTH is not a length"
		                    : "the request body is over %d bytes; "
		                      "this API takes none",
		           HTTP_BODY_MAX);
		error_answer(&r, body < 0 ? 400 : 413, &err);
	} else if (http_path_parse(&r.path, web_param(&r, "REQUEST_URI"),
	                           web_param(&r, "SCRIPT_NAME"),
	                           web_param(&r, "PATH_INFO"), &err) < 0)
		web_error(&r, &err, NULL);
	else
		app->handle(&r, app->arg);
	if (!r.started)
		web_errorf(&r, PS_EINTERNAL, NULL, "no answer");
	web_flush(&r);
	http_path_free(&r.path);
	ps_buf_free(&r.out);
}

static int
run_cgi(const struct web_app *app)
{
	int status = 0;

	if (!getenv("REQUEST_METHOD")) {
		fprintf(stderr,
		        "%s: a FastCGI program: run it under spawn-fcgi, "
		        "systemd or a web server (see pricesync-fcgi(8))\n",
		        app->name);
		return 2;
	}
	/* Before start: the store must be opened after the fork. */
	if (app->detach && detach_relay(app->name, &status) == 1)
		return status;
	if (app->start)
		app->start(app->arg);
	serve(app, NULL, 1);
	if (app->finish)
		app->finish(app->arg);
	return 0;
}

/* ---- the FastCGI pool ---- */

struct pool {
	const struct web_app *app;
	pthread_mutex_t accept_mu;
	int wake[2];         /* written once at shutdown, never read */
	const char *allowed; /* FCGI_WEB_SERVER_ADDRS, or NULL */
};

/* 1 once shutdown has begun. */
static int
stopping_pool(struct pool *p)
{
	struct pollfd w = {.fd = p->wake[0], .events = POLLIN};

	return poll(&w, 1, 0) > 0;
}

/* A connection, or -2 when shutting down, or -1 when the listening
 * socket broke. Only one thread at a time waits in accept: a connection
 * wakes one worker, not all. */
static int
take_conn(struct pool *p)
{
	int fd;

	pthread_mutex_lock(&p->accept_mu);
	fd = conn_accept(0, p->wake[0], p->allowed);
	pthread_mutex_unlock(&p->accept_mu);
	return fd;
}

/* Reads the request head of connection fd into req: 1 with a request,
 * 0 when the connection was dropped (and closed), -2 when shutting down
 * (fd closed). */
static int
read_request(struct pool *p, FCGX_Request *req, int fd, unsigned char *buf)
{
	enum conn_wait w;

	w = conn_wait_head(fd, p->wake[0], CONN_READ_TIMEOUT_MS, buf,
	                   CONN_HEAD_MAX);
	if (w != CONN_READY) {
		if (w != CONN_CLOSED && w != CONN_STOP)
			web_log(p->app->name,
			        "dropped a connection that sent no whole "
			        "request (%s)",
			        conn_wait_name(w));
		close(fd);
		return w == CONN_STOP ? -2 : 0;
	}
	/* The head is queued, so FCGX_Accept_r reads it without blocking.
	 * It takes an open connection in ipcFd (kept, as keepConnection
	 * says, by the FCGX_Finish_r it starts with), and the listening
	 * socket of -1 makes its retry after a bad request fail at once
	 * instead of blocking in accept(). The fields have not moved in
	 * libfcgi since 2.4.0. */
	req->ipcFd = fd;
	req->keepConnection = 1;
	if (FCGX_Accept_r(req) < 0) {
		/* libfcgi closed it: not a request it could read. */
		req->ipcFd = -1;
		web_log(p->app->name, "dropped a connection with a bad "
		                      "FastCGI request");
		return 0;
	}
	return 1;
}

/* Tells the main thread the process is done, unless it already knows. */
static void
fail_pool(struct pool *p, const char *what)
{
	if (!stopping_pool(p)) {
		web_log(p->app->name, "%s: %s", what, strerror(errno));
		kill(getpid(), SIGTERM);
	}
}

static void *
worker(void *arg)
{
	struct pool *p = arg;
	unsigned char *buf = malloc(CONN_HEAD_MAX);
	FCGX_Request req;

	if (!buf || FCGX_InitRequest(&req, -1, 0) != 0) {
		web_log(p->app->name, "cannot start a worker: out of memory");
		kill(getpid(), SIGTERM);
		free(buf);
		return NULL;
	}
	for (;;) {
		int fd = take_conn(p), rc;

		if (fd == -2)
			break;
		if (fd < 0) {
			fail_pool(p, "accept failed");
			break;
		}
		rc = read_request(p, &req, fd, buf);
		if (rc == -2)
			break;
		if (rc == 0)
			continue;
		serve(p->app, &req, fd);
		FCGX_Finish_r(&req);
		/* One request per connection: a connection the server would
		 * keep open would otherwise tie this worker to it. */
		FCGX_Free(&req, 1);
	}
	FCGX_Free(&req, 1);
	free(buf);
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
	if (app->start)
		app->start(app->arg);
	if (FCGX_Init() != 0 || pipe2(p.wake, O_CLOEXEC) < 0) {
		web_log(app->name, "cannot start: %s", strerror(errno));
		status = 1;
		goto finish;
	}
	/* Accepting without blocking: poll said a connection waits, but it
	 * may be gone by the time accept() runs. */
	if (fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK) < 0) {
		web_log(app->name, "cannot use the listening socket: %s",
		        strerror(errno));
		status = 1;
		goto wake_close;
	}
	p.allowed = getenv("FCGI_WEB_SERVER_ADDRS");
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
		goto mutex_destroy;
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
mutex_destroy:
	pthread_mutex_destroy(&p.accept_mu);
wake_close:
	close(p.wake[0]);
	close(p.wake[1]);
finish:
	if (app->finish)
		app->finish(app->arg);
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
