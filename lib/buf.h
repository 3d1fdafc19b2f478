/*
 * buf: a growable byte buffer, always NUL-terminated after len bytes.
 * The struct is owned by the caller (usually on the stack); data is owned by
 * the struct and freed by ps_buf_free. A zeroed struct is an empty buffer.
 */
#ifndef PS_BUF_H
#define PS_BUF_H

#include <stddef.h>

struct ps_buf {
	char *data;
	size_t len;
	size_t cap;
};

/* 0 on success, -1 when out of memory (the buffer is then unchanged). */
int ps_buf_append(struct ps_buf *b, const void *p, size_t n);
int ps_buf_puts(struct ps_buf *b, const char *s);
int ps_buf_printf(struct ps_buf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Empties the buffer, keeping its memory. */
void ps_buf_reset(struct ps_buf *b);
/* Frees data and zeroes the struct; safe twice. */
void ps_buf_free(struct ps_buf *b);
/* The shortest text that reads back (strtod) as exactly d, as cJSON prints
 * numbers: "457.64", not %.17g's "457.63999999999999". out needs
 * PS_DOUBLE_LEN bytes; returns out. */
#define PS_DOUBLE_LEN 32
char *ps_fmt_double(char *out, double d);

/* Hands data to the caller (who frees it with free()) and zeroes the struct;
 * returns an allocated "" for an empty buffer, or NULL when out of memory. */
char *ps_buf_take(struct ps_buf *b);

#endif
