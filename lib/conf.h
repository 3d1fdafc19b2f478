/*
 * conf: the configuration file of SPEC §2 plus its environment overrides.
 * `key = value` per line, `#` comments, blank lines. An unknown key or a bad
 * value is an error naming the file, the line and the key. The key file
 * (fmp_api_key_file) is read here, once, so no other module opens it.
 */
#ifndef PS_CONF_H
#define PS_CONF_H

#include <stddef.h>

#include "err.h"

enum ps_api { PS_API_STABLE, PS_API_V3 };
enum ps_batch { PS_BATCH_AUTO, PS_BATCH_BATCH, PS_BATCH_SINGLE };

#define PS_CONF_MAX_WARNINGS 2
/* The longest key fmp_api_key_file may hold, in bytes. */
#define PS_CONF_KEY_MAX 4096

/* Every string is owned by the struct and freed by ps_conf_free. */
struct ps_conf {
	char *path; /* the file read (or that would have been read) */
	char *db_path;
	char *fmp_base_url; /* without a trailing '/' */
	int base_url_is_default;
	enum ps_api fmp_api;
	char *fmp_api_key; /* resolved: FMP_API_KEY env, key, key file; or NULL
	                    */
	char *fmp_api_key_file;
	int batch_size;           /* 1..1000 */
	int concurrency;          /* 1..32 */
	int timeout_s;            /* 1..3600 */
	int retries;              /* 0..10 */
	int min_interval_s;       /* 0..86400 */
	char fx_pair[8];          /* "USDGBP", or "GBPUSD" (inverted) */
	long daily_request_limit; /* 0 = none */
	enum ps_batch fmp_batch;
	long map_size_mb; /* 1..1048576 */
	int history_days; /* 1..36500: what backfill fetches (SPEC §9) */
	/* What the operator should hear that stops nothing (a file holding the
	 * key that others can read), one line each; the programs print them
	 * at start. */
	char warnings[PS_CONF_MAX_WARNINGS][512];
	int nwarnings;
};

/* The path the config is read from: $PRICESYNC_CONFIG, else the built-in
 * $(sysconfdir)/pricesync.conf. Static or environment storage. */
const char *ps_conf_default_path(void);

/* Fills c with defaults, then the file at path (NULL: ps_conf_default_path;
 * missing file: defaults), then the environment overrides PRICESYNC_DB,
 * FMP_BASE_URL, FMP_API_KEY, then reads fmp_api_key_file if needed.
 * Returns 0, or -1 with PS_ECONFIG; c is then freed (nothing to release). */
int ps_conf_load(struct ps_conf *c, const char *path, struct ps_err *err);

/* Fills c with defaults only (for tests and tools). */
int ps_conf_defaults(struct ps_conf *c, struct ps_err *err);

/* Checks that a sync can talk to the upstream: a key is set, or the base URL
 * is not the real FMP (a local fake needs none). -1 with PS_ECONFIG:
 * "no FMP API key: set fmp_api_key or fmp_api_key_file in FILE". */
int ps_conf_check_key(const struct ps_conf *c, struct ps_err *err);

/* Frees the strings and zeroes c; safe twice. */
void ps_conf_free(struct ps_conf *c);

#endif
