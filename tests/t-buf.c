/*
 * t-buf: the growable buffer (growth, NUL termination, take, reset, free
 * twice, refusing a size that would overflow) and, as the other module with
 * no dependencies, err (code names, formatting, truncation, NULL err).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "tap.h"

static void
test_append(void)
{
	struct ps_buf b = {0};
	size_t i, cap_changes = 0, last_cap = 0;
	int ok = 1;

	tap_int(ps_buf_puts(&b, ""), 0, "append of nothing succeeds");
	tap_ok(b.data != NULL && b.data[0] == '\0' && b.len == 0,
	       "an empty append still leaves a NUL-terminated buffer");
	for (i = 0; i < 10000; i++) {
		if (ps_buf_append(&b, "x", 1) < 0 || b.data[b.len] != '\0')
			ok = 0;
		if (b.cap != last_cap) {
			cap_changes++;
			last_cap = b.cap;
		}
	}
	tap_ok(ok, "10000 one-byte appends, NUL-terminated after each");
	tap_int((long long)b.len, 10000, "length counts every byte");
	tap_ok(cap_changes < 20, "capacity doubles (%zu reallocations)",
	       cap_changes);
	tap_ok(b.cap > b.len, "capacity leaves room for the NUL");
	ps_buf_free(&b);
}

static void
test_printf_take(void)
{
	struct ps_buf b = {0};
	char big[3000];
	char *s;

	tap_int(ps_buf_puts(&b, "ab"), 0, "puts");
	tap_int(ps_buf_printf(&b, "-%d-%s", 42, "z"), 0, "printf");
	tap_str(b.data, "ab-42-z", "printf appends");
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tap_int(ps_buf_printf(&b, "%s!", big), 0, "printf of a long string");
	tap_int((long long)b.len, 7 + 2999 + 1, "printf length");
	tap_ok(b.data[b.len - 1] == '!' && b.data[b.len] == '\0',
	       "printf output complete and terminated");
	tap_int(ps_buf_append(&b, "\0mid", 4), 0, "binary append with a NUL");
	tap_int((long long)b.len, 7 + 3000 + 4, "binary bytes counted");

	ps_buf_reset(&b);
	tap_ok(b.len == 0 && b.data[0] == '\0' && b.cap > 0,
	       "reset empties and keeps memory");
	ps_buf_puts(&b, "kept");
	s = ps_buf_take(&b);
	tap_str(s, "kept", "take hands over the data");
	tap_ok(b.data == NULL && b.len == 0 && b.cap == 0,
	       "take zeroes the struct");
	free(s);
	s = ps_buf_take(&b);
	tap_str(s, "", "take of an empty buffer gives an allocated \"\"");
	free(s);
	ps_buf_free(&b);
	ps_buf_free(&b);
	tap_ok(b.data == NULL, "free twice is safe");
}

static void
test_overflow(void)
{
	struct ps_buf b = {0};

	ps_buf_puts(&b, "abc");
	/* A size that cannot fit is refused before anything is read. */
	tap_int(ps_buf_append(&b, "x", SIZE_MAX - 1), -1,
	        "an impossible size is refused");
	tap_ok(b.len == 3 && strcmp(b.data, "abc") == 0,
	       "a refused append leaves the buffer unchanged");
	ps_buf_free(&b);
}

static void
test_err(void)
{
	struct ps_err e;
	char big[1000];

	tap_str(ps_code_name(PS_ECONFIG), "config", "name config");
	tap_str(ps_code_name(PS_ESTORE), "store", "name store");
	tap_str(ps_code_name(PS_EUPSTREAM_AUTH), "upstream_auth", "name auth");
	tap_str(ps_code_name(PS_EUPSTREAM_QUOTA), "upstream_quota",
	        "name quota");
	tap_str(ps_code_name(PS_EUPSTREAM_PLAN), "upstream_plan", "name plan");
	tap_str(ps_code_name(PS_EUPSTREAM_UNAVAILABLE), "upstream_unavailable",
	        "name unavailable");
	tap_str(ps_code_name(PS_EUPSTREAM), "upstream", "name upstream");
	tap_str(ps_code_name(PS_ESYNC_IN_PROGRESS), "sync_in_progress",
	        "name sync_in_progress");
	tap_str(ps_code_name(PS_ECOOLDOWN), "cooldown", "name cooldown");
	tap_str(ps_code_name(PS_EBAD_REQUEST), "bad_request",
	        "name bad_request");
	tap_str(ps_code_name(PS_ENOT_FOUND), "not_found", "name not_found");
	tap_str(ps_code_name(PS_EMETHOD), "method_not_allowed",
	        "name method_not_allowed");
	tap_str(ps_code_name(PS_EFORBIDDEN_ORIGIN), "forbidden_origin",
	        "name forbidden_origin");
	tap_str(ps_code_name(PS_EINVALID), "invalid", "name invalid");
	tap_str(ps_code_name(PS_ENOMEM), "out_of_memory", "name out_of_memory");
	tap_str(ps_code_name(PS_EINTERNAL), "internal", "name internal");
	tap_ok(ps_code_name((enum ps_code)999) != NULL,
	       "an out-of-range code still has a name");

	e.retry_after = 7;
	tap_int(ps_err_set(&e, PS_ESTORE, "mdb_put: %s (%d)", "full", 3), -1,
	        "ps_err_set returns -1");
	tap_int(e.code, PS_ESTORE, "code set");
	tap_int(e.retry_after, 0, "retry_after reset");
	tap_str(e.msg, "mdb_put: full (3)", "message formatted");
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ps_err_set(&e, PS_EINTERNAL, "%s", big);
	tap_int((long long)strlen(e.msg), (long long)sizeof(e.msg) - 1,
	        "a long message is truncated, terminated");
	tap_int(ps_err_set(NULL, PS_ECONFIG, "x"), -1, "NULL err allowed");
	ps_err_clear(&e);
	tap_ok(e.code == PS_OK && e.msg[0] == '\0' && e.retry_after == 0,
	       "clear");
	ps_err_clear(NULL);
}

static void
test_fmt_double(void)
{
	static const double cases[] = {457.64,    0.7891,        3937.96492,
	                               0.1 + 0.2, 1e-300,        -2.5,
	                               1e21,      123456789.125, 5e-324};
	char out[PS_DOUBLE_LEN];
	size_t i;

	tap_str(ps_fmt_double(out, 457.64), "457.64",
	        "457.64 prints as written, not as %.17g would");
	tap_str(ps_fmt_double(out, 0.78910000000000002), "0.7891",
	        "0.7891 is shortest");
	tap_str(ps_fmt_double(out, 0.1 + 0.2), "0.30000000000000004",
	        "0.1 + 0.2 needs its 17 digits");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_ok(strtod(ps_fmt_double(out, cases[i]), NULL) == cases[i],
		       "%s reads back exactly", out);
}

int
main(void)
{
	test_append();
	test_fmt_double();
	test_printf_take();
	test_overflow();
	test_err();
	return tap_done();
}
