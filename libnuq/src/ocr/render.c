// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: text lines rendered with FreeType, for recogniser data whose
 * ground truth is known by construction.  Deterministic for a seed: the
 * same font, size, spacing, rotation, contrast, blur and noise give the
 * same pixels.  The glyphs are drawn as ink coverage first, so that the
 * rotation resamples coverage and the paper and ink levels apply once.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ft2build.h>
#include FT_FREETYPE_H

#include <nuq/ocr.h>

#include "msg.h"

/* Next code point of a UTF-8 string (invalid bytes read as U+FFFD). */
static uint32_t utf8_next(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;
	uint32_t c = *p++;
	int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;

	if (extra)
		c &= 0x3f >> extra;
	while (extra-- > 0) {
		if ((*p & 0xc0) != 0x80) {
			*s = (const char *)p;
			return 0xfffd;
		}
		c = (c << 6) | (*p++ & 0x3f);
	}
	*s = (const char *)p;
	return c;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static double rng_gauss(uint64_t *s)
{
	double u = ((rng_next(s) >> 11) + 1.0) / 9007199254740993.0;
	double v = (rng_next(s) >> 11) / 9007199254740992.0;

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static void box_blur(struct nuq_image *im, int r)
{
	uint8_t *tmp = malloc((size_t)im->w * im->h);
	int x, y, k;

	if (!tmp)
		return;
	for (y = 0; y < im->h; y++)
		for (x = 0; x < im->w; x++) {
			int s = 0, c = 0;

			for (k = -r; k <= r; k++)
				if (x + k >= 0 && x + k < im->w) {
					s += im->px[y * im->w + x + k];
					c++;
				}
			tmp[y * im->w + x] = (uint8_t)(s / c);
		}
	for (y = 0; y < im->h; y++)
		for (x = 0; x < im->w; x++) {
			int s = 0, c = 0;

			for (k = -r; k <= r; k++)
				if (y + k >= 0 && y + k < im->h) {
					s += tmp[(y + k) * im->w + x];
					c++;
				}
			im->px[y * im->w + x] = (uint8_t)(s / c);
		}
	free(tmp);
}

static int check_opts(const struct nuq_render_opts *o, char *msg, size_t msglen)
{
	if (o->px < 6 || o->px > 200)
		return nuq_fail(msg, msglen, -EINVAL, "font size %d px out of range (6-200)", o->px);
	if (!(o->noise >= 0 && o->noise <= 64))
		return nuq_fail(msg, msglen, -EINVAL, "noise sigma %g out of range (0-64)", o->noise);
	if (o->blur < 0 || o->blur > 8)
		return nuq_fail(msg, msglen, -EINVAL, "blur radius %d out of range (0-8)", o->blur);
	if (!(o->angle >= -10 && o->angle <= 10))
		return nuq_fail(msg, msglen, -EINVAL, "angle %g degrees out of range (-10..10)",
				o->angle);
	if (!(o->contrast >= 0 && o->contrast <= 1))
		return nuq_fail(msg, msglen, -EINVAL, "contrast %g out of range (0-1)", o->contrast);
	if (o->paper_shade < 0 || o->paper_shade > 128)
		return nuq_fail(msg, msglen, -EINVAL, "paper shade %d out of range (0-128)",
				o->paper_shade);
	if (o->spacing < -(o->px / 8) || o->spacing > o->px)
		return nuq_fail(msg, msglen, -EINVAL, "spacing %d px out of range (%d..%d)",
				o->spacing, -(o->px / 8), o->px);
	return 0;
}

/*
 * @cov (w x h) rotated by @deg about its centre onto a canvas that holds
 * all of it, bilinear; what falls outside the source is paper.
 */
static int rotate_coverage(uint8_t **cov, int *w, int *h, double deg)
{
	double a = deg * M_PI / 180.0, c = cos(a), s = sin(a);
	int ow = (int)ceil(fabs(*w * c) + fabs(*h * s)), oh = (int)ceil(fabs(*w * s) + fabs(*h * c));
	double cx = (*w - 1) / 2.0, cy = (*h - 1) / 2.0, ocx = (ow - 1) / 2.0, ocy = (oh - 1) / 2.0;
	uint8_t *src = *cov, *dst;
	int x, y;

	if (ow > 16384 || oh > 16384)
		return -E2BIG;
	dst = calloc((size_t)ow * oh, 1);
	if (!dst)
		return -ENOMEM;
	for (y = 0; y < oh; y++)
		for (x = 0; x < ow; x++) {
			/* Inverse map; y grows downwards, so +deg turns the text up. */
			double dx = x - ocx, dy = y - ocy;
			double sx = cx + dx * c - dy * s, sy = cy + dx * s + dy * c;
			int x0 = (int)floor(sx), y0 = (int)floor(sy), i, j;
			double fx = sx - x0, fy = sy - y0, v = 0;

			for (j = 0; j < 2; j++)
				for (i = 0; i < 2; i++) {
					int xx = x0 + i, yy = y0 + j;

					if (xx < 0 || yy < 0 || xx >= *w || yy >= *h)
						continue;
					v += src[(size_t)yy * *w + xx] * (i ? fx : 1 - fx) *
					     (j ? fy : 1 - fy);
				}
			dst[(size_t)y * ow + x] = (uint8_t)lround(v > 255 ? 255 : v);
		}
	free(src);
	*cov = dst;
	*w = ow;
	*h = oh;
	return 0;
}

int nuq_render_line(const char *utf8, const struct nuq_render_opts *o, struct nuq_image *im,
		    char *msg, size_t msglen)
{
	FT_Library lib;
	FT_Face face;
	const char *p;
	long pen = 0, width;
	int margin, asc, desc, w, h, paper, ink, ret;
	uint64_t seed = o->seed ? o->seed : 0x9e3779b97f4a7c15ULL;
	uint8_t *cov = NULL;
	size_t i, n;

	memset(im, 0, sizeof(*im));
	ret = check_opts(o, msg, msglen);
	if (ret)
		return ret;
	if (FT_Init_FreeType(&lib))
		return nuq_fail(msg, msglen, -ENOMEM, "FreeType failed to initialise");
	if (FT_New_Face(lib, o->font, 0, &face)) {
		FT_Done_FreeType(lib);
		return nuq_fail(msg, msglen, -ENOENT, "%s: not a font FreeType can open", o->font);
	}
	FT_Set_Pixel_Sizes(face, 0, (FT_UInt)o->px);
	/* First pass: every glyph exists (no .notdef boxes), and the width. */
	for (p = utf8; *p;) {
		uint32_t ch = utf8_next(&p);

		if (!FT_Get_Char_Index(face, ch) || FT_Load_Char(face, ch, FT_LOAD_DEFAULT)) {
			ret = nuq_fail(msg, msglen, -EILSEQ, "%s has no glyph for U+%04X", o->font,
				       (unsigned int)ch);
			goto out;
		}
		pen += (face->glyph->advance.x >> 6) + o->spacing;
	}
	asc = (int)(face->size->metrics.ascender >> 6);
	desc = (int)(-face->size->metrics.descender >> 6);
	margin = o->px / 4 + 2;
	width = pen + 2 * margin;
	w = (int)width;
	h = asc + desc + 2 * (o->px / 8 + 1);
	cov = width > 0 && width <= 16384 ? calloc((size_t)width * h, 1) : NULL;
	if (!cov) {
		ret = nuq_fail(msg, msglen, -E2BIG, "line too long to render");
		goto out;
	}
	pen = margin;
	for (p = utf8; *p;) {
		FT_GlyphSlot g;
		int gx, gy, x0, y0;

		if (FT_Load_Char(face, utf8_next(&p), FT_LOAD_RENDER))
			continue;
		g = face->glyph;
		x0 = (int)pen + g->bitmap_left;
		y0 = o->px / 8 + 1 + asc - g->bitmap_top;
		for (gy = 0; gy < (int)g->bitmap.rows; gy++)
			for (gx = 0; gx < (int)g->bitmap.width; gx++) {
				int x = x0 + gx, y = y0 + gy, v;

				if (x < 0 || y < 0 || x >= w || y >= h)
					continue;
				v = cov[y * w + x] + g->bitmap.buffer[gy * g->bitmap.pitch + gx];
				cov[y * w + x] = (uint8_t)(v > 255 ? 255 : v);
			}
		pen += (g->advance.x >> 6) + o->spacing;
	}
	if (o->angle != 0) {
		ret = rotate_coverage(&cov, &w, &h, o->angle);
		if (ret) {
			ret = nuq_fail(msg, msglen, ret, "line too long to rotate");
			goto out;
		}
	}
	paper = 255 - o->paper_shade;
	ink = o->contrast > 0 ? (int)lround(paper * (1.0 - o->contrast)) : 0;
	ret = nuq_image_alloc(im, w, h, (uint8_t)paper);
	if (ret) {
		ret = nuq_fail(msg, msglen, ret, "line too long to render");
		goto out;
	}
	n = (size_t)w * h;
	for (i = 0; i < n; i++)
		im->px[i] = (uint8_t)(paper - (cov[i] * (paper - ink) + 127) / 255);
	if (o->blur > 0)
		box_blur(im, o->blur);
	if (o->noise > 0) {
		for (i = 0; i < n; i++) {
			double v = im->px[i] + o->noise * rng_gauss(&seed);

			im->px[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
		}
	}
out:
	free(cov);
	FT_Done_Face(face);
	FT_Done_FreeType(lib);
	return ret;
}
