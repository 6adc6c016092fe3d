// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq quantization: uniform grids (symmetric and affine) with min-max,
 * percentile or MSE-optimal clipping, and dynamic-boundary clipping (Zhao
 * et al., JCST 2019), which searches the clipping boundary of a symmetric
 * grid for the smallest quantization error.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "quant_priv.h"

/* Symmetric grid with boundary c: 2^b - 1 levels with zero (b >= 2), or +-c. */
static void grid_sym(double c, unsigned int bits, struct nuq_qgroup *g)
{
	int q = (1 << (bits - 1)) - 1, i;

	if (bits == 1 || c <= 0) {
		g->nlevels = c > 0 ? 2 : 1;
		g->levels[0] = (float)-c;
		g->levels[1] = (float)c;
		return;
	}
	g->nlevels = 2 * q + 1;
	for (i = -q; i <= q; i++)
		g->levels[i + q] = (float)(c * i / q);
}

/* Affine grid over [lo, hi] with an integer zero point, so 0 is exact. */
static void grid_affine(double lo, double hi, unsigned int bits, struct nuq_qgroup *g)
{
	int steps = (1 << bits) - 1, zp, i;
	double scale;

	if (lo > 0)
		lo = 0;
	if (hi < 0)
		hi = 0;
	if (hi - lo <= 0) {
		g->nlevels = 1;
		g->levels[0] = 0;
		return;
	}
	scale = (hi - lo) / steps;
	zp = (int)lround(-lo / scale);
	g->nlevels = steps + 1;
	for (i = 0; i <= steps; i++)
		g->levels[i] = (float)((i - zp) * scale);
}

static double percentile_abs(const float *sorted, size_t n, double pct, int upper)
{
	double pos = (upper ? pct : 100 - pct) / 100 * (n - 1);
	size_t i = (size_t)pos;
	double f = pos - i;

	if (i + 1 >= n)
		return sorted[n - 1];
	return sorted[i] * (1 - f) + sorted[i + 1] * f;
}

static void make_grid(const struct nuq_qparams *p, double lo, double hi, double r,
		      struct nuq_qgroup *g)
{
	if (p->method == NUQ_Q_UNIFORM_AFFINE)
		grid_affine(lo * r, hi * r, p->bits, g);
	else
		grid_sym(fmax(fabs(lo), fabs(hi)) * r, p->bits, g);
}

/* Dynamic boundary: shrink or grow the boundary while the error falls, halving the step. */
static double dbc_search(const float *x, size_t n, const struct nuq_qparams *p, double c)
{
	struct nuq_qgroup g;
	double best = c, step = 0.1, e_best;

	grid_sym(c, p->bits, &g);
	e_best = nuq_levels_sse(x, n, g.levels, g.nlevels);
	while (step > 1e-4) {
		int moved = 0, dir;

		for (dir = -1; dir <= 1; dir += 2) {
			double cand = best * (1 + dir * step), e;

			if (cand <= 0 || cand > c)
				continue;
			grid_sym(cand, p->bits, &g);
			e = nuq_levels_sse(x, n, g.levels, g.nlevels);
			if (e < e_best) {
				e_best = e;
				best = cand;
				moved = 1;
				break;
			}
		}
		if (!moved)
			step /= 2;
	}
	return best;
}

int nuq_q_uniform(const float *x, size_t n, const struct nuq_qparams *p, struct nuq_qgroup *g)
{
	double lo = INFINITY, hi = -INFINITY;
	size_t i;

	for (i = 0; i < n; i++) {
		lo = fmin(lo, x[i]);
		hi = fmax(hi, x[i]);
	}
	if (p->method == NUQ_Q_DBC) {
		grid_sym(dbc_search(x, n, p, fmax(fabs(lo), fabs(hi))), p->bits, g);
		return 0;
	}

	switch (p->clip) {
	case NUQ_CLIP_MINMAX:
		break;
	case NUQ_CLIP_PERCENTILE: {
		float *s = malloc(n * sizeof(*s));

		if (!s)
			return -ENOMEM;
		if (p->percentile <= 50 || p->percentile > 100) {
			free(s);
			return -EINVAL;
		}
		if (p->method == NUQ_Q_UNIFORM_SYM)
			for (i = 0; i < n; i++)
				s[i] = fabsf(x[i]);
		else
			memcpy(s, x, n * sizeof(*s));
		nuq_sort_floats(s, n);
		hi = percentile_abs(s, n, p->percentile, 1);
		lo = p->method == NUQ_Q_UNIFORM_SYM ? -hi : percentile_abs(s, n, p->percentile, 0);
		free(s);
		break;
	}
	case NUQ_CLIP_MSE: {
		double best_r = 1, best_e = INFINITY, r;

		/* the clipped range as a fraction of the full one */
		for (r = 1.0; r >= 0.2; r -= 0.01) {
			double e;

			make_grid(p, lo, hi, r, g);
			e = nuq_levels_sse(x, n, g->levels, g->nlevels);
			if (e < best_e) {
				best_e = e;
				best_r = r;
			}
		}
		make_grid(p, lo, hi, best_r, g);
		return 0;
	}
	default:
		return -EINVAL;
	}
	make_grid(p, lo, hi, 1, g);
	return 0;
}

/* ENQ: 2^b bins of equal width over [min, max]; each bin's centre is a level. */
int nuq_q_enq(const float *x, size_t n, const struct nuq_qparams *p, struct nuq_qgroup *g)
{
	double lo = INFINITY, hi = -INFINITY, w;
	unsigned int k = 1u << p->bits, i;
	size_t j;

	for (j = 0; j < n; j++) {
		lo = fmin(lo, x[j]);
		hi = fmax(hi, x[j]);
	}
	if (hi <= lo) {
		g->nlevels = 1;
		g->levels[0] = (float)lo;
		return 0;
	}
	w = (hi - lo) / k;
	g->nlevels = k;
	for (i = 0; i < k; i++)
		g->levels[i] = (float)(lo + (i + 0.5) * w);
	return 0;
}
