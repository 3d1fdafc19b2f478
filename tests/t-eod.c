/*
 * t-eod: FMP's end-of-day history bodies (lib/eod.c): the three real
 * fixtures (stable light and full, v3), empty answers, integer, null and
 * string closes, doubled dates, bodies that are not a history, dates, and
 * the request URLs of both API generations.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "eod.h"
#include "tap.h"

#define D(y, m, d) day_of(y, m, d)

static int64_t
day_of(int y, int m, int d)
{
	char s[16];
	int64_t t = 0;

	snprintf(s, sizeof(s), "%04d-%02d-%02d", y, m, d);
	ps_eod_date(s, &t);
	return t;
}

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

/* Parses text; returns the row count, -1 on a parse error. */
static long
parse(const char *text, struct ps_eod_row **rows)
{
	struct ps_err err;
	size_t n;

	if (ps_eod_parse(text, strlen(text), rows, &n, &err) < 0)
		return -1;
	return (long)n;
}

static void
fixture(const char *name, const int64_t *days, const double *closes,
        size_t want)
{
	struct ps_buf b = {0};
	struct ps_eod_row *rows = NULL;
	long n;
	size_t i;
	int same = 1;

	if (load(name, &b) < 0)
		return;
	n = parse(b.data, &rows);
	tap_int(n, (long)want, name);
	for (i = 0; n == (long)want && i < want; i++)
		same &= rows[i].day == days[i] && rows[i].close == closes[i];
	tap_ok(same, "%s: oldest first, the fixture's closes", name);
	free(rows);
	ps_buf_free(&b);
}

static void
fixtures(void)
{
	const int64_t light_d[] = {D(2026, 6, 4), D(2026, 6, 5), D(2026, 6, 8),
	                           D(2026, 6, 9), D(2026, 6, 10)};
	const double light_c[] = {311.23, 307.34, 301.54, 290.55, 291.58};
	const int64_t full_d[] = {D(2025, 1, 3), D(2025, 1, 6), D(2025, 1, 7),
	                          D(2025, 1, 8), D(2025, 1, 10)};
	const double full_c[] = {243.36, 245, 242.21, 242.7, 236.85};
	const int64_t v3_d[] = {D(2023, 1, 4), D(2023, 1, 5), D(2023, 1, 6),
	                        D(2023, 1, 9), D(2023, 1, 10)};
	const double v3_c[] = {126.36, 125.02, 129.62, 130.15, 130.73};

	fixture("stable-historical-light.json", light_d, light_c, 5);
	fixture("stable-historical-full.json", full_d, full_c, 5);
	fixture("v3-historical-price-full.json", v3_d, v3_c, 5);
}

