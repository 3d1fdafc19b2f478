/*
 * floor: the least a FastCGI responder can do, as the bench's yardstick.
 *
 *     floor [-t THREADS] [-m] FILE   (under spawn-fcgi: the socket is fd 0)
 *
 * Reads FILE, a CGI answer as captured from sync-status (its header
 * lines, a blank line, the body), and then answers every request with
 * exactly those bytes from memory, whatever was asked. THREADS (default
 * 8, as sync-status) threads each loop on FCGX_Accept_r; with -m one at a
 * time under a mutex, as libfcgi's threaded example does for platforms
 * whose accept() needs it (Linux does not, and the mutex also serialises
 * the reading of each request's parameters). SIGTERM or SIGINT ends it.
 * No routing, no store, no error handling beyond giving up: it exists to
 * be timed next to the real program behind the same nginx, and for
 * nothing else.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#define THREADS_MAX 256

static char *answer;
static int answer_len;
static int serialise;
static pthread_mutex_t accept_mu = PTHREAD_MUTEX_INITIALIZER;

static void *
worker(void *arg)
{
	FCGX_Request req;
	int rc;

	FCGX_InitRequest(&req, 0, 0);
	for (;;) {
		if (serialise)
			pthread_mutex_lock(&accept_mu);
		rc = FCGX_Accept_r(&req);
		if (serialise)
			pthread_mutex_unlock(&accept_mu);
		if (rc < 0)
			break;
		FCGX_PutStr(answer, answer_len, req.out);
		FCGX_Finish_r(&req);
	}
	return NULL;
}

/* The whole of path in answer; -1 with a message. */
static int
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    n > 1L << 30 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "floor: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	answer = malloc((size_t)n + 1);
	if (answer == NULL || fread(answer, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "floor: cannot read %s\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	answer_len = (int)n;
	return 0;
}

int
main(int argc, char **argv)
{
	pthread_t tid;
	sigset_t set;
	int c, i, sig, n = 8;

	while ((c = getopt(argc, argv, "mt:")) != -1) {
		if (c == 'm')
			serialise = 1;
		else if (c == 't')
			n = atoi(optarg);
		else
			return 2;
	}
	if (optind != argc - 1 || n < 1 || n > THREADS_MAX) {
		fprintf(stderr, "usage: floor [-t THREADS (1-%d)] [-m] FILE\n",
		        THREADS_MAX);
		return 2;
	}
	if (slurp(argv[optind]) < 0 || FCGX_Init() != 0)
		return 1;
	/* Blocked in every thread, taken here: libfcgi's own SIGTERM
	 * handler would leave the threads blocked in accept(). */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < n; i++) {
		if (pthread_create(&tid, NULL, worker, NULL) != 0) {
			fprintf(stderr, "floor: cannot start a thread\n");
			return 1;
		}
	}
	fprintf(stderr, "floor: ready (%d threads, %d bytes)\n", n, answer_len);
	sigwait(&set, &sig);
	return 0;
}
