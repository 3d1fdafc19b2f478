/*
 * fmp-classify: ps_fmp_classify on a body under the statuses FMP answers
 * with, and with `why` buffers from none to roomy (the cut at a character
 * boundary is where an off-by-one would hide). Checks: a known verdict; why
 * is NUL-terminated in its buffer, holds no control byte, and never shows an
 * apikey value an answer may echo back (SPEC §2: the key is never shown).
 */
#include <strings.h>

#include "fmp.h"
#include "fuzz.h"

static const long statuses[] = {200, 401, 402, 403, 404, 429, 500, 503, 0};
static const size_t whylens[] = {0, 1, 2, 3, 8, 40, 200};

/* Every value after "apikey=" is stars up to the delimiters the
 * redaction stops at. */
static int
key_hidden(const char *why)
{
	const char *eq;

	for (eq = strchr(why, '='); eq != NULL; eq = strchr(eq + 1, '=')) {
		const char *v = eq + 1;
		size_t n = strcspn(v, "&# \t\r\n\"'");

		if (eq - why < 6 || strncasecmp(eq - 6, "apikey", 6) != 0)
			continue;
		while (n-- > 0)
			if (*v++ != '*')
				return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t nlens = sizeof(whylens) / sizeof(whylens[0]);
	char why[256];
	size_t i;

	/* Each status with a roomy why and with one small size (a different
	 * one per status): every pair of the two lists would cost 63 parses
	 * an input for little more coverage. */
	for (i = 0; i < 2 * (sizeof(statuses) / sizeof(statuses[0])); i++) {
		long status = statuses[i / 2];
		size_t wl =
		        i % 2 ? whylens[(i / 2 + size) % nlens] : sizeof(why);
		enum ps_fmp_verdict v;

		memset(why, 'x', sizeof(why));
		v = ps_fmp_classify(status, (const char *)data, size,
		                    wl > 0 ? why : NULL, wl);
		FUZZ_CHECK(v >= PS_FMP_OK && v <= PS_FMP_BAD);
		if (status == 401)
			FUZZ_CHECK(v != PS_FMP_OK);
		if (wl == 0)
			continue;
		FUZZ_CHECK(memchr(why, '\0', wl) != NULL);
		FUZZ_CHECK(fuzz_printable(why));
		FUZZ_CHECK(key_hidden(why));
	}
	/* A NULL body is allowed: a transfer that gave none. */
	(void)ps_fmp_classify(200, NULL, 0, why, sizeof(why));
	return 0;
}
