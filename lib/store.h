/*
 * store: the LMDB environment of SPEC §3 (named databases `symbols`,
 * `price_history`, `settings`) and every read and write pricesync makes.
 * One ps_store per process, opened after any fork; it may be shared by
 * threads (the env is opened with MDB_NOTLS). Every call is one transaction:
 * reads are short, writes commit or abort whole. `mdb_reader_check` runs at
 * open, so a crashed reader leaves no slot behind. A full map is PS_ESTORE
 * ("database full: raise map_size_mb"), never a crash.
 */
#ifndef PS_STORE_H
#define PS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "quote.h"

#define PS_SCHEMA_VERSION 1

struct ps_store; /* opaque; owned by whoever opened it */

/* Opens (creating the directory and databases if missing) the environment
 * at dir with a map of map_size_mb. Checks the schema version. *sp is set
 * only on success. */
int ps_store_open(struct ps_store **sp, const char *dir, long map_size_mb,
                  struct ps_err *err);
/* Closes and sets *sp to NULL; safe twice and on NULL. */
void ps_store_close(struct ps_store **sp);
/* The directory it was opened on (owned by the store). */
const char *ps_store_dir(const struct ps_store *s);

/* ---- symbols ---- */

/* 1 and *out filled when found, 0 when not, -1 on error. */
int ps_store_sym_get(struct ps_store *s, const char *symbol,
                     struct ps_symrec *out, struct ps_err *err);

/* Adds the symbols (already normalised) in one transaction. For a symbol
 * already present, only quantity (if not NaN in recs[i]) and currency (if
 * recs[i].currency_src == PS_CCY_USER) are updated; prices stay. */
int ps_store_sym_add(struct ps_store *s, const struct ps_symrec *recs, size_t n,
                     struct ps_err *err);

/* Deletes the symbols and their history in one transaction. If one is not
 * present, nothing is deleted and -1 with PS_EINVALID names it. */
int ps_store_sym_remove(struct ps_store *s, const char *const *symbols,
                        size_t n, struct ps_err *err);

/* All records sorted by symbol, in *out (malloc'd array, caller frees with
 * free(); NULL when *n is 0). */
int ps_store_sym_list(struct ps_store *s, struct ps_symrec **out, size_t *n,
                      struct ps_err *err);

/* Stores ccy as symbol's currency from its profile (PS_CCY_PROFILE),
 * unless the user set one. 1 when stored, 0 when the symbol is absent or
 * has a user currency, -1 on error. */
int ps_store_sym_set_currency(struct ps_store *s, const char *symbol,
                              const char *ccy, struct ps_err *err);

/* Number of symbols (for the status). */
int ps_store_sym_count(struct ps_store *s, size_t *n, struct ps_err *err);

/* Applies one batch of sync results in ONE write transaction. For each
 * recs[i] whose symbol is still present: when recs[i].error is "", the quote
 * fields (price..volume, name, exchange, quote_time) replace the stored ones,
 * updated_at is set to now, error cleared, and a history point (quote_time,
 * price) is put unless one exists at that time; when recs[i].error is set,
 * only the error is stored and the old price stays. Quantity and a user's
 * currency are never touched. A symbol removed meanwhile is skipped.
 * Whether or not error is set, a profile currency (currency_src
 * PS_CCY_PROFILE in recs[i]) replaces an inferred one, and a later
 * recs[i].profile_at replaces the stored one. */
int ps_store_apply_batch(struct ps_store *s, const struct ps_symrec *recs,
                         size_t n, int64_t now, struct ps_err *err);

/* ps_store_apply_batch, and in the same transaction the settings
 * keys[i] = vals[i] (NULL deletes) and `requests` added to the day's
 * request count: one commit (one fsync) per batch. */
int ps_store_apply_batch_with(struct ps_store *s, const struct ps_symrec *recs,
                              size_t n, int64_t now, const char *const *keys,
                              const char *const *vals, size_t nkv,
                              long requests, struct ps_err *err);

/* ---- history ---- */

struct ps_point {
	int64_t time;
	double price;
};

/* Points of symbol with from <= time <= to (INT64_MIN/INT64_MAX for open
 * ends), the newest `limit` of them, oldest first, in *out (malloc'd, caller
 * frees). Returns 1 when the symbol exists, 0 (and no points) when it does
 * not, -1 on error. */
int ps_store_history(struct ps_store *s, const char *symbol, int64_t from,
                     int64_t to, size_t limit, struct ps_point **out, size_t *n,
                     struct ps_err *err);

/* As ps_store_history, but at most one point per UTC date (the last of
 * that date), and limit counts dates (SPEC §5 interval=day). */
