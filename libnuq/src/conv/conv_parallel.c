// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the fast CPU path's worker threads.  A job's output rows are
 * independent (each part writes its own pixels, from its own scratch),
 * so nuq_parallel_for() hands them out to a small pool that lives as long
 * as the process; the caller works too, and takes whatever parts no
 * worker has taken.  A worker joins a round only while it is open; once
 * the caller has run out of parts it closes the round and waits just for
 * the workers that joined (a worker the scheduler has not run yet - on a
 * busy machine - costs nothing), so the round can live on the caller's
 * stack.  Only one round runs at a time: a second thread calling
 * meanwhile does its parts itself.
 *
 * NUQ_THREADS=N sets the threads (the caller included); the default is
 * the CPUs this process may run on, at most NUQ_MAX_THREADS.  Results do
 * not depend on it: the parts are the same, only who computes them.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "conv_fast.h"

#define NUQ_MAX_THREADS	8

struct round {
	nuq_part_fn fn;
	void *ctx;
	size_t n;
	size_t next;		/* the next part to take (atomic) */
};

static struct {
	pthread_once_t once;
	pthread_mutex_t lock;
	pthread_cond_t work, idle;
	unsigned int threads;	/* the caller included */
	unsigned int workers;	/* started */
	unsigned int joined, left;	/* workers in the current round, and done */
	unsigned long gen;	/* rounds posted */
	int busy;
	struct round *round;
} pool = {
	.once = PTHREAD_ONCE_INIT,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
};

static void run_parts(struct round *r)
{
	size_t i;

	while ((i = __atomic_fetch_add(&r->next, 1, __ATOMIC_RELAXED)) < r->n)
		r->fn(r->ctx, i);
}

static void *worker(void *arg)
{
	unsigned long seen = 0;

	(void)arg;
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		struct round *r;

		while (pool.gen == seen)
			pthread_cond_wait(&pool.work, &pool.lock);
		seen = pool.gen;
		r = pool.round;
		if (!r)
			continue;	/* woke too late: the round is closed */
		pool.joined++;
		pthread_mutex_unlock(&pool.lock);
		run_parts(r);
		pthread_mutex_lock(&pool.lock);
		if (++pool.left == pool.joined)
			pthread_cond_signal(&pool.idle);
	}
	return NULL;
}

static unsigned int wanted_threads(void)
{
	const char *env = getenv("NUQ_THREADS");
	cpu_set_t set;
	long n = 0;

	if (env && *env) {
		char *end;

		n = strtol(env, &end, 10);
		if (*end || n < 1)
			n = 1;
	} else if (!sched_getaffinity(0, sizeof(set), &set)) {
		n = CPU_COUNT(&set);
	} else {
		n = sysconf(_SC_NPROCESSORS_ONLN);
	}
	return n < 1 ? 1 : n > NUQ_MAX_THREADS ? NUQ_MAX_THREADS : (unsigned int)n;
}

static void start_pool(void)
{
	pthread_attr_t attr;
	pthread_t t;
	unsigned int i;

	pool.threads = wanted_threads();
	if (pool.threads < 2 || pthread_attr_init(&attr))
		return;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1 << 20);
	for (i = 1; i < pool.threads; i++) {
		if (pthread_create(&t, &attr, worker, NULL))
			break;
		pool.workers++;
	}
	pthread_attr_destroy(&attr);
}

unsigned int nuq_conv_threads(void)
{
	pthread_once(&pool.once, start_pool);
	return pool.workers + 1;
}

void nuq_parallel_for(size_t n, nuq_part_fn fn, void *ctx)
{
	struct round r = { .fn = fn, .ctx = ctx, .n = n };
	size_t i;

	if (n > 1 && nuq_conv_threads() > 1) {
		pthread_mutex_lock(&pool.lock);
		if (!pool.busy) {
			pool.busy = 1;
			pool.round = &r;
			pool.joined = pool.left = 0;
			pool.gen++;
			pthread_cond_broadcast(&pool.work);
			pthread_mutex_unlock(&pool.lock);
			run_parts(&r);
			pthread_mutex_lock(&pool.lock);
			pool.round = NULL;
			while (pool.left < pool.joined)
				pthread_cond_wait(&pool.idle, &pool.lock);
			pool.busy = 0;
			pthread_mutex_unlock(&pool.lock);
			return;
		}
		pthread_mutex_unlock(&pool.lock);
	}
	for (i = 0; i < n; i++)
		fn(ctx, i);
}
