// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: Conv and ConvTranspose in fp32 (NCHW, 2-D only).
 *
 * Conv is im2col + sgemm per group; a depthwise conv (one input and one
 * output channel per group) is a direct loop, which is both faster and
 * uses no scratch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "graph_priv.h"

static const char *const conv_attrs[] = {
	"kernel_shape", "strides", "dilations", "pads", "group", "auto_pad",
	"output_padding", NULL,
};

int64_t nuq_conv_out_dim(int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t pad0,
			 int64_t pad1, int ceil_mode)
{
	int64_t span = dil * (k - 1) + 1, room = in + pad0 + pad1 - span;

	if (room < 0)
		return -1;
	return (ceil_mode ? (room + stride - 1) / stride : room / stride) + 1;
}

/* ONNX's SAME_UPPER/SAME_LOWER: the output is ceil(in / stride). */
void nuq_window_auto_pad(struct nuq_node *n, int64_t h, int64_t w)
{
	struct nuq_attrs *a = &n->a;
	int64_t in[2] = { h, w };
	int i;

	if (a->auto_pad != NUQ_AUTO_PAD_SAME_UPPER && a->auto_pad != NUQ_AUTO_PAD_SAME_LOWER)
		return;
	for (i = 0; i < 2; i++) {
		int64_t out = (in[i] + a->strides[i] - 1) / a->strides[i];
		int64_t span = a->dilations[i] * (a->kernel[i] - 1) + 1;
		int64_t total = (out - 1) * a->strides[i] + span - in[i];

		if (total < 0)
			total = 0;
		/* The odd one goes at the end (UPPER) or at the start (LOWER). */
		a->pads[i] = a->auto_pad == NUQ_AUTO_PAD_SAME_UPPER ? total / 2 : total - total / 2;
		a->pads[i + 2] = total - a->pads[i];
	}
}

static int parse_auto_pad(struct nuq_node *n, char *msg, size_t msglen)
{
	static const char *const modes[] = { "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID" };
	char buf[32];
	const char *mode = nuq_attr_string(n, "auto_pad", "NOTSET", buf, sizeof(buf));
	int i;

	for (i = 0; i < 4; i++)
		if (!strcmp(mode, modes[i])) {
			n->a.auto_pad = i;
			break;
		}
	if (i == 4)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "auto_pad=%s is not an ONNX mode",
				     mode);
	if (i != NUQ_AUTO_PAD_NOTSET && nuq_attr(n, "pads"))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "auto_pad=%s with explicit pads",
				     mode);
	if ((i == NUQ_AUTO_PAD_SAME_UPPER || i == NUQ_AUTO_PAD_SAME_LOWER) &&
	    !strcmp(n->op->name, "ConvTranspose"))
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
				     "auto_pad=%s is not supported on ConvTranspose", mode);
	return 0;
}

/* kernel_shape/strides/dilations/pads/group/auto_pad, shared with the pools. */
int nuq_parse_window(struct nuq_node *n, int need_kernel, char *msg, size_t msglen)
{
	struct nuq_attrs *a = &n->a;
	int i, cnt, ret;

	a->strides[0] = a->strides[1] = 1;
	a->dilations[0] = a->dilations[1] = 1;
	memset(a->pads, 0, sizeof(a->pads));
	ret = parse_auto_pad(n, msg, msglen);
	if (ret)
		return ret;
	cnt = nuq_attr_ints(n, "kernel_shape", a->kernel, 2);
	if (cnt != 2 && (need_kernel || cnt != 0))
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
				     "only 2-D windows are supported (kernel_shape has %d values)", cnt);
	if (nuq_attr_ints(n, "strides", a->strides, 2) < 0 ||
	    nuq_attr_ints(n, "dilations", a->dilations, 2) < 0 ||
	    nuq_attr_ints(n, "pads", a->pads, 4) < 0)
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP, "only 2-D windows are supported");
	for (i = 0; i < 2; i++) {
		if (a->strides[i] < 1 || a->strides[i] > 64 || a->dilations[i] < 1 ||
		    a->dilations[i] > 64)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "stride or dilation out of range");
		if (cnt == 2 && (a->kernel[i] < 1 || a->kernel[i] > 64))
			return nuq_node_fail(n, msg, msglen, -EINVAL, "kernel size out of range");
	}
	for (i = 0; i < 4; i++)
		if (a->pads[i] < 0 || a->pads[i] > 64)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "pads out of range");
	a->group = nuq_attr_int(n, "group", 1);
	if (a->group < 1)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "group must be >= 1");
	return 0;
}

