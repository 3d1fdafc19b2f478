/*
 * t-conf: the configuration file of SPEC §2. Defaults, every key, the
 * environment overrides, where the API key comes from, and each way a file
 * can be wrong, checking that the message names the file, line and key and
 * never shows the API key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "tap.h"

#define SECRET "s3cr3t-KEY-value"

static char *dir;      /* a fresh temporary directory */
static char path[512]; /* dir/pricesync.conf */

static void
write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		tap_diag("cannot write %s", p);
}

static void
clear_env(void)
{
	unsetenv("PRICESYNC_CONFIG");
	unsetenv("PRICESYNC_DB");
	unsetenv("FMP_BASE_URL");
	unsetenv("FMP_API_KEY");
}

static int
load(const char *text, struct ps_conf *c, struct ps_err *e)
{
	write_file(path, text);
	ps_err_clear(e);
	return ps_conf_load(c, path, e);
}

/* Loads text, expecting a config error whose message is "PATH" + tail. */
static void
expect_err(const char *text, const char *tail)
{
	struct ps_conf c;
	struct ps_err e;
	char want[1024];
	int rc;

	snprintf(want, sizeof(want), "%s%s", path, tail);
	rc = load(text, &c, &e);
	tap_ok(rc == -1 && e.code == PS_ECONFIG, "refused: %s", tail);
	tap_str(e.msg, want, "  message");
	tap_ok(strstr(e.msg, SECRET) == NULL, "  no key in the message");
	tap_ok(c.path == NULL && c.db_path == NULL, "  conf freed on error");
}

static void
test_defaults(void)
{
	struct ps_conf c;
	struct ps_err e;

	tap_int(ps_conf_defaults(&c, &e), 0, "defaults");
	tap_str(c.db_path, LOCALSTATEDIR "/lib/pricesync", "db_path default");
	tap_str(c.fmp_base_url, "https://financialmodelingprep.com",
	        "fmp_base_url default");
	tap_int(c.base_url_is_default, 1, "base URL is the default");
	tap_int(c.fmp_api, PS_API_STABLE, "fmp_api default");
	tap_ok(c.fmp_api_key == NULL && c.fmp_api_key_file == NULL,
	       "no key by default");
	tap_int(c.batch_size, 50, "batch_size default");
	tap_int(c.concurrency, 4, "concurrency default");
	tap_int(c.timeout_s, 15, "timeout_s default");
	tap_int(c.retries, 2, "retries default");
	tap_int(c.min_interval_s, 30, "min_interval_s default");
	tap_str(c.fx_pair, "USDGBP", "fx_pair default");
	tap_int(c.daily_request_limit, 0, "daily_request_limit default");
	tap_int(c.fmp_batch, PS_BATCH_AUTO, "fmp_batch default");
	tap_int(c.map_size_mb, 1024, "map_size_mb default");
	tap_str(c.path, SYSCONFDIR "/pricesync.conf", "path default");
	ps_conf_free(&c);
	ps_conf_free(&c);
	tap_ok(c.path == NULL, "free twice is safe");
}

static void
test_default_path(void)
{
	struct ps_conf c;
	struct ps_err e;
	char missing[600];

	tap_str(ps_conf_default_path(), SYSCONFDIR "/pricesync.conf",
	        "default path from SYSCONFDIR");
	setenv("PRICESYNC_CONFIG", "", 1);
	tap_str(ps_conf_default_path(), SYSCONFDIR "/pricesync.conf",
	        "empty PRICESYNC_CONFIG ignored");
	snprintf(missing, sizeof(missing), "%s/nope.conf", dir);
	setenv("PRICESYNC_CONFIG", missing, 1);
	tap_str(ps_conf_default_path(), missing, "PRICESYNC_CONFIG wins");
	tap_int(ps_conf_load(&c, NULL, &e), 0,
	        "load(NULL) reads PRICESYNC_CONFIG; missing file is defaults");
	tap_str(c.path, missing, "path remembered");
	tap_int(c.batch_size, 50, "defaults kept");
	ps_conf_free(&c);
	unsetenv("PRICESYNC_CONFIG");
}

