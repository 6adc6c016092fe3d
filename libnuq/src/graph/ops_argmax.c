// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: ArgMax and ArgMin along one axis (keepdims, select_last_index),
 * INT64 indices out.  A NaN is the largest and the smallest value, as in
 * numpy: the first NaN wins (the last with select_last_index).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "ops_util.h"

static const char *const arg_attrs[] = { "axis", "keepdims", "select_last_index", NULL };

static int arg_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	(void)g, (void)msg, (void)msglen;
	n->a.axis = nuq_attr_int(n, "axis", 0);
	n->a.keepdims = nuq_attr_int(n, "keepdims", 1) != 0;
	/* ceil_mode is unused by these ops: it carries select_last_index. */
	n->a.ceil_mode = nuq_attr_int(n, "select_last_index", 0) != 0;
	return 0;
}

/* Does @v (at a later index) replace @best? */
static int better(double v, double best, int is_max, int last)
{
	if (isnan(best))
		return last && isnan(v);
	if (isnan(v))
		return 1;
	if (v == best)
		return last;
	return is_max ? v > best : v < best;
}

static int arg_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		   char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	int axis = nuq_norm_axis(n->a.axis, x->ndims), is_max = !strcmp(n->op->name, "ArgMax");
	int64_t dims[NUQ_ONNX_MAX_DIMS] = { 0 }, len;
	size_t outer = 1, inner = 1, o, p, k;
	unsigned int d, nd = 0;
	int ret;

	if (axis < 0 || !x->dims[axis])
		return nuq_node_fail(n, msg, msglen, -EINVAL, "axis %lld is out of range or empty",
				     (long long)n->a.axis);
	len = x->dims[axis];
	for (d = 0; d < x->ndims; d++) {
		if (d < (unsigned int)axis)
			outer *= (size_t)x->dims[d];
		else if (d > (unsigned int)axis)
			inner *= (size_t)x->dims[d];
		if (d != (unsigned int)axis)
			dims[nd++] = x->dims[d];
		else if (n->a.keepdims)
			dims[nd++] = 1;
	}
	ret = nuq_tensor_alloc(out[0], NUQ_DT_INT64, nd, dims);
	if (ret)
		return nuq_node_fail(n, msg, msglen, ret, "cannot allocate the output");
	for (o = 0; o < outer; o++)
		for (p = 0; p < inner; p++) {
			size_t base = o * (size_t)len * inner + p;
			double best = nuq_tget(x, base);
			int64_t bi = 0;

			for (k = 1; k < (size_t)len; k++) {
				double v = nuq_tget(x, base + k * inner);

				if (better(v, best, is_max, n->a.ceil_mode)) {
					best = v;
					bi = (int64_t)k;
				}
			}
			out[0]->i[o * inner + p] = bi;
		}
	return 0;
}

const struct nuq_op nuq_ops_argmax[] = {
	{ "ArgMax", arg_attrs, arg_prepare, arg_run, 1, 2, 0, 0 },
	{ "ArgMin", arg_attrs, arg_prepare, arg_run, 1, 2, 0, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
};
