// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the second moments of each weight's inputs over calibration
 * runs, H = sum x x^T, for data-aware rounding (quant/gptq.c).
 *
 * x is what one output of the layer sees: a conv's patch (kh x kw x the
 * group's channels, in the weight matrix's column order, zeros where the
 * padding is) or a row of a Gemm/MatMul input.  Summing every position
 * of a large feature map would cost positions x dim^2 per layer, so each
 * run adds a fixed number of positions, picked by a seeded hash: H only
 * has to be known well enough to rank rounding directions, and a few
 * thousand samples of a 2304-long patch do that.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/nuqfile.h>

#include "graph_priv.h"
#include "msg.h"

/* Samples per run and weight: at least this, or 4 x dim over all runs. */
#define MOM_SAMPLES_MIN		512
#define MOM_SAMPLES_PER_DIM	4
/* The moments of all weights together may take this much memory. */
#define MOM_MAX_BYTES		(2ULL << 30)

struct mom_layer {
	const struct nuq_node *node;
	int value;		/* the input's value id */
	int conv;		/* 1 conv, 0 Gemm/MatMul */
	size_t per_run;		/* samples each run adds */
	struct nuq_moments *m;
};

struct mom_ctx {
	struct nuq_graph *g;
	struct mom_layer *l;
	size_t nl;
	uint64_t run;
	float *pt, *p, *acc;	/* scratch: dim x S, S x dim, dim x dim */
	size_t scratch, acc_size;
	int err;
};

static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* H_k += P^T P for the @s samples in @p (s x dim), @pt its transpose. */
static void add_outer(struct mom_ctx *c, struct nuq_moments *m, size_t k, size_t s)
{
	size_t n = m->dim, i, j;
	double *h = m->h + k * n * n, *sum = m->sum + k * n;

	nuq_sgemm(n, n, s, c->pt, s, c->p, n, c->acc, n, 0);
	for (i = 0; i < n * n; i++)
		h[i] += c->acc[i];
	for (i = 0; i < n; i++) {
		const float *row = c->pt + i * s;
		double t = 0;

		for (j = 0; j < s; j++)
			t += row[j];
		sum[i] += t;
	}
}

static int need_scratch(struct mom_ctx *c, size_t dim, size_t s)
{
	if (dim * s > c->scratch) {
		free(c->pt);
		free(c->p);
		c->pt = malloc(dim * s * sizeof(float));
		c->p = malloc(dim * s * sizeof(float));
		c->scratch = c->pt && c->p ? dim * s : 0;
	}
	if (dim * dim > c->acc_size) {
		free(c->acc);
		c->acc = malloc(dim * dim * sizeof(float));
		c->acc_size = c->acc ? dim * dim : 0;
	}
	return c->scratch >= dim * s && c->acc_size >= dim * dim ? 0 : -ENOMEM;
}

/* Conv input @x (NCHW float): sampled patches into each group's H. */
static int add_conv(struct mom_ctx *c, struct mom_layer *l, const struct nuq_tensor *x)
{
	struct nuq_node *n = (struct nuq_node *)l->node;
	const struct nuq_attrs *a = &n->a;
	struct nuq_moments *m = l->m;
	int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
	int64_t kh = a->kernel[0], kw = a->kernel[1], cg = C / a->group, oh, ow;
	size_t s = l->per_run, j, k;
	uint64_t pos;

	nuq_window_auto_pad(n, H, W);
	oh = nuq_conv_out_dim(H, kh, a->strides[0], a->dilations[0], a->pads[0], a->pads[2], 0);
	ow = nuq_conv_out_dim(W, kw, a->strides[1], a->dilations[1], a->pads[1], a->pads[3], 0);
	if (oh < 1 || ow < 1 || (size_t)(kh * kw * cg) != m->dim || (size_t)a->group != m->groups)
		return -EINVAL;
	pos = (uint64_t)(N * oh * ow);
	if (s > pos)
		s = pos;
	if (need_scratch(c, m->dim, s))
		return -ENOMEM;
	for (k = 0; k < m->groups; k++) {
		for (j = 0; j < s; j++) {
			uint64_t p = s == pos ? j : mix(c->run * 0x10001 + j) % pos;
			int64_t b = p / (oh * ow), oy = p / ow % oh, ox = p % ow, ky, kx, ci;
			float *row = c->p + j * m->dim;

			for (ky = 0; ky < kh; ky++) {
				int64_t iy = oy * a->strides[0] - a->pads[0] + ky * a->dilations[0];

				for (kx = 0; kx < kw; kx++) {
					int64_t ix = ox * a->strides[1] - a->pads[1] +
						     kx * a->dilations[1];
					float *d = row + (ky * kw + kx) * cg;
					int in = iy >= 0 && iy < H && ix >= 0 && ix < W;

					for (ci = 0; ci < cg; ci++)
						d[ci] = in ? x->f[((b * C + k * cg + ci) * H + iy) *
								  W + ix] : 0;
				}
			}
		}
		for (j = 0; j < s; j++)
			for (size_t i = 0; i < m->dim; i++)
				c->pt[i * s + j] = c->p[j * m->dim + i];
		add_outer(c, m, k, s);
	}
	m->samples += s;
	return 0;
}

