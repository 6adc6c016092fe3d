// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: ReduceMax, ReduceMin, ReduceSum and ReduceProd (axes from the
 * attribute or, from opset 13/18, input 1; keepdims; noop_with_empty_axes)
 * and GlobalMaxPool.  The reductions also work on INT64 tensors: shape
 * chains compute element counts with ReduceProd.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops_util.h"

enum reduce { R_MAX, R_MIN, R_SUM, R_PROD };

static const char *const reduce_attrs[] = { "axes", "keepdims", "noop_with_empty_axes", NULL };
static const char *const no_attrs[] = { NULL };

static enum reduce reduce_kind(const struct nuq_node *n)
{
	static const char *const names[] = { "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd" };
	unsigned int i;

	for (i = 0; i < 4; i++)
		if (!strcmp(n->op->name, names[i]))
			return (enum reduce)i;
	return R_MAX;
}

static int reduce2_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	int c;

	(void)g;
	n->a.keepdims = (int)nuq_attr_int(n, "keepdims", 1);
	/* noop_with_empty_axes kept in a.ceil_mode. */
	n->a.ceil_mode = (int)nuq_attr_int(n, "noop_with_empty_axes", 0);
	n->a.naxes = 0;
	if (nuq_attr(n, "axes")) {
		if (n->nin > 1 && n->in[1] >= 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL,
					     "axes given both as attribute and input");
		c = nuq_attr_ints(n, "axes", n->a.axes, NUQ_ONNX_MAX_DIMS);
		if (c < 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "too many axes");
		n->a.naxes = (unsigned int)c;
	}
	return 0;
}

static double fstart(enum reduce k)
{
	return k == R_MAX ? -INFINITY : k == R_MIN ? INFINITY : k == R_SUM ? 0.0 : 1.0;
}

static int64_t istart(enum reduce k)
{
	return k == R_MAX ? INT64_MIN : k == R_MIN ? INT64_MAX : k == R_SUM ? 0 : 1;
}

static double fstep(enum reduce k, double acc, double v)
{
	switch (k) {
	case R_MAX:
		return isnan(v) || v > acc ? v : acc;
	case R_MIN:
		return isnan(v) || v < acc ? v : acc;
	case R_SUM:
		return acc + v;
	case R_PROD:
		return acc * v;
	}
	return acc;
}

static int64_t istep(enum reduce k, int64_t acc, int64_t v)
{
	switch (k) {
	case R_MAX:
		return v > acc ? v : acc;
	case R_MIN:
		return v < acc ? v : acc;
	case R_SUM:
		return (int64_t)((uint64_t)acc + (uint64_t)v);
	case R_PROD:
		return (int64_t)((uint64_t)acc * (uint64_t)v);
	}
	return acc;
}

/* Which axes of the input to reduce (@red[d] = 1); @noop when it is copied unchanged. */
static int reduced_axes(struct nuq_node *n, struct nuq_tensor **in, int *red, int *noop,
			char *msg, size_t msglen)
{
	int64_t axes[NUQ_ONNX_MAX_DIMS];
	unsigned int nd = in[0]->ndims, d;
	int c = (int)n->a.naxes, i;

	memcpy(axes, n->a.axes, sizeof(axes));
	if (!c && n->nin > 1 && in[1]) {
		c = nuq_int_list(in[1], axes, NUQ_ONNX_MAX_DIMS);
		if (c < 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "axes must be a 1-D INT64 tensor");
	}
	*noop = !c && n->a.ceil_mode;
	for (d = 0; d < nd; d++)
		red[d] = !c;
	for (i = 0; i < c; i++) {
		int a = nuq_norm_axis(axes[i], nd);

		if (a < 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "axis %lld out of range",
					     (long long)axes[i]);
		red[a] = 1;
	}
	return 0;
}

static int reduce2_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		       char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	int64_t dims[NUQ_ONNX_MAX_DIMS], odims[NUQ_ONNX_MAX_DIMS], idx[NUQ_ONNX_MAX_DIMS] = { 0 };
	int red[NUQ_ONNX_MAX_DIMS], noop = 0, ret, isf = x->dtype == NUQ_DT_FLOAT;
	enum reduce k = reduce_kind(n);
	unsigned int d, nd = x->ndims, ond = 0;
	size_t o, cnt = nuq_tensor_count(x), ocnt;
	double *acc = NULL;

	ret = reduced_axes(n, in, red, &noop, msg, msglen);
	if (ret)
		return ret;
	if (noop) {
		ret = nuq_tensor_alloc(out[0], x->dtype, nd, x->dims);
		if (!ret)
			memcpy(nuq_tdata(out[0]), nuq_tdata(x), cnt * nuq_esize(x));
		return ret;
	}
	for (d = 0; d < nd; d++) {
		dims[d] = red[d] ? 1 : x->dims[d];
		if (!red[d] || n->a.keepdims)
			odims[ond++] = dims[d];
	}
	ret = nuq_tensor_alloc(out[0], x->dtype, ond, odims);
	if (ret)
		return ret;
	ocnt = nuq_tensor_count(out[0]);
	if (isf) {
		acc = malloc(ocnt * sizeof(*acc));
		if (!acc)
			return nuq_node_fail(n, msg, msglen, -ENOMEM, "out of memory");
	}
	for (o = 0; o < ocnt; o++) {
		if (isf)
			acc[o] = fstart(k);
		else
			out[0]->i[o] = istart(k);
	}
	for (o = 0; o < cnt; o++) {
		size_t oi = 0;

		for (d = 0; d < nd; d++)
			oi = oi * (size_t)dims[d] + (size_t)(red[d] ? 0 : idx[d]);
		if (isf)
			acc[oi] = fstep(k, acc[oi], x->f[o]);
		else
			out[0]->i[oi] = istep(k, out[0]->i[oi], x->i[o]);
		for (d = nd; d-- > 0;) {
			if (++idx[d] < x->dims[d])
				break;
			idx[d] = 0;
		}
	}
	for (o = 0; isf && o < ocnt; o++)
		out[0]->f[o] = (float)acc[o];
	free(acc);
	return 0;
}

static int gmp_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		   char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	int64_t dims[NUQ_ONNX_MAX_DIMS], p, i, S = 1, NC;
	unsigned int d;
	int ret;

	if (x->ndims < 3)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input must be N x C x spatial dims");
	NC = x->dims[0] * x->dims[1];
	for (d = 0; d < x->ndims; d++) {
		dims[d] = d < 2 ? x->dims[d] : 1;
		if (d >= 2)
			S *= x->dims[d];
	}
	if (!S)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "empty spatial dims");
	ret = nuq_tensor_alloc(out[0], NUQ_DT_FLOAT, x->ndims, dims);
	if (ret)
		return ret;
	for (p = 0; p < NC; p++) {
		float m = x->f[p * S];

		for (i = 1; i < S; i++)
			m = (float)fstep(R_MAX, m, x->f[p * S + i]);
		out[0]->f[p] = m;
	}
	return 0;
}

const struct nuq_op nuq_ops_reduce[] = {
	{ "ReduceMax", reduce_attrs, reduce2_prepare, reduce2_run, 1, 1, 0, 0 },
	{ "ReduceMin", reduce_attrs, reduce2_prepare, reduce2_run, 1, 1, 0, 0 },
	{ "ReduceSum", reduce_attrs, reduce2_prepare, reduce2_run, 1, 1, 0, 0 },
	{ "ReduceProd", reduce_attrs, reduce2_prepare, reduce2_run, 1, 1, 0, 0 },
	{ "GlobalMaxPool", no_attrs, NULL, gmp_run, 1, 0, 0, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
};
