/*
 * utf8: what text from outside (upstream names, exchanges, messages) may
 * hold before it is stored or shown: valid UTF-8 without control
 * characters. Pure functions on bytes, no allocation.
 */
#ifndef PS_UTF8_H
#define PS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length (1..4) of the valid UTF-8 sequence at s (at most len bytes),
 * with its code point in *cp; 0 when the bytes there are not one (a stray
 * or missing continuation byte, an overlong form, a surrogate, past
 * U+10FFFF). */
size_t ps_utf8_char(const unsigned char *s, size_t len, uint32_t *cp);

/* 1 for a code point that changes how text is shown rather than being
 * shown: C0 controls (ESC, BEL, NUL ...), DEL, C1 controls, the line and
 * paragraph separators, and the bidirectional embeddings, overrides and
 * isolates (U+202A..U+202E, U+2066..U+2069). */
int ps_utf8_is_control(uint32_t cp);

/* Cleans the NUL-terminated s in place: tab, CR and LF become a space,
 * other control characters and bytes that are not valid UTF-8 are dropped.
 * Returns the new length. */
size_t ps_utf8_clean(char *s);

/* Copies the NUL-terminated src into dst[size] (size > 0), cut to fit at a
 * character boundary, so a cut message or name is still valid UTF-8 and
 * still says what it said up to the cut. Returns dst. */
char *ps_utf8_copy(char *dst, size_t size, const char *src);

#endif
