/*
 * quote: the per-symbol record as JSON text, and the binary history keys.
 * Numbers are printed with the fewest digits (15, 16 or 17) that read back
 * to the very same double, not through cJSON's printer, whose round-trip
 * check tolerates an error of one unit in the last place. Unknown numbers
 * are written as null; null, absent or mistyped fields, and numbers past a
 * double's range, read back as unknown, so older or newer records still
 * load. Strings are cut to fit the record at a UTF-8 character boundary,
 * and cleaned (utf8.h) both ways: a name from upstream cannot drive a
 * terminal or break the UTF-8 of a JSON answer, and neither can a record
 * stored before they were.
 *
 * Every sync decodes and encodes each record (twice and once), so the text
 * is written straight into a buffer, and a record that is the flat object
 * the encoder writes (fields added or missing allowed) is read by a small
 * scanner without a cJSON tree; anything else (nesting, \u escapes, text
 * after the object) goes through cJSON, with the same meaning.
 */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "jscan.h"
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

void
ps_symrec_clean(struct ps_symrec *r)
{
	ps_utf8_clean(r->name);
	ps_utf8_clean(r->exchange);
	ps_utf8_clean(r->currency);
	ps_utf8_clean(r->error);
}

/* ---- encoding: written straight into a buffer, no cJSON tree ---- */

/* sep "name":"s", escaped as cJSON escapes (the record is cleaned, so
 * only '"' and '\' are met; the rest is for safety). */
static int
put_string(struct ps_buf *b, char sep, const char *name, const char *s)
{
	int rc = ps_buf_append(b, &sep, 1) < 0 || ps_buf_puts(b, "\"") < 0 ||
	                         ps_buf_puts(b, name) < 0 ||
	                         ps_buf_puts(b, "\":\"") < 0
	                 ? -1
	                 : 0;
	size_t run;

	while (rc == 0 && *s != '\0') {
		run = strcspn(s, "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a"
		                 "\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15"
		                 "\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f");
		if (run > 0)
			rc = ps_buf_append(b, s, run);
		else if (*s == '"' || *s == '\\')
			rc = ps_buf_printf(b, "\\%c", *s), run = 1;
		else
			rc = ps_buf_printf(b, "\\u%04x", (unsigned char)*s),
			run = 1;
		s += run;
	}
	return rc < 0 ? -1 : ps_buf_puts(b, "\"");
}

/* ,"name": then the value's text. */
static int
put_raw(struct ps_buf *b, const char *name, const char *text)
{
	if (ps_buf_append(b, ",\"", 2) < 0 || ps_buf_puts(b, name) < 0 ||
	    ps_buf_append(b, "\":", 2) < 0)
		return -1;
	return ps_buf_puts(b, text);
}

/* ,"name":d, the shortest text that reads back exactly, or null. */
static int
put_number(struct ps_buf *b, const char *name, double d)
{
	char text[PS_DOUBLE_LEN];

	return put_raw(b, name, isfinite(d) ? ps_fmt_double(text, d) : "null");
}

static int
put_int(struct ps_buf *b, const char *name, int64_t v)
{
	char text[24], *p = text + sizeof(text) - 1;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	*p = '\0';
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	return put_raw(b, name, p);
}

char *
ps_symrec_encode(const struct ps_symrec *in, struct ps_err *err)
{
	struct ps_symrec clean = *in, *r = &clean;
	struct ps_buf b = {0};
	char *text = NULL;

	ps_symrec_clean(r);
	/* Field order is the one mdb_dump readers have always seen. */
	if (put_string(&b, '{', "symbol", r->symbol) == 0 &&
	    put_string(&b, ',', "name", r->name) == 0 &&
	    put_string(&b, ',', "exchange", r->exchange) == 0 &&
	    put_string(&b, ',', "currency", r->currency) == 0 &&
	    put_int(&b, "currency_src", (int64_t)r->currency_src) == 0 &&
	    put_number(&b, "price", r->price) == 0 &&
	    put_number(&b, "change", r->change) == 0 &&
	    put_number(&b, "change_percent", r->change_percent) == 0 &&
	    put_number(&b, "day_low", r->day_low) == 0 &&
	    put_number(&b, "day_high", r->day_high) == 0 &&
	    put_number(&b, "volume", r->volume) == 0 &&
	    put_number(&b, "quantity", r->quantity) == 0 &&
	    put_int(&b, "quote_time", r->quote_time) == 0 &&
	    put_int(&b, "updated_at", r->updated_at) == 0 &&
	    put_int(&b, "profile_at", r->profile_at) == 0 &&
	    put_string(&b, ',', "error", r->error) == 0 &&
	    ps_buf_puts(&b, "}") == 0)
		text = ps_buf_take(&b);
	ps_buf_free(&b);
	if (text == NULL)
		ps_err_set(err, PS_ENOMEM, "out of memory encoding %s",
		           r->symbol);
	return text;
}

/* ---- decoding: a fast path for flat records, cJSON for the rest ---- */

enum ftype { F_STR, F_NUM, F_TIME, F_SRC };

#define OFF(f) offsetof(struct ps_symrec, f)
#define SIZE(f) sizeof(((struct ps_symrec *)0)->f)

