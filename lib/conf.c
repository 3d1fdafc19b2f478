/*
 * conf: reads the one configuration file of SPEC §2, applies the environment
 * overrides and resolves the API key (env, then fmp_api_key, then the first
 * line of fmp_api_key_file). Errors name the file, the line and the key, and
 * quote the bad value, except the API key's, which no message ever shows.
 * Only whole-line '#' comments: a '#' inside a value is part of it.
 */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "conf.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/usr/local/var"
#endif

#define DEFAULT_PATH SYSCONFDIR "/pricesync.conf"
#define DEFAULT_DB LOCALSTATEDIR "/lib/pricesync"
#define DEFAULT_URL "https://financialmodelingprep.com"
/* A key file's first line longer than this is not a key. */
#define KEY_LINE_MAX PS_CONF_KEY_MAX

enum kind {
	K_PATH,
	K_URL,
	K_API,
	K_KEY,
	K_KEYFILE,
	K_INT,
	K_LONG,
	K_FX,
	K_BATCH
};

struct key {
	const char *name;
	enum kind kind;
	long min, max;      /* K_INT, K_LONG */
	size_t off;         /* K_INT (an int), K_LONG (a long) in ps_conf */
	const char *expect; /* what a good value looks like, for messages */
};

static const struct key keys[] = {
        {"db_path", K_PATH, 0, 0, 0, "a directory path"},
        {"fmp_base_url", K_URL, 0, 0, 0,
         "a URL starting with http:// or https://"},
        {"fmp_api", K_API, 0, 0, 0, "stable or v3"},
        {"fmp_api_key", K_KEY, 0, 0, 0, "the API key"},
        {"fmp_api_key_file", K_KEYFILE, 0, 0, 0, "a file path"},
        {"batch_size", K_INT, 1, 1000, offsetof(struct ps_conf, batch_size),
         NULL},
        {"concurrency", K_INT, 1, 32, offsetof(struct ps_conf, concurrency),
         NULL},
        {"timeout_s", K_INT, 1, 3600, offsetof(struct ps_conf, timeout_s),
         NULL},
        {"retries", K_INT, 0, 10, offsetof(struct ps_conf, retries), NULL},
        {"min_interval_s", K_INT, 0, 86400,
         offsetof(struct ps_conf, min_interval_s), NULL},
        {"fx_pair", K_FX, 0, 0, 0, "USDGBP or GBPUSD"},
        {"daily_request_limit", K_LONG, 0, 10000000,
         offsetof(struct ps_conf, daily_request_limit), NULL},
        {"fmp_batch", K_BATCH, 0, 0, 0, "auto, batch or single"},
        {"map_size_mb", K_LONG, 1, 1048576,
         offsetof(struct ps_conf, map_size_mb), NULL},
        {"history_days", K_INT, 1, 36500,
         offsetof(struct ps_conf, history_days), NULL},
};

/* Why a value was refused: the caller words the message. */
enum set_rc { SET_OK = 0, SET_BAD = -1, SET_NOMEM = -2 };

static const struct key *
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Replaces *slot with a copy of s. */
static enum set_rc
set_str(char **slot, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		return SET_NOMEM;
	free(*slot);
	*slot = p;
	return SET_OK;
}

