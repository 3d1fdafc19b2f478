/*
 * t-jsonw: lib/jsonw.c prints what cJSON_PrintUnformatted prints, byte for
 * byte: numbers (whole, fractional, huge, tiny, negative zero, past the
 * int range, where %.15g reads back only within DBL_EPSILON, decimals
 * of up to four places on either side of the fast path's bounds, random
 * bit patterns) and strings (every byte from 1 to 255, escapes, UTF-8).
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonw.h"
#include "tap.h"

/* cJSON's text of d, malloc'd. */
static char *
cjson_num(double d)
{
	cJSON *n = cJSON_CreateNumber(d);
	char *s = cJSON_PrintUnformatted(n);

	cJSON_Delete(n);
	return s;
}

/* 1 when ps_jw_num prints d as cJSON does; a diagnostic when not. */
static int
same_num(double d)
{
	struct ps_buf b = {0};
	char *want = cjson_num(d);
	int same;

	ps_jw_num(&b, d);
	same = want && b.data && strcmp(b.data, want) == 0;
	if (!same)
		tap_diag("%.17g: jsonw %s, cJSON %s", d, b.data, want);
	free(want);
	ps_buf_free(&b);
	return same;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
test_numbers(void)
{
	static const double fixed[] = {
	        0,          -0.0,       1,           -1,          457.64,
	        0.1 + 0.2,  1.0 / 3,    189.3,       149.37663,   1493.7663,
	        48213000,   INT_MAX,    INT_MIN,     2147483648., -2147483649.,
	        3e9,        1e15,       1e16,        1e21,        1e300,
	        5e-324,     DBL_MAX,    -DBL_MAX,    DBL_MIN,     0.725,
	        100 * 0.85, 72.5 / 100, 2147483647.5};
	size_t i, bad = 0;
	uint64_t u;
	double d;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		bad += !same_num(fixed[i]);
	tap_int((long long)bad, 0, "fixed numbers print as cJSON's");
	for (bad = 0, i = 0; i < 100000; i++) {
		u = next();
		memcpy(&d, &u, sizeof(d));
		if (!isnan(d) && !isinf(d))
			bad += !same_num(d);
	}
	tap_int((long long)bad, 0, "100,000 random doubles print as cJSON's");
	for (bad = 0, i = 0; i < 100000; i++) {
		/* prices as they come: a few decimals, sums, products */
		d = (double)(next() % 100000000) / 100.0;
		if (i % 3 == 1)
			d *= 0.7891;
		if (i % 3 == 2)
			d = d / 100 * 12.5;
		bad += !same_num(i % 2 ? -d : d);
	}
	tap_int((long long)bad, 0,
	        "100,000 price-like numbers print as cJSON's");
	for (bad = 0, i = 0; i < 100000; i++) {
		/* decimals of 0 to 5 places at every size, in and out of
		 * the fast path's bounds */
		static const double scale[] = {1, 10, 100, 1e3, 1e4, 1e5};
		uint64_t top = 1;
		int digits = 1 + (int)(next() % 16);

		while (digits-- > 0)
			top *= 10;
		d = (double)(next() % top) / scale[i % 6];
		bad += !same_num(i % 2 ? -d : d);
	}
	tap_int((long long)bad, 0, "100,000 decimals of any size as cJSON's");
	{
		struct ps_buf b = {0};

		ps_jw_num(&b, NAN);
		ps_jw_num(&b, INFINITY);
		ps_jw_num(&b, -INFINITY);
		tap_str(b.data, "nullnullnull", "NaN and infinities are null");
		ps_buf_free(&b);
	}
}

static int
same_str(const char *s)
{
	struct ps_buf b = {0};
	cJSON *j = cJSON_CreateString(s);
	char *want = cJSON_PrintUnformatted(j);
	int same;

	ps_jw_str(&b, s);
	same = want && b.data && strcmp(b.data, want) == 0;
	if (!same)
		tap_diag("jsonw %s, cJSON %s", b.data, want);
	cJSON_Delete(j);
	free(want);
	ps_buf_free(&b);
	return same;
}

static void
test_strings(void)
{
	char all[256], one[2] = {0};
	size_t i, bad = 0;

	for (i = 1; i < 256; i++) {
		all[i - 1] = (char)i;
		one[0] = (char)i;
		bad += !same_str(one);
	}
	all[255] = '\0';
	tap_int((long long)bad, 0, "each byte 1..255 alone as cJSON's");
	tap_ok(same_str(all), "all bytes 1..255 in one string as cJSON's");
	tap_ok(same_str("") && same_str("AAPL") &&
	               same_str("Soci\xc3\xa9t\xc3\xa9 "
	                        "G\xc3\xa9n\xc3\xa9rale") &&
	               same_str("a \"quoted\" \\ name\t\n"),
	       "empty, plain, UTF-8, escapes as cJSON's");
	{
		struct ps_buf b = {0};

		ps_jw_str_or_null(&b, NULL);
		ps_jw_str_or_null(&b, "");
		ps_jw_str_or_null(&b, "x");
		tap_str(b.data, "nullnull\"x\"",
		        "str_or_null: null, null, \"x\"");
		ps_buf_free(&b);
	}
}

int
main(void)
{
	test_numbers();
	test_strings();
	return tap_done();
}
