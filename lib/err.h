/*
 * err: the error codes of SPEC §4/§5 and a message a user can act on.
 * Every fallible function in lib/ returns -1 (or a negative value) and fills
 * the struct ps_err given last; the programs only print it, so the CLI and
 * the HTTP programs never disagree. No allocation: the struct is a value.
 */
#ifndef PS_ERR_H
#define PS_ERR_H

enum ps_code {
	PS_OK = 0,
	PS_ECONFIG,               /* "config" */
	PS_ESTORE,                /* "store" */
	PS_EUPSTREAM_AUTH,        /* "upstream_auth" */
	PS_EUPSTREAM_QUOTA,       /* "upstream_quota" */
	PS_EUPSTREAM_PLAN,        /* "upstream_plan" */
	PS_EUPSTREAM_UNAVAILABLE, /* "upstream_unavailable" */
	PS_EUPSTREAM,         /* "upstream": one batch failed, sync goes on */
	PS_ESYNC_IN_PROGRESS, /* "sync_in_progress" */
	PS_ECOOLDOWN,         /* "cooldown" */
	PS_EBAD_REQUEST,      /* "bad_request" */
	PS_ENOT_FOUND,        /* "not_found" */
	PS_EMETHOD,           /* "method_not_allowed" */
	PS_EFORBIDDEN_ORIGIN, /* "forbidden_origin" */
	PS_EINVALID,          /* "invalid": bad user input (symbol, CSV line) */
	PS_ENOMEM,            /* "out_of_memory" */
	PS_EINTERNAL          /* "internal" */
};

struct ps_err {
	enum ps_code code;
	/* for PS_ECOOLDOWN, the seconds until the next try may start;
	 * else 0 */
	long retry_after;
	char msg[512];
};

/* The SPEC name of a code ("upstream_auth"); never NULL. */
const char *ps_code_name(enum ps_code code);

/* Fills err (which may be NULL) and returns -1, so callers can write
 * `return ps_err_set(err, PS_ESTORE, "mdb_put: %s", mdb_strerror(rc));`. */
int ps_err_set(struct ps_err *err, enum ps_code code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define PS_QUOTE_MAX 60
#define PS_QUOTE_SIZE (PS_QUOTE_MAX + 4)

/* Copies at most PS_QUOTE_MAX bytes of s into out, '?' for anything
 * unprintable and "..." when cut, so a value quoted in a message cannot
 * break a log line or drive a terminal. Returns out. */
const char *ps_err_quote(const char *s, char out[PS_QUOTE_SIZE]);

/* Resets err to PS_OK with an empty message. */
void ps_err_clear(struct ps_err *err);

#endif
