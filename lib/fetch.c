/*
 * fetch: the upstream engine on libcurl's multi interface. Jobs wait in a
 * FIFO; at most `concurrency` run at once, each on one of a pool of easy
 * handles that are kept (so keep-alive connections are reused). A transfer
 * that ends in a timeout, a 5xx or a plain 429 goes to a "not before" list
 * sorted by time and gives its slot back; the loop's poll wakes for the
 * nearest one. Per pass the loop touches only the slots and the heads of
 * the two lists, so 10,000 symbols cost next to no CPU.
 *
 * The caller's judge (fetch.h) says what an answer means. A transfer with
 * no answer: a timeout or a broken transfer has the judge's `retry` verdict
 * (and is retried); refused, DNS and TLS failures its `fail` verdict with
 * connect_failed set (never retried: nothing reached FMP). Limits: GET
 * only, no redirects, answers above 64 MiB are refused.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "fetch.h"

#define BODY_MAX (64u << 20)
#define RETRY_AFTER_CAP_S 300
#define IDLE_POLL_MS 1000

struct job {
	struct job *next;
	char *url;
	void *user;
	int tries;          /* attempts started so far */
	int64_t not_before; /* monotonic ms, for a job waiting to retry */
};

struct slot {
	CURL *easy;
	struct job *job; /* NULL when the slot is free */
	struct ps_buf body;
	long retry_after; /* seconds from the header, -1 when none */
	int too_big;      /* the write callback refused the answer */
	char errbuf[CURL_ERROR_SIZE];
};

struct ps_fetch {
	const struct ps_conf *conf;
	const struct ps_fetch_judge *judge;
	CURLM *multi;
	struct slot *slots;
	int nslots, busy;
	struct job *head, *tail; /* FIFO of new jobs */
	struct job *waiting;     /* retries, sorted by not_before */
	long requests;
	struct ps_budget *budget; /* borrowed; NULL = no gate */
	struct ps_buf spare;      /* a slot's next body, while done() reads
	                             the last one (ps_fetch_kick) */
	int refused;              /* the budget said no: send nothing more */
	struct ps_err refusal;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
job_free(struct job *j)
{
	if (j != NULL) {
		free(j->url);
		free(j);
	}
}

static void
jobs_free(struct job *j)
{
	while (j != NULL) {
		struct job *next = j->next;

		job_free(j);
		j = next;
	}
}

/* ---- libcurl callbacks ---- */

static size_t
on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct slot *s = arg;
	size_t n = size * nmemb;

	/* A short return makes libcurl abort the transfer. */
	if (s->body.len + n > BODY_MAX || ps_buf_append(&s->body, p, n) < 0) {
		s->too_big = 1;
		return 0;
	}
	return n;
}

/* Retry-After: delta seconds or an HTTP date (RFC 9110 §10.2.3). */
static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct slot *s = arg;
	size_t n = size * nmemb;
	char value[128], *end;
	size_t vlen;
	long secs;

	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		s->retry_after = -1; /* a new response: forget the last one */
		return n;
	}
	if (n <= 12 || strncasecmp(p, "Retry-After:", 12) != 0)
		return n;
	p += 12;
	vlen = n - 12;
	while (vlen > 0 && (*p == ' ' || *p == '\t'))
		p++, vlen--;
	while (vlen > 0 && (p[vlen - 1] == '\r' || p[vlen - 1] == '\n' ||
	                    p[vlen - 1] == ' ' || p[vlen - 1] == '\t'))
		vlen--;
	if (vlen == 0 || vlen >= sizeof(value))
		return n;
	memcpy(value, p, vlen);
	value[vlen] = '\0';
	errno = 0;
	secs = strtol(value, &end, 10);
	if (end != value && *end == '\0' && errno == 0) {
		s->retry_after = secs < 0 ? 0 : secs;
	} else {
		time_t when = curl_getdate(value, NULL);

		if (when != -1)
			s->retry_after = when > time(NULL)
			                         ? (long)(when - time(NULL))
			                         : 0;
	}
	if (s->retry_after > RETRY_AFTER_CAP_S)
		s->retry_after = RETRY_AFTER_CAP_S;
	return n;
}

/* ---- the engine ---- */

