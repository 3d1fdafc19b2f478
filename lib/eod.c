/*
 * eod: see eod.h. The body is read with cJSON in one pass; rows are then
 * sorted by date, so the order FMP sends (newest first, by every capture)
 * is never relied on. Limits: a body cJSON cannot hold in memory is an
 * error; dates outside years 1..9999 are skipped.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "eod.h"
#include "fmp.h"
#include "isotime.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), valid for every year pricesync can meet. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
ps_eod_date(const char *s, int64_t *day)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
	                                 31, 31, 30, 31, 30, 31};
	int64_t y;
	unsigned m, d, i;

	for (i = 0; i < 10; i++) {
		if (i == 4 || i == 7) {
			if (s[i] != '-')
				return -1;
		} else if (!isdigit((unsigned char)s[i])) {
			return -1;
		}
	}
	if (s[10] != '\0')
		return -1;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
	d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
	if (y < 1 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1] + (m == 2 && leap(y)))
		return -1;
	*day = days_from_civil(y, m, d) * PS_DAY;
	return 0;
}

int64_t
ps_eod_day_of(int64_t t)
{
	int64_t q = t / PS_DAY;

	if (t % PS_DAY < 0)
		q--;
	return q * PS_DAY;
}

/* ---- the URL ---- */

char *
ps_eod_url(const struct ps_conf *c, const char *symbol, int64_t from,
           int64_t to)
{
	char f[PS_ISOTIME_LEN], t[PS_ISOTIME_LEN], tail[80];
	int v3 = c->fmp_api == PS_API_V3;

	ps_isotime_fmt(from, f);
	ps_isotime_fmt(to, t);
	f[10] = t[10] = '\0';
	snprintf(tail, sizeof(tail), "%sfrom=%s&to=%s%s", v3 ? "?" : "&", f, t,
	         v3 ? "&serietype=line" : "");
	return ps_fmp_url(c,
	                  v3 ? "/api/v3/historical-price-full/"
	                     : "/stable/historical-price-eod/light?symbol=",
	                  symbol, tail);
}

/* ---- the body ---- */

/* The close of a row: `price` (stable light), else `close` (stable full,
 * v3); never adjClose, which means different things per path. */
static double
row_close(const cJSON *row)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(row, "price");
	double d = ps_fmp_num(p);

	if (isnan(d))
		d = ps_fmp_num(cJSON_GetObjectItemCaseSensitive(row, "close"));
	return d > 0 ? d : NAN;
}

/* A row as read, with its place in the body, so doubled dates resolve the
 * same way whatever qsort does with ties. */
struct seen {
	struct ps_eod_row r;
	size_t idx;
};

static int
cmp_seen(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;

	if (x->r.day != y->r.day)
		return (x->r.day > y->r.day) - (x->r.day < y->r.day);
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Sorts by date and keeps, of a doubled date, the row that came first in
 * the body (FMP's newest-first order puts the freshest answer there). */
static size_t
sort_dedupe(struct seen *in, size_t n, struct ps_eod_row *out)
{
	size_t i, cnt = 0;

	qsort(in, n, sizeof(*in), cmp_seen);
	for (i = 0; i < n; i++)
		if (cnt == 0 || out[cnt - 1].day != in[i].r.day)
			out[cnt++] = in[i].r;
	return cnt;
}

static const cJSON *
rows_of(const cJSON *root)
{
	if (cJSON_IsArray(root))
		return root;
	if (cJSON_IsObject(root)) {
		const cJSON *h =
		        cJSON_GetObjectItemCaseSensitive(root, "historical");

		/* v3 answers {} for an unknown symbol; an answer naming the
		 * symbol but no rows is as empty. Any other object (an error
		 * message that slipped through) is not a history. */
		if ((h == NULL || cJSON_IsNull(h)) &&
		    (root->child == NULL ||
		     cJSON_GetObjectItemCaseSensitive(root, "symbol")))
			return NULL;
		if (cJSON_IsArray(h))
			return h;
	}
	return (const cJSON *)root; /* neither shape: the caller refuses it */
}

int
ps_eod_parse(const char *body, size_t len, struct ps_eod_row **rows, size_t *n,
             struct ps_err *err)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *arr, *row;
	struct seen *seen = NULL;
	struct ps_eod_row *out = NULL;
	size_t cnt = 0, cap, idx = 0;

	*rows = NULL;
	*n = 0;
	if (root == NULL)
		return ps_err_set(err, PS_EUPSTREAM, "malformed JSON from FMP");
	arr = rows_of(root);
	if (arr == NULL) {
		cJSON_Delete(root);
		return 0;
	}
	if (!cJSON_IsArray(arr)) {
		cJSON_Delete(root);
		return ps_err_set(err, PS_EUPSTREAM,
		                  "malformed JSON from FMP: not a history "
		                  "answer");
	}
	cap = (size_t)cJSON_GetArraySize(arr);
	if (cap > 0) {
		seen = malloc(cap * sizeof(*seen));
		out = malloc(cap * sizeof(*out));
		if (seen == NULL || out == NULL) {
			free(seen);
			free(out);
			cJSON_Delete(root);
			return ps_err_set(err, PS_ENOMEM, "out of memory");
		}
	}
	cJSON_ArrayForEach(row, arr)
	{
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(row, "date");
		struct seen sn;

		sn.idx = idx++;
		if (!cJSON_IsString(d) || d->valuestring == NULL ||
		    ps_eod_date(d->valuestring, &sn.r.day) < 0)
			continue;
		sn.r.close = row_close(row);
		if (isnan(sn.r.close) || cnt == cap)
			continue;
		seen[cnt++] = sn;
	}
	cJSON_Delete(root);
	if (cnt > 0)
		cnt = sort_dedupe(seen, cnt, out);
	free(seen);
	if (cnt == 0) {
		free(out);
		return 0;
	}
	*rows = out;
	*n = cnt;
	return 0;
}
