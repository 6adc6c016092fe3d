// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: activation calibration methods.
 *
 * Every method but min-max works on a uniform sample of the tensor's
 * values over the whole calibration set (reservoir sampling), so memory
 * stays bounded however many inputs are used.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"

#define HIST_BINS	2048
#define LEVELS		256
#define SHRINKS		24	/* candidate ranges: max * 0.97^i */

static const char *const calib_names[NUQ_CALIB_COUNT] = {
	"minmax", "percentile", "mse", "kl", "layer",
};

const char *nuq_calib_name(enum nuq_calib c)
{
	return c < NUQ_CALIB_COUNT ? calib_names[c] : "?";
}

int nuq_calib_parse(const char *name, enum nuq_calib *c)
{
	unsigned int i;

	for (i = 0; i < NUQ_CALIB_COUNT; i++)
		if (!strcmp(name, calib_names[i])) {
			*c = (enum nuq_calib)i;
			return 0;
		}
	return -EINVAL;
}

static uint64_t next_rand(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ULL;
	uint64_t z = *s;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void nuq_act_stats_add(struct nuq_act_stats *s, const float *x, size_t n)
{
	size_t i;

	if (!s->sample) {
		s->sample = malloc(NUQ_CALIB_SAMPLE * sizeof(float));
		if (!s->sample)
			return;
		s->min = INFINITY;
		s->max = -INFINITY;
		s->rng = 0x6e75712d63616c69ULL;
	}
	for (i = 0; i < n; i++) {
		float v = x[i];

		if (!isfinite(v))
			continue;
		s->min = v < s->min ? v : s->min;
		s->max = v > s->max ? v : s->max;
		s->sum += v;
		s->sumsq += (double)v * v;
		s->count++;
		if (s->nsample < NUQ_CALIB_SAMPLE) {
			s->sample[s->nsample++] = v;
		} else {
			uint64_t j = next_rand(&s->rng) % s->count;

			if (j < NUQ_CALIB_SAMPLE)
				s->sample[j] = v;
		}
	}
}

void nuq_act_stats_free(struct nuq_act_stats *s)
{
	free(s->sample);
	memset(s, 0, sizeof(*s));
}

void nuq_act_qparams(float lo, float hi, float *scale, int32_t *zp)
{
	float sc;
	long z;

	lo = lo > 0 ? 0 : lo;
	hi = hi < 0 ? 0 : hi;
	/* A tensor that was always 0: any scale represents it; keep it finite. */
	if (!(hi - lo > 1e-20f))
		hi = lo + 1e-6f;
	sc = (hi - lo) / (LEVELS - 1);
	z = lroundf(-lo / sc);
	*zp = (int32_t)(z < 0 ? 0 : z > LEVELS - 1 ? LEVELS - 1 : z);
	*scale = sc;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

/* Squared error of quantizing the sample to [lo, hi] with 256 levels. */
static double range_mse(const float *v, size_t n, float lo, float hi)
{
	float scale;
	int32_t zp;
	double e = 0;
	size_t i;

	nuq_act_qparams(lo, hi, &scale, &zp);
	for (i = 0; i < n; i++) {
		long q = lroundf(v[i] / scale) + zp;
		float r;

		q = q < 0 ? 0 : q > LEVELS - 1 ? LEVELS - 1 : q;
		r = (float)(q - zp) * scale;
		e += (double)(r - v[i]) * (r - v[i]);
	}
	return e;
}

/*
 * KL(P || Q) for the range [lo, hi]: P is the histogram with the values
 * outside the range piled into the end bins, Q the same mass spread
 * evenly over the non-empty bins of each of the 256 quantization cells.
 */
static double range_kl(const double *hist, double hlo, double hstep, float lo, float hi)
{
	double p[HIST_BINS], q[HIST_BINS], tot = 0, kl = 0;
	int b0 = (int)floor((lo - hlo) / hstep), b1 = (int)ceil((hi - hlo) / hstep), i, j, nb;

	b0 = b0 < 0 ? 0 : b0;
	b1 = b1 > HIST_BINS ? HIST_BINS : b1;
	nb = b1 - b0;
	if (nb < 2)
		return INFINITY;
	for (i = 0; i < nb; i++)
		p[i] = hist[b0 + i];
	for (i = 0; i < b0; i++)
		p[0] += hist[i];
	for (i = b1; i < HIST_BINS; i++)
		p[nb - 1] += hist[i];
	for (i = 0; i < nb; i++)
		tot += p[i];
	if (tot <= 0)
		return INFINITY;
	for (j = 0; j < LEVELS; j++) {
		int s = j * nb / LEVELS, e = (j + 1) * nb / LEVELS, nz = 0;
		double m = 0;

		for (i = s; i < e; i++) {
			m += p[i];
			nz += p[i] > 0;
		}
		for (i = s; i < e; i++)
			q[i] = p[i] > 0 ? m / nz : 0;
	}
	for (i = 0; i < nb; i++)
		if (p[i] > 0)
			kl += p[i] / tot * log((p[i] / tot) / (q[i] > 0 ? q[i] / tot : 1e-12));
	return kl;
}

void nuq_act_range(const struct nuq_act_stats *s, enum nuq_calib method, float *lo, float *hi)
{
	float *v = NULL, bl = 0, bh = 0;
	double best = INFINITY;
	size_t n = s->nsample, i;
	int k;

	*lo = s->count ? (float)s->min : 0;
	*hi = s->count ? (float)s->max : 0;
	if (method == NUQ_CALIB_MINMAX || n < 16)
		return;
	if (method == NUQ_CALIB_LAYER) {
		double mean = s->sum / s->count;
		double sd = sqrt(fmax(s->sumsq / s->count - mean * mean, 0));
		float l = (float)fmax(s->min, mean - 4 * sd), h = (float)fmin(s->max, mean + 4 * sd);
		float scale;
		int32_t zp;

		/* One power-of-two step per layer: requantization by shifts alone. */
		nuq_act_qparams(l, h, &scale, &zp);
		scale = exp2f(ceilf(log2f(scale)));
		*lo = (float)-zp * scale;
		*hi = (float)(LEVELS - 1 - zp) * scale;
		return;
	}
	v = malloc(n * sizeof(float));
	if (!v)
		return;
	memcpy(v, s->sample, n * sizeof(float));
	qsort(v, n, sizeof(float), cmp_float);
	if (method == NUQ_CALIB_PERCENTILE) {
		size_t cut = (size_t)(n * 0.00005);

		*lo = v[cut];
		*hi = v[n - 1 - cut];
	} else if (method == NUQ_CALIB_MSE) {
		for (k = 0; k < SHRINKS; k++) {
			float f = powf(0.97f, (float)k);
			double e = range_mse(v, n, (float)s->min * f, (float)s->max * f);

			if (e < best) {
				best = e;
				bl = (float)s->min * f;
				bh = (float)s->max * f;
			}
		}
		*lo = bl;
		*hi = bh;
	} else if (method == NUQ_CALIB_KL) {
		double hist[HIST_BINS] = { 0 }, hlo = v[0], hstep = (v[n - 1] - v[0]) / HIST_BINS;

		if (hstep > 0) {
			for (i = 0; i < n; i++) {
				int b = (int)((v[i] - hlo) / hstep);

				hist[b >= HIST_BINS ? HIST_BINS - 1 : b] += 1;
			}
			for (k = 0; k < SHRINKS; k++) {
				float f = powf(0.97f, (float)k);
				double e = range_kl(hist, hlo, hstep, (float)s->min * f, (float)s->max * f);

				if (e < best) {
					best = e;
					bl = (float)s->min * f;
					bh = (float)s->max * f;
				}
			}
			*lo = bl;
			*hi = bh;
		}
	}
	free(v);
}
