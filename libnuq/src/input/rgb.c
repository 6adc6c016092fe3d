// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * 8-bit RGB pictures from JPEG (libjpeg) and PNG (libpng) files, crop and
 * resize: what a vision model's input is made from (<nuq/input.h>).
 * libnuq's OCR image type is grey; face and object detectors want colour.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include <nuq/input.h>

struct jpeg_fail {
	struct jpeg_error_mgr mgr;
	jmp_buf jump;
	char text[JMSG_LENGTH_MAX];
};

static void jpeg_fail_exit(j_common_ptr cinfo)
{
	struct jpeg_fail *f = (struct jpeg_fail *)cinfo->err;

	f->mgr.format_message(cinfo, f->text);
	longjmp(f->jump, 1);
}

/* A picture above NUQ_RGB_MAX_PIXELS is refused before its pixels are allocated. */
static int too_big(const char *path, unsigned int w, unsigned int h, char *msg, size_t msglen)
{
	if ((uint64_t)w * h <= NUQ_RGB_MAX_PIXELS)
		return 0;
	snprintf(msg, msglen, "%s: %ux%u pixels is more than nuq takes (%u)", path, w, h,
		 NUQ_RGB_MAX_PIXELS);
	return 1;
}

static int load_jpeg(FILE *fp, const char *path, struct nuq_rgb *im, char *msg, size_t msglen)
{
	struct jpeg_decompress_struct c;
	struct jpeg_fail fail;
	JSAMPROW row;

	im->px = NULL;
	c.err = jpeg_std_error(&fail.mgr);
	fail.mgr.error_exit = jpeg_fail_exit;
	if (setjmp(fail.jump)) {
		snprintf(msg, msglen, "%s: bad JPEG: %s", path, fail.text);
		jpeg_destroy_decompress(&c);
		free(im->px);
		im->px = NULL;
		return -EINVAL;
	}
	jpeg_create_decompress(&c);
	jpeg_stdio_src(&c, fp);
	jpeg_read_header(&c, TRUE);
	c.out_color_space = JCS_RGB;	/* grey and YCbCr alike */
	jpeg_start_decompress(&c);
	if (too_big(path, c.output_width, c.output_height, msg, msglen)) {
		jpeg_destroy_decompress(&c);
		return -EFBIG;
	}
	im->w = (int)c.output_width;
	im->h = (int)c.output_height;
	im->px = malloc((size_t)im->w * im->h * 3);
	if (!im->px) {
		jpeg_destroy_decompress(&c);
		snprintf(msg, msglen, "%s: out of memory", path);
		return -ENOMEM;
	}
	while (c.output_scanline < c.output_height) {
		row = im->px + (size_t)c.output_scanline * im->w * 3;
		jpeg_read_scanlines(&c, &row, 1);
	}
	jpeg_finish_decompress(&c);
	jpeg_destroy_decompress(&c);
	return 0;
}

static int load_png(const char *path, struct nuq_rgb *im, char *msg, size_t msglen)
{
	png_image p;

	memset(&p, 0, sizeof(p));
	p.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&p, path)) {
		snprintf(msg, msglen, "%s: bad PNG: %s", path, p.message);
		return -EINVAL;
	}
	/* Alpha, if any, is composited on black: the models take RGB. */
	p.format = PNG_FORMAT_RGB;
	if (too_big(path, p.width, p.height, msg, msglen)) {
		png_image_free(&p);
		return -EFBIG;
	}
	im->w = (int)p.width;
	im->h = (int)p.height;
	im->px = malloc(PNG_IMAGE_SIZE(p));
	if (!im->px) {
		png_image_free(&p);
		snprintf(msg, msglen, "%s: out of memory", path);
		return -ENOMEM;
	}
	if (!png_image_finish_read(&p, NULL, im->px, 0, NULL)) {
		snprintf(msg, msglen, "%s: bad PNG: %s", path, p.message);
		nuq_rgb_free(im);
		return -EINVAL;
	}
	return 0;
}

