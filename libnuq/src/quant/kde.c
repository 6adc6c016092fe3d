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

#define KDE_GRID	4096

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

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
	unsigned int m = p->kde_samples ? p->kde_samples : 8192, k = 1u << p->bits, i;
	uint64_t seed = p->seed ? p->seed : 1;
	double *sample, *hist, *pdf, mean = 0, var = 0, h, lo = INFINITY, hi = -INFINITY, dx;
	double slo, shi, tail, iqr, *kern;
	unsigned int npts, nl;
	size_t t;
	double lv[256];
	int ret = -ENOMEM, r, radius;

	sample = malloc(m * sizeof(double));
	hist = calloc(KDE_GRID, sizeof(double));
	pdf = calloc(KDE_GRID, sizeof(double));
	if (!sample || !hist || !pdf)
		goto out;
	for (i = 0; i < m; i++)
		sample[i] = x[nuq_rng_next(&seed) % n];
	qsort(sample, m, sizeof(double), cmp_double);
	/*
	 * A sample of a few thousand says little about the tails, yet the
	 * tails of a real layer (PP-OCRv4 rec has weights 100x its median
	 * magnitude) carry much of a quantizer's error.  So the kernel density
	 * describes the central 98 % of the sample, and one pass over the
	 * layer adds every value beyond it as a point mass of its own weight.
	 * The bandwidth is Silverman's robust rule on the sample.
	 */
	slo = sample[m / 100];
	shi = sample[m - 1 - m / 100];
	for (i = 0; i < m; i++) {
		mean += sample[i];
	}
	mean /= m;
	for (i = 0; i < m; i++)
		var += (sample[i] - mean) * (sample[i] - mean);
	var /= m > 1 ? m - 1 : 1;
	iqr = (sample[3 * m / 4] - sample[m / 4]) / 1.34;
	h = 0.9 * (iqr > 0 ? fmin(sqrt(var), iqr) : sqrt(var)) * pow(m, -0.2);
	if (!(h > 0)) {
		g->nlevels = 1;
		g->levels[0] = (float)mean;
		ret = 0;
		goto out;
	}
	for (t = 0; t < n; t++) {
		if (x[t] < lo)
			lo = x[t];
		if (x[t] > hi)
			hi = x[t];
	}
	lo -= 3 * h;
	hi += 3 * h;
	dx = (hi - lo) / (KDE_GRID - 1);
	for (i = 0; i < m; i++)
		if (sample[i] >= slo && sample[i] <= shi)
			hist[(unsigned int)lround((sample[i] - lo) / dx)] += 1;
	/* density = histogram convolved with the Gaussian kernel (cut at 4 h) */
	radius = (int)ceil(4 * h / dx);
	if (radius > KDE_GRID)
		radius = KDE_GRID;
	kern = malloc((radius + 1) * sizeof(*kern));
	if (!kern) {
		ret = -ENOMEM;
		goto out;
	}
	for (r = 0; r <= radius; r++)
		kern[r] = exp(-0.5 * (r * dx / h) * (r * dx / h));
	for (i = 0; i < KDE_GRID; i++) {
		int from, to;

		if (!hist[i])
			continue;
		from = (int)i - radius < 0 ? 0 : (int)i - radius;
		to = (int)i + radius >= KDE_GRID ? KDE_GRID - 1 : (int)i + radius;
		for (r = from; r <= to; r++)
			pdf[r] += hist[i] * kern[r > (int)i ? r - (int)i : (int)i - r];
	}
	free(kern);
	/* a kernel has mass h sqrt(2 pi) / dx grid units; a tail value m / n of that */
	tail = (double)m / n * h * sqrt(2 * M_PI) / dx;
	for (t = 0; t < n; t++)
		if (x[t] < slo || x[t] > shi)
			pdf[(unsigned int)lround((x[t] - lo) / dx)] += tail;
	/*
	 * Lloyd-Max from equal-probability starting levels stalls in a local
	 * optimum when a few far outliers carry much of the error (real layers
	 * have them: PP-OCRv4 rec has weights 100x its median magnitude).  The
	 * tabulated density is a weighted point set, so its optimal quantizer
	 * - the global Lloyd-Max solution for this density - comes from the
	 * exact DP, at a cost set by the grid, not by the layer.
	 */
	for (i = 0, npts = 0; i < KDE_GRID; i++) {
		if (pdf[i] > 0) {
			hist[npts] = lo + i * dx;
			pdf[npts++] = pdf[i];
		}
	}
	ret = nuq_kmeans_dp(hist, pdf, npts, k, lv, &nl);
	if (!ret) {
		g->nlevels = 0;
		for (i = 0; i < nl; i++)
			if (!g->nlevels || (float)lv[i] > g->levels[g->nlevels - 1])
				g->levels[g->nlevels++] = (float)lv[i];
	}
out:
	free(sample);
	free(hist);
	free(pdf);
	return ret;
}
