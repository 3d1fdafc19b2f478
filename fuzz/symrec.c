/*
 * symrec: ps_symrec_decode on a stored record's bytes, under a plain and a
 * longest-possible symbol, and ps_jscan_object on the same bytes. Checks,
 * when the record is taken: the symbol is the key's; every string ends
 * within its field and is valid UTF-8 without control characters; the
 * numbers are finite or NaN; the currency source is one of the enum's;
 * re-encoding gives a flat object
 * that decodes to the very same record (NaN-aware, bit for bit otherwise)
 * and encodes to the same text. When refused: PS_ESTORE naming the symbol.
 * jscan, when it takes an object: cJSON reads the same members, in order,
 * with the same values (jscan.h: "it reads what cJSON reads").
 */
#include <math.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "jscan.h"
#include "quote.h"
#include "utf8.h"

/* A suffix that infers a currency, and one PS_SYMBOL_MAX bytes long. */
static const char *const symbols[] = {"VOD.L", "ABCDEFGHIJKLMNOPQ.DE"};
#define NSYMBOLS (sizeof(symbols) / sizeof(symbols[0]))

/* What ps_symrec_clean promises: valid UTF-8, no control character, and a
 * NUL within the field. */
static void
check_string(const char *s, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len, n;
	uint32_t cp;

	FUZZ_CHECK(memchr(s, '\0', size) != NULL);
	len = strlen(s);
	while (len > 0) {
		n = ps_utf8_char(p, len, &cp);
		FUZZ_CHECK(n > 0 && !ps_utf8_is_control(cp));
		p += n;
		len -= n;
	}
}

static int
same_dbl(double a, double b)
{
	return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof(a)) == 0;
}

static void
check_same(const struct ps_symrec *a, const struct ps_symrec *b)
{
	FUZZ_CHECK(strcmp(a->symbol, b->symbol) == 0);
	FUZZ_CHECK(strcmp(a->name, b->name) == 0);
	FUZZ_CHECK(strcmp(a->exchange, b->exchange) == 0);
	FUZZ_CHECK(strcmp(a->currency, b->currency) == 0);
	FUZZ_CHECK(a->currency_src == b->currency_src);
	FUZZ_CHECK(same_dbl(a->price, b->price));
	FUZZ_CHECK(same_dbl(a->change, b->change));
	FUZZ_CHECK(same_dbl(a->change_percent, b->change_percent));
	FUZZ_CHECK(same_dbl(a->day_low, b->day_low));
	FUZZ_CHECK(same_dbl(a->day_high, b->day_high));
	FUZZ_CHECK(same_dbl(a->volume, b->volume));
	FUZZ_CHECK(same_dbl(a->quantity, b->quantity));
	FUZZ_CHECK(a->quote_time == b->quote_time);
	FUZZ_CHECK(a->updated_at == b->updated_at);
	FUZZ_CHECK(a->profile_at == b->profile_at);
	FUZZ_CHECK(strcmp(a->error, b->error) == 0);
}

static void
check_rec(const struct ps_symrec *r, const char *symbol)
{
	FUZZ_CHECK(memchr(r->symbol, '\0', sizeof(r->symbol)) != NULL);
	FUZZ_CHECK(strcmp(r->symbol, symbol) == 0);
	check_string(r->name, sizeof(r->name));
	check_string(r->exchange, sizeof(r->exchange));
	check_string(r->currency, sizeof(r->currency));
	check_string(r->error, sizeof(r->error));
	/* "every number is finite or NaN" */
	FUZZ_CHECK(!isinf(r->price) && !isinf(r->change) &&
	           !isinf(r->change_percent) && !isinf(r->day_low) &&
	           !isinf(r->day_high) && !isinf(r->volume) &&
	           !isinf(r->quantity));
	FUZZ_CHECK(r->currency_src == PS_CCY_INFERRED ||
	           r->currency_src == PS_CCY_PROFILE ||
	           r->currency_src == PS_CCY_USER);
}

static void
no_member(const char *key, const struct ps_jval *v, void *arg)
{
}

static void
check_roundtrip(const struct ps_symrec *r, const char *symbol)
{
	struct ps_symrec back;
	struct ps_err err;
	char *text, *again;
	size_t len;

	ps_err_clear(&err);
	if ((text = ps_symrec_encode(r, &err)) == NULL) {
		FUZZ_CHECK(err.code == PS_ENOMEM);
		return;
	}
	len = strlen(text);
	/* The encoder's text takes the fast path (quote.c). */
	FUZZ_CHECK(ps_jscan_object(text, text + len, no_member, NULL) ==
	           text + len);
	FUZZ_CHECK(ps_symrec_decode(symbol, text, len, &back, &err) == 0);
	check_same(r, &back);
	again = ps_symrec_encode(&back, &err);
	FUZZ_CHECK(again == NULL || strcmp(again, text) == 0);
	free(again);
	free(text);
}

/* ---- jscan against cJSON, member by member ---- */

struct walk {
	const cJSON *next; /* the member cJSON has next */
};

static void
same_member(const char *key, const struct ps_jval *v, void *arg)
{
	struct walk *w = arg;
	const cJSON *it = w->next;

	FUZZ_CHECK(it != NULL && it->string != NULL);
	FUZZ_CHECK(strcmp(key, it->string) == 0);
	switch (v->type) {
	case PS_JV_STR:
		FUZZ_CHECK(cJSON_IsString(it) &&
		           strcmp(v->str, it->valuestring) == 0);
		break;
	case PS_JV_NUM:
		FUZZ_CHECK(cJSON_IsNumber(it) &&
		           same_dbl(v->num, it->valuedouble));
		break;
	case PS_JV_NULL:
		FUZZ_CHECK(cJSON_IsNull(it));
		break;
	case PS_JV_LIT:
		FUZZ_CHECK(cJSON_IsBool(it));
		break;
	}
	w->next = it->next;
}

static void
check_jscan(const char *p, const char *end)
{
	cJSON *o = cJSON_ParseWithLength(p, (size_t)(end - p));
	struct walk w = {.next = cJSON_IsObject(o) ? o->child : NULL};
	const char *after;

	after = ps_jscan_object(p, end, o != NULL ? same_member : no_member,
	                        &w);
	if (after != NULL) {
		FUZZ_CHECK(cJSON_IsObject(o) && w.next == NULL);
		FUZZ_CHECK(after > p && after <= end && after[-1] == '}');
		after = ps_jscan_ws(after, end);
		FUZZ_CHECK(after <= end);
	}
	cJSON_Delete(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ps_symrec r;
	struct ps_err err;
	size_t k;

	for (k = 0; k < NSYMBOLS; k++) {
		ps_err_clear(&err);
		if (ps_symrec_decode(symbols[k], data, size, &r, &err) < 0) {
			fuzz_check_err(&err);
			FUZZ_CHECK(err.code == PS_ESTORE);
			FUZZ_CHECK(strstr(err.msg, symbols[k]) != NULL);
			continue;
		}
		check_rec(&r, symbols[k]);
		check_roundtrip(&r, symbols[k]);
	}
	check_jscan((const char *)data, (const char *)data + size);
	return 0;
}
