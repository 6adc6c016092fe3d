// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq quantization: k-means on a line.
 *
 * KNQ (Sun, Lin, Wang): k-means++ seeding from a seeded PRNG, then Lloyd
 * iterations.  On sorted values each Lloyd step is a binary search for the
 * boundaries plus prefix sums, so a step costs O(k log n), not O(n k).
 *
 * OPT: the exact optimum by dynamic programming over sorted (weighted)
 * values, using the monotonicity of the optimal split points (divide and
 * conquer), O(k n log n).  Layers with more than NUQ_OPT_BINS values are
 * first reduced to a weighted histogram of that many bins.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "quant_priv.h"

#define NUQ_OPT_BINS	4096

/* prefix sums over sorted values: cnt, sum, sum of squares */
struct prefix {
	double *w, *s, *q;
};

static int prefix_init(struct prefix *p, const double *x, const double *wt, size_t n)
{
	size_t i;

	p->w = calloc(n + 1, sizeof(double));
	p->s = calloc(n + 1, sizeof(double));
	p->q = calloc(n + 1, sizeof(double));
	if (!p->w || !p->s || !p->q)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		double w = wt ? wt[i] : 1;

		p->w[i + 1] = p->w[i] + w;
		p->s[i + 1] = p->s[i] + w * x[i];
		p->q[i + 1] = p->q[i] + w * x[i] * x[i];
	}
	return 0;
}

static void prefix_free(struct prefix *p)
{
	free(p->w);
	free(p->s);
	free(p->q);
}

/* SSE of values [i, j) around their weighted mean */
static double cost(const struct prefix *p, size_t i, size_t j)
{
	double w = p->w[j] - p->w[i], s = p->s[j] - p->s[i];

	if (w <= 0)
		return 0;
	return fmax(0, (p->q[j] - p->q[i]) - s * s / w);
}

struct dp {
	const struct prefix *p;
	double *prev, *cur;
	uint32_t *split;	/* this row's split points */
};

/* cur[j] for j in [jl, jr] with the optimal i in [il, ir]; cur[j] covers values [0, j). */
static void dp_solve(struct dp *d, size_t jl, size_t jr, size_t il, size_t ir)
{
	size_t jm = (jl + jr) / 2, i, best_i = il;
	double best = INFINITY;

	if (jl > jr)
		return;
	for (i = il; i <= ir && i < jm; i++) {
		double c = d->prev[i] + cost(d->p, i, jm);

		if (c < best) {
			best = c;
			best_i = i;
		}
	}
	d->cur[jm] = best;
	d->split[jm] = best_i;
	if (jm > jl)
		dp_solve(d, jl, jm - 1, il, best_i);
	dp_solve(d, jm + 1, jr, best_i, ir);
}

int nuq_kmeans_dp(const double *x, const double *wt, size_t n, unsigned int k,
		  double *levels, unsigned int *nlevels)
{
	struct prefix p;
	struct dp d;
	uint32_t *splits;
	size_t m, j, end;
	int ret;

	if (!n || !k)
		return -EINVAL;
	if (k > n)
		k = n;
	ret = prefix_init(&p, x, wt, n);
	d.prev = calloc(n + 1, sizeof(double));
	d.cur = calloc(n + 1, sizeof(double));
	splits = calloc((size_t)k * (n + 1), sizeof(uint32_t));
	if (ret || !d.prev || !d.cur || !splits) {
		ret = -ENOMEM;
		goto out;
	}
	d.p = &p;
	for (j = 1; j <= n; j++)
		d.prev[j] = cost(&p, 0, j);
	for (m = 1; m < k; m++) {
		d.split = splits + m * (n + 1);
		d.cur[0] = 0;
		dp_solve(&d, m + 1, n, m, n - 1);
		memcpy(d.prev, d.cur, (n + 1) * sizeof(double));
	}
	/* walk the splits back from the last cluster */
	end = n;
	for (m = k; m-- > 0;) {
		size_t start = m ? splits[m * (n + 1) + end] : 0;
		double w = p.w[end] - p.w[start];

		levels[m] = w > 0 ? (p.s[end] - p.s[start]) / w : x[start];
		end = start;
	}
	*nlevels = k;
	ret = 0;
out:
	prefix_free(&p);
	free(d.prev);
	free(d.cur);
	free(splits);
	return ret;
}

