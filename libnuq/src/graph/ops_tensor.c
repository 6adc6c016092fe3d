// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: ops that make or rearrange tensors: ConstantOfShape, Expand,
 * Tile, Range, DepthToSpace and SpaceToDepth.  All of them work on float
 * and INT64 tensors alike (shape chains go through them).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops_util.h"

static const char *const no_attrs[] = { NULL };
static const char *const value_attrs[] = { "value", NULL };
static const char *const d2s_attrs[] = { "blocksize", "mode", NULL };
static const char *const blocksize_attrs[] = { "blocksize", NULL };

/* Dims from a 1-D INT64 shape input, each >= 0, the product within bounds. */
static int shape_dims(struct nuq_node *n, const struct nuq_tensor *s, int64_t *dims,
		      unsigned int *nd, char *msg, size_t msglen)
{
	uint64_t total = 1;
	int c = nuq_int_list(s, dims, NUQ_ONNX_MAX_DIMS), i;

	if (c < 0)
		return nuq_node_fail(n, msg, msglen, -EINVAL,
				     "shape must be a 1-D INT64 tensor of at most %d values",
				     NUQ_ONNX_MAX_DIMS);
	for (i = 0; i < c; i++) {
		if (dims[i] < 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "negative dimension %lld",
					     (long long)dims[i]);
		if (dims[i] && total > nuq_tensor_max_count() / (uint64_t)dims[i])
			return nuq_node_fail(n, msg, msglen, -EINVAL, "shape holds too many elements");
		total *= (uint64_t)dims[i];
	}
	*nd = (unsigned int)c;
	return 0;
}

/*
 * The value attribute is a one-element tensor; prepare keeps its type in
 * a.to and its value in a.alpha (float) or a.axis (INT64).
 */
static int cos_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	const Onnx__AttributeProto *a = nuq_attr(n, "value");
	const Onnx__TensorProto *t = a ? a->t : NULL;
	size_t count = 0;
	int ret = 0;

	(void)g;
	n->a.to = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	n->a.alpha = 0.0f;
	n->a.axis = 0;
	if (!a)
		return 0;
	if (!t)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "value must be a tensor");
	if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
		float *f = NULL;

		ret = nuq_onnx_tensor_float(t, &f, &count, msg, msglen);
		if (!ret && count == 1)
			n->a.alpha = f[0];
		free(f);
	} else if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ||
		   t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
		int64_t *v = NULL;

		ret = nuq_onnx_tensor_int64(t, &v, &count, msg, msglen);
		if (!ret && count == 1)
			n->a.axis = v[0];
		free(v);
		n->a.to = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
	} else {
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
				     "value of data type %d is not supported (FLOAT, INT64, INT32 are)",
				     t->data_type);
	}
	if (ret)
		return nuq_node_fail(n, msg, msglen, ret, "bad value tensor");
	if (count != 1)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "value must hold one element, has %zu",
				     count);
	return 0;
}

static int cos_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		   char *msg, size_t msglen)
{
	int isf = n->a.to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	int64_t dims[NUQ_ONNX_MAX_DIMS];
	unsigned int nd;
	size_t i, cnt;
	int ret;

	ret = shape_dims(n, in[0], dims, &nd, msg, msglen);
	if (ret)
		return ret;
	ret = nuq_tensor_alloc(out[0], isf ? NUQ_DT_FLOAT : NUQ_DT_INT64, nd, dims);
	if (ret)
		return ret;
	cnt = nuq_tensor_count(out[0]);
	for (i = 0; i < cnt; i++) {
		if (isf)
			out[0]->f[i] = n->a.alpha;
		else
			out[0]->i[i] = n->a.axis;
	}
	return 0;
}