static int
slot_setup(struct ps_fetch *f, struct slot *s, struct ps_err *err)
{
	const struct ps_conf *c = f->conf;
	long timeout = c->timeout_s > 0 ? c->timeout_s : 15;
	CURLcode rc = CURLE_OK; /* the first failing option, if any */

	s->easy = curl_easy_init();
	if (s->easy == NULL)
		return ps_err_set(err, PS_ENOMEM, "curl_easy_init failed");
#define SET(opt, val)                                                          \
	do {                                                                   \
		if (rc == CURLE_OK)                                            \
			rc = curl_easy_setopt(s->easy, opt, val);              \
	} while (0)
	SET(CURLOPT_PRIVATE, s);
	SET(CURLOPT_WRITEFUNCTION, on_write);
	SET(CURLOPT_WRITEDATA, s);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, s);
	SET(CURLOPT_ERRORBUFFER, s->errbuf);
	SET(CURLOPT_TIMEOUT, timeout);
	SET(CURLOPT_CONNECTTIMEOUT, timeout < 10 ? timeout : 10L);
	/* Several threads may run syncs: no SIGALRM for DNS timeouts. */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, "pricesync/" VERSION);
	SET(CURLOPT_ACCEPT_ENCODING, "");
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#undef SET
	if (rc != CURLE_OK) {
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
		return ps_err_set(err, PS_EINTERNAL, "curl_easy_setopt: %s",
		                  curl_easy_strerror(rc));
	}
	return 0;
}

struct ps_fetch *
ps_fetch_new(const struct ps_conf *c, const struct ps_fetch_judge *j,
             struct ps_err *err)
{
	struct ps_fetch *f = calloc(1, sizeof(*f));

	if (f == NULL)
		goto fail;
	f->conf = c;
	f->judge = j;
	f->nslots = c->concurrency > 0 ? c->concurrency : 1;
	f->slots = calloc((size_t)f->nslots, sizeof(*f->slots));
	if (f->slots == NULL)
		goto free_f;
	f->multi = curl_multi_init();
	if (f->multi == NULL)
		goto free_slots;
	/* Keep one connection per slot alive between requests. */
	curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, (long)f->nslots);
	return f;
free_slots:
	free(f->slots);
free_f:
	free(f);
fail:
	ps_err_set(err, PS_ENOMEM, "out of memory starting the fetcher");
	return NULL;
}

/* Drops every request: the ones in flight, queued and waiting. */
static void
abandon_all(struct ps_fetch *f)
{
	int i;

	for (i = 0; i < f->nslots; i++) {
		struct slot *s = &f->slots[i];

		if (s->job == NULL)
			continue;
		curl_multi_remove_handle(f->multi, s->easy);
		job_free(s->job);
		s->job = NULL;
		ps_buf_reset(&s->body);
	}
	f->busy = 0;
	jobs_free(f->head);
	jobs_free(f->waiting);
	f->head = f->tail = f->waiting = NULL;
}

void
ps_fetch_free(struct ps_fetch *f)
{
	int i;

	if (f == NULL)
		return;
	abandon_all(f);
	for (i = 0; i < f->nslots; i++) {
		if (f->slots[i].easy != NULL)
			curl_easy_cleanup(f->slots[i].easy);
		ps_buf_free(&f->slots[i].body);
	}
	ps_buf_free(&f->spare);
	curl_multi_cleanup(f->multi);
	free(f->slots);
	free(f);
}

int
ps_fetch_add(struct ps_fetch *f, const char *url, void *user,
             struct ps_err *err)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL || (j->url = strdup(url)) == NULL) {
		free(j);
		return ps_err_set(err, PS_ENOMEM,
		                  "out of memory queueing a request");
	}
	j->user = user;
	if (f->tail != NULL)
		f->tail->next = j;
	else
		f->head = j;
	f->tail = j;
	return 0;
}

void
ps_fetch_set_budget(struct ps_fetch *f, struct ps_budget *b)
{
	f->budget = b;
}

long
ps_fetch_requests(const struct ps_fetch *f)
{
	return f->requests;
}

/* Retries are few (failures only), so a sorted insert is cheap. */
static void
wait_insert(struct ps_fetch *f, struct job *j)
{
	struct job **pp = &f->waiting;

	while (*pp != NULL && (*pp)->not_before <= j->not_before)
		pp = &(*pp)->next;
	j->next = *pp;
	*pp = j;
}

/* The next job to start: a due retry first (it is older), else the FIFO. */
static struct job *
next_job(struct ps_fetch *f, int64_t now)
{
	struct job *j = NULL;

	if (f->waiting != NULL && f->waiting->not_before <= now) {
		j = f->waiting;
		f->waiting = j->next;
	} else if (f->head != NULL) {
		j = f->head;
		f->head = j->next;
		if (f->head == NULL)
			f->tail = NULL;
	}
	if (j != NULL)
		j->next = NULL;
	return j;
}

