// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: pooling, reductions and softmax.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "graph_priv.h"


static const char *const no_attrs[] = { NULL };
static const char *const pool_attrs[] = {
	"kernel_shape", "strides", "pads", "ceil_mode", "count_include_pad", "auto_pad",
	"dilations", "storage_order", NULL,
};
static const char *const reduce_attrs[] = { "axes", "keepdims", NULL };
static const char *const softmax_attrs[] = { "axis", NULL };

static int pool_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	int ret = nuq_parse_window(n, 1, msg, msglen);

	(void)g;
	if (ret)
		return ret;
	n->a.ceil_mode = (int)nuq_attr_int(n, "ceil_mode", 0);
	n->a.count_include_pad = (int)nuq_attr_int(n, "count_include_pad", 0);
	if (nuq_attr_int(n, "storage_order", 0) || n->nout != 1)
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
				     "only one output, in row-major order, is supported");
	return 0;
}

static int pool_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		    char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	const struct nuq_attrs *a = &n->a;
	int is_max = !strcmp(n->op->name, "MaxPool");
	int64_t N, C, H, W, oh, ow, p, oy, ox, ky, kx;
	int ret;

	if (x->ndims != 4)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input must be 4-D NCHW");
	N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
	nuq_window_auto_pad(n, H, W);
	oh = nuq_conv_out_dim(H, a->kernel[0], a->strides[0], a->dilations[0], a->pads[0],
			      a->pads[2], a->ceil_mode);
	ow = nuq_conv_out_dim(W, a->kernel[1], a->strides[1], a->dilations[1], a->pads[1],
			      a->pads[3], a->ceil_mode);
	if (oh < 1 || ow < 1)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input smaller than the window");
	/* With ceil_mode the last window must still start inside the input. */
	if (a->ceil_mode && (oh - 1) * a->strides[0] >= H + a->pads[0])
		oh--;
	if (a->ceil_mode && (ow - 1) * a->strides[1] >= W + a->pads[1])
		ow--;
	ret = nuq_tensor_alloc(out[0], NUQ_DT_FLOAT, 4, (int64_t[]){ N, C, oh, ow });
	if (ret)
		return ret;
	for (p = 0; p < N * C; p++) {
		const float *xp = x->f + p * H * W;
		float *yp = out[0]->f + p * oh * ow;

		for (oy = 0; oy < oh; oy++)
			for (ox = 0; ox < ow; ox++) {
				float acc = is_max ? -INFINITY : 0.0f;
				int64_t cnt = 0, padded = 0;

				for (ky = 0; ky < a->kernel[0]; ky++) {
					int64_t iy = oy * a->strides[0] - a->pads[0] + ky * a->dilations[0];

					for (kx = 0; kx < a->kernel[1]; kx++) {
						int64_t ix = ox * a->strides[1] - a->pads[1] +
							     kx * a->dilations[1];

						if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
							/* Padding counts only inside the padded input. */
							if (iy < H + a->pads[2] && ix < W + a->pads[3])
								padded++;
							continue;
						}
						if (is_max)
							acc = fmaxf(acc, xp[iy * W + ix]);
						else
							acc += xp[iy * W + ix];
						cnt++;
					}
				}
				if (!is_max)
					acc /= (float)(a->count_include_pad ? cnt + padded : cnt);
				yp[oy * ow + ox] = acc;
			}
	}
	return 0;
}

static int gap_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		   char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	int64_t p, i, S;
	int ret;

	if (x->ndims != 4)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input must be 4-D NCHW");
	S = x->dims[2] * x->dims[3];
	ret = nuq_tensor_alloc(out[0], NUQ_DT_FLOAT, 4, (int64_t[]){ x->dims[0], x->dims[1], 1, 1 });
	if (ret)
		return ret;
	for (p = 0; p < x->dims[0] * x->dims[1]; p++) {
		double s = 0;

		for (i = 0; i < S; i++)
			s += x->f[p * S + i];
		out[0]->f[p] = (float)(s / (double)S);
	}
	return 0;
}

static int reduce_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	(void)g;
	n->a.keepdims = (int)nuq_attr_int(n, "keepdims", 1);
	n->a.naxes = 0;
	if (nuq_attr(n, "axes")) {
		int c = nuq_attr_ints(n, "axes", n->a.axes, NUQ_ONNX_MAX_DIMS);

		if (c < 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "too many axes");
		n->a.naxes = (unsigned int)c;
	} else if (n->nin > 1) {
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP, "axes as an input is not supported");
	}
	return 0;
}

