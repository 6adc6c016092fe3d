// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: evaluation and calibration data.  Nothing is downloaded: fonts,
 * words and the scanned page come from Debian packages, and everything
 * rendered is a pure function of the seed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"

static const char *const fonts[] = {
	"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
	"/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
	"/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
	"/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
	"/usr/share/fonts/truetype/liberation2/LiberationMono-Regular.ttf",
	"/usr/share/fonts/truetype/freefont/FreeSans.ttf",
	"/usr/share/fonts/truetype/freefont/FreeSerif.ttf",
	"/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
};

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void dataset_free(struct dataset *ds)
{
	size_t i;

	for (i = 0; ds->s && i < ds->n; i++) {
		nuq_image_free(&ds->s[i].im);
		free(ds->s[i].text);
	}
	free(ds->s);
	memset(ds, 0, sizeof(*ds));
}

/* The corpus as one string of words separated by single spaces. */
static char *load_words(const struct nuq_ctc_dict *d, char *msg, size_t msglen)
{
	FILE *f = fopen(NUQ_CORPUS, "r");
	char *buf, *out;
	size_t len, i, o = 0;
	long sz;

	if (!f) {
		snprintf(msg, msglen, "%s: %s (package base-files)", NUQ_CORPUS, strerror(errno));
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)sz + 1);
	out = malloc((size_t)sz + 1);
	len = buf ? fread(buf, 1, (size_t)sz, f) : 0;
	fclose(f);
	if (!buf || !out) {
		free(buf);
		free(out);
		return NULL;
	}
	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (c == '\n' || c == '\t' || c == ' ') {
			if (o && out[o - 1] != ' ')
				out[o++] = ' ';
			continue;
		}
		if ((unsigned char)c < 0x80 && nuq_ctc_dict_has(d, &c, 1))
			out[o++] = c;
	}
	out[o] = 0;
	free(buf);
	return out;
}

/* A line of 12-40 characters starting at a word boundary. */
static char *pick_line(const char *words, uint64_t *seed)
{
	size_t n = strlen(words), start = rnd(seed) % (n - 64), want = 12 + rnd(seed) % 29, end;
	char *line;

	while (start < n && words[start] != ' ')
		start++;
	start++;
	end = start + want;
	while (end < n && words[end] != ' ')
		end++;
	line = strndup(words + start, end - start);
	return line;
}

static int render_one(const char *text, uint64_t *seed, struct nuq_image *im, char *msg,
		      size_t msglen)
{
	struct nuq_render_opts o = { 0 };
	size_t tries;

	for (tries = 0; tries < 16; tries++) {
		o.font = fonts[rnd(seed) % (sizeof(fonts) / sizeof(fonts[0]))];
		o.px = 22 + (int)(rnd(seed) % 20);
		o.noise = (double)(rnd(seed) % 13);
		o.blur = (int)(rnd(seed) % 3 == 0);
		o.seed = rnd(seed) | 1;
		if (!nuq_render_line(text, &o, im, msg, msglen))
			return 0;
	}
	return -ENOENT;
}

int dataset_rendered_lines(size_t n, uint64_t seed, const struct nuq_ctc_dict *d,
			   struct dataset *ds, char *msg, size_t msglen)
{
	char *words = load_words(d, msg, msglen);
	size_t i;
	int ret = 0;

	memset(ds, 0, sizeof(*ds));
	if (!words)
		return -ENOENT;
	if (strlen(words) < 1024) {
		free(words);
		snprintf(msg, msglen, "%s has too few words", NUQ_CORPUS);
		return -EINVAL;
	}
	ds->s = calloc(n, sizeof(*ds->s));
	if (!ds->s) {
		free(words);
		return -ENOMEM;
	}
	seed = seed * 0x2545f4914f6cdd1dULL + 1;
	for (i = 0; i < n && !ret; i++) {
		ds->s[i].text = pick_line(words, &seed);
		if (!ds->s[i].text)
			ret = -ENOMEM;
		else
			ret = render_one(ds->s[i].text, &seed, &ds->s[i].im, msg, msglen);
		ds->n = i + 1;
	}
	free(words);
	if (ret)
		dataset_free(ds);
	return ret;
}

int dataset_scanned_lines(const char *page, const char *truth, struct dataset *ds, char *msg,
			  size_t msglen)
{
	struct nuq_image im;
	struct nuq_box *b = NULL;
	char line[1024];
	size_t nb = 0, i;
	FILE *f;
	int ret;

	memset(ds, 0, sizeof(*ds));
	ret = nuq_image_load_png(page, &im, msg, msglen);
	if (ret)
		return ret;
	ret = nuq_page_lines(&im, &b, &nb);
	f = ret ? NULL : fopen(truth, "r");
	if (!ret && !f) {
		snprintf(msg, msglen, "%s: %s", truth, strerror(errno));
		ret = -errno;
	}
	if (!ret) {
		ds->s = calloc(nb + 1, sizeof(*ds->s));
		ret = ds->s ? 0 : -ENOMEM;
	}
	for (i = 0; !ret && i < nb; i++) {
		if (!fgets(line, sizeof(line), f)) {
			snprintf(msg, msglen, "%s has %zu lines, the page %zu", truth, i, nb);
			ret = -EINVAL;
			break;
		}
		line[strcspn(line, "\n")] = 0;
		ds->s[i].text = strdup(line);
		ret = nuq_image_crop(&im, b[i].x0, b[i].y0, b[i].x1 - b[i].x0, b[i].y1 - b[i].y0,
				     &ds->s[i].im);
		ds->n = i + 1;
	}
	if (!ret && fgets(line, sizeof(line), f)) {
		snprintf(msg, msglen, "%s has more lines than the %zu the page has", truth, nb);
		ret = -EINVAL;
	}
	if (f)
		fclose(f);
	free(b);
	nuq_image_free(&im);
	if (ret)
		dataset_free(ds);
	return ret;
}

int dataset_rendered_page(size_t lines, uint64_t seed, const struct nuq_ctc_dict *d,
			  struct nuq_image *page, char *msg, size_t msglen)
{
	struct dataset ds;
	size_t i;
	int ret, y = 16, w = 0, h = 32, r;

	ret = dataset_rendered_lines(lines, seed, d, &ds, msg, msglen);
	if (ret)
		return ret;
	for (i = 0; i < ds.n; i++) {
		w = ds.s[i].im.w > w ? ds.s[i].im.w : w;
		h += ds.s[i].im.h + 12;
	}
	ret = nuq_image_alloc(page, w + 32, h, 255);
	for (i = 0; !ret && i < ds.n; i++) {
		const struct nuq_image *l = &ds.s[i].im;

		for (r = 0; r < l->h; r++)
			memcpy(page->px + (size_t)(y + r) * page->w + 16, l->px + (size_t)r * l->w,
			       (size_t)l->w);
		y += l->h + 12;
	}
	dataset_free(&ds);
	return ret;
}
