/*
 * t-web: the pure HTTP rules of cgi/http.c, apart from FastCGI: paths cut
 * and matched by their last segments, percent-decoding, the query string,
 * the Origin-vs-Host check, ETag and If-None-Match, and the heads and
 * bodies of answers and JSON errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "tap.h"

/* The path's segments joined with '|', in a static buffer. */
static const char *
joined(const struct http_path *p)
{
	static char out[1024];
	int i;

	out[0] = '\0';
	for (i = 0; i < p->nsegs; i++) {
		if (i)
			strcat(out, "|");
		strcat(out, p->segs[i]);
	}
	return out;
}

/* Parses uri (or sn + pi) and returns the joined segments, or "ERR:code". */
static const char *
path_of(const char *uri, const char *sn, const char *pi)
{
	static char out[1100];
	struct http_path p = {0};
	struct ps_err err = {0};

	if (http_path_parse(&p, uri, sn, pi, &err) < 0) {
		snprintf(out, sizeof(out), "ERR:%s", ps_code_name(err.code));
		if (p.buf || p.nsegs)
			strcat(out, ":not-empty");
		return out;
	}
	snprintf(out, sizeof(out), "%s", joined(&p));
	http_path_free(&p);
	return out;
}

static void
test_path(void)
{
	struct http_path p = {0};
	struct ps_err err = {0};
	char uri[512];
	int i;

	tap_str(path_of("/api/sync/status", NULL, NULL), "api|sync|status",
	        "path: segments");
	tap_str(path_of("/api/sync/status?x=1#f", NULL, NULL),
	        "api|sync|status", "path: the query is not part of it");
	tap_str(path_of("/a#frag/b", NULL, NULL), "a", "path: nor a fragment");
	tap_str(path_of("//a///b/", NULL, NULL), "a|b",
	        "path: empty segments dropped");
	tap_str(path_of("", "/cgi-bin/sync-status", "/prices"),
	        "cgi-bin|sync-status|prices",
	        "path: SCRIPT_NAME + PATH_INFO without REQUEST_URI");
	tap_str(path_of(NULL, "/x", NULL), "x", "path: PATH_INFO may be NULL");
	tap_str(path_of(NULL, NULL, NULL), "", "path: nothing at all is empty");
	tap_str(path_of("/prices/BRK%2FB/history", NULL, NULL),
	        "prices|BRK/B|history",
	        "path: an encoded '/' stays inside its segment");
	tap_str(path_of("/prices/BT%2EA", NULL, NULL), "prices|BT.A",
	        "path: escapes decoded, either case");
	tap_str(path_of("/p/%4a%4A", NULL, NULL), "p|JJ",
	        "path: lower and upper hex");
	tap_str(path_of("/a+b", NULL, NULL), "a+b", "path: '+' stays '+'");
	tap_str(path_of("/a/%00/b", NULL, NULL), "ERR:bad_request",
	        "path: %00 is refused, and p left empty");
	tap_str(path_of("/a%4", NULL, NULL), "ERR:bad_request",
	        "path: a cut escape is refused");
	tap_str(path_of("/a%", NULL, NULL), "ERR:bad_request",
	        "path: a lone % is refused");
	tap_str(path_of("/a%zz", NULL, NULL), "ERR:bad_request",
	        "path: a non-hex escape is refused");
	tap_str(path_of("/a%G0", NULL, NULL), "ERR:bad_request",
	        "path: 'G' is not hex");
	tap_str(path_of("/%ff%fe", NULL, NULL), "\xff\xfe",
	        "path: any byte but NUL may be encoded");

	strcpy(uri, "");
	for (i = 0; i < 20; i++)
		sprintf(uri + strlen(uri), "/s%d", i);
	tap_str(path_of(uri, NULL, NULL),
	        "s4|s5|s6|s7|s8|s9|s10|s11|s12|s13|s14|s15|s16|s17|s18|s19",
	        "path: only the last 16 segments are kept");

	if (http_path_parse(&p, "/x/api/prices/AAPL/history", NULL, NULL,
	                    &err) < 0)
		tap_diag("parse: %s", err.msg);
	{
		static const char *const hist[] = {"prices", "*", "history"};
		static const char *const st[] = {"sync", "status"};
		static const char *const one[] = {"history"};
		static const char *const six[] = {"a", "b", "c", "d", "e", "f"};

		tap_ok(http_path_ends(&p, hist, 3), "ends: with a wildcard");
		tap_ok(!http_path_ends(&p, st, 2), "ends: other segments");
		tap_ok(http_path_ends(&p, one, 1), "ends: one segment");
		tap_ok(!http_path_ends(&p, six, 6),
		       "ends: more segments than the path has");
		tap_ok(http_path_ends(&p, NULL, 0), "ends: nothing always");
	}
	http_path_free(&p);
	http_path_free(&p);
	tap_ok(p.buf == NULL && p.nsegs == 0, "path_free is safe twice");
	{
		static const char *const prices[] = {"prices"};

		tap_ok(!http_path_ends(&p, prices, 1),
		       "ends: an empty path ends with nothing");
	}
}

