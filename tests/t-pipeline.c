/*
 * t-pipeline: parts of the pipeline (lib/sync.c) that the end-to-end tests
 * cannot reach. The refusals after the lock is taken (here the up-front
 * daily_request_limit estimate) need no network. A connect failure of one
 * request only (the fx one) needs this program's own connect(), which
 * libcurl calls instead of libc's: it refuses the next `refuse_connects`
 * TCP connects, then passes them to libc; the fake FMP answers the rest.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "conf.h"
#include "store.h"
#include "sync.h"
#include "fakefmp.h"
#include "tap.h"
#include "txn.h"

static int refuse_connects;

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "connect");
	if (refuse_connects > 0 &&
	    (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
		refuse_connects--;
		errno = ECONNREFUSED;
		return -1;
	}
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, sa, len);
}

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
	sn->progress_gone = tx_setting_get(sn->s, "progress", &val, NULL) == 0;
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
	    !tap_int(tx_sym_add(s, &r, 1, &err), 0, "a symbol"))
		return;
	free(c.fmp_base_url);
	c.fmp_base_url = strdup("http://127.0.0.1:1");
	c.base_url_is_default = 0;
	c.daily_request_limit = 1; /* 1 batch + fx = 2: refused */
	tx_setting_put(s, "progress", DEAD, &err);
	tap_int(ps_sync_run(&c, s, NULL, on_event, &sn, &err), -1,
	        "the sync is refused after taking the lock");
	tap_int(sn.error_code, PS_EUPSTREAM_QUOTA, "... by the request limit");
	tap_int(sn.events, 1, "... with only its error event");
	tap_ok(sn.progress_gone, "the dead sync's progress was cleared");
	tap_int(tx_setting_get(s, "progress", &val, &err), 0,
	        "and stays cleared");
	free(val);
	ps_conf_free(&c);
}

struct outcome {
	int complete, updated;
	char fx_error[300];
};

static void
on_end(const struct ps_event *ev, void *arg)
{
	struct outcome *o = arg;

	if (ev->type != PS_EV_COMPLETE)
		return;
	o->complete = 1;
	o->updated = (int)ev->updated;
	snprintf(o->fx_error, sizeof(o->fx_error), "%s",
	         ev->fx_error != NULL ? ev->fx_error : "");
}

/* Issue 9, defect 10: with concurrency = 1 the fx request alone made the
 * "first round", so an fx request that could not connect stopped the
 * sync. The first round of SPEC §4 is quote requests. */
static void
test_fx_connect_fails(struct ps_store *s, const char *dir)
{
	struct ps_symrec r;
	struct ps_conf c;
	struct ps_err err;
	struct outcome o = {0};
	char url[64];
	int port = start_fake(dir);

	if (!tap_ok(port > 0, "fake FMP started"))
		return;
	ps_symrec_init(&r, "MSFT");
	tx_sym_add(s, &r, 1, &err);
	ps_conf_defaults(&c, &err);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	free(c.fmp_base_url);
	c.fmp_base_url = strdup(url);
	c.base_url_is_default = 0;
	c.concurrency = 1;
	c.retries = 0;
	refuse_connects = 1; /* the first request sent is the fx one */
	tap_int(ps_sync_run(&c, s, NULL, on_end, &o, &err), 0,
	        "concurrency 1, the fx request cannot connect: complete");
	tap_ok(o.complete && o.updated == 2, "both symbols updated (%d): %s",
	       o.updated, o.complete ? "" : err.msg);
	tap_ok(strstr(o.fx_error, "cannot connect") != NULL,
	       "fx_error says why (%s)", o.fx_error);
	refuse_connects = 1000;
	tap_int(ps_sync_run(&c, s, NULL, on_end, &o, &err), -1,
	        "nothing can connect: the sync stops");
	tap_int(err.code, PS_EUPSTREAM_UNAVAILABLE, "... upstream_unavailable");
	refuse_connects = 0;
	ps_conf_free(&c);
	stop_fake();
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
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_fx_connect_fails(s, dir);
	curl_global_cleanup();
	ps_store_close(&s);
	tap_rmrf(dir);
	free(dir);
	return tap_done();
}
