// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: grey images - PNG I/O with libpng, crop, rotate, resize.
 */
#include <errno.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/ocr.h>

#include "msg.h"

#define NUQ_IMAGE_MAX_SIDE	16384

int nuq_image_alloc(struct nuq_image *im, int w, int h, uint8_t fill)
{
	memset(im, 0, sizeof(*im));
	if (w < 1 || h < 1 || w > NUQ_IMAGE_MAX_SIDE || h > NUQ_IMAGE_MAX_SIDE)
		return -EINVAL;
	im->px = malloc((size_t)w * (size_t)h);
	if (!im->px)
		return -ENOMEM;
	memset(im->px, fill, (size_t)w * (size_t)h);
	im->w = w;
	im->h = h;
	return 0;
}

void nuq_image_free(struct nuq_image *im)
{
	free(im->px);
	memset(im, 0, sizeof(*im));
}

int nuq_image_load_png(const char *path, struct nuq_image *im, char *msg, size_t msglen)
{
	png_image pi;
	int ret;

	memset(im, 0, sizeof(*im));
	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&pi, path))
		return nuq_fail(msg, msglen, -EBADMSG, "%s: not a readable PNG (%s)", path,
				pi.message);
	pi.format = PNG_FORMAT_GRAY;
	ret = nuq_image_alloc(im, (int)pi.width, (int)pi.height, 255);
	if (ret) {
		png_image_free(&pi);
		return nuq_fail(msg, msglen, ret, "%s: %ux%u is too large", path, pi.width, pi.height);
	}
	if (!png_image_finish_read(&pi, NULL, im->px, 0, NULL)) {
		nuq_image_free(im);
		return nuq_fail(msg, msglen, -EBADMSG, "%s: %s", path, pi.message);
	}
	return 0;
}

int nuq_image_save_png(const char *path, const struct nuq_image *im)
{
	png_image pi;

	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	pi.width = (png_uint_32)im->w;
	pi.height = (png_uint_32)im->h;
	pi.format = PNG_FORMAT_GRAY;
	return png_image_write_to_file(&pi, path, 0, im->px, 0, NULL) ? 0 : -EIO;
}

int nuq_image_crop(const struct nuq_image *src, int x, int y, int w, int h, struct nuq_image *dst)
{
	int r, ret;

	if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > src->w || y + h > src->h)
		return -EINVAL;
	ret = nuq_image_alloc(dst, w, h, 0);
	if (ret)
		return ret;
	for (r = 0; r < h; r++)
		memcpy(dst->px + (size_t)r * w, src->px + (size_t)(y + r) * src->w + x, (size_t)w);
	return 0;
}

void nuq_image_rotate180(struct nuq_image *im)
{
	size_t i, n = (size_t)im->w * (size_t)im->h;

	for (i = 0; i < n / 2; i++) {
		uint8_t t = im->px[i];

		im->px[i] = im->px[n - 1 - i];
		im->px[n - 1 - i] = t;
	}
}

/* Bilinear, pixel centres aligned (as OpenCV's INTER_LINEAR). */
int nuq_image_resize(const struct nuq_image *src, int w, int h, struct nuq_image *dst)
{
	float sx = (float)src->w / (float)w, sy = (float)src->h / (float)h;
	int x, y, ret;

	ret = nuq_image_alloc(dst, w, h, 0);
	if (ret)
		return ret;
	for (y = 0; y < h; y++) {
		float fy = ((float)y + 0.5f) * sy - 0.5f;
		int y0, y1;
		float dy;

		fy = fy < 0 ? 0 : fy;
		y0 = (int)fy;
		y0 = y0 > src->h - 1 ? src->h - 1 : y0;
		y1 = y0 + 1 < src->h ? y0 + 1 : y0;
		dy = fy - (float)y0;
		for (x = 0; x < w; x++) {
			float fx = ((float)x + 0.5f) * sx - 0.5f, dx, v;
			int x0, x1;

			fx = fx < 0 ? 0 : fx;
			x0 = (int)fx;
			x0 = x0 > src->w - 1 ? src->w - 1 : x0;
			x1 = x0 + 1 < src->w ? x0 + 1 : x0;
			dx = fx - (float)x0;
			v = (1 - dy) * ((1 - dx) * src->px[y0 * src->w + x0] + dx * src->px[y0 * src->w + x1]) +
			    dy * ((1 - dx) * src->px[y1 * src->w + x0] + dx * src->px[y1 * src->w + x1]);
			dst->px[(size_t)y * w + x] = (uint8_t)(v + 0.5f);
		}
	}
	return 0;
}
