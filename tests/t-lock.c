/*
 * t-lock: the sync lock (lib/lock.c). OFD semantics are the point: a second
 * descriptor in the same process, and a second thread, must both be
 * refused; a holder killed with SIGKILL must leave the lock free; held()
 * must only look.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lock.h"
#include "tap.h"

struct thread_arg {
	const char *dir;
	int got;
	struct ps_lock lock;
};

static void *
thread_try(void *p)
{
	struct thread_arg *a = p;
	struct ps_err err;

	a->got = ps_lock_try(&a->lock, a->dir, &err);
	ps_lock_release(&a->lock);
	return NULL;
}

static void
test_basic(const char *dir)
{
	struct ps_lock a = {.fd = -1}, b = {.fd = -1};
	struct ps_err err;

	tap_int(ps_lock_held(dir, &err), 0,
	        "held() is 0 before the file exists");
	tap_int(ps_lock_try(&a, dir, &err), 1, "try takes a free lock");
	tap_ok(a.fd >= 0, "the holder keeps a descriptor");
	tap_int(ps_lock_held(dir, &err), 1, "held() is 1 while held");
	tap_int(ps_lock_held(dir, &err), 1, "held() did not take the lock");
	tap_int(ps_lock_try(&b, dir, &err), 0,
	        "a second descriptor in the same process is refused");
	tap_int(b.fd, -1, "a refused try leaves fd at -1");
	ps_lock_release(&a);
	tap_int(a.fd, -1, "release sets fd to -1");
	tap_int(ps_lock_held(dir, &err), 0, "held() is 0 after release");
	ps_lock_release(&a);
	ps_lock_release(&b);
	ps_lock_release(NULL);
	tap_ok(1, "release twice, on a never-taken lock and on NULL is safe");
	tap_int(ps_lock_try(&b, dir, &err), 1, "the lock can be taken again");
	ps_lock_release(&b);
}

/* Issue 9, defect 10: lock.h promises release is safe on a lock never
 * taken, but a zeroed one closed fd 0. */
static void
test_zeroed(const char *dir)
{
	struct ps_lock z, m;
	struct ps_err err;
	int fd = open("/dev/null", O_RDONLY);

	/* fd 0 must be open for the test to mean anything. */
	if (fcntl(0, F_GETFD) < 0 && fd >= 0)
		dup2(fd, 0);
	if (fd > 0)
		close(fd);
	memset(&z, 0, sizeof(z));
	ps_lock_release(&z);
	tap_ok(fcntl(0, F_GETFD) >= 0, "release of a zeroed lock keeps fd 0");
	ps_lock_release(&z);
	tap_ok(fcntl(0, F_GETFD) >= 0, "... twice");
	memset(&m, 0, sizeof(m));
	tap_int(ps_lock_try(&m, dir, &err), 1, "a zeroed lock can be taken");
	tap_int(ps_lock_held(dir, &err), 1, "... and is held");
	ps_lock_release(&m);
	tap_int(ps_lock_held(dir, &err), 0, "... and released");
	tap_ok(fcntl(0, F_GETFD) >= 0, "fd 0 still open after all that");
}

static void
test_threads(const char *dir)
{
	struct ps_lock a = {.fd = -1};
	struct thread_arg arg = {.dir = dir, .got = -2, .lock = {.fd = -1}};
	struct ps_err err;
	pthread_t t;

	tap_int(ps_lock_try(&a, dir, &err), 1, "thread A takes the lock");
	tap_ok(pthread_create(&t, NULL, thread_try, &arg) == 0 &&
	               pthread_join(t, NULL) == 0,
	       "thread B ran");
	tap_int(arg.got, 0, "thread B's try is refused while A holds it");
	ps_lock_release(&a);
	arg.got = -2;
	tap_ok(pthread_create(&t, NULL, thread_try, &arg) == 0 &&
	               pthread_join(t, NULL) == 0,
	       "thread B ran again");
	tap_int(arg.got, 1, "thread B takes it once A released it");
}

static void
test_killed_holder(const char *dir)
{
	struct ps_lock l = {.fd = -1};
	struct ps_err err;
	int ready[2], status = 0;
	char c = 0;
	pid_t pid;

	if (pipe(ready) < 0) {
		tap_ok(0, "pipe");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct ps_lock cl = {.fd = -1};
		char r = ps_lock_try(&cl, dir, &err) == 1 ? 'y' : 'n';

		close(ready[0]);
		if (write(ready[1], &r, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	tap_ok(pid > 0 && read(ready[0], &c, 1) == 1 && c == 'y',
	       "a child process took the lock");
	close(ready[0]);
	tap_int(ps_lock_held(dir, &err), 1, "held() sees the child's lock");
	tap_int(ps_lock_try(&l, dir, &err), 0,
	        "the parent is refused while the child holds it");
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	       "the child died of SIGKILL");
	tap_int(ps_lock_held(dir, &err), 0,
	        "the lock is free once the holder is killed");
	tap_int(ps_lock_try(&l, dir, &err), 1, "the parent takes it then");
	ps_lock_release(&l);
}

static void
test_errors(const char *dir)
{
	struct ps_lock l = {.fd = -1};
	struct ps_err err = {0};
	char missing[4096];

	snprintf(missing, sizeof(missing), "%s/no/such/dir", dir);
	tap_int(ps_lock_try(&l, missing, &err), -1,
	        "try in a missing directory fails");
	tap_int(err.code, PS_ESTORE, "... with PS_ESTORE");
	tap_ok(strstr(err.msg, "sync.lock") != NULL,
	       "... naming the lock file (%s)", err.msg);
	tap_int(ps_lock_held(missing, &err), 0,
	        "held() in a missing directory is 0");
}

int
main(void)
{
	char *dir = tap_tmpdir();

	if (!tap_ok(dir != NULL, "temporary directory"))
		return tap_done();
	test_basic(dir);
	test_zeroed(dir);
	test_threads(dir);
	test_killed_holder(dir);
	test_errors(dir);
	tap_rmrf(dir);
	free(dir);
	return tap_done();
}
