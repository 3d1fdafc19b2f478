/*
 * http-etag: If-None-Match and the cached answer. The input is the
 * If-None-Match value and also the body whose ETag is compared. Checks: an
 * ETag is 18 characters between quotes; it matches itself, its weak form,
 * "*", and any list that names it first; the cached answer is 304 exactly
 * when the header names the body's ETag, and carries that ETag either way.
 */
#include "buf.h"
#include "fuzz.h"
#include "http.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char etag[HTTP_ETAG_LEN], *inm = fuzz_cstr(data, size), *list;
	struct ps_buf h = {0};
	size_t n;
	int m, status = 0;

	if (inm == NULL)
		return 0;
	http_etag((const char *)data, size, etag);
	FUZZ_CHECK(strlen(etag) == HTTP_ETAG_LEN - 1);
	FUZZ_CHECK(etag[0] == '"' && etag[HTTP_ETAG_LEN - 2] == '"');
	FUZZ_CHECK(http_etag_matches(etag, etag) == 1);
	FUZZ_CHECK(http_etag_matches("*", etag) == 1);
	FUZZ_CHECK(http_etag_matches(NULL, etag) == 0);
	m = http_etag_matches(inm, etag);
	FUZZ_CHECK(m == 0 || m == 1);

	n = strlen(inm);
	list = malloc(n + HTTP_ETAG_LEN + 8);
	if (list != NULL) {
		snprintf(list, n + HTTP_ETAG_LEN + 8, "W/%s, %s", etag, inm);
		FUZZ_CHECK(http_etag_matches(list, etag) == 1);
		free(list);
	}
	if (http_cached_answer((const char *)data, size, inm, &status, &h) ==
	    0) {
		FUZZ_CHECK(status == (m ? 304 : 200));
		FUZZ_CHECK(h.data != NULL && strstr(h.data, etag) != NULL);
	}
	ps_buf_free(&h);
	free(inm);
	return 0;
}
