/*
 * detach: the double fork and the relay of a plain CGI answer (see
 * detach.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "detach.h"
#include "http.h"

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The answer when the answering process died before saying anything. */
static void
answer_internal(int fd)
{
	struct ps_buf h = {0}, hd = {0}, b = {0};
	struct ps_err err = {0};
	int status;

	ps_err_set(&err, PS_EINTERNAL,
	           "the process answering this request could not start "
	           "(see the server's error log)");
	if (http_error_answer(&err, NULL, &status, &h, &b) == 0 &&
	    http_head(&hd, status, (long long)b.len, h.data) == 0) {
		write_all(fd, hd.data, hd.len);
		write_all(fd, b.data, b.len);
	}
	ps_buf_free(&h);
	ps_buf_free(&hd);
	ps_buf_free(&b);
}

/* Copies in to stdout until the end; the client leaving (a failed write)
 * ends it too. */
static void
relay(int in)
{
	char buf[8192];
	size_t total = 0;

	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += (size_t)n;
		if (write_all(1, buf, (size_t)n) < 0)
			return;
	}
	if (total == 0)
		answer_internal(1);
}

/* In the answering process: the pipe as stdout, no stdin, and a stderr
 * that cannot block it once the server stops reading. */
static void
become_server(int out)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct stat st;

	dup2(out, 1);
	close(out);
	if (null >= 0) {
		dup2(null, 0);
		close(null);
	}
	if (fstat(2, &st) == 0 && S_ISFIFO(st.st_mode))
		fcntl(2, F_SETFL, fcntl(2, F_GETFL) | O_NONBLOCK);
}

int
detach_relay(const char *prog, int *status)
{
	int pfd[2], st = 0;
	pid_t mid;

	*status = 0;
	fflush(NULL);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		goto attached;
	mid = fork();
	if (mid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		goto attached;
	}
	if (mid == 0) {
		pid_t pid;

		close(pfd[0]);
		setsid(); /* no signal to the server's process group */
		pid = fork();
		if (pid != 0)
			_exit(pid < 0 ? 1 : 0); /* init adopts the grandchild */
		become_server(pfd[1]);
		return 0;
	}
	close(pfd[1]);
	while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "%s: cannot detach: the fork failed\n", prog);
	relay(pfd[0]);
	close(pfd[0]);
	return 1;
attached:
	fprintf(stderr,
	        "%s: cannot detach (%s): answering from the CGI "
	        "process, which the server may stop\n",
	        prog, strerror(errno));
	return -1;
}
