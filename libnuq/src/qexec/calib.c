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
#define SHRINKS		96	/* candidate ranges: max * 0.96^i, down to 2% */

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
 * KL(P || Q) for clipping magnitudes at bin @nb of the |x| histogram
 * (TensorRT's entropy calibration): P is the histogram with everything
 * beyond piled into the last bin; Q is what 8 bits keep of the values
 * inside the range, hist[0..nb) merged into @levels quantization cells
 * and spread evenly over each cell's non-empty bins.  Q must not see the
 * clipped mass: built from P (with the pile), it matched P exactly
 * wherever all the mass sat in one bin, so a range far below the data
 * (everything clipped, every value the same) scored a divergence of 0
 * and won.  Mass P has where Q has none costs log(p / EPS).
 */
#define KL_EPS	1e-10

static double clip_kl(const double *hist, int nb, int levels)
{
	double p[HIST_BINS], q[HIST_BINS], ptot = 0, qtot = 0, kl = 0;
	int i, j;

	if (nb < levels)
		return INFINITY;
	for (i = 0; i < nb; i++)
		p[i] = hist[i];
	for (i = nb; i < HIST_BINS; i++)
		p[nb - 1] += hist[i];
	for (j = 0; j < levels; j++) {
		int s = j * nb / levels, e = (j + 1) * nb / levels, nz = 0;
		double m = 0;

		for (i = s; i < e; i++) {
			m += hist[i];
			nz += hist[i] > 0;
		}
		for (i = s; i < e; i++)
			q[i] = hist[i] > 0 ? m / nz : 0;
	}
	for (i = 0; i < nb; i++) {
		ptot += p[i];
		qtot += q[i];
	}
	if (ptot <= 0 || qtot <= 0)
		return INFINITY;
	for (i = 0; i < nb; i++) {
		double pi = p[i] / ptot, qi = q[i] / qtot;

		if (pi > 0)
			kl += pi * log(pi / (qi > 0 ? qi : KL_EPS));
	}
	return kl;
}

/* The KL-optimal clipping magnitude T; the range is [-T, T] cut to the data. */
static void kl_range(const float *v, size_t n, double min, double max, float *lo, float *hi)
{
	double hist[HIST_BINS] = { 0 }, amax = fmax(fabs(min), fabs(max)), step, best = INFINITY;
	int levels = min < 0 && max > 0 ? LEVELS / 2 : LEVELS, nb, bestnb = HIST_BINS;
	size_t i;

	if (!(amax > 0))
		return;
	step = amax / HIST_BINS;
	/*
	 * Exact zeros (a ReLU's whole negative half) are exact in any range:
	 * left in, their spike in bin 0 outweighs the tail, and the range
	 * clipped a detector's ReLU outputs to a third (SQNR 8 dB after one
	 * layer).
	 */
	for (i = 0; i < n; i++) {
		int b = (int)(fabs(v[i]) / step);

		if (v[i] == 0)
			continue;
		hist[b >= HIST_BINS ? HIST_BINS - 1 : b] += 1;
	}
	for (nb = levels; nb <= HIST_BINS; nb += 16) {
		double e = clip_kl(hist, nb, levels);

		if (e < best) {
			best = e;
			bestnb = nb;
		}
	}
	*hi = (float)fmin(max, bestnb * step);
	*lo = (float)fmax(min, -bestnb * step);
}

void nuq_act_range(const struct nuq_act_stats *s, enum nuq_calib method, float *lo, float *hi)
{
	float *v = NULL, bl = 0, bh = 0;
	double best = INFINITY;
	size_t n = s->nsample;
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
			float f = powf(0.96f, (float)k);
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
		kl_range(v, n, s->min, s->max, lo, hi);
	}
	free(v);
}
