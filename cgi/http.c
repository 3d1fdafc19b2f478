/*
 * http: the pure HTTP rules of the web programs (see http.h). No FastCGI,
 * no I/O, no state: request.c feeds these the request's parameters and
 * writes what they build.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "event.h"
#include "http.h"

/* ---- the request path ---- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
http_pct_decode(char *s)
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

/* The raw path, malloc'd: see http_path_parse. */
static char *
raw_path(const char *uri, const char *sn, const char *pi)
{
	struct ps_buf b = {0};

	if (uri && *uri) {
		if (ps_buf_append(&b, uri, strcspn(uri, "?#")) < 0)
			return NULL;
	} else if (ps_buf_puts(&b, sn ? sn : "") < 0 ||
	           ps_buf_puts(&b, pi ? pi : "") < 0) {
		ps_buf_free(&b);
		return NULL;
	}
	return ps_buf_take(&b);
}

void
http_path_free(struct http_path *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

int
http_path_parse(struct http_path *p, const char *request_uri,
                const char *script_name, const char *path_info,
                struct ps_err *err)
{
	char *s, *save = NULL, *seg;

	memset(p, 0, sizeof(*p));
	p->buf = raw_path(request_uri, script_name, path_info);
	if (!p->buf)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	for (s = p->buf; (seg = strtok_r(s, "/", &save)); s = NULL) {
		if (http_pct_decode(seg) < 0) {
			http_path_free(p);
			return ps_err_set(err, PS_EBAD_REQUEST,
			                  "the request path is not a valid URL "
			                  "path");
		}
		if (p->nsegs == HTTP_MAX_SEGS) {
			memmove(p->segs, p->segs + 1,
			        sizeof(p->segs[0]) * (HTTP_MAX_SEGS - 1));
			p->nsegs--;
		}
		p->segs[p->nsegs++] = seg;
	}
	return 0;
}

int
http_path_ends(const struct http_path *p, const char *const *pat, int n)
{
	int i, off = p->nsegs - n;

	if (n < 0 || off < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(pat[i], "*") != 0 &&
		    strcmp(pat[i], p->segs[off + i]) != 0)
			return 0;
	return 1;
}

/* ---- the query string ---- */

const char *
http_query_of(const char *query_string, const char *request_uri)
{
	const char *q;

	if (query_string && *query_string)
		return query_string;
	q = request_uri ? strchr(request_uri, '?') : NULL;
	return q ? q + 1 : "";
}

int
http_query_get(const char *q, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);

	if (!q)
		return 0;
	while (*q) {
		size_t len = strcspn(q, "&#");

		if (len >= nl && strncmp(q, name, nl) == 0 &&
		    (len == nl || q[nl] == '=')) {
			size_t vl = len == nl ? 0 : len - nl - 1;

			if (vl >= n)
				return -1;
			memcpy(out, q + nl + (len > nl), vl);
			out[vl] = '\0';
			return http_pct_decode(out) < 0 ? -1 : 1;
		}
		if (q[len] != '&')
			break;
		q += len + 1;
	}
	return 0;
}

/* ---- the request body ---- */

int
http_body_size_ok(const char *v, unsigned long long max)
{
	unsigned long long n = 0;

	if (!v || !*v)
		return 1;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > (1ULL << 63) / 10)
			return -1;
		n = n * 10 + (unsigned long long)(*v - '0');
	}
	if (n > 1ULL << 63)
		return -1;
	return n <= max;
}

int
http_body_refused(const char *content_length, unsigned long long max,
                  struct ps_err *err)
{
	int ok = http_body_size_ok(content_length, max);

	if (ok > 0)
		return 0;
	if (ok < 0) {
		ps_err_set(err, PS_EBAD_REQUEST,
		           "CONTENT_LENGTH is not a length");
		return 400;
	}
	ps_err_set(err, PS_EBAD_REQUEST,
	           "the request body is over %llu bytes; this API takes none",
	           max);
	return 413;
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
http_origin_ok(const char *origin, const char *host)
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

/* ---- ETag ---- */

void
http_etag(const char *body, size_t n, char out[HTTP_ETAG_LEN])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)body[i];
		h *= 0x100000001b3ULL;
	}
	snprintf(out, HTTP_ETAG_LEN, "\"%016llx\"", (unsigned long long)h);
}

int
http_etag_matches(const char *inm, const char *etag)
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

/* ---- answers ---- */

int
http_status_for(enum ps_code code)
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

const char *
http_reason(int status)
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
	case 413:
		return "Content Too Large";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

int
http_head(struct ps_buf *out, int status, long long len, const char *headers)
{
	if (ps_buf_printf(out, "Status: %d %s\r\n", status,
	                  http_reason(status)) < 0)
		return -1;
	if (len >= 0 && status != 304 &&
	    ps_buf_printf(out, "Content-Length: %lld\r\n", len) < 0)
		return -1;
	if (headers && ps_buf_puts(out, headers) < 0)
		return -1;
	return ps_buf_puts(out, "\r\n");
}

int
http_has_body(int status, const char *method)
{
	return status != 304 && !(method && strcmp(method, "HEAD") == 0);
}

int
http_method_refused(const char *method, const char *allow,
                    struct ps_buf *headers, struct ps_err *err)
{
	char q[PS_QUOTE_SIZE];

	ps_err_set(err, PS_EMETHOD, "method '%s' not allowed here; use %s",
	           ps_err_quote(method ? method : "", q), allow);
	if (ps_buf_puts(headers, "Allow: ") < 0 ||
	    ps_buf_puts(headers, allow) < 0 || ps_buf_puts(headers, "\r\n") < 0)
		return -1;
	return 0;
}

int
http_error_answer(const struct ps_err *err, const char *extra, int *status,
                  struct ps_buf *headers, struct ps_buf *body)
{
	char *json = ps_error_json(err);
	int rc = -1;

	*status = http_status_for(err->code);
	if (!json || ps_buf_puts(body, json) < 0 || ps_buf_puts(body, "\n") < 0)
		goto json_free;
	if (ps_buf_puts(headers, "Content-Type: application/json\r\n"
	                         "Cache-Control: no-store\r\n") < 0)
		goto json_free;
	if (err->code == PS_ECOOLDOWN && err->retry_after > 0 &&
	    ps_buf_printf(headers, "Retry-After: %ld\r\n", err->retry_after) <
	            0)
		goto json_free;
	if (extra && ps_buf_puts(headers, extra) < 0)
		goto json_free;
	rc = 0;
json_free:
	free(json);
	return rc;
}

int
http_cached_answer(const char *body, size_t n, const char *if_none_match,
                   int *status, struct ps_buf *headers)
{
	char etag[HTTP_ETAG_LEN];

	http_etag(body, n, etag);
	*status = http_etag_matches(if_none_match, etag) ? 304 : 200;
	/* A 304 says nothing of the body's type: it has none. */
	if (*status == 200 &&
	    ps_buf_puts(headers, "Content-Type: application/json\r\n") < 0)
		return -1;
	return ps_buf_printf(headers, "Cache-Control: no-cache\r\nETag: %s\r\n",
	                     etag);
}
