// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: what nuq eval measures - edit distance in code points and box F1.
 */
#include <stdlib.h>
#include <string.h>

#include <nuq/ocr.h>

static size_t to_codepoints(const char *s, uint32_t *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (*p) {
		uint32_t c = *p++;

		while ((*p & 0xc0) == 0x80)
			c = (c << 8) | *p++;
		if (out)
			out[n] = c;
		n++;
	}
	return n;
}

size_t nuq_utf8_len(const char *s)
{
	return to_codepoints(s, NULL);
}

size_t nuq_edit_distance(const char *a, const char *b)
{
	size_t na = nuq_utf8_len(a), nb = nuq_utf8_len(b), i, j, res;
	uint32_t *ca = malloc((na + 1) * sizeof(*ca)), *cb = malloc((nb + 1) * sizeof(*cb));
	size_t *row = malloc((nb + 1) * sizeof(*row));

	if (!ca || !cb || !row) {
		free(ca);
		free(cb);
		free(row);
		return na > nb ? na : nb;
	}
	to_codepoints(a, ca);
	to_codepoints(b, cb);
	for (j = 0; j <= nb; j++)
		row[j] = j;
	for (i = 1; i <= na; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= nb; j++) {
			size_t up = row[j], best = diag + (ca[i - 1] != cb[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	res = row[nb];
	free(ca);
	free(cb);
	free(row);
	return res;
}

static double iou(const struct nuq_box *a, const struct nuq_box *b)
{
	int ix0 = a->x0 > b->x0 ? a->x0 : b->x0, iy0 = a->y0 > b->y0 ? a->y0 : b->y0;
	int ix1 = a->x1 < b->x1 ? a->x1 : b->x1, iy1 = a->y1 < b->y1 ? a->y1 : b->y1;
	double inter, ua;

	if (ix1 <= ix0 || iy1 <= iy0)
		return 0;
	inter = (double)(ix1 - ix0) * (iy1 - iy0);
	ua = (double)(a->x1 - a->x0) * (a->y1 - a->y0) + (double)(b->x1 - b->x0) * (b->y1 - b->y0) -
	     inter;
	return ua > 0 ? inter / ua : 0;
}

double nuq_box_f1(const struct nuq_box *ref, size_t nref, const struct nuq_box *got, size_t ngot,
		  double thr)
{
	char *used = calloc(ngot + 1, 1);
	size_t i, j, tp = 0;

	if (!nref && !ngot) {
		free(used);
		return 1.0;
	}
	if (!used)
		return 0;
	for (i = 0; i < nref; i++) {
		size_t best = ngot;
		double bi = thr;

		for (j = 0; j < ngot; j++) {
			double v = used[j] ? 0 : iou(&ref[i], &got[j]);

			if (v >= bi) {
				bi = v;
				best = j;
			}
		}
		if (best < ngot) {
			used[best] = 1;
			tp++;
		}
	}
	free(used);
	return 2.0 * (double)tp / (double)(nref + ngot);
}
