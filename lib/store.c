/*
 * store: every LMDB read and write pricesync makes (SPEC §3). The env and
 * its four named databases are opened once, in ps_store_open; after that
 * the struct is read-only, so threads may share it (MDB_NOTLS lets a read
 * txn move between threads, and LMDB serialises writers itself). Callers
 * hold a ps_txn, so what they compose commits or aborts whole. Values in an
 * MDB_val belong to LMDB until the txn ends, so everything is copied out
 * first.
 *
 * Another process may grow the map (an operator raised map_size_mb, then
 * the CLI wrote): mdb_txn_begin then answers MDB_MAP_RESIZED, and the new
 * size is adopted with mdb_env_set_mapsize(env, 0), which LMDB allows only
 * while this process has no transaction open. So every transaction holds
 * `remap` shared from its begin to its end, and the adoption takes it
 * exclusive; the macros below route every begin, commit and abort in this
 * file through the functions that do that, so no function can forget.
 * No function here opens a transaction while it holds another.
 *
 * Layout: `symbols` maps a symbol to its record (quote.h, JSON text);
 * `price_history` maps ps_hkey_make(symbol, time) to the price as text;
 * `settings` maps short string keys to string values; `meta` holds
 * `schema_version` and `revision` (decimal text, bumped by each commit of a
 * write transaction). `fx_history` holds the fx series (USDGBP, EURGBP...)
 * keyed like `price_history`, so a pair never mixes with a symbol;
 * `backfill` maps a symbol, or "fx/PAIR", to when it was backfilled and
 * how far back (JSON text).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <lmdb.h>

#include "isotime.h"
#include "store.h"

#define STORE_MAXDBS 8
#define SCHEMA_KEY "schema_version"
#define REVISION_KEY "revision"

struct ps_store {
	MDB_env *env;
	MDB_dbi symbols, history, settings, meta, fx, backfill;
	long map_size_mb;
	char *dir;
	pthread_rwlock_t remap; /* shared: a txn is open; exclusive: remap */
};

struct ps_txn {
	struct ps_store *s;
	MDB_txn *txn;
	int write;
};

/* How often one begin adopts a grown map before it gives up: a map that
 * keeps outgrowing us this fast is a bug elsewhere. */
#define REMAP_TRIES 3

static int
txn_begin_held(MDB_env *env, MDB_txn *parent, unsigned flags, MDB_txn **txn)
{
	struct ps_store *s = mdb_env_get_userctx(env);
	int rc, tries;

	for (tries = 0;; tries++) {
		pthread_rwlock_rdlock(&s->remap);
		rc = (mdb_txn_begin)(env, parent, flags, txn);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&s->remap);
		if (rc != MDB_MAP_RESIZED || tries == REMAP_TRIES)
			return rc;
		pthread_rwlock_wrlock(&s->remap);
		rc = mdb_env_set_mapsize(env, 0);
		pthread_rwlock_unlock(&s->remap);
		if (rc != 0)
			return rc;
	}
}

static void
txn_abort_held(MDB_txn *txn)
{
	struct ps_store *s = mdb_env_get_userctx(mdb_txn_env(txn));

	(mdb_txn_abort)(txn);
	pthread_rwlock_unlock(&s->remap);
}

static int
txn_commit_held(MDB_txn *txn)
{
	struct ps_store *s = mdb_env_get_userctx(mdb_txn_env(txn));
	int rc = (mdb_txn_commit)(txn);

	pthread_rwlock_unlock(&s->remap);
	return rc;
}

#define mdb_txn_begin(env, parent, flags, txn)                                 \
	txn_begin_held(env, parent, flags, txn)
#define mdb_txn_abort(txn) txn_abort_held(txn)
#define mdb_txn_commit(txn) txn_commit_held(txn)

/* One place turns an LMDB code into a message, so a full map reads the same
 * whichever call hit it. */
static int
store_fail(const struct ps_store *s, struct ps_err *err, const char *call,
           int rc)
{
	MDB_envinfo info;
	long mb = s->map_size_mb;

	/* The map in use, which may be one adopted from another process. */
	if (s->env != NULL && mdb_env_info(s->env, &info) == 0)
		mb = (long)(info.me_mapsize >> 20);
	if (rc == MDB_MAP_FULL)
		return ps_err_set(err, PS_ESTORE,
		                  "database full (map_size_mb = %ld): raise "
		                  "map_size_mb in the config",
		                  mb);
	if (rc == MDB_MAP_RESIZED)
		return ps_err_set(
		        err, PS_ESTORE,
		        "%s: the database in %s keeps outgrowing this "
		        "process's map (%ld MB) while it adopts the new "
		        "size: retry, or restart this program",
		        call, s->dir, mb);
	if (rc == ENOMEM)
		return ps_err_set(err, PS_ENOMEM, "%s: %s", call,
		                  mdb_strerror(rc));
	return ps_err_set(err, PS_ESTORE, "%s: %s", call, mdb_strerror(rc));
}

static int
txn_begin(struct ps_store *s, unsigned flags, MDB_txn **txn, struct ps_err *err)
{
	int rc = mdb_txn_begin(s->env, NULL, flags, txn);

	if (rc != 0)
		return store_fail(s, err, "mdb_txn_begin", rc);
	return 0;
}

/* Commits; on failure LMDB has already freed the txn. */
static int
txn_commit(struct ps_store *s, MDB_txn *txn, struct ps_err *err)
{
	int rc = mdb_txn_commit(txn);

	if (rc != 0)
		return store_fail(s, err, "mdb_txn_commit", rc);
	return 0;
}

