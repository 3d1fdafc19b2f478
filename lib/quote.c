/*
 * quote: the per-symbol record as JSON text, and the binary history keys.
 * Numbers are printed with the fewest digits (15, 16 or 17) that read back
 * to the very same double, not through cJSON's printer, whose round-trip
 * check tolerates an error of one unit in the last place. Unknown numbers
 * are written as null; null, absent or mistyped fields read back as unknown,
 * so older or newer records still load. Strings are cut to fit the record
 * at a UTF-8 character boundary, and cleaned (utf8.h) both ways: a name
 * from upstream cannot drive a terminal or break the UTF-8 of a JSON
 * answer, and neither can a record stored before they were.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "quote.h"
#include "utf8.h"

#define SIGN_BIT (UINT64_C(1) << 63)

void
ps_symrec_init(struct ps_symrec *r, const char *symbol)
{
	memset(r, 0, sizeof(*r));
	ps_utf8_copy(r->symbol, sizeof(r->symbol), symbol);
	ps_utf8_copy(r->currency, sizeof(r->currency),
	             ps_currency_infer(r->symbol));
	r->currency_src = PS_CCY_INFERRED;
	r->price = r->change = r->change_percent = NAN;
	r->day_low = r->day_high = r->volume = NAN;
	r->quantity = NAN;
}

int
ps_symrec_wants_profile(const struct ps_symrec *r, int64_t now)
{
	if (r->currency_src != PS_CCY_INFERRED ||
	    !ps_symbol_has_suffix(r->symbol))
		return 0;
	if (r->profile_at == 0)
		return r->updated_at == 0;
	/* A clock set back would otherwise postpone the retry for as long
	 * as it was wrong: ask once, and profile_at starts again from now. */
	return now < r->profile_at ||
	       now - r->profile_at >= (int64_t)PS_PROFILE_RETRY_DAYS * 86400;
}

/* Adds name: d, the shortest text that reads back exactly, or null. */
static int
add_number(cJSON *o, const char *name, double d)
{
	char text[40];
	int prec;

	if (!isfinite(d))
		return cJSON_AddNullToObject(o, name) != NULL ? 0 : -1;
	for (prec = 15; prec <= 17; prec++) {
		snprintf(text, sizeof(text), "%.*g", prec, d);
		if (strtod(text, NULL) == d)
			break;
	}
	return cJSON_AddRawToObject(o, name, text) != NULL ? 0 : -1;
}

static int
add_int(cJSON *o, const char *name, int64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%" PRId64, v);
	return cJSON_AddRawToObject(o, name, text) != NULL ? 0 : -1;
}

static int
add_string(cJSON *o, const char *name, const char *s)
{
	return cJSON_AddStringToObject(o, name, s) != NULL ? 0 : -1;
}

void
ps_symrec_clean(struct ps_symrec *r)
{
	ps_utf8_clean(r->name);
	ps_utf8_clean(r->exchange);
	ps_utf8_clean(r->currency);
	ps_utf8_clean(r->error);
}

char *
ps_symrec_encode(const struct ps_symrec *in, struct ps_err *err)
{
	struct ps_symrec clean = *in, *r = &clean;
	char *text = NULL;
	cJSON *o;

	ps_symrec_clean(r);
	o = cJSON_CreateObject();
	if (o == NULL)
		goto nomem;
	if (add_string(o, "symbol", r->symbol) < 0 ||
	    add_string(o, "name", r->name) < 0 ||
	    add_string(o, "exchange", r->exchange) < 0 ||
	    add_string(o, "currency", r->currency) < 0 ||
	    add_int(o, "currency_src", (int64_t)r->currency_src) < 0 ||
	    add_number(o, "price", r->price) < 0 ||
	    add_number(o, "change", r->change) < 0 ||
	    add_number(o, "change_percent", r->change_percent) < 0 ||
	    add_number(o, "day_low", r->day_low) < 0 ||
	    add_number(o, "day_high", r->day_high) < 0 ||
	    add_number(o, "volume", r->volume) < 0 ||
	    add_number(o, "quantity", r->quantity) < 0 ||
	    add_int(o, "quote_time", r->quote_time) < 0 ||
	    add_int(o, "updated_at", r->updated_at) < 0 ||
	    add_int(o, "profile_at", r->profile_at) < 0 ||
	    add_string(o, "error", r->error) < 0)
		goto delete_object;
	text = cJSON_PrintUnformatted(o);
delete_object:
	cJSON_Delete(o);
	if (text != NULL)
		return text;
nomem:
	ps_err_set(err, PS_ENOMEM, "out of memory encoding %s", r->symbol);
	return NULL;
}

