/*
 * serve: the process around the requests of `sync` and `sync-status`
 * (see serve.h): the command line, the logs, the config and the store
 * opened once, and the loop that hands requests to web_answer.
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
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "detach.h"
#include "request.h"
#include "serve.h"

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
	web_answer(app->name, NULL, 1, app->handle, app->arg);
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
		web_answer(p->app->name, &req, fd, p->app->handle, p->app->arg);
		FCGX_Finish_r(&req);
		/* One request per connection: a connection the server would
		 * keep open would otherwise tie this worker to it. */
		FCGX_Free(&req, 1);
	}
	FCGX_Free(&req, 1);
	free(buf);
	return NULL;
}

/* The signals that stop the process: blocked in every thread (they
 * inherit the mask), taken by the main thread with sigwait. */
static void
block_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1); /* libfcgi's "graceful stop" signal */
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

#define WEB_THREADS_MAX 64

/* Runs n workers (1..WEB_THREADS_MAX) until a stop signal, then waits
 * for the requests in hand. 0, or -1 when no thread would start. */
static int
run_pool(struct pool *p, int n)
{
	pthread_t tids[WEB_THREADS_MAX];
	sigset_t set;
	int i, sig = 0;

	block_stop_signals(&set);
	for (i = 0; i < n; i++)
		if (pthread_create(&tids[i], NULL, worker, p) != 0)
			break;
	if (i == 0) {
		web_log(p->app->name, "cannot start a thread");
		return -1;
	}
	n = i;
	web_log(p->app->name, "ready (FastCGI, %d threads)", n);
	while (sigwait(&set, &sig) != 0)
		;
	web_log(p->app->name, "signal %d: stopping after the requests in hand",
	        sig);
	FCGX_ShutdownPending();
	if (write(p->wake[1], "x", 1) < 0)
		web_log(p->app->name, "wake-up pipe: %s", strerror(errno));
	for (i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	return 0;
}

static int
run_fcgi(const struct web_app *app)
{
	struct pool p = {.app = app};
	int n = app->threads, status = 0;

	if (n < 1)
		n = 1;
	if (n > WEB_THREADS_MAX)
		n = WEB_THREADS_MAX;
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
	if (run_pool(&p, n) < 0)
		status = 1;
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
