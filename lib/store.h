/*
 * store: the LMDB environment of SPEC §3 (named databases `symbols`,
 * `price_history`, `settings`) and every read and write pricesync makes.
 * One ps_store per process, opened after any fork; it may be shared by
 * threads (the env is opened with MDB_NOTLS). Callers compose transactions:
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
struct ps_txn;   /* opaque; one transaction, owned by whoever began it */

/* Opens (creating the directory and databases if missing) the environment
 * at dir with a map of map_size_mb. Checks the schema version. *sp is set
 * only on success. */
int ps_store_open(struct ps_store **sp, const char *dir, long map_size_mb,
                  struct ps_err *err);
/* Closes and sets *sp to NULL; safe twice and on NULL. No transaction may
 * be open. */
void ps_store_close(struct ps_store **sp);
/* The directory it was opened on (owned by the store). */
const char *ps_store_dir(const struct ps_store *s);

/* Lets go of the pages of the map this process has read: they stay in the
 * page cache, so a later read costs a page fault, not I/O. The map's pages
 * count in the process's resident memory, so a walk over the whole store
 * (a sync, /api/prices) calls this between its pieces to stay flat in the
 * number of symbols. Safe at any time, with transactions open in any
 * thread. */
void ps_store_shed(struct ps_store *s);

/* ---- transactions ----
 *
 * Every function below works inside a transaction the caller began, so a
 * caller composes several reads and writes into one snapshot or one commit
 * (one fsync), as LMDB itself does. A read transaction (write 0) sees one
 * consistent snapshot; a write transaction (write 1) is the only writer of
 * the environment until it ends, in every process. A thread holds at most
 * one transaction at a time: a second write transaction on the same thread
 * would wait for itself. Keep transactions short: a read one pins the pages
 * it sees, a write one holds up every other writer. */

/* *tp is set only on success. */
int ps_txn_begin(struct ps_store *s, int write, struct ps_txn **tp,
                 struct ps_err *err);
/* Ends the transaction: a write one is committed (its revision bumped, see
 * ps_store_revision), a read one just ends. *tp is NULL afterwards, whatever
 * the outcome; on failure nothing of a write one is kept. */
int ps_txn_commit(struct ps_txn **tp, struct ps_err *err);
/* Ends it keeping nothing; safe on NULL and on *tp NULL. */
void ps_txn_abort(struct ps_txn **tp);
/* The store a transaction is on. */
struct ps_store *ps_txn_store(const struct ps_txn *t);

/* The revision of the snapshot t sees: a number bumped by every committed
 * write transaction, kept in the store (it survives restarts and copies),
 * so two reads with the same revision see the same data. 0 for a store no
 * one has written to since it was created. */
int ps_store_revision(struct ps_txn *t, uint64_t *rev, struct ps_err *err);

/* ---- symbols ---- */

/* 1 and *out filled when found, 0 when not, -1 on error. */
int ps_store_sym_get(struct ps_txn *t, const char *symbol,
                     struct ps_symrec *out, struct ps_err *err);

/* Adds the symbols (already normalised). For a symbol already present,
 * only quantity (if not NaN in recs[i]) and currency (if recs[i].currency_src
 * == PS_CCY_USER) are updated; prices stay. */
int ps_store_sym_add(struct ps_txn *t, const struct ps_symrec *recs, size_t n,
                     struct ps_err *err);

/* Deletes the symbols and their history. If one is not present, -1 with
 * PS_EINVALID names it: abort the transaction, so none goes. */
int ps_store_sym_remove(struct ps_txn *t, const char *const *symbols, size_t n,
                        struct ps_err *err);

/* Up to max records whose symbol sorts after `after` (NULL or "": from the
 * first), in symbol order, into out[0 .. *n): one cursor range, so a caller
 * walks any number of symbols in pieces of its own size. *n < max only at
 * the end. */
int ps_store_sym_range(struct ps_txn *t, const char *after,
                       struct ps_symrec *out, size_t max, size_t *n,
                       struct ps_err *err);

/* All records sorted by symbol, in *out (malloc'd array, caller frees with
 * free(); NULL when *n is 0). Memory grows with the portfolio: walk with
 * ps_store_sym_range where that matters. */