static MDB_val
str_val(const char *str)
{
	MDB_val v = {.mv_size = strlen(str), .mv_data = (void *)str};

	return v;
}

/* A symbol or settings key as an LMDB key: LMDB refuses empty ones, and a
 * message naming the problem beats MDB_BAD_VALSIZE. */
static int
key_val(const char *what, const char *key, MDB_val *k, struct ps_err *err)
{
	if (key == NULL || *key == '\0')
		return ps_err_set(err, PS_EINVALID, "empty %s", what);
	*k = str_val(key);
	return 0;
}

static int
sym_key(const char *symbol, MDB_val *k, struct ps_err *err)
{
	if (key_val("symbol", symbol, k, err) < 0)
		return -1;
	if (k->mv_size > PS_SYMBOL_MAX)
		return ps_err_set(err, PS_EINVALID,
		                  "%s: symbol longer than %d characters",
		                  symbol, PS_SYMBOL_MAX);
	return 0;
}

/* ---- open and close ---- */

/* mkdir -p with 0755; the error names the directory that failed. */
static int
mkdir_p(const char *dir, struct ps_err *err)
{
	struct stat st;
	char *path, *p, saved;
	int rc = 0;

	if (*dir == '\0')
		return ps_err_set(err, PS_ECONFIG, "db_path is empty");
	path = strdup(dir);
	if (path == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	for (p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		saved = *p;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			rc = ps_err_set(
			        err, PS_ESTORE,
			        "cannot create database directory %s: %s", path,
			        strerror(errno));
			break;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(path);
	if (rc < 0)
		return -1;
	if (stat(dir, &st) < 0)
		return ps_err_set(err, PS_ESTORE, "%s: %s", dir,
		                  strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return ps_err_set(err, PS_ESTORE, "%s: not a directory", dir);
	return 0;
}

static int
dbi_open(struct ps_store *s, MDB_txn *txn, const char *name, MDB_dbi *dbi,
         struct ps_err *err)
{
	int rc = mdb_dbi_open(txn, name, MDB_CREATE, dbi);

	if (rc != 0) {
		char call[64];

		snprintf(call, sizeof(call), "mdb_dbi_open %s", name);
		return store_fail(s, err, call, rc);
	}
	return 0;
}

/* Writes the schema version into a new database, refuses another one. */
static int
schema_check(struct ps_store *s, MDB_txn *txn, struct ps_err *err)
{
	MDB_val k = str_val(SCHEMA_KEY), v;
	char want[16], got[32];
	int rc;

	snprintf(want, sizeof(want), "%d", PS_SCHEMA_VERSION);
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		v = str_val(want);
		rc = mdb_put(txn, s->meta, &k, &v, 0);
		if (rc != 0)
			return store_fail(s, err, "mdb_put schema_version", rc);
		return 0;
	}
	if (rc != 0)
		return store_fail(s, err, "mdb_get schema_version", rc);
	if (v.mv_size == strlen(want) &&
	    memcmp(v.mv_data, want, v.mv_size) == 0)
		return 0;
	snprintf(got, sizeof(got), "%.*s",
	         (int)(v.mv_size < 20 ? v.mv_size : 20),
	         (const char *)v.mv_data);
	return ps_err_set(err, PS_ESTORE,
	                  "%s: database schema version %s is not supported by "
	                  "this pricesync (wants %d)",
	                  s->dir, got, PS_SCHEMA_VERSION);
}

/* The handles stay valid for the env's life, so they are opened once here
 * and never again: mdb_dbi_open is not safe to race between threads. */
static int
open_dbs(struct ps_store *s, struct ps_err *err)
{
	MDB_txn *txn;

	if (txn_begin(s, 0, &txn, err) < 0)
		return -1;
	if (dbi_open(s, txn, "symbols", &s->symbols, err) < 0 ||
	    dbi_open(s, txn, "price_history", &s->history, err) < 0 ||
	    dbi_open(s, txn, "settings", &s->settings, err) < 0 ||
	    dbi_open(s, txn, "meta", &s->meta, err) < 0 ||
	    dbi_open(s, txn, "fx_history", &s->fx, err) < 0 ||
	    dbi_open(s, txn, "backfill", &s->backfill, err) < 0 ||
	    schema_check(s, txn, err) < 0)
		goto txn_abort;
	return txn_commit(s, txn, err);
txn_abort:
	mdb_txn_abort(txn);
	return -1;
}

static int
env_open(struct ps_store *s, struct ps_err *err)
{
	int rc, dead;

	rc = mdb_env_create(&s->env);
	if (rc != 0) {
		s->env = NULL;
		return store_fail(s, err, "mdb_env_create", rc);
	}
	rc = mdb_env_set_userctx(s->env, s);
	if (rc != 0)
		return store_fail(s, err, "mdb_env_set_userctx", rc);
	rc = mdb_env_set_maxdbs(s->env, STORE_MAXDBS);
	if (rc != 0)
		return store_fail(s, err, "mdb_env_set_maxdbs", rc);
	rc = mdb_env_set_mapsize(s->env, (size_t)s->map_size_mb << 20);
	if (rc != 0)
		return store_fail(s, err, "mdb_env_set_mapsize", rc);
	rc = mdb_env_open(s->env, s->dir, MDB_NOTLS, 0664);
	if (rc != 0)
		return ps_err_set(err, rc == ENOMEM ? PS_ENOMEM : PS_ESTORE,
		                  "mdb_env_open %s: %s", s->dir,
		                  mdb_strerror(rc));
	/* A reader killed mid-txn leaves its slot behind; free those. */
	rc = mdb_reader_check(s->env, &dead);
	if (rc != 0)
		return store_fail(s, err, "mdb_reader_check", rc);
	return 0;
}

int
ps_store_open(struct ps_store **sp, const char *dir, long map_size_mb,
              struct ps_err *err)
{
	struct ps_store *s;

	if (map_size_mb <= 0 || (unsigned long)map_size_mb > (SIZE_MAX >> 20))
		return ps_err_set(err, PS_ECONFIG,
		                  "map_size_mb = %ld is out of range",
		                  map_size_mb);
	if (mkdir_p(dir, err) < 0)
		return -1;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	s->map_size_mb = map_size_mb;
	s->dir = strdup(dir);
	if (s->dir == NULL) {
		ps_err_set(err, PS_ENOMEM, "out of memory");
		goto store_free;
	}
	if (pthread_rwlock_init(&s->remap, NULL) != 0) {
		ps_err_set(err, PS_ENOMEM, "pthread_rwlock_init failed");
		goto store_free;
	}
	if (env_open(s, err) < 0 || open_dbs(s, err) < 0)
		goto lock_destroy;
	*sp = s;
	return 0;
lock_destroy:
	if (s->env != NULL)
		mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->remap);
store_free:
	free(s->dir);
	free(s);
	return -1;
}

void
ps_store_close(struct ps_store **sp)
{
	struct ps_store *s;

	if (sp == NULL || *sp == NULL)
		return;
	s = *sp;
	mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->remap);
	free(s->dir);
	free(s);
	*sp = NULL;
}

