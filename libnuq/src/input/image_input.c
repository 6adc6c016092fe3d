// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: a picture as the float tensor a vision model's input declares.
 * The defaults come from the declared shape (see <nuq/input.h>); what
 * the shape leaves open is the picture's own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <nuq/input.h>

#include "../msg.h"

static int is_channels(int64_t d)
{
	return d == 1 || d == 3 || d == 4;
}

static enum nuq_input_layout pick_layout(const struct nuq_graph_io *io,
					 enum nuq_input_layout want)
{
	if (want != NUQ_INPUT_AUTO)
		return want;
	if (is_channels(io->dims[1]))
		return NUQ_INPUT_NCHW;
	if (is_channels(io->dims[3]))
		return NUQ_INPUT_NHWC;
	return NUQ_INPUT_NCHW;	/* ONNX's own order */
}

/* The declared dim @d, or @fallback where it is symbolic. */
static int pick_dim(int64_t d, int fallback)
{
	return d > 0 ? (int)d : fallback;
}

static float channel_value(const uint8_t *px, int c, int channels, const struct nuq_input_opts *o,
			   float scale)
{
	float v, mean, std;

	if (channels == 1)
		v = (299.0f * px[0] + 587.0f * px[1] + 114.0f * px[2]) / 1000.0f;
	else if (c == 3)
		return o->has_alpha ? o->alpha : 1.0f;
	else
		v = px[o->bgr ? 2 - c : c];
	mean = o->has_mean ? o->mean[c] : 0.0f;
	std = o->has_std ? o->std[c] : 1.0f;
	return (v * scale - mean) / std;
}

static int check_io(const struct nuq_graph_io *io, const struct nuq_input_opts *o, char *msg,
		    size_t msglen)
{
	int c;

	if (!io->has_shape || io->ndims != 4)
		return nuq_fail(msg, msglen, -EINVAL,
				"input '%s' is not a 4-D image tensor (it declares %u dims): give it a .npy file",
				io->name, io->has_shape ? io->ndims : 0);
	if (io->elem_type && io->elem_type != 1)
		return nuq_fail(msg, msglen, -EINVAL,
				"input '%s' takes %s, not a picture's floats: give it a .npy file",
				io->name, nuq_graph_dtype_name(io->elem_type));
	if (io->dims[0] > 1)
		return nuq_fail(msg, msglen, -EINVAL,
				"input '%s' takes a batch of %lld pictures: give it a .npy file",
				io->name, (long long)io->dims[0]);
	if (o->has_std)
		for (c = 0; c < 4; c++)
			if (o->std[c] == 0.0f)
				return nuq_fail(msg, msglen, -EINVAL, "a std of 0 (channel %d)", c);
	return 0;
}

int nuq_input_from_image(const struct nuq_rgb *im, const struct nuq_graph_io *io,
			 const struct nuq_input_opts *o, struct nuq_tensor *t, char *msg,
			 size_t msglen)
{
	enum nuq_input_layout layout;
	int64_t dims[4];
	int ch_dim, h_dim, w_dim, channels, w, h, x, y, c, ret;
	float scale = o->has_scale ? o->scale : 1.0f / 255.0f;
	struct nuq_rgb sized;

	memset(t, 0, sizeof(*t));
	ret = check_io(io, o, msg, msglen);
	if (ret)
		return ret;
	layout = pick_layout(io, o->layout);
	ch_dim = layout == NUQ_INPUT_NCHW ? 1 : 3;
	h_dim = layout == NUQ_INPUT_NCHW ? 2 : 1;
	w_dim = h_dim + 1;
	channels = pick_dim(io->dims[ch_dim], 3);
	if (!is_channels(channels))
		return nuq_fail(msg, msglen, -EINVAL,
				"input '%s' has %d channels in the %s layout: a picture gives 1, 3 or 4 (try --layout %s, or a .npy file)",
				io->name, channels, layout == NUQ_INPUT_NCHW ? "NCHW" : "NHWC",
				layout == NUQ_INPUT_NCHW ? "nhwc" : "nchw");
	w = o->width ? o->width : pick_dim(io->dims[w_dim], im->w);
	h = o->height ? o->height : pick_dim(io->dims[h_dim], im->h);
	if ((io->dims[w_dim] > 0 && w != io->dims[w_dim]) ||
	    (io->dims[h_dim] > 0 && h != io->dims[h_dim]))
		return nuq_fail(msg, msglen, -EINVAL,
				"input '%s' is %lldx%lld (width x height): a %dx%d size does not fit it",
				io->name, (long long)io->dims[w_dim], (long long)io->dims[h_dim], w, h);
	ret = nuq_rgb_resize(im, w, h, &sized);
	if (ret)
		return nuq_fail(msg, msglen, ret, "cannot resize the picture to %dx%d", w, h);
	dims[0] = 1;
	dims[ch_dim] = channels;
	dims[h_dim] = h;
	dims[w_dim] = w;
	ret = nuq_tensor_alloc(t, NUQ_DT_FLOAT, 4, dims);
	if (ret) {
		nuq_rgb_free(&sized);
		return nuq_fail(msg, msglen, ret, "input '%s': %dx%d is too large", io->name, w, h);
	}
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			const uint8_t *px = sized.px + ((size_t)y * w + x) * 3;
			size_t at = (size_t)y * w + x;

			for (c = 0; c < channels; c++) {
				float v = channel_value(px, c, channels, o, scale);

				if (layout == NUQ_INPUT_NCHW)
					t->f[(size_t)c * w * h + at] = v;
				else
					t->f[at * channels + c] = v;
			}
		}
	nuq_rgb_free(&sized);
	return 0;
}

/* " - mean (a,b,c)" and the like: @n values after @what, at @off in @buf. */
static size_t append_values(char *buf, size_t len, size_t off, const char *what, const float *v,
			    int n)
{
	int c;

	if (off < len)
		off += snprintf(buf + off, len - off, " %s (", what);
	for (c = 0; c < n && off < len; c++)
		off += snprintf(buf + off, len - off, "%s%g", c ? "," : "", v[c]);
	if (off < len)
		off += snprintf(buf + off, len - off, ")");
	return off;
}

void nuq_input_describe(const struct nuq_graph_io *io, const struct nuq_input_opts *o,
			const struct nuq_tensor *t, char *buf, size_t len)
{
	enum nuq_input_layout layout = pick_layout(io, o->layout);
	int channels = (int)t->dims[layout == NUQ_INPUT_NCHW ? 1 : 3];
	int colours = channels < 3 ? channels : 3;
	float scale = o->has_scale ? o->scale : 1.0f / 255.0f;
	size_t off;

	off = snprintf(buf, len, "%s %lldx%lldx%lldx%lld, %s, value = v * %g",
		       layout == NUQ_INPUT_NCHW ? "NCHW" : "NHWC", (long long)t->dims[0],
		       (long long)t->dims[1], (long long)t->dims[2], (long long)t->dims[3],
		       channels == 1 ? "grey" : o->bgr ? "BGR" : "RGB", scale);
	if (o->has_mean)
		off = append_values(buf, len, off, "- mean", o->mean, colours);
	if (o->has_std)
		off = append_values(buf, len, off, "/ std", o->std, colours);
	if (off < len && channels == 4)
		snprintf(buf + off, len - off, ", alpha %g", o->has_alpha ? o->alpha : 1.0f);
}
