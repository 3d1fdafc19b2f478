/*
 * t-symbol: symbol validation (SPEC §6), currency normalising and inference
 * (SPEC §3), the suffix test that decides on a profile call, and GBP values.
 */
#include <math.h>
#include <string.h>

#include "symbol.h"
#include "tap.h"

static void
test_normalize(void)
{
	static const char *const good[][2] = {
	        {"aapl", "AAPL"},
	        {"vod.l", "VOD.L"},
	        {"^gspc", "^GSPC"},
	        {"eurusd=x", "EURUSD=X"},
	        {"BRK-B", "BRK-B"},
	        {"7203.T", "7203.T"},
	        {"ABCDEFGHIJKLMNOPQRST", "ABCDEFGHIJKLMNOPQRST"},
	};
	static const char *const bad[] = {
	        "",    "AAPL ", "A/B", "ÄPL", "A,B", "ABCDEFGHIJKLMNOPQRSTU",
	        "a_b", "A\nB",
	};
	char out[PS_SYMBOL_MAX + 1];
	struct ps_err e;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ps_err_clear(&e);
		tap_int(ps_symbol_normalize(good[i][0], out, &e), 0,
		        good[i][0]);
		tap_str(out, good[i][1], "upper-cased");
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ps_err_clear(&e);
		tap_int(ps_symbol_normalize(bad[i], out, &e), -1,
		        "bad symbol refused");
		tap_int(e.code, PS_EINVALID, "with PS_EINVALID");
	}
	ps_symbol_normalize("a/b", out, &e);
	tap_ok(strstr(e.msg, "'a/b'") != NULL, "message names the symbol: %s",
	       e.msg);
	ps_symbol_normalize("A\nB", out, &e);
	tap_ok(strchr(e.msg, '\n') == NULL,
	       "control bytes never reach the message");
	ps_symbol_normalize("ABCDEFGHIJKLMNOPQRSTUVWXYZ", out, &e);
	tap_ok(strstr(e.msg, "longer than 20") != NULL, "too long: %s", e.msg);
}

static void
test_currency(void)
{
	static const char *const good[][2] = {
	        {"usd", "USD"}, {"GBP", "GBP"}, {"GBp", "GBp"}, {"GBX", "GBp"},
	        {"gbx", "GBp"}, {"eur", "EUR"}, {"gbp", "GBP"},
	};
	static const char *const bad[] = {"",    "US",   "USDX",
	                                  "U5D", "GB p", "pence"};
	char out[PS_CCY_MAX];
	struct ps_err e;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		tap_int(ps_currency_normalize(good[i][0], out, &e), 0,
		        good[i][0]);
		tap_str(out, good[i][1], "normalised");
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ps_err_clear(&e);
		tap_int(ps_currency_normalize(bad[i], out, &e), -1, bad[i]);
		tap_int(e.code, PS_EINVALID, "with PS_EINVALID");
	}
	ps_currency_normalize("USDX", out, &e);
	tap_ok(strstr(e.msg, "'USDX'") != NULL, "message names it: %s", e.msg);

	tap_str(ps_currency_infer("VOD.L"), "GBp", ".L is pence");
	tap_str(ps_currency_infer("AAPL"), "USD", "no suffix is USD");
	tap_str(ps_currency_infer("^GSPC"), "USD", "index without suffix");
	tap_str(ps_currency_infer("SAP.DE"), "", "other suffix unknown");
	tap_str(ps_currency_infer("BRK.B"), "", "share class: unknown");
	tap_str(ps_currency_infer("L"), "USD", "plain L");
	tap_str(ps_currency_infer(".L"), "", "bare .L is not a listing");
}

static void
test_suffix(void)
{
	tap_int(ps_symbol_has_suffix("VOD.L"), 1, "VOD.L has a suffix");
	tap_int(ps_symbol_has_suffix("SAP.DE"), 1, "SAP.DE has a suffix");
	tap_int(ps_symbol_has_suffix("BRK.B"), 1,
	        "BRK.B counts (documented choice)");
	tap_int(ps_symbol_has_suffix("AAPL"), 0, "AAPL has none");
	tap_int(ps_symbol_has_suffix("7203.T"), 1, "7203.T has one");
	tap_int(ps_symbol_has_suffix("A.12"), 0, "digits are not a suffix");
	tap_int(ps_symbol_has_suffix("ABC."), 0, "a trailing dot is not");
	tap_int(ps_symbol_has_suffix(".L"), 0, "nothing before the dot");
	tap_int(ps_symbol_has_suffix("X.ABCDE"), 0, "five letters is not");
}

static void
test_gbp(void)
{
	tap_dbl(ps_price_gbp(189.3, "USD", 0.8, 2.0), 189.3 * 0.8, "USD");
	tap_dbl(ps_price_gbp(250, "GBp", 0.8, 2.0), 2.5, "GBp");
	tap_dbl(ps_price_gbp(12.5, "GBP", 0.8, 2.0), 12.5, "GBP");
	tap_dbl(ps_price_gbp(100, "EUR", 0.8, 0.85), 85, "EUR via its rate");
	tap_ok(isnan(ps_price_gbp(100, "", 0.8, 0.85)), "unknown ccy is NaN");
	tap_ok(isnan(ps_price_gbp(100, "USD", NAN, 0.85)), "no rate is NaN");
	tap_ok(isnan(ps_price_gbp(100, "EUR", 0.8, NAN)),
	       "no other rate is NaN");
	tap_ok(isnan(ps_price_gbp(NAN, "GBP", 0.8, 1)), "no price is NaN");
	tap_ok(isnan(ps_price_gbp(1, NULL, 0.8, 1)), "NULL ccy is NaN");
}

int
main(void)
{
	test_normalize();
	test_currency();
	test_suffix();
	test_gbp();
	return tap_done();
}
