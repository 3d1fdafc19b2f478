/*
 * isotime: ISO 8601 UTC to the second, both ways, plus a monotonic clock for
 * durations. Parsing is strict about the shape (fixed digit positions, UTC
 * only) and rejects impossible dates by converting with timegm() and back:
 * timegm() normalises 2026-02-30 to March 2nd, which then no longer matches.
 */
#include <string.h>
#include <time.h>

#include "isotime.h"

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: what fits in the format. */
#define ISOTIME_MIN INT64_C(-62167219200)
#define ISOTIME_MAX INT64_C(253402300799)

/* Writes the n low decimal digits of v (v >= 0) at out. */
static void
put_digits(char *out, int v, int n)
{
	while (n-- > 0) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

char *
ps_isotime_fmt(int64_t t, char out[PS_ISOTIME_LEN])
{
	struct tm tm;
	time_t tt;

	/* Clamp, so a corrupt time still prints as a well-formed timestamp. */
	if (t < ISOTIME_MIN)
		t = ISOTIME_MIN;
	if (t > ISOTIME_MAX)
		t = ISOTIME_MAX;
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL) {
		memcpy(out, "1970-01-01T00:00:00Z", PS_ISOTIME_LEN);
		return out;
	}
	/* Digit by digit, not strftime (whose %Y does not pad years below
	 * 1000) nor snprintf (whose int ranges the compiler cannot bound). */
	put_digits(out, tm.tm_year + 1900, 4);
	out[4] = '-';
	put_digits(out + 5, tm.tm_mon + 1, 2);
	out[7] = '-';
	put_digits(out + 8, tm.tm_mday, 2);
	out[10] = 'T';
	put_digits(out + 11, tm.tm_hour, 2);
	out[13] = ':';
	put_digits(out + 14, tm.tm_min, 2);
	out[16] = ':';
	put_digits(out + 17, tm.tm_sec, 2);
	out[19] = 'Z';
	out[20] = '\0';
	return out;
}

/* Reads n decimal digits at s into *v; 0, or -1 if any is not a digit. */
static int
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
ps_isotime_parse(const char *s, int64_t *t)
{
	struct tm tm, back;
	int year, mon, day, hour = 0, min = 0, sec = 0;
	size_t len;
	time_t tt;

	if (s == NULL)
		return -1;
	len = strlen(s);
	if (len < 10 || digits(s, 4, &year) < 0 || s[4] != '-' ||
	    digits(s + 5, 2, &mon) < 0 || s[7] != '-' ||
	    digits(s + 8, 2, &day) < 0)
		return -1;
	if (len > 10) {
		if (s[10] != 'T' || len < 19 || digits(s + 11, 2, &hour) < 0 ||
		    s[13] != ':' || digits(s + 14, 2, &min) < 0 ||
		    s[16] != ':' || digits(s + 17, 2, &sec) < 0)
			return -1;
		if (strcmp(s + 19, "Z") != 0 && strcmp(s + 19, "+00:00") != 0)
			return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	tt = timegm(&tm);
	if (gmtime_r(&tt, &back) == NULL)
		return -1;
	if (back.tm_year != year - 1900 || back.tm_mon != mon - 1 ||
	    back.tm_mday != day || back.tm_hour != hour || back.tm_min != min ||
	    back.tm_sec != sec)
		return -1;
	*t = (int64_t)tt;
	return 0;
}

int64_t
ps_monotonic_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
