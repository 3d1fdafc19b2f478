/*
 * http: the pure HTTP rules of the two web programs, apart from FastCGI
 * and from any I/O, so each can be unit-tested and fuzzed alone: the
 * request path cut into segments and matched by its last ones, the query
 * string, the Origin-vs-Host check, ETag and If-None-Match, and the
 * status codes, headers and JSON bodies of SPEC §5's answers.
 *
 * Every input is untrusted bytes from a client or a web server:
 * NUL-terminated strings (a CGI parameter cannot hold a NUL), any of them
 * may be NULL where said, and nothing here reads past the terminating NUL
 * or writes past a size given. Nothing keeps state between calls; every
 * function is safe on any thread.
 */
#ifndef PS_HTTP_H
#define PS_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* ---- the request path ---- */

#define HTTP_MAX_SEGS 16

/* A request path cut into segments. buf is owned by the struct (freed by
 * http_path_free); segs point into it. A zeroed struct is an empty path. */
struct http_path {
	char *buf;
	const char *segs[HTTP_MAX_SEGS];
	int nsegs;
};

/* Fills p from a CGI request: the path of request_uri (the bytes before
 * its first '?' or '#'), or, when request_uri is NULL or empty, script_name
 * then path_info (some plain CGI servers set no REQUEST_URI); each may be
 * NULL. The path is split at '/' into non-empty segments, each then
 * percent-decoded (so an encoded '/' stays inside its segment, and '+'
 * stays '+'). Only the last HTTP_MAX_SEGS segments are kept: routing looks
 * at those. 0; or -1 with PS_EBAD_REQUEST (a bad escape or %00) or
 * PS_ENOMEM in err, p then empty. p must be zeroed or freed first. */
int http_path_parse(struct http_path *p, const char *request_uri,
                    const char *script_name, const char *path_info,
                    struct ps_err *err);
/* Frees p->buf and empties p; safe twice. */
void http_path_free(struct http_path *p);
/* 1 when the last n segments of p are pat[0..n-1] ("*" matches any one
 * segment), else 0 (also when p has fewer than n segments). */
int http_path_ends(const struct http_path *p, const char *const *pat, int n);

/* Decodes %XX in s (NUL-terminated) in place; '+' stays '+' (it is not a
 * space outside forms, and "+00:00" in a time must survive). 0, or -1 on
 * a bad escape or an encoded NUL (s is then garbage). */
int http_pct_decode(char *s);

/* ---- the query string ---- */

/* The query of a request: query_string when set and not empty, else what
 * follows the first '?' of request_uri, else "". Either may be NULL. The
 * result is borrowed from the arguments (or static). */
const char *http_query_of(const char *query_string, const char *request_uri);
/* The value of the first parameter called name in query ('&'-separated,
 * ends at '#' or NUL; "name" alone is an empty value), percent-decoded,
 * in out (size n > 0). 1 when present, 0 when absent, -1 when the value
 * does not fit or is badly encoded. out is written only when 1 or -1. */
int http_query_get(const char *query, const char *name, char *out, size_t n);

/* ---- the request body ---- */

/* The most body the programs take (they read none: this only tells a
 * mistake or an attack from a client that sends a few bytes). */
#define HTTP_BODY_MAX 65536

/* What CONTENT_LENGTH (may be NULL) says of a body: 1 when absent, empty
 * or a decimal number up to max; 0 when a larger number; -1 when not a
 * decimal number (a sign, blanks, anything else, or past 2^63). */
int http_body_size_ok(const char *content_length, unsigned long long max);
/* Whether a request with this CONTENT_LENGTH (may be NULL) is served: 0
 * when it is; else the status of its refusal, 400 (not a length) or 413
 * (over max), with PS_EBAD_REQUEST and a message in err. */
int http_body_refused(const char *content_length, unsigned long long max,
                      struct ps_err *err);

/* ---- Origin ---- */

/* 1 when a request may change state: no (or an empty) Origin, or one
 * naming the host of Host, and its port where Host carries one (a
 * missing Origin port is the scheme's default). 0 for anything else: no
 * Host, "null", an unparsable or overlong value. Either may be NULL. */
int http_origin_ok(const char *origin, const char *host);

/* ---- ETag ---- */

/* The ETag of body (n bytes): a quoted 64-bit FNV-1a in hex, 18
 * characters and a NUL. */
#define HTTP_ETAG_LEN 19
void http_etag(const char *body, size_t n, char out[HTTP_ETAG_LEN]);
/* 1 when an If-None-Match value (a list separated by commas and blanks,
 * W/ allowed, or *) names etag (NUL-terminated); 0 when not, or when
 * if_none_match is NULL. */
int http_etag_matches(const char *if_none_match, const char *etag);

/* ---- answers ---- */

/* The HTTP status for an error code (SPEC §5): 400, 403, 404, 405, 409,
 * 429, else 500. (A body over HTTP_BODY_MAX is a bad_request answered
 * 413: see http_body_refused.) */
int http_status_for(enum ps_code code);
/* The reason phrase of a status we send; "Internal Server Error" for any
 * other. Never NULL. */
const char *http_reason(int status);
/* Appends the CGI head of an answer to out: "Status: N Reason", then
 * "Content-Length: len" when len >= 0 and status is not 304 (a 304's
 * length would describe the 200's body), then headers (lines ending in
 * CRLF, may be NULL), then the blank line. 0, or -1 when out of memory. */
int http_head(struct ps_buf *out, int status, long long len,
              const char *headers);
/* 1 when an answer with this status to this method (may be NULL) carries
 * its body: not for HEAD, not for 304. */
int http_has_body(int status, const char *method);
/* The refusal of method (may be NULL) where only allow ("GET, HEAD")
 * is taken, for http_error_answer: PS_EMETHOD in err, its message naming
 * the method (quoted) and allow; "Allow: ALLOW" appended to headers. 0,
 * or -1 when out of memory. */
int http_method_refused(const char *method, const char *allow,
                        struct ps_buf *headers, struct ps_err *err);
/* The JSON error answer for err: status http_status_for(err->code);
 * headers Content-Type, Cache-Control: no-store, Retry-After for a
 * cooldown with retry_after > 0, then extra (may be NULL), appended to
 * headers; body {"type":"error","code":..,"message":..} and a newline,
 * appended to body. 0, or -1 when out of memory (the buffers then hold
 * part of it: reset them). */
int http_error_answer(const struct ps_err *err, const char *extra, int *status,
                      struct ps_buf *headers, struct ps_buf *body);
/* The answer to a GET or HEAD of a document (body, n bytes) that may be
 * cached: 200 with Content-Type: application/json, Cache-Control:
 * no-cache and its ETag, or 304 with only the last two when
 * if_none_match (may be NULL) names that ETag. Headers are appended to
 * headers. 0, or -1 when out of memory. */
int http_cached_answer(const char *body, size_t n, const char *if_none_match,
                       int *status, struct ps_buf *headers);

#endif
