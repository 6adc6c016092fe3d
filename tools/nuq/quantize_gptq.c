// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: data-aware rounding of every candidate layout (libnuq's GPTQ) when
 * calibration inputs are at hand.
 *
 * Nearest rounding minimises each weight's error; what the model loses is
 * that error seen through the layer's inputs.  So the inputs' second
 * moments are summed over the calibration runs (fp32, once), each layer's
 * factor is computed once, and every candidate (width, layout) of the
 * layer is rounded against it; the candidate's error for the
 * rate-distortion choice becomes its output noise-to-signal ratio on
 * those inputs, which is what the choice meant to minimise all along.
 * NUQ_GPTQ=0 turns it off (nearest rounding, weight error).
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/nuq.h>
#include <nuq/nuqfile.h>

#include "cli.h"

int quant_gptq_enabled(void)
{
	const char *e = getenv("NUQ_GPTQ");

	return !e || strcmp(e, "0");
}

struct gptq_work {
	const struct quant_cands *c;
	struct nuq_moments *mo;
	struct nuq_gptq_factor **f;	/* per layer: one per group, or NULL */
	double *signal;			/* per layer: its fp32 weights' energy */
	atomic_int err;
};

static void factor_layer(void *ctx, size_t i)
{
	struct gptq_work *g = ctx;
	struct nuq_moments *mo = &g->mo[i];
	size_t k;

	if (!mo->h || !mo->samples)
		return;
	g->signal[i] = nuq_moments_energy(mo, g->c->mats[i], NULL, g->c->w[i].rows,
					  g->c->w[i].cols);
	if (!(g->signal[i] > 0))
		return;		/* no signal on these inputs: nothing to weigh */
	g->f[i] = calloc(mo->groups, sizeof(**g->f));
	if (!g->f[i]) {
		atomic_store(&g->err, -ENOMEM);
		return;
	}
	for (k = 0; k < mo->groups; k++) {
		if (nuq_gptq_factor(mo, k, &g->f[i][k])) {
			/* singular however dampened: this layer keeps nearest rounding */
			while (k--)
				nuq_gptq_factor_free(&g->f[i][k]);
			free(g->f[i]);
			g->f[i] = NULL;
			return;
		}
	}
}

static void round_candidate(void *ctx, size_t t)
{
	struct gptq_work *g = ctx;
	const struct quant_cands *c = g->c;
	size_t i = t % c->nw;
	struct nuq_qlayer *l = c->layer[t];
	double noise;
	int ret;

	c->onsr[t] = NAN;
	if (!g->f[i] || l->rank || !l->mat[0].idx)
		return;
	ret = nuq_qlayer_gptq(l, c->mats[i], &g->mo[i], g->f[i], c->st[t], &noise);
	if (ret == -EINVAL || ret == -EOPNOTSUPP)
		return;		/* a form it does not take: nearest rounding stays */
	if (ret)
		atomic_store(&g->err, ret);
	else
		c->onsr[t] = noise / g->signal[i];
}

int quantize_gptq(const struct quant_data *d, const struct quant_cands *c, unsigned int jobs,
		  int show, char *msg, size_t msglen)
{
	struct gptq_work g = { .c = c };
	const char **names = calloc(c->nw, sizeof(*names));
	size_t i, k;
	int ret = -ENOMEM;

	g.mo = calloc(c->nw, sizeof(*g.mo));
	g.f = calloc(c->nw, sizeof(*g.f));
	g.signal = calloc(c->nw, sizeof(*g.signal));
	for (i = 0; i < c->nw * c->nc; i++)
		c->onsr[i] = NAN;
	if (!names || !g.mo || !g.f || !g.signal) {
		snprintf(msg, msglen, "out of memory");
		goto out;
	}
	for (i = 0; i < c->nw; i++)
		names[i] = c->w[i].name;
	if (show)
		fprintf(stderr, "nuq: input moments of %zu layers over %zu calibration inputs\n",
			c->nw, d->n);
	ret = d->feeds ? nuq_graph_weight_moments_feeds(d->graph, d->feeds, d->nfeeds, d->n, names,
							c->nw, g.mo, msg, msglen) :
	      nuq_graph_weight_moments(d->graph, d->inputs, d->n, names, c->nw, g.mo, msg, msglen);
	if (ret)
		goto out;
	for (i = 0; !d->uncentered && i < c->nw; i++)
		nuq_moments_center(&g.mo[i]);
	for_each_parallel(c->nw, jobs, show ? "factor" : NULL, factor_layer, &g);
	if (!atomic_load(&g.err))
		for_each_parallel(c->nw * c->nc, jobs, show ? "round" : NULL, round_candidate, &g);
	ret = atomic_load(&g.err);
	if (ret)
		snprintf(msg, msglen, "data-aware rounding: %s", strerror(-ret));
out:
	for (i = 0; g.f && i < c->nw; i++) {
		for (k = 0; g.f[i] && k < g.mo[i].groups; k++)
			nuq_gptq_factor_free(&g.f[i][k]);
		free(g.f[i]);
	}
	for (i = 0; g.mo && i < c->nw; i++)
		nuq_moments_free(&g.mo[i]);
	free(g.f);
	free(g.mo);
	free(g.signal);
	free(names);
	return ret;
}
