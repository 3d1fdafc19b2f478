/*
 * fmp-profile: ps_fmp_parse_profile on a profile body. Checks: a currency
 * found is one that ps_currency_normalize accepts as it is (so it can be
 * stored and printed as a code, never as upstream bytes).
 */
#include "fmp.h"
#include "fuzz.h"
#include "symbol.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ccy[PS_CCY_MAX], again[PS_CCY_MAX];
	struct ps_err err;

	memset(ccy, 'x', sizeof(ccy));
	ps_err_clear(&err);
	if (ps_fmp_parse_profile((const char *)data, size, ccy, &err) < 0) {
		fuzz_check_err(&err);
		return 0;
	}
	FUZZ_CHECK(memchr(ccy, '\0', sizeof(ccy)) != NULL);
	FUZZ_CHECK(fuzz_printable(ccy) && ccy[0] != '\0');
	FUZZ_CHECK(ps_currency_normalize(ccy, again, &err) == 0);
	FUZZ_CHECK(strcmp(ccy, again) == 0);
	return 0;
}
