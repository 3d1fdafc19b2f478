/*
 * jscan: flat JSON read without a tree (see jscan.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"

const char *
ps_jscan_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* A string at p (after its '"') into out; NULL when it is one the fast
 * path leaves to cJSON (\u escapes, too long) or not JSON. */
static const char *
scan_string(const char *p, const char *end, char *out, size_t size)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	size_t n = 0;
	const char *e;

	for (; p < end && *p != '"'; p++) {
		if (n + 1 >= size || (unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			if (++p == end || (e = strchr(from, *p)) == NULL ||
			    *p == '\0')
				return NULL;
			out[n++] = to[e - from];
		} else
			out[n++] = *p;
	}
	out[n] = '\0';
	return p < end ? p + 1 : NULL;
}

/* -?DIGITS[.DIGITS] of at most 15 digits, without strtod: k / 10^f with
 * both exact doubles is the correctly rounded value of the decimal, which
 * is what strtod returns. 0 when the text is another shape. */
static int
decimal(const char *p, size_t n, double *d)
{
	static const double pow10[] = {1,    1e1,  1e2,  1e3, 1e4,  1e5,
	                               1e6,  1e7,  1e8,  1e9, 1e10, 1e11,
	                               1e12, 1e13, 1e14, 1e15};
	size_t i = p[0] == '-', digits = 0, frac = 0;
	int64_t k = 0;
	int dot = 0;

	for (; i < n; i++) {
		if (p[i] == '.' && !dot && digits > 0)
			dot = 1;
		else if (p[i] >= '0' && p[i] <= '9' && digits < 15) {
			k = k * 10 + (p[i] - '0');
			digits++;
			frac += (size_t)dot;
		} else
			return 0;
	}
	if (digits == 0 || (dot && frac == 0) || (p[0] == '-' && k == 0))
		return 0;
	*d = (double)(p[0] == '-' ? -k : k) / pow10[frac];
	return 1;
}

/* The characters cJSON hands to strtod. */
static int
is_number_char(char c)
{
	return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' ||
	       c == 'e' || c == 'E';
}

/* A number at p, read as cJSON reads one (strtod over the characters a
 * number may have); its end, or NULL when strtod leaves some over. */
static const char *
scan_number(const char *p, const char *end, double *d)
{
	char text[64], *stop;
	size_t n = 0;

	while (p + n < end && is_number_char(p[n]))
		n++;
	if (n == 0 || n >= sizeof(text))
		return NULL;
	if (decimal(p, n, d))
		return p + n;
	memcpy(text, p, n);
	text[n] = '\0';
	*d = strtod(text, &stop);
	return *stop == '\0' ? p + n : NULL;
}

static const char *
scan_value(const char *p, const char *end, struct ps_jval *v)
{
	static const char *const words[] = {"null", "true", "false"};
	size_t i, n;

	if (p == end)
		return NULL;
	if (*p == '"') {
		v->type = PS_JV_STR;
		return scan_string(p + 1, end, v->str, sizeof(v->str));
	}
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		n = strlen(words[i]);
		v->type = i == 0 ? PS_JV_NULL : PS_JV_LIT;
		if ((size_t)(end - p) >= n && memcmp(p, words[i], n) == 0)
			return p + n;
	}
	/* cJSON takes a number only from these (then strtod, so "-.5"). */
	if (*p != '-' && (*p < '0' || *p > '9'))
		return NULL;
	v->type = PS_JV_NUM;
	return scan_number(p, end, &v->num);
}

const char *
ps_jscan_object(const char *p, const char *end,
                void (*member)(const char *key, const struct ps_jval *v,
                               void *arg),
                void *arg)
{
	struct ps_jval v;
	char key[64];

	p = ps_jscan_ws(p, end);
	if (p == end || *p++ != '{')
		return NULL;
	p = ps_jscan_ws(p, end);
	if (p < end && *p == '}')
		return p + 1;
	for (;;) {
		if (p == end || *p != '"' ||
		    (p = scan_string(p + 1, end, key, sizeof(key))) == NULL)
			return NULL;
		p = ps_jscan_ws(p, end);
		if (p == end || *p++ != ':' ||
		    (p = scan_value(ps_jscan_ws(p, end), end, &v)) == NULL)
			return NULL;
		member(key, &v, arg);
		p = ps_jscan_ws(p, end);
		if (p < end && *p == ',') {
			p = ps_jscan_ws(p + 1, end);
			continue;
		}
		return p < end && *p == '}' ? p + 1 : NULL;
	}
}
