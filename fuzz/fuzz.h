/*
 * fuzz: what the libFuzzer targets share. A target is one file,
 * fuzz/NAME.c, defining LLVMFuzzerTestOneInput; it feeds the bytes to one
 * parser of outside input and checks the promises of that parser's header
 * beyond "does not crash" (ASan and UBSan see to that). A broken promise
 * aborts with FUZZ_CHECK, which libFuzzer reports as a crash and saves.
 */
#ifndef PS_FUZZ_H
#define PS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: broken promise: %s\n",         \
			        __FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* A malloc'd NUL-terminated copy of the input (parsers of C strings see
 * what a NUL in the input would leave them), or NULL when out of memory. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s != NULL) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* 1 when s holds no control byte: what ps_err_quote promises of every
 * outside value put in a message (so a message cannot drive a terminal). */
static inline int
fuzz_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

/* An error a parser returned: a code, and a message a user can read. */
static inline void
fuzz_check_err(const struct ps_err *err)
{
	FUZZ_CHECK(err->code != PS_OK);
	FUZZ_CHECK(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
	FUZZ_CHECK(err->msg[0] != '\0');
	FUZZ_CHECK(fuzz_printable(err->msg));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