static int reduce_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		      char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	int64_t dims[NUQ_ONNX_MAX_DIMS], odims[NUQ_ONNX_MAX_DIMS], idx[NUQ_ONNX_MAX_DIMS] = { 0 };
	int red[NUQ_ONNX_MAX_DIMS] = { 0 };
	unsigned int d, nd = x->ndims, ond = 0, i;
	size_t o, cnt = nuq_tensor_count(x), per;
	int ret;

	for (i = 0; i < n->a.naxes; i++) {
		int64_t a = n->a.axes[i] < 0 ? n->a.axes[i] + nd : n->a.axes[i];

		if (a < 0 || a >= nd)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "axis out of range");
		red[a] = 1;
	}
	for (d = 0; d < nd; d++) {
		if (!n->a.naxes)
			red[d] = 1;
		dims[d] = red[d] ? 1 : x->dims[d];
		if (!red[d] || n->a.keepdims)
			odims[ond++] = dims[d];
	}
	ret = nuq_tensor_alloc(out[0], NUQ_DT_FLOAT, ond, odims);
	if (ret)
		return ret;
	per = cnt / (nuq_tensor_count(out[0]) ? nuq_tensor_count(out[0]) : 1);
	for (o = 0; o < cnt; o++) {
		size_t oi = 0;

		for (d = 0; d < nd; d++)
			oi = oi * (size_t)dims[d] + (size_t)(red[d] ? 0 : idx[d]);
		out[0]->f[oi] += x->f[o];
		for (d = nd; d-- > 0;) {
			if (++idx[d] < x->dims[d])
				break;
			idx[d] = 0;
		}
	}
	for (o = 0; o < nuq_tensor_count(out[0]); o++)
		out[0]->f[o] /= (float)per;
	return 0;
}

static int softmax_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	(void)msg, (void)msglen;
	n->a.coerce_2d = g->opset < 13;
	n->a.axis = nuq_attr_int(n, "axis", n->a.coerce_2d ? 1 : -1);
	return 0;
}

/*
 * Before opset 13 Softmax flattens the input to 2-D at @axis; from 13 on
 * it normalises along the one axis.  Both are "rows of length inner,
 * strided by stride": coerced 2-D is the contiguous case.
 */
static int softmax_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		       char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	int64_t axis = n->a.axis < 0 ? n->a.axis + x->ndims : n->a.axis;
	int64_t outer = 1, len = 1, inner = 1, o, i, k;
	unsigned int d;
	int ret;

	if (axis < 0 || axis >= (int64_t)x->ndims)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "axis out of range");
	for (d = 0; d < x->ndims; d++) {
		if ((int64_t)d < axis)
			outer *= x->dims[d];
		else if ((int64_t)d == axis || n->a.coerce_2d)
			len *= x->dims[d];
		else
			inner *= x->dims[d];
	}
	ret = nuq_tensor_alloc(out[0], NUQ_DT_FLOAT, x->ndims, x->dims);
	if (ret)
		return ret;
	for (o = 0; o < outer; o++)
		for (i = 0; i < inner; i++) {
			const float *xr = x->f + o * len * inner + i;
			float *yr = out[0]->f + o * len * inner + i, mx = -INFINITY;
			double s = 0;

			for (k = 0; k < len; k++)
				mx = fmaxf(mx, xr[k * inner]);
			for (k = 0; k < len; k++) {
				yr[k * inner] = expf(xr[k * inner] - mx);
				s += yr[k * inner];
			}
			for (k = 0; k < len; k++)
				yr[k * inner] = (float)(yr[k * inner] / s);
		}
	return 0;
}

const struct nuq_op nuq_ops_pool[] = {
	{ "MaxPool", pool_attrs, pool_prepare, pool_run, 1, 0, 0, 0 },
	{ "AveragePool", pool_attrs, pool_prepare, pool_run, 1, 0, 0, 0 },
	{ "GlobalAveragePool", no_attrs, NULL, gap_run, 1, 0, 0, 0 },
	{ "ReduceMean", reduce_attrs, reduce_prepare, reduce_run, 1, 0, 0, 0 },
	{ "Softmax", softmax_attrs, softmax_prepare, softmax_run, 1, 0, 0, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
};
