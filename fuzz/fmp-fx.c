/*
 * fmp-fx: ps_fmp_parse_fx on an fx body, as both API generations read it.
 * Checks: a rate found is finite and positive, with the basis the header
 * names; a refusal carries a message.
 */
#include <math.h>

#include "fmp.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ps_api apis[] = {PS_API_STABLE, PS_API_V3};
	size_t i;

	for (i = 0; i < sizeof(apis) / sizeof(apis[0]); i++) {
		const char *basis = NULL;
		double rate = -1;
		struct ps_err err;

		ps_err_clear(&err);
		if (ps_fmp_parse_fx((const char *)data, size, apis[i], &rate,
		                    &basis, &err) < 0) {
			fuzz_check_err(&err);
			continue;
		}
		FUZZ_CHECK(isfinite(rate) && rate > 0);
		FUZZ_CHECK(basis != NULL);
		FUZZ_CHECK(strcmp(basis,
		                  apis[i] == PS_API_V3 ? "bid" : "price") == 0);
	}
	return 0;
}
