/*
 * portfolio: see portfolio.h. The holdings' series and the fx series they
 * need are each read once (store: one range scan per series, from the
 * point in force at `from` to the end of `to`), then walked forward
 * together, one cursor per series, so a year of 100 holdings costs
 * 365 x 100 steps plus the points read. Limits: the symbol list is read in
 * memory; at most PF_MAX_PAIRS distinct currencies other than GBP/GBp.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eod.h"
#include "portfolio.h"
#include "symbol.h"

#define PF_MAX_PAIRS 32

struct holding {
	const struct ps_symrec *rec;
	int pair;  /* index into pairs, -1 for GBP/GBp/unknown */
	size_t at; /* cursor into its price series */
};

struct pf {
	struct ps_symrec *recs;
	size_t nrecs;
	struct holding *h;
	size_t nh;
	const char **names; /* holdings' symbols, then reused for missing */
	char pairs[PF_MAX_PAIRS][8];
	const char *pair_names[PF_MAX_PAIRS];
	size_t npairs, pair_at[PF_MAX_PAIRS];
	struct ps_series_pts *px, fx[PF_MAX_PAIRS];
};

/* The pair whose series values ccy in GBP, added if new; -1 when ccy needs
 * none (GBP, GBp) or is unknown, -2 when the table is full. */
static int
pair_of(struct pf *p, const char *ccy)
{
	char pair[8];
	size_t i;

	if (ccy[0] == '\0' || strcmp(ccy, "GBP") == 0 ||
	    strcmp(ccy, "GBp") == 0 || strlen(ccy) != 3)
		return -1;
	snprintf(pair, sizeof(pair), "%sGBP", ccy);
	for (i = 0; i < p->npairs; i++)
		if (strcmp(p->pairs[i], pair) == 0)
			return (int)i;
	if (p->npairs == PF_MAX_PAIRS)
		return -2;
	memcpy(p->pairs[p->npairs], pair, sizeof(pair));
	p->pair_names[p->npairs] = p->pairs[p->npairs];
	return (int)p->npairs++;
}

static int
load(struct pf *p, struct ps_txn *t, int64_t from, int64_t end,
     struct ps_err *err)
{
	size_t i;

	if (ps_store_sym_list(t, &p->recs, &p->nrecs, err) < 0)
		return -1;
	p->h = calloc(p->nrecs ? p->nrecs : 1, sizeof(*p->h));
	p->names = calloc(p->nrecs ? p->nrecs : 1, sizeof(*p->names));
	p->px = calloc(p->nrecs ? p->nrecs : 1, sizeof(*p->px));
	if (p->h == NULL || p->names == NULL || p->px == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	for (i = 0; i < p->nrecs; i++) {
		struct holding *h = &p->h[p->nh];

		if (isnan(p->recs[i].quantity))
			continue;
		h->rec = &p->recs[i];
		h->pair = pair_of(p, p->recs[i].currency);
		p->names[p->nh++] = p->recs[i].symbol;
	}
	if (ps_store_series_read(t, PS_SERIES_SYMBOL, p->names, p->nh, from,
	                         end, p->px, err) < 0)
		return -1;
	return ps_store_series_read(t, PS_SERIES_FX, p->pair_names, p->npairs,
	                            from, end, p->fx, err);
}

/* The value of series sp in force at end, moving its cursor forward;
 * NaN when it has no point at or before end. */
static double
value_at(const struct ps_series_pts *sp, size_t *at, int64_t end)
{
	while (*at + 1 < sp->n && sp->pts[*at + 1].time <= end)
		(*at)++;
	if (sp->n == 0 || sp->pts[*at].time > end)
		return NAN;
	return sp->pts[*at].price;
}

static int
one_day(struct pf *p, int64_t day, ps_pf_day_fn fn, void *arg,
        struct ps_err *err)
{
	struct ps_pf_day d = {.day = day, .missing = p->names};
	int64_t end = day + PS_DAY - 1;
	double rates[PF_MAX_PAIRS];
	size_t i;

	for (i = 0; i < p->npairs; i++)
		rates[i] = value_at(&p->fx[i], &p->pair_at[i], end);
	for (i = 0; i < p->nh; i++) {
		struct holding *h = &p->h[i];
		double price = value_at(&p->px[i], &h->at, end);
		double rate = h->pair >= 0 ? rates[h->pair] : NAN;
		double gbp;

		/* ps_price_gbp takes the USD rate and "another" rate apart;
		 * here both come from the holding's own pair. */
		gbp = ps_price_gbp(price, h->rec->currency, rate, rate);
		if (isnan(gbp)) {
			p->names[d.nmissing++] = h->rec->symbol;
			continue;
		}
		d.value_gbp += gbp * h->rec->quantity;
		d.nsymbols++;
	}
	return fn(&d, arg, err) ? -1 : 0;
}

static void
pf_free(struct pf *p)
{
	size_t i;

	for (i = 0; p->px != NULL && i < p->nh; i++)
		free(p->px[i].pts);
	for (i = 0; i < p->npairs; i++)
		free(p->fx[i].pts);
	free(p->px);
	free(p->names);
	free(p->h);
	free(p->recs);
}

int
ps_portfolio_days(struct ps_txn *t, int64_t from, int64_t to, ps_pf_day_fn fn,
                  void *arg, struct ps_err *err)
{
	struct pf p;
	int64_t day;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	if (from > to)
		return ps_err_set(err, PS_EINVALID, "from is after to");
	if (load(&p, t, from, to + PS_DAY - 1, err) < 0)
		goto free_pf;
	for (day = from; day <= to; day += PS_DAY)
		if (one_day(&p, day, fn, arg, err) < 0)
			goto free_pf;
	rc = 0;
free_pf:
	pf_free(&p);
	return rc;
}
