/*
 * request: one request of `sync` or `sync-status` as its handler sees it
 * (see request.h): parameters from libfcgi or the environment, body
 * bytes through libfcgi's stream (in pieces under its buffer) or a
 * buffer written to stdout, each flush waiting for a slow reader only
 * while the answer's write budget lasts, and the answers of http.h's
 * rules (errors, cached documents). A write that fails, or a budget
 * spent, takes the client as gone: the rest is dropped, and the handler
 * goes on with its work.
 */
#include "config.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conn.h"
#include "http.h"
#include "request.h"
#include "serve.h"

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

/* What libfcgi's output buffer holds after a flush (8192 bytes less the
 * 8-byte record header): a piece fits it whole and takes FCGX_PutStr's
 * copy-only path, never a flush of libfcgi's own. 4096 (twice the
 * records) held GET /api/prices of 500 symbols to 0.64-0.67 of its floor
 * where this gives 0.78-0.92. */
#define WEB_FCGI_PIECE 8184

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
	struct ps_buf h = {0};
	struct ps_err err = {0};

	if (http_method_refused(web_method(r), allow, &h, &err) < 0)
		web_errorf(r, PS_ENOMEM, NULL, "out of memory");
	else
		web_error(r, &err, h.data);
	ps_buf_free(&h);
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

/* ---- one request, start to end ---- */

void
web_answer(const char *prog, void *fcgi, int fd,
           void (*handle)(struct web_req *r, void *arg), void *arg)
{
	struct web_req r = {0};
	struct ps_err err = {0};
	int refused;

	r.prog = prog;
	r.fcgi = fcgi;
	r.fd = fd;
	refused = http_body_refused(web_param(&r, "CONTENT_LENGTH"),
	                            HTTP_BODY_MAX, &err);
	if (refused)
		error_answer(&r, refused, &err);
	else if (http_path_parse(&r.path, web_param(&r, "REQUEST_URI"),
	                         web_param(&r, "SCRIPT_NAME"),
	                         web_param(&r, "PATH_INFO"), &err) < 0)
		web_error(&r, &err, NULL);
	else
		handle(&r, arg);
	if (!r.started)
		web_errorf(&r, PS_EINTERNAL, NULL, "no answer");
	web_flush(&r);
	http_path_free(&r.path);
	ps_buf_free(&r.out);
}