static void
test_decode(void)
{
	char s[64];

	strcpy(s, "a%20b%2b+");
	tap_int(http_pct_decode(s), 0, "decode: ok");
	tap_str(s, "a b++", "decode: %20 and %2b, '+' kept");
	strcpy(s, "");
	tap_int(http_pct_decode(s), 0, "decode: empty");
	strcpy(s, "%0");
	tap_int(http_pct_decode(s), -1, "decode: cut at the end");
	strcpy(s, "%%41");
	tap_int(http_pct_decode(s), -1, "decode: %% is not an escape");
}

static void
test_query(void)
{
	char v[16];

	tap_str(http_query_of("a=1", "/x?b=2"), "a=1",
	        "query: QUERY_STRING first");
	tap_str(http_query_of("", "/x?b=2"), "b=2",
	        "query: else after '?' in REQUEST_URI");
	tap_str(http_query_of(NULL, "/x"), "", "query: none");
	tap_str(http_query_of(NULL, NULL), "", "query: NULLs");

	tap_int(http_query_get("from=2026-01-01&to=x", "from", v, sizeof(v)), 1,
	        "get: present");
	tap_str(v, "2026-01-01", "get: its value");
	tap_int(http_query_get("fromx=1&from=2", "from", v, sizeof(v)), 1,
	        "get: a longer name is another parameter");
	tap_str(v, "2", "get: the right one");
	tap_int(http_query_get("a=1&limit", "limit", v, sizeof(v)), 1,
	        "get: a name alone");
	tap_str(v, "", "get: is an empty value");
	tap_int(http_query_get("a=1", "limit", v, sizeof(v)), 0, "get: absent");
	tap_int(http_query_get("a=1#limit=3", "limit", v, sizeof(v)), 0,
	        "get: the fragment ends the query");
	tap_int(http_query_get("t=%2B00%3A00+x", "t", v, sizeof(v)), 1,
	        "get: encoded");
	tap_str(v, "+00:00+x", "get: decoded, '+' kept");
	tap_int(http_query_get("t=%zz", "t", v, sizeof(v)), -1,
	        "get: a bad escape");
	tap_int(http_query_get("t=%00", "t", v, sizeof(v)), -1,
	        "get: an encoded NUL");
	tap_int(http_query_get("t=0123456789abcdef", "t", v, sizeof(v)), -1,
	        "get: 16 bytes do not fit in 16");
	tap_int(http_query_get("t=0123456789abcde", "t", v, sizeof(v)), 1,
	        "get: 15 do");
	tap_int(http_query_get(NULL, "t", v, sizeof(v)), 0, "get: NULL query");
	tap_int(http_query_get("&&t=1&", "t", v, sizeof(v)), 1,
	        "get: empty pairs skipped");
	tap_int(http_query_get("t=1&t=2", "t", v, sizeof(v)), 1,
	        "get: repeated");
	tap_str(v, "1", "get: the first wins");
}

