/*
 * err: the SPEC names of the error codes and the one way to fill a
 * struct ps_err. Messages are formatted into the struct's fixed buffer and
 * truncated there, so reporting an error can never fail or allocate.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

/* Indexed by enum ps_code; these strings are the wire names of SPEC §4/§5. */
static const char *const code_names[] = {
        [PS_OK] = "ok",
        [PS_ECONFIG] = "config",
        [PS_ESTORE] = "store",
        [PS_EUPSTREAM_AUTH] = "upstream_auth",
        [PS_EUPSTREAM_QUOTA] = "upstream_quota",
        [PS_EUPSTREAM_PLAN] = "upstream_plan",
        [PS_EUPSTREAM_UNAVAILABLE] = "upstream_unavailable",
        [PS_EUPSTREAM] = "upstream",
        [PS_ESYNC_IN_PROGRESS] = "sync_in_progress",
        [PS_ECOOLDOWN] = "cooldown",
        [PS_EBAD_REQUEST] = "bad_request",
        [PS_ENOT_FOUND] = "not_found",
        [PS_EMETHOD] = "method_not_allowed",
        [PS_EFORBIDDEN_ORIGIN] = "forbidden_origin",
        [PS_EINVALID] = "invalid",
        [PS_ENOMEM] = "out_of_memory",
        [PS_EINTERNAL] = "internal",
};

const char *
ps_code_name(enum ps_code code)
{
	size_t i = (size_t)code;

	/* An out-of-range value is a bug somewhere; still name it safely. */
	if (i >= sizeof(code_names) / sizeof(code_names[0]) ||
	    code_names[i] == NULL)
		return "internal";
	return code_names[i];
}

int
ps_err_set(struct ps_err *err, enum ps_code code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->code = code;
	err->retry_after = 0;
	va_start(ap, fmt);
	/* vsnprintf truncates and always NUL-terminates a non-empty buffer. */
	if (vsnprintf(err->msg, sizeof(err->msg), fmt, ap) < 0)
		err->msg[0] = '\0';
	va_end(ap);
	return -1;
}

void
ps_err_clear(struct ps_err *err)
{
	if (err == NULL)
		return;
	err->code = PS_OK;
	err->retry_after = 0;
	err->msg[0] = '\0';
}

const char *
ps_err_quote(const char *s, char out[PS_QUOTE_SIZE])
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < PS_QUOTE_MAX; i++)
		out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}
