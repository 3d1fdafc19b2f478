/*
 * http-origin: http_origin_ok on an Origin and a Host (the input's two
 * NUL-separated parts). Checks: a yes or a no; no Origin is always allowed;
 * an Origin without a Host is never; "null" never is.
 */
#include "fuzz.h"
#include "http.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	const char *origin, *host;
	size_t olen;
	int ok;

	if (s == NULL)
		return 0;
	olen = strlen(s);
	origin = s;
	host = olen < size ? s + olen + 1 : NULL;
	ok = http_origin_ok(origin, host);
	FUZZ_CHECK(ok == 0 || ok == 1);
	FUZZ_CHECK(http_origin_ok(NULL, host) == 1);
	if (origin[0] != '\0')
		FUZZ_CHECK(http_origin_ok(origin, NULL) == 0);
	FUZZ_CHECK(http_origin_ok("null", host) == 0);
	if (host != NULL)
		FUZZ_CHECK(http_origin_ok(host, host) == 0 ||
		           http_origin_ok(host, host) == 1);
	free(s);
	return 0;
}
