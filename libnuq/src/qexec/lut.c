// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: elementwise regions after a job as 256-entry tables.
 *
 * A job's output is uint8: it takes at most 256 values.  Any chain of
 * elementwise ops that reads only that output and scalar constants -
 * PaddleOCR's HardSwish written out as x * Clip(x + 3, 0, 6) / 6, a
 * Sigmoid, a LeakyRelu - is then a function of those 256 values, exact
 * for this quantization: the fp32 ops are run once on the 256 values
 * (when the scales are known), their results quantized to the region
 * output's calibrated scale, and every run maps bytes to bytes.  The
 * region's output stays 8-bit for the next job; the four fp32 passes and
 * the conversions to float around them disappear.
 *
 * A region is closed: its nodes read the job output, scalar constants
 * and each other, and only its last node's output is read outside it
 * (and is not a graph output: an output keeps its float precision).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qexec_priv.h"

#define LUT_MAX_NODES	16

static const char *const lut_ops[] = {
	"Add", "Sub", "Mul", "Div", "Clip", "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid",
	"HardSwish", "Tanh", "Neg", "Abs", "Elu", "Selu", "Softplus", "Erf", "Gelu", "Max",
	"Min", "Sqrt", "Exp", "Pow", NULL,
};

static int lut_op(const struct nuq_node *n)
{
	size_t i;

	for (i = 0; lut_ops[i]; i++)
		if (!strcmp(n->op->name, lut_ops[i]))
			return n->nout == 1 && n->out[0] >= 0;
	return 0;
}

static int scalar_const(const struct nuq_graph *g, int v)
{
	return v >= 0 && g->values[v].is_const && g->values[v].t.dtype == NUQ_DT_FLOAT &&
	       nuq_tensor_count(&g->values[v].t) == 1;
}

/* 1 when value @v is @src or made by a member (@made, by value id). */
static int from_region(int v, int src, const char *made)
{
	return v >= 0 && (v == src || made[v]);
}

/*
 * Closed (see the top): every member output but the last one's is read
 * by members only, the last one is read outside and is no graph output.
 */
static int closed(const struct nuq_graph *g, const size_t *m, size_t n, const char *member)
{
	size_t i, k, j;

	for (i = 0; i < n; i++) {
		int v = g->nodes[m[i]].out[0], outside = g->values[v].is_output;

		for (k = 0; k < g->nnodes && !outside; k++)
			for (j = 0; j < g->nodes[k].nin; j++)
				outside |= g->nodes[k].in[j] == v && !member[k];
		if (outside != (i == n - 1) || (i == n - 1 && g->values[v].is_output))
			return 0;
	}
	return 1;
}

/* The largest closed region reading @src from node @after on, or 0 nodes. */
static size_t grow(const struct nuq_graph *g, int src, size_t after, size_t *m, char *member,
		   char *made)
{
	size_t i, j, n = 0;

	for (i = after + 1; i < g->nnodes && n < LUT_MAX_NODES; i++) {
		const struct nuq_node *nd = &g->nodes[i];
		int reads = 0, ok = lut_op(nd);

		for (j = 0; ok && j < nd->nin; j++) {
			if (nd->in[j] < 0)
				continue;
			if (from_region(nd->in[j], src, made))
				reads = 1;
			else if (!scalar_const(g, nd->in[j]))
				ok = 0;
		}
		if (!ok || !reads)
			continue;
		m[n++] = i;
		member[i] = 1;
		made[nd->out[0]] = 1;
	}
	/* Shrink from the end until the rest is closed. */
	while (n && !closed(g, m, n, member)) {
		n--;
		member[m[n]] = 0;
		made[g->nodes[m[n]].out[0]] = 0;
	}
	return n;
}

int nuq_qlut_find(struct nuq_qexec *q, struct qnode *qn)
{
	struct nuq_graph *g = q->g;
	size_t m[LUT_MAX_NODES], n, i;
	char *member = calloc(g->nnodes + 1, 1), *made = calloc(g->nvalues + 1, 1);
	struct qlut *r = NULL;
	int ret = -ENOMEM;

	if (!member || !made)
		goto out;
	n = grow(g, qn->out_val, (size_t)((qn->act ? qn->act : qn->add ? qn->add : qn->n) -
					  g->nodes), m, member, made);
	ret = 0;
	if (!n)
		goto out;
	/* A node already fused into a job or a table stays where it is. */
	for (i = 0; i < n; i++)
		if (q->qn[m[i]].lut || q->qn[m[i]].fused_act || q->qn[m[i]].fused_add)
			goto out;
	ret = -ENOMEM;
	r = calloc(1, sizeof(*r));
	if (!r)
		goto out;
	r->src = qn->out_val;
	r->out = g->nodes[m[n - 1]].out[0];
	r->n = n;
	memcpy(r->nodes, m, n * sizeof(m[0]));
	for (i = 0; i < n; i++) {
		q->qn[m[i]].n = &g->nodes[m[i]];
		g->nodes[m[i]].q = &q->qn[m[i]];
		q->qn[m[i]].lut = r;
	}
	q->qn[m[0]].lut_owner = 1;
	q->vals[r->out].tracked = 1;
	q->st.fused_tables++;
	ret = 0;
	r = NULL;
out:
	free(r);
	free(member);
	free(made);
	return ret;
}

