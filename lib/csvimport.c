/*
 * csvimport: `pricesync import` lines into symbol records. Each line is
 * copied into a NUL-terminated scratch buffer before it is split, so the
 * field helpers can use string functions; a NUL inside a line would make
 * them stop early, so such a line is refused instead of cut. Limits: no
 * quoting (no field may hold a comma: none of the three needs one).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csvimport.h"

#define MAX_FIELDS 3

int
ps_quantity_parse(const char *s, double *q, struct ps_err *err)
{
	char shown[PS_QUOTE_SIZE], *end;

	/* strtod alone would also take "0x1p3", "inf" and leading blanks. */
	errno = 0;
	if (*s != '\0' && strspn(s, "0123456789.eE+-") == strlen(s)) {
		*q = strtod(s, &end);
		if (errno == 0 && end != s && *end == '\0' && isfinite(*q) &&
		    *q >= 0)
			return 0;
	}
	return ps_err_set(err, PS_EINVALID,
	                  "bad quantity '%s': expected a number >= 0",
	                  ps_err_quote(s, shown));
}

static int
blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static char *
trim(char *s)
{
	char *e;

	while (blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && blank(e[-1]))
		*--e = '\0';
	return s;
}

/* Splits line at commas into at most MAX_FIELDS trimmed fields. */
static int
split(char *line, char *field[MAX_FIELDS], int *nf, struct ps_err *err)
{
	char *p = line, *comma;

	for (*nf = 0;; p = comma + 1) {
		if (*nf == MAX_FIELDS)
			return ps_err_set(err, PS_EINVALID,
			                  "too many fields (want "
			                  "symbol[,quantity[,currency]])");
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		field[(*nf)++] = trim(p);
		if (comma == NULL)
			return 0;
	}
}

static int
parse_line(char *line, struct ps_symrec *rec, struct ps_err *err)
{
	char *field[MAX_FIELDS], sym[PS_SYMBOL_MAX + 1], ccy[PS_CCY_MAX];
	int nf;

	if (split(line, field, &nf, err) < 0 ||
	    ps_symbol_normalize(field[0], sym, err) < 0)
		return -1;
	ps_symrec_init(rec, sym);
	if (nf > 1 && field[1][0] != '\0' &&
	    ps_quantity_parse(field[1], &rec->quantity, err) < 0)
		return -1;
	if (nf > 2 && field[2][0] != '\0') {
		if (ps_currency_normalize(field[2], ccy, err) < 0)
			return -1;
		memcpy(rec->currency, ccy, sizeof(ccy));
		rec->currency_src = PS_CCY_USER;
	}
	return 0;
}

static int
is_header(const char *s)
{
	return strncasecmp(s, "symbol", 6) == 0 &&
	       (s[6] == '\0' || s[6] == ',' || blank(s[6]));
}

/* The prefix of a message about line N: "NAME:" or "line ". */
static const char *
where_of(const char *name, char out[PS_QUOTE_SIZE + 8])
{
	char q[PS_QUOTE_SIZE];

	if (name == NULL)
		return "line ";
	snprintf(out, PS_QUOTE_SIZE + 8, "%s:", ps_err_quote(name, q));
	return out;
}

/* Grows the record array to hold one more. */
static int
recs_grow(struct ps_symrec **recs, size_t n, size_t *cap, struct ps_err *err)
{
	size_t nc;
	void *p;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 64;
	if (nc > SIZE_MAX / sizeof(**recs) ||
	    (p = realloc(*recs, nc * sizeof(**recs))) == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	*recs = p;
	*cap = nc;
	return 0;
}

int
ps_csvimport_parse(const void *data, size_t len, const char *name,
                   struct ps_symrec **recs, size_t *n, struct ps_err *err)
{
	const char *p = data, *end = p + len, *eol;
	char *line = NULL, *s;
	size_t cap = 0, lineno = 0, ll;
	int seen = 0;
	struct ps_err why;
	char where[PS_QUOTE_SIZE + 8];

	*recs = NULL;
	*n = 0;
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	/* One scratch line as long as the longest line: at most len + 1. */
	if ((line = malloc(len + 1)) == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	for (; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		ll = (size_t)(eol - p);
		lineno++;
		if (memchr(p, '\0', ll) != NULL) {
			ps_err_set(err, PS_EINVALID,
			           "%s%zu: holds a NUL byte (not a text file?)",
			           where_of(name, where), lineno);
			goto free_recs;
		}
		memcpy(line, p, ll);
		line[ll] = '\0';
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (!seen++ && is_header(s))
			continue;
		if (recs_grow(recs, *n, &cap, err) < 0)
			goto free_recs;
		if (parse_line(s, &(*recs)[*n], &why) < 0) {
			ps_err_set(err, why.code, "%s%zu: %s",
			           where_of(name, where), lineno, why.msg);
			goto free_recs;
		}
		(*n)++;
	}
	free(line);
	if (*n == 0) {
		free(*recs);
		*recs = NULL;
	}
	return 0;
free_recs:
	free(line);
	free(*recs);
	*recs = NULL;
	*n = 0;
	return -1;
}
