/*
 * t-cache: cgi/cache.c, the answers of sync-status kept under their
 * ETag: a hit gives the bytes put, a miss NULL, the least recently used
 * answer goes first, an answer in use survives its slot's replacement,
 * one over CACHE_DOC_MAX is not kept, and free after all is safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "tap.h"

static void
tag(char *out, int i)
{
	snprintf(out, HTTP_ETAG_LEN, "\"%016x\"", i);
}

int
main(void)
{
	struct cache c;
	struct cache_doc *d, *held;
	char t[HTTP_ETAG_LEN], big_tag[HTTP_ETAG_LEN];
	char *big;
	int i, kept = 0;

	cache_init(&c);
	tag(t, 1);
	tap_ok(cache_get(&c, t) == NULL, "empty: a miss");
	cache_put(&c, t, "hello\n", 6);
	d = cache_get(&c, t);
	tap_ok(d && d->len == 6 && memcmp(d->data, "hello\n", 6) == 0,
	       "a hit gives the bytes put");
	held = d; /* in use while its slot is replaced below */
	for (i = 2; i <= CACHE_SLOTS + 1; i++) {
		tag(t, i);
		cache_put(&c, t, "x", 1);
	}
	tag(t, 1);
	tap_ok(cache_get(&c, t) == NULL,
	       "the least recently used answer went first");
	tap_ok(memcmp(held->data, "hello\n", 6) == 0,
	       "an answer in use outlives its slot");
	cache_release(&c, held);
	for (i = 2; i <= CACHE_SLOTS + 1; i++) {
		tag(t, i);
		d = cache_get(&c, t);
		kept += d != NULL;
		cache_release(&c, d);
	}
	tap_int(kept, CACHE_SLOTS, "the newer ones are all kept");
	tag(t, 2);
	cache_put(&c, t, "again", 5);
	d = cache_get(&c, t);
	tap_ok(d && d->len == 5, "a put under a kept tag replaces it");
	cache_release(&c, d);
	big = calloc(1, CACHE_DOC_MAX + 1);
	tag(big_tag, 99);
	cache_put(&c, big_tag, big, CACHE_DOC_MAX + 1);
	tap_ok(cache_get(&c, big_tag) == NULL, "an answer too big is not kept");
	free(big);
	cache_release(&c, NULL);
	cache_free(&c);
	tap_ok(1, "free with answers kept");
	return tap_done();
}