/* The region's fp32 ops on the 256 values @src takes; the results into the table. */
int nuq_qlut_build(struct nuq_qexec *q, struct qlut *r, char *msg, size_t msglen)
{
	struct nuq_graph *g = q->g;
	const struct qval *src = &q->vals[r->src], *out = &q->vals[r->out];
	struct nuq_tensor x, t[LUT_MAX_NODES];
	int64_t dims[1] = { 256 };
	size_t i, k, j;
	int ret;

	memset(t, 0, sizeof(t));
	ret = nuq_tensor_alloc(&x, NUQ_DT_FLOAT, 1, dims);
	if (ret)
		return ret;
	for (i = 0; i < 256; i++)
		x.f[i] = ((int32_t)i - src->zp) * src->scale;
	for (k = 0; k < r->n && !ret; k++) {
		struct nuq_node *n = &g->nodes[r->nodes[k]];
		struct nuq_tensor *in[NUQ_NODE_MAX_IO], *o[NUQ_NODE_MAX_IO] = { &t[k] };

		for (j = 0; j < n->nin; j++) {
			size_t p;

			in[j] = NULL;
			if (n->in[j] < 0)
				continue;
			if (n->in[j] == r->src)
				in[j] = &x;
			for (p = 0; p < k; p++)
				if (g->nodes[r->nodes[p]].out[0] == n->in[j])
					in[j] = &t[p];
			if (!in[j])
				in[j] = &g->values[n->in[j]].t;	/* a scalar constant */
		}
		ret = nuq_node_run(n, in, o, msg, msglen);
		if (!ret && (t[k].dtype != NUQ_DT_FLOAT || nuq_tensor_count(&t[k]) != 256))
			ret = nuq_node_fail(n, msg, msglen, -EINVAL,
					    "an elementwise table did not keep its shape");
	}
	if (!ret) {
		float inv = 1.0f / out->scale;

		for (i = 0; i < 256; i++) {
			float v = t[r->n - 1].f[i];
			long qv = isfinite(v) ? lrintf(fminf(fmaxf(v * inv, -1e6f), 1e6f)) + out->zp :
				  v > 0 ? 255 : 0;

			r->table[i] = (uint8_t)(qv < 0 ? 0 : qv > 255 ? 255 : qv);
		}
		r->ready = 1;
	}
	for (k = 0; k < r->n; k++)
		nuq_tensor_free(&t[k]);
	nuq_tensor_free(&x);
	return ret;
}

/*
 * The graph hook for a member @qn->n: the first member maps the job's
 * bytes through the table into the region's output value; the others
 * have nothing left to do.  0 (run the node in fp32) when the source is
 * not 8-bit this time (its job ran in fp32), for every member alike.
 */
int nuq_qlut_hook(struct nuq_qexec *q, struct qnode *qn, struct nuq_tensor **in)
{
	struct qlut *r = qn->lut;
	struct nuq_node *n = qn->n;
	struct nuq_tensor *src = NULL, *dst;
	size_t i, cnt;
	unsigned int j;

	if (n != &q->g->nodes[r->nodes[0]])
		return r->done;
	r->done = 0;
	for (j = 0; j < n->nin; j++)
		if (n->in[j] == r->src)
			src = in[j];
	if (!r->ready || !src || !src->q || src->scale != q->vals[r->src].scale ||
	    src->zp != q->vals[r->src].zp)
		return 0;
	dst = &q->g->values[r->out].t;
	nuq_tensor_free(dst);
	memset(dst, 0, sizeof(*dst));
	dst->dtype = NUQ_DT_FLOAT;
	dst->ndims = src->ndims;
	memcpy(dst->dims, src->dims, sizeof(dst->dims));
	cnt = nuq_tensor_count(src);
	dst->q = malloc(cnt ? cnt : 1);
	if (!dst->q)
		return -ENOMEM;
	/* Elementwise: the NHWC order of the job's bytes carries over. */
	for (i = 0; i < cnt; i++)
		dst->q[i] = r->table[src->q[i]];
	dst->scale = q->vals[r->out].scale;
	dst->zp = q->vals[r->out].zp;
	q->g->values[r->out].live = 1;
	r->done = 1;
	return 1;
}
