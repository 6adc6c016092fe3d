// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq quantization: shared helpers - names, error measures, nearest
 * level assignment.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <nuq/quant.h>

#include "quant_priv.h"

static const char *const names[NUQ_Q_COUNT] = {
	[NUQ_Q_UNIFORM_SYM] = "uniform", [NUQ_Q_UNIFORM_AFFINE] = "affine",
	[NUQ_Q_DBC] = "dbc", [NUQ_Q_ENQ] = "enq", [NUQ_Q_KNQ] = "knq", [NUQ_Q_KDE] = "kde",
	[NUQ_Q_OPT] = "opt", [NUQ_Q_MINIFLOAT] = "minifloat", [NUQ_Q_ASD] = "asd",
	[NUQ_Q_ASD1] = "asd1", [NUQ_Q_CSD] = "csd",
};

const char *nuq_qmethod_name(enum nuq_qmethod m)
{
	return (unsigned int)m < NUQ_Q_COUNT ? names[m] : "unknown";
}

const char *nuq_gran_name(enum nuq_granularity g)
{
	static const char *const gnames[NUQ_GRAN_COUNT] = {
		[NUQ_GRAN_LAYER] = "layer", [NUQ_GRAN_CHANNEL] = "channel",
		[NUQ_GRAN_GROUP] = "group", [NUQ_GRAN_CHANNEL_SCALED] = "shared",
	};

	return (unsigned int)g < NUQ_GRAN_COUNT ? gnames[g] : "unknown";
}

int nuq_qmethod_parse(const char *name, enum nuq_qmethod *m)
{
	int i;

	for (i = 0; i < NUQ_Q_COUNT; i++) {
		if (!strcmp(name, names[i])) {
			*m = i;
			return 0;
		}
	}
	return -EINVAL;
}

double nuq_mse(const float *a, const float *b, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
	return n ? s / n : 0;
}

double nuq_sqnr_db(const float *ref, const float *q, size_t n)
{
	double sig = 0, err = nuq_mse(ref, q, n) * n;
	size_t i;

	for (i = 0; i < n; i++)
		sig += (double)ref[i] * ref[i];
	if (err == 0)
		return INFINITY;
	return 10 * log10(sig / err);
}

/* Binary search over the midpoints between sorted levels. */
unsigned int nuq_nearest(float v, const float *levels, unsigned int n)
{
	unsigned int lo = 0, hi = n - 1;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (v > 0.5f * (levels[mid] + levels[mid + 1]))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void nuq_assign_nearest(const float *x, size_t n, const float *levels, unsigned int nlevels,
			uint8_t *idx)
{
	size_t i;

	for (i = 0; i < n; i++)
		idx[i] = nuq_nearest(x[i], levels, nlevels);
}

/* Error of quantizing x to the nearest of the levels. */
double nuq_levels_sse(const float *x, size_t n, const float *levels, unsigned int nlevels)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double d = x[i] - levels[nuq_nearest(x[i], levels, nlevels)];

		s += d * d;
	}
	return s;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

void nuq_sort_floats(float *x, size_t n)
{
	qsort(x, n, sizeof(*x), cmp_float);
}

uint64_t nuq_rng_next(uint64_t *s)
{
	/* splitmix64: small, fast, good enough for sampling and seeding */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double nuq_rng_uniform(uint64_t *s)
{
	return (nuq_rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}
