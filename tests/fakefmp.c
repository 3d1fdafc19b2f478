/*
 * fakefmp: tests/fake_fmp.py started for a C test (see fakefmp.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "fakefmp.h"

static pid_t fake_pid = -1;

void
stop_fake(void)
{
	if (fake_pid > 0) {
		kill(fake_pid, SIGTERM);
		waitpid(fake_pid, NULL, 0);
		fake_pid = -1;
	}
}

int
start_fake(const char *dir)
{
	const char *top = getenv("top_srcdir");
	char script[4096], ready[4096];
	struct timespec nap = {0, 20000000};
	int i, port = -1;

	snprintf(script, sizeof(script), "%s/tests/fake_fmp.py",
	         top != NULL && *top != '\0' ? top : "..");
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	fflush(NULL);
	fake_pid = fork();
	if (fake_pid < 0)
		return -1;
	if (fake_pid == 0) {
#ifdef __linux__
		prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
		execlp("python3", "python3", script, "--ready-file", ready,
		       (char *)NULL);
		_exit(127);
	}
	atexit(stop_fake);
	for (i = 0; i < 750 && port < 0; i++, nanosleep(&nap, NULL)) {
		FILE *fp = fopen(ready, "r");

		if (waitpid(fake_pid, NULL, WNOHANG) == fake_pid) {
			fake_pid = -1;
			return -1;
		}
		if (fp == NULL)
			continue;
		if (fscanf(fp, "%d", &port) != 1)
			port = -1;
		fclose(fp);
	}
	return port;
}
