/*
 * csvimport: ps_csvimport_parse on an import file, with and without a name
 * for messages. Checks, when it is taken: every record is a valid symbol, a
 * quantity that is unset or finite and >= 0, a valid currency or none, and
 * there are no more records than lines; when it is refused: nothing is
 * returned, and the message names the file (or "line N") and shows no raw
 * byte of the input.
 */
#include <math.h>

#include "csvimport.h"
#include "fuzz.h"
#include "symbol.h"

static void
check_recs(const struct ps_symrec *recs, size_t n, const uint8_t *data,
           size_t size)
{
	size_t i, lines = 1;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	FUZZ_CHECK(n <= lines);
	FUZZ_CHECK((n == 0) == (recs == NULL));
	for (i = 0; i < n; i++) {
		const struct ps_symrec *r = &recs[i];
		char again[PS_SYMBOL_MAX + 1], ccy[PS_CCY_MAX];
		struct ps_err err;

		FUZZ_CHECK(ps_symbol_normalize(r->symbol, again, &err) == 0);
		FUZZ_CHECK(strcmp(again, r->symbol) == 0);
		FUZZ_CHECK(isnan(r->quantity) ||
		           (isfinite(r->quantity) && r->quantity >= 0));
		FUZZ_CHECK(memchr(r->currency, '\0', sizeof(r->currency)) !=
		           NULL);
		if (r->currency[0] != '\0' && r->currency_src == PS_CCY_USER) {
			FUZZ_CHECK(ps_currency_normalize(r->currency, ccy,
			                                 &err) == 0);
			FUZZ_CHECK(strcmp(ccy, r->currency) == 0);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"import.csv", NULL};
	size_t k;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		struct ps_symrec *recs = (struct ps_symrec *)&recs;
		struct ps_err err;
		size_t n = 12345;

		ps_err_clear(&err);
		if (ps_csvimport_parse(data, size, names[k], &recs, &n, &err) <
		    0) {
			fuzz_check_err(&err);
			FUZZ_CHECK(err.code == PS_EINVALID ||
			           err.code == PS_ENOMEM);
			FUZZ_CHECK(recs == NULL && n == 0);
			if (err.code == PS_EINVALID)
				FUZZ_CHECK(strncmp(err.msg,
				                   names[k] ? "import.csv:"
				                            : "line ",
				                   names[k] ? 11 : 5) == 0);
			continue;
		}
		check_recs(recs, n, data, size);
		free(recs);
	}
	return 0;
}
