// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: images to model inputs, with PaddleOCR's preprocessing.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <nuq/ocr.h>

#define REC_H		48
#define REC_MAX_W	1280
#define CLS_W		192

static int fill(struct nuq_tensor *x, const struct nuq_image *im, int tw, int th,
		const float *mean, const float *std)
{
	int c, y, xx, ret;

	ret = nuq_tensor_alloc(x, NUQ_DT_FLOAT, 4, (int64_t[]){ 1, 3, th, tw });
	if (ret)
		return ret;
	for (c = 0; c < 3; c++) {
		float *plane = x->f + (size_t)c * th * tw;

		for (y = 0; y < im->h && y < th; y++)
			for (xx = 0; xx < im->w && xx < tw; xx++)
				plane[y * tw + xx] = (im->px[y * im->w + xx] / 255.0f - mean[c]) / std[c];
	}
	return 0;
}

int nuq_ocr_input(enum nuq_ocr_model model, const struct nuq_image *im, int limit,
		  struct nuq_tensor *x)
{
	static const float det_mean[3] = { 0.485f, 0.456f, 0.406f };
	static const float det_std[3] = { 0.229f, 0.224f, 0.225f };
	static const float half[3] = { 0.5f, 0.5f, 0.5f };
	struct nuq_image r;
	int w, h, ret;

	memset(x, 0, sizeof(*x));
	switch (model) {
	case NUQ_OCR_DET: {
		float s = 1.0f;
		int side = im->w > im->h ? im->w : im->h;

		if (limit > 0 && side > limit)
			s = (float)limit / (float)side;
		w = (int)lroundf(im->w * s / 32.0f) * 32;
		h = (int)lroundf(im->h * s / 32.0f) * 32;
		w = w < 32 ? 32 : w;
		h = h < 32 ? 32 : h;
		ret = nuq_image_resize(im, w, h, &r);
		if (!ret)
			ret = fill(x, &r, w, h, det_mean, det_std);
		break;
	}
	case NUQ_OCR_REC:
	case NUQ_OCR_CLS: {
		int tw = model == NUQ_OCR_CLS ? CLS_W : 0;

		w = (int)ceilf((float)REC_H * (float)im->w / (float)im->h);
		if (model == NUQ_OCR_REC) {
			w = w < REC_H ? REC_H : w > REC_MAX_W ? REC_MAX_W : w;
			tw = w;
		} else {
			w = w > CLS_W ? CLS_W : w < 1 ? 1 : w;
		}
		ret = nuq_image_resize(im, w, REC_H, &r);
		if (!ret)
			ret = fill(x, &r, tw, REC_H, half, half);
		/* Padding on the right is 0 after normalisation, as PaddleOCR pads. */
		break;
	}
	default:
		return -EINVAL;
	}
	nuq_image_free(&r);
	return ret;
}