static int
start_one(struct ps_fetch *f, struct slot *s, struct job *j, struct ps_err *err)
{
	CURLMcode mc;
	CURLcode rc;

	if (s->easy == NULL && slot_setup(f, s, err) < 0) {
		job_free(j);
		return -1;
	}
	ps_buf_reset(&s->body);
	s->retry_after = -1;
	s->too_big = 0;
	s->errbuf[0] = '\0';
	rc = curl_easy_setopt(s->easy, CURLOPT_URL, j->url);
	if (rc != CURLE_OK) {
		job_free(j);
		return ps_err_set(err, PS_ENOMEM, "curl_easy_setopt: %s",
		                  curl_easy_strerror(rc));
	}
	mc = curl_multi_add_handle(f->multi, s->easy);
	if (mc != CURLM_OK) {
		job_free(j);
		return ps_err_set(err, PS_EINTERNAL,
		                  "curl_multi_add_handle: %s",
		                  curl_multi_strerror(mc));
	}
	s->job = j;
	j->tries++;
	f->requests++;
	f->busy++;
	return 0;
}

/* Puts j back at the head of the FIFO (the run is ending anyway). */
static void
push_front(struct ps_fetch *f, struct job *j)
{
	j->next = f->head;
	f->head = j;
	if (f->tail == NULL)
		f->tail = j;
}

/* Fills free slots from the due retries and the queue, each request
 * counted by the budget right before it goes out (SPEC §8: the limit holds
 * for every request, retries included). */
static int
start_ready(struct ps_fetch *f, struct ps_err *err)
{
	int64_t now = now_ms();
	int i;

	for (i = 0; i < f->nslots && f->busy < f->nslots && !f->refused; i++) {
		struct job *j;

		if (f->slots[i].job != NULL)
			continue;
		j = next_job(f, now);
		if (j == NULL)
			break;
		if (f->budget != NULL &&
		    ps_budget_take(f->budget, time(NULL), &f->refusal) < 0) {
			push_front(f, j);
			f->refused = 1;
			break;
		}
		if (start_one(f, &f->slots[i], j, err) < 0)
			return -1;
	}
	return 0;
}

int
ps_fetch_kick(struct ps_fetch *f, struct ps_err *err)
{
	int running;
	CURLMcode mc;

	if (start_ready(f, err) < 0)
		return -1;
	mc = curl_multi_perform(f->multi, &running);
	if (mc != CURLM_OK)
		return ps_err_set(err, PS_EINTERNAL, "curl_multi_perform: %s",
		                  curl_multi_strerror(mc));
	return 0;
}

/* "host:port" of url for messages: never the path or the query (key). */
static void
host_port(const char *url, char *out, size_t size)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;

	snprintf(out, size, "%s", "?");
	if (u == NULL)
		return;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	            CURLUE_OK)
		snprintf(out, size, "%s:%s", host, port);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

static int
is_connect_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return 1;
	default:
		return 0;
	}
}

/* Fills res for a transfer that got no HTTP answer; returns 1 when it is
 * worth another try. */
static int
transport_result(struct ps_fetch *f, struct slot *s, CURLcode rc,
                 struct ps_fetch_res *res)
{
	char where[128];

	res->transport = 1;
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		res->verdict = f->judge->retry;
		snprintf(res->error, sizeof(res->error),
		         "upstream timeout after %d s", f->conf->timeout_s);
		return 1;
	}
	if (s->too_big) {
		res->verdict = f->judge->fail;
		snprintf(res->error, sizeof(res->error), "%s",
		         "answer from FMP too large or out of memory");
		return 0;
	}
	if (is_connect_error(rc)) {
		long oserr = 0;
		const char *why = curl_easy_strerror(rc);

		curl_easy_getinfo(s->easy, CURLINFO_OS_ERRNO, &oserr);
		if (rc == CURLE_COULDNT_CONNECT && oserr != 0)
			why = strerror((int)oserr);
		else if (rc == CURLE_COULDNT_RESOLVE_HOST)
			why = "cannot resolve the host name";
		host_port(s->job->url, where, sizeof(where));
		res->verdict = f->judge->fail;
		res->connect_failed = 1;
		snprintf(res->error, sizeof(res->error),
		         "cannot connect to FMP (%s): %s", where, why);
		return 0;
	}
	res->verdict = f->judge->retry;
	snprintf(res->error, sizeof(res->error), "connection to FMP failed: %s",
	         curl_easy_strerror(rc));
	return 1;
}

/* Turns a finished transfer into a result; returns 1 when it is worth
 * another try. */
static int
finish_result(struct ps_fetch *f, struct slot *s, CURLcode rc,
              struct ps_fetch_res *res)
{
	int retry;

