/*
 * jscan: a reader of flat JSON without a tree, for the hot paths (the
 * stored records, FMP's quote answers): objects whose values are strings,
 * numbers, null, true or false, and arrays of such objects. It reads what
 * cJSON reads, with the same meaning (numbers as cJSON's strtod reads
 * them, the first of two same-named members is the caller's to prefer),
 * and says "not flat" (NULL) for anything else: nesting, \u escapes,
 * control bytes, a string longer than PS_JSTR_MAX, a number strtod leaves
 * some of. The caller then reads the text with cJSON, so a NULL costs time,
 * never meaning. Text is (p, end): no NUL needed after it.
 */
#ifndef PS_JSCAN_H
#define PS_JSCAN_H

#include <stddef.h>

#define PS_JSTR_MAX 511

/* A value: a string (unescaped), a number, null, or true or false. */
struct ps_jval {
	enum { PS_JV_STR, PS_JV_NUM, PS_JV_NULL, PS_JV_LIT } type;
	char str[PS_JSTR_MAX + 1];
	double num;
};

/* Past the JSON whitespace at p. */
const char *ps_jscan_ws(const char *p, const char *end);

/* Calls member(key, value, arg) for each member of the flat object at p
 * (its '{', after any whitespace), in order. Returns the text after its
 * '}', or NULL when it is not a flat object (member may have been called
 * for the members before the fault). */
const char *ps_jscan_object(const char *p, const char *end,
                            void (*member)(const char *key,
                                           const struct ps_jval *v, void *arg),
                            void *arg);

#endif
