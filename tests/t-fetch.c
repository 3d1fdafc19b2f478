/*
 * t-fetch: the libcurl multi engine (lib/fetch.c) against the fake upstream
 * (tests/fake_fmp.py), started here with fork/exec on a free port and
 * stopped at exit (and by the kernel if this process dies first). Covers the
 * concurrency cap, retries and their backoff, Retry-After, timeouts, a
 * refused connection, callbacks that queue more work or stop the run, and
 * the request counter. Waits are for conditions, polled; the only sleeps
 * are the backoffs under test.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "budget.h"
#include "buf.h"
#include "fetch.h"
#include "fmp.h"
#include "store.h"
#include "tap.h"

/* What FMP's answers mean, for the fetch engine. */
static const struct ps_fetch_judge fmp_judge = PS_FMP_JUDGE;

static pid_t fake_pid = -1;
static char *fake_dir;
static char base_url[64];

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void
stop_fake(void)
{
	if (fake_pid > 0) {
		kill(fake_pid, SIGTERM);
		waitpid(fake_pid, NULL, 0);
		fake_pid = -1;
	}
	if (fake_dir != NULL) {
		tap_rmrf(fake_dir);
		free(fake_dir);
		fake_dir = NULL;
	}
}

/* Starts the fake and waits (bounded, polling) for its ready file. */
static int
start_fake(void)
{
	const char *top = getenv("top_srcdir");
	char script[4096], ready[4096];
	double deadline;
	FILE *fp;
	int port = 0;

	snprintf(script, sizeof(script), "%s/tests/fake_fmp.py",
	         top != NULL && *top != '\0' ? top : "..");
	fake_dir = tap_tmpdir();
	if (fake_dir == NULL)
		return -1;
	snprintf(ready, sizeof(ready), "%s/ready", fake_dir);
	fflush(NULL);
	fake_pid = fork();
	if (fake_pid < 0)
		return -1;
	if (fake_pid == 0) {
#ifdef __linux__
		/* If the test dies without running atexit, so does the fake. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
		execlp("python3", "python3", script, "--ready-file", ready,
		       "--port", "0", (char *)NULL);
		_exit(127);
	}
	atexit(stop_fake);
	for (deadline = now_s() + 15; now_s() < deadline; nap_ms(20)) {
		if (waitpid(fake_pid, NULL, WNOHANG) == fake_pid) {
			fake_pid = -1;
			tap_diag("the fake exited early (%s)", script);
			return -1;
		}
		fp = fopen(ready, "r");
		if (fp == NULL)
			continue;
		if (fscanf(fp, "%d", &port) != 1)
			port = 0;
		fclose(fp);
		if (port > 0)
			break;
	}
	if (port <= 0)
		return -1;
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d", port);
	return 0;
}

static size_t
collect(char *p, size_t size, size_t nmemb, void *arg)
{
	return ps_buf_append(arg, p, size * nmemb) < 0 ? 0 : size * nmemb;
}

/* A request to the fake's test endpoints; the answer body in out. */
static int
fake_call(const char *path, const char *post, struct ps_buf *out)
{
	char url[256];
	CURL *e = curl_easy_init();
	CURLcode rc;

	if (e == NULL)
		return -1;
	snprintf(url, sizeof(url), "%s%s", base_url, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
	if (post != NULL)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, post);
	rc = curl_easy_perform(e);
	curl_easy_cleanup(e);
	return rc == CURLE_OK ? 0 : -1;
}

static int
control(const char *json)
{
	struct ps_buf b = {0};
	int rc = fake_call("/_control", json, &b);

	ps_buf_free(&b);
	if (rc < 0)
		tap_diag("POST /_control failed: %s", json);
	return rc;
}

static void
reset_stats(void)
{
	struct ps_buf b = {0};

	fake_call("/_reset", "{}", &b);
	ps_buf_free(&b);
}

/* A number from GET /_stats, -1 when unreadable. */
static long
stat_num(const char *name)
{
	struct ps_buf b = {0};
	cJSON *root = NULL;
	const cJSON *v;
	long n = -1;

	if (fake_call("/_stats", NULL, &b) == 0)
		root = cJSON_ParseWithLength(b.data, b.len);
	v = cJSON_GetObjectItemCaseSensitive(root, name);
	if (cJSON_IsNumber(v))
		n = (long)v->valuedouble;
	cJSON_Delete(root);
	ps_buf_free(&b);
	return n;
}

/* ---- what the callbacks saw ---- */

#define MAXJOBS 64

struct seen {
	int count[MAXJOBS];                /* results per job index */
	int order[MAXJOBS];                /* job indexes in completion order */
	int n;                             /* results so far */
	struct ps_fetch_res last[MAXJOBS]; /* copies (body not kept) */
	double at[MAXJOBS];                /* when each came */
	int stop_after;   /* stop once n reaches it; 0 = never */
	int add_on_first; /* jobs the first result adds */
	struct ps_fetch *f;
};

static int jobs_idx[MAXJOBS];

static int
on_done(const struct ps_fetch_res *res, void *arg)
{
	struct seen *sn = arg;
	int idx = *(const int *)res->user;

	if (idx >= 0 && idx < MAXJOBS) {
		sn->count[idx]++;
		sn->last[idx] = *res;
		sn->last[idx].body = NULL;
		sn->at[idx] = now_s();
	}
	if (res->status == 200 && (res->body[0] != '[' || res->len == 0))
		tap_diag("job %d: odd body '%.40s'", idx, res->body);
	if (sn->n < MAXJOBS)
		sn->order[sn->n] = idx;
	sn->n++;
	if (sn->n == 1 && sn->add_on_first > 0) {
		int i;

		for (i = 0; i < sn->add_on_first; i++) {
			char url[128];

			snprintf(url, sizeof(url),
			         "%s/stable/quote?symbol=ADD%d", base_url, i);
			if (ps_fetch_add(sn->f, url, &jobs_idx[10 + i], NULL) <
			    0)
				tap_diag("ps_fetch_add from a callback failed");
		}
	}
	return sn->stop_after > 0 && sn->n >= sn->stop_after;
}

static void
conf_for(struct ps_conf *c, char *base, int concurrency, int timeout_s,
         int retries)
{
	memset(c, 0, sizeof(*c));
	c->fmp_base_url = base;
	c->concurrency = concurrency;
	c->timeout_s = timeout_s;
	c->retries = retries;
}

/* One engine, jobs named by the symbols given, run to the end. */
static struct ps_fetch *
run_symbols(const struct ps_conf *c, const char *const *syms, int n,
            struct seen *sn, int *rc)
{
	struct ps_err err;
	struct ps_fetch *f = ps_fetch_new(c, &fmp_judge, &err);
	int i;

	sn->f = f;
	if (f == NULL) {
		*rc = -1;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		char url[256];

		snprintf(url, sizeof(url), "%s/stable/quote?symbol=%s&apikey=k",
		         c->fmp_base_url, syms[i]);
		ps_fetch_add(f, url, &jobs_idx[i], &err);
	}
	*rc = ps_fetch_run(f, on_done, sn, &err);
	if (*rc < 0)
		tap_diag("ps_fetch_run: %s", err.msg);
	return f;
}

static void
test_concurrency(void)
{
	const char *syms[12] = {"A0", "A1", "A2", "A3", "A4",  "A5",
	                        "A6", "A7", "A8", "A9", "A10", "A11"};
	struct seen sn = {0};
	struct ps_conf c;
	struct ps_fetch *f;
	int i, rc, once = 1;
	long max;

	control("{\"delay\": 0.2, \"fail\": []}");
	reset_stats();
	conf_for(&c, base_url, 3, 10, 2);
	f = run_symbols(&c, syms, 12, &sn, &rc);
	tap_int(rc, 0, "concurrency: run returns 0");
	for (i = 0; i < 12; i++)
		if (sn.count[i] != 1 || sn.last[i].verdict != PS_FMP_OK ||
		    sn.last[i].status != 200)
			once = 0;
	tap_ok(once, "every job done once, 200, OK");
	tap_int(sn.n, 12, "12 results");
	max = stat_num("max_in_flight");
	tap_ok(max >= 1 && max <= 3, "max in flight %ld <= concurrency 3", max);
	tap_int(max, 3, "and the cap is reached (runs in parallel)");
	tap_int(ps_fetch_requests(f), 12, "requests counted");
	tap_int(stat_num("requests"), 12, "the fake saw 12");
	ps_fetch_free(f);
	control("{\"delay\": 0}");
}

static void
test_retry_then_ok(void)
{
	const char *syms[2] = {"FLAKY", "STEADY"};
	struct seen sn = {0};
	struct ps_conf c;
	struct ps_fetch *f;
	double t0 = now_s();
	int rc;

	control("{\"fail\": [{\"match\": \"FLAKY\", \"status\": 503, "
	        "\"times\": 1}]}");
	/* One slot: STEADY must run while FLAKY waits for its retry. */
	conf_for(&c, base_url, 1, 10, 2);
	f = run_symbols(&c, syms, 2, &sn, &rc);
	tap_int(sn.count[0], 1, "503 then OK: one result");
	tap_int(sn.last[0].verdict, PS_FMP_OK, "503 then OK: OK");
	tap_int(sn.last[0].tries, 2, "503 then OK: 2 tries");
	tap_str(sn.last[0].error, "", "503 then OK: no error");
	tap_ok(sn.at[0] - t0 >= 1.0, "backoff 1 s (%.2f s)", sn.at[0] - t0);
	tap_int(sn.order[0], 1, "the waiting retry held no slot");
	tap_int(ps_fetch_requests(f), 3, "requests count retries");
	ps_fetch_free(f);
}

static void
test_retry_after(void)
{
	const char *syms[1] = {"BUSY"};
	struct seen sn = {0};
	struct ps_conf c;
	struct ps_fetch *f;
	double t0 = now_s();
	int rc;

	/* 2 s, not 1: the default backoff alone would give 1 s. */
	control("{\"fail\": [{\"match\": \"BUSY\", \"status\": 429, "
	        "\"retry_after\": 2, \"times\": 1}]}");
	conf_for(&c, base_url, 2, 10, 2);
	f = run_symbols(&c, syms, 1, &sn, &rc);
	tap_int(sn.last[0].verdict, PS_FMP_OK, "429 Retry-After: then OK");
	tap_int(sn.last[0].tries, 2, "429 Retry-After: 2 tries");
	tap_ok(sn.at[0] - t0 >= 2.0, "Retry-After 2 honoured (%.2f s)",
	       sn.at[0] - t0);
	ps_fetch_free(f);
}

static void
test_exhausted(void)
{
	const char *syms[1] = {"DOWN"};
	struct seen sn = {0};
	struct ps_conf c;
	struct ps_fetch *f;
	int rc;

	control("{\"fail\": [{\"match\": \"DOWN\", \"status\": 503}]}");
	conf_for(&c, base_url, 2, 10, 1);
	f = run_symbols(&c, syms, 1, &sn, &rc);
	tap_int(sn.count[0], 1, "exhausted: one result");
	tap_int(sn.last[0].verdict, PS_FMP_RETRY, "exhausted: RETRY verdict");
	tap_int(sn.last[0].tries, 2, "exhausted: tries = retries + 1");
	tap_int(sn.last[0].status, 503, "exhausted: last status");
	tap_int(sn.last[0].transport, 0, "exhausted: an HTTP answer");
	tap_str(sn.last[0].error, "HTTP 503 from FMP after 2 tries",
	        "exhausted: message");
	tap_int(ps_fetch_requests(f), 2, "exhausted: 2 requests");
	ps_fetch_free(f);
}

static void
test_reset_and_auth(void)
{
	const char *syms[2] = {"RST", "AUTHX"};
	struct seen sn = {0};
	struct ps_conf c;
	struct ps_fetch *f;
	int rc;

	control("{\"fail\": [{\"match\": \"RST\", \"kind\": \"reset\", "
	        "\"times\": 1}, {\"match\": \"AUTHX\", \"status\": 401}]}");
	conf_for(&c, base_url, 2, 10, 2);
	f = run_symbols(&c, syms, 2, &sn, &rc);
	tap_int(sn.last[0].verdict, PS_FMP_OK, "reset connection: retried");
	tap_int(sn.last[0].tries, 2, "reset connection: 2 tries");
	tap_int(sn.last[1].verdict, PS_FMP_AUTH, "401: AUTH");
	tap_int(sn.last[1].tries, 1, "401: not retried");
	tap_ok(strncmp(sn.last[1].error, "Invalid API KEY", 15) == 0,
	       "401: FMP's message (%s)", sn.last[1].error);
	ps_fetch_free(f);
}

static void
test_timeout(void)
{
	const char *syms[1] = {"HANG"};
	struct seen sn = {0};
	struct ps_conf c;
	struct ps_fetch *f;
	double t0 = now_s();
	int rc;

	control("{\"fail\": [{\"match\": \"HANG\", \"kind\": \"hang\"}]}");
	conf_for(&c, base_url, 2, 1, 0);
	f = run_symbols(&c, syms, 1, &sn, &rc);
	tap_int(sn.last[0].verdict, PS_FMP_RETRY, "timeout: RETRY verdict");
	tap_int(sn.last[0].transport, 1, "timeout: transport");
	tap_int(sn.last[0].connect_failed, 0, "timeout: not a connect failure");
	tap_int(sn.last[0].status, 0, "timeout: no status");
	tap_str(sn.last[0].error, "upstream timeout after 1 s",
	        "timeout: message");
	tap_ok(sn.at[0] - t0 >= 0.9 && sn.at[0] - t0 < 5,
	       "timeout after about 1 s (%.2f s)", sn.at[0] - t0);
	ps_fetch_free(f);

	/* Retried timeouts say how many tries they had. */
	memset(&sn, 0, sizeof(sn));
	conf_for(&c, base_url, 2, 1, 1);
	f = run_symbols(&c, syms, 1, &sn, &rc);
	tap_str(sn.last[0].error, "upstream timeout after 1 s (2 tries)",
	        "timeout retried: message");
	ps_fetch_free(f);
	control("{\"fail\": []}");
}

/* A port nothing listens on: bound, read, closed. */
static int
closed_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void
test_refused(void)
{
	const char *syms[1] = {"AAPL"};
	char base[64], want[160];
	struct seen sn = {0};
	struct ps_conf c;
	struct ps_fetch *f;
	int rc, port = closed_port();

	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	conf_for(&c, base, 2, 5, 2);
	f = run_symbols(&c, syms, 1, &sn, &rc);
	tap_int(sn.last[0].connect_failed, 1, "refused: connect_failed");
	tap_int(sn.last[0].transport, 1, "refused: transport");
	tap_int(sn.last[0].tries, 1, "refused: not retried");
	snprintf(want, sizeof(want),
	         "cannot connect to FMP (127.0.0.1:%d): Connection refused",
	         port);
	tap_str(sn.last[0].error, want, "refused: message, host:port only");
	tap_ok(strstr(sn.last[0].error, "apikey") == NULL, "no key shown");
	ps_fetch_free(f);
}

static void
test_callback_adds(void)
{
	const char *syms[1] = {"FIRST"};
	struct seen sn = {.add_on_first = 3};
	struct ps_conf c;
	struct ps_fetch *f;
	int rc;

	conf_for(&c, base_url, 2, 10, 0);
	f = run_symbols(&c, syms, 1, &sn, &rc);
	tap_int(sn.n, 4, "callback added 3 jobs: 4 results");
	tap_ok(sn.count[10] == 1 && sn.count[11] == 1 && sn.count[12] == 1,
	       "each added job done once");
	tap_int(ps_fetch_requests(f), 4, "added jobs counted");
	ps_fetch_free(f);
}

static void
test_callback_stops(void)
{
	const char *syms[6] = {"S0", "S1", "S2", "S3", "S4", "S5"};
	struct seen sn = {.stop_after = 1};
	struct ps_conf c;
	struct ps_fetch *f;
	struct ps_err err;
	int rc;

	control("{\"delay\": 0.3}");
	conf_for(&c, base_url, 2, 10, 0);
	f = run_symbols(&c, syms, 6, &sn, &rc);
	tap_int(rc, 0, "stopped run returns 0");
	tap_int(sn.n, 1, "no result after the stop");
	tap_int(ps_fetch_requests(f), 2, "only the first round started");
	tap_int(ps_fetch_run(f, on_done, &sn, &err), 0, "run again: nothing");
	tap_int(sn.n, 1, "the queue was emptied by the stop");
	ps_fetch_free(f);
	control("{\"delay\": 0}");
}

/* The gate of daily_request_limit: 3 allowed, 6 queued with one flaky
 * (a retry is a request too): the 3 sent finish and reach the callback,
 * then the run fails with upstream_quota and nothing more is sent. */
static void
test_budget(void)
{
	const char *syms[6] = {"B0", "B1", "B2", "B3", "B4", "B5"};
	struct seen sn = {0};
	struct ps_conf c;
	struct ps_fetch *f;
	struct ps_store *s = NULL;
	struct ps_budget b;
	struct ps_err err;
	char *dir = tap_tmpdir();
	int i, rc;

	if (!tap_ok(dir != NULL && ps_store_open(&s, dir, 8, &err) == 0,
	            "budget: store opened"))
		goto free_dir;
	control("{\"delay\": 0.1, \"fail\": [{\"match\": \"B0\", "
	        "\"status\": 503, \"retry_after\": 0, \"times\": 1}]}");
	reset_stats();
	conf_for(&c, base_url, 2, 10, 2);
	ps_budget_init(&b, s, 3);
	f = ps_fetch_new(&c, &fmp_judge, &err);
	ps_fetch_set_budget(f, &b);
	for (i = 0; i < 6; i++) {
		char url[256];

		snprintf(url, sizeof(url), "%s/stable/quote?symbol=%s&apikey=k",
		         base_url, syms[i]);
		ps_fetch_add(f, url, &jobs_idx[i], &err);
	}
	sn.f = f;
	rc = ps_fetch_run(f, on_done, &sn, &err);
	tap_int(rc, -1, "budget: the run fails");
	tap_int(err.code, PS_EUPSTREAM_QUOTA, "budget: with upstream_quota");
	tap_int(stat_num("requests"), 3, "budget: the fake saw 3 requests");
	tap_int(ps_budget_pending(&b), 3, "budget: 3 taken");
	tap_int(ps_fetch_requests(f), 3, "budget: 3 started");
	tap_ok(sn.n == 2 && sn.count[1] == 1,
	       "budget: the requests in flight reached the callback (%d)",
	       sn.n);
	tap_int(ps_fetch_run(f, on_done, &sn, &err), 0,
	        "budget: run again: the queue was dropped");
	ps_fetch_free(f);
	control("{\"delay\": 0, \"fail\": []}");
	ps_store_close(&s);
free_dir:
	if (dir != NULL)
		tap_rmrf(dir);
	free(dir);
}

int
main(void)
{
	int i;

	for (i = 0; i < MAXJOBS; i++)
		jobs_idx[i] = i;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		tap_ok(0, "curl_global_init");
		return tap_done();
	}
	if (!tap_ok(start_fake() == 0, "fake FMP started")) {
		stop_fake();
		curl_global_cleanup();
		return tap_done();
	}
	test_concurrency();
	test_retry_then_ok();
	test_retry_after();
	test_exhausted();
	test_reset_and_auth();
	test_timeout();
	test_refused();
	test_callback_adds();
	test_callback_stops();
	test_budget();
	stop_fake();
	curl_global_cleanup();
	return tap_done();
}
