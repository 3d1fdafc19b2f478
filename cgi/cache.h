/*
 * cache: whole answers of `sync-status` kept in memory under their ETag,
 * so a document asked again at the same store revision is written from
 * memory instead of being read and rendered again. An ETag there is made
 * from everything its bytes depend on (the store's revision and the
 * request's parameters: see sync-status.c), so equal ETags are equal
 * bytes, whoever rendered them.
 *
 * Limits: CACHE_SLOTS answers of at most CACHE_DOC_MAX bytes each (the
 * least recently used one goes); a bigger answer is never kept. Shared
 * by the worker threads: a mutex guards the slots, and an answer in use
 * is reference-counted, so a thread may write it while another replaces
 * its slot.
 */
#ifndef PS_CACHE_H
#define PS_CACHE_H

#include <pthread.h>
#include <stddef.h>

#include "http.h"

#define CACHE_SLOTS 8
#define CACHE_DOC_MAX (1024 * 1024)

/* One kept answer: read-only once made; freed by the last release. */
struct cache_doc {
	int refs; /* under the cache's mutex */
	size_t len;
	char data[];
};

struct cache {
	pthread_mutex_t mu;
	unsigned long clock; /* bumped by every hit and put, for the LRU */
	struct {
		char etag[HTTP_ETAG_LEN]; /* "" for an empty slot */
		struct cache_doc *doc;
		unsigned long used;
	} slot[CACHE_SLOTS];
};

void cache_init(struct cache *c);
/* Frees every answer; none may be in use. */
void cache_free(struct cache *c);
/* The answer kept under etag (the caller releases it), or NULL. */
struct cache_doc *cache_get(struct cache *c, const char *etag);
/* Keeps a copy of the n bytes at p under etag (n <= CACHE_DOC_MAX);
 * nothing when out of memory: a cache may forget. */
void cache_put(struct cache *c, const char *etag, const char *p, size_t n);
void cache_release(struct cache *c, struct cache_doc *d);

#endif