static int expand_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		      char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	struct nuq_tensor shape = { .dtype = x->dtype };
	int64_t dims[NUQ_ONNX_MAX_DIMS];
	size_t es = nuq_esize(x), o, cnt;
	struct nuq_bwalk w;
	unsigned int nd;
	int ret;

	ret = shape_dims(n, in[1], shape.dims, &shape.ndims, msg, msglen);
	if (ret)
		return ret;
	if (nuq_broadcast_shape(x, &shape, &nd, dims))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "shape does not broadcast with the input");
	ret = nuq_tensor_alloc(out[0], x->dtype, nd, dims);
	if (ret)
		return ret;
	cnt = nuq_tensor_count(out[0]);
	nuq_bwalk_init(&w, x, nd, dims);
	for (o = 0; o < cnt; o++, nuq_bwalk_next(&w))
		memcpy((char *)nuq_tdata(out[0]) + o * es, (char *)nuq_tdata(x) + w.off * es, es);
	return 0;
}

static int tile_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		    char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	int64_t rep[NUQ_ONNX_MAX_DIMS], dims[NUQ_ONNX_MAX_DIMS], idx[NUQ_ONNX_MAX_DIMS] = { 0 };
	int64_t xs[NUQ_ONNX_MAX_DIMS];
	unsigned int nd = x->ndims, d;
	size_t es = nuq_esize(x), o, cnt;
	uint64_t total = 1;
	int ret;

	if (nuq_int_list(in[1], rep, NUQ_ONNX_MAX_DIMS) != (int)nd)
		return nuq_node_fail(n, msg, msglen, -EINVAL,
				     "repeats must be a 1-D INT64 tensor of %u values", nd);
	for (d = 0; d < nd; d++) {
		if (rep[d] < 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "negative repeat %lld",
					     (long long)rep[d]);
		dims[d] = x->dims[d] * rep[d];
		if (dims[d] && total > nuq_tensor_max_count() / (uint64_t)dims[d])
			return nuq_node_fail(n, msg, msglen, -EINVAL, "output too large");
		total *= (uint64_t)dims[d];
	}
	ret = nuq_tensor_alloc(out[0], x->dtype, nd, dims);
	if (ret)
		return ret;
	cnt = nuq_tensor_count(out[0]);
	for (d = nd; d-- > 0;)
		xs[d] = d + 1 < nd ? xs[d + 1] * x->dims[d + 1] : 1;
	for (o = 0; o < cnt; o++) {
		int64_t off = 0;

		for (d = 0; d < nd; d++)
			off += (idx[d] % x->dims[d]) * xs[d];
		memcpy((char *)nuq_tdata(out[0]) + o * es, (char *)nuq_tdata(x) + off * es, es);
		for (d = nd; d-- > 0;) {
			if (++idx[d] < dims[d])
				break;
			idx[d] = 0;
		}
	}
	return 0;
}

static int range_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		     char *msg, size_t msglen)
{
	int isf = in[0]->dtype == NUQ_DT_FLOAT;
	double start, limit, delta, len;
	int64_t cnt, i;
	unsigned int j;
	int ret;

	for (j = 0; j < 3; j++)
		if (!in[j] || nuq_tensor_count(in[j]) != 1 || in[j]->dtype != in[0]->dtype)
			return nuq_node_fail(n, msg, msglen, -EINVAL,
					     "start, limit and delta must be scalars of one type");
	start = nuq_tget(in[0], 0);
	limit = nuq_tget(in[1], 0);
	delta = nuq_tget(in[2], 0);
	if (delta == 0 || !isfinite(start) || !isfinite(limit) || !isfinite(delta))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "delta must be non-zero, all finite");
	len = ceil((limit - start) / delta);
	if (!isf)
		/* Exact in integers: ceil((limit - start) / delta). */
		len = (double)((in[1]->i[0] - in[0]->i[0] + in[2]->i[0] +
				(in[2]->i[0] > 0 ? -1 : 1)) / in[2]->i[0]);
	if (len > (double)nuq_tensor_max_count())
		return nuq_node_fail(n, msg, msglen, -EINVAL, "output too large");
	cnt = len > 0 ? (int64_t)len : 0;
	ret = nuq_tensor_alloc(out[0], in[0]->dtype, 1, &cnt);
	if (ret)
		return ret;
	for (i = 0; i < cnt; i++) {
		/* ONNX defines element i as start + i * delta, computed in the input type. */
		if (isf)
			out[0]->f[i] = in[0]->f[0] + (float)i * in[2]->f[0];
		else
			out[0]->i[i] = in[0]->i[0] + i * in[2]->i[0];
	}
	return 0;
}

