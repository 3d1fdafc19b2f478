/*
 * symbol: what a ticker may look like (SPEC §6), and currencies (SPEC §3):
 * normalising what a user typed, inferring a listing's currency from its
 * suffix, and turning a price into GBP.
 */
#ifndef PS_SYMBOL_H
#define PS_SYMBOL_H

#include "err.h"

#define PS_SYMBOL_MAX 20
#define PS_CCY_MAX 8 /* "USD", "GBp" ... + NUL, with room */

/* Upper-cases in into out and checks it against [A-Z0-9.^=-]{1,20}.
 * Returns 0, or -1 with PS_EINVALID and a message naming the symbol. */
int ps_symbol_normalize(const char *in, char out[PS_SYMBOL_MAX + 1],
                        struct ps_err *err);

/* Normalises a --currency value: a 3-letter ISO 4217 code (upper-cased),
 * "GBp" kept as is, "GBX"/"gbx" taken as "GBp". Returns 0, or -1 with
 * PS_EINVALID naming the value. */
int ps_currency_normalize(const char *in, char out[PS_CCY_MAX],
                          struct ps_err *err);

/* The currency implied by the symbol alone: ".L" -> "GBp", no suffix ->
 * "USD", any other suffix -> "" (unknown). Returns a static string. */
const char *ps_currency_infer(const char *symbol);

/* 1 when the symbol carries an exchange suffix (a '.' followed by letters,
 * like ".L" or ".DE"), so its profile is worth asking for. */
int ps_symbol_has_suffix(const char *symbol);

/* The GBP value of price in currency ccy: GBP x1, GBp /100, USD x usd_gbp,
 * any other currency x other_rate (its CCYGBP rate). Unknown currency, a NaN
 * rate or a NaN price give NaN. */
double ps_price_gbp(double price, const char *ccy, double usd_gbp,
                    double other_rate);

#endif