	memset(res, 0, sizeof(*res));
	res->user = s->job->user;
	res->tries = s->job->tries;
	res->body = s->body.data != NULL ? s->body.data : "";
	if (rc != CURLE_OK) {
		retry = transport_result(f, s, rc, res);
		res->body = "";
	} else {
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE,
		                  &res->status);
		res->len = s->body.len;
		retry = f->judge->answer(res->status, res->body, res->len,
		                         &res->verdict, res->error,
		                         sizeof(res->error));
	}
	return retry;
}

/* Says how many tries a retried failure had, once it is final. */
static void
note_tries(struct ps_fetch_res *res, int worth)
{
	size_t n = strlen(res->error);

	if (!worth || res->tries < 2)
		return;
	if (res->transport)
		snprintf(res->error + n, sizeof(res->error) - n, " (%d tries)",
		         res->tries);
	else
		snprintf(res->error + n, sizeof(res->error) - n,
		         " after %d tries", res->tries);
}

/* Backoff 1 s, 2 s, 4 s... unless the answer said Retry-After. */
static void
schedule_retry(struct ps_fetch *f, struct slot *s, struct job *j)
{
	long delay_s;

	if (s->retry_after >= 0)
		delay_s = s->retry_after;
	else if (j->tries >= 9)
		delay_s = RETRY_AFTER_CAP_S;
	else
		delay_s = 1L << (j->tries - 1);
	if (delay_s > RETRY_AFTER_CAP_S)
		delay_s = RETRY_AFTER_CAP_S;
	j->not_before = now_ms() + delay_s * 1000;
	wait_insert(f, j);
}

/* Handles every finished transfer; 1 when done() asked to stop. */
static int
drain(struct ps_fetch *f, ps_fetch_done_fn done, void *arg)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
		struct ps_fetch_res res;
		struct ps_buf body;
		struct slot *s = NULL;
		struct job *j;
		int stop, worth;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &s);
		if (s == NULL || s->job == NULL)
			continue; /* left over from an abandoned run */
		curl_multi_remove_handle(f->multi, s->easy);
		f->busy--;
		j = s->job;
		worth = finish_result(f, s, msg->data.result, &res);
		s->job = NULL;
		if (worth && j->tries <= f->conf->retries) {
			schedule_retry(f, s, j);
			continue;
		}
		note_tries(&res, worth);
		/* res borrows the body: the slot gets the spare, so done() may
		 * restart it (ps_fetch_kick) while it reads. */
		body = s->body;
		s->body = f->spare;
		stop = done != NULL ? done(&res, arg) : 0;
		ps_buf_reset(&body);
		f->spare = body;
		job_free(j);
		if (stop)
			return 1;
	}
	return 0;
}

/* How long the poll may sleep: until the nearest retry is due, when a
 * slot is free for it; libcurl shortens it further for its own timers. */
static int
poll_timeout(const struct ps_fetch *f)
{
	int64_t wait;

	if (f->waiting == NULL || f->busy >= f->nslots || f->refused)
		return IDLE_POLL_MS;
	wait = f->waiting->not_before - now_ms();
	if (wait < 0)
		return 0;
	return wait < IDLE_POLL_MS ? (int)wait : IDLE_POLL_MS;
}

int
ps_fetch_run(struct ps_fetch *f, ps_fetch_done_fn done, void *arg,
             struct ps_err *err)
{
	int running;
	CURLMcode mc;

	f->refused = 0;
	for (;;) {
		if (start_ready(f, err) < 0)
			goto abandon;
		if (f->refused && f->busy == 0)
			goto refused;
		if (f->busy == 0 && f->head == NULL && f->waiting == NULL)
			return 0;
		mc = curl_multi_perform(f->multi, &running);
		if (mc != CURLM_OK) {
			ps_err_set(err, PS_EINTERNAL, "curl_multi_perform: %s",
			           curl_multi_strerror(mc));
			goto abandon;
		}
		if (drain(f, done, arg)) {
			abandon_all(f);
			return 0;
		}
		/* A freed slot with work ready: start it before sleeping. */
		if (f->busy < f->nslots && !f->refused &&
		    (f->head != NULL || (f->waiting != NULL &&
		                         f->waiting->not_before <= now_ms())))
			continue;
		if (f->refused && f->busy == 0)
			goto refused;
		if (f->busy == 0 && f->head == NULL && f->waiting == NULL)
			return 0;
		mc = curl_multi_poll(f->multi, NULL, 0, poll_timeout(f), NULL);
		if (mc != CURLM_OK) {
			ps_err_set(err, PS_EINTERNAL, "curl_multi_poll: %s",
			           curl_multi_strerror(mc));
			goto abandon;
		}
	}
refused:
	if (err != NULL)
		*err = f->refusal;
abandon:
	abandon_all(f);
	return -1;
}