static int conv_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	int transpose = !strcmp(n->op->name, "ConvTranspose");
	const struct nuq_tensor *w = nuq_const_input(g, n, 1);
	const struct nuq_tensor *b = nuq_const_input(g, n, 2);
	int64_t o, i_g;
	int ret;

	ret = nuq_parse_window(n, 0, msg, msglen);
	if (ret)
		return ret;
	if (nuq_attr_ints(n, "output_padding", n->a.out_pad, 2) < 0 ||
	    (!transpose && nuq_attr(n, "output_padding")))
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP, "bad output_padding");
	if (n->nin < 2 || !w || w->dtype != NUQ_DT_FLOAT || w->ndims != 4)
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
				     "weights must be a constant 4-D float tensor");
	if (n->nin > 2 && n->in[2] >= 0 && !b)
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP, "bias must be constant");
	if (!nuq_attr(n, "kernel_shape")) {
		n->a.kernel[0] = w->dims[2];
		n->a.kernel[1] = w->dims[3];
	}
	if (n->a.kernel[0] != w->dims[2] || n->a.kernel[1] != w->dims[3])
		return nuq_node_fail(n, msg, msglen, -EINVAL, "kernel_shape does not match weights");
	o = transpose ? w->dims[1] * n->a.group : w->dims[0];
	i_g = transpose ? w->dims[0] : w->dims[1];
	if (!o || !i_g || (!transpose && o % n->a.group) || (transpose && i_g % n->a.group))
		return nuq_node_fail(n, msg, msglen, -EINVAL,
				     "channel counts do not divide by group %lld",
				     (long long)n->a.group);
	if (b && (b->dtype != NUQ_DT_FLOAT || nuq_tensor_count(b) != (size_t)o))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "bias must have %lld values",
				     (long long)o);
	ret = nuq_tensor_alloc(&n->w, NUQ_DT_FLOAT, 4, w->dims);
	if (ret)
		return ret;
	memcpy(n->w.f, w->f, nuq_tensor_count(w) * sizeof(float));
	if (b) {
		ret = nuq_tensor_alloc(&n->b, NUQ_DT_FLOAT, 1, &o);
		if (ret)
			return ret;
		memcpy(n->b.f, b->f, (size_t)o * sizeof(float));
		n->has_bias = 1;
	}
	return 0;
}

/* Scratch of one im2col band, in floats (64 MiB). */
#define NUQ_IM2COL_BUDGET	(16ULL << 20)

/* Columns for one group: rows (c, ky, kx), columns output pixels of rows [oy0, oy1). */
static void im2col(const struct nuq_attrs *a, const float *x, int64_t c, int64_t ih,
		   int64_t iw, int64_t oy0, int64_t oy1, int64_t ow, float *col)
{
	int64_t ci, ky, kx, oy, ox;

	for (ci = 0; ci < c; ci++)
		for (ky = 0; ky < a->kernel[0]; ky++)
			for (kx = 0; kx < a->kernel[1]; kx++) {
				for (oy = oy0; oy < oy1; oy++) {
					int64_t iy = oy * a->strides[0] - a->pads[0] +
						     ky * a->dilations[0];
					const float *xr = x + (ci * ih + iy) * iw;

					for (ox = 0; ox < ow; ox++) {
						int64_t ix = ox * a->strides[1] - a->pads[1] +
							     kx * a->dilations[1];

						*col++ = iy >= 0 && iy < ih && ix >= 0 && ix < iw ?
							 xr[ix] : 0.0f;
					}
				}
			}
}