static void
test_full_file(void)
{
	static const char text[] =
	        "\xEF\xBB\xBF# a full config\n"
	        "\n"
	        "   # indented comment\n"
	        "db_path = /var/db/ps  \n"
	        "fmp_base_url=http://127.0.0.1:8080/fake//\r\n"
	        "\tfmp_api\t=\tv3\n"
	        "fmp_api_key = " SECRET "\n"
	        "batch_size = 1000\n"
	        "concurrency = 32\n"
	        "timeout_s = 3600\n"
	        "retries = 0\n"
	        "min_interval_s = 86400\n"
	        "fx_pair = gbpusd\n"
	        "daily_request_limit = 10000000\n"
	        "fmp_batch = single\n"
	        "map_size_mb = 1048576\n"
	        "batch_size = 7\n"
	        "fmp_api_key = other=with=equals\n";
	struct ps_conf c;
	struct ps_err e;

	if (!tap_int(load(text, &c, &e), 0, "full file loads"))
		tap_diag("%s", e.msg);
	tap_str(c.db_path, "/var/db/ps", "db_path, trailing blanks trimmed");
	tap_str(c.fmp_base_url, "http://127.0.0.1:8080/fake",
	        "base URL, CRLF and trailing slashes stripped");
	tap_int(c.base_url_is_default, 0, "not the default URL");
	tap_int(c.fmp_api, PS_API_V3, "fmp_api v3, tabs around");
	tap_str(c.fmp_api_key, "other=with=equals",
	        "duplicate key: last wins; '=' in a value");
	tap_int(c.batch_size, 7, "duplicate batch_size: last wins");
	tap_int(c.concurrency, 32, "concurrency max");
	tap_int(c.timeout_s, 3600, "timeout_s max");
	tap_int(c.retries, 0, "retries min");
	tap_int(c.min_interval_s, 86400, "min_interval_s max");
	tap_str(c.fx_pair, "GBPUSD", "fx_pair GBPUSD, upper-cased");
	tap_int(c.daily_request_limit, 10000000, "daily_request_limit max");
	tap_int(c.fmp_batch, PS_BATCH_SINGLE, "fmp_batch single");
	tap_int(c.map_size_mb, 1048576, "map_size_mb max");
	tap_str(c.path, path, "path");
	ps_conf_free(&c);

	tap_int(load("batch_size=1\nconcurrency=1\ntimeout_s=1\nretries=10\n"
	             "min_interval_s=0\ndaily_request_limit=0\nmap_size_mb=1\n"
	             "fmp_batch=batch\nfmp_api=stable\n",
	             &c, &e),
	        0, "minimum values");
	tap_ok(c.batch_size == 1 && c.concurrency == 1 && c.timeout_s == 1 &&
	               c.retries == 10 && c.min_interval_s == 0 &&
	               c.daily_request_limit == 0 && c.map_size_mb == 1 &&
	               c.fmp_batch == PS_BATCH_BATCH &&
	               c.fmp_api == PS_API_STABLE,
	       "minimum values read");
	ps_conf_free(&c);

	tap_int(load("fmp_base_url = https://financialmodelingprep.com/\n", &c,
	             &e),
	        0, "default URL spelt with a slash");
	tap_int(c.base_url_is_default, 1, "still counts as the default");
	ps_conf_free(&c);
	tap_int(load("", &c, &e), 0, "empty file");
	tap_int(c.batch_size, 50, "empty file is defaults");
	ps_conf_free(&c);
}

/* Issue 9, defect 10: every spelling of FMP's root is the default (so a
 * sync without a key is refused), and other URLs are kept canonical. */
