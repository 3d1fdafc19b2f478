/*
 * request: one request as the handlers of `sync` and `sync-status` see
 * it, the same in FastCGI and plain CGI: its parameters, path segments
 * and query, writing and flushing the answer within one write budget,
 * and the JSON error answers and cached documents of http.h's rules.
 *
 * Limits: a request belongs to one worker thread; nothing here is shared
 * between requests.
 */
#ifndef PS_REQUEST_H
#define PS_REQUEST_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "http.h"

/* One request. Owned by web_answer; a handler borrows it until it
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

/* Answers one request: fcgi (an FCGX_Request * that libfcgi accepted,
 * borrowed) writing to its connection fd, or NULL for plain CGI (the
 * environment, fd 1). A request with a body or a bad path is refused
 * here; any other goes to handle(r, arg), and gets a 500 if handle sent
 * no answer. Everything is flushed before it returns. prog names the
 * program in logs and is borrowed. */
void web_answer(const char *prog, void *fcgi, int fd,
                void (*handle)(struct web_req *r, void *arg), void *arg);

/* A CGI parameter (REQUEST_METHOD, HTTP_ORIGIN, ...) or NULL; borrowed
 * until the request ends. */
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
/* Sends what is buffered now (one FastCGI record). The time flushes wait
 * for a slow reader counts against one budget for the whole answer,
 * CONN_WRITE_TIMEOUT_MS: once it is spent the client is taken as gone. */
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

#endif