int ps_store_history_daily(struct ps_store *s, const char *symbol, int64_t from,
                           int64_t to, size_t limit, struct ps_point **out,
                           size_t *n, struct ps_err *err);

/* ---- daily closes and fx series (SPEC §9) ---- */

/* A symbol's own series (price_history), or an fx pair's ("USDGBP",
 * "EURGBP": the GBP value of one unit), kept in a database of its own. */
enum ps_series { PS_SERIES_SYMBOL, PS_SERIES_FX };

/* What one finished backfill of one series writes. */
struct ps_daily_write {
	enum ps_series kind;
	const char *name;
	const struct ps_point *rows; /* closes at 00:00:00Z of their date */
	size_t n;
	int record;           /* 1: record the backfill (at, from) */
	int64_t at, from;     /* when; how far back it asked (00:00Z) */
	const char *progress; /* the "progress" setting to store, or NULL */
	long requests;        /* added to the request count of at's day */
};

/* For each of the n writes, in ONE transaction (one fsync for many
 * series): puts each row as a point unless its UTC date already has one (a
 * real quote of that day wins; a second backfill adds nothing), records the
 * backfill (its `from` only moves back), stores progress and counts the
 * requests. A symbol removed meanwhile gets no points and no record.
 * added (NULL, or n entries) gets the number of points put per write. */
int ps_store_daily_put(struct ps_store *s, const struct ps_daily_write *w,
                       size_t n, size_t *added, struct ps_err *err);

/* Puts one point of pair's fx series (a sync's rate), unless one exists
 * at that very time. */
int ps_store_fx_put(struct ps_store *s, const char *pair, int64_t t,
                    double rate, struct ps_err *err);

struct ps_backfill_rec {
	int64_t at;   /* when it was last backfilled */
	int64_t from; /* the oldest date asked for (00:00Z) */
};

/* 1 and *rec filled when the series was backfilled, 0 when not, -1. */
int ps_store_backfill_get(struct ps_store *s, enum ps_series kind,
                          const char *name, struct ps_backfill_rec *rec,
                          struct ps_err *err);

struct ps_series_pts {
	struct ps_point *pts; /* malloc'd, oldest first; caller frees */
	size_t n;
};

/* For each names[i], in ONE read transaction and one range scan each: the
 * last point before from (the value in force at from, if any), then every
 * point with from <= time <= to, oldest first, into out[i]. On error
 * nothing is left allocated. */
int ps_store_series_read(struct ps_store *s, enum ps_series kind,
                         const char *const *names, size_t n, int64_t from,
                         int64_t to, struct ps_series_pts *out,
                         struct ps_err *err);

/* ---- settings: short string values under string keys ---- */

/* 1 with *val a malloc'd copy (caller frees), 0 when absent, -1 on error. */
int ps_store_setting_get(struct ps_store *s, const char *key, char **val,
                         struct ps_err *err);
/* Puts (val non-NULL) or deletes (val NULL) one key; one transaction. */
int ps_store_setting_put(struct ps_store *s, const char *key, const char *val,
                         struct ps_err *err);
/* Puts several keys in one transaction; vals[i] NULL deletes keys[i]. */
int ps_store_settings_put(struct ps_store *s, const char *const *keys,
                          const char *const *vals, size_t n,
                          struct ps_err *err);

/* Reads several settings in ONE read transaction (a consistent snapshot):
 * vals[i] is a malloc'd copy or NULL when absent; caller frees each. */
int ps_store_settings_get(struct ps_store *s, const char *const *keys,
                          char **vals, size_t n, struct ps_err *err);

/* The daily request counter's two settings keys, for a reader that takes
 * them in one snapshot with other settings (ps_store_settings_get), and
 * the count they mean on the UTC day of now: 0 when day is another day, or
 * either value is absent (NULL) or mangled. The store's own reads use it,
 * so there is one rollover rule. */
#define PS_REQUESTS_DAY_KEY "requests_day"
#define PS_REQUESTS_COUNT_KEY "requests_count"
long ps_store_requests_today(const char *day, const char *count, int64_t now);

/* Adds delta to the request counter of the UTC day of `now` (resetting it on
 * a new day) and returns the new count in *count; delta 0 just reads it. */
int ps_store_requests_add(struct ps_store *s, int64_t now, long delta,
                          long *count, struct ps_err *err);

/* Adds delta to the decimal counter under settings key (absent: 0) in one
 * write transaction and returns the new value in *value; for counters
 * that must survive restarts (lib/metrics.c). */
int ps_store_counter_add(struct ps_store *s, const char *key, long delta,
                         long *value, struct ps_err *err);

#endif
