/*
 * sync: the FastCGI (or plain CGI) program behind `POST …/sync` (SPEC §5).
 * Runs one sync through ps_sync_run and streams its events as NDJSON, one
 * flushed FastCGI record per event, so the web server passes each line on
 * at once. A sync that cannot start (sync_in_progress, cooldown, config,
 * upstream_quota) yields only its error event, before any header is sent,
 * so it is answered with a status code and a one-line JSON error instead.
 *
 * A client that hangs up does not stop the sync: writes fail quietly
 * (SIGPIPE is ignored) and the sync runs on to its end and commits. Nor
 * does one that stops reading or reads slowly: once the writes have
 * waited the write timeout in all, it is taken as gone (web_flush). As plain
 * CGI the sync runs in a detached process of its own (detach.h), out of reach
 * of a web server that kills its CGI when the client leaves.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"
#include "web.h"

#include <curl/curl.h>

#define PROG "sync"
#define THREADS 4

/* One streamed answer: the headers go out with the first event. */
struct stream {
	struct web_req *r;
	int started;      /* a start event was sent */
	int refused;      /* the first event was an error: not started */
	long retry_after; /* of a refused cooldown */
	long updated, failed;
};

static void
on_event(const struct ps_event *ev, void *arg)
{
	struct stream *st = arg;
	char *line;

	if (!st->started) {
		if (ev->type != PS_EV_START) {
			st->refused = 1;
			st->retry_after = ev->retry_after;
			return;
		}
		st->started = 1;
		web_begin(st->r, 200,
		          "Content-Type: application/x-ndjson\r\n"
		          "Cache-Control: no-store\r\n"
		          "X-Accel-Buffering: no\r\n");
	}
	if (ev->type == PS_EV_COMPLETE || ev->type == PS_EV_ERROR) {
		st->updated = ev->updated;
		st->failed = ev->failed;
	}
	line = ps_event_json(ev);
	if (!line) {
		web_log(PROG, "out of memory writing an event");
		return;
	}
	/* Line and newline in one record, then flushed: nginx and Apache
	 * (flushpackets=on) pass each record on as it comes. */
	web_write(st->r, line, strlen(line));
	web_write(st->r, "\n", 1);
	web_flush(st->r);
	free(line);
}

/* The checks before a sync may start: method, Origin, config, store. */
static struct ps_store *
admit(struct web_req *r, struct web_core *core)
{
	static const char *const pat[] = {"sync"};
	struct ps_err err = {0};
	struct ps_store *s;

	if (!web_path_ends(r, pat, 1)) {
		web_errorf(r, PS_ENOT_FOUND, NULL,
		           "no such path: this program answers POST .../sync");
		return NULL;
	}
	if (strcmp(web_method(r), "POST") != 0) {
		web_method_not_allowed(r, "POST");
		return NULL;
	}
	if (!http_origin_ok(web_param(r, "HTTP_ORIGIN"),
	                    web_param(r, "HTTP_HOST"))) {
		web_errorf(r, PS_EFORBIDDEN_ORIGIN, NULL,
		           "a page from another site may not start a sync "
		           "(Origin does not match Host)");
		return NULL;
	}
	s = web_core_store(core, &err);
	if (!s)
		web_error(r, &err, NULL);
	return s;
}

static void
log_end(const struct stream *st, int rc, const struct ps_err *err)
{
	if (st->refused)
		web_log(PROG, "sync refused: %s: %s", ps_code_name(err->code),
		        err->msg);
	else if (rc == 0)
		web_log(PROG, "sync complete: %ld updated, %ld failed%s",
		        st->updated, st->failed,
		        st->r->gone ? " (the client had left)" : "");
	else
		web_log(PROG, "sync stopped: %s: %s", ps_code_name(err->code),
		        err->msg);
}

/* A sync asked for over HTTP waits out the cooldown (SPEC §2). */
static const struct ps_sync_policy web_policy = {.enforce_cooldown = 1};

static void
handle(struct web_req *r, void *arg)
{
	struct web_core *core = arg;
	struct stream st = {.r = r};
	struct ps_err err = {0};
	struct ps_store *s;
	int rc;

	s = admit(r, core);
	if (!s)
		return;
	if (!r->fcgi)
		/* Plain CGI, one request per process, detached or (when the
		 * detach failed) not: a server that stops its CGI when the
		 * client leaves must not cut a sync short. */
		signal(SIGTERM, SIG_IGN);
	rc = ps_sync_run(&core->conf, s, &web_policy, on_event, &st, &err);
	log_end(&st, rc, &err);
	if (st.started)
		return;
	if (!st.refused && err.code == PS_OK)
		ps_err_set(&err, PS_EINTERNAL,
		           "the sync ended without an event");
	if (err.code == PS_ECOOLDOWN && err.retry_after < st.retry_after)
		err.retry_after = st.retry_after;
	web_error(r, &err, NULL);
}

static void
start(void *arg)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	web_core_init(arg, PROG);
}

static void
finish(void *arg)
{
	web_core_free(arg);
	curl_global_cleanup();
}

int
main(int argc, char **argv)
{
	struct web_core core;
	struct web_app app = {.name = PROG,
	                      .threads = THREADS,
	                      .handle = handle,
	                      .arg = &core,
	                      .start = start,
	                      .finish = finish,
	                      .detach = 1};
	int status;

	status = web_cmdline(PROG, argc, argv);
	if (status >= 0)
		return status;
	return web_run(&app);
}
