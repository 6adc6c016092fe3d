// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq quantization: the KDE-based non-uniform quantizer (Seo & Kim,
 * Appl. Sci. 2019).  A Gaussian kernel density is fitted to a small random
 * sample of the weights (Silverman's bandwidth), evaluated on a grid by
 * binning the sample and convolving with the kernel, and Lloyd-Max is run
 * on that density.  The work depends on the sample size and the grid, not
 * on the size of the layer.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "quant_priv.h"

#define KDE_GRID	2048

/* Lloyd-Max on a density tabulated at npts points of [lo, hi]. */
static int lloyd_max_grid(const double *pdf, double lo, double hi, unsigned int npts,
			  unsigned int k, unsigned int iters, double *lv)
{
	double dx = (hi - lo) / (npts - 1), total = 0, acc = 0;
	unsigned int i, it, next = 0;

	for (i = 0; i < npts; i++)
		total += pdf[i];
	if (total <= 0)
		return -EINVAL;
	/* start at the centres of equal-probability intervals */
	for (i = 0; i < npts && next < k; i++) {
		acc += pdf[i];
		while (next < k && acc >= total * (next + 0.5) / k)
			lv[next++] = lo + i * dx;
	}
	while (next < k)
		lv[next++] = hi;

	for (it = 0; it < iters; it++) {
		double change = 0;
		unsigned int j = 0;

		for (i = 0; i < k; i++) {
			double t = i + 1 < k ? 0.5 * (lv[i] + lv[i + 1]) : INFINITY;
			double m0 = 0, m1 = 0;

			for (; j < npts && lo + j * dx <= t; j++) {
				m0 += pdf[j];
				m1 += pdf[j] * (lo + j * dx);
			}
			if (m0 > 0) {
				change = fmax(change, fabs(m1 / m0 - lv[i]));
				lv[i] = m1 / m0;
			}
		}
		if (change < 1e-9 * (hi - lo))
			break;
	}
	return 0;
}

struct pdf_tab {
	double (*pdf)(double, void *);
	void *arg;
};

int nuq_lloyd_max(double (*pdf)(double x, void *arg), void *arg, double lo, double hi,
		  unsigned int npts, unsigned int k, unsigned int iterations, double *levels)
{
	double *tab;
	unsigned int i;
	int ret;

	if (npts < 2 || !k || k > 256 || hi <= lo)
		return -EINVAL;
	tab = malloc(npts * sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	for (i = 0; i < npts; i++)
		tab[i] = pdf(lo + (hi - lo) * i / (npts - 1), arg);
	ret = lloyd_max_grid(tab, lo, hi, npts, k, iterations ? iterations : 200, levels);
	free(tab);
	return ret;
}

int nuq_q_kde(const float *x, size_t n, const struct nuq_qparams *p, struct nuq_qgroup *g)
{
	unsigned int m = p->kde_samples ? p->kde_samples : 2048, k = 1u << p->bits, i;
	uint64_t seed = p->seed ? p->seed : 1;
	double *sample, *hist, *pdf, mean = 0, var = 0, h, lo = INFINITY, hi = -INFINITY, dx;
	double lv[256];
	int ret = -ENOMEM, r, radius;

	sample = malloc(m * sizeof(double));
	hist = calloc(KDE_GRID, sizeof(double));
	pdf = calloc(KDE_GRID, sizeof(double));
	if (!sample || !hist || !pdf)
		goto out;
	for (i = 0; i < m; i++) {
		sample[i] = x[nuq_rng_next(&seed) % n];
		mean += sample[i];
		lo = fmin(lo, sample[i]);
		hi = fmax(hi, sample[i]);
	}
	mean /= m;
	for (i = 0; i < m; i++)
		var += (sample[i] - mean) * (sample[i] - mean);
	h = 1.06 * sqrt(var / (m > 1 ? m - 1 : 1)) * pow(m, -0.2);	/* Silverman */
	if (!(h > 0)) {
		g->nlevels = 1;
		g->levels[0] = (float)mean;
		ret = 0;
		goto out;
	}
	lo -= 3 * h;
	hi += 3 * h;
	dx = (hi - lo) / (KDE_GRID - 1);
	for (i = 0; i < m; i++)
		hist[(unsigned int)lround((sample[i] - lo) / dx)] += 1;
	/* density = histogram convolved with the Gaussian kernel (cut at 4 h) */
	radius = (int)ceil(4 * h / dx);
	for (i = 0; i < KDE_GRID; i++) {
		if (!hist[i])
			continue;
		for (r = -radius; r <= radius; r++) {
			int j = (int)i + r;

			if (j >= 0 && j < KDE_GRID)
				pdf[j] += hist[i] * exp(-0.5 * (r * dx / h) * (r * dx / h));
		}
	}
	ret = lloyd_max_grid(pdf, lo, hi, KDE_GRID, k, p->iterations ? p->iterations : 100, lv);
	if (!ret) {
		g->nlevels = 0;
		for (i = 0; i < k; i++)
			if (!g->nlevels || (float)lv[i] > g->levels[g->nlevels - 1])
				g->levels[g->nlevels++] = (float)lv[i];
	}
out:
	free(sample);
	free(hist);
	free(pdf);
	return ret;
}
