/*
 * t-pipeline: parts of the pipeline (lib/sync.c) that need no upstream. The
 * refusals after the lock is taken (here the up-front daily_request_limit
 * estimate) reach no network, so the base URL points at a closed port.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "store.h"
#include "sync.h"
#include "tap.h"

#define DEAD "{\"type\":\"progress\",\"batch\":7,\"batches\":9}"

struct seen {
	struct ps_store *s;
	int events, error_code, progress_gone;
};

static void
on_event(const struct ps_event *ev, void *arg)
{
	struct seen *sn = arg;
	char *val = NULL;

	sn->events++;
	if (ev->type != PS_EV_ERROR)
		return;
	sn->error_code = (int)ev->code;
	sn->progress_gone =
	        ps_store_setting_get(sn->s, "progress", &val, NULL) == 0;
	free(val);
}

/* Issue 9, defect 6: between the lock and the `start` event a reader saw
 * a dead sync's progress as the new sync's. It is gone once the lock is
 * taken, also when the sync is then refused. */
static void
test_dead_progress(struct ps_store *s)
{
	struct ps_symrec r;
	struct ps_conf c;
	struct ps_err err;
	struct seen sn = {.s = s};
	char *val = NULL;

	ps_symrec_init(&r, "AAPL");
	if (!tap_int(ps_conf_defaults(&c, &err), 0, "defaults") ||
	    !tap_int(ps_store_sym_add(s, &r, 1, &err), 0, "a symbol"))
		return;
	free(c.fmp_base_url);
	c.fmp_base_url = strdup("http://127.0.0.1:1");
	c.base_url_is_default = 0;
	c.daily_request_limit = 1; /* 1 batch + fx = 2: refused */
	ps_store_setting_put(s, "progress", DEAD, &err);
	tap_int(ps_sync_run(&c, s, PS_SYNC_CLI, on_event, &sn, &err), -1,
	        "the sync is refused after taking the lock");
	tap_int(sn.error_code, PS_EUPSTREAM_QUOTA, "... by the request limit");
	tap_int(sn.events, 1, "... with only its error event");
	tap_ok(sn.progress_gone, "the dead sync's progress was cleared");
	tap_int(ps_store_setting_get(s, "progress", &val, &err), 0,
	        "and stays cleared");
	free(val);
	ps_conf_free(&c);
}

int
main(void)
{
	char *dir = tap_tmpdir();
	struct ps_store *s = NULL;
	struct ps_err err;

	if (!tap_ok(dir != NULL && ps_store_open(&s, dir, 8, &err) == 0,
	            "store opened"))
		return tap_done();
	test_dead_progress(s);
	ps_store_close(&s);
	tap_rmrf(dir);
	free(dir);
	return tap_done();
}
