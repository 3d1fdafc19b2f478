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

/* A caller-owned value. Any zeroed or {.fd = -1} one is "never taken":
 * only `held` says a descriptor is ours, so a zeroed lock never closes
 * fd 0. */
struct ps_lock {
	int fd;   /* the lock file while held, else -1 (or 0 if zeroed) */
	int held; /* 1 while this value holds the lock */
};

/* Takes the lock without waiting. Returns 1 when taken (l->fd holds it,
 * l->held is 1), 0 when another holder has it, -1 on error (PS_ESTORE
 * naming the path); l is then not held, whatever it held before. */
int ps_lock_try(struct ps_lock *l, const char *dir, struct ps_err *err);

/* Releases the lock; safe twice and on a lock never taken. */
void ps_lock_release(struct ps_lock *l);

/* 1 when some holder has the lock now, 0 when free, -1 on error. */
int ps_lock_held(const char *dir, struct ps_err *err);

#endif
