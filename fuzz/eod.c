/*
 * eod: ps_eod_parse on an end-of-day history body (stable's flat array or
 * v3's {symbol, historical}). Checks: rows are oldest first, one per date
 * (strictly increasing days, each 00:00:00Z), every close finite and
 * positive, no rows means a NULL array; a refusal carries a message.
 */
#include <math.h>

#include "eod.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ps_eod_row *rows = NULL;
	struct ps_err err;
	size_t n = 0, i;

	ps_err_clear(&err);
	if (ps_eod_parse((const char *)data, size, &rows, &n, &err) < 0) {
		fuzz_check_err(&err);
		FUZZ_CHECK(rows == NULL && n == 0);
		return 0;
	}
	FUZZ_CHECK((n == 0) == (rows == NULL));
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(isfinite(rows[i].close) && rows[i].close > 0);
		FUZZ_CHECK(rows[i].day % 86400 == 0);
		FUZZ_CHECK(i == 0 || rows[i].day > rows[i - 1].day);
	}
	free(rows);
	return 0;
}