static float *sorted_copy(const float *x, size_t n)
{
	float *s = malloc(n * sizeof(*s));

	if (s) {
		memcpy(s, x, n * sizeof(*s));
		nuq_sort_floats(s, n);
	}
	return s;
}

/* Drop duplicate levels (k > distinct values) and keep them sorted. */
static void set_levels(struct nuq_qgroup *g, const double *lv, unsigned int k)
{
	unsigned int i;

	g->nlevels = 0;
	for (i = 0; i < k; i++)
		if (!g->nlevels || (float)lv[i] > g->levels[g->nlevels - 1])
			g->levels[g->nlevels++] = (float)lv[i];
}

/*
 * Reduce sorted values to at most NUQ_OPT_BINS weighted points: equal-width
 * bins, each at the mean of its values (all values when there are fewer).
 * Returns the number of points.
 */
static size_t histogram(const float *s, size_t n, double *v, double *w)
{
	double lo = s[0], width = (s[n - 1] - s[0]) / NUQ_OPT_BINS;
	size_t m = 0, i, j;

	if (n <= NUQ_OPT_BINS) {
		for (i = 0; i < n; i++) {
			if (m && v[m - 1] == s[i]) {
				w[m - 1] += 1;
				continue;
			}
			v[m] = s[i];
			w[m++] = 1;
		}
		return m;
	}
	for (i = 0; i < n; i = j) {
		size_t b = width > 0 ? (size_t)fmin((s[i] - lo) / width, NUQ_OPT_BINS - 1) : 0;
		double sum = 0;

		for (j = i; j < n && (width <= 0 || (size_t)fmin((s[j] - lo) / width,
								 NUQ_OPT_BINS - 1) == b); j++)
			sum += s[j];
		v[m] = sum / (j - i);
		w[m++] = j - i;
	}
	return m;
}

int nuq_q_opt(const float *x, size_t n, const struct nuq_qparams *p, struct nuq_qgroup *g)
{
	float *s = sorted_copy(x, n);
	double *v = NULL, *w = NULL, lv[256];
	unsigned int k = 1u << p->bits, nl;
	size_t m;
	int ret = -ENOMEM;

	if (!s)
		return -ENOMEM;
	v = malloc(sizeof(double) * (n < NUQ_OPT_BINS ? n : NUQ_OPT_BINS));
	w = malloc(sizeof(double) * (n < NUQ_OPT_BINS ? n : NUQ_OPT_BINS));
	if (!v || !w)
		goto out;
	m = histogram(s, n, v, w);
	ret = nuq_kmeans_dp(v, w, m, k, lv, &nl);
	if (!ret)
		set_levels(g, lv, nl);
out:
	free(s);
	free(v);
	free(w);
	return ret;
}

