/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: a model's inputs from the files users have - photos (JPEG,
 * PNG) and numpy arrays (.npy) - and its outputs back to .npy.
 *
 * nuq_input_from_image() turns an 8-bit RGB picture into the float
 * tensor a graph input declares: resized (bilinear) to the declared
 * height and width, laid out NCHW or NHWC, channels RGB or BGR, each
 * value scaled and normalised as struct nuq_input_opts says.  Every default is
 * read from the input's declared shape, so a model nuq has never seen
 * gets a sensible tensor without options; nuq_input_describe() prints
 * what was chosen, so a user can see (and override) it.
 *
 * The .npy reader takes format versions 1.0-3.0, C order, little-endian
 * float32/float64/int64/int32/uint8/int8/bool; anything else, and any
 * header that does not match the data that follows, is -EINVAL with a
 * message naming the file and what is wrong.
 */
#ifndef NUQ_INPUT_H
#define NUQ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <nuq/graph.h>

/* An 8-bit RGB picture, row-major, R G B per pixel. */
struct nuq_rgb {
	int w, h;
	uint8_t *px;
};

/* Pictures larger than this many pixels are refused (-EFBIG), not allocated. */
#define NUQ_RGB_MAX_PIXELS	(1u << 28)

/* JPEG or PNG, told apart by content; grey and palette images become RGB. */
int nuq_rgb_load(const char *path, struct nuq_rgb *im, char *msg, size_t msglen);
int nuq_rgb_save_png(const char *path, const struct nuq_rgb *im);
void nuq_rgb_free(struct nuq_rgb *im);
/* The rectangle x, y, w, h of @src, which must lie inside it (-EINVAL). */
int nuq_rgb_crop(const struct nuq_rgb *src, int x, int y, int w, int h, struct nuq_rgb *dst);
/* Bilinear, pixel centres aligned (half-pixel), edges clamped. */
int nuq_rgb_resize(const struct nuq_rgb *src, int w, int h, struct nuq_rgb *dst);

enum nuq_input_layout {
	NUQ_INPUT_AUTO,		/* NCHW if dim 1 is 1, 3 or 4, else NHWC if dim 3 is */
	NUQ_INPUT_NCHW,
	NUQ_INPUT_NHWC,
};

/*
 * How a picture becomes a tensor: value = (v * scale - mean[c]) / std[c]
 * for channel c in the tensor's order.  A zeroed struct gives the
 * defaults: layout from the shape, size from the declared dims (the
 * picture's own where a dim is symbolic), RGB, scale 1/255, mean 0,
 * std 1, and a fourth channel (RGBA models) of 1.0.
 */
struct nuq_input_opts {
	enum nuq_input_layout layout;
	int width, height;	/* 0: the declared size, else the picture's */
	int bgr;		/* channels in B G R order */
	int has_scale;
	float scale;		/* used when has_scale; default 1/255 */
	int has_mean, has_std;
	float mean[4], std[4];	/* per channel, used when has_mean / has_std */
	int has_alpha;
	float alpha;		/* the fourth channel's value, used when has_alpha */
};

/*
 * The float tensor @io declares (4-D, batch 1, 1, 3 or 4 channels) made
 * from @im with @o.  Errors (-EINVAL) say why the input cannot take a
 * picture and which option would fix it.
 */
int nuq_input_from_image(const struct nuq_rgb *im, const struct nuq_graph_io *io,
			 const struct nuq_input_opts *o, struct nuq_tensor *t, char *msg,
			 size_t msglen);
/* One line: "NHWC 1x128x128x3, RGB, v/255*2-1" and so on. */
void nuq_input_describe(const struct nuq_graph_io *io, const struct nuq_input_opts *o,
			const struct nuq_tensor *t, char *buf, size_t len);

/*
 * .npy: float32 and float64 arrays become NUQ_DT_FLOAT, the integer and
 * bool kinds NUQ_DT_INT64 (their values, as graph.h keeps them) with
 * @dtype saying which; at most NUQ_ONNX_MAX_DIMS dims.
 */
int nuq_npy_decode(const void *buf, size_t len, struct nuq_tensor *t, char *msg, size_t msglen);
int nuq_npy_read(const char *path, struct nuq_tensor *t, char *msg, size_t msglen);
/* float32, or int64 for the integer kinds (header version 1.0). */
int nuq_npy_write(const char *path, const struct nuq_tensor *t, char *msg, size_t msglen);

#endif