const char *
ps_store_dir(const struct ps_store *s)
{
	return s->dir;
}

/* Where this process maps the data file, from /proc/self/maps (LMDB tells
 * the address only for MDB_FIXEDMAP): the mapping of the file's inode at
 * offset 0. NULL when not found (not Linux, say). */
static void *
map_find(struct ps_store *s, size_t *len)
{
	unsigned long lo, hi, off, ino;
	struct stat st;
	mdb_filehandle_t fd;
	char line[512];
	void *base = NULL;
	FILE *f;

	if (mdb_env_get_fd(s->env, &fd) != 0 || fstat(fd, &st) < 0)
		return NULL;
	f = fopen("/proc/self/maps", "r");
	if (f == NULL)
		return NULL;
	while (base == NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx-%lx %*s %lx %*s %lu", &lo, &hi, &off,
		           &ino) == 4 &&
		    ino == (unsigned long)st.st_ino && off == 0) {
			base = (void *)lo;
			*len = hi - lo;
		}
	fclose(f);
	return base;
}

/* The map is read-only and shared (no MDB_WRITEMAP: LMDB writes with
 * pwrite), so a dropped page comes back from the page cache as it was, in
 * whichever thread touches it next; remap held shared keeps the mapping
 * from moving meanwhile. */
void
ps_store_shed(struct ps_store *s)
{
	MDB_envinfo info;
	MDB_stat st;
	size_t len = 0, used;
	void *base;

	pthread_rwlock_rdlock(&s->remap);
	base = map_find(s, &len);
	if (base != NULL && mdb_env_info(s->env, &info) == 0 &&
	    mdb_env_stat(s->env, &st) == 0) {
		used = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
		madvise(base, used < len ? used : len, MADV_DONTNEED);
	}
	pthread_rwlock_unlock(&s->remap);
}

/* ---- transactions ---- */

int
ps_txn_begin(struct ps_store *s, int write, struct ps_txn **tp,
             struct ps_err *err)
{
	struct ps_txn *t = malloc(sizeof(*t));

	if (t == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	if (txn_begin(s, write ? 0 : MDB_RDONLY, &t->txn, err) < 0) {
		free(t);
		return -1;
	}
	t->s = s;
	t->write = write;
	*tp = t;
	return 0;
}

void
ps_txn_abort(struct ps_txn **tp)
{
	if (tp == NULL || *tp == NULL)
		return;
	mdb_txn_abort((*tp)->txn);
	free(*tp);
	*tp = NULL;
}

struct ps_store *
ps_txn_store(const struct ps_txn *t)
{
	return t->s;
}

static int
revision_read(struct ps_txn *t, uint64_t *rev, struct ps_err *err)
{
	MDB_val k = str_val(REVISION_KEY), v;
	char text[24], *end;
	int rc = mdb_get(t->txn, t->s->meta, &k, &v);

	*rev = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail(t->s, err, "mdb_get revision", rc);
	if (v.mv_size == 0 || v.mv_size >= sizeof(text))
		return ps_err_set(err, PS_ESTORE, "%s: bad revision",
		                  t->s->dir);
	memcpy(text, v.mv_data, v.mv_size);
	text[v.mv_size] = '\0';
	*rev = strtoull(text, &end, 10);
	if (*end != '\0')
		return ps_err_set(err, PS_ESTORE, "%s: bad revision \"%s\"",
		                  t->s->dir, text);
	return 0;
}

int
ps_store_revision(struct ps_txn *t, uint64_t *rev, struct ps_err *err)
{
	return revision_read(t, rev, err);
}

static int
revision_bump(struct ps_txn *t, struct ps_err *err)
{
	MDB_val k = str_val(REVISION_KEY), v;
	char text[24];
	uint64_t rev;
	int rc;

	if (revision_read(t, &rev, err) < 0)
		return -1;
	snprintf(text, sizeof(text), "%llu", (unsigned long long)rev + 1);
	v = str_val(text);
	rc = mdb_put(t->txn, t->s->meta, &k, &v, 0);
	if (rc != 0)
		return store_fail(t->s, err, "mdb_put revision", rc);
	return 0;
}

int
ps_txn_commit(struct ps_txn **tp, struct ps_err *err)
{
	struct ps_txn *t = *tp;
	int rc;

	*tp = NULL;
	if (!t->write) {
		mdb_txn_abort(t->txn);
		free(t);
		return 0;
	}
	if (revision_bump(t, err) < 0) {
		mdb_txn_abort(t->txn);
		free(t);
		return -1;
	}
	rc = txn_commit(t->s, t->txn, err);
	free(t);
	return rc;
}

/* ---- symbols ---- */

/* Reads and decodes one record inside txn: 1 found, 0 not, -1 error. */
static int
rec_get(struct ps_store *s, MDB_txn *txn, const char *symbol,
        struct ps_symrec *out, struct ps_err *err)
{
	MDB_val k, v;
	int rc;

