// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: scratch buffers of the fast CPU path, reused between jobs.
 *
 * A job's int16 image and tap matrix take megabytes.  Fresh from malloc()
 * such buffers are often fresh pages from the kernel (glibc maps big
 * blocks), and faulting them in cost a third of a small layer's time.  So
 * a few buffers are kept for the next job; any thread may take one.
 */
#include <pthread.h>
#include <stdlib.h>

#include "conv_fast.h"

#define POOL_SLOTS	8
/* Larger buffers are not kept: they would pin that much memory while idle. */
#define POOL_MAX_BYTES	((size_t)64 << 20)

static struct {
	pthread_mutex_t lock;
	struct {
		void *p;
		size_t size;
		int busy;
	} slot[POOL_SLOTS];
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

void *nuq_scratch_get(size_t size)
{
	int i, best = -1, idle = -1;
	void *p = NULL;

	if (size > POOL_MAX_BYTES)
		return malloc(size);
	pthread_mutex_lock(&pool.lock);
	for (i = 0; i < POOL_SLOTS; i++) {
		if (pool.slot[i].busy)
			continue;
		if (pool.slot[i].p && pool.slot[i].size >= size &&
		    (best < 0 || pool.slot[i].size < pool.slot[best].size))
			best = i;
		if (idle < 0 || pool.slot[i].size < pool.slot[idle].size)
			idle = i;
	}
	if (best < 0 && idle >= 0) {
		/* replace the smallest idle buffer with one of this size */
		free(pool.slot[idle].p);
		pool.slot[idle].p = malloc(size);
		pool.slot[idle].size = pool.slot[idle].p ? size : 0;
		if (pool.slot[idle].p)
			best = idle;
	}
	if (best >= 0) {
		pool.slot[best].busy = 1;
		p = pool.slot[best].p;
	}
	pthread_mutex_unlock(&pool.lock);
	return p ? p : malloc(size);
}

void nuq_scratch_put(void *p)
{
	int i;

	if (!p)
		return;
	pthread_mutex_lock(&pool.lock);
	for (i = 0; i < POOL_SLOTS; i++) {
		if (pool.slot[i].p == p) {
			pool.slot[i].busy = 0;
			pthread_mutex_unlock(&pool.lock);
			return;
		}
	}
	pthread_mutex_unlock(&pool.lock);
	free(p);
}