static void
test_body(void)
{
	tap_int(http_body_size_ok(NULL, 10), 1, "body: no CONTENT_LENGTH");
	tap_int(http_body_size_ok("", 10), 1, "body: an empty one");
	tap_int(http_body_size_ok("0", 10), 1, "body: 0");
	tap_int(http_body_size_ok("10", 10), 1, "body: the most");
	tap_int(http_body_size_ok("11", 10), 0, "body: one more");
	tap_int(http_body_size_ok("99999999999999999999", 10), -1,
	        "body: past 2^63 is not a length");
	tap_int(http_body_size_ok("9223372036854775808", 10), 0,
	        "body: 2^63 is one");
	tap_int(http_body_size_ok("-1", 10), -1, "body: a sign");
	tap_int(http_body_size_ok(" 1", 10), -1, "body: a blank");
	tap_int(http_body_size_ok("1x", 10), -1, "body: a letter");
	tap_str(http_reason(413), "Content Too Large", "reason: 413");
}

static void
test_body_refused(void)
{
	struct ps_err err = {0};

	tap_int(http_body_refused(NULL, 10, &err), 0, "refused: no body");
	tap_int(http_body_refused("10", 10, &err), 0, "refused: the most");
	tap_int(err.code, PS_OK, "refused: err untouched when served");
	tap_int(http_body_refused("11", 10, &err), 413, "refused: over, 413");
	tap_str(ps_code_name(err.code), "bad_request", "refused: bad_request");
	tap_str(err.msg,
	        "the request body is over 10 bytes; this API takes none",
	        "refused: the message names the most");
	tap_int(http_body_refused("1x", 10, &err), 400,
	        "refused: not a length, 400");
	tap_str(err.msg, "CONTENT_LENGTH is not a length",
	        "refused: the message names the parameter");
}

static void
test_origin(void)
{
	tap_ok(http_origin_ok(NULL, "h"), "origin: none is fine (curl)");
	tap_ok(http_origin_ok("", NULL), "origin: empty is none");
	tap_ok(!http_origin_ok("http://h", NULL), "origin: no Host");
	tap_ok(!http_origin_ok("http://h", ""), "origin: empty Host");
	tap_ok(!http_origin_ok("null", "h"), "origin: null");
	tap_ok(http_origin_ok("http://Example.org", "example.org"),
	       "origin: same name, any case, Host without port");
	tap_ok(http_origin_ok("http://example.org:8080", "example.org"),
	       "origin: Host without its port (Debian's nginx)");
	tap_ok(!http_origin_ok("http://evil.org", "example.org"),
	       "origin: another name");
	tap_ok(!http_origin_ok("http://example.org.evil.org", "example.org"),
	       "origin: a longer name");
	tap_ok(http_origin_ok("http://h:8080", "h:8080"), "origin: same port");
	tap_ok(!http_origin_ok("http://h:8081", "h:8080"),
	       "origin: another port");
	tap_ok(http_origin_ok("http://h", "h:80"), "origin: http's default");
	tap_ok(http_origin_ok("https://h", "h:443"), "origin: https's default");
	tap_ok(!http_origin_ok("https://h", "h:80"),
	       "origin: https is not on 80");
	tap_ok(!http_origin_ok("ftp://h", "h:21"),
	       "origin: no default for another scheme");
	tap_ok(http_origin_ok("http://[::1]:8080", "[::1]:8080"),
	       "origin: IPv6");
	tap_ok(!http_origin_ok("http://[::1]:8080", "[::2]:8080"),
	       "origin: another IPv6");
	tap_ok(!http_origin_ok("http://[::1", "[::1]"),
	       "origin: an unclosed bracket");
	tap_ok(!http_origin_ok("http://[::1]x", "[::1]"),
	       "origin: junk after the bracket");
	tap_ok(!http_origin_ok("http://", "h"), "origin: no name");
	tap_ok(!http_origin_ok("http://h:0", "h:0"), "origin: port 0");
	tap_ok(http_origin_ok("http://h/some/page?q", "h"),
	       "origin: a path after the host is ignored");
	{
		char big[600];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		memcpy(big, "http://", 7);
		tap_ok(!http_origin_ok(big, "aaaa"),
		       "origin: an overlong name is refused");
		tap_ok(!http_origin_ok("http://h", big + 7),
		       "origin: an overlong Host is refused");
		tap_ok(!http_origin_ok("http://h:12345678901234567890", "h:1"),
		       "origin: an overlong port is refused");
	}
}

