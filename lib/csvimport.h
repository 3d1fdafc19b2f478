/*
 * csvimport: the file of `pricesync import` (SPEC §6), one
 * symbol[,quantity[,currency]] a line, parsed from bytes in memory. No I/O:
 * the caller reads the file, so the parser can be fuzzed and tested alone.
 */
#ifndef PS_CSVIMPORT_H
#define PS_CSVIMPORT_H

#include <stddef.h>

#include "err.h"
#include "quote.h"

/*
 * Parses len bytes of data (not NUL-terminated; any byte may appear). Lines
 * end with LF, CRLF or the end of data; a UTF-8 byte order mark at the
 * start is skipped (spreadsheets save one); blank lines and lines starting
 * with '#' are skipped, and so is a first line "symbol[,...]" (the header).
 * Every record is validated (symbol, quantity >= 0, currency) and
 * initialised with ps_symrec_init.
 *
 * On success returns 0, *recs is a malloc'd array of *n records in file
 * order (the caller frees it with free(); NULL when *n is 0). On the first
 * bad line (a NUL byte in it, too many fields, a bad field) returns -1 with
 * PS_EINVALID and a message "NAME:N: why" (name, which may be NULL, is
 * only for the message: "line N: why" without it), and *recs is NULL, *n
 * 0; out of memory is PS_ENOMEM.
 */
int ps_csvimport_parse(const void *data, size_t len, const char *name,
                       struct ps_symrec **recs, size_t *n, struct ps_err *err);

/* A holding size, as in `--quantity` and an import line's second field: a
 * finite decimal number >= 0, the whole string. 0, or -1 with PS_EINVALID
 * naming the value (quoted). */
int ps_quantity_parse(const char *s, double *q, struct ps_err *err);

#endif
