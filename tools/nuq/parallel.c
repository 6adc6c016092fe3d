// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: run @fn on items 0..n-1 over a few threads, with a progress bar;
 * shared by quantization (a candidate layout an item) and data-aware
 * rounding (a layer's factor, a candidate's rounding an item).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "cli.h"

#define MAX_THREADS	64

struct parallel {
	void (*fn)(void *ctx, size_t i);
	void *ctx;
	size_t n;
	atomic_size_t next, done;
};

static void *worker(void *arg)
{
	struct parallel *p = arg;
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->n) {
		p->fn(p->ctx, i);
		atomic_fetch_add(&p->done, 1);
	}
	return NULL;
}

void for_each_parallel(size_t n, unsigned int jobs, const char *what,
		       void (*fn)(void *ctx, size_t i), void *ctx)
{
	struct parallel p = { .fn = fn, .ctx = ctx, .n = n };
	pthread_t th[MAX_THREADS];
	struct progress pr;
	unsigned int i, started = 0;

	if (jobs > MAX_THREADS)
		jobs = MAX_THREADS;
	if (what)
		progress_start(&pr, what, n);
	for (i = 0; i < jobs; i++)
		if (!pthread_create(&th[i], NULL, worker, &p))
			started++;
	if (!started)
		worker(&p);
	while (atomic_load(&p.done) < n) {
		if (what)
			progress_step(&pr, atomic_load(&p.done));
		usleep(20000);
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (what) {
		progress_step(&pr, n);
		progress_end(&pr);
	}
}
