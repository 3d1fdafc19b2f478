/*
 * fmp: FMP's URLs and answers, with no I/O (fmp-api.md, SPEC §8). URLs are
 * built for the configured API generation with every symbol
 * percent-encoded; answers are judged by status and by FMP's
 * "Error Message" (JSON or plain text, under any status); quote, fx and
 * profile bodies are read with cJSON, where every number may be null or a
 * string holding a number. A quote body that is an array of flat objects
 * (every real answer) is read without a tree (lib/jscan.h), the rest with
 * cJSON, both into one row form, so they mean the same; a sync reads
 * every symbol's quote, and the trees were its biggest cost. Quote rows are
 * matched to the symbols asked by a sorted index, so a 1000-symbol answer
 * costs n log n, not n squared.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "fmp.h"
#include "jscan.h"
#include "symbol.h"

/* ---- classify ---- */

/* FMP's message prefixes and what they mean; first match wins. */
static const struct {
	const char *prefix;
	enum ps_fmp_verdict verdict;
} known_messages[] = {
        {"Invalid API KEY", PS_FMP_AUTH},
        {"Limit Reach", PS_FMP_QUOTA},
        {"Legacy Endpoint", PS_FMP_LEGACY},
        {"Restricted Endpoint", PS_FMP_RESTRICTED},
        {"Exclusive Endpoint", PS_FMP_RESTRICTED},
        {"Premium Query Parameter", PS_FMP_SYMBOL_PLAN},
        {"Special Endpoint", PS_FMP_SYMBOL_PLAN},
};

/* Skips the whitespace and quotes FMP sometimes puts before a message. */
static const char *
skip_lead(const char *s, const char *end)
{
	while (s < end &&
	       (isspace((unsigned char)*s) || *s == '"' || *s == '\''))
		s++;
	return s;
}

static int
match_message(const char *msg, size_t len, enum ps_fmp_verdict *v)
{
	const char *end = msg + len, *p = skip_lead(msg, end);
	size_t i;

	for (i = 0; i < sizeof(known_messages) / sizeof(known_messages[0]);
	     i++) {
		size_t plen = strlen(known_messages[i].prefix);

		if ((size_t)(end - p) >= plen &&
		    memcmp(p, known_messages[i].prefix, plen) == 0) {
			*v = known_messages[i].verdict;
			return 1;
		}
	}
	return 0;
}

/* Hides an apikey value that an answer might echo back, in place (a
 * value shorter than "***" becomes as many stars). */
static void
redact_in_place(char *s)
{
	char *eq;

	for (eq = strchr(s, '='); eq != NULL; eq = strchr(eq + 1, '=')) {
		char *v = eq + 1, *e = v + strcspn(v, "&# \t\r\n\"'");

		if (eq - s < 6 || strncasecmp(eq - 6, "apikey", 6) != 0)
			continue;
		if (e - v >= 3) {
			memcpy(v, "***", 3);
			memmove(v + 3, e, strlen(e) + 1);
		} else if (e > v) {
			memset(v, '*', (size_t)(e - v));
		}
	}
}

/* Copies the first line of len bytes of msg into why (cut to fit, at a
 * UTF-8 character boundary), with control bytes turned into spaces. */
