/*
 * http-query: the query string. The input is QUERY_STRING, a NUL, then the
 * name of the parameter looked up ("limit" when there is no NUL); the same
 * query is also tried behind a REQUEST_URI's '?'. Checks http_query_get's
 * contract across buffer sizes: a value found (1) in a roomy buffer is found
 * the same in smaller ones, or "does not fit" (-1), and a bigger buffer
 * never fits less; absent (0) and refused (-1) do not depend on the size;
 * out is untouched when absent. And decoding never lengthens a string.
 */
#include "fuzz.h"
#include "http.h"

#define BIG 8192

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[] = {1, 2, 8, 64};
	static char big[BIG], out[BIG];
	char *s = fuzz_cstr(data, size), *uri;
	const char *name, *q;
	size_t i, qlen, vlen = 0;
	int rc, want, fits = 0;

	if (s == NULL)
		return 0;
	qlen = strlen(s);
	name = qlen < size ? s + qlen + 1 : "limit";
	q = http_query_of(s, NULL);
	FUZZ_CHECK(q != NULL);
	memset(big, 'x', sizeof(big));
	want = http_query_get(q, name, big, sizeof(big));
	FUZZ_CHECK(want >= -1 && want <= 1);
	if (want == 0)
		FUZZ_CHECK(big[0] == 'x');
	if (want == 1) {
		FUZZ_CHECK(memchr(big, '\0', sizeof(big)) != NULL);
		vlen = strlen(big);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(out, 'x', sizes[i]);
		rc = http_query_get(q, name, out, sizes[i]);
		if (want != 1) {
			FUZZ_CHECK(rc == want);
			continue;
		}
		/* Whether "fits" counts the encoded or the decoded bytes is
		 * the parser's choice; a bigger buffer never fits less. */
		FUZZ_CHECK(rc == 1 || (rc == -1 && !fits));
		if (rc == 1) {
			FUZZ_CHECK(vlen < sizes[i] && strcmp(out, big) == 0);
			fits = 1;
		}
	}
	/* The same query behind the '?' of a REQUEST_URI. */
	uri = malloc(qlen + 6);
	if (uri != NULL) {
		memcpy(uri, "/x/y?", 5);
		memcpy(uri + 5, s, qlen + 1);
		q = http_query_of("", uri);
		FUZZ_CHECK(strcmp(q, s) == 0);
		FUZZ_CHECK(http_query_get(q, name, out, sizeof(out)) == want);
		free(uri);
	}
	if (http_pct_decode(s) == 0)
		FUZZ_CHECK(strlen(s) <= qlen);
	free(s);
	return 0;
}
