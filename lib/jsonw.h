/*
 * jsonw: JSON values appended to a ps_buf as text, byte for byte as
 * cJSON 1.7's cJSON_PrintUnformatted prints the same values, so a
 * document written row by row (lib/view.c) reads exactly as one printed
 * from a cJSON tree did: the same escapes, the same numbers. Keys and
 * punctuation are the caller's (ps_buf_append of literals).
 *
 * Each function returns 0, or -1 when out of memory (the buffer then
 * holds part of the value: the caller drops the document).
 */
#ifndef PS_JSONW_H
#define PS_JSONW_H

#include "buf.h"

/* s quoted: ", \ and \b \f \n \r \t escaped, other bytes below 0x20 as
 * \u00XX, everything else (UTF-8 included) as it is. */
int ps_jw_str(struct ps_buf *b, const char *s);
/* ps_jw_str, or null when s is NULL or "" (a field never known). */
int ps_jw_str_or_null(struct ps_buf *b, const char *s);
/* d as cJSON prints a number: null for NaN and infinities, else %.15g
 * when that reads back as d (within DBL_EPSILON, as cJSON compares), else
 * %.17g. */
int ps_jw_num(struct ps_buf *b, double d);

#endif
