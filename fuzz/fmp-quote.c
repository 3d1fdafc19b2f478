/*
 * fmp-quote: ps_fmp_parse_quotes on a quote body (batch or single, stable or
 * v3), once with no symbols asked and once with a fixed list holding the
 * fixtures' symbols, a duplicate and one never returned. Checks: the count
 * is what the records say, and every record asked is either updated (a
 * usable price, no error) or failed with a message.
 */
#include <math.h>

#include "fmp.h"
#include "fuzz.h"

static const char *const asked[] = {"AAPL",   "MSFT",  "VOD.L",  "AAPL",
                                    "BRK-B",  "^FTSE", "NOSUCH", "GOOGL",
                                    "EURUSD", "A"};
#define NASKED (sizeof(asked) / sizeof(asked[0]))

static void
check_recs(const struct ps_symrec *recs, size_t n, int rc)
{
	size_t i, updated = 0;

	FUZZ_CHECK(rc >= 0 && (size_t)rc <= n);
	for (i = 0; i < n; i++) {
		const struct ps_symrec *r = &recs[i];

		FUZZ_CHECK(memchr(r->name, '\0', sizeof(r->name)) != NULL);
		FUZZ_CHECK(memchr(r->exchange, '\0', sizeof(r->exchange)) !=
		           NULL);
		FUZZ_CHECK(memchr(r->error, '\0', sizeof(r->error)) != NULL);
		FUZZ_CHECK(strcmp(r->symbol, asked[i]) == 0);
		if (r->error[0] != '\0')
			continue;
		updated++;
		FUZZ_CHECK(isfinite(r->price) && r->price > 0);
		FUZZ_CHECK(r->quote_time >= 0);
	}
	FUZZ_CHECK(updated == (size_t)rc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ps_symrec recs[NASKED];
	struct ps_err err;
	size_t i;
	int rc;

	ps_err_clear(&err);
	rc = ps_fmp_parse_quotes((const char *)data, size, NULL, 0, &err);
	if (rc < 0)
		fuzz_check_err(&err);
	else
		FUZZ_CHECK(rc == 0);

	for (i = 0; i < NASKED; i++)
		ps_symrec_init(&recs[i], asked[i]);
	ps_err_clear(&err);
	rc = ps_fmp_parse_quotes((const char *)data, size, recs, NASKED, &err);
	if (rc < 0) {
		fuzz_check_err(&err);
		/* "leaving recs untouched" */
		for (i = 0; i < NASKED; i++)
			FUZZ_CHECK(recs[i].error[0] == '\0' &&
			           isnan(recs[i].price));
		return 0;
	}
	check_recs(recs, NASKED, rc);
	return 0;
}
