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
#include "store.h"

/* Stores line (an event's JSON) as the running job's progress, or drops it
 * (NULL). A failed write only makes the status lag, so it does not fail
 * the job and is not reported. */
void ps_job_progress(struct ps_store *s, const char *line);

/* Called with the lock just taken: a stored progress is then a dead job's
 * (kill -9), which a reader must not show as this job's; drops it. */
int ps_job_clear_dead(struct ps_store *s, struct ps_err *err);

/* The stored last_synced, 0 when never (or unreadable). */
int64_t ps_job_last_synced(struct ps_store *s);

#endif