	if (sym_key(symbol, &k, err) < 0)
		return -1;
	rc = mdb_get(txn, s->symbols, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail(s, err, "mdb_get symbols", rc);
	if (ps_symrec_decode(symbol, v.mv_data, v.mv_size, out, err) < 0)
		return -1;
	return 1;
}

static int
rec_put(struct ps_store *s, MDB_txn *txn, const struct ps_symrec *r,
        struct ps_err *err)
{
	MDB_val k, v;
	char *json;
	int rc;

	if (sym_key(r->symbol, &k, err) < 0)
		return -1;
	json = ps_symrec_encode(r, err);
	if (json == NULL)
		return -1;
	v = str_val(json);
	rc = mdb_put(txn, s->symbols, &k, &v, 0);
	free(json);
	if (rc != 0)
		return store_fail(s, err, "mdb_put symbols", rc);
	return 0;
}

int
ps_store_sym_get(struct ps_txn *t, const char *symbol, struct ps_symrec *out,
                 struct ps_err *err)
{
	return rec_get(t->s, t->txn, symbol, out, err);
}

int
ps_store_sym_add(struct ps_txn *t, const struct ps_symrec *recs, size_t n,
                 struct ps_err *err)
{
	struct ps_symrec cur;
	size_t i;
	int found;

	for (i = 0; i < n; i++) {
		found = rec_get(t->s, t->txn, recs[i].symbol, &cur, err);
		if (found < 0)
			return -1;
		if (!found) {
			cur = recs[i];
		} else {
			/* Re-adding keeps prices and history; only what the
			 * user said this time changes. */
			if (!isnan(recs[i].quantity))
				cur.quantity = recs[i].quantity;
			if (recs[i].currency_src == PS_CCY_USER) {
				memcpy(cur.currency, recs[i].currency,
				       sizeof(cur.currency));
				cur.currency_src = PS_CCY_USER;
			}
		}
		if (rec_put(t->s, t->txn, &cur, err) < 0)
			return -1;
	}
	return 0;
}

int
ps_store_sym_set_currency(struct ps_txn *t, const char *symbol, const char *ccy,
                          struct ps_err *err)
{
	struct ps_symrec cur;
	int found = rec_get(t->s, t->txn, symbol, &cur, err);

	if (found <= 0 || cur.currency_src == PS_CCY_USER)
		return found < 0 ? -1 : 0;
	snprintf(cur.currency, sizeof(cur.currency), "%s", ccy);
	cur.currency_src = PS_CCY_PROFILE;
	return rec_put(t->s, t->txn, &cur, err) < 0 ? -1 : 1;
}

/* True when key is a history key of the symbol whose prefix (symbol and
 * its NUL) is pre[0..plen). */
static int
hkey_is_of(const MDB_val *key, const unsigned char *pre, size_t plen)
{
	return key->mv_size == plen + 8 && memcmp(key->mv_data, pre, plen) == 0;
}

/* Deletes every history point of symbol. Seeking afresh after each delete
 * costs a few cached page reads and avoids relying on where a cursor
 * stands after mdb_cursor_del. */
static int
history_delete(struct ps_store *s, MDB_txn *txn, const char *symbol,
               struct ps_err *err)
{
	unsigned char start[PS_HKEY_MAX];
	MDB_cursor *cur;
	MDB_val k, v;
	size_t len, plen = strlen(symbol) + 1;
	int rc;

	len = ps_hkey_make(start, symbol, INT64_MIN);
	rc = mdb_cursor_open(txn, s->history, &cur);
	if (rc != 0)
		return store_fail(s, err, "mdb_cursor_open price_history", rc);
	for (;;) {
		k.mv_size = len;
		k.mv_data = start;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND ||
		    (rc == 0 && !hkey_is_of(&k, start, plen))) {
			rc = 0;
			break;
		}
		if (rc != 0) {
			store_fail(s, err, "mdb_cursor_get price_history", rc);
			break;
		}
		rc = mdb_cursor_del(cur, 0);
		if (rc != 0) {
			store_fail(s, err, "mdb_cursor_del price_history", rc);
			break;
		}
	}
	mdb_cursor_close(cur);
	return rc == 0 ? 0 : -1;
}

int
ps_store_sym_remove(struct ps_txn *t, const char *const *symbols, size_t n,
                    struct ps_err *err)
{
	struct ps_store *s = t->s;
	MDB_val k;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (sym_key(symbols[i], &k, err) < 0)
			return -1;
		rc = mdb_del(t->txn, s->symbols, &k, NULL);
		if (rc == MDB_NOTFOUND)
			/* The caller aborts, so none of the earlier ones go
			 * either. */
			return ps_err_set(
			        err, PS_EINVALID,
			        "%s: no such symbol (nothing removed)",
			        symbols[i]);
		if (rc != 0)
			return store_fail(s, err, "mdb_del symbols", rc);
		if (history_delete(s, t->txn, symbols[i], err) < 0)
			return -1;
		/* A symbol added again later is backfilled again. */
		rc = mdb_del(t->txn, s->backfill, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return store_fail(s, err, "mdb_del backfill", rc);
	}
	return 0;
}

/* Decodes the record at cursor position (k, v) into out. */
static int
rec_decode(const MDB_val *k, const MDB_val *v, struct ps_symrec *out,
           struct ps_err *err)
{
	char sym[PS_SYMBOL_MAX + 1];

