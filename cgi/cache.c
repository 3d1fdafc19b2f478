/*
 * cache: see cache.h. A handful of slots searched in order: the answers
 * a dashboard polls are few (the status, the prices, a history or two).
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"

void
cache_init(struct cache *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
}

void
cache_free(struct cache *c)
{
	size_t i;

	for (i = 0; i < CACHE_SLOTS; i++)
		free(c->slot[i].doc);
	pthread_mutex_destroy(&c->mu);
	memset(c, 0, sizeof(*c));
}

struct cache_doc *
cache_get(struct cache *c, const char *etag)
{
	struct cache_doc *d = NULL;
	size_t i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < CACHE_SLOTS && !d; i++)
		if (c->slot[i].doc && strcmp(c->slot[i].etag, etag) == 0) {
			d = c->slot[i].doc;
			d->refs++;
			c->slot[i].used = ++c->clock;
		}
	pthread_mutex_unlock(&c->mu);
	return d;
}

/* Drops one reference, under the mutex. */
static void
unref(struct cache_doc *d)
{
	if (d && --d->refs == 0)
		free(d);
}

void
cache_put(struct cache *c, const char *etag, const char *p, size_t n)
{
	struct cache_doc *d;
	size_t i, v = 0;

	if (n > CACHE_DOC_MAX || strlen(etag) >= HTTP_ETAG_LEN ||
	    (d = malloc(sizeof(*d) + n)) == NULL)
		return;
	d->refs = 1; /* the slot's */
	d->len = n;
	memcpy(d->data, p, n);
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < CACHE_SLOTS; i++) {
		if (c->slot[i].doc && strcmp(c->slot[i].etag, etag) == 0) {
			v = i; /* another thread kept it first: replace */
			break;
		}
		if (c->slot[i].used < c->slot[v].used)
			v = i;
	}
	unref(c->slot[v].doc);
	strcpy(c->slot[v].etag, etag);
	c->slot[v].doc = d;
	c->slot[v].used = ++c->clock;
	pthread_mutex_unlock(&c->mu);
}

void
cache_release(struct cache *c, struct cache_doc *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	unref(d);
	pthread_mutex_unlock(&c->mu);
}
