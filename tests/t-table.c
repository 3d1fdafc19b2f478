/*
 * t-table: the table of `pricesync list` (cli/table.c) from a prices
 * document: columns aligned by characters, long names cut at a character,
 * and every string escaped, so a stored name cannot drive the terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "tap.h"

static char *
render(const char *json, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	*rc = table_print(f, json);
	fclose(f);
	return text;
}

static char *
cell(const char *s, int width, int max)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	table_cell(f, s, width, max);
	fclose(f);
	return text;
}

static void
check_cell(const char *s, int width, int max, const char *want,
           const char *name)
{
	char *got = cell(s, width, max);

	tap_str(got, want, name);
	free(got);
}

/* The characters (not bytes) of line up to the end of the first needle;
 * -1 when absent. */
static int
chars_to_end(const char *line, const char *needle)
{
	const char *at = strstr(line, needle), *p;
	int n = 0;

	if (at == NULL)
		return -1;
	for (p = line; p < at + strlen(needle); p++)
		n += ((unsigned char)*p & 0xC0) != 0x80;
	return n;
}

static void
test_cells(void)
{
	check_cell("AAPL", 6, -1, "AAPL  ", "padded");
	check_cell("ABCDEFGHIJKL", 6, -1, "ABCDEFGHIJKL", "not cut");
	check_cell("ABCDEFGHIJKL", 6, 6, "ABCDEF", "cut");
	check_cell("Soci\xC3\xA9t\xC3\xA9", 9, 9, "Soci\xC3\xA9t\xC3\xA9  ",
	           "padded by characters, not bytes");
	check_cell("\xC3\xA9\xC3\xA9\xC3\xA9", 2, 2, "\xC3\xA9\xC3\xA9",
	           "cut at a character");
	check_cell("a\x1b[2Jb", 0, -1, "a\\x1B[2Jb", "ESC escaped");
	check_cell("a\x07", 0, -1, "a\\x07", "BEL escaped");
	check_cell("\xFF\xFE", 0, -1, "\\xFF\\xFE", "bytes not UTF-8 escaped");
	check_cell("C1\xC2\x9B", 0, -1, "C1\\u009B", "C1 control escaped");
	check_cell("\xE2\x80\xAE", 0, -1, "\\u202E", "bidi override escaped");
	check_cell("ab\x1b", 4, 4, "ab  ", "an escape is never cut in two");
	check_cell("", 3, -1, "   ", "empty");
}

static void
test_table(void)
{
	static const char doc[] =
	        "{\"fx\":null,\"symbols\":["
	        "{\"symbol\":\"AAPL\",\"name\":\"Apple Inc.\",\"currency\":"
	        "\"USD\",\"price\":189.3,\"change_percent\":0.64,\"price_gbp\":"
	        "149.37,\"quantity\":10,\"value_gbp\":1493.7,\"updated_at\":"
	        "\"2026-11-25T09:30:07Z\",\"error\":null},"
	        "{\"symbol\":\"EVIL\",\"name\":\"Evil \\u001b]0;pwned\\u0007"
	        "\\u001b[2J \xff\xfe Corp\",\"currency\":\"US\\u001bD\","
	        "\"price\":null,\"error\":\"bad \\u001b[31m\\u0007\"},"
	        "{\"symbol\":\"SG.PA\",\"name\":\"Soci\xC3\xA9t\xC3\xA9 "
	        "G\xC3\xA9n\xC3\xA9rale Soci\xC3\xA9t\xC3\xA9 Anonyme\","
	        "\"currency\":\"EUR\",\"price\":20}],"
	        "\"total_value_gbp\":1493.7}";
	char *text, *line[5], *p, *save = NULL;
	int rc = 0, n = 0, end;

	text = render(doc, &rc);
	if (!tap_ok(text != NULL && rc == 0, "the table renders"))
		return;
	tap_ok(strchr(text, '\x1b') == NULL, "no ESC reaches the terminal");
	tap_ok(strchr(text, '\x07') == NULL, "no BEL either");
	tap_ok(strchr(text, '\xff') == NULL && strchr(text, '\xfe') == NULL,
	       "no byte that is not UTF-8");
	tap_ok(strstr(text, "Evil \\x1B]0;pwned\\x07 ") != NULL,
	       "the name shows its escapes");
	tap_ok(strstr(text, "bad \\x1B[31m\\x07") != NULL,
	       "the error is escaped too");
	for (p = strtok_r(text, "\n", &save); p != NULL && n < 5;
	     p = strtok_r(NULL, "\n", &save))
		line[n++] = p;
	if (!tap_int(n, 5, "header, three rows, total"))
		goto free_text;
	/* The PRICE column ends at the same character in the header, an
	 * ASCII row and a row with a UTF-8 name. */
	end = chars_to_end(line[0], "PRICE");
	tap_ok(end > 0 && chars_to_end(line[1], "189.3000") == end,
	       "ASCII row aligned: %s", line[1]);
	tap_ok(strstr(line[3], "Soci\xC3\xA9t\xC3\xA9 G\xC3\xA9n\xC3\xA9rale "
	                       "Soci\xC3\xA9t\xC3\xA9 ") != NULL &&
	               strstr(line[3], "Anonyme") == NULL,
	       "a long UTF-8 name is cut at 24 characters: %s", line[3]);
	tap_ok(chars_to_end(line[3], "20.0000") == end,
	       "and the columns after it line up");
	tap_ok(chars_to_end(line[2], "EVIL") == 4 &&
	               chars_to_end(line[2], "-") == end,
	       "an escaped name is cut to 24 columns too: %s", line[2]);
	tap_str(line[4], "TOTAL_VALUE_GBP 1493.70", "the total");
free_text:
	free(text);
	text = render("[1,2]", &rc);
	tap_int(rc, -1, "not a prices document");
	free(text);
}

int
main(void)
{
	test_cells();
	test_table();
	return tap_done();
}