static void
empty_and_odd(void)
{
	struct ps_eod_row *rows = (struct ps_eod_row *)1;
	struct ps_err err;
	size_t n = 7;

	tap_ok(parse("[]", &rows) == 0 && rows == NULL, "[] is no rows");
	tap_ok(parse("{}", &rows) == 0 && rows == NULL, "{} (v3) is no rows");
	tap_ok(parse("{\"symbol\":\"X\"}", &rows) == 0,
	       "v3 object without historical is no rows");
	tap_ok(parse("{\"symbol\":\"X\",\"historical\":[]}", &rows) == 0,
	       "v3 empty historical is no rows");
	tap_int(parse("[{\"symbol\":\"X\",\"date\":\"2026-01-05\","
	              "\"price\":12}]",
	              &rows),
	        1, "an integer close is read");
	tap_dbl(rows ? rows[0].close : NAN, 12, "... as 12");
	free(rows);
	tap_int(parse("[{\"date\":\"2026-01-05\",\"price\":null},"
	              "{\"date\":\"2026-01-06\",\"price\":\"13.5\"},"
	              "{\"date\":\"2026-01-07\"},"
	              "{\"date\":\"2026-01-08\",\"price\":0},"
	              "{\"date\":\"2026-01-09\",\"price\":-3},"
	              "{\"date\":\"2026-02-30\",\"price\":4},"
	              "{\"date\":null,\"price\":4},"
	              "{\"price\":4},"
	              "{\"date\":\"2026-01-12\",\"price\":14}]",
	              &rows),
	        2, "rows without a usable close or date are skipped");
	tap_ok(rows && rows[0].close == 13.5 && rows[1].close == 14 &&
	               rows[1].day == D(2026, 1, 12),
	       "... a string close and the good row stay");
	free(rows);
	tap_int(parse("[{\"date\":\"2026-01-06\",\"price\":2},"
	              "{\"date\":\"2026-01-05\",\"price\":1},"
	              "{\"date\":\"2026-01-06\",\"price\":3}]",
	              &rows),
	        2, "a doubled date is one row");
	tap_ok(rows && rows[0].day == D(2026, 1, 5) && rows[1].close == 2,
	       "... the first in the body wins");
	free(rows);
	tap_int(parse("{\"symbol\":\"X\",\"historical\":[{\"date\":"
	              "\"2023-01-10\",\"close\":130.73,\"adjClose\":130}]}",
	              &rows),
	        1, "v3 line row");
	tap_dbl(rows ? rows[0].close : NAN, 130.73, "... close, not adjClose");
	free(rows);
	tap_int(parse("[{\"date\":\"2026-01-05\",\"close\":5,\"price\":6}]",
	              &rows),
	        1, "price and close");
	tap_dbl(rows ? rows[0].close : NAN, 6, "... price (light) first");
	free(rows);
	tap_int(parse("[{\"date\":\"2026-01-05\",\"price\":5},", &rows), -1,
	        "truncated JSON is an error");
	tap_int(parse("{\"Error Message\":\"x\"}", &rows), -1,
	        "an error object is not a history");
	tap_int(parse("{\"historical\":3}", &rows), -1,
	        "historical not an array is an error");
	tap_int(parse("\"x\"", &rows), -1, "a string is an error");
	rows = NULL;
	ps_eod_parse("[]", 0, &rows, &n, &err);
	tap_ok(n == 0 && err.code == PS_EUPSTREAM, "an empty body is an error");
}

static void
dates(void)
{
	int64_t t = 0;

	tap_ok(ps_eod_date("1970-01-01", &t) == 0 && t == 0, "epoch");
	tap_ok(ps_eod_date("2024-02-29", &t) == 0 && t == 1709164800,
	       "a leap day");
	tap_ok(ps_eod_date("2023-02-29", &t) < 0, "no 29 Feb 2023");
	tap_ok(ps_eod_date("2026-1-05", &t) < 0 &&
	               ps_eod_date("2026-01-05T00:00:00Z", &t) < 0 &&
	               ps_eod_date("", &t) < 0,
	       "only YYYY-MM-DD");
	tap_ok(ps_eod_date("1969-12-31", &t) == 0 && t == -86400,
	       "before 1970");
	tap_int(ps_eod_day_of(-1), -86400, "day_of floors negative times");
	tap_int(ps_eod_day_of(1795602600), 1795564800, "day_of a time");
}

static void
urls(void)
{
	struct ps_conf c;
	struct ps_err err;
	char *u;

	ps_conf_defaults(&c, &err);
	free(c.fmp_base_url);
	c.fmp_base_url = strdup("http://h");
	c.fmp_api_key = strdup("K");
	u = ps_eod_url(&c, "^GSPC", D(2025, 12, 4), D(2026, 12, 3));
	tap_str(u,
	        "http://h/stable/historical-price-eod/light?symbol=%5EGSPC&"
	        "from=2025-12-04&to=2026-12-03&apikey=K",
	        "stable light URL, ^ encoded");
	free(u);
	c.fmp_api = PS_API_V3;
	u = ps_eod_url(&c, "AAPL", D(2025, 12, 4), D(2026, 12, 3));
	tap_str(u,
	        "http://h/api/v3/historical-price-full/AAPL?from=2025-12-04&"
	        "to=2026-12-03&serietype=line&apikey=K",
	        "v3 URL");
	free(u);
	ps_conf_free(&c);
}

int
main(void)
{
	fixtures();
	empty_and_odd();
	dates();
	urls();
	return tap_done();
}
