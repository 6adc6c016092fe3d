// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: Split, the op with several outputs.  The sizes come from the
 * split attribute (opsets 1-12), the split input (13+), num_outputs
 * (18+, the last part smaller when the axis does not divide) or, when
 * none is given, equal parts, one per output.
 */
#include <errno.h>
#include <string.h>

#include "ops_util.h"

static const char *const split_attrs[] = { "axis", "split", "num_outputs", NULL };

static int split_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	int64_t num = nuq_attr_int(n, "num_outputs", 0);
	int c;

	(void)g;
	n->a.axis = nuq_attr_int(n, "axis", 0);
	n->a.naxes = 0;
	if (nuq_attr(n, "split")) {
		c = nuq_attr_ints(n, "split", n->a.axes, NUQ_ONNX_MAX_DIMS);
		if (c < 0 || (unsigned int)c != n->nout)
			return nuq_node_fail(n, msg, msglen, -EINVAL,
					     "split has %d sizes for %u outputs", c, n->nout);
		n->a.naxes = (unsigned int)c;
	}
	if (nuq_attr(n, "num_outputs") && num != (int64_t)n->nout)
		return nuq_node_fail(n, msg, msglen, -EINVAL,
				     "num_outputs is %lld but the node has %u outputs",
				     (long long)num, n->nout);
	if (nuq_attr(n, "num_outputs") && n->nin > 1 && n->in[1] >= 0)
		return nuq_node_fail(n, msg, msglen, -EINVAL,
				     "num_outputs and a split input are exclusive");
	n->a.keepdims = nuq_attr(n, "num_outputs") != NULL;
	return 0;
}

/* The @n->nout part sizes along an axis of length @len, into @sz. */
static int split_sizes(struct nuq_node *n, struct nuq_tensor **in, int64_t len, int64_t *sz,
		       char *msg, size_t msglen)
{
	unsigned int j, k = n->nout;
	int64_t sum = 0, chunk;
	int c;

	if (n->nin > 1 && in[1]) {
		c = nuq_int_list(in[1], sz, NUQ_NODE_MAX_IO);
		if (c < 0 || (unsigned int)c != k)
			return nuq_node_fail(n, msg, msglen, -EINVAL,
					     "split must be a 1-D INT64 tensor of %u sizes", k);
	} else if (n->a.naxes) {
		memcpy(sz, n->a.axes, k * sizeof(*sz));
	} else {
		/* num_outputs rounds the part up; plain equal parts must divide. */
		if (!n->a.keepdims && len % k)
			return nuq_node_fail(n, msg, msglen, -EINVAL,
					     "axis of %lld does not split into %u equal parts",
					     (long long)len, k);
		chunk = (len + k - 1) / k;
		for (j = 0; j < k; j++) {
			sz[j] = len - sum < chunk ? len - sum : chunk;
			sum += sz[j];
		}
		if (sz[k - 1] <= 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL,
					     "axis of %lld is too short for %u parts", (long long)len, k);
		return 0;
	}
	for (j = 0; j < k; j++) {
		if (sz[j] < 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "negative split size");
		sum += sz[j];
	}
	if (sum != len)
		return nuq_node_fail(n, msg, msglen, -EINVAL,
				     "split sizes add up to %lld, the axis has %lld",
				     (long long)sum, (long long)len);
	return 0;
}

static int split_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		     char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	int64_t sz[NUQ_NODE_MAX_IO], dims[NUQ_ONNX_MAX_DIMS], start = 0;
	size_t outer = 1, inner = 1, es = nuq_esize(x), o;
	int axis = nuq_norm_axis(n->a.axis, x->ndims), ret;
	unsigned int j, d;

	if (axis < 0)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "axis %lld out of range",
				     (long long)n->a.axis);
	ret = split_sizes(n, in, x->dims[axis], sz, msg, msglen);
	if (ret)
		return ret;
	for (d = 0; d < x->ndims; d++) {
		if (d < (unsigned int)axis)
			outer *= (size_t)x->dims[d];
		else if (d > (unsigned int)axis)
			inner *= (size_t)x->dims[d];
	}
	memcpy(dims, x->dims, sizeof(dims));
	for (j = 0; j < n->nout; start += sz[j], j++) {
		size_t row = (size_t)sz[j] * inner * es;
		const char *src = (const char *)nuq_tdata(x) + (size_t)start * inner * es;
		char *dst;

		if (!out[j])
			continue;
		dims[axis] = sz[j];
		ret = nuq_tensor_alloc(out[j], x->dtype, x->ndims, dims);
		if (ret)
			return nuq_node_fail(n, msg, msglen, ret, "output %u: cannot allocate", j);
		dst = nuq_tdata(out[j]);
		for (o = 0; row && o < outer; o++)
			memcpy(dst + o * row, src + o * (size_t)x->dims[axis] * inner * es, row);
	}
	return 0;
}

const struct nuq_op nuq_ops_split[] = {
	{ "Split", split_attrs, split_prepare, split_run, 1, 2, NUQ_NODE_MAX_IO, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
};
