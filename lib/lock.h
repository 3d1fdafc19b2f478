/*
 * lock: the sync lock, an open-file-description lock (F_OFD_SETLK) on
 * DIR/sync.lock. The kernel drops it when the holder's descriptor closes or
 * its process dies (kill -9 included), so a crash never leaves a sync
 * "running". OFD locks, unlike POSIX record locks, also conflict between two
 * threads of one process (one FastCGI `sync` serving two requests), and
 * F_OFD_GETLK tests the lock without taking it, so a status reader never
 * makes a real sync fail with sync_in_progress.
 */
#ifndef PS_LOCK_H
#define PS_LOCK_H

#include "err.h"

struct ps_lock {
	int fd; /* -1 when not held */
};

/* Takes the lock without waiting. Returns 1 when taken (l->fd holds it),
 * 0 when another holder has it, -1 on error (PS_ESTORE naming the path). */
int ps_lock_try(struct ps_lock *l, const char *dir, struct ps_err *err);

/* Releases the lock; safe twice and on a lock never taken. */
void ps_lock_release(struct ps_lock *l);

/* 1 when some holder has the lock now, 0 when free, -1 on error. */
int ps_lock_held(const char *dir, struct ps_err *err);

#endif
