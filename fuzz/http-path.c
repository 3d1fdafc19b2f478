/*
 * http-path: http_path_parse on what a web server passes: the input's
 * NUL-separated parts are REQUEST_URI, SCRIPT_NAME and PATH_INFO (a missing
 * part is NULL; an empty first part makes the parser use the other two).
 * Checks: at most HTTP_MAX_SEGS segments, none empty; the path ends with its
 * own last segments and with "*" patterns, never with more segments than it
 * has; a refusal is a bad request (or out of memory) with the path empty;
 * freeing is safe twice.
 */
#include "fuzz.h"
#include "http.h"

/* The i-th NUL-separated part of the input, or NULL. */
static const char *
part(const char *s, size_t size, int i)
{
	const char *p = s, *end = s + size;

	while (i-- > 0) {
		p += strlen(p) + 1;
		if (p > end)
			return NULL;
	}
	return p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *pat[HTTP_MAX_SEGS + 1], *star[HTTP_MAX_SEGS];
	struct http_path p = {0};
	struct ps_err err;
	char *s = fuzz_cstr(data, size);
	int i, k;

	if (s == NULL)
		return 0;
	ps_err_clear(&err);
	if (http_path_parse(&p, part(s, size, 0), part(s, size, 1),
	                    part(s, size, 2), &err) < 0) {
		fuzz_check_err(&err);
		FUZZ_CHECK(err.code == PS_EBAD_REQUEST ||
		           err.code == PS_ENOMEM);
		FUZZ_CHECK(p.nsegs == 0);
		goto free_path;
	}
	FUZZ_CHECK(p.nsegs >= 0 && p.nsegs <= HTTP_MAX_SEGS);
	for (i = 0; i < p.nsegs; i++) {
		FUZZ_CHECK(p.segs[i] != NULL && p.segs[i][0] != '\0');
		star[i] = "*";
	}
	for (k = 0; k <= p.nsegs; k++) {
		for (i = 0; i < k; i++)
			pat[i] = p.segs[p.nsegs - k + i];
		FUZZ_CHECK(http_path_ends(&p, pat, k) == 1);
		FUZZ_CHECK(http_path_ends(&p, star, k) == 1);
	}
	pat[0] = "x";
	for (i = 0; i < p.nsegs; i++)
		pat[i + 1] = p.segs[i];
	FUZZ_CHECK(http_path_ends(&p, pat, p.nsegs + 1) == 0);
free_path:
	http_path_free(&p);
	http_path_free(&p);
	FUZZ_CHECK(p.nsegs == 0 && p.buf == NULL);
	free(s);
	return 0;
}
