/*
 * t-fmp: FMP's URLs, verdicts and bodies (lib/fmp.c), driven by the sample
 * bodies in tests/fixtures (found through $PS_FIXTURES, else
 * $top_srcdir/tests/fixtures) and by hand-made bodies for the cases no
 * fixture covers: 5xx, plain 429, truncated JSON, rows out of order, null
 * prices, a 1000-symbol answer.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "fmp.h"
#include "quote.h"
#include "tap.h"

/* The fixture's path in out; $PS_FIXTURES (set by make check) first. */
static const char *
fixture_path(const char *name, char *out, size_t size)
{
	const char *dir = getenv("PS_FIXTURES");
	const char *top = getenv("top_srcdir");

	if (dir != NULL && *dir != '\0')
		snprintf(out, size, "%s/%s", dir, name);
	else
		snprintf(out, size, "%s/tests/fixtures/%s",
		         top != NULL && *top != '\0' ? top : ".", name);
	return out;
}

/* The whole fixture in b; 0 or -1 (reported as a failed test). */
static int
load(const char *name, struct ps_buf *b)
{
	char path[4096], chunk[4096];
	FILE *fp;
	size_t n;

	ps_buf_reset(b);
	fp = fopen(fixture_path(name, path, sizeof(path)), "r");
	if (fp == NULL) {
		tap_ok(0, "open fixture %s", path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		ps_buf_append(b, chunk, n);
	fclose(fp);
	return 0;
}

static enum ps_fmp_verdict
classify_fixture(const char *name, long status, char *why, size_t whylen)
{
	struct ps_buf b = {0};
	enum ps_fmp_verdict v = (enum ps_fmp_verdict) - 1;

	if (load(name, &b) == 0)
		v = ps_fmp_classify(status, b.data, b.len, why, whylen);
	ps_buf_free(&b);
	return v;
}

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
test_classify_fixtures(void)
{
	char why[300];

	tap_int(classify_fixture("error-invalid-key.json", 401, why,
	                         sizeof(why)),
	        PS_FMP_AUTH, "invalid key 401 -> AUTH");
	tap_ok(starts_with(why, "Invalid API KEY. Feel free"),
	       "why is FMP's message: %s", why);
	tap_int(classify_fixture("error-invalid-key-old.json", 200, why,
	                         sizeof(why)),
	        PS_FMP_AUTH, "old invalid key under 200 -> AUTH");
	tap_int(classify_fixture("error-limit-reach.json", 429, why,
	                         sizeof(why)),
	        PS_FMP_QUOTA, "limit reach 429 -> QUOTA");
	tap_ok(starts_with(why, "Limit Reach"), "why: %s", why);
	tap_int(classify_fixture("error-limit-reach.json", 200, why,
	                         sizeof(why)),
	        PS_FMP_QUOTA, "limit reach under 200 -> QUOTA");
	tap_int(classify_fixture("error-legacy-endpoint.json", 403, why,
	                         sizeof(why)),
	        PS_FMP_LEGACY, "legacy endpoint 403 -> LEGACY");
	tap_int(classify_fixture("error-restricted-endpoint.json", 402, why,
	                         sizeof(why)),
	        PS_FMP_RESTRICTED, "restricted endpoint 402 -> RESTRICTED");
	tap_int(classify_fixture("error-special-endpoint.json", 402, why,
	                         sizeof(why)),
	        PS_FMP_SYMBOL_PLAN, "special endpoint JSON 402 -> SYMBOL_PLAN");
	tap_int(classify_fixture("error-special-endpoint.txt", 402, why,
	                         sizeof(why)),
	        PS_FMP_SYMBOL_PLAN, "special endpoint text 402 -> SYMBOL_PLAN");
	tap_ok(starts_with(why, "Premium Query Parameter"), "why: %s", why);
	tap_int(classify_fixture("empty.json", 200, why, sizeof(why)),
	        PS_FMP_OK, "empty [] 200 -> OK");
	tap_str(why, "", "no why when OK");
	tap_int(classify_fixture("stable-batch-quote.json", 200, why,
	                         sizeof(why)),
	        PS_FMP_OK, "batch quote 200 -> OK");
	tap_int(classify_fixture("fx-usdgbp-v3.json", 200, NULL, 0), PS_FMP_OK,
	        "fx 200 -> OK (why NULL)");
}

static void
test_classify_other(void)
{
	char why[300], tiny[12];
	const char *s;

	s = "<html><body>Service Unavailable</body></html>";
	tap_int(ps_fmp_classify(503, s, strlen(s), why, sizeof(why)),
	        PS_FMP_RETRY, "503 -> RETRY");
	tap_str(why, "HTTP 503 from FMP", "503 why");
	tap_int(ps_fmp_classify(500, "", 0, why, sizeof(why)), PS_FMP_RETRY,
	        "500 empty -> RETRY");
	s = "Too Many Requests";
	tap_int(ps_fmp_classify(429, s, strlen(s), why, sizeof(why)),
	        PS_FMP_RETRY, "plain 429 -> RETRY");
	tap_str(why, "HTTP 429 from FMP", "429 why");
	tap_int(ps_fmp_classify(404, "<html>nope</html>", 17, why, sizeof(why)),
	        PS_FMP_BAD, "404 -> BAD");
	tap_str(why, "HTTP 404 from FMP", "404 why");
	s = "{\"Error Message\": \"Something new\"}";
	tap_int(ps_fmp_classify(402, s, strlen(s), why, sizeof(why)),
	        PS_FMP_BAD, "402 unknown message -> BAD");
	tap_str(why, "HTTP 402 from FMP: Something new", "402 why has text");
	tap_int(ps_fmp_classify(200, s, strlen(s), why, sizeof(why)),
	        PS_FMP_BAD, "200 with unknown Error Message -> BAD");
	tap_str(why, "Something new", "200 error why");
	tap_int(ps_fmp_classify(401, "", 0, why, sizeof(why)), PS_FMP_AUTH,
	        "401 without body -> AUTH");
	s = "  \"Exclusive Endpoint : not for you\"";
	tap_int(ps_fmp_classify(403, s, strlen(s), why, sizeof(why)),
	        PS_FMP_RESTRICTED, "quoted plain Exclusive Endpoint");
	s = "{\"Error Message\":\"Limit Reach . x\"}";
	tap_int(ps_fmp_classify(503, s, strlen(s), why, sizeof(why)),
	        PS_FMP_QUOTA, "Limit Reach wins over 5xx");
	s = "{\"Error Message\":\"Invalid API KEY apikey=SECRET123&x=1\"}";
	ps_fmp_classify(401, s, strlen(s), why, sizeof(why));
	tap_ok(strstr(why, "SECRET") == NULL && strstr(why, "apikey=***"),
	       "an echoed key is hidden: %s", why);
	s = "{\"Error Message\":\"Legacy Endpoint : long message here\"}";
	ps_fmp_classify(403, s, strlen(s), tiny, sizeof(tiny));
	tap_str(tiny, "Legacy Endp", "why cut to fit");
	s = "{\"Error Message\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\"}";
	ps_fmp_classify(400, s, strlen(s), tiny, sizeof(tiny));
	tap_ok(strlen(tiny) <= 11, "cut at a character: '%s'", tiny);
	s = "[{\"symbol\":\"AAPL\"}]";
	tap_int(ps_fmp_classify(204, s, strlen(s), NULL, 0), PS_FMP_OK,
	        "2xx array -> OK");
}

static void
test_urls(void)
{
	char base[] = "http://127.0.0.1:8080", key[] = "K3y";
	struct ps_conf c = {.fmp_base_url = base, .fmp_api_key = key};
	const char *syms[] = {"AAPL", "^GSPC", "BRK-B", "VOD.L", "EUR=X"};
	char *u;

	c.fmp_api = PS_API_STABLE;
	u = ps_fmp_url_batch(&c, syms, 5);
	tap_str(u,
	        "http://127.0.0.1:8080/stable/batch-quote?symbols=AAPL,%5EGSPC,"
	        "BRK-B,VOD.L,EUR%3DX&apikey=K3y",
	        "stable batch URL");
	free(u);
	u = ps_fmp_url_single(&c, "^GSPC");
	tap_str(u,
	        "http://127.0.0.1:8080/stable/quote?symbol=%5EGSPC&apikey=K3y",
	        "stable single URL");
	free(u);
	u = ps_fmp_url_fx(&c, "USDGBP");
	tap_str(u,
	        "http://127.0.0.1:8080/stable/quote?symbol=USDGBP&apikey=K3y",
	        "stable fx URL");
	free(u);
	u = ps_fmp_url_profile(&c, "VOD.L");
	tap_str(u,
	        "http://127.0.0.1:8080/stable/profile?symbol=VOD.L&apikey=K3y",
	        "stable profile URL");
	free(u);

	c.fmp_api = PS_API_V3;
	u = ps_fmp_url_batch(&c, syms, 3);
	tap_str(u,
	        "http://127.0.0.1:8080/api/v3/quote/"
	        "AAPL,%5EGSPC,BRK-B?apikey=K3y",
	        "v3 batch URL");
	free(u);
	u = ps_fmp_url_single(&c, "BRK-B");
	tap_str(u, "http://127.0.0.1:8080/api/v3/quote/BRK-B?apikey=K3y",
	        "v3 single URL");
	free(u);
	u = ps_fmp_url_fx(&c, "USDGBP");
	tap_str(u, "http://127.0.0.1:8080/api/v3/fx/USDGBP?apikey=K3y",
	        "v3 fx URL");
	free(u);
	u = ps_fmp_url_profile(&c, "VOD.L");
	tap_str(u, "http://127.0.0.1:8080/api/v3/profile/VOD.L?apikey=K3y",
	        "v3 profile URL");
	free(u);

	c.fmp_api_key = NULL;
	u = ps_fmp_url_batch(&c, syms, 1);
	tap_str(u, "http://127.0.0.1:8080/api/v3/quote/AAPL", "v3, no key");
	free(u);
	c.fmp_api = PS_API_STABLE;
	u = ps_fmp_url_batch(&c, syms, 2);
	tap_str(u,
	        "http://127.0.0.1:8080/stable/batch-quote?symbols=AAPL,%5EGSPC",
	        "stable, no key");
	free(u);
	key[1] = '+';
	c.fmp_api_key = key;
	u = ps_fmp_url_single(&c, "A");
	tap_str(u, "http://127.0.0.1:8080/stable/quote?symbol=A&apikey=K%2By",
	        "key percent-encoded");
	free(u);
}

static void
test_redact(void)
{
	static const char *const cases[][2] = {
	        {"http://h/stable/quote?symbol=A&apikey=SECRET",
	         "http://h/stable/quote?symbol=A&apikey=***"},
	        {"http://h/api/v3/quote/A?apikey=SECRET",
	         "http://h/api/v3/quote/A?apikey=***"},
	        {"http://h/x?apikey=SE%2BCRET&symbol=A",
	         "http://h/x?apikey=***&symbol=A"},
	        {"http://h/x?a=1&APIKEY=k&apikey=q#frag",
	         "http://h/x?a=1&APIKEY=***&apikey=***#frag"},
	        {"http://h/x?myapikey=v", "http://h/x?myapikey=v"},
	        {"http://h/x/apikey=v", "http://h/x/apikey=v"},
	        {"http://h/x?apikey=", "http://h/x?apikey=***"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = ps_fmp_redact(cases[i][0]);

		tap_str(r, cases[i][1], "redact");
		free(r);
	}
}

static void
init_recs(struct ps_symrec *recs, const char *const *syms, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ps_symrec_init(&recs[i], syms[i]);
		snprintf(recs[i].error, sizeof(recs[i].error), "old error");
	}
}

static int
parse_fixture(const char *name, struct ps_symrec *recs, size_t n,
              struct ps_err *err)
{
	struct ps_buf b = {0};
	int rc = -2;

	if (load(name, &b) == 0)
		rc = ps_fmp_parse_quotes(b.data, b.len, recs, n, err);
	ps_buf_free(&b);
	return rc;
}

static void
test_quotes_fixtures(void)
{
	const char *syms[] = {"VOD.L", "AAPL", "MSFT"};
	const char *partial[] = {"AAPL", "NOSUCH"};
	struct ps_symrec r[3];
	struct ps_err err;

	init_recs(r, syms, 3);
	tap_int(parse_fixture("stable-batch-quote.json", r, 3, &err), 3,
	        "stable batch: 3 updated");
	tap_dbl(r[1].price, 268.47, "AAPL price");
	tap_dbl(r[1].change, -1.3, "AAPL change");
	tap_dbl(r[1].change_percent, -0.48189, "AAPL changePercentage");
	tap_dbl(r[1].day_low, 266.82, "AAPL dayLow");
	tap_dbl(r[1].day_high, 272.29, "AAPL dayHigh");
	tap_dbl(r[1].volume, 45140079, "AAPL volume");
	tap_str(r[1].name, "Apple Inc.", "AAPL name");
	tap_str(r[1].exchange, "NASDAQ", "AAPL exchange");
	tap_int(r[1].quote_time, 1762549202, "AAPL timestamp");
	tap_str(r[1].error, "", "AAPL error cleared");
	tap_dbl(r[0].price, 88.12, "VOD.L price (pence)");
	tap_str(r[0].exchange, "LSE", "VOD.L exchange");
	tap_int(r[0].quote_time, 1762533301, "VOD.L timestamp");
	tap_dbl(r[2].price, 496.82, "MSFT price");
	tap_str(r[0].currency, "GBp", "currency left alone");

	init_recs(r, partial, 2);
	tap_int(parse_fixture("stable-batch-quote-partial.json", r, 2, &err), 1,
	        "partial: 1 updated");
	tap_str(r[0].error, "", "AAPL fine");
	tap_str(r[1].error, "not returned by FMP", "NOSUCH not returned");
	tap_ok(isnan(r[1].price), "NOSUCH price untouched");

	init_recs(r, syms, 2);
	tap_int(parse_fixture("v3-quote.json", r, 2, &err), 2,
	        "v3 quote: 2 updated");
	tap_dbl(r[1].change_percent, -0.48189, "v3 changesPercentage");
	tap_dbl(r[0].change_percent, 0.57065, "v3 VOD.L changesPercentage");
	tap_str(r[0].name, "Vodafone Group Public Limited Company", "v3 name");

	init_recs(r, syms, 3);
	tap_int(parse_fixture("stable-batch-quote-short.json", r, 3, &err), 3,
	        "short: 3 updated");
	tap_dbl(r[2].price, 496.82, "short MSFT price");
	tap_dbl(r[2].change, 0.64, "short MSFT change");
	tap_dbl(r[2].volume, 24019512, "short MSFT volume");
	tap_ok(isnan(r[2].change_percent) && isnan(r[2].day_low) &&
	               isnan(r[2].day_high),
	       "short: other numbers NaN");
	tap_str(r[2].name, "", "short: no name");
	tap_int(r[2].quote_time, 0, "short: no timestamp");

	init_recs(r, syms, 1);
	tap_int(parse_fixture("empty.json", r, 1, &err), 0, "empty: 0");
	tap_str(r[0].error, "not returned by FMP", "empty: not returned");
}

static void
test_quotes_edge(void)
{
	const char *syms[] = {"AAPL", "MSFT", "BRK-B", "^GSPC"};
	struct ps_symrec r[4];
	struct ps_err err;
	const char *s;

	init_recs(r, syms, 2);
	s = "[{\"symbol\":\"AAPL\",\"price\":1.5},{\"symbol\":\"MSFT\","
	    "\"price\":2.5},{\"symbol\":\"AAPL\",\"pric";
	ps_err_clear(&err);
	tap_int(ps_fmp_parse_quotes(s, strlen(s), r, 2, &err), -1,
	        "truncated JSON -> -1");
	tap_int(err.code, PS_EUPSTREAM, "truncated: PS_EUPSTREAM");
	tap_str(err.msg, "malformed JSON from FMP", "truncated message");
	tap_str(r[0].error, "old error", "recs untouched on -1");
	s = "{\"Error Message\":\"x\"}";
	tap_int(ps_fmp_parse_quotes(s, strlen(s), r, 2, &err), -1,
	        "object body -> -1");
	tap_int(ps_fmp_parse_quotes("", 0, r, 2, &err), -1, "empty -> -1");
	/* Issue 9, defect 10: zero symbols passed NULL to qsort (UB that
	 * the sanitizer build turns into an abort). */
	s = "[{\"symbol\":\"AAPL\",\"price\":1.5}]";
	tap_int(ps_fmp_parse_quotes(s, strlen(s), NULL, 0, &err), 0,
	        "zero symbols, NULL recs: 0 updated");

	init_recs(r, syms, 4);
	s = "[{\"symbol\":\"^gspc\",\"price\":\"5001.25\"},"
	    "{\"symbol\":\"MSFT\",\"price\":null,\"name\":\"M\"},"
	    "{\"symbol\":\"ZZZ\",\"price\":3},"
	    "{\"symbol\":\"BRK-B\",\"price\":0},"
	    "{\"symbol\":\"AAPL\",\"price\":10,\"change\":\"1e-2\","
	    "\"volume\":\"12x\",\"timestamp\":\"1700000000\"},"
	    "{\"symbol\":\"AAPL\",\"price\":99},"
	    "{\"nosymbol\":1}, 5, null]";
	tap_int(ps_fmp_parse_quotes(s, strlen(s), r, 4, &err), 2,
	        "out of order: 2 updated");
	tap_dbl(r[0].price, 10, "AAPL matched by symbol, first row wins");
	tap_dbl(r[0].change, 0.01, "numeric string");
	tap_ok(isnan(r[0].volume), "junk string -> NaN");
	tap_int(r[0].quote_time, 1700000000, "timestamp string");
	tap_str(r[1].error, "no price in FMP's answer", "null price");
	tap_ok(isnan(r[1].price), "null price leaves price");
	tap_str(r[2].error, "no price in FMP's answer", "zero price");
	tap_dbl(r[3].price, 5001.25, "lower-case row symbol, string price");
	tap_str(r[3].error, "", "^GSPC ok");
}

/* A body read flat (without a tree) up to a row it cannot read that way
 * (a nested value) is read again by cJSON from the records as given: the
 * same values as a flat body, and a truncated one still changes nothing. */
static void
test_quotes_paths(void)
{
	const char *syms[] = {"AAPL", "MSFT"};
	const char *flat = "[{\"symbol\":\"AAPL\",\"price\":1.5,\"volume\":7},"
	                   "{\"symbol\":\"MSFT\",\"price\":2.5}]";
	const char *nested =
	        "[{\"symbol\":\"AAPL\",\"price\":1.5,\"volume\":7},"
	        "{\"symbol\":\"MSFT\",\"x\":{\"y\":[1]},"
	        "\"price\":2.5}]";
	struct ps_symrec a[2], b[2];
	struct ps_err err;

	init_recs(a, syms, 2);
	init_recs(b, syms, 2);
	tap_int(ps_fmp_parse_quotes(flat, strlen(flat), a, 2, &err), 2,
	        "flat body: 2 updated");
	tap_int(ps_fmp_parse_quotes(nested, strlen(nested), b, 2, &err), 2,
	        "a nested value: 2 updated");
	tap_ok(a[0].price == b[0].price && a[0].volume == b[0].volume &&
	               a[1].price == b[1].price && b[1].error[0] == '\0',
	       "both read the same");
}

static void
test_quotes_1000(void)
{
	enum { N = 1000 };
	struct ps_symrec *r = calloc(N, sizeof(*r));
	struct ps_buf b = {0};
	struct ps_err err;
	struct timespec t0, t1;
	int i, bad = 0, rc;
	double ms;

	if (r == NULL)
		return;
	ps_buf_puts(&b, "[");
	for (i = N - 1; i >= 0; i--) /* reversed: order must not matter */
		ps_buf_printf(&b,
		              "%s{\"symbol\":\"S%04d.L\",\"name\":\"Name %d\","
		              "\"price\":%d.25,\"changePercentage\":0.5,"
		              "\"change\":1,\"volume\":100,\"dayLow\":1,"
		              "\"dayHigh\":2,\"exchange\":\"LSE\","
		              "\"timestamp\":1762549202}",
		              i == N - 1 ? "" : ",", i, i, i + 1);
	ps_buf_puts(&b, "]");
	for (i = 0; i < N; i++) {
		char sym[16];

		snprintf(sym, sizeof(sym), "S%04d.L", i);
		ps_symrec_init(&r[i], sym);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = ps_fmp_parse_quotes(b.data, b.len, r, N, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	tap_int(rc, N, "1000 symbols updated");
	for (i = 0; i < N; i++)
		if (r[i].price != i + 1 + 0.25 || r[i].error[0] != '\0')
			bad++;
	tap_int(bad, 0, "1000 symbols each matched to its row");
	tap_diag("1000-symbol body (%zu bytes) parsed in %.1f ms", b.len, ms);
	ps_buf_free(&b);
	free(r);
}

static void
test_fx(void)
{
	struct ps_buf b = {0};
	struct ps_err err;
	const char *basis = NULL;
	double rate = 0;

	if (load("fx-usdgbp-v3.json", &b) == 0) {
		tap_int(ps_fmp_parse_fx(b.data, b.len, PS_API_V3, &rate, &basis,
		                        &err),
		        0, "fx v3 numbers");
		tap_dbl(rate, 0.7612, "fx v3 bid");
		tap_str(basis, "bid", "fx v3 basis");
	}
	if (load("fx-usdgbp-v3-strings.json", &b) == 0) {
		rate = 0;
		tap_int(ps_fmp_parse_fx(b.data, b.len, PS_API_V3, &rate, &basis,
		                        &err),
		        0, "fx v3 strings");
		tap_dbl(rate, 0.7612, "fx v3 bid from \"0.76120\"");
	}
	if (load("fx-usdgbp-stable.json", &b) == 0) {
		rate = 0;
		tap_int(ps_fmp_parse_fx(b.data, b.len, PS_API_STABLE, &rate,
		                        &basis, &err),
		        0, "fx stable");
		tap_dbl(rate, 0.7612, "fx stable price");
		tap_str(basis, "price", "fx stable basis");
		tap_int(ps_fmp_parse_fx(b.data, b.len, PS_API_V3, &rate, &basis,
		                        &err),
		        -1, "stable body read as v3: no bid");
		tap_int(err.code, PS_EUPSTREAM, "no bid: PS_EUPSTREAM");
	}
	if (load("fx-usdgbp-stable-short.json", &b) == 0) {
		rate = 0;
		tap_int(ps_fmp_parse_fx(b.data, b.len, PS_API_STABLE, &rate,
		                        &basis, &err),
		        0, "fx stable short");
		tap_dbl(rate, 0.7612, "fx stable short price");
	}
	if (load("empty.json", &b) == 0)
		tap_int(ps_fmp_parse_fx(b.data, b.len, PS_API_STABLE, &rate,
		                        &basis, &err),
		        -1, "fx empty -> -1");
	ps_buf_reset(&b);
	ps_buf_puts(&b, "{\"bid\":\"0.79\"}");
	tap_int(ps_fmp_parse_fx(b.data, b.len, PS_API_V3, &rate, &basis, &err),
	        0, "fx bare object");
	tap_dbl(rate, 0.79, "fx bare object bid");
	ps_buf_reset(&b);
	ps_buf_puts(&b, "[{\"price\":-1}]");
	tap_int(ps_fmp_parse_fx(b.data, b.len, PS_API_STABLE, &rate, &basis,
	                        &err),
	        -1, "fx negative -> -1");
	ps_buf_reset(&b);
	ps_buf_puts(&b, "[{\"price\":0.7");
	tap_int(ps_fmp_parse_fx(b.data, b.len, PS_API_STABLE, &rate, &basis,
	                        &err),
	        -1, "fx truncated -> -1");
	tap_str(err.msg, "malformed JSON from FMP", "fx truncated message");
	ps_buf_free(&b);
}

static void
test_profile(void)
{
	static const char *const cases[][2] = {
	        {"[{\"symbol\":\"VOD.L\",\"currency\":\"GBp\"}]", "GBp"},
	        {"[{\"symbol\":\"X.L\",\"currency\":\"GBX\"}]", "GBp"},
	        {"[{\"symbol\":\"AAP1.L\",\"currency\":\"EUR\"}]", "EUR"},
	        {"{\"currency\":\"usd\"}", "USD"},
	        {"[{\"symbol\":\"X\"}]", NULL},
	        {"[{\"currency\":\"DOLLARS\"}]", NULL},
	        {"[{\"currency\":null}]", NULL},
	        {"[]", NULL},
	        {"[{\"curr", NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char ccy[PS_CCY_MAX] = "";
		struct ps_err err;
		int rc = ps_fmp_parse_profile(cases[i][0], strlen(cases[i][0]),
		                              ccy, &err);

		if (cases[i][1] != NULL) {
			tap_int(rc, 0, cases[i][0]);
			tap_str(ccy, cases[i][1], "profile currency");
		} else {
			tap_int(rc, -1, cases[i][0]);
			tap_int(err.code, PS_EUPSTREAM, "profile error code");
		}
	}
}

int
main(void)
{
	test_classify_fixtures();
	test_classify_other();
	test_urls();
	test_redact();
	test_quotes_fixtures();
	test_quotes_edge();
	test_quotes_paths();
	test_quotes_1000();
	test_fx();
	test_profile();
	return tap_done();
}
