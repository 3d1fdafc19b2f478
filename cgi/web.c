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

void
web_error(struct web_req *r, const struct ps_err *err, const char *headers)
{
	static const char oom[] = "{\"type\":\"error\",\"code\":"
	                          "\"out_of_memory\",\"message\":"
	                          "\"out of memory\"}\n";
	struct ps_buf h = {0}, b = {0};
	int status;

	if (http_error_answer(err, headers, &status, &h, &b) < 0)
		send_body(r, 500, "Content-Type: application/json\r\n", oom,
		          sizeof(oom) - 1);
	else
		send_body(r, status, h.data, b.data, b.len);
	ps_buf_free(&h);
	ps_buf_free(&b);
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
serve(const struct web_app *app, void *fcgi)
{
	struct web_req r = {0};
	struct ps_err err = {0};

	r.prog = app->name;
	r.fcgi = fcgi;
	if (http_path_parse(&r.path, web_param(&r, "REQUEST_URI"),
	                    web_param(&r, "SCRIPT_NAME"),
	                    web_param(&r, "PATH_INFO"), &err) < 0)
		web_error(&r, &err, NULL);
	else
		app->handle(&r, app->arg);
	if (!r.started)
		web_errorf(&r, PS_EINTERNAL, NULL, "no answer");
	web_flush(&r);
	http_path_free(&r.path);
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