/* Strict decimal: an optional '-' and digits only, nothing after, in range. */
static int
parse_long(const char *s, long min, long max, long *out)
{
	const char *p = s;
	char *end;
	long v;

	if (*p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* 1 when part is present in u (a user name, a query...). */
static int
has_part(CURLU *u, CURLUPart part)
{
	char *p = NULL;
	int found = curl_url_get(u, part, &p, 0) == CURLUE_OK;

	curl_free(p);
	return found;
}

/* Lower-cases the host and drops the scheme's own port, so that every
 * spelling of FMP's root compares equal to the default (the key check of
 * SPEC §2 depends on it). */
static int
url_canon_host(CURLU *u, const char *scheme)
{
	char *host = NULL, *port = NULL, *p;
	int rc = -1;

	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		return -1;
	for (p = host; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (host[0] == '\0' ||
	    curl_url_set(u, CURLUPART_HOST, host, 0) != CURLUE_OK)
		goto free_host;
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK &&
	    strcmp(port, strcmp(scheme, "https") == 0 ? "443" : "80") == 0 &&
	    curl_url_set(u, CURLUPART_PORT, NULL, 0) != CURLUE_OK)
		goto free_host;
	rc = 0;
free_host:
	curl_free(port);
	curl_free(host);
	return rc;
}

/* The canonical form of a base URL, malloc'd, or NULL when val is not an
 * http(s) URL with a host and nothing after the path (*nomem tells why). */
static char *
url_canon(const char *val, int *nomem)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *url = NULL, *out = NULL;
	size_t n;

	*nomem = u == NULL;
	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, val, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		goto free_url;
	/* The URL module appends "/stable/...?symbol=...&apikey=...". */
	if (has_part(u, CURLUPART_USER) || has_part(u, CURLUPART_QUERY) ||
	    has_part(u, CURLUPART_FRAGMENT) || url_canon_host(u, scheme) < 0 ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		goto free_url;
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	out = strndup(url, n);
	*nomem = out == NULL;
free_url:
	curl_free(url);
	curl_free(scheme);
	curl_url_cleanup(u);
	return out;
}

static enum set_rc
set_url(struct ps_conf *c, const char *val)
{
	int nomem;
	char *url;

	/* curl reads "http:/x" and "http:x" as URLs; users mean a typo. */
	if (strncasecmp(val, "https://", 8) != 0 &&
	    strncasecmp(val, "http://", 7) != 0)
		return SET_BAD;
	url = url_canon(val, &nomem);
	if (url == NULL)
		return nomem ? SET_NOMEM : SET_BAD;
	free(c->fmp_base_url);
	c->fmp_base_url = url;
	return SET_OK;
}

/* A relative key file is taken relative to the config file's directory:
 * the FastCGI programs' working directory is not something users choose. */
static enum set_rc
set_keyfile(struct ps_conf *c, const char *val)
{
	const char *slash;
	size_t dirlen;
	char *p;

	slash = c->path != NULL ? strrchr(c->path, '/') : NULL;
	if (val[0] == '/' || slash == NULL)
		return set_str(&c->fmp_api_key_file, val);
	dirlen = (size_t)(slash - c->path) + 1;
	p = malloc(dirlen + strlen(val) + 1);
	if (p == NULL)
		return SET_NOMEM;
	memcpy(p, c->path, dirlen);
	strcpy(p + dirlen, val);
	free(c->fmp_api_key_file);
	c->fmp_api_key_file = p;
	return SET_OK;
}

/* A key is one word of printable ASCII: a blank, a control character or a
 * byte-order mark in it would only make FMP reject it, as "%20..." in the
 * URL. */
static int
key_ok(const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!isgraph((unsigned char)key[i]))
			return 0;
	return len > 0;
}

static enum set_rc
set_value(struct ps_conf *c, const struct key *k, const char *val)
{
	long v;
	int i;

	if (val[0] == '\0')
		return SET_BAD;
	switch (k->kind) {
	case K_PATH:
		return set_str(&c->db_path, val);
	case K_URL:
		return set_url(c, val);
	case K_KEY:
		if (!key_ok(val, strlen(val)))
			return SET_BAD;
		return set_str(&c->fmp_api_key, val);
	case K_KEYFILE:
		return set_keyfile(c, val);
	case K_API:
		if (strcmp(val, "stable") == 0)
			c->fmp_api = PS_API_STABLE;
		else if (strcmp(val, "v3") == 0)
			c->fmp_api = PS_API_V3;
		else
			return SET_BAD;
		return SET_OK;
	case K_BATCH:
		if (strcmp(val, "auto") == 0)
			c->fmp_batch = PS_BATCH_AUTO;
		else if (strcmp(val, "batch") == 0)
			c->fmp_batch = PS_BATCH_BATCH;
		else if (strcmp(val, "single") == 0)
			c->fmp_batch = PS_BATCH_SINGLE;
		else
			return SET_BAD;
		return SET_OK;
	case K_FX:
		/* Prices are valued USD x rate: any other pair would value
		 * them with a rate that means something else (§2). */
		if (strcasecmp(val, "USDGBP") != 0 &&
		    strcasecmp(val, "GBPUSD") != 0)
			return SET_BAD;
		for (i = 0; i < 6; i++)
			c->fx_pair[i] = (char)toupper((unsigned char)val[i]);
		c->fx_pair[6] = '\0';
		return SET_OK;
	case K_INT:
	case K_LONG:
		if (parse_long(val, k->min, k->max, &v) < 0)
			return SET_BAD;
		if (k->kind == K_INT)
			*(int *)((char *)c + k->off) = (int)v;
		else
			*(long *)((char *)c + k->off) = v;
		return SET_OK;
	}
	return SET_BAD;
}

/* The message for a refused value: WHERE is "FILE:LINE" or an env name. */
static int
bad_value(const char *where, const struct key *k, const char *val,
          struct ps_err *err)
{
	char q[PS_QUOTE_SIZE];

	if (k->kind == K_INT || k->kind == K_LONG)
		return ps_err_set(err, PS_ECONFIG,
		                  "%s: bad value for %s: '%s' (expected an "
		                  "integer %ld..%ld)",
		                  where, k->name, ps_err_quote(val, q), k->min,
		                  k->max);
	/* The key itself is never quoted; only an empty one is refused. */
	return ps_err_set(err, PS_ECONFIG,
	                  "%s: bad value for %s: '%s' (expected %s)", where,
	                  k->name, k->kind == K_KEY ? "" : ps_err_quote(val, q),
	                  k->expect);
}

/* Adds a warning (see conf.h); one that does not fit is dropped. */
static void warn(struct ps_conf *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
warn(struct ps_conf *c, const char *fmt, ...)
{
	va_list ap;

	if (c->nwarnings >= PS_CONF_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(c->warnings[c->nwarnings++], sizeof(c->warnings[0]), fmt, ap);
	va_end(ap);
}

/* A file holding the key that others than its owner and group may read
 * (ssh refuses such a key; a warning is enough here, and says the fix). */
static void
check_private(struct ps_conf *c, FILE *f, const char *what, const char *name)
{
	char q[PS_QUOTE_SIZE];
	struct stat st;

	if (fstat(fileno(f), &st) < 0 || !(st.st_mode & (S_IROTH | S_IWOTH)))
		return;
	ps_err_quote(name, q);
	warn(c,
	     "%s %s holds the FMP API key and others can %s it (mode %04o): "
	     "chmod 600 %s, or chown root:pricesync and chmod 640 for the "
	     "programs' group",
	     what, q, st.st_mode & S_IROTH ? "read" : "write",
	     (unsigned)(st.st_mode & 07777), q);
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

/* One line (already without comments or blanks): "key = value". */
static int
parse_line(struct ps_conf *c, char *line, long lineno, struct ps_err *err)
{
	const struct key *k;
	char *eq, *name, *val, where[600], q[PS_QUOTE_SIZE];

	snprintf(where, sizeof(where), "%s:%ld", c->path, lineno);
	eq = strchr(line, '=');
	if (eq == NULL)
		return ps_err_set(err, PS_ECONFIG, "%s: expected 'key = value'",
		                  where);
	*eq = '\0';
	name = trim(line);
	val = trim(eq + 1);
	if (name[0] == '\0')
		return ps_err_set(err, PS_ECONFIG, "%s: expected 'key = value'",
		                  where);
	k = find_key(name);
	if (k == NULL)
		return ps_err_set(err, PS_ECONFIG, "%s: unknown key '%s'",
		                  where, ps_err_quote(name, q));
	switch (set_value(c, k, val)) {
	case SET_OK:
		return 0;
	case SET_NOMEM:
		return ps_err_set(err, PS_ENOMEM, "%s: out of memory", where);
	case SET_BAD:
		break;
	}
	return bad_value(where, k, val, err);
}

static int
read_file(struct ps_conf *c, struct ps_err *err)
{
	char *line = NULL, *s;
	size_t cap = 0;
	long lineno = 0;
	int rc = 0, had_key;
	FILE *f;

	f = fopen(c->path, "r");
	if (f == NULL) {
		/* No file at all is the documented "all defaults" case. */
		if (errno == ENOENT)
			return 0;
		return ps_err_set(err, PS_ECONFIG, "cannot read %s: %s",
		                  c->path, strerror(errno));
	}
	while (getline(&line, &cap, f) != -1) {
		lineno++;
		s = line;
		/* Tolerate a byte-order mark that some editors write. */
		if (lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
			s += 3;
		s = trim(s);
		if (s[0] == '\0' || s[0] == '#')
			continue;
		had_key = c->fmp_api_key != NULL;
		rc = parse_line(c, s, lineno, err);
		if (rc < 0)
			goto close_file;
		if (!had_key && c->fmp_api_key != NULL)
			check_private(c, f, "config", c->path);
	}
	if (ferror(f))
		rc = ps_err_set(err, PS_ECONFIG, "cannot read %s: %s", c->path,
		                strerror(errno));
close_file:
	free(line);
	fclose(f);
	return rc;
}

static int
apply_env(struct ps_conf *c, struct ps_err *err)
{
	const char *v;
	char q[PS_QUOTE_SIZE];

	/* An empty variable is treated as unset: `FOO= cmd` is a common way
	 * to "clear" one in shells and unit files. */
	v = getenv("PRICESYNC_DB");
	if (v != NULL && v[0] != '\0' && set_str(&c->db_path, v) != SET_OK)
		goto nomem;
	v = getenv("FMP_BASE_URL");
	if (v != NULL && v[0] != '\0') {
		switch (set_url(c, v)) {
		case SET_OK:
			break;
		case SET_NOMEM:
			goto nomem;
		case SET_BAD:
			return ps_err_set(err, PS_ECONFIG,
			                  "FMP_BASE_URL: bad value '%s' "
			                  "(expected a URL starting with "
			                  "http:// or https://)",
			                  ps_err_quote(v, q));
		}
	}
	v = getenv("FMP_API_KEY");
	if (v != NULL && v[0] != '\0' && set_str(&c->fmp_api_key, v) != SET_OK)
		goto nomem;
	return 0;
nomem:
	return ps_err_set(err, PS_ENOMEM, "out of memory reading the config");
}

/* The key in the key file's first line (line, n bytes read; ch the byte
 * that ended the read: EOF, '\n', or the one past a full buffer), cut in
 * place and NUL-terminated, in *key; or -1 with err. path and kf (quoted)
 * name the config and the key file. */
static int
key_of_line(char *line, size_t n, int ch, const char *path, const char *kf,
            char **key, struct ps_err *err)
{
	char *p = line, *end = line + n;

	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (ch != EOF && ch != '\n')
		return ps_err_set(err, PS_ECONFIG,
		                  "%s: fmp_api_key_file %s: first line is "
		                  "longer than %d bytes",
		                  path, kf, KEY_LINE_MAX);
	if (end == p)
		return ps_err_set(
		        err, PS_ECONFIG,
		        "%s: fmp_api_key_file %s: first line is empty", path,
		        kf);
	if (end - p > KEY_LINE_MAX)
		return ps_err_set(err, PS_ECONFIG,
		                  "%s: fmp_api_key_file %s: the key is longer "
		                  "than %d bytes",
		                  path, kf, KEY_LINE_MAX);
	if (!key_ok(p, (size_t)(end - p)))
		return ps_err_set(
		        err, PS_ECONFIG,
		        "%s: fmp_api_key_file %s: the first line holds "
		        "more than one word, a control character or a "
		        "byte that is not ASCII; it must hold only the key",
		        path, kf);
	*end = '\0';
	*key = p;
	return 0;
}

/* The key file's first line, without a byte-order mark, its line end or
 * blanks around it (editors and `echo KEY > file` leave them; FMP would
 * get them as "%20" and reject the key). Its content is never put in a
 * message, even when it is refused; its name is quoted, since it comes
 * from the config file's bytes. */
static int
read_key_file(struct ps_conf *c, struct ps_err *err)
{
	/* Room for a key of KEY_LINE_MAX, a BOM and some blanks around it. */
	char line[KEY_LINE_MAX + 3 + 64 + 1], kf[PS_QUOTE_SIZE], *key = NULL;
	size_t n = 0;
	FILE *f;
	int ch, rc = 0;

	ps_err_quote(c->fmp_api_key_file, kf);
	f = fopen(c->fmp_api_key_file, "r");
	if (f == NULL)
		return ps_err_set(err, PS_ECONFIG,
		                  "%s: cannot read fmp_api_key_file %s: %s",
		                  c->path, kf, strerror(errno));
	while ((ch = getc(f)) != EOF && ch != '\n' && n < sizeof(line) - 1)
		line[n++] = (char)ch;
	line[n] = '\0';
	if (ferror(f))
		rc = ps_err_set(err, PS_ECONFIG,
		                "%s: cannot read fmp_api_key_file %s: %s",
		                c->path, kf, strerror(errno));
	else if (n == 0 && ch == EOF)
		rc = ps_err_set(err, PS_ECONFIG,
		                "%s: fmp_api_key_file %s is empty", c->path,
		                kf);
	else
		rc = key_of_line(line, n, ch, c->path, kf, &key, err);
	if (rc < 0)
		goto wipe_line;
	if (set_str(&c->fmp_api_key, key) != SET_OK)
		rc = ps_err_set(err, PS_ENOMEM, "out of memory");
	else
		check_private(c, f, "fmp_api_key_file", c->fmp_api_key_file);
wipe_line:
	/* Not a secret store, but no reason to leave a copy on the stack. */
	memset(line, 0, sizeof(line));
	fclose(f);
	return rc;
}

const char *
ps_conf_default_path(void)
{
	const char *p = getenv("PRICESYNC_CONFIG");

	if (p != NULL && p[0] != '\0')
		return p;
	return DEFAULT_PATH;
}

int
ps_conf_defaults(struct ps_conf *c, struct ps_err *err)
{
	memset(c, 0, sizeof(*c));
	c->path = strdup(ps_conf_default_path());
	c->db_path = strdup(DEFAULT_DB);
	c->fmp_base_url = strdup(DEFAULT_URL);
	if (c->path == NULL || c->db_path == NULL || c->fmp_base_url == NULL) {
		ps_conf_free(c);
		return ps_err_set(err, PS_ENOMEM,
		                  "out of memory reading the config");
	}
	c->base_url_is_default = 1;
	c->fmp_api = PS_API_STABLE;
	c->batch_size = 50;
	c->concurrency = 4;
	c->timeout_s = 15;
	c->retries = 2;
	c->min_interval_s = 30;
	memcpy(c->fx_pair, "USDGBP", 7);
	c->daily_request_limit = 0;
	c->fmp_batch = PS_BATCH_AUTO;
	c->map_size_mb = 1024;
	c->history_days = 365;
	return 0;
}

int
ps_conf_load(struct ps_conf *c, const char *path, struct ps_err *err)
{
	if (ps_conf_defaults(c, err) < 0)
		return -1;
	if (path != NULL && set_str(&c->path, path) != SET_OK) {
		ps_err_set(err, PS_ENOMEM, "out of memory reading the config");
		goto free_conf;
	}
	if (read_file(c, err) < 0 || apply_env(c, err) < 0)
		goto free_conf;
	c->base_url_is_default = strcmp(c->fmp_base_url, DEFAULT_URL) == 0;
	if (c->fmp_api_key == NULL && c->fmp_api_key_file != NULL &&
	    read_key_file(c, err) < 0)
		goto free_conf;
	return 0;
free_conf:
	ps_conf_free(c);
	return -1;
}

int
ps_conf_check_key(const struct ps_conf *c, struct ps_err *err)
{
	if (c->fmp_api_key != NULL || !c->base_url_is_default)
		return 0;
	return ps_err_set(err, PS_ECONFIG,
	                  "no FMP API key: set fmp_api_key or fmp_api_key_file "
	                  "in %s",
	                  c->path != NULL ? c->path : ps_conf_default_path());
}

void
ps_conf_free(struct ps_conf *c)
{
	free(c->path);
	free(c->db_path);
	free(c->fmp_base_url);
	if (c->fmp_api_key != NULL) {
		memset(c->fmp_api_key, 0, strlen(c->fmp_api_key));
		free(c->fmp_api_key);
	}
	free(c->fmp_api_key_file);
	memset(c, 0, sizeof(*c));
}
