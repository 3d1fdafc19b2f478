/*
 * t-isotime: formatting and parsing ISO 8601 UTC, round trips across a wide
 * range, and every shape of bad input the parser must refuse.
 */
#include <stdint.h>
#include <string.h>

#include "isotime.h"
#include "tap.h"

static void
test_fmt(void)
{
	char out[PS_ISOTIME_LEN];

	tap_str(ps_isotime_fmt(0, out), "1970-01-01T00:00:00Z", "epoch");
	tap_str(ps_isotime_fmt(1795599000, out), "2026-11-25T09:30:00Z",
	        "SPEC example");
	tap_str(ps_isotime_fmt(-1, out), "1969-12-31T23:59:59Z",
	        "negative time");
	tap_str(ps_isotime_fmt(951782400, out), "2000-02-29T00:00:00Z",
	        "leap day 2000");
	tap_str(ps_isotime_fmt(INT64_MAX, out), "9999-12-31T23:59:59Z",
	        "huge time clamps to a well-formed stamp");
	tap_str(ps_isotime_fmt(INT64_MIN, out), "0000-01-01T00:00:00Z",
	        "tiny time clamps, years padded to 4 digits");
	tap_int((long long)strlen(out), PS_ISOTIME_LEN - 1, "fixed length");
}

static void
test_parse(void)
{
	int64_t t = 12345;

	tap_int(ps_isotime_parse("2026-11-25T09:30:00Z", &t), 0, "parse Z");
	tap_int(t, 1795599000, "parse Z value");
	tap_int(ps_isotime_parse("2026-11-25T09:30:00+00:00", &t), 0,
	        "parse +00:00");
	tap_int(t, 1795599000, "parse +00:00 value");
	tap_int(ps_isotime_parse("2026-11-25", &t), 0, "parse date");
	tap_int(t, 1795564800, "date is midnight UTC");
	tap_int(ps_isotime_parse("2024-02-29", &t), 0, "leap day 2024");
	tap_int(ps_isotime_parse("1969-12-31T23:59:59Z", &t), 0,
	        "before the epoch");
	tap_int(t, -1, "before the epoch value");
}

static void
test_bad(void)
{
	static const char *const bad[] = {
	        "",
	        "2026",
	        "2026-11",
	        "2026-11-2",
	        "2026-13-01",
	        "2026-00-10",
	        "2026-11-00",
	        "2026-11-31",
	        "2026-02-29",
	        "1900-02-29",
	        "2026-11-25T24:00:00Z",
	        "2026-11-25T09:60:00Z",
	        "2026-11-25T09:30:60Z",
	        "2026-11-25T09:30:00",
	        "2026-11-25T09:30Z",
	        "2026-11-25T09:30:00+01:00",
	        "2026-11-25T09:30:00ZZ",
	        "2026-11-25 09:30:00Z",
	        "2026/11/25",
	        "2026-11-25x",
	        "20261125",
	        "+026-11-25",
	        "2026-1a-25",
	        " 2026-11-25",
	        "2026-11-25T09:30:00.5Z",
	};
	int64_t t = 42;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_int(ps_isotime_parse(bad[i], &t), -1, bad[i]);
	tap_int(t, 42, "a refused parse leaves *t alone");
	tap_int(ps_isotime_parse(NULL, &t), -1, "NULL refused");
}

static void
test_roundtrip(void)
{
	char out[PS_ISOTIME_LEN];
	int64_t t, back;
	int ok = 1;

	/* Steps of a prime number of seconds across 1900..2200. */
	for (t = -2208988800; t < 7258118400; t += 7919 * 3607) {
		if (ps_isotime_parse(ps_isotime_fmt(t, out), &back) < 0 ||
		    back != t) {
			tap_diag("round trip failed at %lld (%s)", (long long)t,
			         out);
			ok = 0;
			break;
		}
	}
	tap_ok(ok, "fmt then parse gives the same time");
}

static void
test_monotonic(void)
{
	int64_t a = ps_monotonic_ms(), b = ps_monotonic_ms();

	tap_ok(a > 0 && b >= a, "monotonic clock does not go back");
}

int
main(void)
{
	test_fmt();
	test_parse();
	test_bad();
	test_roundtrip();
	test_monotonic();
	return tap_done();
}
