/*
 * settings: every key pricesync keeps in the store's `settings` database
 * (SPEC §3), its type and its encoding. Nothing else names a key: sync,
 * backfill, view, metrics and budget read and write through these, inside
 * a transaction of their own (lib/store.h), so one snapshot or one commit
 * can hold settings with other data.
 *
 * Encodings: a time is ISO 8601 UTC text ("2026-01-01T00:00:00Z"), a
 * document is compact JSON text, a counter is decimal text. A value that
 * does not decode reads as absent: a mangled setting must not block syncs.
 */
#ifndef PS_SETTINGS_H
#define PS_SETTINGS_H

#include <stdint.h>

#include "err.h"
#include "store.h"

/* Times. */
enum ps_set_time {
	PS_SET_LAST_SYNCED,     /* the end of the last sync that updated any */
	PS_SET_SYNC_STARTED_AT, /* the start of the last sync (cooldown) */
	PS_SET_SINGLE_SINCE,    /* since when the plan refused batch quotes */
};

/* 1 with *at, 0 when absent or not a time, -1 on error. */
int ps_settings_time(struct ps_txn *t, enum ps_set_time k, int64_t *at,
                     struct ps_err *err);
int ps_settings_set_time(struct ps_txn *t, enum ps_set_time k, int64_t at,
                         struct ps_err *err);

/* JSON documents. */
enum ps_set_doc {
	PS_SET_PROGRESS,    /* the running job's latest event (SPEC §5) */
	PS_SET_LAST_RESULT, /* what the last complete sync did */
	PS_SET_FX,          /* the USDGBP rate: {"pair","rate","basis","at"} */
};

/* 1 with *json malloc'd (caller frees), 0 when absent, -1 on error. */
int ps_settings_doc(struct ps_txn *t, enum ps_set_doc k, char **json,
                    struct ps_err *err);
/* Puts json (NULL: deletes). */
int ps_settings_set_doc(struct ps_txn *t, enum ps_set_doc k, const char *json,
                        struct ps_err *err);

/* Deletes a time or a document. */
int ps_settings_clear_time(struct ps_txn *t, enum ps_set_time k,
                           struct ps_err *err);

/* The CCYGBP rate document of another currency (SPEC §8), as PS_SET_FX's. */
int ps_settings_rate(struct ps_txn *t, const char *ccy, char **json,
                     struct ps_err *err);
int ps_settings_set_rate(struct ps_txn *t, const char *ccy, const char *json,
                         struct ps_err *err);

/* The upstream requests counted on the UTC day of now (SPEC §8): 0 on
 * another day, or when the counter is absent or mangled. */
int ps_settings_requests(struct ps_txn *t, int64_t now, long *count,
                         struct ps_err *err);
/* Adds delta to that count (starting the day afresh on a new day; never
 * below 0) and returns the new one in *count (may be NULL). */
int ps_settings_requests_add(struct ps_txn *t, int64_t now, long delta,
                             long *count, struct ps_err *err);

/* Syncs ended, by result (SPEC §5 pricesync_syncs_total). */
enum ps_set_counter {
	PS_SET_SYNCS_COMPLETE,
	PS_SET_SYNCS_PARTIAL,
	PS_SET_SYNCS_ERROR,
	PS_SET_NCOUNTERS
};

/* *value = the count (0 when absent or mangled). */
int ps_settings_counter(struct ps_txn *t, enum ps_set_counter k, long *value,
                        struct ps_err *err);
int ps_settings_counter_add(struct ps_txn *t, enum ps_set_counter k, long delta,
                            struct ps_err *err);

#endif
