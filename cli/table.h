/*
 * table: the aligned table of `pricesync list`, drawn from the JSON of
 * ps_view_prices (so the table and `list --json` can never value a
 * holding differently). Every string is shown escaped: printable UTF-8 as
 * it is, a control character or a byte that is not UTF-8 as \xNN or
 * \uNNNN, so nothing stored can drive the terminal. Widths count
 * characters, not bytes.
 */
#ifndef PS_TABLE_H
#define PS_TABLE_H

#include <stdio.h>

/* Writes the table of the prices document json to out. 0, or -1 when json
 * is not such a document. */
int table_print(FILE *out, const char *json);

/* Writes s escaped, cut to at most max characters (max < 0: never cut) and
 * padded with spaces to width (left-aligned). */
void table_cell(FILE *out, const char *s, int width, int max);

/* Writes all of s escaped as in a cell: for messages, whose values are
 * quoted where they are made, so that nothing can drive the terminal even
 * where one was not. */
void table_text(FILE *out, const char *s);

#endif
