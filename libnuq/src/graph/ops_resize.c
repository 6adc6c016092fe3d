// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: Resize (opset 10+) and Upsample (opset 7-9) on the two spatial
 * axes of NCHW tensors, nearest or bilinear.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "graph_priv.h"

enum coord { C_HALF_PIXEL, C_ASYMMETRIC, C_ALIGN_CORNERS, C_PYTORCH_HALF_PIXEL };
enum nearest { N_ROUND_PREFER_FLOOR, N_ROUND_PREFER_CEIL, N_FLOOR, N_CEIL };

static const char *const resize_attrs[] = {
	"mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a",
	"exclude_outside", NULL,
};
static const char *const upsample_attrs[] = { "mode", "scales", NULL };

static int pick(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static int resize_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	static const char *const modes[] = { "nearest", "linear", "bilinear" };
	static const char *const coords[] = { "half_pixel", "asymmetric", "align_corners",
					      "pytorch_half_pixel" };
	static const char *const nearests[] = { "round_prefer_floor", "round_prefer_ceil",
						"floor", "ceil" };
	int upsample = !strcmp(n->op->name, "Upsample");
	char b1[32], b2[32], b3[32];
	const char *m = nuq_attr_string(n, "mode", "nearest", b1, sizeof(b1));
	const char *c = nuq_attr_string(n, "coordinate_transformation_mode",
					upsample ? "asymmetric" : "half_pixel", b2, sizeof(b2));
	const char *nm = nuq_attr_string(n, "nearest_mode", upsample ? "floor" : "round_prefer_floor",
					 b3, sizeof(b3));
	int mi = pick(m, modes, 3);

	(void)g;
	if (mi < 0)
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP, "mode '%s' is not supported", m);
	n->a.resize_linear = mi > 0;
	n->a.resize_coord = pick(c, coords, 4);
	n->a.nearest_mode = pick(nm, nearests, 4);
	if (n->a.resize_coord < 0 || n->a.nearest_mode < 0)
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
				     "coordinate mode '%s' / nearest mode '%s' is not supported", c, nm);
	if (nuq_attr_int(n, "exclude_outside", 0))
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP, "exclude_outside is not supported");
	return 0;
}

static float src_coord(int coord, int64_t o, float scale, int64_t in, int64_t out)
{
	switch (coord) {
	case C_ASYMMETRIC:
		return (float)o / scale;
	case C_ALIGN_CORNERS: {
		/*
		 * ONNX's resized length is in * scale, not the rounded output
		 * size: they differ when scales (not sizes) are given.
		 */
		float len = (float)in * scale;

		(void)out;
		return len > 1.0f ? (float)o * (float)(in - 1) / (len - 1.0f) : 0.0f;
	}
	case C_PYTORCH_HALF_PIXEL:
		return out > 1 ? ((float)o + 0.5f) / scale - 0.5f : 0.0f;
	default:
		return ((float)o + 0.5f) / scale - 0.5f;
	}
}

static int64_t nearest_index(int mode, float x, int64_t in)
{
	int64_t i;

	switch (mode) {
	case N_FLOOR:
		i = (int64_t)floorf(x);
		break;
	case N_CEIL:
		i = (int64_t)ceilf(x);
		break;
	case N_ROUND_PREFER_CEIL:
		i = (int64_t)floorf(x + 0.5f);
		break;
	default:
		i = x == floorf(x) + 0.5f ? (int64_t)floorf(x) : (int64_t)roundf(x);
		break;
	}
	return i < 0 ? 0 : i >= in ? in - 1 : i;
}

static int resize_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		      char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0], *scales = NULL, *sizes = NULL;
	int upsample = !strcmp(n->op->name, "Upsample");
	int64_t oh, ow, H, W, p, oy, ox;
	float sh, sw;
	int ret;

	if (x->ndims != 4 || x->dtype != NUQ_DT_FLOAT)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input must be 4-D NCHW float");
	H = x->dims[2], W = x->dims[3];
	if (upsample)
		scales = n->nin > 1 ? in[1] : NULL;
	else if (n->nin == 2)
		scales = in[1];	/* opset 10: X, scales */
	else {
		scales = n->nin > 2 ? in[2] : NULL;
		sizes = n->nin > 3 ? in[3] : NULL;
	}
	if (scales && !nuq_tensor_count(scales))
		scales = NULL;
	if (sizes && sizes->dtype == NUQ_DT_INT64 && nuq_tensor_count(sizes) == 4) {
		if (sizes->i[0] != x->dims[0] || sizes->i[1] != x->dims[1])
			return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP, "only H and W may be resized");
		oh = sizes->i[2], ow = sizes->i[3];
		sh = (float)oh / (float)H, sw = (float)ow / (float)W;
	} else if (scales && scales->dtype == NUQ_DT_FLOAT && nuq_tensor_count(scales) == 4) {
		if (scales->f[0] != 1.0f || scales->f[1] != 1.0f)
			return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP, "only H and W may be resized");
		sh = scales->f[2], sw = scales->f[3];
		if (!(sh > 0 && sw > 0 && (float)H * sh <= 65536 && (float)W * sw <= 65536))
			return nuq_node_fail(n, msg, msglen, -EINVAL, "scales out of range");
		oh = (int64_t)floorf((float)H * sh), ow = (int64_t)floorf((float)W * sw);
	} else {
		return nuq_node_fail(n, msg, msglen, -EINVAL, "needs 4 scales or 4 sizes");
	}
	if (oh < 1 || ow < 1 || oh > 65536 || ow > 65536)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "output size out of range");
	ret = nuq_tensor_alloc(out[0], NUQ_DT_FLOAT, 4,
			       (int64_t[]){ x->dims[0], x->dims[1], oh, ow });
	if (ret)
		return ret;
	for (p = 0; p < x->dims[0] * x->dims[1]; p++) {
		const float *xp = x->f + p * H * W;
		float *yp = out[0]->f + p * oh * ow;

		for (oy = 0; oy < oh; oy++) {
			float fy = src_coord(n->a.resize_coord, oy, sh, H, oh);

			for (ox = 0; ox < ow; ox++) {
				float fx = src_coord(n->a.resize_coord, ox, sw, W, ow);

				if (!n->a.resize_linear) {
					yp[oy * ow + ox] = xp[nearest_index(n->a.nearest_mode, fy, H) * W +
							      nearest_index(n->a.nearest_mode, fx, W)];
				} else {
					float cy = fminf(fmaxf(fy, 0.0f), (float)(H - 1));
					float cx = fminf(fmaxf(fx, 0.0f), (float)(W - 1));
					int64_t y0 = (int64_t)cy, x0 = (int64_t)cx;
					int64_t y1 = y0 + 1 < H ? y0 + 1 : y0, x1 = x0 + 1 < W ? x0 + 1 : x0;
					float dy = cy - (float)y0, dx = cx - (float)x0;

					yp[oy * ow + ox] =
						(1 - dy) * ((1 - dx) * xp[y0 * W + x0] + dx * xp[y0 * W + x1]) +
						dy * ((1 - dx) * xp[y1 * W + x0] + dx * xp[y1 * W + x1]);
				}
			}
		}
	}
	return 0;
}

const struct nuq_op nuq_ops_resize[] = {
	{ "Resize", resize_attrs, resize_prepare, resize_run, 1, 0, 0, 0 },
	{ "Upsample", upsample_attrs, resize_prepare, resize_run, 1, 0, 0, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
};
