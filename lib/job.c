/*
 * job: the shared state of lock-holding jobs, over lib/settings.h.
 */
#include <stdlib.h>

#include "job.h"
#include "settings.h"

void
ps_job_progress(struct ps_store *s, const char *line)
{
	struct ps_txn *t;

	if (ps_txn_begin(s, 1, &t, NULL) < 0)
		return;
	if (ps_settings_set_doc(t, PS_SET_PROGRESS, line, NULL) < 0) {
		ps_txn_abort(&t);
		return;
	}
	ps_txn_commit(&t, NULL);
}

/* Called with the lock just taken: a stored progress is then a dead job's
 * (kill -9), which a reader must not show as this job's. */
static int
clear_dead(struct ps_store *s, struct ps_err *err)
{
	struct ps_txn *t;
	char *val = NULL;
	int rc;

	/* Read first: most starts find none, and a read costs no fsync. */
	if (ps_txn_begin(s, 0, &t, err) < 0)
		return -1;
	rc = ps_settings_doc(t, PS_SET_PROGRESS, &val, err);
	ps_txn_abort(&t);
	free(val);
	if (rc <= 0)
		return rc;
	if (ps_txn_begin(s, 1, &t, err) < 0)
		return -1;
	if (ps_settings_set_doc(t, PS_SET_PROGRESS, NULL, err) < 0) {
		ps_txn_abort(&t);
		return -1;
	}
	return ps_txn_commit(&t, err);
}

int
ps_job_begin(struct ps_store *s, struct ps_lock *lock, struct ps_err *err)
{
	int rc = ps_lock_try(lock, ps_store_dir(s), err);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return ps_err_set(err, PS_ESYNC_IN_PROGRESS,
		                  "a sync or backfill is running; try again "
		                  "when it ends");
	if (clear_dead(s, err) < 0) {
		ps_lock_release(lock);
		return -1;
	}
	return 0;
}

int64_t
ps_job_last_synced(struct ps_store *s)
{
	struct ps_txn *t;
	int64_t at = 0;

	if (ps_txn_begin(s, 0, &t, NULL) < 0)
		return 0;
	if (ps_settings_time(t, PS_SET_LAST_SYNCED, &at, NULL) <= 0)
		at = 0;
	ps_txn_abort(&t);
	return at;
}
