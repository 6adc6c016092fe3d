// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: text lines rendered with FreeType, for recogniser data whose
 * ground truth is known by construction.  Deterministic for a seed:
 * the same font, size, noise and blur give the same pixels.
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

int nuq_render_line(const char *utf8, const struct nuq_render_opts *o, struct nuq_image *im,
		    char *msg, size_t msglen)
{
	FT_Library lib;
	FT_Face face;
	const char *p;
	long pen = 0, width;
	int margin, asc, desc, h, ret = 0;
	uint64_t seed = o->seed ? o->seed : 0x9e3779b97f4a7c15ULL;
	size_t i, n;

	memset(im, 0, sizeof(*im));
	if (o->px < 6 || o->px > 200)
		return nuq_fail(msg, msglen, -EINVAL, "font size %d px out of range (6-200)", o->px);
	if (FT_Init_FreeType(&lib))
		return nuq_fail(msg, msglen, -ENOMEM, "FreeType failed to initialise");
	if (FT_New_Face(lib, o->font, 0, &face)) {
		FT_Done_FreeType(lib);
		return nuq_fail(msg, msglen, -ENOENT, "%s: not a font FreeType can open", o->font);
	}
	FT_Set_Pixel_Sizes(face, 0, (FT_UInt)o->px);
	/* First pass: the advance width. */
	for (p = utf8; *p;) {
		if (FT_Load_Char(face, utf8_next(&p), FT_LOAD_DEFAULT))
			continue;
		pen += face->glyph->advance.x >> 6;
	}
	asc = (int)(face->size->metrics.ascender >> 6);
	desc = (int)(-face->size->metrics.descender >> 6);
	margin = o->px / 4 + 2;
	width = pen + 2 * margin;
	h = asc + desc + 2 * (o->px / 8 + 1);
	if (width > 16384 || nuq_image_alloc(im, (int)width, h, 255)) {
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

				if (x < 0 || y < 0 || x >= im->w || y >= im->h)
					continue;
				v = im->px[y * im->w + x] - g->bitmap.buffer[gy * g->bitmap.pitch + gx];
				im->px[y * im->w + x] = (uint8_t)(v < 0 ? 0 : v);
			}
		pen += g->advance.x >> 6;
	}
	if (o->blur > 0)
		box_blur(im, o->blur);
	if (o->noise > 0) {
		n = (size_t)im->w * im->h;
		for (i = 0; i < n; i++) {
			double v = im->px[i] + o->noise * rng_gauss(&seed);

			im->px[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
		}
	}
out:
	FT_Done_Face(face);
	FT_Done_FreeType(lib);
	return ret;
}
