/*
 * t-view: the §5 documents built from a real store in a temporary
 * directory: GBP values per currency, holding values and their total,
 * nulls for what was never known, the status before and after a sync, and
 * history's shape and unknown symbol.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store.h"
#include "tap.h"
#include "view.h"

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const cJSON *
row(const cJSON *doc, const char *sym)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "symbols"))
	{
		if (!strcmp(cJSON_GetObjectItem(r, "symbol")->valuestring, sym))
			return r;
	}
	return NULL;
}

static void
add(struct ps_store *s, const char *sym, double qty, const char *ccy)
{
	struct ps_symrec r;
	struct ps_err err;

	ps_symrec_init(&r, sym);
	r.quantity = qty;
	if (ccy != NULL) {
		strcpy(r.currency, ccy);
		r.currency_src = PS_CCY_USER;
	}
	if (ps_store_sym_add(s, &r, 1, &err) < 0)
		tap_diag("add %s: %s", sym, err.msg);
}

static void
quote(struct ps_store *s, const char *sym, double price)
{
	struct ps_symrec r;
	struct ps_err err;

	ps_symrec_init(&r, sym);
	r.price = price;
	r.quote_time = 1762549202;
	if (ps_store_apply_batch(s, &r, 1, 1762550000, &err) < 0)
		tap_diag("apply %s: %s", sym, err.msg);
}

static void
check_prices(struct ps_store *s)
{
	struct ps_err err;
	char *text = ps_view_prices(s, &err);
	cJSON *doc = text ? cJSON_Parse(text) : NULL;
	const cJSON *r;

	tap_ok(doc != NULL, "prices is JSON");
	if (doc == NULL)
		return;
	tap_dbl(num(cJSON_GetObjectItem(doc, "fx"), "rate"), 0.8, "fx.rate");
	r = row(doc, "AAPL");
	tap_dbl(num(r, "price_gbp"), 200 * 0.8, "USD x rate");
	tap_dbl(num(r, "value_gbp"), 200 * 0.8 * 10, "value = gbp x qty");
	r = row(doc, "VOD.L");
	tap_dbl(num(r, "price_gbp"), 0.725, "GBp / 100");
	tap_str(cJSON_GetObjectItem(r, "currency")->valuestring, "GBp",
	        ".L inferred GBp");
	r = row(doc, "ISF.L");
	tap_dbl(num(r, "price_gbp"), 8.1, "GBP x 1");
	r = row(doc, "SAP.DE");
	tap_dbl(num(r, "price_gbp"), 100 * 0.85, "EUR x stored EURGBP");
	r = row(doc, "XYZ.TO");
	tap_ok(cJSON_IsNull(cJSON_GetObjectItem(r, "currency")) &&
	               cJSON_IsNull(cJSON_GetObjectItem(r, "price_gbp")) &&
	               cJSON_IsNull(cJSON_GetObjectItem(r, "value_gbp")),
	       "unknown currency: currency, price_gbp, value_gbp null");
	r = row(doc, "NEW");
	tap_ok(cJSON_IsNull(cJSON_GetObjectItem(r, "price")) &&
	               cJSON_IsNull(cJSON_GetObjectItem(r, "name")) &&
	               cJSON_IsNull(cJSON_GetObjectItem(r, "updated_at")) &&
	               cJSON_IsNull(cJSON_GetObjectItem(r, "error")),
	       "never synced: fields null");
	tap_dbl(num(doc, "total_value_gbp"), 1600 + 72.5 + 81,
	        "total sums the known values only");
	cJSON_Delete(doc);
	free(text);
}

int
main(void)
{
	char *dir = tap_tmpdir(), *text;
	struct ps_store *s = NULL;
	struct ps_err err;
	const char *keys[] = {"fx", "fx_rate_EUR", "last_synced"};
	const char *vals[] = {"{\"pair\":\"USDGBP\",\"rate\":0.8,\"basis\":"
	                      "\"price\",\"at\":\"2025-11-07T21:10:00Z\"}",
	                      "{\"pair\":\"EURGBP\",\"rate\":0.85,\"at\":"
	                      "\"2025-11-07T21:10:00Z\"}",
	                      "2025-11-07T21:10:00Z"};
	cJSON *doc;

	if (!tap_ok(ps_store_open(&s, dir, 16, &err) == 0, "store opens"))
		return tap_done();
	text = ps_view_status(s, &err);
	tap_str(text,
	        "{\"last_synced\":null,\"running\":false,\"progress\":null,"
	        "\"symbols\":0,\"fx\":null,\"last_result\":null,"
	        "\"requests_today\":0}",
	        "status before any sync");
	free(text);
	add(s, "AAPL", 10, NULL);
	add(s, "VOD.L", 100, NULL);
	add(s, "ISF.L", 10, "GBP");
	add(s, "SAP.DE", NAN, "EUR");
	add(s, "XYZ.TO", 5, NULL);
	add(s, "NEW", NAN, NULL);
	quote(s, "AAPL", 200);
	quote(s, "VOD.L", 72.5);
	quote(s, "ISF.L", 8.1);
	quote(s, "SAP.DE", 100);
	quote(s, "XYZ.TO", 3);
	ps_store_settings_put(s, keys, vals, 3, &err);
	check_prices(s);

	text = ps_view_status(s, &err);
	doc = text ? cJSON_Parse(text) : NULL;
	tap_ok(doc &&
	               !strcmp(cJSON_GetObjectItem(doc, "last_synced")
	                               ->valuestring,
	                       "2025-11-07T21:10:00Z") &&
	               num(doc, "symbols") == 6,
	       "status after a sync");
	cJSON_Delete(doc);
	free(text);

	text = ps_view_history(s, "AAPL", INT64_MIN, INT64_MAX, 1000, &err);
	tap_str(text,
	        "{\"symbol\":\"AAPL\",\"points\":[{\"time\":"
	        "\"2025-11-07T21:00:02Z\",\"price\":200}]}",
	        "history shape");
	free(text);
	text = ps_view_history(s, "ZZZ", INT64_MIN, INT64_MAX, 1000, &err);
	tap_ok(text == NULL && err.code == PS_ENOT_FOUND,
	       "unknown symbol is not_found");
	free(text);
	ps_store_close(&s);
	tap_rmrf(dir);
	free(dir);
	return tap_done();
}