static void
set_why_text(char *why, size_t whylen, const char *msg, size_t len)
{
	const char *end = msg + len;
	size_t n = 0;

	if (why == NULL || whylen == 0)
		return;
	msg = skip_lead(msg, end);
	while (msg < end && n + 1 < whylen && *msg != '\n' && *msg != '\r') {
		unsigned char ch = (unsigned char)*msg++;

		why[n++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	/* A cut inside a multi-byte character would leave invalid UTF-8. */
	if (msg < end && n > 0 && ((unsigned char)*msg & 0xc0) == 0x80) {
		while (n > 0 && ((unsigned char)why[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0 && ((unsigned char)why[n - 1] & 0xc0) == 0xc0)
			n--;
	}
	/* Drop the quote and blanks a message may end with. */
	while (n > 0 &&
	       (why[n - 1] == ' ' || why[n - 1] == '\'' || why[n - 1] == '"'))
		n--;
	why[n] = '\0';
	redact_in_place(why);
}

static void
set_why_status(char *why, size_t whylen, long status, const char *msg)
{
	char text[512];
	int n;

	if (why == NULL || whylen == 0)
		return;
	if (msg != NULL && *msg != '\0')
		n = snprintf(text, sizeof(text), "HTTP %ld from FMP: %s",
		             status, msg);
	else
		n = snprintf(text, sizeof(text), "HTTP %ld from FMP", status);
	if (n < 0)
		n = 0;
	set_why_text(why, whylen, text,
	             (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

/* Finds FMP's message: the "Error Message" string of a JSON object, or the
 * start of a plain-text body (not JSON, not HTML: enough for a prefix and
 * a line of why). Returns a malloc'd copy or NULL. *is_json_error says the
 * body was an error object. */
static char *
find_message(const char *body, size_t len, int *is_json_error)
{
	const char *end = body + len, *p = body;
	char *msg = NULL;

	*is_json_error = 0;
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end)
		return NULL;
	if (*p == '{') {
		cJSON *root = cJSON_ParseWithLength(body, len);
		const cJSON *m =
		        cJSON_GetObjectItemCaseSensitive(root, "Error Message");

		if (cJSON_IsString(m) && m->valuestring != NULL) {
			*is_json_error = 1;
			msg = strdup(m->valuestring);
		}
		cJSON_Delete(root);
		return msg;
	}
	if (*p == '[' || *p == '<')
		return NULL;
	if (len > 1024)
		len = 1024;
	msg = malloc(len + 1);
	if (msg != NULL) {
		memcpy(msg, body, len);
		msg[len] = '\0';
	}
	return msg;
}

int
ps_fmp_judge(long status, const char *body, size_t len, int *verdict, char *why,
             size_t whylen)
{
	*verdict = (int)ps_fmp_classify(status, body, len, why, whylen);
	return *verdict == PS_FMP_RETRY;
}

enum ps_fmp_verdict
ps_fmp_classify(long status, const char *body, size_t len, char *why,
                size_t whylen)
{
	enum ps_fmp_verdict v;
	int is_json_error = 0;
	char *msg;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	msg = body != NULL ? find_message(body, len, &is_json_error) : NULL;
	if (msg != NULL && match_message(msg, strlen(msg), &v)) {
		set_why_text(why, whylen, msg, strlen(msg));
		goto free_msg;
	}
	if (status >= 200 && status <= 299) {
		/* A JSON error object under 200 is an error all the same;
		 * plain text under 200 is left to the parsers to refuse. */
		if (msg != NULL && is_json_error) {
			v = PS_FMP_BAD;
			set_why_text(why, whylen, msg, strlen(msg));
		} else {
			v = PS_FMP_OK;
		}
		goto free_msg;
	}
	if (status == 401)
		v = PS_FMP_AUTH;
	else if (status == 429 || (status >= 500 && status <= 599))
		v = PS_FMP_RETRY;
	else
		v = PS_FMP_BAD;
	/* 5xx bodies are usually a proxy's HTML: the status says enough. */
	set_why_status(why, whylen, status, v == PS_FMP_RETRY ? NULL : msg);
free_msg:
	free(msg);
	return v;
}

int
ps_fmp_verdict_fatal(enum ps_fmp_verdict v, const char *detail,
                     struct ps_err *err)
{
	switch (v) {
	case PS_FMP_AUTH:
		ps_err_set(err, PS_EUPSTREAM_AUTH,
		           "FMP rejected the API key: check fmp_api_key (%s)",
		           detail);
		return 1;
	case PS_FMP_QUOTA:
		ps_err_set(err, PS_EUPSTREAM_QUOTA,
		           "FMP's request quota for this key is spent: %s",
		           detail);
		return 1;
	case PS_FMP_LEGACY:
		ps_err_set(err, PS_EUPSTREAM_PLAN,
		           "this key cannot use the v3 API: set fmp_api = "
		           "stable");
		return 1;
	default:
		return 0;
	}
}

/* ---- URLs ---- */

/* Appends s percent-encoded: only [A-Za-z0-9.-] stay as they are (plus
 * the characters in keep), so ^ and = become %5E and %3D. */
static int
put_encoded(struct ps_buf *b, const char *s, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		char enc[3];

		if (isalnum(ch) || ch == '.' || ch == '-' ||
		    (keep != NULL && strchr(keep, ch) != NULL)) {
			if (ps_buf_append(b, s, 1) < 0)
				return -1;
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[ch >> 4];
		enc[2] = hex[ch & 15];
		if (ps_buf_append(b, enc, 3) < 0)
			return -1;
	}
	return 0;
}

/* Appends the key as the last parameter; sep is '?' or '&'. */
static int
put_key(struct ps_buf *b, const struct ps_conf *c, char sep)
{
	if (c->fmp_api_key == NULL || *c->fmp_api_key == '\0')
		return 0;
	if (ps_buf_append(b, &sep, 1) < 0 || ps_buf_puts(b, "apikey=") < 0)
		return -1;
	return put_encoded(b, c->fmp_api_key, "_~");
}

char *
ps_fmp_url(const struct ps_conf *c, const char *path, const char *value,
           const char *tail)
{
	struct ps_buf b = {0};
	char sep;

	if (ps_buf_puts(&b, c->fmp_base_url) < 0 || ps_buf_puts(&b, path) < 0 ||
	    put_encoded(&b, value, NULL) < 0 ||
	    (tail != NULL && ps_buf_puts(&b, tail) < 0))
		goto free_buf;
	sep = strchr(path, '?') || (tail != NULL && strchr(tail, '?')) ? '&'
	                                                               : '?';
	if (put_key(&b, c, sep) < 0)
		goto free_buf;
	return ps_buf_take(&b);
free_buf:
	ps_buf_free(&b);
	return NULL;
}

char *
ps_fmp_url_batch(const struct ps_conf *c, const char *const *symbols, size_t n)
{
	struct ps_buf b = {0};
	size_t i;
	int v3 = c->fmp_api == PS_API_V3;

	if (ps_buf_puts(&b, c->fmp_base_url) < 0 ||
	    ps_buf_puts(&b, v3 ? "/api/v3/quote/"
	                       : "/stable/batch-quote?symbols=") < 0)
		goto free_buf;
	for (i = 0; i < n; i++)
		if ((i > 0 && ps_buf_puts(&b, ",") < 0) ||
		    put_encoded(&b, symbols[i], NULL) < 0)
			goto free_buf;
	if (put_key(&b, c, v3 ? '?' : '&') < 0)
		goto free_buf;
	return ps_buf_take(&b);
free_buf:
	ps_buf_free(&b);
	return NULL;
}

char *
ps_fmp_url_single(const struct ps_conf *c, const char *symbol)
{
	if (c->fmp_api == PS_API_V3)
		return ps_fmp_url(c, "/api/v3/quote/", symbol, NULL);
	return ps_fmp_url(c, "/stable/quote?symbol=", symbol, NULL);
}

char *
ps_fmp_url_fx(const struct ps_conf *c, const char *pair)
{
	if (c->fmp_api == PS_API_V3)
		return ps_fmp_url(c, "/api/v3/fx/", pair, NULL);
	return ps_fmp_url(c, "/stable/quote?symbol=", pair, NULL);
}

char *
ps_fmp_url_profile(const struct ps_conf *c, const char *symbol)
{
	if (c->fmp_api == PS_API_V3)
		return ps_fmp_url(c, "/api/v3/profile/", symbol, NULL);
	return ps_fmp_url(c, "/stable/profile?symbol=", symbol, NULL);
}

char *
ps_fmp_redact(const char *url)
{
	const char *q = strchr(url, '?'), *p;
	struct ps_buf b = {0};

	if (q == NULL)
		return strdup(url);
	if (ps_buf_append(&b, url, (size_t)(q - url)) < 0)
		goto free_buf;
	/* Parameter by parameter: only a name "apikey" right after ? or &
	 * counts, and its whole value (percent-encoded or not) goes. */
	for (p = q; *p == '?' || *p == '&';) {
		const char *name = p + 1;
		size_t vlen;

		if (ps_buf_append(&b, p, 1) < 0)
			goto free_buf;
		vlen = strcspn(name, "&#");
		if (strncasecmp(name, "apikey=", 7) == 0) {
			if (ps_buf_append(&b, name, 7) < 0 ||
			    ps_buf_puts(&b, "***") < 0)
				goto free_buf;
		} else if (ps_buf_append(&b, name, vlen) < 0) {
			goto free_buf;
		}
		p = name + vlen;
	}
	if (ps_buf_puts(&b, p) < 0) /* the fragment, if any */
		goto free_buf;
	return ps_buf_take(&b);
free_buf:
	ps_buf_free(&b);
	return NULL;
}

/* ---- reading bodies ---- */

/* A number held in a string (older answers), whitespace around allowed. */
static double
num_text(const char *s)
{
	char *end;
	double d;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return NAN;
	errno = 0;
	d = strtod(s, &end);
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0' || errno == ERANGE)
		return NAN;
	return d;
}

double
ps_fmp_num(const cJSON *item)
{
	double d = NAN;

	if (cJSON_IsNumber(item))
		d = item->valuedouble;
	else if (cJSON_IsString(item) && item->valuestring != NULL)
		d = num_text(item->valuestring);
	return isfinite(d) ? d : NAN;
}

static const cJSON *
field(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* Copies s into out, cut at a UTF-8 character boundary; "" for NULL. */
static void
copy_str(char *out, size_t size, const char *s)
{
	size_t n;

	out[0] = '\0';
	if (s == NULL)
		return;
	n = strlen(s);
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

/* What a quote row says, read from cJSON or from flat text alike (an
 * absent field has its bit clear in `has`). */
enum qfield {
	Q_SYMBOL,
	Q_PRICE,
	Q_PCT,
	Q_PCT_V3,
	Q_CHANGE,
	Q_LOW,
	Q_HIGH,
	Q_VOLUME,
	Q_NAME,
	Q_EXCHANGE,
	Q_TIME,
	NQ
};

static const char *const qnames[NQ] = {
        [Q_SYMBOL] = "symbol",
        [Q_PRICE] = "price",
        [Q_PCT] = "changePercentage" /* stable */,
        [Q_PCT_V3] = "changesPercentage",
        [Q_CHANGE] = "change",
        [Q_LOW] = "dayLow",
        [Q_HIGH] = "dayHigh",
        [Q_VOLUME] = "volume",
        [Q_NAME] = "name",
        [Q_EXCHANGE] = "exchange",
        [Q_TIME] = "timestamp",
};

struct qrow {
	unsigned has;
	struct ps_jval v[NQ];
};

/* As ps_fmp_num, for a value of the row; NaN when absent. */
static double
qnum(const struct qrow *q, enum qfield f)
{
	const struct ps_jval *v = &q->v[f];
	double d = NAN;

	if (!(q->has >> f & 1u))
		return NAN;
	if (v->type == PS_JV_NUM)
		d = v->num;
	else if (v->type == PS_JV_STR)
		d = num_text(v->str);
	return isfinite(d) ? d : NAN;
}

static const char *
qstr(const struct qrow *q, enum qfield f)
{
	return q->has >> f & 1u && q->v[f].type == PS_JV_STR ? q->v[f].str
	                                                     : NULL;
}

/* The first member of a name wins, as with cJSON_GetObjectItem. */
static void
qrow_member(const char *key, const struct ps_jval *v, void *arg)
{
	struct qrow *q = arg;
	int f;

	for (f = 0; f < NQ; f++)
		if (key[0] == qnames[f][0] && strcmp(key, qnames[f]) == 0) {
			if (!(q->has >> f & 1u)) {
				q->v[f].type = v->type;
				q->v[f].num = v->num;
				if (v->type == PS_JV_STR)
					strcpy(q->v[f].str, v->str);
			}
			q->has |= 1u << f;
			return;
		}
}

/* A cJSON row as a qrow. */
static void
qrow_of(const cJSON *row, struct qrow *q)
{
	struct ps_jval v;
	int f;

	q->has = 0;
	for (f = 0; f < NQ; f++) {
		const cJSON *it = field(row, qnames[f]);

		if (it == NULL)
			continue;
		v.type = cJSON_IsNull(it) ? PS_JV_NULL : PS_JV_LIT;
		if (cJSON_IsNumber(it)) {
			v.type = PS_JV_NUM;
			v.num = it->valuedouble;
		} else if (cJSON_IsString(it) && it->valuestring != NULL) {
			v.type = PS_JV_STR;
			copy_str(v.str, sizeof(v.str), it->valuestring);
		}
		qrow_member(qnames[f], &v, q);
	}
}

static int64_t
json_time(double d)
{
	/* Seconds since 1970 (fmp-api.md §7); nonsense is "unknown". */
	if (isnan(d) || d <= 0 || d > 1e12)
		return 0;
	return (int64_t)d;
}

/* qsort has no context argument, so the index holds record pointers. */
static int
cmp_rec_ptr(const void *a, const void *b)
{
	const struct ps_symrec *ra = *(const struct ps_symrec *const *)a;
	const struct ps_symrec *rb = *(const struct ps_symrec *const *)b;

	return strcmp(ra->symbol, rb->symbol);
}

static int
cmp_key_rec(const void *key, const void *elem)
{
	const struct ps_symrec *r = *(const struct ps_symrec *const *)elem;

	return strcmp((const char *)key, r->symbol);
}

/* Fills r from a matched row. A price is usable when finite and > 0: FMP
 * sends 0 for lines it has no trade for, and a zero price would value a
 * holding at nothing rather than unknown. */
static int
fill_rec(struct ps_symrec *r, const struct qrow *q)
{
	double price = qnum(q, Q_PRICE);
	enum qfield pct = Q_PCT;

	if (isnan(price) || price <= 0) {
		snprintf(r->error, sizeof(r->error), "%s",
		         "no price in FMP's answer");
		return 0;
	}
	if (!(q->has >> Q_PCT & 1u) || q->v[Q_PCT].type == PS_JV_NULL)
		pct = Q_PCT_V3;
	r->price = price;
	r->change = qnum(q, Q_CHANGE);
	r->change_percent = qnum(q, pct);
	r->day_low = qnum(q, Q_LOW);
	r->day_high = qnum(q, Q_HIGH);
	r->volume = qnum(q, Q_VOLUME);
	copy_str(r->name, sizeof(r->name), qstr(q, Q_NAME));
	copy_str(r->exchange, sizeof(r->exchange), qstr(q, Q_EXCHANGE));
	r->quote_time = json_time(qnum(q, Q_TIME));
	r->error[0] = '\0';
	return 1;
}

/* The records asked (index: sorted by symbol) and which a row filled. */
struct asked {
	struct ps_symrec *recs, **index;
	struct ps_symrec *backup; /* recs as given, for the cJSON path */
	size_t n;
	unsigned char *seen;
	int updated;
};

/* Fills the records that row is about and that no earlier row filled. */
static void
match_row(struct asked *a, const struct qrow *q)
{
	const char *sym = qstr(q, Q_SYMBOL);
	char key[PS_SYMBOL_MAX + 1];
	struct ps_symrec **hit;
	size_t k;

	if (a->n == 0 || sym == NULL || strlen(sym) > PS_SYMBOL_MAX)
		return;
	for (k = 0; sym[k] != '\0'; k++)
		key[k] = (char)toupper((unsigned char)sym[k]);
	key[k] = '\0';
	hit = bsearch(key, a->index, a->n, sizeof(*a->index), cmp_key_rec);
	if (hit == NULL)
		return; /* a row for a symbol not asked */
	/* The same symbol asked twice: fill every copy. */
	while (hit > a->index && strcmp(hit[-1]->symbol, key) == 0)
		hit--;
	for (; hit < a->index + a->n && strcmp((*hit)->symbol, key) == 0;
	     hit++) {
		size_t at = (size_t)(*hit - a->recs);

		if (a->seen[at])
			continue; /* the first row wins */
		a->seen[at] = 1;
		a->updated += fill_rec(*hit, q);
	}
}

/* The body as an array of flat objects, without a tree: 0 when it is one
 * (each row matched as it is read), -1 when cJSON must read it (the
 * caller then puts back the records the rows before the fault filled). */
static int
flat_rows(const char *p, const char *end, struct asked *a)
{
	struct qrow q;

	p = ps_jscan_ws(p, end);
	if (p == end || *p++ != '[')
		return -1;
	p = ps_jscan_ws(p, end);
	if (p < end && *p == ']')
		return ps_jscan_ws(p + 1, end) == end ? 0 : -1;
	for (;;) {
		q.has = 0;
		p = ps_jscan_object(p, end, qrow_member, &q);
		if (p == NULL)
			return -1;
		match_row(a, &q);
		p = ps_jscan_ws(p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == ']')
			return ps_jscan_ws(p + 1, end) == end ? 0 : -1;
		return -1;
	}
}

/* The body through cJSON: -1 when it is no array. */
static int
cjson_rows(const char *body, size_t len, struct asked *a)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *row;
	struct qrow q;

	if (!cJSON_IsArray(root)) {
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(row, root)
	{
		if (!cJSON_IsObject(row))
			continue;
		qrow_of(row, &q);
		match_row(a, &q);
	}
	cJSON_Delete(root);
	return 0;
}

int
ps_fmp_parse_quotes(const char *body, size_t len, struct ps_symrec *recs,
                    size_t n, struct ps_err *err)
{
	struct asked a = {.recs = recs, .n = n};
	size_t i;
	int rc;

	a.index = malloc((n ? n : 1) * sizeof(*a.index));
	a.seen = calloc(n ? n : 1, 1);
	a.backup = malloc((n ? n : 1) * sizeof(*a.backup));
	if (a.index == NULL || a.seen == NULL || a.backup == NULL) {
		rc = ps_err_set(err, PS_ENOMEM,
		                "out of memory reading FMP's answer");
		goto free_index;
	}
	for (i = 0; i < n; i++)
		a.index[i] = &recs[i];
	/* qsort's pointer must not be NULL, even for zero elements. */
	qsort(a.index, n, sizeof(*a.index), cmp_rec_ptr);
	if (n > 0)
		memcpy(a.backup, recs, n * sizeof(*recs));
	if ((rc = flat_rows(body, body + len, &a)) < 0) {
		/* Not flat: as if the fast path had never looked. */
		if (n > 0)
			memcpy(recs, a.backup, n * sizeof(*recs));
		memset(a.seen, 0, n ? n : 1);
		a.updated = 0;
		rc = cjson_rows(body, len, &a);
	}
	if (rc < 0) {
		ps_err_set(err, PS_EUPSTREAM, "malformed JSON from FMP");
		goto free_index;
	}
	for (i = 0; i < n; i++)
		if (!a.seen[i])
			snprintf(recs[i].error, sizeof(recs[i].error), "%s",
			         "not returned by FMP");
	rc = a.updated;
free_index:
	free(a.backup);
	free(a.seen);
	free(a.index);
	return rc;
}

/* The object an fx or profile answer is about: array[0] or a bare object. */
static const cJSON *
first_object(const cJSON *root)
{
	if (cJSON_IsArray(root))
		root = cJSON_GetArrayItem(root, 0);
	return cJSON_IsObject(root) ? root : NULL;
}

int
ps_fmp_parse_fx(const char *body, size_t len, enum ps_api api, double *rate,
                const char **basis, struct ps_err *err)
{
	const char *name = api == PS_API_V3 ? "bid" : "price";
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *obj;
	double d;

	if (!cJSON_IsArray(root) && !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return ps_err_set(err, PS_EUPSTREAM, "malformed JSON from FMP");
	}
	obj = first_object(root);
	if (obj == NULL) {
		cJSON_Delete(root);
		return ps_err_set(err, PS_EUPSTREAM,
		                  "no fx rate in FMP's answer (empty)");
	}
	d = ps_fmp_num(field(obj, name));
	cJSON_Delete(root);
	if (isnan(d) || d <= 0)
		return ps_err_set(err, PS_EUPSTREAM,
		                  "no usable fx rate in FMP's answer "
		                  "(field \"%s\")",
		                  name);
	*rate = d;
	*basis = api == PS_API_V3 ? "bid" : "price";
	return 0;
}

int
ps_fmp_parse_profile(const char *body, size_t len, char ccy[PS_CCY_MAX],
                     struct ps_err *err)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *obj, *cur;
	struct ps_err cerr;
	int rc;

	if (!cJSON_IsArray(root) && !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return ps_err_set(err, PS_EUPSTREAM, "malformed JSON from FMP");
	}
	obj = first_object(root);
	cur = obj != NULL ? field(obj, "currency") : NULL;
	if (!cJSON_IsString(cur) || cur->valuestring == NULL) {
		cJSON_Delete(root);
		return ps_err_set(err, PS_EUPSTREAM,
		                  "no currency in FMP's profile");
	}
	rc = ps_currency_normalize(cur->valuestring, ccy, &cerr);
	cJSON_Delete(root);
	if (rc < 0)
		return ps_err_set(err, PS_EUPSTREAM,
		                  "FMP's profile names no valid currency");
	return 0;
}
