// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: packed weights of recent jobs.
 *
 * Decoding a job's weights (codebook indices, ASD digits) and packing them
 * for the dot products costs as much as the convolution itself when a
 * layer has few output pixels, and a graph runs the same layers for every
 * input.  So the fast path keeps the packed form of recent weights, keyed
 * by a copy of the raw weight and codebook bytes: a job hits only when its
 * bytes are equal (memcmp), so a changed or reused buffer can never be
 * served stale weights.  Shared by all threads; entries in use are never
 * evicted.  The budget is $NUQ_WEIGHT_CACHE_MB (default 64, 0 disables).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "conv_fast_cache.h"

struct nuq_wcache_entry {
	struct nuq_wcache_key key;
	uint8_t *raw;		/* weight bytes, then codebook bytes */
	struct nuq_packed packed;
	uint64_t last_use;
	unsigned int users;
};

#define WCACHE_SLOTS	128

static struct {
	pthread_mutex_t lock;
	struct nuq_wcache_entry *slot[WCACHE_SLOTS];
	size_t bytes, budget;
	uint64_t clock;
	int budget_read;
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t entry_bytes(const struct nuq_wcache_entry *e)
{
	return e->key.weight_bytes + e->key.codebook_bytes + e->packed.n * sizeof(int16_t);
}

static void entry_free(struct nuq_wcache_entry *e)
{
	free(e->raw);
	free(e->packed.w);
	free(e);
}

static size_t budget(void)
{
	if (!cache.budget_read) {
		const char *env = getenv("NUQ_WEIGHT_CACHE_MB");
		char *end;
		unsigned long mb = env ? strtoul(env, &end, 10) : 64;

		if (env && (*end || end == env))
			mb = 64;
		cache.budget = mb > 1UL << 20 ? (size_t)1 << 40 : (size_t)mb << 20;
		cache.budget_read = 1;
	}
	return cache.budget;
}

static int matches(const struct nuq_wcache_entry *e, const struct nuq_wcache_key *key,
		   const void *weights, const void *codebook)
{
	return !memcmp(&e->key, key, sizeof(*key)) &&
	       !memcmp(e->raw, weights, key->weight_bytes) &&
	       (!key->codebook_bytes ||
		!memcmp(e->raw + key->weight_bytes, codebook, key->codebook_bytes));
}

struct nuq_packed *nuq_wcache_get(const struct nuq_wcache_key *key, const void *weights,
				  const void *codebook)
{
	struct nuq_packed *hit = NULL;
	int i;

	pthread_mutex_lock(&cache.lock);
	for (i = 0; i < WCACHE_SLOTS && !hit; i++) {
		struct nuq_wcache_entry *e = cache.slot[i];

		if (e && matches(e, key, weights, codebook)) {
			e->users++;
			e->last_use = ++cache.clock;
			hit = &e->packed;
		}
	}
	pthread_mutex_unlock(&cache.lock);
	return hit;
}

/* Free the least recently used entry not in use; -1 if every entry is in use. */
static int evict_one(void)
{
	struct nuq_wcache_entry *old = NULL;
	int i, at = -1;

	for (i = 0; i < WCACHE_SLOTS; i++) {
		struct nuq_wcache_entry *e = cache.slot[i];

		if (e && !e->users && (!old || e->last_use < old->last_use)) {
			old = e;
			at = i;
		}
	}
	if (!old)
		return -1;
	cache.bytes -= entry_bytes(old);
	cache.slot[at] = NULL;
	entry_free(old);
	return 0;
}

/* A free slot with room for @need more bytes, evicting as needed; -1 if none. */
static int make_room(size_t need)
{
	int i;

	if (need > budget())
		return -1;
	while (cache.bytes + need > cache.budget)
		if (evict_one())
			return -1;
	for (;;) {
		for (i = 0; i < WCACHE_SLOTS; i++)
			if (!cache.slot[i])
				return i;
		if (evict_one())
			return -1;
	}
}

struct nuq_packed *nuq_wcache_put(const struct nuq_wcache_key *key, const void *weights,
				  const void *codebook, const struct nuq_packed *packed)
{
	struct nuq_wcache_entry *e = calloc(1, sizeof(*e));
	size_t need;
	int free_slot;

	if (!e)
		return NULL;
	e->key = *key;
	e->packed = *packed;
	e->users = 1;
	need = entry_bytes(e);
	e->raw = malloc(key->weight_bytes + key->codebook_bytes + 1);
	if (!e->raw) {
		free(e);
		return NULL;
	}
	memcpy(e->raw, weights, key->weight_bytes);
	if (key->codebook_bytes)
		memcpy(e->raw + key->weight_bytes, codebook, key->codebook_bytes);

	pthread_mutex_lock(&cache.lock);
	free_slot = make_room(need);
	if (free_slot >= 0) {
		e->last_use = ++cache.clock;
		cache.slot[free_slot] = e;
		cache.bytes += need;
	}
	pthread_mutex_unlock(&cache.lock);
	if (free_slot < 0) {
		/* not kept: the caller still owns packed->w */
		free(e->raw);
		free(e);
		return NULL;
	}
	return &e->packed;
}

void nuq_wcache_release(struct nuq_packed *packed)
{
	struct nuq_wcache_entry *e = (struct nuq_wcache_entry *)((char *)packed -
				     offsetof(struct nuq_wcache_entry, packed));

	pthread_mutex_lock(&cache.lock);
	e->users--;
	pthread_mutex_unlock(&cache.lock);
}
