/*
 * fuzzfile: for targets whose parser reads a file by name (the config, the
 * key file). The input goes to a file in a private temporary directory made
 * once per process, so a relative path in the input resolves there and not
 * in the source tree. The environment overrides of SPEC §2 are cleared so
 * the file alone decides.
 */
#ifndef PS_FUZZFILE_H
#define PS_FUZZFILE_H

#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"

static char fuzz_dir[64];

/* Makes the directory and clears the environment; call once. */
static inline void
fuzz_file_init(void)
{
	static const char *const vars[] = {"PRICESYNC_CONFIG", "PRICESYNC_DB",
	                                   "FMP_BASE_URL", "FMP_API_KEY"};
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/ps-fuzz-XXXXXX");
	if (mkdtemp(fuzz_dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
}

/* Writes size bytes to fuzz_dir/name; the path goes to path. */
static inline void
fuzz_file_write(const char *name, const void *data, size_t size, char path[128])
{
	const char *p = data;
	int fd;

	snprintf(path, 128, "%s/%s", fuzz_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(path);
		abort();
	}
	while (size > 0) {
		ssize_t w = write(fd, p, size);

		if (w <= 0) {
			perror(path);
			abort();
		}
		p += w;
		size -= (size_t)w;
	}
	close(fd);
}

#endif