/* Gemm/MatMul input: its rows (the last dim) are the samples. */
static int add_rows(struct mom_ctx *c, struct mom_layer *l, const struct nuq_tensor *x)
{
	struct nuq_moments *m = l->m;
	size_t count = nuq_tensor_count(x), dim = m->dim, rows, s = l->per_run, j, i;

	if (!x->ndims || (size_t)x->dims[x->ndims - 1] != dim)
		return -EINVAL;
	rows = count / dim;
	if (s > rows)
		s = rows;
	if (!s)
		return 0;
	if (need_scratch(c, dim, s))
		return -ENOMEM;
	for (j = 0; j < s; j++) {
		size_t r = s == rows ? j : mix(c->run * 0x10001 + j) % rows;

		memcpy(c->p + j * dim, x->f + r * dim, dim * sizeof(float));
		for (i = 0; i < dim; i++)
			c->pt[i * s + j] = x->f[r * dim + i];
	}
	add_outer(c, m, 0, s);
	m->samples += s;
	return 0;
}

static void add_value(struct mom_ctx *c, int v, const struct nuq_tensor *t)
{
	size_t i;

	for (i = 0; i < c->nl && !c->err; i++) {
		struct mom_layer *l = &c->l[i];

		if (l->value != v || !l->m->h)
			continue;
		if (t->dtype != NUQ_DT_FLOAT || !t->f) {
			nuq_moments_free(l->m);	/* not a float input: no moments */
			continue;
		}
		c->err = l->conv ? (t->ndims == 4 ? add_conv(c, l, t) : -EINVAL) :
			 add_rows(c, l, t);
		if (c->err == -EINVAL) {
			nuq_moments_free(l->m);
			c->err = 0;
		}
	}
}

static void observe(void *ctx, size_t node, unsigned int idx, const struct nuq_tensor *t)
{
	struct mom_ctx *c = ctx;

	add_value(c, c->g->nodes[node].out[idx], t);
}

/* The node that computes with weight @name, and the moments' shape. */
static int find_layer(struct nuq_graph *g, const char *name, struct mom_layer *l,
		      struct nuq_moments *m, size_t runs)
{
	size_t i;

	for (i = 0; i < g->nnodes; i++) {
		const struct nuq_node *n = &g->nodes[i];
		const char *op = n->op->name;

		if (n->nin < 2 || !n->proto || n->proto->n_input < 2 ||
		    strcmp(n->proto->input[1], name))
			continue;
		if (!strcmp(op, "Conv") && n->w.ndims == 4 && n->a.group >= 1) {
			l->conv = 1;
			m->groups = (size_t)n->a.group;
			m->dim = (size_t)(n->w.dims[1] * n->w.dims[2] * n->w.dims[3]);
		} else if ((!strcmp(op, "Gemm") && !n->a.trans_a) || !strcmp(op, "MatMul")) {
			const struct nuq_tensor *w = nuq_const_input(g, n, 1);

			if (!w || w->ndims != 2)
				return 0;
			l->conv = 0;
			m->groups = 1;
			m->dim = (size_t)(!strcmp(op, "Gemm") && n->a.trans_b ? w->dims[1] :
					  w->dims[0]);
		} else {
			return 0;
		}
		l->node = n;
		l->value = n->in[0];
		l->m = m;
		l->per_run = (MOM_SAMPLES_PER_DIM * m->dim + runs - 1) / runs;
		if (l->per_run < MOM_SAMPLES_MIN)
			l->per_run = MOM_SAMPLES_MIN;
		return 1;
	}
	return 0;
}

