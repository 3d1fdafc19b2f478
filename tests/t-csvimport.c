/*
 * t-csvimport: the `pricesync import` parser (SPEC §6) on bytes in memory:
 * header, comments, blanks, CRLF, a byte order mark, a NUL in a line, bad
 * fields named with their line, and the quantity rule shared with --quantity.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csvimport.h"
#include "tap.h"

/* Parses a string literal's bytes (sizeof - 1, so embedded NULs count). */
#define PARSE(lit, recs, n, e)                                                 \
	ps_csvimport_parse(lit, sizeof(lit) - 1, "f.csv", recs, n, e)

static void
test_good(void)
{
	static const char text[] = "symbol,quantity,currency\n# a comment\n\n"
	                           "aapl,10\nVOD.L,200,GBp\r\n  SAP.DE , ,eur\n"
	                           "MSFT\n\t\r\nbrk-b,0.5,gbx";
	struct ps_symrec *r;
	struct ps_err e;
	size_t n;

	ps_err_clear(&e);
	tap_int(PARSE(text, &r, &n, &e), 0, "a good file parses");
	if (!tap_int((long long)n, 5, "five records, header and comment not"))
		return;
	tap_str(r[0].symbol, "AAPL", "upper-cased");
	tap_dbl(r[0].quantity, 10, "quantity");
	tap_str(r[0].currency, "USD", "currency inferred");
	tap_int(r[0].currency_src, PS_CCY_INFERRED, "as inferred");
	tap_str(r[1].currency, "GBp", "CRLF: the CR is not in the currency");
	tap_int(r[1].currency_src, PS_CCY_USER,
	        "a given currency is the user's");
	tap_str(r[2].symbol, "SAP.DE", "blanks around fields are trimmed");
	tap_ok(isnan(r[2].quantity), "an empty quantity is none");
	tap_str(r[2].currency, "EUR", "currency upper-cased");
	tap_ok(isnan(r[3].quantity), "no quantity is NaN");
	tap_str(r[4].symbol, "BRK-B", "the last line needs no newline");
	tap_str(r[4].currency, "GBp", "GBX is GBp");
	tap_dbl(r[4].price, NAN, "records start with no price");
	free(r);
}

static void
test_bom(void)
{
	static const char bom[] = "\xEF\xBB\xBFsymbol,quantity\r\nAAPL,1\r\n";
	static const char bom_only[] = "\xEF\xBB\xBF";
	static const char bom_sym[] = "\xEF\xBB\xBF"
	                              "AAPL\n";
	static const char late_bom[] = "AAPL\n\xEF\xBB\xBFMSFT\n";
	struct ps_symrec *r;
	struct ps_err e;
	size_t n;

	tap_int(PARSE(bom, &r, &n, &e), 0,
	        "a BOM before the header is skipped");
	tap_ok(n == 1 && strcmp(r[0].symbol, "AAPL") == 0,
	       "and the header still is");
	free(r);
	tap_int(PARSE(bom_sym, &r, &n, &e), 0, "a BOM before a symbol");
	tap_ok(n == 1 && strcmp(r[0].symbol, "AAPL") == 0, "symbol intact");
	free(r);
	tap_int(PARSE(bom_only, &r, &n, &e), 0, "a BOM alone is an empty file");
	tap_ok(n == 0 && r == NULL, "no records, NULL array");
	tap_int(PARSE(late_bom, &r, &n, &e), -1,
	        "a BOM anywhere else is an invalid symbol");
	tap_ok(strstr(e.msg, "f.csv:2:") != NULL, "on line 2: %s", e.msg);
}

static void
test_nul(void)
{
	static const char nul[] = "AAPL\nMSFT\0,5\nTSLA\n";
	static const char nul_comment[] = "# x\0y\nAAPL\n";
	struct ps_symrec *r = (void *)1;
	struct ps_err e;
	size_t n = 99;

	ps_err_clear(&e);
	tap_int(PARSE(nul, &r, &n, &e), -1, "a NUL in a line refuses the file");
	tap_int(e.code, PS_EINVALID, "as invalid");
	tap_ok(strstr(e.msg, "f.csv:2:") != NULL && strstr(e.msg, "NUL"),
	       "naming the line and the NUL: %s", e.msg);
	tap_ok(r == NULL && n == 0, "nothing returned on error");
	tap_int(PARSE(nul_comment, &r, &n, &e), -1,
	        "even in a comment (the file is not text)");
}

