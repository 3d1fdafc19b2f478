/*
 * job: what every job that holds the sync lock (a sync, a backfill) does
 * with the state readers see (SPEC §5): its progress, a dead job's
 * progress, the last_synced its events carry. Each call is a transaction
 * of its own: none may be made while the caller holds one.
 */
#ifndef PS_JOB_H
#define PS_JOB_H

#include <stdint.h>

#include "err.h"
#include "lock.h"
#include "store.h"

/* Takes the sync lock of s's store for a job (sync and backfill share it:
 * one at a time), or -1 with PS_ESYNC_IN_PROGRESS when another holds it;
 * then drops a dead job's progress (ps_job_clear_dead). On any failure
 * the lock is not held. */
int ps_job_begin(struct ps_store *s, struct ps_lock *lock, struct ps_err *err);

/* Stores line (an event's JSON) as the running job's progress, or drops it
 * (NULL). A failed write only makes the status lag, so it does not fail
 * the job and is not reported. */
void ps_job_progress(struct ps_store *s, const char *line);

/* The stored last_synced, 0 when never (or unreadable). */
int64_t ps_job_last_synced(struct ps_store *s);

#endif