	if (k->mv_size == 0 || k->mv_size > PS_SYMBOL_MAX)
		return ps_err_set(err, PS_ESTORE,
		                  "symbols: a key of %zu bytes is not a symbol",
		                  k->mv_size);
	memcpy(sym, k->mv_data, k->mv_size);
	sym[k->mv_size] = '\0';
	return ps_symrec_decode(sym, v->mv_data, v->mv_size, out, err);
}

/* Puts the cursor on the first record after `after` (MDB_NOTFOUND: none). */
static int
cursor_after(MDB_cursor *cur, const char *after, MDB_val *k, MDB_val *v)
{
	size_t len = after != NULL ? strlen(after) : 0;
	int rc;

	if (len == 0)
		return mdb_cursor_get(cur, k, v, MDB_FIRST);
	k->mv_size = len;
	k->mv_data = (void *)after;
	rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	if (rc == 0 && k->mv_size == len && memcmp(k->mv_data, after, len) == 0)
		rc = mdb_cursor_get(cur, k, v, MDB_NEXT);
	return rc;
}

/* Calls fn on up to max records after `after`; stops early when fn asks. */
static int
sym_walk(struct ps_txn *t, const char *after, size_t max,
         int (*fn)(const MDB_val *k, const MDB_val *v, void *arg,
                   struct ps_err *err),
         void *arg, struct ps_err *err)
{
	MDB_cursor *cur;
	MDB_val k, v;
	size_t i;
	int rc;

	rc = mdb_cursor_open(t->txn, t->s->symbols, &cur);
	if (rc != 0)
		return store_fail(t->s, err, "mdb_cursor_open symbols", rc);
	for (i = 0, rc = cursor_after(cur, after, &k, &v); rc == 0 && i < max;
	     i++, rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if (fn(&k, &v, arg, err) < 0) {
			mdb_cursor_close(cur);
			return -1;
		}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_fail(t->s, err, "mdb_cursor_get symbols", rc);
	return 0;
}

struct range {
	struct ps_symrec *out;
	size_t n;
};

static int
range_put(const MDB_val *k, const MDB_val *v, void *arg, struct ps_err *err)
{
	struct range *r = arg;

	if (rec_decode(k, v, &r->out[r->n], err) < 0)
		return -1;
	r->n++;
	return 0;
}

int
ps_store_sym_range(struct ps_txn *t, const char *after, struct ps_symrec *out,
                   size_t max, size_t *n, struct ps_err *err)
{
	struct range r = {.out = out};
	int rc = sym_walk(t, after, max, range_put, &r, err);

	*n = r.n;
	return rc;
}

struct list {
	struct ps_symrec *arr;
	size_t n, cap;
};

static int
list_put(const MDB_val *k, const MDB_val *v, void *arg, struct ps_err *err)
{
	struct list *l = arg;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct ps_symrec *p = realloc(l->arr, ncap * sizeof(*p));

		if (p == NULL)
			return ps_err_set(err, PS_ENOMEM, "out of memory");
		l->arr = p;
		l->cap = ncap;
	}
	if (rec_decode(k, v, &l->arr[l->n], err) < 0)
		return -1;
	l->n++;
	return 0;
}

int
ps_store_sym_list(struct ps_txn *t, struct ps_symrec **out, size_t *n,
                  struct ps_err *err)
{
	struct list l = {0};