static void
test_bad(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	        {"TSLA,1\nNVDA,2\nBAD SYM,3\nAMZN\n",
	         "f.csv:3: invalid symbol"},
	        {"TSLA,lots\n", "f.csv:1: bad quantity 'lots'"},
	        {"TSLA,-1\n", "bad quantity '-1'"},
	        {"TSLA,inf\n", "bad quantity 'inf'"},
	        {"TSLA,0x10\n", "bad quantity '0x10'"},
	        {"TSLA,1,DOLLARS\n", "invalid currency 'DOLLARS'"},
	        {"TSLA,1,USD,x\n", "too many fields"},
	        {"AAPL\nsymbol,quantity\n", "f.csv:2: bad quantity 'quantity'"},
	        {"AAPL,\x1b]0;pwned\x07\n", "bad quantity '?]0;pwned?'"},
	        {",1\n", "f.csv:1: invalid symbol '': empty"},
	};
	struct ps_symrec *r;
	struct ps_err e;
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ps_err_clear(&e);
		tap_ok(ps_csvimport_parse(bad[i].text, strlen(bad[i].text),
		                          "f.csv", &r, &n, &e) == -1,
		       "bad file %zu refused", i);
		tap_ok(strstr(e.msg, bad[i].want) != NULL, "says %s: %s",
		       bad[i].want, e.msg);
		tap_ok(strchr(e.msg, '\x1b') == NULL && !strchr(e.msg, '\a'),
		       "no control byte in the message");
	}
	ps_csvimport_parse("A B\n", 4, NULL, &r, &n, &e);
	tap_ok(strncmp(e.msg, "line 1: ", 8) == 0, "no name: %s", e.msg);
	ps_csvimport_parse("A B\n", 4, "a\x1b[2J.csv", &r, &n, &e);
	tap_ok(strncmp(e.msg, "a?[2J.csv:1: ", 13) == 0,
	       "the name is quoted: %s", e.msg);
}

static void
test_edges(void)
{
	struct ps_symrec *r = (void *)1;
	struct ps_err e;
	size_t n = 99, i, len = 3000 * 6;
	char *big = malloc(len);

	tap_int(ps_csvimport_parse("", 0, "f", &r, &n, &e), 0, "empty input");
	tap_ok(r == NULL && n == 0, "no records");
	tap_int(ps_csvimport_parse("AAPL\nMSFT", 4, "f", &r, &n, &e), 0,
	        "the length is honoured, not the NUL");
	tap_ok(n == 1 && strcmp(r[0].symbol, "AAPL") == 0, "one record");
	free(r);
	if (big == NULL)
		return;
	for (i = 0; i < 3000; i++)
		memcpy(big + i * 6, "AAAAA\n", 6);
	tap_int(ps_csvimport_parse(big, len, "f", &r, &n, &e), 0,
	        "3000 lines (the array grows)");
	tap_int((long long)n, 3000, "3000 records");
	free(r);
	free(big);
}

static void
test_quantity(void)
{
	static const char *const good[] = {"0", "10", "2.5", "1e3", "0.0001"};
	static const char *const bad[] = {
	        "", " 1", "1 ", "-0.5", "nan", "1e999", "1,5", "0x1p3", "+"};
	struct ps_err e;
	double q;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		tap_int(ps_quantity_parse(good[i], &q, &e), 0, good[i]);
	tap_dbl((ps_quantity_parse("2.5", &q, &e), q), 2.5, "2.5 is 2.5");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ps_err_clear(&e);
		tap_int(ps_quantity_parse(bad[i], &q, &e), -1, "refused");
		tap_int(e.code, PS_EINVALID, "as invalid");
	}
}

int
main(void)
{
	test_good();
	test_bom();
	test_nul();
	test_bad();
	test_edges();
	test_quantity();
	return tap_done();
}