static void
get_string(const cJSON *o, const char *name, char *dst, size_t n)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	if (cJSON_IsString(it) && it->valuestring != NULL)
		ps_utf8_copy(dst, n, it->valuestring);
}

static double
get_number(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(it) ? it->valuedouble : NAN;
}

/* Times are whole seconds well inside a double's exact integer range. */
static int64_t
get_time(const cJSON *o, const char *name)
{
	double d = get_number(o, name);

	if (isnan(d) || d < -9.0e15 || d > 9.0e15)
		return 0;
	return (int64_t)d;
}

int
ps_symrec_decode(const char *symbol, const void *data, size_t len,
                 struct ps_symrec *r, struct ps_err *err)
{
	cJSON *o;
	double src;

	ps_symrec_init(r, symbol);
	o = cJSON_ParseWithLength(data, len);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return ps_err_set(err, PS_ESTORE,
		                  "stored record of %s is not a symbol record "
		                  "(database damaged?)",
		                  r->symbol);
	}
	/* The key names the symbol; the copy inside the record is for
	 * people reading mdb_dump. */
	get_string(o, "name", r->name, sizeof(r->name));
	get_string(o, "exchange", r->exchange, sizeof(r->exchange));
	get_string(o, "currency", r->currency, sizeof(r->currency));
	get_string(o, "error", r->error, sizeof(r->error));
	src = get_number(o, "currency_src");
	if (src == PS_CCY_PROFILE || src == PS_CCY_USER)
		r->currency_src = (enum ps_ccy_src)src;
	r->price = get_number(o, "price");
	r->change = get_number(o, "change");
	r->change_percent = get_number(o, "change_percent");
	r->day_low = get_number(o, "day_low");
	r->day_high = get_number(o, "day_high");
	r->volume = get_number(o, "volume");
	r->quantity = get_number(o, "quantity");
	r->quote_time = get_time(o, "quote_time");
	r->updated_at = get_time(o, "updated_at");
	r->profile_at = get_time(o, "profile_at");
	cJSON_Delete(o);
	ps_symrec_clean(r);
	return 0;
}

size_t
ps_hkey_make(unsigned char out[PS_HKEY_MAX], const char *symbol, int64_t t)
{
	size_t n = strnlen(symbol, PS_SYMBOL_MAX);
	uint64_t u = (uint64_t)t ^ SIGN_BIT;
	int i;

	memcpy(out, symbol, n);
	out[n++] = '\0';
	/* Flipping the sign bit makes unsigned byte order equal signed
	 * numeric order, so memcmp (LMDB's default) sorts by time. */
	for (i = 7; i >= 0; i--)
		out[n++] = (unsigned char)(u >> (8 * i));
	return n;
}

int
ps_hkey_split(const void *key, size_t len, char sym[PS_SYMBOL_MAX + 1],
              int64_t *t)
{
	const unsigned char *k = key;
	size_t n, i;
	uint64_t u = 0;

	if (len < 1 + 1 + 8 || len > PS_HKEY_MAX)
		return -1;
	n = len - 9;
	if (k[n] != '\0' || memchr(k, '\0', n) != NULL)
		return -1;
	memcpy(sym, k, n);
	sym[n] = '\0';
	for (i = n + 1; i < len; i++)
		u = (u << 8) | k[i];
	*t = (int64_t)(u ^ SIGN_BIT);
	return 0;
}
