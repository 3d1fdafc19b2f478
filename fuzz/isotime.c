/*
 * isotime: ps_isotime_parse on a string. Checks the round trip: a time
 * parsed is in the format's range, prints as the same instant, and the
 * printed form parses back to it (what the history routes rely on when they
 * echo a `from` or `to`).
 */
#include "fuzz.h"
#include "isotime.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[PS_ISOTIME_LEN];
	int64_t t, back;
	char *s = fuzz_cstr(data, size);

	if (s == NULL)
		return 0;
	if (ps_isotime_parse(s, &t) == 0) {
		FUZZ_CHECK(t >= INT64_C(-62167219200) &&
		           t <= INT64_C(253402300799));
		ps_isotime_fmt(t, out);
		FUZZ_CHECK(strlen(out) == PS_ISOTIME_LEN - 1);
		/* The same date and time of day as the input said. */
		FUZZ_CHECK(memcmp(out, s, 10) == 0);
		if (strlen(s) > 10)
			FUZZ_CHECK(memcmp(out + 11, s + 11, 8) == 0);
		else
			FUZZ_CHECK(strcmp(out + 10, "T00:00:00Z") == 0);
		FUZZ_CHECK(ps_isotime_parse(out, &back) == 0 && back == t);
	}
	free(s);
	return 0;
}