	if (sym_walk(t, NULL, SIZE_MAX, list_put, &l, err) < 0) {
		free(l.arr);
		return -1;
	}
	if (l.n == 0) {
		free(l.arr);
		l.arr = NULL;
	}
	*out = l.arr;
	*n = l.n;
	return 0;
}

int
ps_store_sym_count(struct ps_txn *t, size_t *n, struct ps_err *err)
{
	MDB_stat st;
	int rc = mdb_stat(t->txn, t->s->symbols, &st);

	if (rc != 0)
		return store_fail(t->s, err, "mdb_stat symbols", rc);
	*n = st.ms_entries;
	return 0;
}

/* ---- sync results ---- */

static int series_point_put(struct ps_store *s, MDB_txn *txn, MDB_dbi dbi,
                            const char *name, int64_t t, double price,
                            struct ps_err *err);

/* Merges one sync result into the stored record (see store.h). */
static void
merge_result(struct ps_symrec *cur, const struct ps_symrec *r, int64_t now)
{
	/* What a profile call found (or that one was made) holds whatever
	 * became of the quote: a listing FMP never quotes must not be asked
	 * for its profile again on every sync. */
	if (r->profile_at > cur->profile_at)
		cur->profile_at = r->profile_at;
	if (r->currency_src == PS_CCY_PROFILE && r->currency[0] != '\0' &&
	    cur->currency_src != PS_CCY_USER) {
		memcpy(cur->currency, r->currency, sizeof(cur->currency));
		cur->currency_src = PS_CCY_PROFILE;
	}
	if (r->error[0] != '\0') {
		snprintf(cur->error, sizeof(cur->error), "%s", r->error);
		return;
	}
	cur->price = r->price;
	cur->change = r->change;
	cur->change_percent = r->change_percent;
	cur->day_low = r->day_low;
	cur->day_high = r->day_high;
	cur->volume = r->volume;
	memcpy(cur->name, r->name, sizeof(cur->name));
	memcpy(cur->exchange, r->exchange, sizeof(cur->exchange));
	cur->quote_time = r->quote_time;
	cur->updated_at = now;
	cur->error[0] = '\0';
}

int
ps_store_apply_batch(struct ps_txn *t, const struct ps_symrec *recs, size_t n,
                     int64_t now, struct ps_err *err)
{
	struct ps_symrec cur;
	size_t i;
	int found;

	for (i = 0; i < n; i++) {
		found = rec_get(t->s, t->txn, recs[i].symbol, &cur, err);
		if (found < 0)
			return -1;
		if (!found)
			continue; /* removed while the sync ran */
		merge_result(&cur, &recs[i], now);
		if (rec_put(t->s, t->txn, &cur, err) < 0)
			return -1;
		if (recs[i].error[0] == '\0' && recs[i].quote_time != 0 &&
		    !isnan(recs[i].price) &&
		    series_point_put(t->s, t->txn, t->s->history,
		                     recs[i].symbol, recs[i].quote_time,
		                     recs[i].price, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- history ---- */

static int
point_parse(const MDB_val *k, const MDB_val *v, struct ps_point *p,
            struct ps_err *err)
{
	char sym[PS_SYMBOL_MAX + 1], text[40];
	char *end;

	if (ps_hkey_split(k->mv_data, k->mv_size, sym, &p->time) < 0)
		return ps_err_set(err, PS_ESTORE,
		                  "price_history: a key of %zu bytes is not a "
		                  "history key",
		                  k->mv_size);
	if (v->mv_size == 0 || v->mv_size >= sizeof(text))
		return ps_err_set(err, PS_ESTORE,
		                  "price_history: a value of %zu bytes is not "
		                  "a price",
		                  v->mv_size);
	memcpy(text, v->mv_data, v->mv_size);
	text[v->mv_size] = '\0';
	p->price = strtod(text, &end);
	if (*end != '\0')
		return ps_err_set(err, PS_ESTORE,
		                  "price_history: \"%s\" is not a price", text);
	return 0;
}

static int
points_push(struct ps_point **arr, size_t *n, size_t *cap, struct ps_err *err)
{
	size_t ncap;
	struct ps_point *p;

	if (*n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	p = realloc(*arr, ncap * sizeof(*p));
	if (p == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	*arr = p;
	*cap = ncap;
	return 0;
}

static int64_t
day_floor(int64_t t)
{
	return (t >= 0 ? t / 86400 : (t - 86399) / 86400) * 86400;
}

/* Walks backwards from the newest point at or before `to`, so only the
 * points returned are ever read, however long the history. */
static int
history_scan(struct ps_store *s, MDB_txn *txn, const char *symbol, int64_t from,
             int64_t to, size_t limit, int daily, struct ps_point **arr,
             size_t *n, struct ps_err *err)
{
	unsigned char top[PS_HKEY_MAX];
	size_t cap = 0, plen = strlen(symbol) + 1, tlen, i;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = -1;

	rc = mdb_cursor_open(txn, s->history, &cur);
	if (rc != 0)
		return store_fail(s, err, "mdb_cursor_open price_history", rc);
	tlen = ps_hkey_make(top, symbol, to);
	k.mv_size = tlen;
	k.mv_data = top;
	/* SET_RANGE lands on the first key >= (symbol, to): keep it only if
	 * it is that very key, else step back to the one before. */
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	else if (rc == 0 &&
	         (k.mv_size != tlen || memcmp(k.mv_data, top, tlen) != 0))
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	while (rc == 0 && *n < limit && hkey_is_of(&k, top, plen)) {
		if (points_push(arr, n, &cap, err) < 0 ||
		    point_parse(&k, &v, &(*arr)[*n], err) < 0)
			goto cursor_close;
		if ((*arr)[*n].time < from)
			break;
		/* Walking backwards, the first point seen of a date is its
		 * last: an earlier one of the same date is skipped. */
		if (!daily || *n == 0 ||
		    day_floor((*arr)[*n].time) !=
		            day_floor((*arr)[*n - 1].time))
			(*n)++;
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	}
	if (rc != 0 && rc != MDB_NOTFOUND) {
		store_fail(s, err, "mdb_cursor_get price_history", rc);
		goto cursor_close;
	}
	for (i = 0; i < *n / 2; i++) {
		struct ps_point t = (*arr)[i];

		(*arr)[i] = (*arr)[*n - 1 - i];
		(*arr)[*n - 1 - i] = t;
	}
	ret = 0;
cursor_close:
	mdb_cursor_close(cur);
	return ret;
}

int
ps_store_history(struct ps_txn *t, const char *symbol, int64_t from, int64_t to,
                 size_t limit, int daily, struct ps_point **out, size_t *n,
                 struct ps_err *err)
{
	struct ps_point *arr = NULL;
	size_t cnt = 0;
	MDB_val k, v;
	int rc, ret = -1;

	if (sym_key(symbol, &k, err) < 0)
		return -1;
	rc = mdb_get(t->txn, t->s->symbols, &k, &v);
	if (rc == MDB_NOTFOUND)
		ret = 0;
	else if (rc != 0)
		store_fail(t->s, err, "mdb_get symbols", rc);
	else if (from > to || limit == 0 ||
	         history_scan(t->s, t->txn, symbol, from, to, limit, daily,
	                      &arr, &cnt, err) == 0)
		ret = 1;
	if (ret < 0 || cnt == 0) {
		free(arr);
		arr = NULL;
		cnt = 0;
	}
	if (ret >= 0) {
		*out = arr;
		*n = cnt;
	}
	return ret;
}

/* ---- settings ---- */

static int
setting_read(struct ps_store *s, MDB_txn *txn, const char *key, char **val,
             struct ps_err *err)
{
	MDB_val k, v;
	char *copy;
	int rc;

	*val = NULL;
	if (key_val("setting key", key, &k, err) < 0)
		return -1;
	rc = mdb_get(txn, s->settings, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail(s, err, "mdb_get settings", rc);
	copy = malloc(v.mv_size + 1);
	if (copy == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	memcpy(copy, v.mv_data, v.mv_size);
	copy[v.mv_size] = '\0';
	*val = copy;
	return 1;
}

static int
setting_write(struct ps_store *s, MDB_txn *txn, const char *key,
              const char *val, struct ps_err *err)
{
	MDB_val k, v;
	int rc;

	if (key_val("setting key", key, &k, err) < 0)
		return -1;
	if (val == NULL) {
		rc = mdb_del(txn, s->settings, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return store_fail(s, err, "mdb_del settings", rc);
		return 0;
	}
	v = str_val(val);
	rc = mdb_put(txn, s->settings, &k, &v, 0);
	if (rc != 0)
		return store_fail(s, err, "mdb_put settings", rc);
	return 0;
}

int
ps_store_setting_get(struct ps_txn *t, const char *key, char **val,
                     struct ps_err *err)
{
	return setting_read(t->s, t->txn, key, val, err);
}

int
ps_store_setting_put(struct ps_txn *t, const char *key, const char *val,
                     struct ps_err *err)
{
	return setting_write(t->s, t->txn, key, val, err);
}

/* ---- daily closes, fx series, backfill records (SPEC §9) ---- */

static MDB_dbi
series_dbi(const struct ps_store *s, enum ps_series kind)
{
	return kind == PS_SERIES_FX ? s->fx : s->history;
}

/* The backfill key of a series: the symbol, or "fx/PAIR" ('/' is never
 * in a symbol, so the two cannot meet). */
static int
backfill_key(enum ps_series kind, const char *name, char *buf, size_t size,
             MDB_val *k, struct ps_err *err)
{
	if (sym_key(name, k, err) < 0)
		return -1;
	snprintf(buf, size, "%s%s", kind == PS_SERIES_FX ? "fx/" : "", name);
	*k = str_val(buf);
	return 0;
}

/* 1 when the series has a point in [day, day + 1 day), 0 when not. */
static int
day_has_point(struct ps_store *s, MDB_cursor *cur, const char *name,
              int64_t day, struct ps_err *err)
{
	unsigned char key[PS_HKEY_MAX];
	size_t plen = strlen(name) + 1;
	char sym[PS_SYMBOL_MAX + 1];
	MDB_val k, v;
	int64_t t;
	int rc;

	k.mv_size = ps_hkey_make(key, name, day);
	k.mv_data = key;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail(s, err, "mdb_cursor_get", rc);
	if (!hkey_is_of(&k, key, plen) ||
	    ps_hkey_split(k.mv_data, k.mv_size, sym, &t) < 0)
		return 0;
	return t < day + 86400;
}

/* A point is the price as text: readable with mdb_dump, exact with %.17g.
 * One point per time: a repeat (a market closed since) adds nothing. */
static int
series_point_put(struct ps_store *s, MDB_txn *txn, MDB_dbi dbi,
                 const char *name, int64_t t, double price, struct ps_err *err)
{
	unsigned char key[PS_HKEY_MAX];
	char text[32];
	MDB_val k, v;
	int rc;

	k.mv_size = ps_hkey_make(key, name, t);
	k.mv_data = key;
	snprintf(text, sizeof(text), "%.17g", price);
	v = str_val(text);
	rc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
	if (rc != 0 && rc != MDB_KEYEXIST)
		return store_fail(s, err, "mdb_put history point", rc);
	return 0;
}

static int
daily_points(struct ps_store *s, MDB_txn *txn, const struct ps_daily_write *w,
             size_t *added, struct ps_err *err)
{
	MDB_dbi dbi = series_dbi(s, w->kind);
	MDB_cursor *cur;
	size_t i;
	int rc, has;

	rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc != 0)
		return store_fail(s, err, "mdb_cursor_open", rc);
	for (i = 0; i < w->n; i++) {
		has = day_has_point(s, cur, w->name, w->rows[i].time, err);
		if (has < 0)
			break;
		/* A date with any point (a real quote) keeps it. */
		if (has)
			continue;
		if (series_point_put(s, txn, dbi, w->name, w->rows[i].time,
		                     w->rows[i].price, err) < 0) {
			has = -1;
			break;
		}
		(*added)++;
	}
	mdb_cursor_close(cur);
	return i == w->n ? 0 : -1;
}

static int
backfill_read(struct ps_store *s, MDB_txn *txn, enum ps_series kind,
              const char *name, struct ps_backfill_rec *rec, struct ps_err *err)
{
	char kbuf[PS_SYMBOL_MAX + 4], text[128];
	cJSON *j, *at, *from;
	MDB_val k, v;
	int rc, ok;

	if (backfill_key(kind, name, kbuf, sizeof(kbuf), &k, err) < 0)
		return -1;
	rc = mdb_get(txn, s->backfill, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail(s, err, "mdb_get backfill", rc);
	if (v.mv_size >= sizeof(text))
		return ps_err_set(err, PS_ESTORE, "backfill %s: bad record",
		                  kbuf);
	memcpy(text, v.mv_data, v.mv_size);
	text[v.mv_size] = '\0';
	j = cJSON_Parse(text);
	at = cJSON_GetObjectItemCaseSensitive(j, "at");
	from = cJSON_GetObjectItemCaseSensitive(j, "from");
	ok = cJSON_IsString(at) && cJSON_IsString(from) &&
	     ps_isotime_parse(at->valuestring, &rec->at) == 0 &&
	     ps_isotime_parse(from->valuestring, &rec->from) == 0;
	cJSON_Delete(j);
	if (!ok)
		return ps_err_set(err, PS_ESTORE, "backfill %s: bad record",
		                  kbuf);
	return 1;
}

/* Records the backfill; `from` only ever moves back (how far back the
 * series reaches). */
static int
backfill_write(struct ps_store *s, MDB_txn *txn, enum ps_series kind,
               const char *name, int64_t at, int64_t from, struct ps_err *err)
{
	char kbuf[PS_SYMBOL_MAX + 4], text[96], a[PS_ISOTIME_LEN],
	        f[PS_ISOTIME_LEN];
	struct ps_backfill_rec old;
	MDB_val k, v;
	int rc;

	rc = backfill_read(s, txn, kind, name, &old, err);
	if (rc < 0)
		return -1;
	if (rc == 1 && old.from < from)
		from = old.from;
	if (backfill_key(kind, name, kbuf, sizeof(kbuf), &k, err) < 0)
		return -1;
	ps_isotime_fmt(at, a);
	ps_isotime_fmt(from, f);
	f[10] = '\0';
	snprintf(text, sizeof(text), "{\"at\":\"%s\",\"from\":\"%s\"}", a, f);
	v = str_val(text);
	rc = mdb_put(txn, s->backfill, &k, &v, 0);
	if (rc != 0)
		return store_fail(s, err, "mdb_put backfill", rc);
	return 0;
}

int
ps_store_daily_put(struct ps_txn *t, const struct ps_daily_write *w,
                   size_t *added, struct ps_err *err)
{
	struct ps_store *s = t->s;
	size_t one = 0;
	MDB_val k, v;
	int rc;

	if (added != NULL)
		*added = 0;
	if (sym_key(w->name, &k, err) < 0)
		return -1;
	rc = w->kind == PS_SERIES_SYMBOL ? mdb_get(t->txn, s->symbols, &k, &v)
	                                 : 0;
	if (rc == MDB_NOTFOUND)
		return 0; /* removed while the backfill ran: nothing back */
	if (rc != 0)
		return store_fail(s, err, "mdb_get symbols", rc);
	if (daily_points(s, t->txn, w, &one, err) < 0 ||
	    (w->record && backfill_write(s, t->txn, w->kind, w->name, w->at,
	                                 w->from, err) < 0))
		return -1;
	if (added != NULL)
		*added = one;
	return 0;
}

int
ps_store_fx_put(struct ps_txn *t, const char *pair, int64_t at, double rate,
                struct ps_err *err)
{
	MDB_val k;

	if (sym_key(pair, &k, err) < 0)
		return -1;
	return series_point_put(t->s, t->txn, t->s->fx, pair, at, rate, err);
}

int
ps_store_backfill_get(struct ps_txn *t, enum ps_series kind, const char *name,
                      struct ps_backfill_rec *rec, struct ps_err *err)
{
	return backfill_read(t->s, t->txn, kind, name, rec, err);
}

/* One forward range scan: the last point before from, then every point up
 * to `to`. */
static int
series_scan(struct ps_store *s, MDB_cursor *cur, const char *name, int64_t from,
            int64_t to, struct ps_series_pts *out, struct ps_err *err)
{
	unsigned char key[PS_HKEY_MAX];
	size_t cap = 0, plen = strlen(name) + 1;
	struct ps_point p;
	MDB_val k, v;
	int rc;

	k.mv_size = ps_hkey_make(key, name, from);
	k.mv_data = key;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	/* Step back once for the value in force at `from`. */
	rc = rc == MDB_NOTFOUND
	             ? mdb_cursor_get(cur, &k, &v, MDB_LAST)
	             : (rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) : rc);
	if (rc == 0 && !hkey_is_of(&k, key, plen))
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0 && hkey_is_of(&k, key, plen)) {
		if (point_parse(&k, &v, &p, err) < 0)
			return -1;
		if (p.time > to)
			break;
		if (points_push(&out->pts, &out->n, &cap, err) < 0)
			return -1;
		out->pts[out->n++] = p;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_fail(s, err, "mdb_cursor_get", rc);
	return 0;
}

int
ps_store_series_read(struct ps_txn *t, enum ps_series kind,
                     const char *const *names, size_t n, int64_t from,
                     int64_t to, struct ps_series_pts *out, struct ps_err *err)
{
	MDB_cursor *cur;
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		out[i].pts = NULL, out[i].n = 0;
	rc = mdb_cursor_open(t->txn, series_dbi(t->s, kind), &cur);
	if (rc != 0)
		return store_fail(t->s, err, "mdb_cursor_open", rc);
	for (i = 0; i < n; i++)
		if (series_scan(t->s, cur, names[i], from, to, &out[i], err) <
		    0)
			break;
	mdb_cursor_close(cur);
	if (i == n)
		return 0;
	for (i = 0; i < n; i++) {
		free(out[i].pts);
		out[i].pts = NULL, out[i].n = 0;
	}
	return -1;
}
