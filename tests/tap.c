/*
 * tap: see tap.h. Counters live in main's test process only; this file is
 * linked into test programs, never into the product.
 */
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

static int tap_n, tap_failed;

static int
tap_vok(int cond, const char *fmt, va_list ap)
{
	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

int
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	return cond;
}

int
tap_str(const char *got, const char *want, const char *name)
{
	int same = (got == NULL && want == NULL) ||
	           (got != NULL && want != NULL && strcmp(got, want) == 0);

	tap_ok(same, "%s", name);
	if (!same)
		tap_diag("got \"%s\", want \"%s\"", got ? got : "(null)",
		         want ? want : "(null)");
	return same;
}

int
tap_int(long long got, long long want, const char *name)
{
	tap_ok(got == want, "%s", name);
	if (got != want)
		tap_diag("got %lld, want %lld", got, want);
	return got == want;
}

int
tap_dbl(double got, double want, const char *name)
{
	int same = (isnan(got) && isnan(want)) || fabs(got - want) < 1e-9;

	tap_ok(same, "%s", name);
	if (!same)
		tap_diag("got %.12g, want %.12g", got, want);
	return same;
}

void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

char *
tap_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (asprintf(&path, "%s/pstest.XXXXXX", base) < 0)
		return NULL;
	if (mkdtemp(path) == NULL) {
		free(path);
		return NULL;
	}
	return path;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
tap_rmrf(const char *path)
{
	if (path != NULL)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