int nuq_graph_weight_moments(struct nuq_graph *g, const struct nuq_tensor *inputs, size_t n,
			     const char *const *names, size_t nw, struct nuq_moments *out,
			     char *msg, size_t msglen)
{
	struct nuq_graph_feed *feeds;
	int ret;

	memset(out, 0, nw * sizeof(*out));
	if (g->ninputs != 1)
		return nuq_fail(msg, msglen, -EINVAL,
				"the graph has %zu inputs: give each run's as feeds (nuq_graph_weight_moments_feeds)",
				g->ninputs);
	feeds = nuq_graph_feeds_of(g, inputs, n);
	if (!feeds)
		return nuq_fail(msg, msglen, -ENOMEM, "out of memory");
	ret = nuq_graph_weight_moments_feeds(g, feeds, 1, n, names, nw, out, msg, msglen);
	free(feeds);
	return ret;
}

int nuq_graph_weight_moments_feeds(struct nuq_graph *g, const struct nuq_graph_feed *feeds,
				   size_t nfeeds, size_t n, const char *const *names, size_t nw,
				   struct nuq_moments *out, char *msg, size_t msglen)
{
	struct mom_ctx c = { .g = g };
	struct nuq_tensor *y;
	uint64_t bytes = 0;
	size_t i, j, k;
	int ret = 0;

	memset(out, 0, nw * sizeof(*out));
	if (!n || nfeeds != g->ninputs)
		return nuq_fail(msg, msglen, -EINVAL,
				"input moments need at least one run, each with the graph's %zu input%s",
				g->ninputs, g->ninputs == 1 ? "" : "s");
	c.l = calloc(nw, sizeof(*c.l));
	y = calloc(g->noutputs + 1, sizeof(*y));
	if (!c.l || !y) {
		free(c.l);
		free(y);
		return nuq_fail(msg, msglen, -ENOMEM, "out of memory");
	}
	c.nl = nw;
	for (i = 0; i < nw; i++) {
		c.l[i].value = -1;
		if (!find_layer(g, names[i], &c.l[i], &out[i], n))
			continue;
		/* past the memory cap, a weight keeps nearest rounding */
		if (bytes + (uint64_t)out[i].groups * out[i].dim * out[i].dim * sizeof(double) >
		    MOM_MAX_BYTES) {
			memset(&out[i], 0, sizeof(out[i]));
			c.l[i].value = -1;
			continue;
		}
		bytes += (uint64_t)out[i].groups * out[i].dim * out[i].dim * sizeof(double);
		out[i].h = calloc(out[i].groups * out[i].dim * out[i].dim, sizeof(double));
		out[i].sum = calloc(out[i].groups * out[i].dim, sizeof(double));
		if (!out[i].h || !out[i].sum) {
			ret = nuq_fail(msg, msglen, -ENOMEM, "out of memory");
			goto out;
		}
	}
	nuq_graph_set_observer(g, observe, &c);
	for (k = 0; !ret && k < n; k++) {
		const struct nuq_graph_feed *f = feeds + k * nfeeds;

		c.run = k;
		/* a weight may read a graph input itself: the observer never sees those */
		for (j = 0; j < nfeeds; j++) {
			int in = nuq_graph_find_input(g, f[j].name);

			if (in >= 0 && f[j].tensor)
				add_value(&c, g->inputs[in], f[j].tensor);
		}
		ret = c.err ? nuq_fail(msg, msglen, c.err, "out of memory") :
		      nuq_graph_run_all(g, f, nfeeds, y, msg, msglen);
		if (!ret && c.err)
			ret = nuq_fail(msg, msglen, c.err, "out of memory");
		for (j = 0; !ret && j < g->noutputs; j++)
			nuq_tensor_free(&y[j]);
	}
	nuq_graph_set_observer(g, NULL, NULL);
out:
	free(y);
	for (i = 0; ret && i < nw; i++)
		nuq_moments_free(&out[i]);
	free(c.pt);
	free(c.p);
	free(c.acc);
	free(c.l);
	return ret;
}