static void
test_url_spellings(void)
{
	static const struct {
		const char *in, *out;
		int is_default;
	} cases[] = {
	        {"https://FinancialModelingPrep.com:443",
	         "https://financialmodelingprep.com", 1},
	        {"HTTPS://financialmodelingprep.COM:443/",
	         "https://financialmodelingprep.com", 1},
	        {"https://financialmodelingprep.com:8443",
	         "https://financialmodelingprep.com:8443", 0},
	        {"http://financialmodelingprep.com",
	         "http://financialmodelingprep.com", 0},
	        {"http://Example.ORG:80/Fake/", "http://example.org/Fake", 0},
	        {"http://[::1]:8080//", "http://[::1]:8080", 0},
	};
	struct ps_conf c;
	struct ps_err e;
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "fmp_base_url = %s\n",
		         cases[i].in);
		if (!tap_int(load(text, &c, &e), 0, cases[i].in)) {
			tap_diag("%s", e.msg);
			continue;
		}
		tap_str(c.fmp_base_url, cases[i].out, "  canonical form");
		tap_int(c.base_url_is_default, cases[i].is_default,
		        cases[i].is_default ? "  is the default"
		                            : "  is not the default");
		ps_conf_free(&c);
	}
}

static void
test_bad_lines(void)
{
	static const struct {
		const char *text, *tail;
	} cases[] = {
	        {"just words\n", ":1: expected 'key = value'"},
	        {SECRET "\n", ":1: expected 'key = value'"},
	        {"= 5\n", ":1: expected 'key = value'"},
	        {"# c\n\n  \nfoo = 1\n", ":4: unknown key 'foo'"},
	        {"Batch_Size = 1\n", ":1: unknown key 'Batch_Size'"},
	        {"batch_size = 50 # default\n",
	         ":1: bad value for batch_size: '50 # default' (expected an "
	         "integer 1..1000)"},
	        {"db_path =\n",
	         ":1: bad value for db_path: '' (expected a directory path)"},
	        {"fmp_api_key =   \n",
	         ":1: bad value for fmp_api_key: '' (expected the API key)"},
	        {"fmp_api_key_file =\n", ":1: bad value for fmp_api_key_file: "
	                                 "'' (expected a file path)"},
	        {"fmp_api = v4\n",
	         ":1: bad value for fmp_api: 'v4' (expected stable or v3)"},
	        {"fmp_api = Stable\n",
	         ":1: bad value for fmp_api: 'Stable' (expected stable or v3)"},
	        {"fmp_batch = multi\n", ":1: bad value for fmp_batch: 'multi' "
	                                "(expected auto, batch or single)"},
	        {"fx_pair = USDGB\n", ":1: bad value for fx_pair: 'USDGB' "
	                              "(expected USDGBP or GBPUSD)"},
	        {"fx_pair = USDGBPX\n", ":1: bad value for fx_pair: 'USDGBPX' "
	                                "(expected USDGBP or GBPUSD)"},
	        {"fx_pair = US1GBP\n", ":1: bad value for fx_pair: 'US1GBP' "
	                               "(expected USDGBP or GBPUSD)"},
	        /* Issue 9, defect 9: any six letters valued USD prices. */
	        {"fx_pair = EURGBP\n", ":1: bad value for fx_pair: 'EURGBP' "
	                               "(expected USDGBP or GBPUSD)"},
	        {"fx_pair = GBPEUR\n", ":1: bad value for fx_pair: 'GBPEUR' "
	                               "(expected USDGBP or GBPUSD)"},
	        /* Issue 9, defect 10: not a URL at all. */
	        {"fmp_base_url = http://[::1:bad\n",
	         ":1: bad value for fmp_base_url: 'http://[::1:bad' (expected "
	         "a URL starting with http:// or https://)"},
	        {"fmp_base_url = http://127.0.0.1:99999\n",
	         ":1: bad value for fmp_base_url: 'http://127.0.0.1:99999' "
	         "(expected a URL starting with http:// or https://)"},
	        {"fmp_base_url = http://127.0.0.1:8080/?a=1\n",
	         ":1: bad value for fmp_base_url: 'http://127.0.0.1:8080/?a=1' "
	         "(expected a URL starting with http:// or https://)"},
	        {"fmp_base_url = http://u:p@127.0.0.1:8080\n",
	         ":1: bad value for fmp_base_url: 'http://u:p@127.0.0.1:8080' "
	         "(expected a URL starting with http:// or https://)"},
	        {"fmp_base_url = ftp://x\n",
	         ":1: bad value for fmp_base_url: 'ftp://x' (expected a URL "
	         "starting with http:// or https://)"},
	        {"fmp_base_url = financialmodelingprep.com\n",
	         ":1: bad value for fmp_base_url: 'financialmodelingprep.com' "
	         "(expected a URL starting with http:// or https://)"},
	        {"fmp_base_url = https:///\n",
	         ":1: bad value for fmp_base_url: 'https:///' (expected a URL "
	         "starting with http:// or https://)"},
	        {"fmp_api_key = " SECRET "\nretries = 11\n",
	         ":2: bad value for retries: '11' (expected an integer 0..10)"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_err(cases[i].text, cases[i].tail);
}

static void
test_bad_ints(void)
{
	static const struct {
		const char *key;
		long min, max;
	} ints[] = {
	        {"batch_size", 1, 1000},
	        {"concurrency", 1, 32},
	        {"timeout_s", 1, 3600},
	        {"retries", 0, 10},
	        {"min_interval_s", 0, 86400},
	        {"daily_request_limit", 0, 10000000},
	        {"map_size_mb", 1, 1048576},
	};
	static const char *const junk[] = {
	        "abc", "12x", "+5",  "0x10",
	        "1 2", "-",   "1.5", "99999999999999999999"};
	char text[128], tail[256], v[32];
	size_t i, j;

	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		for (j = 0; j < 2 + sizeof(junk) / sizeof(junk[0]); j++) {
			if (j == 0)
				snprintf(v, sizeof(v), "%ld", ints[i].min - 1);
			else if (j == 1)
				snprintf(v, sizeof(v), "%ld", ints[i].max + 1);
			else
				snprintf(v, sizeof(v), "%s", junk[j - 2]);
			snprintf(text, sizeof(text), "%s = %s\n", ints[i].key,
			         v);
			snprintf(tail, sizeof(tail),
			         ":1: bad value for %s: '%s' (expected an "
			         "integer %ld..%ld)",
			         ints[i].key, v, ints[i].min, ints[i].max);
			expect_err(text, tail);
		}
	}
}

static void
test_env(void)
{
	struct ps_conf c;
	struct ps_err e;
	char want[600];

	setenv("PRICESYNC_DB", "/env/db", 1);
	setenv("FMP_BASE_URL", "http://127.0.0.1:9/", 1);
	setenv("FMP_API_KEY", "env-key", 1);
	tap_int(load("db_path = /file/db\nfmp_api_key = file-key\n"
	             "fmp_base_url = https://example.com\n",
	             &c, &e),
	        0, "env overrides load");
	tap_str(c.db_path, "/env/db", "PRICESYNC_DB overrides db_path");
	tap_str(c.fmp_base_url, "http://127.0.0.1:9",
	        "FMP_BASE_URL overrides, slash stripped");
	tap_int(c.base_url_is_default, 0, "overridden URL is not default");
	tap_str(c.fmp_api_key, "env-key", "FMP_API_KEY beats fmp_api_key");
	ps_conf_free(&c);

	setenv("PRICESYNC_DB", "", 1);
	setenv("FMP_BASE_URL", "", 1);
	setenv("FMP_API_KEY", "", 1);
	tap_int(load("db_path = /file/db\nfmp_api_key = file-key\n", &c, &e), 0,
	        "empty env vars");
	tap_str(c.db_path, "/file/db", "empty PRICESYNC_DB ignored");
	tap_str(c.fmp_base_url, "https://financialmodelingprep.com",
	        "empty FMP_BASE_URL ignored");
	tap_str(c.fmp_api_key, "file-key", "empty FMP_API_KEY ignored");
	ps_conf_free(&c);

	setenv("FMP_BASE_URL", "https://financialmodelingprep.com", 1);
	tap_int(load("fmp_base_url = http://127.0.0.1:1\n", &c, &e), 0,
	        "env sets the real URL back");
	tap_int(c.base_url_is_default, 1,
	        "base_url_is_default decided after overrides");
	ps_conf_free(&c);

	setenv("FMP_BASE_URL", "localhost:8080", 1);
	tap_int(load("", &c, &e), -1, "bad FMP_BASE_URL refused");
	tap_str(e.msg,
	        "FMP_BASE_URL: bad value 'localhost:8080' (expected a URL "
	        "starting with http:// or https://)",
	        "  message names the variable");
	clear_env();

	/* With no file at all, the overrides still apply. */
	setenv("PRICESYNC_DB", "/env/only", 1);
	snprintf(want, sizeof(want), "%s/absent.conf", dir);
	tap_int(ps_conf_load(&c, want, &e), 0, "missing file + env");
	tap_str(c.db_path, "/env/only", "env applies without a file");
	ps_conf_free(&c);
	clear_env();
}

static void
test_key_file(void)
{
	struct ps_conf c;
	struct ps_err e;
	char kf[600], sub[600], text[1200], want[1200], longline[5000];

	snprintf(kf, sizeof(kf), "%s/key.txt", dir);
	write_file(kf, "file-secret\r\nsecond line\n");
	snprintf(text, sizeof(text), "fmp_api_key_file = %s\n", kf);
	tap_int(load(text, &c, &e), 0, "key file");
	tap_str(c.fmp_api_key, "file-secret", "first line, CRLF stripped");
	tap_str(c.fmp_api_key_file, kf, "key file path kept");
	ps_conf_free(&c);

	tap_int(load("fmp_api_key_file = key.txt\n", &c, &e), 0,
	        "relative key file");
	tap_str(c.fmp_api_key, "file-secret",
	        "relative to the config file's directory");
	ps_conf_free(&c);

	write_file(kf, "no-newline");
	tap_int(load(text, &c, &e), 0, "key file without a newline");
	tap_str(c.fmp_api_key, "no-newline", "whole line taken");
	ps_conf_free(&c);

	snprintf(text, sizeof(text),
	         "fmp_api_key_file = %s\nfmp_api_key = direct\n", kf);
	tap_int(load(text, &c, &e), 0, "key and key file");
	tap_str(c.fmp_api_key, "direct", "fmp_api_key beats the key file");
	ps_conf_free(&c);
	setenv("FMP_API_KEY", "from-env", 1);
	tap_int(load(text, &c, &e), 0, "env, key and key file");
	tap_str(c.fmp_api_key, "from-env", "FMP_API_KEY beats both");
	ps_conf_free(&c);

	/* An unreadable key file is not read when a better key exists. */
	snprintf(text, sizeof(text), "fmp_api_key_file = %s/missing\n", dir);
	tap_int(load(text, &c, &e), 0, "missing key file unused with env");
	ps_conf_free(&c);
	clear_env();
	tap_int(load(text, &c, &e), -1, "missing key file is an error");
	snprintf(want, sizeof(want),
	         "%s: cannot read fmp_api_key_file %s/missing: No such file "
	         "or directory",
	         path, dir);
	tap_str(e.msg, want, "  naming the config and the key file");

	write_file(kf, "\n" SECRET "\n");
	snprintf(text, sizeof(text), "fmp_api_key_file = %s\n", kf);
	tap_int(load(text, &c, &e), -1, "empty first line refused");
	tap_ok(strstr(e.msg, "first line is empty") != NULL &&
	               strstr(e.msg, kf) != NULL,
	       "  says so: %s", e.msg);
	tap_ok(strstr(e.msg, SECRET) == NULL, "  content not shown");
	write_file(kf, "");
	tap_int(load(text, &c, &e), -1, "empty key file refused");
	tap_ok(strstr(e.msg, "is empty") != NULL, "  says so: %s", e.msg);

	memset(longline, 'k', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	memcpy(longline, SECRET, strlen(SECRET));
	write_file(kf, longline);
	tap_int(load(text, &c, &e), -1, "over-long key line refused");
	tap_ok(strstr(e.msg, SECRET) == NULL && strstr(e.msg, "kkkk") == NULL,
	       "  content not shown: %s", e.msg);

	/* A directory opens but cannot be read: an error, not "empty". */
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	if (mkdir(sub, 0700) == 0) {
		snprintf(text, sizeof(text), "fmp_api_key_file = %s\n", sub);
		tap_int(load(text, &c, &e), -1, "key file is a directory");
		tap_ok(strstr(e.msg, "cannot read fmp_api_key_file") != NULL,
		       "  says it cannot read it: %s", e.msg);
		tap_int(ps_conf_load(&c, sub, &e), -1,
		        "config path is a directory");
		snprintf(want, sizeof(want), "cannot read %s: ", sub);
		tap_ok(strncmp(e.msg, want, strlen(want)) == 0,
		       "  names it: %s", e.msg);
		rmdir(sub);
	}
}

/* What editors, `echo KEY > file` and Windows leave around a key is not
 * part of it: trailing blanks, CR, a byte-order mark. The documented
 * maximum, PS_CONF_KEY_MAX bytes, is accepted, one more is not. */
static void
test_key_file_clean(void)
{
	static const char *const good[] = {
	        "file-secret  \n",
	        "file-secret\t\n",
	        "file-secret\r\n",
	        "file-secret \t\r\n",
	        "\xEF\xBB\xBF"
	        "file-secret\r\n",
	        "  file-secret\n",
	        "file-secret",
	        "file-secret\n\nignored\n",
	};
	static const char *const bad[] = {
	        "file secret\n",
	        "file\x1bsecret\n",
	        "file-s\xC3\xA9"
	        "cret\n",
	        "  \t\r\n",
	        "\xEF\xBB\xBF\n",
	};
	struct ps_conf c;
	struct ps_err e;
	char kf[600], text[1200], *big;
	size_t i;

	snprintf(kf, sizeof(kf), "%s/clean.key", dir);
	snprintf(text, sizeof(text), "fmp_api_key_file = %s\n", kf);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		write_file(kf, good[i]);
		if (!tap_ok(load(text, &c, &e) == 0, "key file %zu loads: %s",
		            i, e.msg))
			continue;
		tap_str(c.fmp_api_key, "file-secret", "  just the key");
		ps_conf_free(&c);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(kf, bad[i]);
		tap_ok(load(text, &c, &e) == -1 && e.code == PS_ECONFIG &&
		               strstr(e.msg, kf) != NULL,
		       "bad key file %zu refused: %s", i, e.msg);
		tap_ok(strstr(e.msg, "secret") == NULL, "  content not shown");
	}
	/* A NUL would cut the key short where a C string reads it. */
	{
		FILE *f = fopen(kf, "w");

		if (f != NULL) {
			fwrite("file\0secret\n", 1, 12, f);
			fclose(f);
		}
		tap_int(load(text, &c, &e), -1, "a NUL in the key refused");
	}
	big = malloc(PS_CONF_KEY_MAX + 80);
	if (big == NULL)
		return;
	memset(big, 'k', PS_CONF_KEY_MAX);
	strcpy(big + PS_CONF_KEY_MAX, "\n");
	write_file(kf, big);
	tap_int(load(text, &c, &e), 0, "a key of the maximum length");
	tap_int(c.fmp_api_key ? (long long)strlen(c.fmp_api_key) : -1,
	        PS_CONF_KEY_MAX, "  all of it");
	ps_conf_free(&c);
	strcpy(big + PS_CONF_KEY_MAX, " \t\r\n");
	write_file(kf, big);
	tap_int(load(text, &c, &e), 0, "  with blanks and CRLF after it");
	ps_conf_free(&c);
	memcpy(big, "\xEF\xBB\xBF", 3);
	memset(big + 3, 'k', PS_CONF_KEY_MAX);
	strcpy(big + 3 + PS_CONF_KEY_MAX, "\r\n");
	write_file(kf, big);
	tap_int(load(text, &c, &e), 0, "  with a BOM before it");
	ps_conf_free(&c);
	memset(big, 'k', PS_CONF_KEY_MAX + 1);
	strcpy(big + PS_CONF_KEY_MAX + 1, "\n");
	write_file(kf, big);
	tap_int(load(text, &c, &e), -1, "one byte more is refused");
	tap_ok(strstr(e.msg, "longer than 4096") != NULL &&
	               strstr(e.msg, "kkkk") == NULL,
	       "  says so, content not shown: %s", e.msg);
	free(big);
}

/* A file holding the key that others can read gets a warning naming it
 * and the fix, as ssh does; owner and group only is quiet. */
static void
test_key_private(void)
{
	struct ps_conf c;
	struct ps_err e;
	char kf[600], text[1200];

	snprintf(kf, sizeof(kf), "%s/private.key", dir);
	write_file(kf, "file-secret\n");
	snprintf(text, sizeof(text), "fmp_api_key_file = %s\n", kf);
	chmod(kf, 0644);
	tap_int(load(text, &c, &e), 0, "a key file others can read loads");
	tap_int(c.nwarnings, 1, "  with a warning");
	tap_ok(strstr(c.warnings[0], kf) &&
	               strstr(c.warnings[0], "chmod 600") &&
	               strstr(c.warnings[0], "root:pricesync") &&
	               strstr(c.warnings[0], "0644"),
	       "  naming the file, its mode and the fix: %s", c.warnings[0]);
	tap_ok(strstr(c.warnings[0], "file-secret") == NULL, "  not the key");
	ps_conf_free(&c);
	chmod(kf, 0600);
	tap_int(load(text, &c, &e), 0, "mode 600");
	tap_int(c.nwarnings, 0, "  no warning");
	ps_conf_free(&c);
	chmod(kf, 0640);
	tap_int(load(text, &c, &e), 0, "mode 640");
	tap_int(c.nwarnings, 0, "  no warning (the group is pricesync)");
	ps_conf_free(&c);
	chmod(kf, 0602);
	tap_int(load(text, &c, &e), 0, "mode 602");
	tap_ok(c.nwarnings == 1 && strstr(c.warnings[0], "can write"),
	       "  others can write it: %s", c.warnings[0]);
	ps_conf_free(&c);

	write_file(path, "fmp_api_key = " SECRET "\n");
	chmod(path, 0644);
	tap_int(ps_conf_load(&c, path, &e), 0, "a config holding a key");
	tap_ok(c.nwarnings == 1 && strstr(c.warnings[0], path) &&
	               strstr(c.warnings[0], "config") &&
	               !strstr(c.warnings[0], SECRET),
	       "  others can read it: a warning: %s", c.warnings[0]);
	ps_conf_free(&c);
	chmod(path, 0640);
	tap_int(ps_conf_load(&c, path, &e), 0, "the same config, mode 640");
	tap_int(c.nwarnings, 0, "  no warning");
	ps_conf_free(&c);
	write_file(path, "batch_size = 10\n");
	chmod(path, 0644);
	tap_int(ps_conf_load(&c, path, &e), 0, "a config without a key");
	tap_int(c.nwarnings, 0, "  no warning at mode 644");
	ps_conf_free(&c);
	setenv("FMP_API_KEY", "from-env", 1);
	write_file(path, "fmp_api_key = " SECRET "\n");
	tap_int(ps_conf_load(&c, path, &e), 0, "env key, config key too");
	tap_int(c.nwarnings, 1, "  the config's key is still exposed: warned");
	ps_conf_free(&c);
	clear_env();
	write_file(path, "fmp_api_key = two words\n");
	tap_int(ps_conf_load(&c, path, &e), -1, "a key of two words refused");
	tap_ok(strstr(e.msg, "fmp_api_key") && !strstr(e.msg, "words"),
	       "  naming the key, not its value: %s", e.msg);
}

/* The shipped sample: every "#key = value" line, uncommented, must load and
 * give the defaults (db_path shows the distribution's /var). */
static void
test_sample(void)
{
	const char *top = getenv("top_srcdir");
	struct ps_conf c, d;
	struct ps_err e;
	struct ps_buf text = {0};
	char sample[600], line[512];
	int keys = 0;
	FILE *f;

	snprintf(sample, sizeof(sample), "%s/etc/pricesync.conf",
	         top != NULL ? top : "..");
	f = fopen(sample, "r");
	if (!tap_ok(f != NULL, "sample config %s opens", sample))
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *eq = strstr(line, " = ");

		if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' &&
		    eq != NULL && eq[3] != '\n') {
			ps_buf_puts(&text, line + 1);
			keys++;
		}
	}
	fclose(f);
	tap_int(keys, 13, "sample: 13 keys with a default value");
	tap_int(load(text.data != NULL ? text.data : "", &c, &e), 0,
	        "sample uncommented loads");
	ps_conf_defaults(&d, &e);
	tap_str(c.db_path, "/var/lib/pricesync", "sample db_path");
	tap_ok(strcmp(c.fmp_base_url, d.fmp_base_url) == 0 &&
	               c.base_url_is_default && c.fmp_api == d.fmp_api &&
	               c.fmp_api_key == NULL && c.batch_size == d.batch_size &&
	               c.concurrency == d.concurrency &&
	               c.timeout_s == d.timeout_s && c.retries == d.retries &&
	               c.min_interval_s == d.min_interval_s &&
	               strcmp(c.fx_pair, d.fx_pair) == 0 &&
	               c.daily_request_limit == d.daily_request_limit &&
	               c.fmp_batch == d.fmp_batch &&
	               c.map_size_mb == d.map_size_mb &&
	               c.history_days == d.history_days,
	       "sample values are the defaults");
	ps_conf_free(&c);
	ps_conf_free(&d);
	ps_buf_free(&text);
}