int nuq_conv2d_f32(const struct nuq_node *n, const struct nuq_tensor *x,
		   const struct nuq_tensor *w, const struct nuq_tensor *b, struct nuq_tensor *y,
		   char *msg, size_t msglen)
{
	const struct nuq_attrs *a = &n->a;
	int64_t N, C, H, W, O = w->dims[0], cg, og, oh, ow, kk, bn, gi, oc, band, r0;
	int pointwise;
	float *col = NULL;
	int ret;

	if (x->ndims != 4 || x->dtype != NUQ_DT_FLOAT)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input must be 4-D NCHW float");
	N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
	cg = w->dims[1];
	if (C != cg * a->group)
		return nuq_node_fail(n, msg, msglen, -EINVAL,
				     "input has %lld channels, weights expect %lld",
				     (long long)C, (long long)(cg * a->group));
	oh = nuq_conv_out_dim(H, a->kernel[0], a->strides[0], a->dilations[0], a->pads[0],
			      a->pads[2], 0);
	ow = nuq_conv_out_dim(W, a->kernel[1], a->strides[1], a->dilations[1], a->pads[1],
			      a->pads[3], 0);
	if (oh < 1 || ow < 1)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input %lldx%lld is smaller than the kernel",
				     (long long)H, (long long)W);
	ret = nuq_tensor_alloc(y, NUQ_DT_FLOAT, 4, (int64_t[]){ N, O, oh, ow });
	if (ret)
		return nuq_node_fail(n, msg, msglen, ret, "output too large");
	og = O / a->group;
	kk = cg * a->kernel[0] * a->kernel[1];
	pointwise = a->kernel[0] == 1 && a->kernel[1] == 1 && a->strides[0] == 1 &&
		    a->strides[1] == 1 && !a->pads[0] && !a->pads[1] && !a->pads[2] && !a->pads[3];
	/*
	 * im2col goes by bands of output rows, so that the scratch stays
	 * within NUQ_IM2COL_BUDGET elements however large the image.
	 */
	band = oh;
	if (!(cg == 1 && og == 1) && !pointwise) {
		if ((uint64_t)kk * (uint64_t)ow > NUQ_IM2COL_BUDGET)
			return nuq_node_fail(n, msg, msglen, -E2BIG, "im2col scratch too large");
		band = (int64_t)(NUQ_IM2COL_BUDGET / ((uint64_t)kk * (uint64_t)ow));
		if (band > oh)
			band = oh;
		col = malloc((size_t)kk * (size_t)(band * ow) * sizeof(float));
		if (!col)
			return -ENOMEM;
	}
	for (bn = 0; bn < N; bn++) {
		for (gi = 0; gi < a->group; gi++) {
			const float *xg = x->f + ((bn * C) + gi * cg) * H * W;
			float *yg = y->f + ((bn * O) + gi * og) * oh * ow;
			const float *wg = w->f + gi * og * kk;

			if (cg == 1 && og == 1) {
				nuq_conv_depthwise_f32(a, xg, H, W, wg, b ? b->f[gi] : 0.0f, yg, oh,
						       ow);
				continue;
			}
			if (pointwise)
				nuq_sgemm((size_t)og, (size_t)(oh * ow), (size_t)kk, wg, (size_t)kk,
					  xg, (size_t)(oh * ow), yg, (size_t)(oh * ow), 0);
			for (r0 = 0; !pointwise && r0 < oh; r0 += band) {
				int64_t r1 = r0 + band < oh ? r0 + band : oh;

				im2col(a, xg, cg, H, W, r0, r1, ow, col);
				nuq_sgemm((size_t)og, (size_t)((r1 - r0) * ow), (size_t)kk, wg,
					  (size_t)kk, col, (size_t)((r1 - r0) * ow), yg + r0 * ow,
					  (size_t)(oh * ow), 0);
			}
			if (b)
				for (oc = 0; oc < og; oc++) {
					float bv = b->f[gi * og + oc], *yr = yg + oc * oh * ow;
					int64_t p;

					for (p = 0; p < oh * ow; p++)
						yr[p] += bv;
				}
		}
	}
	free(col);
	return 0;
}

