/*
 * histargs: the history reads' arguments as sync-status gets them. The
 * input is a query string; from, to, limit and interval are looked up in
 * it as the program does (a value that cannot be read is NULL) and set,
 * then from and to again as the portfolio's dates; the whole input is
 * also tried as backfill's days. Checks histargs.h's promises: a value
 * taken is in its rule's range, a refused one leaves the struct as it
 * was with PS_EINVALID and a printable message, and the checks pass only
 * on ranges that keep the rules.
 */
#include "fuzz.h"
#include "histargs.h"
#include "http.h"

static const struct {
	const char *name;
	enum ps_histarg which;
} args[] = {{"from", PS_HIST_FROM},
            {"to", PS_HIST_TO},
            {"limit", PS_HIST_LIMIT},
            {"interval", PS_HIST_INTERVAL}};

/* The value of name in q for histargs: 0 absent, else 1 with *value. */
static int
value_of(const char *q, const char *name, char v[64], const char **value)
{
	int rc = http_query_get(q, name, v, 64);

	*value = rc > 0 ? v : NULL;
	return rc != 0;
}

static void
check_refused(int rc, const struct ps_err *err)
{
	if (rc < 0) {
		fuzz_check_err(err);
		FUZZ_CHECK(err->code == PS_EINVALID);
	}
}

static void
history(const char *q)
{
	struct ps_histargs a, was;
	struct ps_err err = {0};
	const char *value;
	char v[64];
	size_t i;
	int rc;

	ps_histargs_init(&a);
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		if (!value_of(q, args[i].name, v, &value))
			continue;
		was = a;
		rc = ps_histargs_set(&a, args[i].which, args[i].name, value,
		                     &err);
		check_refused(rc, &err);
		if (rc < 0)
			FUZZ_CHECK(memcmp(&a, &was, sizeof(a)) == 0);
		FUZZ_CHECK(a.limit >= 1 && a.limit <= PS_HIST_LIMIT_MAX);
		if (rc == 0 && args[i].which == PS_HIST_INTERVAL)
			FUZZ_CHECK(strcmp(value, "day") == 0 && a.daily);
	}
	rc = ps_histargs_check(&a, "from and to", &err);
	check_refused(rc, &err);
	FUZZ_CHECK((rc == 0) == (a.from <= a.to));
}

static void
dates(const char *q)
{
	struct ps_dayrange d, was;
	struct ps_err err = {0};
	const char *value;
	char v[64];
	int i, rc;

	ps_dayrange_init(&d, 1795599000);
	for (i = 0; i < 2; i++) {
		if (!value_of(q, args[i].name, v, &value))
			continue;
		was = d;
		rc = ps_dayrange_set(&d, args[i].which, args[i].name, value,
		                     &err);
		check_refused(rc, &err);
		if (rc < 0)
			FUZZ_CHECK(memcmp(&d, &was, sizeof(d)) == 0);
		else
			FUZZ_CHECK((args[i].which == PS_HIST_FROM ? d.from
			                                          : d.to) %
			                   86400 ==
			           0);
	}
	rc = ps_dayrange_check(&d, "from and to", &err);
	check_refused(rc, &err);
	if (rc == 0)
		FUZZ_CHECK(d.from <= d.to &&
		           (d.to - d.from) / 86400 < PS_HIST_RANGE_MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ps_err err = {0};
	char *s = fuzz_cstr(data, size);
	int days = 0, rc;

	if (s == NULL)
		return 0;
	history(s);
	dates(s);
	rc = ps_histargs_days("--days", s, &days, &err);
	check_refused(rc, &err);
	FUZZ_CHECK(rc < 0 ? days == 0
	                  : days >= 1 && days <= PS_HIST_BACKFILL_MAX);
	free(s);
	return 0;
}
