/*
 * view: the JSON documents of SPEC §5 built from the store, shared by the
 * CLI (`status`, `list --json`, `history`) and `sync-status`, so both print
 * the same bytes.
 *
 * A document is written as it is read: rows are rendered one at a time
 * into a small buffer that is handed to the caller's writer whenever it
 * holds PS_VIEW_FLUSH bytes, and the price list reads its symbols
 * PS_VIEW_CHUNK at a time (ps_store_sym_range), all in the caller's one
 * read transaction. So memory stays flat in the number of symbols, and
 * nothing here knows where the bytes go (HTTP, a terminal, a test).
 *
 * Before the first byte, a document tells the caller its version (what
 * its bytes depend on besides the request's own parameters), so the
 * caller can answer "not modified" without anything being rendered or
 * any symbol read. A document does not end with a newline.
 */
#ifndef PS_VIEW_H
#define PS_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "store.h"

/* Symbols read per ps_store_sym_range; bytes buffered before a write. */
#define PS_VIEW_CHUNK 64
#define PS_VIEW_FLUSH 16384

/* Takes the next n > 0 bytes of the document (borrowed until it returns).
 * 0 to go on; nonzero stops the document, which then fails with
 * PS_EINTERNAL "the writer stopped". */
typedef int (*ps_view_out)(const char *p, size_t n, void *arg);

/* What a document's bytes depend on besides its parameters: two
 * documents of the same kind and parameters with equal versions are the
 * same bytes (from the same program). */
struct ps_view_version {
	uint64_t revision; /* ps_store_revision of the snapshot it reads */
	int64_t day; /* the UTC day (Unix s / 86400) it counts for, or 0 */
	int running; /* the status: a sync holds the lock */
};

/* Called once per document, after the errors it answers whole (an
 * unknown symbol) and before its first byte: 1 renders it (bytes to out),
 * 0 ends it there and then, reading nothing more (a 304, a HEAD), -1
 * fails it (with err as the callback left it). */
typedef int (*ps_view_head)(const struct ps_view_version *v, void *arg,
                            struct ps_err *err);

/* Where a document goes. head may be NULL (always render). */
struct ps_view_sink {
	ps_view_head head;
	ps_view_out out;
	void *arg;
};

/* A ps_view_out appending to the struct ps_buf *arg. */
int ps_view_buf_out(const char *p, size_t n, void *arg);

/* Each writes its document to k and returns 0 (also when head ended it),
 * or -1 with err: before out was first called, nothing of the document
 * went out; after it, the bytes stop short. */

/* The status: last_synced, running (the lock held now), progress, symbols,
 * fx, last_result, requests_today (of the UTC day of now). Reads in
 * transactions of its own: the lock is read between two snapshots (see
 * view.c). Its version has the revision, running and now's day. */
int ps_view_status_write(struct ps_store *s, int64_t now,
                         const struct ps_view_sink *k, struct ps_err *err);

/* The others read t's snapshot (a read transaction the caller began), and
 * their version is its revision. */

/* Every symbol with its quote, GBP value and holding value; the total. */
int ps_view_prices_write(struct ps_txn *t, const struct ps_view_sink *k,
                         struct ps_err *err);

/* What the price list says in sum, from one walk of t's snapshot: the
 * symbols with an error stored, those with a quote older than stale_s at
 * now, and its total_value_gbp (NaN when no value is known). */
struct ps_view_summary {
	size_t failed, stale;
	double total_value_gbp;
};
int ps_view_prices_summary(struct ps_txn *t, int64_t now, int64_t stale_s,
                           struct ps_view_summary *out, struct ps_err *err);

/* {"symbol":..,"points":[..]}; -1 with PS_ENOT_FOUND, before head, for an
 * unknown symbol. from/to/limit/daily as for ps_store_history (daily:
 * interval=day, at most one point per UTC date, limit counts dates). */
int ps_view_history_write(struct ps_txn *t, const char *symbol, int64_t from,
                          int64_t to, size_t limit, int daily,
                          const struct ps_view_sink *k, struct ps_err *err);

/* {"currency":"GBP","points":[{"date","value_gbp","symbols","missing"}]}
 * for each UTC date from `from` to `to` (00:00Z, from <= to), SPEC §9. */
int ps_view_portfolio_write(struct ps_txn *t, int64_t from, int64_t to,
                            const struct ps_view_sink *k, struct ps_err *err);

/* The same documents as malloc'd strings (caller frees), or NULL with
 * err: for the table, the metrics and the tests, which want them whole. */
char *ps_view_status(struct ps_store *s, struct ps_err *err);
char *ps_view_prices(struct ps_txn *t, struct ps_err *err);
char *ps_view_history(struct ps_txn *t, const char *symbol, int64_t from,
                      int64_t to, size_t limit, int daily, struct ps_err *err);
char *ps_view_portfolio(struct ps_txn *t, int64_t from, int64_t to,
                        struct ps_err *err);

#endif
