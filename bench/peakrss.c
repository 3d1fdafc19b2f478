/*
 * peakrss: runs a program and reports its peak RSS, CPU and wall time.
 *
 *     peakrss [-i IN] [-o OUT] [-r REPORT] [--] PROG [ARG...]
 *
 * Forks, execs PROG (searched in PATH) with its stdin from IN and stdout
 * to OUT when given (else inherited), waits with wait4 and writes one line
 *
 *     maxrss_kib=N user_s=U sys_s=S wall_s=W exit=E
 *
 * to REPORT (else to stderr). E is PROG's exit status, or 128 + the
 * signal that ended it; peakrss exits with E too, or 127 when PROG could
 * not be started. The point of this program is to be small: a child
 * forked from a big parent (Python) starts with the parent's peak RSS as
 * its own, so the bench never forks the measured program from Python.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct opts {
	const char *in, *out, *report;
	char **argv;
};

static int
usage(void)
{
	fputs("usage: peakrss [-i IN] [-o OUT] [-r REPORT] [--] PROG "
	      "[ARG...]\n",
	      stderr);
	return 127;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Replaces fd with path opened by flags; only in the child. */
static void
redirect(int fd, const char *path, int flags)
{
	int f = open(path, flags, 0644);

	if (f < 0 || dup2(f, fd) < 0) {
		fprintf(stderr, "peakrss: %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(f);
}

static void
child(const struct opts *o)
{
	if (o->in)
		redirect(0, o->in, O_RDONLY);
	if (o->out)
		redirect(1, o->out, O_WRONLY | O_CREAT | O_TRUNC);
	execvp(o->argv[0], o->argv);
	fprintf(stderr, "peakrss: %s: %s\n", o->argv[0], strerror(errno));
	_exit(127);
}

static double
secs(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int
report(const struct opts *o, int status, const struct rusage *ru, double wall)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status)
	                             : 128 + WTERMSIG(status);
	FILE *f = o->report ? fopen(o->report, "w") : stderr;

	if (f == NULL) {
		fprintf(stderr, "peakrss: %s: %s\n", o->report,
		        strerror(errno));
		return 127;
	}
	fprintf(f,
	        "maxrss_kib=%ld user_s=%.3f sys_s=%.3f wall_s=%.3f exit=%d\n",
	        ru->ru_maxrss, secs(ru->ru_utime), secs(ru->ru_stime), wall,
	        code);
	if (f != stderr && fclose(f) != 0) {
		fprintf(stderr, "peakrss: %s: %s\n", o->report,
		        strerror(errno));
		return 127;
	}
	return code;
}

static int
parse(int argc, char **argv, struct opts *o)
{
	int c;

	while ((c = getopt(argc, argv, "+i:o:r:")) != -1) {
		if (c == 'i')
			o->in = optarg;
		else if (c == 'o')
			o->out = optarg;
		else if (c == 'r')
			o->report = optarg;
		else
			return -1;
	}
	if (optind >= argc)
		return -1;
	o->argv = argv + optind;
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = {0};
	struct rusage ru;
	int status;
	double t0;
	pid_t pid;

	if (parse(argc, argv, &o) < 0)
		return usage();
	t0 = now();
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "peakrss: fork: %s\n", strerror(errno));
		return 127;
	}
	if (pid == 0)
		child(&o);
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "peakrss: wait4: %s\n",
			        strerror(errno));
			return 127;
		}
	}
	return report(&o, status, &ru, now() - t0);
}
