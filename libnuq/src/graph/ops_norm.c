// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: normalisations that cannot fold into a conv: InstanceNormalization,
 * LRN (across channels) and LayerNormalization.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops_util.h"

static const char *const in_attrs[] = { "epsilon", NULL };
static const char *const lrn_attrs[] = { "alpha", "beta", "bias", "size", NULL };
static const char *const ln_attrs[] = { "axis", "epsilon", "stash_type", NULL };

static int instnorm_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	(void)g, (void)msg, (void)msglen;
	n->a.epsilon = nuq_attr_float(n, "epsilon", 1e-5f);
	return 0;
}

static int instnorm_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
			char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0], *sc = in[1], *bi = in[2];
	int64_t N, C, S = 1, p, i;
	unsigned int d;
	int ret;

	if (x->ndims < 3)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input must be N x C x spatial dims");
	N = x->dims[0], C = x->dims[1];
	for (d = 2; d < x->ndims; d++)
		S *= x->dims[d];
	if (sc->dtype != NUQ_DT_FLOAT || bi->dtype != NUQ_DT_FLOAT ||
	    nuq_tensor_count(sc) != (size_t)C || nuq_tensor_count(bi) != (size_t)C)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "scale and B need %lld floats",
				     (long long)C);
	ret = nuq_tensor_alloc(out[0], NUQ_DT_FLOAT, x->ndims, x->dims);
	if (ret)
		return ret;
	for (p = 0; p < N * C; p++) {
		const float *xr = x->f + p * S;
		float *yr = out[0]->f + p * S;
		double mean = 0, var = 0;
		float s, t;

		for (i = 0; i < S; i++)
			mean += xr[i];
		mean = S ? mean / (double)S : 0;
		for (i = 0; i < S; i++)
			var += (xr[i] - mean) * (xr[i] - mean);
		var = S ? var / (double)S : 0;
		s = (float)(sc->f[p % C] / sqrt(var + n->a.epsilon));
		t = (float)(bi->f[p % C] - mean * s);
		for (i = 0; i < S; i++)
			yr[i] = xr[i] * s + t;
	}
	return 0;
}

/* LRN's size goes in a.group. */
static int lrn_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	(void)g;
	n->a.alpha = nuq_attr_float(n, "alpha", 1e-4f);
	n->a.beta = nuq_attr_float(n, "beta", 0.75f);
	n->a.epsilon = nuq_attr_float(n, "bias", 1.0f);
	n->a.group = nuq_attr_int(n, "size", 0);
	if (n->a.group < 1)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "size must be set and >= 1");
	return 0;
}

static int lrn_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		   char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	int64_t N, C, S = 1, bn, c, k, i, size = n->a.group;
	int64_t lo = (size - 1) / 2, hi = size / 2;	/* floor and ceil of (size - 1) / 2 */
	unsigned int d;
	int ret;

	if (x->ndims < 3)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input must be N x C x spatial dims");
	N = x->dims[0], C = x->dims[1];
	for (d = 2; d < x->ndims; d++)
		S *= x->dims[d];
	ret = nuq_tensor_alloc(out[0], NUQ_DT_FLOAT, x->ndims, x->dims);
	if (ret)
		return ret;
	for (bn = 0; bn < N; bn++)
		for (c = 0; c < C; c++)
			for (i = 0; i < S; i++) {
				double sq = 0;
				float v = x->f[(bn * C + c) * S + i];

				for (k = c - lo; k <= c + hi; k++)
					if (k >= 0 && k < C) {
						float u = x->f[(bn * C + k) * S + i];

						sq += (double)u * u;
					}
				out[0]->f[(bn * C + c) * S + i] =
					(float)(v / pow(n->a.epsilon + n->a.alpha / (double)size * sq,
							n->a.beta));
			}
	return 0;
}

static int ln_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	(void)g;
	n->a.axis = nuq_attr_int(n, "axis", -1);
	n->a.epsilon = nuq_attr_float(n, "epsilon", 1e-5f);
	if (nuq_attr_int(n, "stash_type", 1) != 1)
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
				     "stash_type %lld is not supported (1, float, is)",
				     (long long)nuq_attr_int(n, "stash_type", 1));
	return 0;
}

