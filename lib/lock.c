/*
 * lock: the sync lock as an open-file-description lock on DIR/sync.lock
 * (see lock.h for why OFD and not flock or POSIX record locks). The lock
 * lives exactly as long as the descriptor in struct ps_lock, so the kernel
 * is the only bookkeeper: no pid files, nothing stale after a crash. The
 * file itself is never removed; its contents are never read.
 */
/* F_OFD_SETLK and F_OFD_GETLK are Linux extensions (since 3.15). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lock.h"

#define LOCK_NAME "sync.lock"

static int
lock_path(char *out, size_t size, const char *dir, struct ps_err *err)
{
	int len = snprintf(out, size, "%s/%s", dir, LOCK_NAME);

	if (len < 0 || (size_t)len >= size)
		return ps_err_set(err, PS_ESTORE, "%s: lock path too long",
		                  dir);
	return 0;
}

/* The whole file, write lock; OFD locks require l_pid to be 0. */
static void
lock_whole_file(struct flock *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = F_WRLCK;
	fl->l_whence = SEEK_SET;
	fl->l_start = 0;
	fl->l_len = 0;
	fl->l_pid = 0;
}

int
ps_lock_try(struct ps_lock *l, const char *dir, struct ps_err *err)
{
	char path[4096];
	struct flock fl;
	int fd;

	/* Whatever l held before is the caller's business: never trust an
	 * uninitialised fd, so the result alone decides l->fd. */
	l->fd = -1;
	l->held = 0;
	if (lock_path(path, sizeof(path), dir, err) < 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0664);
	if (fd < 0)
		return ps_err_set(err, PS_ESTORE, "open %s: %s", path,
		                  strerror(errno));
	lock_whole_file(&fl);
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		int saved = errno;

		close(fd);
		if (saved == EAGAIN || saved == EACCES)
			return 0;
		return ps_err_set(err, PS_ESTORE, "fcntl F_OFD_SETLK %s: %s",
		                  path, strerror(saved));
	}
	l->fd = fd;
	l->held = 1;
	return 1;
}

void
ps_lock_release(struct ps_lock *l)
{
	if (l == NULL || !l->held)
		return;
	/* Closing the only descriptor of the description drops the lock. */
	close(l->fd);
	l->fd = -1;
	l->held = 0;
}

int
ps_lock_held(const char *dir, struct ps_err *err)
{
	char path[4096];
	struct flock fl;
	int fd, rc;

	if (lock_path(path, sizeof(path), dir, err) < 0)
		return -1;
	/* Read-only and without O_CREAT: a status reader may not be allowed
	 * to write, and a missing file means nobody ever held the lock. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return ps_err_set(err, PS_ESTORE, "open %s: %s", path,
		                  strerror(errno));
	}
	lock_whole_file(&fl);
	rc = fcntl(fd, F_OFD_GETLK, &fl);
	if (rc < 0) {
		int saved = errno;

		close(fd);
		return ps_err_set(err, PS_ESTORE, "fcntl F_OFD_GETLK %s: %s",
		                  path, strerror(saved));
	}
	close(fd);
	return fl.l_type != F_UNLCK;
}
