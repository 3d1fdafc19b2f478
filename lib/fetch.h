/*
 * fetch: the upstream engine, libcurl multi. Runs a queue of GET requests
 * with at most `concurrency` in flight, the whole-request timeout
 * `timeout_s`, and `retries` extra tries after a timeout, a 5xx or a 429
 * that is not "Limit Reach" (backoff 1 s, 2 s, 4 s... or the Retry-After
 * given). A request that is waiting for its retry holds no slot. Callbacks
 * run on the caller's thread, between transfers, and may queue more
 * requests. curl_global_init is the program's job (once, in main).
 */
#ifndef PS_FETCH_H
#define PS_FETCH_H

#include <stddef.h>

#include "budget.h"
#include "conf.h"
#include "err.h"

struct ps_fetch; /* opaque; owned by whoever made it */

/* What an HTTP answer means to the caller (lib/fmp.h has FMP's judge): the
 * engine knows transfers, not the upstream's answers. answer() sets
 * *verdict to a code of the caller's own, handed back in the result, and
 * why to a message for users ("" when fine); it returns 1 when the answer
 * is worth another try (a 5xx, say). A transfer that got no answer has the
 * verdict `retry` when worth another try (a timeout, a reset) and `fail`
 * when not (refused, too large). */
struct ps_fetch_judge {
	int (*answer)(long status, const char *body, size_t len, int *verdict,
	              char *why, size_t whylen);
	int retry, fail;
};

/* The outcome of one request after its tries; borrowed until the callback
 * returns. */
struct ps_fetch_res {
	void *user;    /* what ps_fetch_add was given */
	int verdict;   /* the judge's */
	int transport; /* 1 when no HTTP answer came (timeout, refused...) */
	int connect_failed; /* refused, DNS or TLS: nothing reached FMP */
	long status;        /* HTTP status, 0 when none */
	const char *body;   /* NUL-terminated; "" when none */
	size_t len;
	int tries;
	/* why it failed, for users: "upstream timeout after 15 s",
	 * "HTTP 503 from FMP after 3 tries", FMP's message... ("" when OK) */
	char error[300];
};

/* Returns nonzero to stop the run (in-flight requests are abandoned). */
typedef int (*ps_fetch_done_fn)(const struct ps_fetch_res *res, void *arg);

/* Makes an engine for c, answers judged by j (both borrowed: they must
 * outlive it). NULL + PS_ENOMEM. */
struct ps_fetch *ps_fetch_new(const struct ps_conf *c,
                              const struct ps_fetch_judge *j,
                              struct ps_err *err);
/* Frees it; safe on NULL. */
void ps_fetch_free(struct ps_fetch *f);

/* Puts every request (each try of it) through b (borrowed; must outlive
 * the engine; NULL = none) right before it is sent. When b refuses one,
 * nothing more is sent: the requests in flight finish and are handed to the
 * callback, then ps_fetch_run returns -1 with b's error (PS_EUPSTREAM_QUOTA)
 * and the queue is dropped. */
void ps_fetch_set_budget(struct ps_fetch *f, struct ps_budget *b);

/* Queues a request for url (copied). user is handed back in the result. */
int ps_fetch_add(struct ps_fetch *f, const char *url, void *user,
                 struct ps_err *err);

/* Runs until the queue is empty or done() returns nonzero. Returns 0, or -1
 * with err on a libcurl failure or a request the budget refused. */
int ps_fetch_run(struct ps_fetch *f, ps_fetch_done_fn done, void *arg,
                 struct ps_err *err);

/* Sends the requests that can go now (free slots, the queue), from the
 * done callback too: one about to do slow work (a commit, an fsync) calls
 * it first, so the slot its answer freed is not idle meanwhile. 0, or -1
 * with err on a libcurl failure (the run then fails as ps_fetch_run's). */
int ps_fetch_kick(struct ps_fetch *f, struct ps_err *err);

/* HTTP requests started so far (retries included), for the daily count. */
long ps_fetch_requests(const struct ps_fetch *f);

#endif