int ps_store_sym_list(struct ps_txn *t, struct ps_symrec **out, size_t *n,
                      struct ps_err *err);

/* Stores ccy as symbol's currency from its profile (PS_CCY_PROFILE),
 * unless the user set one. 1 when stored, 0 when the symbol is absent or
 * has a user currency, -1 on error. */
int ps_store_sym_set_currency(struct ps_txn *t, const char *symbol,
                              const char *ccy, struct ps_err *err);

/* Number of symbols (for the status). */
int ps_store_sym_count(struct ps_txn *t, size_t *n, struct ps_err *err);

/* Applies one batch of sync results. For each recs[i] whose symbol is still
 * present: when recs[i].error is "", the quote fields (price..volume, name,
 * exchange, quote_time) replace the stored ones, updated_at is set to now,
 * error cleared, and a history point (quote_time, price) is put unless one
 * exists at that time; when recs[i].error is set, only the error is stored
 * and the old price stays. Quantity and a user's currency are never
 * touched. A symbol removed meanwhile is skipped. Whether or not error is
 * set, a profile currency (currency_src PS_CCY_PROFILE in recs[i]) replaces
 * an inferred one, and a later recs[i].profile_at replaces the stored one. */
int ps_store_apply_batch(struct ps_txn *t, const struct ps_symrec *recs,
                         size_t n, int64_t now, struct ps_err *err);

/* ---- history ---- */

struct ps_point {
	int64_t time;
	double price;
};

/* Points of symbol with from <= time <= to (INT64_MIN/INT64_MAX for open
 * ends), the newest `limit` of them, oldest first, in *out (malloc'd, caller
 * frees). daily: at most one point per UTC date (the last of that date),
 * and limit counts dates (SPEC §5 interval=day). Returns 1 when the symbol
 * exists, 0 (and no points) when it does not, -1 on error. */
int ps_store_history(struct ps_txn *t, const char *symbol, int64_t from,
                     int64_t to, size_t limit, int daily, struct ps_point **out,
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
	int record;       /* 1: record the backfill (at, from) */
	int64_t at, from; /* when; how far back it asked (00:00Z) */
};

/* Puts each row as a point unless its UTC date already has one (a real
 * quote of that day wins; a second backfill adds nothing) and records the
 * backfill (its `from` only moves back). A symbol removed meanwhile gets
 * no points and no record. *added (may be NULL) gets the points put. */
int ps_store_daily_put(struct ps_txn *t, const struct ps_daily_write *w,
                       size_t *added, struct ps_err *err);

/* Puts one point of pair's fx series (a sync's rate), unless one exists
 * at that very time. */
int ps_store_fx_put(struct ps_txn *t, const char *pair, int64_t at, double rate,
                    struct ps_err *err);

struct ps_backfill_rec {
	int64_t at;   /* when it was last backfilled */
	int64_t from; /* the oldest date asked for (00:00Z) */
};

/* 1 and *rec filled when the series was backfilled, 0 when not, -1. */
int ps_store_backfill_get(struct ps_txn *t, enum ps_series kind,
                          const char *name, struct ps_backfill_rec *rec,
                          struct ps_err *err);

struct ps_series_pts {
	struct ps_point *pts; /* malloc'd, oldest first; caller frees */
	size_t n;
};

/* For each names[i], one range scan each: the last point before from (the
 * value in force at from, if any), then every point with from <= time <=
 * to, oldest first, into out[i]. On error nothing is left allocated. */
int ps_store_series_read(struct ps_txn *t, enum ps_series kind,
                         const char *const *names, size_t n, int64_t from,
                         int64_t to, struct ps_series_pts *out,
                         struct ps_err *err);

/* ---- settings: short string values under string keys ----
 * The raw key/value layer of lib/settings.h, which owns every key, its
 * type and its encoding: nothing else calls these. */

/* 1 with *val a malloc'd copy (caller frees), 0 when absent, -1 on error. */
int ps_store_setting_get(struct ps_txn *t, const char *key, char **val,
                         struct ps_err *err);
/* Puts (val non-NULL) or deletes (val NULL) one key. */
int ps_store_setting_put(struct ps_txn *t, const char *key, const char *val,
                         struct ps_err *err);

#endif