int nuq_rgb_load(const char *path, struct nuq_rgb *im, char *msg, size_t msglen)
{
	unsigned char sig[3] = { 0 };
	FILE *fp = fopen(path, "rb");
	int ret;

	if (!fp) {
		ret = -errno;
		snprintf(msg, msglen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fread(sig, 1, 3, fp) != 3)
		sig[0] = 0;
	rewind(fp);
	if (sig[0] == 0xff && sig[1] == 0xd8 && sig[2] == 0xff) {
		ret = load_jpeg(fp, path, im, msg, msglen);
	} else if (sig[0] == 0x89 && sig[1] == 'P' && sig[2] == 'N') {
		ret = load_png(path, im, msg, msglen);
	} else {
		snprintf(msg, msglen, "%s: neither JPEG nor PNG", path);
		ret = -EINVAL;
	}
	fclose(fp);
	return ret;
}

int nuq_rgb_save_png(const char *path, const struct nuq_rgb *im)
{
	png_image p;

	memset(&p, 0, sizeof(p));
	p.version = PNG_IMAGE_VERSION;
	p.width = (png_uint_32)im->w;
	p.height = (png_uint_32)im->h;
	p.format = PNG_FORMAT_RGB;
	return png_image_write_to_file(&p, path, 0, im->px, 0, NULL) ? 0 : -EIO;
}

void nuq_rgb_free(struct nuq_rgb *im)
{
	free(im->px);
	im->px = NULL;
	im->w = im->h = 0;
}

int nuq_rgb_crop(const struct nuq_rgb *src, int x, int y, int w, int h, struct nuq_rgb *dst)
{
	int r;

	if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > src->w || y + h > src->h)
		return -EINVAL;
	dst->px = malloc((size_t)w * h * 3);
	if (!dst->px)
		return -ENOMEM;
	dst->w = w;
	dst->h = h;
	for (r = 0; r < h; r++)
		memcpy(dst->px + (size_t)r * w * 3, src->px + ((size_t)(y + r) * src->w + x) * 3,
		       (size_t)w * 3);
	return 0;
}

/* Source coordinate of destination pixel @i, split into index and weight. */
static void source_pos(int i, int dst_n, int src_n, int *i0, int *i1, float *t)
{
	float s = ((float)i + 0.5f) * (float)src_n / (float)dst_n - 0.5f;

	if (s < 0)
		s = 0;
	*i0 = (int)s;
	if (*i0 > src_n - 1)
		*i0 = src_n - 1;
	*i1 = *i0 + 1 < src_n ? *i0 + 1 : *i0;
	*t = s - (float)*i0;
}

int nuq_rgb_resize(const struct nuq_rgb *src, int w, int h, struct nuq_rgb *dst)
{
	int x, y, c, x0, x1, y0, y1;
	float tx, ty;

	if (w <= 0 || h <= 0 || src->w <= 0 || src->h <= 0)
		return -EINVAL;
	dst->px = malloc((size_t)w * h * 3);
	if (!dst->px)
		return -ENOMEM;
	dst->w = w;
	dst->h = h;
	for (y = 0; y < h; y++) {
		source_pos(y, h, src->h, &y0, &y1, &ty);
		for (x = 0; x < w; x++) {
			source_pos(x, w, src->w, &x0, &x1, &tx);
			for (c = 0; c < 3; c++) {
				const uint8_t *p = src->px;
				float a = p[((size_t)y0 * src->w + x0) * 3 + c];
				float b = p[((size_t)y0 * src->w + x1) * 3 + c];
				float d = p[((size_t)y1 * src->w + x0) * 3 + c];
				float e = p[((size_t)y1 * src->w + x1) * 3 + c];
				float v = (a + (b - a) * tx) * (1 - ty) + (d + (e - d) * tx) * ty;

				dst->px[((size_t)y * w + x) * 3 + c] = (uint8_t)(v + 0.5f);
			}
		}
	}
	return 0;
}