static int conv_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		    char *msg, size_t msglen)
{
	if (in[0]->ndims == 4)
		nuq_window_auto_pad(n, in[0]->dims[2], in[0]->dims[3]);
	return nuq_conv2d_f32(n, in[0], &n->w, n->has_bias ? &n->b : NULL, out[0], msg, msglen);
}

/*
 * ConvTranspose as a scatter: every input pixel adds its kernel-weighted
 * contribution to the output window it maps to.
 */
static int convt_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		     char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0], *w = &n->w;
	const struct nuq_attrs *a = &n->a;
	int64_t N, C, H, W, og, cg, O, oh, ow, bn, ci, co, iy, ix, ky, kx, gi;
	int ret;

	if (x->ndims != 4)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input must be 4-D NCHW");
	N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
	if (C != w->dims[0])
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input has %lld channels, weights %lld",
				     (long long)C, (long long)w->dims[0]);
	cg = C / a->group;
	og = w->dims[1];
	O = og * a->group;
	oh = a->strides[0] * (H - 1) + a->out_pad[0] + (a->kernel[0] - 1) * a->dilations[0] + 1 -
	     a->pads[0] - a->pads[2];
	ow = a->strides[1] * (W - 1) + a->out_pad[1] + (a->kernel[1] - 1) * a->dilations[1] + 1 -
	     a->pads[1] - a->pads[3];
	if (oh < 1 || ow < 1)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "output would be empty");
	ret = nuq_tensor_alloc(out[0], NUQ_DT_FLOAT, 4, (int64_t[]){ N, O, oh, ow });
	if (ret)
		return ret;
	for (bn = 0; bn < N; bn++)
		for (co = 0; co < O; co++) {
			float *yr = out[0]->f + (bn * O + co) * oh * ow, bv = n->has_bias ? n->b.f[co] : 0;
			int64_t p;

			for (p = 0; p < oh * ow; p++)
				yr[p] = bv;
		}
	for (bn = 0; bn < N; bn++)
		for (gi = 0; gi < a->group; gi++)
			for (ci = gi * cg; ci < (gi + 1) * cg; ci++)
				for (co = 0; co < og; co++) {
					const float *wk = w->f + (ci * og + co) * a->kernel[0] * a->kernel[1];
					float *yr = out[0]->f + (bn * O + gi * og + co) * oh * ow;
					const float *xr = x->f + (bn * C + ci) * H * W;

					for (iy = 0; iy < H; iy++)
						for (ky = 0; ky < a->kernel[0]; ky++) {
							int64_t oy = iy * a->strides[0] - a->pads[0] +
								     ky * a->dilations[0];

							if (oy < 0 || oy >= oh)
								continue;
							for (ix = 0; ix < W; ix++) {
								float xv = xr[iy * W + ix];

								for (kx = 0; kx < a->kernel[1]; kx++) {
									int64_t ox = ix * a->strides[1] -
										     a->pads[1] +
										     kx * a->dilations[1];

									if (ox >= 0 && ox < ow)
										yr[oy * ow + ox] += xv *
											wk[ky * a->kernel[1] + kx];
								}
							}
						}
				}
	return 0;
}

const struct nuq_op nuq_op_conv = { "Conv", conv_attrs, conv_prepare, conv_run, 2, 0, 0, 0 };
const struct nuq_op nuq_op_convtranspose = {
	"ConvTranspose", conv_attrs, conv_prepare, convt_run, 2, 0, 0, 0
};
