/*
 * keyfile: the key file of SPEC §2 (fmp_api_key_file), read by
 * ps_conf_load. Checks, when a key is taken: it is one line, not empty,
 * with no line end, trailing blank or byte-order mark left (a key is sent
 * in a URL, where "%20" or "%EF%BB%BF" makes FMP reject it);
 * when it is refused: the message never shows the file's content.
 */
#include "conf.h"
#include "fuzzfile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

static char conf_path[128];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char conf[] = "fmp_api_key_file = key\n";

	fuzz_file_init();
	fuzz_file_write("pricesync.conf", conf, sizeof(conf) - 1, conf_path);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ps_conf c;
	struct ps_err err;
	char path[128];
	const char *k;

	fuzz_file_write("key", data, size, path);
	ps_err_clear(&err);
	if (ps_conf_load(&c, conf_path, &err) < 0) {
		fuzz_check_err(&err);
		/* A refused key is never quoted: the message holds only
		 * what we wrote (the paths) and fixed text. */
		FUZZ_CHECK(strstr(err.msg, path) != NULL);
		return 0;
	}
	k = c.fmp_api_key;
	FUZZ_CHECK(k != NULL && k[0] != '\0');
	FUZZ_CHECK(strlen(k) <= 4096);
	FUZZ_CHECK(strchr(k, '\n') == NULL);
	FUZZ_CHECK(strchr(" \t\r", k[strlen(k) - 1]) == NULL);
	FUZZ_CHECK(strncmp(k, "\xEF\xBB\xBF", 3) != 0);
	ps_conf_free(&c);
	return 0;
}
