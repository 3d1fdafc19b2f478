/*
 * symbol: the shape of a ticker (SPEC §6) and the currency rules of SPEC §3.
 * Pure functions on strings, no I/O. Messages quote what the user typed with
 * control bytes replaced, so a bad argument cannot garble a log line.
 */
#include <ctype.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "symbol.h"

static int
symbol_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '^' || ch == '=' || ch == '-';
}

int
ps_symbol_normalize(const char *in, char out[PS_SYMBOL_MAX + 1],
                    struct ps_err *err)
{
	char shown[PS_QUOTE_SIZE];
	size_t i;

	for (i = 0; in[i] != '\0'; i++) {
		char ch = (char)toupper((unsigned char)in[i]);

		if (i >= PS_SYMBOL_MAX)
			return ps_err_set(err, PS_EINVALID,
			                  "invalid symbol '%s': longer than %d "
			                  "characters",
			                  ps_err_quote(in, shown),
			                  PS_SYMBOL_MAX);
		if (!symbol_char(ch))
			return ps_err_set(err, PS_EINVALID,
			                  "invalid symbol '%s': only letters, "
			                  "digits and . ^ = - are allowed",
			                  ps_err_quote(in, shown));
		out[i] = ch;
	}
	if (i == 0)
		return ps_err_set(err, PS_EINVALID, "invalid symbol '': empty");
	out[i] = '\0';
	return 0;
}

int
ps_currency_normalize(const char *in, char out[PS_CCY_MAX], struct ps_err *err)
{
	char shown[PS_QUOTE_SIZE];
	int i;

	/* Pence are spelt GBp (FMP, LSE) or GBX (ISO-ish, Bloomberg). */
	if (strcmp(in, "GBp") == 0 || strcasecmp(in, "GBX") == 0) {
		memcpy(out, "GBp", 4);
		return 0;
	}
	for (i = 0; i < 3; i++)
		if (!isalpha((unsigned char)in[i]))
			break;
	if (i != 3 || in[3] != '\0')
		return ps_err_set(err, PS_EINVALID,
		                  "invalid currency '%s': expected a 3-letter "
		                  "ISO 4217 code (USD, GBP, EUR...) or GBp",
		                  ps_err_quote(in, shown));
	for (i = 0; i < 3; i++)
		out[i] = (char)toupper((unsigned char)in[i]);
	out[3] = '\0';
	return 0;
}

const char *
ps_currency_infer(const char *symbol)
{
	size_t n = strlen(symbol);

	if (n > 2 && strcmp(symbol + n - 2, ".L") == 0)
		return "GBp";
	if (strchr(symbol, '.') == NULL)
		return "USD";
	return "";
}

/*
 * A '.' then 1 to 4 letters at the end, after at least one character. This
 * deliberately counts share classes like BRK.B as a suffix too: telling them
 * apart from one-letter exchange codes would need a table of exchanges, and
 * the only cost of a wrong guess is one profile request, which answers USD.
 */
int
ps_symbol_has_suffix(const char *symbol)
{
	const char *dot = strrchr(symbol, '.');
	size_t i, n;

	if (dot == NULL || dot == symbol)
		return 0;
	n = strlen(dot + 1);
	if (n < 1 || n > 4)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalpha((unsigned char)dot[1 + i]))
			return 0;
	return 1;
}

double
ps_price_gbp(double price, const char *ccy, double usd_gbp, double other_rate)
{
	/* NaN in price or a rate propagates through the arithmetic. */
	if (ccy == NULL || ccy[0] == '\0')
		return NAN;
	if (strcmp(ccy, "GBP") == 0)
		return price;
	if (strcmp(ccy, "GBp") == 0)
		return price / 100.0;
	if (strcmp(ccy, "USD") == 0)
		return price * usd_gbp;
	return price * other_rate;
}
