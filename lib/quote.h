/*
 * quote: the record kept per symbol (SPEC §3) and its encoding in LMDB.
 * A record is a plain value with fixed-size strings: nothing to free.
 * Numbers never known are NaN; times never known are 0; strings never known
 * are "". Encoding is JSON text (readable with mdb_dump, tolerant of added
 * fields), history keys are binary so they sort by symbol then time.
 */
#ifndef PS_QUOTE_H
#define PS_QUOTE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "symbol.h"

enum ps_ccy_src {
	PS_CCY_INFERRED = 0, /* from the suffix (§3) */
	PS_CCY_PROFILE = 1,  /* from FMP's profile of the listing */
	PS_CCY_USER = 2      /* --currency: always wins */
};

struct ps_symrec {
	char symbol[PS_SYMBOL_MAX + 1];
	char name[160];
	char exchange[32];
	char currency[PS_CCY_MAX]; /* "" = unknown */
	enum ps_ccy_src currency_src;
	double price, change, change_percent, day_low, day_high, volume;
	double quantity;    /* NaN = no holding set */
	int64_t quote_time; /* upstream time, Unix s; 0 = unknown */
	int64_t updated_at; /* last successful sync of this symbol; 0 = never */
	int64_t profile_at; /* last profile call made for it; 0 = never */
	char error[256];    /* last error for this symbol; "" = none */
};

/* A fresh record for symbol: every number NaN, currency inferred. */
void ps_symrec_init(struct ps_symrec *r, const char *symbol);

/* Days after which a profile call that left the currency inferred (failed,
 * refused, or a listing FMP does not know) is made again. */
#define PS_PROFILE_RETRY_DAYS 7

/* 1 when a sync at now should ask FMP for r's profile (SPEC §8): a symbol
 * with an exchange suffix and an inferred currency, on its first sync, or
 * PS_PROFILE_RETRY_DAYS after the last call; else 0. A record synced before
 * profile_at existed (updated, never called) is not asked again. */
int ps_symrec_wants_profile(const struct ps_symrec *r, int64_t now);

/* Cleans the strings of r in place (ps_utf8_clean: no control characters,
 * no invalid UTF-8); encode and decode do it, so no stored or read record
 * holds them. */
void ps_symrec_clean(struct ps_symrec *r);

/* Encodes r, cleaned, as a malloc'd JSON string (caller frees). NULL +
 * PS_ENOMEM. */
char *ps_symrec_encode(const struct ps_symrec *r, struct ps_err *err);

/* Decodes len bytes of JSON into r (which it initialises first, and
 * cleans after); a number past a double's range reads as NaN, so every
 * number is finite or NaN and the record re-encodes to itself. -1 with
 * PS_ESTORE naming the symbol when the bytes are not a record. */
int ps_symrec_decode(const char *symbol, const void *data, size_t len,
                     struct ps_symrec *r, struct ps_err *err);

/* History key: symbol bytes, a NUL, then the time as 8 big-endian bytes of
 * (uint64_t)(t) ^ (1 << 63), so keys sort by symbol then time. */
#define PS_HKEY_MAX (PS_SYMBOL_MAX + 1 + 8)
size_t ps_hkey_make(unsigned char out[PS_HKEY_MAX], const char *symbol,
                    int64_t t);
/* Splits a history key; returns 0, or -1 if it is not one. sym gets the
 * symbol (NUL-terminated). */
int ps_hkey_split(const void *key, size_t len, char sym[PS_SYMBOL_MAX + 1],
                  int64_t *t);

#endif
