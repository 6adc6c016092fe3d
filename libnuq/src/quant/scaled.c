// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq quantization: one codebook per layer over per-channel scaled
 * weights (NUQ_GRAN_CHANNEL_SCALED).
 *
 * Channels of one layer differ mostly in scale, not in shape: dividing
 * each by its own scale lets one codebook serve them all, so a layer
 * pays for one codebook and one 16-bit scale per channel instead of a
 * codebook per channel.  The scale starts as the channel's max |w| (the
 * codebook then sees values in [-1, 1]); for the clustering methods (knq,
 * kde, opt) a few alternating steps then refit each channel's scale by
 * least squares for its indices and the levels as centroids in the
 * weights' own units (a channel with a large scale weighs more), keeping
 * a step only if it lowers the layer's squared error.  Scales are rounded to what the
 * file stores (a float32 base times a float16 ratio) before the indices
 * are chosen, so the indices fit the stored scales.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant_priv.h"

#define SCALED_ITERATIONS	3

/* Round @s to base * float16 ratio, into t->row_scales / row_ratio16. */
static void store_scales(struct nuq_qtensor *t, const double *s)
{
	double base = 0;
	size_t r;

	for (r = 0; r < t->rows; r++)
		base = fmax(base, s[r]);
	t->row_base = (float)base;
	for (r = 0; r < t->rows; r++) {
		float ratio = base > 0 ? (float)(s[r] / t->row_base) : 0;

		t->row_ratio16[r] = nuq_float_to_half(ratio > 1 ? 1 : ratio);
		t->row_scales[r] = t->row_base * nuq_half_to_float(t->row_ratio16[r]);
	}
}

static void assign(const float *w, struct nuq_qtensor *t)
{
	const struct nuq_qgroup *g = &t->groups[0];
	size_t r, c;

	for (r = 0; r < t->rows; r++) {
		float s = t->row_scales[r], inv = s > 0 ? 1.0f / s : 0;

		for (c = 0; c < t->cols; c++)
			t->idx[r * t->cols + c] = nuq_nearest(w[r * t->cols + c] * inv, g->levels,
							      g->nlevels);
	}
}

static double sse(const float *w, const struct nuq_qtensor *t)
{
	const float *lv = t->groups[0].levels;
	double e = 0;
	size_t r, c;

	for (r = 0; r < t->rows; r++)
		for (c = 0; c < t->cols; c++) {
			size_t i = r * t->cols + c;
			double d = w[i] - (double)t->row_scales[r] * lv[t->idx[i]];

			e += d * d;
		}
	return e;
}

/* Least-squares scale of each channel for its current indices. */
static void refit_scales(const float *w, const struct nuq_qtensor *t, double *s)
{
	const float *lv = t->groups[0].levels;
	size_t r, c;

	for (r = 0; r < t->rows; r++) {
		double num = 0, den = 0;

		for (c = 0; c < t->cols; c++) {
			size_t i = r * t->cols + c;

			num += (double)w[i] * lv[t->idx[i]];
			den += (double)lv[t->idx[i]] * lv[t->idx[i]];
		}
		s[r] = den > 0 && num > 0 ? num / den : t->row_scales[r];
	}
}

/* Levels as centroids in weight units: sum(s w) / sum(s^2) per level. */
static int refit_levels(const float *w, struct nuq_qtensor *t)
{
	struct nuq_qgroup *g = &t->groups[0];
	double *num = calloc(g->nlevels, sizeof(*num)), *den = calloc(g->nlevels, sizeof(*den));
	size_t r, c;
	unsigned int k;

	if (!num || !den) {
		free(num);
		free(den);
		return -ENOMEM;
	}
	for (r = 0; r < t->rows; r++)
		for (c = 0; c < t->cols; c++) {
			size_t i = r * t->cols + c;
			double s = t->row_scales[r];

			num[t->idx[i]] += s * w[i];
			den[t->idx[i]] += s * s;
		}
	for (k = 0; k < g->nlevels; k++)
		if (den[k] > 0)
			g->levels[k] = (float)(num[k] / den[k]);
	nuq_sort_floats(g->levels, g->nlevels);
	free(num);
	free(den);
	return 0;
}

static int refits_levels(enum nuq_qmethod m)
{
	return m == NUQ_Q_KNQ || m == NUQ_Q_KDE || m == NUQ_Q_OPT;
}

int nuq_quantize_scaled(const float *w, const struct nuq_qparams *p, struct nuq_qtensor *t)
{
	size_t n = t->rows * t->cols, r, c;
	double *s = malloc(t->rows * sizeof(*s)), best;
	float *x = malloc(n * sizeof(*x)), *keep_scales = malloc(t->rows * sizeof(float));
	uint16_t *keep_ratio = malloc(t->rows * sizeof(uint16_t));
	uint8_t *keep_idx = malloc(n);
	struct nuq_qgroup keep_g;
	float keep_base;
	unsigned int it;
	int ret = -ENOMEM;

	t->row_scales = malloc(t->rows * sizeof(*t->row_scales));
	t->row_ratio16 = malloc(t->rows * sizeof(*t->row_ratio16));
	if (!s || !x || !keep_scales || !keep_ratio || !keep_idx || !t->row_scales ||
	    !t->row_ratio16)
		goto out;
	for (r = 0; r < t->rows; r++) {
		s[r] = 0;
		for (c = 0; c < t->cols; c++)
			s[r] = fmax(s[r], fabs(w[r * t->cols + c]));
	}
	store_scales(t, s);
	for (r = 0; r < t->rows; r++) {
		float inv = t->row_scales[r] > 0 ? 1.0f / t->row_scales[r] : 0;

		for (c = 0; c < t->cols; c++)
			x[r * t->cols + c] = w[r * t->cols + c] * inv;
	}
	ret = nuq_quantize_group(x, n, p, &t->groups[0], t->idx, NULL);
	if (ret)
		goto out;
	best = sse(w, t);
	/*
	 * Only the clustering methods refit: for the grid methods a scale
	 * fitted by least squares clips the largest weights, which is not
	 * what their clipping option (min-max by default) asks for.
	 */
	for (it = 0; it < SCALED_ITERATIONS && best > 0 && refits_levels(p->method); it++) {
		double e;

		keep_g = t->groups[0];
		keep_base = t->row_base;
		memcpy(keep_scales, t->row_scales, t->rows * sizeof(float));
		memcpy(keep_ratio, t->row_ratio16, t->rows * sizeof(uint16_t));
		memcpy(keep_idx, t->idx, n);
		refit_scales(w, t, s);
		store_scales(t, s);
		assign(w, t);
		if (refits_levels(p->method)) {
			ret = refit_levels(w, t);
			if (ret)
				goto out;
			assign(w, t);
		}
		e = sse(w, t);
		if (e >= best) {	/* no better: keep the previous step */
			t->groups[0] = keep_g;
			t->row_base = keep_base;
			memcpy(t->row_scales, keep_scales, t->rows * sizeof(float));
			memcpy(t->row_ratio16, keep_ratio, t->rows * sizeof(uint16_t));
			memcpy(t->idx, keep_idx, n);
			break;
		}
		best = e;
	}
	ret = 0;
out:
	free(s);
	free(x);
	free(keep_scales);
	free(keep_ratio);
	free(keep_idx);
	return ret;
}