static void
test_etag(void)
{
	char e[HTTP_ETAG_LEN], e2[HTTP_ETAG_LEN];

	http_etag("", 0, e);
	tap_str(e, "\"cbf29ce484222325\"", "etag: FNV-1a of nothing");
	http_etag("a", 1, e);
	tap_str(e, "\"af63dc4c8601ec8c\"", "etag: FNV-1a of \"a\"");
	http_etag("ab", 1, e2);
	tap_str(e2, e, "etag: only n bytes count");
	tap_ok(http_etag_matches(e, e), "inm: the same");
	tap_ok(http_etag_matches("W/\"af63dc4c8601ec8c\"", e), "inm: weak");
	tap_ok(http_etag_matches("\"x\", \"af63dc4c8601ec8c\"", e),
	       "inm: in a list");
	tap_ok(http_etag_matches("\"x\",W/\"af63dc4c8601ec8c\"", e),
	       "inm: in a list without blanks");
	tap_ok(http_etag_matches("*", e), "inm: *");
	tap_ok(!http_etag_matches("\"x\"", e), "inm: another");
	tap_ok(!http_etag_matches("\"af63dc4c8601ec8\"", e), "inm: a prefix");
	tap_ok(!http_etag_matches("af63dc4c8601ec8c", e), "inm: unquoted");
	tap_ok(!http_etag_matches("**", e), "inm: ** is not *");
	tap_ok(!http_etag_matches(NULL, e), "inm: none");
	tap_ok(!http_etag_matches("", e), "inm: empty");
	tap_ok(!http_etag_matches(" , ,W/", e), "inm: only separators");
}

