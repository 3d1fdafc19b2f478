/*
 * buf: a growable, always NUL-terminated byte buffer. Capacity doubles so
 * appending n bytes one at a time costs O(n); a failed allocation leaves
 * the buffer exactly as it was, so the caller can report and go on.
 */
#include <stdarg.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Makes room for extra more bytes plus the NUL; 0 or -1 (unchanged). */
static int
buf_reserve(struct ps_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - 1 - b->len)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
ps_buf_append(struct ps_buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
ps_buf_puts(struct ps_buf *b, const char *s)
{
	return ps_buf_append(b, s, strlen(s));
}

int
ps_buf_printf(struct ps_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* First pass measures; the second writes into reserved space. */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
ps_buf_reset(struct ps_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
ps_buf_free(struct ps_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

char *
ps_buf_take(struct ps_buf *b)
{
	char *p;

	if (b->data == NULL)
		return calloc(1, 1);
	p = b->data;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

/* The common case without printf's float engine: d with at most four
 * decimals, |d| < 1e9. When k / 10^4 == d for the integer k nearest
 * d * 10^4 (exact below 2^53), the decimal k / 10^4 reads back as d
 * (both are the correctly rounded k / 10^4), and no shorter decimal
 * does: below 1e9 doubles are far closer together than 10^-4. Trailing
 * zeros go, as %g's do. 0 when d is not such a number (-0 included). */
static int
fmt_decimal(char *out, double d)
{
	long long k, ip, i;
	int frac, n;

	if (!(d > -1e9 && d < 1e9) || (d == 0 && signbit(d)))
		return 0;
	k = llround(d * 1e4);
	if ((double)k / 1e4 != d)
		return 0;
	ip = llabs(k) / 10000;
	frac = (int)(llabs(k) % 10000);
	n = 0;
	if (k < 0)
		out[n++] = '-';
	for (i = 1; ip / i >= 10; i *= 10)
		;
	for (; i > 0; i /= 10)
		out[n++] = (char)('0' + ip / i % 10);
	out[n] = '\0';
	if (frac != 0) {
		out[n++] = '.';
		for (i = 1000; i > 0 && frac != 0; i /= 10) {
			out[n++] = (char)('0' + frac / i);
			frac %= (int)i;
		}
		out[n] = '\0';
	}
	return 1;
}

char *
ps_fmt_double(char *out, double d)
{
	int prec;

	if (fmt_decimal(out, d))
		return out;
	for (prec = 15; prec < 17; prec++) {
		snprintf(out, PS_DOUBLE_LEN, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return out;
	}
	snprintf(out, PS_DOUBLE_LEN, "%.17g", d);
	return out;
}
