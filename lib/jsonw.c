/*
 * jsonw: cJSON's printing rules (cJSON 1.7.15 print_string_ptr and
 * print_number) without a tree. The common cases (a string with nothing
 * to escape, a whole number) take a path of their own: a price list
 * prints ten numbers and five strings a row.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

/* The bytes of s that need no escape, from the start. */
static size_t
plain_len(const unsigned char *s)
{
	size_t i;

	for (i = 0; s[i] > 31 && s[i] != '"' && s[i] != '\\'; i++)
		;
	return i;
}

static int
escape(struct ps_buf *b, unsigned char c)
{
	char e[8];

	switch (c) {
	case '"':
		return ps_buf_append(b, "\\\"", 2);
	case '\\':
		return ps_buf_append(b, "\\\\", 2);
	case '\b':
		return ps_buf_append(b, "\\b", 2);
	case '\f':
		return ps_buf_append(b, "\\f", 2);
	case '\n':
		return ps_buf_append(b, "\\n", 2);
	case '\r':
		return ps_buf_append(b, "\\r", 2);
	case '\t':
		return ps_buf_append(b, "\\t", 2);
	default:
		snprintf(e, sizeof(e), "\\u%04x", c);
		return ps_buf_append(b, e, 6);
	}
}

int
ps_jw_str(struct ps_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (ps_buf_append(b, "\"", 1) < 0)
		return -1;
	for (;;) {
		size_t n = plain_len(p);

		if (n > 0 && ps_buf_append(b, p, n) < 0)
			return -1;
		p += n;
		if (*p == '\0')
			break;
		if (escape(b, *p++) < 0)
			return -1;
	}
	return ps_buf_append(b, "\"", 1);
}

int
ps_jw_str_or_null(struct ps_buf *b, const char *s)
{
	if (s == NULL || *s == '\0')
		return ps_buf_append(b, "null", 4);
	return ps_jw_str(b, s);
}

/* cJSON_CreateNumber's valueint: d clamped to the int range. */
static int
int_of(double d)
{
	if (d >= INT_MAX)
		return INT_MAX;
	if (d <= (double)INT_MIN)
		return INT_MIN;
	return (int)d;
}

/* "%d" without printf: the common case of volumes, counts, round prices. */
static int
put_int(struct ps_buf *b, int v)
{
	char tmp[16], *p = tmp + sizeof(tmp);
	unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	return ps_buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

static int
same_double(double a, double b)
{
	double max = fabs(a) > fabs(b) ? fabs(a) : fabs(b);

	return fabs(a - b) <= max * DBL_EPSILON;
}

/*
 * d as the decimal v of at most four places it is the nearest double to,
 * when there is one and 1e-4 <= |v| < 1e10: v then has at most 14
 * significant digits, so %.15g prints v (trailing zeros dropped) and v
 * reads back as d exactly. 1 when printed, 0 when d is not such a number.
 * Prices are: this keeps printf and strtod off the common path.
 */
static int
put_decimal(struct ps_buf *b, double d, int *rc)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	double a = fabs(d);
	long long m;
	int places = 4;

	if (!(a >= 1e-4 && a < 1e10))
		return 0;
	m = llround(a * 10000);
	if ((double)m / 10000.0 != a)
		return 0;
	while (places > 0 && m % 10 == 0) {
		m /= 10;
		places--;
	}
	do {
		*--p = (char)('0' + m % 10);
		m /= 10;
		if (--places == 0)
			*--p = '.';
	} while (m > 0 || places >= 0);
	if (d < 0)
		*--p = '-';
	*rc = ps_buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
	return 1;
}

int
ps_jw_num(struct ps_buf *b, double d)
{
	char out[32];
	int n;

	if (isnan(d) || isinf(d))
		return ps_buf_append(b, "null", 4);
	/* A whole number prints as %.15g would print it (-0 stays "-0", as
	 * cJSON 1.7.15 prints it), only faster. */
	if (d == (double)int_of(d) && !(d == 0 && signbit(d)))
		return put_int(b, int_of(d));
	if (put_decimal(b, d, &n))
		return n;
	n = snprintf(out, sizeof(out), "%1.15g", d);
	if (!same_double(strtod(out, NULL), d))
		n = snprintf(out, sizeof(out), "%1.17g", d);
	return ps_buf_append(b, out, (size_t)n);
}