/* Offsets into @t for each element of the normalised block (shape @nd, @dims). */
static int64_t *block_offsets(const struct nuq_tensor *t, unsigned int nd, const int64_t *dims,
			      int64_t inner)
{
	int64_t *off = malloc((size_t)(inner ? inner : 1) * sizeof(*off)), i;
	struct nuq_bwalk w;

	if (!off)
		return NULL;
	nuq_bwalk_init(&w, t, nd, dims);
	for (i = 0; i < inner; i++, nuq_bwalk_next(&w))
		off[i] = w.off;
	return off;
}

static int ln_check(const struct nuq_tensor *t, unsigned int nd, const int64_t *dims)
{
	struct nuq_tensor blk = { .ndims = nd };
	int64_t bd[NUQ_ONNX_MAX_DIMS];
	unsigned int bnd;

	memcpy(blk.dims, dims, nd * sizeof(int64_t));
	/* Unidirectional: broadcasting @t must give exactly the block's shape. */
	return t->dtype == NUQ_DT_FLOAT && t->ndims <= nd && !nuq_broadcast_shape(&blk, t, &bnd, bd) &&
	       !memcmp(bd, dims, nd * sizeof(int64_t)) ? 0 : -EINVAL;
}

static int ln_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		  char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0], *sc = in[1], *bi = n->nin > 2 ? in[2] : NULL;
	int axis = nuq_norm_axis(n->a.axis, x->ndims);
	int64_t outer = 1, inner = 1, o, i, *so = NULL, *bo = NULL;
	unsigned int d, bnd;
	int ret;

	if (axis < 0)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "axis %lld out of range",
				     (long long)n->a.axis);
	bnd = x->ndims - (unsigned int)axis;
	for (d = 0; d < x->ndims; d++) {
		if ((int)d < axis)
			outer *= x->dims[d];
		else
			inner *= x->dims[d];
	}
	if (ln_check(sc, bnd, x->dims + axis) || (bi && ln_check(bi, bnd, x->dims + axis)))
		return nuq_node_fail(n, msg, msglen, -EINVAL,
				     "scale and B must be floats broadcasting to the normalised dims");
	ret = nuq_tensor_alloc(out[0], NUQ_DT_FLOAT, x->ndims, x->dims);
	if (ret)
		return ret;
	/* The optional Mean and InvStdDev: x's dims with the normalised ones 1. */
	for (d = 1; d < 3 && d < n->nout; d++) {
		int64_t sd[NUQ_ONNX_MAX_DIMS];
		unsigned int k;

		if (!out[d])
			continue;
		for (k = 0; k < x->ndims; k++)
			sd[k] = (int)k < axis ? x->dims[k] : 1;
		ret = nuq_tensor_alloc(out[d], NUQ_DT_FLOAT, x->ndims, sd);
		if (ret)
			return ret;
	}
	so = block_offsets(sc, bnd, x->dims + axis, inner);
	bo = bi ? block_offsets(bi, bnd, x->dims + axis, inner) : NULL;
	if (!so || (bi && !bo)) {
		free(so);
		free(bo);
		return nuq_node_fail(n, msg, msglen, -ENOMEM, "out of memory");
	}
	for (o = 0; o < outer; o++) {
		const float *xr = x->f + o * inner;
		float *yr = out[0]->f + o * inner;
		double mean = 0, var = 0, inv;

		for (i = 0; i < inner; i++)
			mean += xr[i];
		mean /= (double)(inner ? inner : 1);
		for (i = 0; i < inner; i++)
			var += (xr[i] - mean) * (xr[i] - mean);
		var /= (double)(inner ? inner : 1);
		inv = 1.0 / sqrt(var + n->a.epsilon);
		if (n->nout > 1 && out[1])
			out[1]->f[o] = (float)mean;
		if (n->nout > 2 && out[2])
			out[2]->f[o] = (float)inv;
		for (i = 0; i < inner; i++)
			yr[i] = (float)((xr[i] - mean) * inv * sc->f[so[i]] + (bi ? bi->f[bo[i]] : 0));
	}
	free(so);
	free(bo);
	return 0;
}

const struct nuq_op nuq_ops_norm[] = {
	{ "InstanceNormalization", in_attrs, instnorm_prepare, instnorm_run, 3, 0, 0, 0 },
	{ "LRN", lrn_attrs, lrn_prepare, lrn_run, 1, 0, 0, 0 },
	{ "LayerNormalization", ln_attrs, ln_prepare, ln_run, 2, 0, 3, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
};
