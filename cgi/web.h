/*
 * web: what the two FastCGI programs share. The accept loop (a pool of
 * threads taking turns in FCGX_Accept_r, or one plain CGI request when
 * stdin is not a listening socket), the request as the handlers see it
 * (parameters, path segments, writing and flushing, the same in both
 * modes), JSON error answers and cached documents written by the rules
 * of http.h, the config and store opened once per process, and one-line
 * logs on stderr prefixed with the program's name.
 *
 * Limits: requests are answered on worker threads, so a handler must only
 * touch its own request and the shared, thread-safe core (conf is
 * read-only, the store takes care of its own locking).
 */
#ifndef PS_WEB_H
#define PS_WEB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "http.h"
#include "store.h"

/* One request. Owned by the accept loop; a handler borrows it until it
 * returns. */
struct web_req {
	const char *prog;  /* the program's name, for logs */
	void *fcgi;        /* FCGX_Request *, or NULL in plain CGI */
	int fd;            /* where the answer goes: the connection, or 1 */
	struct ps_buf out; /* plain CGI: what web_flush will write to fd */
	long waited_ms;    /* spent by flushes waiting for the reader */
	int gone;          /* a write failed: the client left; drop output */
	int started;       /* the headers were sent */
	struct http_path path; /* REQUEST_URI's path, in decoded segments */
};

/* Plain CGI output is sent when flushed, or by pieces of this size. */
#define WEB_CGI_BUF 65536

/* What a program's main hands to web_run. */
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
 * CGI request. Once an answer's flushes have waited CONN_WRITE_TIMEOUT_MS
 * in all for the reader, the client is taken as gone (web_flush).
 * Returns the exit status for main. */
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

/* A CGI parameter (REQUEST_METHOD, HTTP_ORIGIN, ...) or NULL. */
const char *web_param(const struct web_req *r, const char *name);
/* REQUEST_METHOD, "" when absent. */
const char *web_method(const struct web_req *r);
/* 1 when the last segments of the path are pat[0..n-1]; "*" matches any
 * one segment. */
int web_path_ends(const struct web_req *r, const char *const *pat, int n);
/* The value of query parameter name, percent-decoded, in out (size n).
 * 1 when present, 0 when absent, -1 when too long or badly encoded. */
int web_query(const struct web_req *r, const char *name, char *out, size_t n);

/* Writes the status line and headers (each "Name: value\r\n" in headers,
 * which may be NULL) and the blank line. */
int web_begin(struct web_req *r, int status, const char *headers);
/* Body bytes; once a write fails the client is taken as gone and the rest
 * is dropped, so a handler may go on with its work. */
int web_write(struct web_req *r, const void *p, size_t n);
/* Sends what is buffered now (one FastCGI record). Waits for a slow
 * reader only while the answer's write budget lasts (see web_run). */
int web_flush(struct web_req *r);

/* Answers err as {"type":"error","code":..,"message":..} with
 * http_status_for(err->code) and the extra headers (may be NULL);
 * Retry-After is added for a cooldown with retry_after > 0. */
void web_error(struct web_req *r, const struct ps_err *err,
               const char *headers);
/* web_error with a code and a printf message. */
void web_errorf(struct web_req *r, enum ps_code code, const char *headers,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* 405 method_not_allowed with Allow: allow. */
void web_method_not_allowed(struct web_req *r, const char *allow);

/* Answers a JSON document (GET or HEAD): ETag, Cache-Control: no-cache,
 * 304 when If-None-Match names the ETag, no body for HEAD. */
void web_json_cached(struct web_req *r, const char *body);

/* A program's command line: none -> -1 (go on and serve); --help or
 * --version -> printed, 0; anything else -> usage on stderr, 2. */
int web_cmdline(const char *prog, int argc, char **argv);

/* One line on stderr: "PROG: message". */
void web_log(const char *prog, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#endif
