/*
 * utf8: validation by the table of Unicode 15 §3.9 (well-formed byte
 * sequences), so overlong forms, surrogates and values past U+10FFFF are
 * invalid like stray bytes. Cleaning drops what is invalid one byte at a
 * time, so what follows a bad byte survives.
 */
#include <string.h>

#include "utf8.h"

static int
cont(unsigned char b)
{
	return (b & 0xC0) == 0x80;
}

size_t
ps_utf8_char(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char b = s[0];
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xBF; /* bounds of the second byte */

	if (len == 0)
		return 0;
	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xC2 && b <= 0xDF)
		n = 2;
	else if (b >= 0xE0 && b <= 0xEF)
		n = 3;
	else if (b >= 0xF0 && b <= 0xF4)
		n = 4;
	else
		return 0;
	if (b == 0xE0)
		lo = 0xA0; /* overlong */
	else if (b == 0xED)
		hi = 0x9F; /* surrogates */
	else if (b == 0xF0)
		lo = 0x90; /* overlong */
	else if (b == 0xF4)
		hi = 0x8F; /* past U+10FFFF */
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	*cp = b & (0x7F >> n);
	for (i = 1; i < n; i++) {
		if (!cont(s[i]))
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}
	return n;
}

int
ps_utf8_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 ||
	       cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

size_t
ps_utf8_clean(char *s)
{
	unsigned char *in = (unsigned char *)s, *out = in;
	size_t left = 0, n;
	uint32_t cp;

	while (in[left] != '\0')
		left++;
	while (left > 0) {
		n = ps_utf8_char(in, left, &cp);
		if (n == 0) {
			in++, left--;
			continue;
		}
		if (cp == '\t' || cp == '\n' || cp == '\r')
			*out++ = ' ';
		else if (!ps_utf8_is_control(cp))
			for (size_t i = 0; i < n; i++)
				*out++ = in[i];
		in += n, left -= n;
	}
	*out = '\0';
	return (size_t)(out - (unsigned char *)s);
}

char *
ps_utf8_copy(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (len >= size) {
		len = size - 1;
		/* Back off over continuation bytes (10xxxxxx). */
		while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
	return dst;
}
