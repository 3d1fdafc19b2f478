/*
 * t-err: the error codes and messages of lib/err.h. Every code's SPEC name
 * (and a safe name for a value out of range), ps_err_set's return value,
 * formatting, truncation and reset of retry_after, a NULL err, the clear,
 * and ps_err_quote's cut and replacement of unprintable bytes. A failed
 * conversion is provoked with a wide string the C locale cannot encode.
 */
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "err.h"
#include "tap.h"

static const struct {
	enum ps_code code;
	const char *name;
} names[] = {
        {PS_OK, "ok"},
        {PS_ECONFIG, "config"},
        {PS_ESTORE, "store"},
        {PS_EUPSTREAM_AUTH, "upstream_auth"},
        {PS_EUPSTREAM_QUOTA, "upstream_quota"},
        {PS_EUPSTREAM_PLAN, "upstream_plan"},
        {PS_EUPSTREAM_UNAVAILABLE, "upstream_unavailable"},
        {PS_EUPSTREAM, "upstream"},
        {PS_ESYNC_IN_PROGRESS, "sync_in_progress"},
        {PS_ECOOLDOWN, "cooldown"},
        {PS_EBAD_REQUEST, "bad_request"},
        {PS_ENOT_FOUND, "not_found"},
        {PS_EMETHOD, "method_not_allowed"},
        {PS_EFORBIDDEN_ORIGIN, "forbidden_origin"},
        {PS_EINVALID, "invalid"},
        {PS_ENOMEM, "out_of_memory"},
        {PS_EINTERNAL, "internal"},
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

static void
test_code_names(void)
{
	size_t i, j;
	int distinct = 1;

	for (i = 0; i < NNAMES; i++) {
		char what[64];

		snprintf(what, sizeof(what), "code %d is \"%s\"",
		         (int)names[i].code, names[i].name);
		tap_str(ps_code_name(names[i].code), names[i].name, what);
	}
	/* The table above is the whole enum: PS_EINTERNAL is the last. */
	tap_int(PS_EINTERNAL, (long long)NNAMES - 1,
	        "every code of the enum is named above");
	for (i = 0; i < NNAMES; i++)
		for (j = i + 1; j < NNAMES; j++)
			if (strcmp(ps_code_name(names[i].code),
			           ps_code_name(names[j].code)) == 0)
				distinct = 0;
	tap_ok(distinct, "no two codes share a name");
	tap_str(ps_code_name((enum ps_code)(PS_EINTERNAL + 1)), "internal",
	        "one past the last code is named \"internal\"");
	tap_str(ps_code_name((enum ps_code)1000), "internal",
	        "a large out-of-range code is named \"internal\"");
	tap_str(ps_code_name((enum ps_code) - 1), "internal",
	        "a negative code is named \"internal\"");
}

static void
test_set(void)
{
	struct ps_err e;
	int rc;

	ps_err_clear(&e);
	rc = ps_err_set(&e, PS_ESTORE, "mdb_put: %s (%d)", "MDB_MAP_FULL",
	                -30792);
	tap_int(rc, -1, "ps_err_set returns -1");
	tap_int(e.code, PS_ESTORE, "  and sets the code");
	tap_str(e.msg, "mdb_put: MDB_MAP_FULL (-30792)",
	        "  and formats the message");
	tap_int(e.retry_after, 0, "  retry_after 0");

	/* A cooldown's wait is the caller's to set after ps_err_set. */
	ps_err_set(&e, PS_ECOOLDOWN, "the last sync was %ld s ago", 5L);
	e.retry_after = 55;
	tap_int(e.code, PS_ECOOLDOWN, "cooldown: the code");
	tap_int(e.retry_after, 55, "cooldown: retry_after kept once set");
	rc = ps_err_set(&e, PS_EINVALID, "symbol %s", "\"AA PL\"");
	tap_int(rc, -1, "a second ps_err_set returns -1");
	tap_int(e.code, PS_EINVALID, "  and replaces the code");
	tap_str(e.msg, "symbol \"AA PL\"", "  and the message");
	tap_int(e.retry_after, 0, "  and resets retry_after to 0");

	tap_int(ps_err_set(NULL, PS_EINTERNAL, "nobody reads %s", "this"), -1,
	        "ps_err_set(NULL, ...) returns -1");
	ps_err_clear(NULL);
	tap_ok(1, "ps_err_clear(NULL) returns");
}

static void
test_truncation(void)
{
	struct ps_err e;
	char big[2 * sizeof(e.msg)];
	size_t max = sizeof(e.msg) - 1;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[0] = 'A';

	big[max] = '\0';
	ps_err_set(&e, PS_EUPSTREAM, "%s", big);
	tap_int((long long)strlen(e.msg), (long long)max,
	        "a message of sizeof(msg) - 1 bytes fits");
	tap_ok(memcmp(e.msg, big, max) == 0, "  whole");

	big[max] = 'y';
	ps_err_set(&e, PS_EUPSTREAM, "%s", big);
	tap_int((long long)strlen(e.msg), (long long)max,
	        "a longer message is cut to sizeof(msg) - 1 bytes");
	tap_ok(e.msg[0] == 'A' && e.msg[max - 1] == 'x' && e.msg[max] == '\0',
	       "  its head kept, NUL-terminated");
	tap_int(e.code, PS_EUPSTREAM, "  the code still set");
}

static void
test_failed_format(void)
{
	static const wchar_t euro[] = {0x20AC, 0};
	struct ps_err e;
	char probe[16];
	int rc;

	ps_err_clear(&e);
	strcpy(e.msg, "an older message");
	e.retry_after = 9;
	rc = ps_err_set(&e, PS_EINTERNAL, "%ls", euro);
	tap_int(rc, -1, "a message that cannot be formatted: still -1");
	tap_int(e.code, PS_EINTERNAL, "  the code set");
	tap_int(e.retry_after, 0, "  retry_after reset");
	if (snprintf(probe, sizeof(probe), "%ls", euro) < 0) {
		tap_str(e.msg, "", "  an empty message, not the older one");
	} else {
		/* This libc's C locale encodes U+20AC: no failure to see. */
		tap_diag("snprintf encoded U+20AC in the C locale");
		tap_ok(memchr(e.msg, '\0', sizeof(e.msg)) != NULL,
		       "  a NUL-terminated message");
	}
}

static void
test_clear(void)
{
	struct ps_err e;

	ps_err_set(&e, PS_ECOOLDOWN, "wait %d s", 30);
	e.retry_after = 30;
	ps_err_clear(&e);
	tap_int(e.code, PS_OK, "ps_err_clear: code PS_OK");
	tap_int(e.retry_after, 0, "  retry_after 0");
	tap_str(e.msg, "", "  an empty message");
	tap_str(ps_code_name(e.code), "ok", "  named \"ok\"");
}

/* Quotes s into a buffer larger than PS_QUOTE_SIZE filled with '#', so a
 * write past PS_QUOTE_SIZE shows; returns whether none happened. */
static int
quote_into(const char *s, char *buf, size_t n)
{
	size_t i;

	memset(buf, '#', n);
	if (ps_err_quote(s, buf) != buf)
		return 0;
	for (i = PS_QUOTE_SIZE; i < n; i++)
		if (buf[i] != '#')
			return 0;
	return 1;
}

static void
test_quote(void)
{
	char buf[PS_QUOTE_SIZE + 16];
	char s[PS_QUOTE_MAX + 8];
	char want[PS_QUOTE_SIZE];

	tap_ok(quote_into("AAPL", buf, sizeof(buf)),
	       "ps_err_quote returns out, nothing written past it");
	tap_str(buf, "AAPL", "  a short printable value as is");
	quote_into("", buf, sizeof(buf));
	tap_str(buf, "", "  an empty value: empty");
	quote_into("a b~\"'\\", buf, sizeof(buf));
	tap_str(buf, "a b~\"'\\", "  spaces, quotes, backslash kept");
	quote_into("a\nb\rc\td\033[2Je\177f", buf, sizeof(buf));
	tap_str(buf, "a?b?c?d?[2Je?f",
	        "  newline, CR, tab, ESC, DEL each become '?'");
	quote_into("caf\xc3\xa9", buf, sizeof(buf));
	tap_str(buf, "caf??", "  each byte of UTF-8 becomes '?'");

	memset(s, 'q', PS_QUOTE_MAX);
	s[PS_QUOTE_MAX] = '\0';
	quote_into(s, buf, sizeof(buf));
	tap_str(buf, s, "  PS_QUOTE_MAX bytes: whole, no \"...\"");

	s[PS_QUOTE_MAX] = 'r';
	s[PS_QUOTE_MAX + 1] = '\0';
	memset(want, 'q', PS_QUOTE_MAX);
	strcpy(want + PS_QUOTE_MAX, "...");
	tap_ok(quote_into(s, buf, sizeof(buf)),
	       "  one byte more: nothing written past PS_QUOTE_SIZE");
	tap_str(buf, want, "  cut to PS_QUOTE_MAX bytes and \"...\"");
	tap_int((long long)strlen(buf), PS_QUOTE_SIZE - 1,
	        "  the longest quote fills PS_QUOTE_SIZE");

	memset(s, '\001', PS_QUOTE_MAX + 1);
	s[PS_QUOTE_MAX + 1] = '\0';
	memset(want, '?', PS_QUOTE_MAX);
	strcpy(want + PS_QUOTE_MAX, "...");
	quote_into(s, buf, sizeof(buf));
	tap_str(buf, want, "  a long unprintable value: '?'s and \"...\"");
}

int
main(void)
{
	test_code_names();
	test_set();
	test_truncation();
	test_failed_format();
	test_clear();
	test_quote();
	return tap_done();
}