static void
test_answers(void)
{
	struct ps_buf h = {0}, b = {0};
	struct ps_err err = {0};
	cJSON *doc;
	int status = 0;

	tap_int(http_status_for(PS_EBAD_REQUEST), 400, "status: bad_request");
	tap_int(http_status_for(PS_EFORBIDDEN_ORIGIN), 403,
	        "status: forbidden_origin");
	tap_int(http_status_for(PS_ENOT_FOUND), 404, "status: not_found");
	tap_int(http_status_for(PS_EMETHOD), 405, "status: method");
	tap_int(http_status_for(PS_ESYNC_IN_PROGRESS), 409,
	        "status: sync_in_progress");
	tap_int(http_status_for(PS_ECOOLDOWN), 429, "status: cooldown");
	tap_int(http_status_for(PS_EUPSTREAM_QUOTA), 429,
	        "status: upstream_quota");
	tap_int(http_status_for(PS_ECONFIG), 500, "status: config");
	tap_int(http_status_for(PS_ESTORE), 500, "status: store");
	tap_str(http_reason(409), "Conflict", "reason: 409");
	tap_str(http_reason(999), "Internal Server Error", "reason: unknown");

	http_head(&h, 200, 12, "X-A: b\r\n");
	tap_str(h.data,
	        "Status: 200 OK\r\nContent-Length: 12\r\nX-A: b\r\n\r\n",
	        "head: with a length");
	ps_buf_reset(&h);
	http_head(&h, 304, 12, NULL);
	tap_str(h.data, "Status: 304 Not Modified\r\n\r\n",
	        "head: a 304 has no length");
	ps_buf_reset(&h);
	http_head(&h, 200, -1, NULL);
	tap_str(h.data, "Status: 200 OK\r\n\r\n", "head: streamed, no length");
	ps_buf_reset(&h);
	tap_ok(http_has_body(200, "GET"), "body: GET 200");
	tap_ok(http_has_body(200, NULL), "body: no method");
	tap_ok(!http_has_body(200, "HEAD"), "body: not for HEAD");
	tap_ok(!http_has_body(304, "GET"), "body: not for 304");

	err.code = PS_ECOOLDOWN;
	err.retry_after = 42;
	strcpy(err.msg, "wait \"a bit\"");
	tap_int(http_error_answer(&err, "Allow: POST\r\n", &status, &h, &b), 0,
	        "error: built");
	tap_int(status, 429, "error: 429 for a cooldown");
	tap_str(h.data,
	        "Content-Type: application/json\r\nCache-Control: no-store\r\n"
	        "Retry-After: 42\r\nAllow: POST\r\n",
	        "error: headers with Retry-After and the extra ones");
	tap_ok(b.len > 0 && b.data[b.len - 1] == '\n',
	       "error: the body ends with a newline");
	doc = cJSON_Parse(b.data);
	tap_str(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "type")), "error",
	        "error: type");
	tap_str(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "code")),
	        "cooldown", "error: code");
	tap_str(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "message")),
	        "wait \"a bit\"", "error: message, escaped");
	cJSON_Delete(doc);
	ps_buf_reset(&h);
	ps_buf_reset(&b);
	err.code = PS_ENOT_FOUND;
	http_error_answer(&err, NULL, &status, &h, &b);
	tap_int(status, 404, "error: 404");
	tap_ok(!strstr(h.data, "Retry-After"),
	       "error: Retry-After only for a cooldown");
	ps_buf_reset(&h);
	err.code = PS_ECOOLDOWN;
	err.retry_after = 0;
	http_error_answer(&err, NULL, &status, &h, &b);
	tap_ok(!strstr(h.data, "Retry-After"),
	       "error: no Retry-After for 0 seconds");
	ps_buf_reset(&h);

	tap_int(http_cached_answer("a", 1, NULL, &status, &h), 0,
	        "cached: built");
	tap_int(status, 200, "cached: 200 without If-None-Match");
	tap_str(h.data,
	        "Content-Type: application/json\r\nCache-Control: no-cache\r\n"
	        "ETag: \"af63dc4c8601ec8c\"\r\n",
	        "cached: type, no-cache, ETag");
	ps_buf_reset(&h);
	http_cached_answer("a", 1, "W/\"af63dc4c8601ec8c\"", &status, &h);
	tap_int(status, 304, "cached: 304 when it names the ETag");
	tap_str(h.data,
	        "Cache-Control: no-cache\r\nETag: \"af63dc4c8601ec8c\"\r\n",
	        "cached: a 304 has no Content-Type");
	ps_buf_reset(&h);
	http_cached_answer("b", 1, "\"af63dc4c8601ec8c\"", &status, &h);
	tap_int(status, 200, "cached: 200 when the body changed");
	ps_buf_free(&h);
	ps_buf_free(&b);
}

static void
test_method_refused(void)
{
	struct ps_buf h = {0};
	struct ps_err err = {0};

	tap_int(http_method_refused("POST", "GET, HEAD", &h, &err), 0,
	        "method: built");
	tap_str(h.data, "Allow: GET, HEAD\r\n", "method: the Allow header");
	tap_str(ps_code_name(err.code), "method_not_allowed",
	        "method: method_not_allowed");
	tap_int(http_status_for(err.code), 405, "method: 405");
	tap_str(err.msg, "method 'POST' not allowed here; use GET, HEAD",
	        "method: the message names both");
	ps_buf_reset(&h);
	http_method_refused("\x1b[2J", "POST", &h, &err);
	tap_str(err.msg, "method '?[2J' not allowed here; use POST",
	        "method: quoted, so it cannot drive a terminal");
	http_method_refused(NULL, "POST", &h, &err);
	tap_str(err.msg, "method '' not allowed here; use POST",
	        "method: none at all");
	ps_buf_free(&h);
}

int
main(void)
{
	test_path();
	test_decode();
	test_query();
	test_body();
	test_body_refused();
	test_origin();
	test_etag();
	test_answers();
	test_method_refused();
	return tap_done();
}
