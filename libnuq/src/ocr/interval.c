// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: confidence intervals for what nuq eval measures.  Character
 * accuracy is a ratio (edits over characters) summed over text lines,
 * and the characters of a line share its font, size, noise and words:
 * their errors come in clusters, so a binomial interval over characters
 * would be too narrow.  The lines are the independent units; the
 * bootstrap resamples lines, and the delta method gives the same
 * estimator's standard error from the per-line residuals.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include <nuq/ocr.h>

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Stratified delta-method variance of sum(num)/sum(den). */
static double ratio_se(const double *num, const double *den, const size_t *end, size_t nstrata,
		       double ratio, double total_den)
{
	size_t k, i, start = 0;
	double var = 0;

	for (k = 0; k < nstrata; start = end[k++]) {
		size_t m = end[k] - start;
		double mean = 0, ss = 0;

		if (m < 2)
			continue;
		for (i = start; i < end[k]; i++)
			mean += num[i] - ratio * den[i];
		mean /= m;
		for (i = start; i < end[k]; i++) {
			double z = num[i] - ratio * den[i] - mean;

			ss += z * z;
		}
		var += ss * m / (m - 1);
	}
	return sqrt(var) / total_den;
}

int nuq_ratio_interval(const double *num, const double *den, size_t n, const size_t *strata_end,
		       size_t nstrata, unsigned int resamples, double level, uint64_t seed,
		       struct nuq_interval *out)
{
	size_t one = n, k, i, start, lo, hi;
	double sn = 0, sd = 0, *est;
	unsigned int b, kept = 0;

	if (!strata_end || !nstrata) {
		strata_end = &one;
		nstrata = 1;
	}
	if (!n || !num || !den || !out || resamples < 10 || !(level > 0 && level < 1) ||
	    strata_end[nstrata - 1] != n)
		return -EINVAL;
	for (k = 0, start = 0; k < nstrata; start = strata_end[k++])
		if (strata_end[k] < start)
			return -EINVAL;
	for (i = 0; i < n; i++) {
		sn += num[i];
		sd += den[i];
	}
	if (!(sd > 0))
		return -EINVAL;
	est = malloc(resamples * sizeof(*est));
	if (!est)
		return -ENOMEM;
	out->est = sn / sd;
	out->se = ratio_se(num, den, strata_end, nstrata, out->est, sd);
	for (b = 0; b < resamples; b++) {
		double rn = 0, rd = 0;

		for (k = 0, start = 0; k < nstrata; start = strata_end[k++]) {
			size_t m = strata_end[k] - start;

			for (i = 0; i < m; i++) {
				size_t j = start + splitmix(&seed) % m;

				rn += num[j];
				rd += den[j];
			}
		}
		/* A resample of lines without characters says nothing. */
		if (rd > 0)
			est[kept++] = rn / rd;
	}
	if (!kept) {
		free(est);
		return -EINVAL;
	}
	qsort(est, kept, sizeof(*est), cmp_double);
	lo = (size_t)floor((1 - level) / 2 * kept);
	hi = (size_t)ceil((1 + level) / 2 * kept) - 1;
	out->lo = est[lo];
	out->hi = est[hi < kept ? hi : kept - 1];
	free(est);
	return 0;
}