/* Lloyd iterations on sorted values with prefix sums; returns the final SSE. */
static double lloyd_sorted(const float *s, size_t n, const struct prefix *p, double *lv,
			   unsigned int k, unsigned int iters)
{
	unsigned int it, i;
	double sse = 0;

	for (it = 0; it <= iters; it++) {
		size_t start = 0;
		int changed = 0;

		sse = 0;
		for (i = 0; i < k; i++) {
			size_t end = n;

			if (i + 1 < k) {
				double t = 0.5 * (lv[i] + lv[i + 1]);
				size_t lo = start, hi = n;

				while (lo < hi) {	/* first value above the boundary */
					size_t mid = (lo + hi) / 2;

					if (s[mid] <= t)
						lo = mid + 1;
					else
						hi = mid;
				}
				end = lo;
			}
			if (end > start) {
				double m = (p->s[end] - p->s[start]) / (p->w[end] - p->w[start]);

				/* the SSE of this partition around its means */
				sse += cost(p, start, end);
				changed |= m != lv[i];
				lv[i] = m;
			}
			start = end;
		}
		if (!changed)
			break;
	}
	return sse;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * k-means++ seeding on the m weighted points of the histogram: a point is
 * drawn with probability ~ weight x distance^2, as k-means++ on all the
 * values would, at O(m k) instead of O(n k).  Returns the number of
 * centres, sorted into @lv.
 */
static unsigned int kmeanspp(const double *v, const double *w, size_t m, unsigned int k,
			     uint64_t *seed, double *lv, double *d2)
{
	double total = 0, r;
	unsigned int c;
	size_t i;

	for (i = 0; i < m; i++)
		total += w[i];
	r = nuq_rng_uniform(seed) * total;
	for (i = 0; i + 1 < m && (r -= w[i]) > 0; i++)
		;
	lv[0] = v[i];
	for (i = 0; i < m; i++)
		d2[i] = w[i] * (v[i] - lv[0]) * (v[i] - lv[0]);
	for (c = 1; c < k; c++) {
		total = 0;
		for (i = 0; i < m; i++)
			total += d2[i];
		if (total <= 0)
			break;
		r = nuq_rng_uniform(seed) * total;
		for (i = 0; i + 1 < m && (r -= d2[i]) > 0; i++)
			;
		lv[c] = v[i];
		for (i = 0; i < m; i++) {
			double d = w[i] * (v[i] - lv[c]) * (v[i] - lv[c]);

			if (d < d2[i])
				d2[i] = d;
		}
	}
	qsort(lv, c, sizeof(double), cmp_double);
	return c;
}

/*
 * KNQ: the best of KNQ_RESTARTS k-means++ seedings, each followed by Lloyd
 * to convergence on all the values.  Lloyd on a line stalls in local
 * optima when the distribution has long tails (real weights do); a few
 * restarts are cheap because seeding works on the histogram and a Lloyd
 * step costs O(k log n).
 */
#define KNQ_RESTARTS	8

int nuq_q_knq(const float *x, size_t n, const struct nuq_qparams *p, struct nuq_qgroup *g)
{
	unsigned int k = 1u << p->bits, iters = p->iterations ? p->iterations : 300, r, c;
	size_t m = n < NUQ_OPT_BINS ? n : NUQ_OPT_BINS, i;
	uint64_t seed = p->seed ? p->seed : 1;
	float *s = sorted_copy(x, n);
	double *dx = calloc(n, sizeof(double)), *d2 = calloc(m, sizeof(double));
	double *hv = calloc(m, sizeof(double)), *hw = calloc(m, sizeof(double));
	double lv[256], best_lv[256], best = INFINITY;
	unsigned int best_k = 0;
	struct prefix pf = { 0 };
	int ret = -ENOMEM;

	if (!s || !dx || !d2 || !hv || !hw)
		goto out;
	for (i = 0; i < n; i++)
		dx[i] = s[i];
	if (prefix_init(&pf, dx, NULL, n))
		goto out;
	if (k > n)
		k = n;
	m = histogram(s, n, hv, hw);
	for (r = 0; r < KNQ_RESTARTS; r++) {
		double sse;

		c = kmeanspp(hv, hw, m, k, &seed, lv, d2);
		sse = lloyd_sorted(s, n, &pf, lv, c, iters);
		if (sse < best) {
			best = sse;
			best_k = c;
			memcpy(best_lv, lv, c * sizeof(double));
		}
	}
	qsort(best_lv, best_k, sizeof(double), cmp_double);
	set_levels(g, best_lv, best_k);
	ret = 0;
out:
	prefix_free(&pf);
	free(s);
	free(dx);
	free(d2);
	free(hv);
	free(hw);
	return ret;
}