/* DepthToSpace mode in a.axis: 0 DCR, 1 CRD; SpaceToDepth has a.axis = -1. */
static int d2s_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	char buf[8];
	const char *mode;

	(void)g;
	n->a.group = nuq_attr_int(n, "blocksize", 0);
	if (n->a.group < 1 || n->a.group > 4096)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "blocksize must be set and >= 1");
	if (strcmp(n->op->name, "DepthToSpace")) {
		n->a.axis = -1;
		return 0;
	}
	mode = nuq_attr_string(n, "mode", "DCR", buf, sizeof(buf));
	if (strcmp(mode, "DCR") && strcmp(mode, "CRD"))
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
				     "mode '%s' is not supported (DCR, CRD are)", mode);
	n->a.axis = strcmp(mode, "CRD") ? 0 : 1;
	return 0;
}

static int d2s_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		   char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	int64_t b = n->a.group, N, C, H, W, oc, bn, c, h, w, i, j;
	int to_space = n->a.axis >= 0, ret;
	size_t es = nuq_esize(x);
	char *yd, *xd;

	if (x->ndims != 4)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input must be 4-D NCHW");
	N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
	if (to_space && C % (b * b))
		return nuq_node_fail(n, msg, msglen, -EINVAL,
				     "channels %lld not divisible by blocksize^2", (long long)C);
	if (!to_space && (H % b || W % b))
		return nuq_node_fail(n, msg, msglen, -EINVAL,
				     "height and width must be divisible by blocksize");
	if (to_space)
		ret = nuq_tensor_alloc(out[0], x->dtype, 4,
				       (int64_t[]){ N, C / (b * b), H * b, W * b });
	else
		ret = nuq_tensor_alloc(out[0], x->dtype, 4,
				       (int64_t[]){ N, C * b * b, H / b, W / b });
	if (ret)
		return ret;
	yd = nuq_tdata(out[0]);
	xd = nuq_tdata(x);
	/* Loop over the small (depth) side: c, h, w index it; i, j the block. */
	oc = to_space ? C / (b * b) : C;
	if (!to_space)
		H /= b, W /= b;
	for (bn = 0; bn < N; bn++)
		for (c = 0; c < oc; c++)
			for (i = 0; i < b; i++)
				for (j = 0; j < b; j++) {
					/* Channel on the depth side of block (i, j). */
					int64_t dc = n->a.axis == 1 ? (c * b + i) * b + j :
						     (i * b + j) * oc + c;

					for (h = 0; h < H; h++)
						for (w = 0; w < W; w++) {
							int64_t sp = ((bn * oc + c) * H * b + h * b + i) *
								     W * b + w * b + j;
							int64_t dp = ((bn * oc * b * b + dc) * H + h) *
								     W + w;

							if (to_space)
								memcpy(yd + sp * es, xd + dp * es, es);
							else
								memcpy(yd + dp * es, xd + sp * es, es);
						}
				}
	return 0;
}

const struct nuq_op nuq_ops_tensor[] = {
	{ "ConstantOfShape", value_attrs, cos_prepare, cos_run, 1, 1, 0, 0 },
	{ "Expand", no_attrs, NULL, expand_run, 2, 2, 0, 0 },
	{ "Tile", no_attrs, NULL, tile_run, 2, 2, 0, 0 },
	{ "Range", no_attrs, NULL, range_run, 3, 1, 0, 0 },
	{ "DepthToSpace", d2s_attrs, d2s_prepare, d2s_run, 1, 1, 0, 0 },
	{ "SpaceToDepth", blocksize_attrs, d2s_prepare, d2s_run, 1, 1, 0, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
};
