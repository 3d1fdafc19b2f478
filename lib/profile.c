/*
 * profile: `pricesync add --refresh-profile`, each symbol's listing
 * currency read from its FMP profile now (SPEC §8), one request per
 * symbol through the daily budget, stored unless the user set one. The
 * first failure stops the run and names its symbol.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "budget.h"
#include "fetch.h"
#include "fmp.h"
#include "profile.h"

/* What FMP's answers mean, for the fetch engine. */
static const struct ps_fetch_judge fmp_judge = PS_FMP_JUDGE;

struct profiles {
	struct ps_store *s;
	const char *const *symbols;
	int failed;
	struct ps_err err;
};

static int
set_currency(struct ps_store *s, const char *sym, const char *ccy,
             struct ps_err *err)
{
	struct ps_txn *t;

	if (ps_txn_begin(s, 1, &t, err) < 0)
		return -1;
	if (ps_store_sym_set_currency(t, sym, ccy, err) < 0) {
		ps_txn_abort(&t);
		return -1;
	}
	return ps_txn_commit(&t, err);
}

static int
on_profile_only(const struct ps_fetch_res *res, void *arg)
{
	struct profiles *p = arg;
	const char *sym = p->symbols[(size_t)(uintptr_t)res->user];
	char ccy[PS_CCY_MAX];
	struct ps_err err;

	if (p->failed)
		return 1;
	if (res->verdict != PS_FMP_OK) {
		ps_err_set(&p->err, PS_EUPSTREAM, "profile of %s: %s", sym,
		           res->error);
		p->failed = 1;
	} else if (ps_fmp_parse_profile(res->body, res->len, ccy, &err) < 0) {
		ps_err_set(&p->err, err.code, "profile of %s: %s", sym,
		           err.msg);
		p->failed = 1;
	} else if (set_currency(p->s, sym, ccy, &p->err) < 0) {
		p->failed = 1;
	}
	return p->failed;
}

int
ps_profile_refresh(const struct ps_conf *c, struct ps_store *s,
                   const char *const *symbols, size_t n, struct ps_err *err)
{
	struct profiles p = {.s = s, .symbols = symbols};
	struct ps_budget budget;
	struct ps_fetch *f;
	size_t i;
	int rc = -1;

	if (ps_conf_check_key(c, err) < 0)
		return -1;
	ps_budget_init(&budget, s, c->daily_request_limit);
	if (ps_budget_afford(&budget, time(NULL), "reading these profiles",
	                     (long)n, err) < 0)
		return -1;
	f = ps_fetch_new(c, &fmp_judge, err);
	if (f == NULL)
		return -1;
	ps_fetch_set_budget(f, &budget);
	for (i = 0; i < n; i++) {
		char *url = ps_fmp_url_profile(c, symbols[i]);
		int added =
		        url ? ps_fetch_add(f, url, (void *)(uintptr_t)i, err)
		            : ps_err_set(err, PS_ENOMEM, "out of memory");

		free(url);
		if (added < 0)
			goto free_fetch;
	}
	if (ps_fetch_run(f, on_profile_only, &p, err) < 0)
		goto flush_budget;
	if (p.failed) {
		*err = p.err;
		goto flush_budget;
	}
	rc = 0;
flush_budget:
	/* What was sent counts, whatever became of it. */
	ps_budget_flush(&budget, time(NULL), NULL);
free_fetch:
	ps_fetch_free(f);
	return rc;
}
