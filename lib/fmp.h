/*
 * fmp: Financial Modeling Prep's URLs and answers (fmp-api.md, SPEC §8),
 * with no I/O. Builds request URLs for both API generations, shows them with
 * the key hidden, tells an answer's verdict from its status and body (JSON
 * or plain text "Error Message", under any status), and reads quote, fx and
 * profile bodies, where every number may be null or a string.
 */
#ifndef PS_FMP_H
#define PS_FMP_H

#include <stddef.h>

#include "conf.h"
#include "err.h"
#include "quote.h"

enum ps_fmp_verdict {
	PS_FMP_OK,          /* status 2xx and no error message in the body */
	PS_FMP_AUTH,        /* "Invalid API KEY" (any status) or 401 */
	PS_FMP_QUOTA,       /* "Limit Reach" (any status) */
	PS_FMP_LEGACY,      /* "Legacy Endpoint" */
	PS_FMP_RESTRICTED,  /* "Restricted Endpoint" / "Exclusive Endpoint" */
	PS_FMP_SYMBOL_PLAN, /* "Premium Query Parameter" / "Special Endpoint" */
	PS_FMP_RETRY,       /* another 429, or a 5xx: worth another try */
	PS_FMP_BAD          /* any other error status or error message */
};

/* The verdict for an answer. why (may be NULL) gets a short message a user
 * can act on, e.g. "HTTP 503 from FMP" or FMP's own message, cut to fit. */
enum ps_fmp_verdict ps_fmp_classify(long status, const char *body, size_t len,
                                    char *why, size_t whylen);

/* ps_fmp_classify as the fetch engine's judge (struct ps_fetch_judge of
 * lib/fetch.h): 1 for PS_FMP_RETRY. PS_FMP_JUDGE initialises one. */
int ps_fmp_judge(long status, const char *body, size_t len, int *verdict,
                 char *why, size_t whylen);
#define PS_FMP_JUDGE                                                           \
	{                                                                      \
		ps_fmp_judge, PS_FMP_RETRY, PS_FMP_BAD                         \
	}

/* The verdicts no other request can get past (§8): for PS_FMP_AUTH,
 * PS_FMP_QUOTA and PS_FMP_LEGACY, 1 with err set to the code and a message
 * (detail: what FMP said, as ps_fmp_classify's why); 0 for any other. */
int ps_fmp_verdict_fatal(enum ps_fmp_verdict v, const char *detail,
                         struct ps_err *err);

/* A number in an FMP body: a JSON number, or a string holding one (older
 * answers); NaN for null, absent, anything else, or an infinity. */
struct cJSON;
double ps_fmp_num(const struct cJSON *item);

/* URLs, malloc'd (caller frees), with the key (if any) as apikey=. Symbols
 * are percent-encoded. NULL when out of memory. */
char *ps_fmp_url_batch(const struct ps_conf *c, const char *const *symbols,
                       size_t n);
char *ps_fmp_url_single(const struct ps_conf *c, const char *symbol);
char *ps_fmp_url_fx(const struct ps_conf *c, const char *pair);
char *ps_fmp_url_profile(const struct ps_conf *c, const char *symbol);
/* Any endpoint: the base URL, path, value percent-encoded, tail as it is
 * (more parameters), then the key, after '&' when path or tail began the
 * query, else after '?'. */
char *ps_fmp_url(const struct ps_conf *c, const char *path, const char *value,
                 const char *tail);

/* A copy of url safe to print: the apikey value replaced by "***".
 * malloc'd, caller frees. */
char *ps_fmp_redact(const char *url);

/* Reads a quote body (a JSON array of quote objects, stable or v3 names)
 * into recs[0..n-1], whose `symbol` fields name what was asked. Rows are
 * matched by `symbol`, never by order. A matched row with a usable price
 * fills the quote fields and leaves error ""; a row without a usable price
 * sets error "no price in FMP's answer"; an unmatched symbol gets
 * "not returned by FMP". Returns the number of symbols updated, or -1 with
 * PS_EUPSTREAM when the body is not a JSON array ("malformed JSON from
 * FMP"), leaving recs untouched. */
int ps_fmp_parse_quotes(const char *body, size_t len, struct ps_symrec *recs,
                        size_t n, struct ps_err *err);

/* Reads an fx body: v3 (/api/v3/fx/PAIR, `bid`, basis "bid") or stable
 * (/stable/quote?symbol=PAIR, `price`, basis "price"). *basis is a static
 * string. -1 with PS_EUPSTREAM when there is no usable rate. */
int ps_fmp_parse_fx(const char *body, size_t len, enum ps_api api, double *rate,
                    const char **basis, struct ps_err *err);

/* Reads `currency` from a profile body (a JSON array of one object).
 * -1 with PS_EUPSTREAM when absent or not a currency. */
int ps_fmp_parse_profile(const char *body, size_t len, char ccy[PS_CCY_MAX],
                         struct ps_err *err);

#endif