static void
test_history_days(void)
{
	struct ps_conf c;
	struct ps_err e;

	tap_int(load("", &c, &e), 0, "history_days: default");
	tap_int(c.history_days, 365, "  365");
	ps_conf_free(&c);
	tap_int(load("history_days = 36500\n", &c, &e), 0, "36500 is allowed");
	tap_int(c.history_days, 36500, "  read");
	ps_conf_free(&c);
	tap_int(load("history_days = 0\n", &c, &e), -1, "0 is refused");
	tap_ok(strstr(e.msg, "history_days") != NULL, "  naming the key");
	tap_int(load("history_days = 36501\n", &c, &e), -1, "36501 is refused");
}

static void
test_check_key(void)
{
	struct ps_conf c;
	struct ps_err e;
	char want[600];

	tap_int(load("", &c, &e), 0, "no key at all");
	tap_int(ps_conf_check_key(&c, &e), -1, "check_key refuses");
	snprintf(want, sizeof(want),
	         "no FMP API key: set fmp_api_key or fmp_api_key_file in %s",
	         path);
	tap_str(e.msg, want, "  message names the file");
	tap_int(e.code, PS_ECONFIG, "  PS_ECONFIG");
	ps_conf_free(&c);

	tap_int(load("fmp_base_url = http://127.0.0.1:1\n", &c, &e), 0,
	        "fake upstream");
	tap_int(ps_conf_check_key(&c, &e), 0, "a fake needs no key");
	ps_conf_free(&c);

	tap_int(load("fmp_api_key = " SECRET "\n", &c, &e), 0, "key set");
	tap_int(ps_conf_check_key(&c, &e), 0, "check_key passes");
	ps_conf_free(&c);
}

int
main(void)
{
	clear_env();
	dir = tap_tmpdir();
	if (dir == NULL) {
		tap_ok(0, "temporary directory");
		return tap_done();
	}
	snprintf(path, sizeof(path), "%s/pricesync.conf", dir);
	test_defaults();
	test_history_days();
	test_default_path();
	test_full_file();
	test_bad_lines();
	test_url_spellings();
	test_bad_ints();
	test_env();
	test_key_file();
	test_key_file_clean();
	test_key_private();
	test_check_key();
	test_sample();
	tap_rmrf(dir);
	free(dir);
	return tap_done();
}
