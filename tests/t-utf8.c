/*
 * t-utf8: the UTF-8 rules for text from outside (lib/utf8.c): valid and
 * invalid sequences by the Unicode table, what counts as a control
 * character, and cleaning in place.
 */
#include <string.h>

#include "tap.h"
#include "utf8.h"

static void
test_char(void)
{
	static const struct {
		const char *bytes;
		size_t len, want;
		uint32_t cp;
	} cases[] = {
	        {"A", 1, 1, 'A'},
	        {"\xC3\xA9", 2, 2, 0xE9},             /* é */
	        {"\xE2\x82\xAC", 3, 3, 0x20AC},       /* € */
	        {"\xF0\x9F\x98\x80", 4, 4, 0x1F600},  /* emoji */
	        {"\xF4\x8F\xBF\xBF", 4, 4, 0x10FFFF}, /* the last */
	        {"\xEF\xBB\xBF", 3, 3, 0xFEFF},       /* BOM */
	        {"\xFF", 1, 0, 0},                    /* never valid */
	        {"\xFE", 1, 0, 0},                    /* never valid */
	        {"\x80", 1, 0, 0},                    /* stray continuation */
	        {"\xC0\xAF", 2, 0, 0},                /* overlong '/' */
	        {"\xC1\xBF", 2, 0, 0},                /* overlong */
	        {"\xE0\x80\xAF", 3, 0, 0},            /* overlong */
	        {"\xF0\x80\x80\xAF", 4, 0, 0},        /* overlong */
	        {"\xED\xA0\x80", 3, 0, 0},            /* surrogate D800 */
	        {"\xF4\x90\x80\x80", 4, 0, 0},        /* past U+10FFFF */
	        {"\xF5\x80\x80\x80", 4, 0, 0},        /* past U+10FFFF */
	        {"\xC3", 1, 0, 0},                    /* cut short */
	        {"\xE2\x82", 2, 0, 0},                /* cut short */
	        {"\xE2\x82\xAC", 2, 0, 0},            /* len honoured */
	        {"\xC3\x28", 2, 0, 0},                /* bad continuation */
	};
	size_t i;
	uint32_t cp;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cp = 0;
		if (!tap_ok(ps_utf8_char((const unsigned char *)cases[i].bytes,
		                         cases[i].len, &cp) == cases[i].want,
		            "sequence %zu: length %zu", i, cases[i].want))
			continue;
		if (cases[i].want)
			tap_ok(cp == cases[i].cp, "sequence %zu: U+%04X", i,
			       (unsigned)cases[i].cp);
	}
}

static void
test_control(void)
{
	static const uint32_t ctl[] = {0,      0x07,   0x1B,   0x1F,   0x7F,
	                               0x80,   0x9B,   0x9F,   0x2028, 0x2029,
	                               0x202A, 0x202E, 0x2066, 0x2069};
	static const uint32_t text[] = {' ',    'A',    '~',    0xA0,
	                                0xE9,   0x20AC, 0x2027, 0x202F,
	                                0x2065, 0x206A, 0xFEFF, 0x1F600};
	size_t i;

	for (i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++)
		tap_ok(ps_utf8_is_control(ctl[i]), "U+%04X is a control",
		       (unsigned)ctl[i]);
	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		tap_ok(!ps_utf8_is_control(text[i]), "U+%04X is text",
		       (unsigned)text[i]);
}

static void
test_clean(void)
{
	static const char *const cases[][2] = {
	        {"Apple Inc.", "Apple Inc."},
	        {"Soci\xC3\xA9t\xC3\xA9 G\xC3\xA9n\xC3\xA9rale",
	         "Soci\xC3\xA9t\xC3\xA9 G\xC3\xA9n\xC3\xA9rale"},
	        {"\x1b]0;pwned\x07\x1b[2J", "]0;pwned[2J"},
	        {"Evil \xFF\xFE Corp", "Evil  Corp"},
	        {"tab\there\r\nnext", "tab here  next"},
	        {"C1 \xC2\x9B"
	         "31m",
	         "C1 31m"},
	        {"bidi \xE2\x80\xAE"
	         "txet",
	         "bidi txet"},
	        {"cut \xE2\x82", "cut "},
	        {"\xC3\x28", "("},
	        {"", ""},
	        {"\x7F\x01\x02", ""},
	};
	char buf[128];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(buf, cases[i][0]);
		n = ps_utf8_clean(buf);
		tap_str(buf, cases[i][1], "cleaned");
		tap_ok(n == strlen(cases[i][1]), "case %zu: length %zu", i, n);
	}
}

static void
test_copy(void)
{
	char out[6];

	tap_str(ps_utf8_copy(out, sizeof(out), "abc"), "abc", "copy: fits");
	tap_str(ps_utf8_copy(out, sizeof(out), "abcdefgh"), "abcde",
	        "copy: cut to size - 1");
	/* "ab" then U+20AC (3 bytes) then "x": the euro does not fit whole
	 * in 5 bytes after "abc", so it is left out, not split. */
	tap_str(ps_utf8_copy(out, sizeof(out), "abc\xe2\x82\xacx"), "abc",
	        "copy: never splits a character");
	tap_str(ps_utf8_copy(out, sizeof(out), "ab\xe2\x82\xacx"),
	        "ab\xe2\x82\xac", "copy: a character that fits stays");
	tap_str(ps_utf8_copy(out, 1, "abc"), "", "copy: size 1 gives \"\"");
}

int
main(void)
{
	test_char();
	test_control();
	test_clean();
	test_copy();
	return tap_done();
}