/* In the encoder's order, so a reader's next field is found first. */
static const struct rfield {
	const char *name;
	enum ftype type;
	size_t off, size;
} rfields[] = {
        {"name", F_STR, OFF(name), SIZE(name)},
        {"exchange", F_STR, OFF(exchange), SIZE(exchange)},
        {"currency", F_STR, OFF(currency), SIZE(currency)},
        {"currency_src", F_SRC, OFF(currency_src), 0},
        {"price", F_NUM, OFF(price), 0},
        {"change", F_NUM, OFF(change), 0},
        {"change_percent", F_NUM, OFF(change_percent), 0},
        {"day_low", F_NUM, OFF(day_low), 0},
        {"day_high", F_NUM, OFF(day_high), 0},
        {"volume", F_NUM, OFF(volume), 0},
        {"quantity", F_NUM, OFF(quantity), 0},
        {"quote_time", F_TIME, OFF(quote_time), 0},
        {"updated_at", F_TIME, OFF(updated_at), 0},
        {"profile_at", F_TIME, OFF(profile_at), 0},
        {"error", F_STR, OFF(error), SIZE(error)},
};
#define NFIELDS (sizeof(rfields) / sizeof(rfields[0]))

/* Times are whole seconds well inside a double's exact integer range. */
static int64_t
to_time(double d)
{
	if (isnan(d) || d < -9.0e15 || d > 9.0e15)
		return 0;
	return (int64_t)d;
}

/* What the cJSON path does with each field, for both paths. */
static void
set_field(struct ps_symrec *r, const struct rfield *f, const struct ps_jval *v)
{
	char *at = (char *)r + f->off;
	/* strtod's infinity (1e999) reads as unknown too: the encoder can
	 * only write it back as null, so the record would not round-trip. */
	double d = v->type == PS_JV_NUM && isfinite(v->num) ? v->num : NAN;

	switch (f->type) {
	case F_STR:
		if (v->type == PS_JV_STR)
			ps_utf8_copy(at, f->size, v->str);
		break;
	case F_NUM:
		memcpy(at, &d, sizeof(d));
		break;
	case F_TIME: {
		int64_t t = to_time(d);

		memcpy(at, &t, sizeof(t));
		break;
	}
	case F_SRC:
		if (d == PS_CCY_PROFILE || d == PS_CCY_USER)
			r->currency_src = (enum ps_ccy_src)d;
		break;
	}
}

struct flat {
	struct ps_symrec *r;
	unsigned seen; /* bit i: rfields[i] met */
	size_t next;   /* where the search for the next field starts */
};

/* The first field of that name wins, as with cJSON_GetObjectItem. The
 * search starts after the field last found: the encoder's order. */
static void
take_field(const char *key, const struct ps_jval *v, void *arg)
{
	struct flat *fl = arg;
	size_t k, i;

	for (k = 0; k < NFIELDS; k++) {
		i = (fl->next + k) % NFIELDS;
		if (strcmp(key, rfields[i].name) != 0)
			continue;
		if (!(fl->seen >> i & 1u))
			set_field(fl->r, &rfields[i], v);
		fl->seen |= 1u << i;
		fl->next = i + 1;
		return;
	}
}

/* The fast path: a flat object (what the encoder writes, fields added or
 * missing included) with nothing after it. -1 for anything else, which
 * cJSON then reads. */
static int
decode_flat(const char *p, const char *end, struct ps_symrec *r)
{
	struct flat fl = {.r = r};

	p = ps_jscan_object(p, end, take_field, &fl);
	return p != NULL && ps_jscan_ws(p, end) == end ? 0 : -1;
}

static int
decode_cjson(const char *data, size_t len, struct ps_symrec *r,
             struct ps_err *err)
{
	cJSON *o = cJSON_ParseWithLength(data, len);
	struct ps_jval v;
	size_t i;

	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return ps_err_set(err, PS_ESTORE,
		                  "stored record of %s is not a symbol record "
		                  "(database damaged?)",
		                  r->symbol);
	}
	for (i = 0; i < NFIELDS; i++) {
		const cJSON *it =
		        cJSON_GetObjectItemCaseSensitive(o, rfields[i].name);

		v.type = PS_JV_LIT;
		if (cJSON_IsString(it) && it->valuestring != NULL) {
			v.type = PS_JV_STR;
			ps_utf8_copy(v.str, sizeof(v.str), it->valuestring);
		} else if (cJSON_IsNumber(it)) {
			v.type = PS_JV_NUM;
			v.num = it->valuedouble;
		}
		set_field(r, &rfields[i], &v);
	}
	cJSON_Delete(o);
	return 0;
}

int
ps_symrec_decode(const char *symbol, const void *data, size_t len,
                 struct ps_symrec *r, struct ps_err *err)
{
	/* The key names the symbol; the copy inside the record is for
	 * people reading mdb_dump. */
	ps_symrec_init(r, symbol);
	if (decode_flat(data, (const char *)data + len, r) < 0) {
		ps_symrec_init(r, symbol);
		if (decode_cjson(data, len, r, err) < 0)
			return -1;
	}
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
