/*
 * serve: the process of `sync` and `sync-status` around their requests:
 * the command line, one-line logs on stderr prefixed with the program's
 * name, the config and the store opened once and shared by the worker
 * threads, and the loop that answers requests (request.h): a pool of
 * threads taking turns at the listening socket in FastCGI mode, or one
 * plain CGI request when stdin is not a listening socket.
 *
 * Limits: requests are answered on worker threads, so a handler must only
 * touch its own request and the shared, thread-safe core (conf is
 * read-only, the store takes care of its own locking).
 */
#ifndef PS_SERVE_H
#define PS_SERVE_H

#include <pthread.h>

#include "conf.h"
#include "err.h"
#include "request.h"
#include "store.h"

/* What a program's main hands to web_run; borrowed until it returns. */
struct web_app {
	const char *name; /* "sync", "sync-status" */
	int threads;      /* workers in FastCGI mode */
	void (*handle)(struct web_req *r, void *arg);
	void *arg;
	/* Called once the mode is known (and, in plain CGI with detach, in
	 * the detached process), before the first request; and at the end.
	 * Both may be NULL. */
	void (*start)(void *arg);
	void (*finish)(void *arg);
	/* Plain CGI: answer from a process of its own (detach.h), which the
	 * web server cannot kill when its client leaves. */
	int detach;
};

/* Runs the program: FastCGI when stdin is a listening socket (until
 * SIGTERM, SIGINT or SIGUSR1, after the requests in hand), else one plain
 * CGI request. Returns the exit status for main. */
int web_run(const struct web_app *app);

/* The config and the store, opened once per process and shared by the
 * worker threads. A config error is kept and answered to every request;
 * a store that would not open is retried on the next request (the
 * directory may be fixed meanwhile). */
struct web_core {
	const char *prog;
	struct ps_conf conf;
	int conf_ok;
	struct ps_err conf_err;
	pthread_mutex_t mu; /* guards store while it is being opened */
	struct ps_store *store;
};

/* Loads the config ($PRICESYNC_CONFIG) and opens the store, logging what
 * fails. Always returns 0: errors are kept for the requests. */
int web_core_init(struct web_core *c, const char *prog);
/* The store, opening it if needed; NULL with err (PS_ECONFIG for a bad
 * config, else PS_ESTORE). */
struct ps_store *web_core_store(struct web_core *c, struct ps_err *err);
void web_core_free(struct web_core *c);

/* A program's command line: none -> -1 (go on and serve); --help or
 * --version -> printed, 0; anything else -> usage on stderr, 2. */
int web_cmdline(const char *prog, int argc, char **argv);

/* One line on stderr: "PROG: message". */
void web_log(const char *prog, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#endif
