/*
 * conf: ps_conf_load on a config file. Checks, when it loads: every value
 * is in the range SPEC §2 gives; when it is refused: a config error whose
 * message names the file and shows no raw byte of the input.
 */
#include <strings.h>

#include "conf.h"
#include "fuzzfile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_file_init();
	return 0;
}

static void
check_conf(const struct ps_conf *c)
{
	size_t n = strlen(c->fmp_base_url);
	int i;

	FUZZ_CHECK(c->db_path != NULL && c->db_path[0] != '\0');
	FUZZ_CHECK(strncasecmp(c->fmp_base_url, "http://", 7) == 0 ||
	           strncasecmp(c->fmp_base_url, "https://", 8) == 0);
	FUZZ_CHECK(n > 7 && c->fmp_base_url[n - 1] != '/');
	FUZZ_CHECK(c->fmp_api == PS_API_STABLE || c->fmp_api == PS_API_V3);
	FUZZ_CHECK(c->fmp_api_key == NULL || c->fmp_api_key[0] != '\0');
	FUZZ_CHECK(c->batch_size >= 1 && c->batch_size <= 1000);
	FUZZ_CHECK(c->concurrency >= 1 && c->concurrency <= 32);
	FUZZ_CHECK(c->timeout_s >= 1 && c->timeout_s <= 3600);
	FUZZ_CHECK(c->retries >= 0 && c->retries <= 10);
	FUZZ_CHECK(c->min_interval_s >= 0 && c->min_interval_s <= 86400);
	FUZZ_CHECK(c->daily_request_limit >= 0);
	FUZZ_CHECK(c->map_size_mb >= 1 && c->map_size_mb <= 1048576);
	FUZZ_CHECK(c->fmp_batch == PS_BATCH_AUTO ||
	           c->fmp_batch == PS_BATCH_BATCH ||
	           c->fmp_batch == PS_BATCH_SINGLE);
	for (i = 0; i < 6; i++)
		FUZZ_CHECK(c->fx_pair[i] >= 'A' && c->fx_pair[i] <= 'Z');
	FUZZ_CHECK(c->fx_pair[6] == '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ps_conf c;
	struct ps_err err;
	char path[128];

	fuzz_file_write("pricesync.conf", data, size, path);
	ps_err_clear(&err);
	if (ps_conf_load(&c, path, &err) < 0) {
		fuzz_check_err(&err);
		FUZZ_CHECK(err.code == PS_ECONFIG || err.code == PS_ENOMEM);
		FUZZ_CHECK(strstr(err.msg, path) != NULL ||
		           err.code == PS_ENOMEM);
		return 0;
	}
	check_conf(&c);
	FUZZ_CHECK(strcmp(c.path, path) == 0);
	ps_conf_free(&c);
	ps_conf_free(&c); /* "safe twice" */
	return 0;
}
