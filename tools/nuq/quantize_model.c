// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: quantize every weight of a model, spread over threads; shared by
 * nuq quantize (which writes the result) and nuq eval / nuq run (which
 * execute it).  With a bit budget each layer is quantized at every width
 * from 2 to 8 and nuq_mixed_precision() picks one per layer so that the
 * index bits average the budget (codebooks and scales come on top, and
 * the table reports the true size).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nuq/nuq.h>
#include <nuq/nuqfile.h>

#include "cli.h"

#define MP_MIN_BITS	2
#define MP_OPTS		7	/* 2..8 bits */

struct task {
	const struct nuq_onnx_weight *w;
	const float *mat;
	struct nuq_layer_opts opts;
	struct nuq_qlayer layer;
	struct nuq_layer_stats st;
	int ret;
	char msg[256];
};

struct pool {
	struct task *tasks;
	size_t ntasks;
	atomic_size_t next;
	atomic_size_t done;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->ntasks) {
		struct task *t = &p->tasks[i];

		t->ret = nuq_qlayer_quantize(t->w, t->mat, &t->opts, &t->layer, &t->st, t->msg,
					     sizeof(t->msg));
		atomic_fetch_add(&p->done, 1);
	}
	return NULL;
}

static void run_pool(struct pool *p, unsigned int jobs, int show)
{
	pthread_t th[64];
	struct progress pr;
	unsigned int i, started = 0;

	if (jobs > 64)
		jobs = 64;
	if (show)
		progress_start(&pr, "quantize", p->ntasks);
	for (i = 0; i < jobs; i++)
		if (!pthread_create(&th[i], NULL, worker, p))
			started++;
	if (!started)
		worker(p);
	while (atomic_load(&p->done) < p->ntasks) {
		if (show)
			progress_step(&pr, atomic_load(&p->done));
		usleep(20000);
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (show) {
		progress_step(&pr, p->ntasks);
		progress_end(&pr);
	}
}

/* Pick one width per layer within the budget; index into the pool's tasks. */
static int choose_widths(const struct pool *pool, size_t nw, size_t weights, double budget,
			 size_t *pick, char *msg, size_t msglen)
{
	double *err = calloc(nw * MP_OPTS, sizeof(*err));
	double *bytes = calloc(nw * MP_OPTS, sizeof(*bytes));
	unsigned int *choice = calloc(nw, sizeof(*choice)), b;
	size_t i;
	int ret = -ENOMEM;

	if (err && bytes && choice) {
		/* error as noise-to-signal ratio, so small and large layers weigh alike */
		for (i = 0; i < nw; i++)
			for (b = 0; b < MP_OPTS; b++) {
				const struct task *t = &pool->tasks[b * nw + i];

				err[i * MP_OPTS + b] = pow(10, -t->st.sqnr_db / 10);
				/* The budget is in index bits; codebooks come on top. */
				bytes[i * MP_OPTS + b] = (double)t->w->rows * t->w->cols *
							 (MP_MIN_BITS + b) / 8.0;
			}
		ret = nuq_mixed_precision(nw, MP_OPTS, err, bytes, budget * weights / 8, choice);
		for (i = 0; !ret && i < nw; i++)
			pick[i] = choice[i] * nw + i;
		if (ret)
			snprintf(msg, msglen, "--budget-bits %.2f is below what %d-bit layers need",
				 budget, MP_MIN_BITS);
	}
	free(err);
	free(bytes);
	free(choice);
	return ret;
}

int quantize_model(struct nuq_onnx *model, const struct nuq_layer_opts *o, double budget,
		   unsigned int jobs, int show, struct qmodel *out, char *msg, size_t msglen)
{
	const struct nuq_onnx_weight *w;
	struct pool pool = { 0 };
	float **mats = NULL;
	size_t nw = 0, i, *pick = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = nuq_onnx_weights(model, &w, &nw, msg, msglen);
	if (ret)
		return ret;
	if (!nw) {
		snprintf(msg, msglen, "the model has no Conv/Gemm/MatMul weights");
		return -ENOENT;
	}
	ret = -ENOMEM;
	mats = calloc(nw, sizeof(*mats));
	pick = calloc(nw, sizeof(*pick));
	out->layers = calloc(nw, sizeof(*out->layers));
	out->stats = calloc(nw, sizeof(*out->stats));
	out->weights_of = calloc(nw, sizeof(*out->weights_of));
	pool.ntasks = nw * (budget ? MP_OPTS : 1);
	pool.tasks = calloc(pool.ntasks, sizeof(*pool.tasks));
	if (!mats || !pick || !out->layers || !out->stats || !out->weights_of || !pool.tasks) {
		snprintf(msg, msglen, "out of memory");
		goto out;
	}
	out->file_bytes = NUQ_FILE_HEADER_BYTES;
	for (i = 0; i < nw; i++) {
		ret = nuq_onnx_weight_matrix(model, &w[i], &mats[i], msg, msglen);
		if (ret)
			goto out;
		out->weights += w[i].rows * w[i].cols;
		out->weights_of[i] = &w[i];
	}
	for (i = 0; i < pool.ntasks; i++) {
		struct task *t = &pool.tasks[i];

		t->w = &w[i % nw];
		t->mat = mats[i % nw];
		t->opts = *o;
		if (budget)
			t->opts.q.bits = MP_MIN_BITS + i / nw;
	}
	run_pool(&pool, jobs, show);
	for (i = 0; i < pool.ntasks; i++) {
		if (pool.tasks[i].ret) {
			snprintf(msg, msglen, "%s", pool.tasks[i].msg);
			ret = pool.tasks[i].ret;
			goto out;
		}
	}
	for (i = 0; i < nw; i++)
		pick[i] = i;
	if (budget) {
		ret = choose_widths(&pool, nw, out->weights, budget, pick, msg, msglen);
		if (ret)
			goto out;
	}
	/* Move the chosen layers out; the pool frees the rest. */
	for (i = 0; i < nw; i++) {
		struct task *t = &pool.tasks[pick[i]];

		out->layers[i] = t->layer;
		out->stats[i] = t->st;
		out->file_bytes += t->st.bytes;
		memset(&t->layer, 0, sizeof(t->layer));
	}
	out->n = nw;
	{
		uint64_t kept;

		ret = nuq_onnx_kept_bytes(model, out->layers, nw, &kept, msg, msglen);
		out->kept_bytes = kept;
	}
out:
	for (i = 0; pool.tasks && i < pool.ntasks; i++)
		nuq_qlayer_free(&pool.tasks[i].layer);
	for (i = 0; mats && i < nw; i++)
		free(mats[i]);
	free(pool.tasks);
	free(mats);
	free(pick);
	if (ret)
		qmodel_free(out);
	return ret;
}

void qmodel_free(struct qmodel *m)
{
	size_t i;

	for (i = 0; m->layers && i < m->n; i++)
		nuq_qlayer_free(&m->layers[i]);
	free(m->layers);
	free(m->stats);
	free(m->weights_of);
	memset(m, 0, sizeof(*m));
}
