/*
 * txn.h: one-transaction wrappers over lib/store.h for the tests, so a test
 * that checks one call reads as one line. Each begins a transaction, makes
 * the call and commits it (a read one just ends) or, when the call fails,
 * aborts it. Test code only: lib/ composes its transactions itself.
 */
#ifndef PS_TEST_TXN_H
#define PS_TEST_TXN_H

#include <stdlib.h>

#include "metrics.h"
#include "settings.h"
#include "store.h"
#include "view.h"

/* The on-disk names of the request counter, for tests that mangle it. */
#define PS_REQUESTS_DAY_KEY "requests_day"
#define PS_REQUESTS_COUNT_KEY "requests_count"

static inline int
tx_end(struct ps_txn **t, int rc, struct ps_err *err)
{
	if (rc < 0) {
		ps_txn_abort(t);
		return rc;
	}
	return ps_txn_commit(t, err) < 0 ? -1 : rc;
}

#define TX(s, write, err, call)                                                \
	do {                                                                   \
		struct ps_txn *t;                                              \
		if (ps_txn_begin((s), (write), &t, (err)) < 0)                 \
			return -1;                                             \
		return tx_end(&t, (call), (err));                              \
	} while (0)

static inline int
tx_sym_get(struct ps_store *s, const char *sym, struct ps_symrec *out,
           struct ps_err *err)
{
	TX(s, 0, err, ps_store_sym_get(t, sym, out, err));
}

static inline int
tx_sym_add(struct ps_store *s, const struct ps_symrec *recs, size_t n,
           struct ps_err *err)
{
	TX(s, 1, err, ps_store_sym_add(t, recs, n, err));
}

static inline int
tx_sym_remove(struct ps_store *s, const char *const *syms, size_t n,
              struct ps_err *err)
{
	TX(s, 1, err, ps_store_sym_remove(t, syms, n, err));
}

static inline int
tx_sym_list(struct ps_store *s, struct ps_symrec **out, size_t *n,
            struct ps_err *err)
{
	TX(s, 0, err, ps_store_sym_list(t, out, n, err));
}

static inline int
tx_sym_set_currency(struct ps_store *s, const char *sym, const char *ccy,
                    struct ps_err *err)
{
	TX(s, 1, err, ps_store_sym_set_currency(t, sym, ccy, err));
}

static inline int
tx_sym_count(struct ps_store *s, size_t *n, struct ps_err *err)
{
	TX(s, 0, err, ps_store_sym_count(t, n, err));
}

static inline int
tx_apply_batch(struct ps_store *s, const struct ps_symrec *recs, size_t n,
               int64_t now, struct ps_err *err)
{
	TX(s, 1, err, ps_store_apply_batch(t, recs, n, now, err));
}

static inline int
tx_history(struct ps_store *s, const char *sym, int64_t from, int64_t to,
           size_t limit, int daily, struct ps_point **out, size_t *n,
           struct ps_err *err)
{
	TX(s, 0, err,
	   ps_store_history(t, sym, from, to, limit, daily, out, n, err));
}

static inline int
tx_fx_put(struct ps_store *s, const char *pair, int64_t at, double rate,
          struct ps_err *err)
{
	TX(s, 1, err, ps_store_fx_put(t, pair, at, rate, err));
}

static inline int
tx_backfill_get(struct ps_store *s, enum ps_series kind, const char *name,
                struct ps_backfill_rec *rec, struct ps_err *err)
{
	TX(s, 0, err, ps_store_backfill_get(t, kind, name, rec, err));
}

static inline int
tx_daily_put(struct ps_store *s, const struct ps_daily_write *w, size_t *added,
             struct ps_err *err)
{
	TX(s, 1, err, ps_store_daily_put(t, w, added, err));
}

static inline int
tx_setting_get(struct ps_store *s, const char *key, char **val,
               struct ps_err *err)
{
	TX(s, 0, err, ps_store_setting_get(t, key, val, err));
}

static inline int
tx_setting_put(struct ps_store *s, const char *key, const char *val,
               struct ps_err *err)
{
	TX(s, 1, err, ps_store_setting_put(t, key, val, err));
}

static inline int
settings_put_all(struct ps_txn *t, const char *const *keys,
                 const char *const *vals, size_t n, struct ps_err *err)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ps_store_setting_put(t, keys[i], vals[i], err) < 0)
			return -1;
	return 0;
}

/* Several keys in one transaction; vals[i] NULL deletes keys[i]. */
static inline int
tx_settings_put(struct ps_store *s, const char *const *keys,
                const char *const *vals, size_t n, struct ps_err *err)
{
	TX(s, 1, err, settings_put_all(t, keys, vals, n, err));
}

static inline int
settings_get_all(struct ps_txn *t, const char *const *keys, char **vals,
                 size_t n, struct ps_err *err)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		vals[i] = NULL;
	for (i = 0; i < n; i++)
		if (ps_store_setting_get(t, keys[i], &vals[i], err) < 0) {
			for (j = 0; j < i; j++) {
				free(vals[j]);
				vals[j] = NULL;
			}
			return -1;
		}
	return 0;
}

/* Several keys in one snapshot. */
static inline int
tx_settings_get(struct ps_store *s, const char *const *keys, char **vals,
                size_t n, struct ps_err *err)
{
	TX(s, 0, err, settings_get_all(t, keys, vals, n, err));
}

static inline int
tx_requests_add(struct ps_store *s, int64_t now, long delta, long *count,
                struct ps_err *err)
{
	TX(s, delta != 0, err,
	   ps_settings_requests_add(t, now, delta, count, err));
}

static inline int
tx_count_sync(struct ps_store *s, enum ps_sync_result res, struct ps_err *err)
{
	TX(s, 1, err, ps_metrics_count_sync(t, res, err));
}

/* A view document from one snapshot (NULL with err). */
#define TX_DOC(s, err, call)                                                   \
	do {                                                                   \
		struct ps_txn *t;                                              \
		char *doc;                                                     \
		if (ps_txn_begin((s), 0, &t, (err)) < 0)                       \
			return NULL;                                           \
		doc = (call);                                                  \
		ps_txn_abort(&t);                                              \
		return doc;                                                    \
	} while (0)

static inline char *
tx_view_prices(struct ps_store *s, struct ps_err *err)
{
	TX_DOC(s, err, ps_view_prices(t, err));
}

static inline char *
tx_view_history(struct ps_store *s, const char *sym, int64_t from, int64_t to,
                size_t limit, int daily, struct ps_err *err)
{
	TX_DOC(s, err, ps_view_history(t, sym, from, to, limit, daily, err));
}

static inline char *
tx_view_portfolio(struct ps_store *s, int64_t from, int64_t to,
                  struct ps_err *err)
{
	TX_DOC(s, err, ps_view_portfolio(t, from, to, err));
}

#endif
