// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: ops that combine inputs under numpy broadcasting: the variadic
 * Min, Max, Mean and Sum, and PRelu (x, or slope * x where x < 0).
 * Min, Max and Sum also work on INT64 tensors (shape arithmetic).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "ops_util.h"

enum combine { C_MIN, C_MAX, C_MEAN, C_SUM, C_PRELU };

static const char *const no_attrs[] = { NULL };

static enum combine combine_kind(const struct nuq_node *n)
{
	static const char *const names[] = { "Min", "Max", "Mean", "Sum", "PRelu" };
	unsigned int i;

	for (i = 0; i < 5; i++)
		if (!strcmp(n->op->name, names[i]))
			return (enum combine)i;
	return C_PRELU;
}

static int combine_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	unsigned int j;

	/* Before opset 7 a 1-D PRelu slope of C values is per channel (axis 1). */
	n->a.coerce_2d = combine_kind(n) == C_PRELU && g->opset < 7;
	if (combine_kind(n) == C_PRELU && n->nin != 2)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "takes exactly two inputs");
	for (j = 0; j < n->nin; j++)
		if (n->in[j] < 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "input %u is empty", j);
	return 0;
}

static double fcombine(enum combine k, double acc, double v)
{
	switch (k) {
	case C_MIN:
		/* NaN propagates, as in onnxruntime. */
		return isnan(v) || v < acc ? v : acc;
	case C_MAX:
		return isnan(v) || v > acc ? v : acc;
	case C_MEAN:
	case C_SUM:
		return acc + v;
	case C_PRELU:
		return acc < 0 ? acc * v : acc;
	}
	return acc;
}

static int64_t icombine(enum combine k, int64_t acc, int64_t v)
{
	switch (k) {
	case C_MIN:
		return v < acc ? v : acc;
	case C_MAX:
		return v > acc ? v : acc;
	default:
		return acc + v;
	}
}

/* Fold input @t into @y (already the full broadcast shape), element by element. */
static void fold_in(enum combine k, struct nuq_tensor *y, const struct nuq_tensor *t, int first)
{
	size_t o, cnt = nuq_tensor_count(y);
	struct nuq_bwalk w;

	nuq_bwalk_init(&w, t, y->ndims, y->dims);
	for (o = 0; o < cnt; o++, nuq_bwalk_next(&w)) {
		if (y->dtype != NUQ_DT_FLOAT)
			y->i[o] = first ? t->i[w.off] : icombine(k, y->i[o], t->i[w.off]);
		else
			y->f[o] = first ? t->f[w.off] :
				  (float)fcombine(k, y->f[o], t->f[w.off]);
	}
}

/* The legacy per-channel slope as a [C, 1, ...] view of the same values. */
static const struct nuq_tensor *legacy_slope(const struct nuq_tensor *x,
					     const struct nuq_tensor *s, struct nuq_tensor *view)
{
	unsigned int d;

	if (s->ndims != 1 || x->ndims < 2 || s->dims[0] != x->dims[1] || s->dims[0] == 1)
		return s;
	*view = *s;
	view->ndims = x->ndims - 1;
	for (d = 0; d < view->ndims; d++)
		view->dims[d] = d ? 1 : s->dims[0];
	return view;
}

static int combine_run(struct nuq_node *n, struct nuq_tensor **in_, struct nuq_tensor **out,
		       char *msg, size_t msglen)
{
	struct nuq_tensor view, *in[NUQ_NODE_MAX_IO];
	int64_t dims[NUQ_ONNX_MAX_DIMS];
	enum combine k = combine_kind(n);
	struct nuq_tensor shape = { .ndims = 0 };
	unsigned int j;
	size_t o, cnt;
	int ret;

	memcpy(in, in_, n->nin * sizeof(in[0]));
	if (n->a.coerce_2d)
		in[1] = (struct nuq_tensor *)legacy_slope(in[0], in[1], &view);
	if (in[0]->dtype != NUQ_DT_FLOAT && (k == C_MEAN || k == C_PRELU))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "inputs must be float");
	if (in[0]->dtype == NUQ_DT_BOOL)
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP, "bool inputs are not supported");
	shape.dtype = in[0]->dtype;
	shape.ndims = in[0]->ndims;
	memcpy(shape.dims, in[0]->dims, sizeof(shape.dims));
	for (j = 1; j < n->nin; j++) {
		if (in[j]->dtype != in[0]->dtype)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "inputs have different types");
		if (nuq_broadcast_shape(&shape, in[j], &shape.ndims, dims))
			return nuq_node_fail(n, msg, msglen, -EINVAL,
					     "input %u does not broadcast with the others", j);
		memcpy(shape.dims, dims, sizeof(dims));
	}
	if (k == C_PRELU && (shape.ndims != in[0]->ndims ||
			     memcmp(shape.dims, in[0]->dims, shape.ndims * sizeof(int64_t))))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "slope does not broadcast to X");
	ret = nuq_tensor_alloc(out[0], in[0]->dtype, shape.ndims, shape.dims);
	if (ret)
		return ret;
	for (j = 0; j < n->nin; j++)
		fold_in(k, out[0], in[j], j == 0);
	/* A uint8/int8 Sum wraps; Min and Max stay in range by themselves. */
	cnt = nuq_dtype_narrow(out[0]->dtype) ? nuq_tensor_count(out[0]) : 0;
	for (o = 0; o < cnt; o++)
		out[0]->i[o] = nuq_wrap(out[0]->dtype, out[0]->i[o]);
	if (k == C_MEAN) {
		cnt = nuq_tensor_count(out[0]);
		for (o = 0; o < cnt; o++)
			out[0]->f[o] /= (float)n->nin;
	}
	return 0;
}

const struct nuq_op nuq_ops_variadic[] = {
	{ "Min", no_attrs, combine_prepare, combine_run, 1, 2, 0, 0 },
	{ "Max", no_attrs, combine_prepare, combine_run, 1, 2, 0, 0 },
	{ "Mean", no_attrs, combine_prepare, combine_run, 1, 0, 0, 0 },
	{ "Sum", no_attrs, combine_prepare, combine_run, 1, 2, 0, 0 },
	{ "PRelu", no_attrs, combine_prepare, combine_run, 2, 0, 0, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
};
