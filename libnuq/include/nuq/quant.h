/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: post-training weight quantization.
 *
 * Every method quantizes one group of values (a layer, an output channel,
 * or G consecutive weights) to a codebook of at most 2^bits levels plus
 * one index per value, except ASD, which gives each value two signed
 * power-of-two digits and the group a scale.  nuq_quantize_tensor() applies
 * a method at a granularity to a whole weight tensor.  See
 * Documentation/quantization.rst.
 */
#ifndef NUQ_QUANT_H
#define NUQ_QUANT_H

#include <stddef.h>
#include <stdint.h>

enum nuq_qmethod {
	NUQ_Q_UNIFORM_SYM,	/* symmetric uniform grid, level 0 included */
	NUQ_Q_UNIFORM_AFFINE,	/* uniform grid over [lo, hi] with a zero point */
	NUQ_Q_DBC,		/* symmetric uniform, dynamic-boundary clipping (Zhao et al.) */
	NUQ_Q_ENQ,		/* equal-distance non-uniform (Sun, Lin, Wang) */
	NUQ_Q_KNQ,		/* k-means, k-means++ init, seeded (Sun, Lin, Wang) */
	NUQ_Q_KDE,		/* Lloyd-Max on a Gaussian KDE of a sample (Seo & Kim) */
	NUQ_Q_OPT,		/* exact optimal 1-D k-means by dynamic programming */
	NUQ_Q_MINIFLOAT,	/* low-bit floating point, scaled per group */
	NUQ_Q_ASD,		/* scale * (+-2^a +- 2^b), at most two digits */
	NUQ_Q_ASD1,		/* scale * +-2^a, one digit */
	NUQ_Q_CSD,		/* two digits, canonical signed digit (non-adjacent) */
	NUQ_Q_COUNT,
};

enum nuq_clip {
	NUQ_CLIP_MINMAX,	/* the full range */
	NUQ_CLIP_PERCENTILE,	/* the range of the central percentile */
	NUQ_CLIP_MSE,		/* the range that minimises the squared error */
};

enum nuq_granularity {
	NUQ_GRAN_LAYER,
	NUQ_GRAN_CHANNEL,	/* per output channel (dimension 0) */
	NUQ_GRAN_GROUP,		/* per group_size consecutive weights of a channel */
	/*
	 * One codebook for the layer, fitted on the weights divided by a
	 * per-channel scale: the channels keep their own range at the cost
	 * of one scale each (which the integer job folds into its
	 * per-channel requantization multiplier).
	 */
	NUQ_GRAN_CHANNEL_SCALED,
	NUQ_GRAN_COUNT,
};

struct nuq_qparams {
	enum nuq_qmethod method;
	unsigned int bits;		/* 1-8 (ASD variants: ignored) */
	enum nuq_clip clip;		/* uniform methods */
	double percentile;		/* NUQ_CLIP_PERCENTILE, e.g. 99.9 */
	unsigned int kde_samples;	/* NUQ_Q_KDE sample size (0: 8192) */
	unsigned int iterations;	/* KNQ/KDE Lloyd iterations (0: 50) */
	uint64_t seed;			/* KNQ init and KDE sampling */
	unsigned int fp_exp_bits;	/* minifloat: exponent bits (0: from bits) */
	unsigned int asd_max_exp;	/* ASD: largest digit exponent (0: 7) */
};

/* The result for one group. */
struct nuq_qgroup {
	unsigned int nlevels;		/* codebook methods */
	float levels[256];		/* sorted ascending */
	float scale;			/* ASD variants */
};

const char *nuq_qmethod_name(enum nuq_qmethod m);
int nuq_qmethod_parse(const char *name, enum nuq_qmethod *m);
/* "layer", "channel", "group", "shared" (NUQ_GRAN_CHANNEL_SCALED). */
const char *nuq_gran_name(enum nuq_granularity g);

/*
 * Quantize @n values of @x.  Codebook methods fill g->levels and one index
 * per value into @idx; ASD variants fill g->scale and two digit bytes per
 * value into @digits (the UAPI's ASD byte format).  Pass NULL for the
 * output the method does not produce.  Returns 0 or -EINVAL/-ENOMEM.
 */
int nuq_quantize_group(const float *x, size_t n, const struct nuq_qparams *p,
		       struct nuq_qgroup *g, uint8_t *idx, uint8_t *digits);

/* Reconstruct what nuq_quantize_group() encoded. */
void nuq_dequantize_group(const struct nuq_qgroup *g, enum nuq_qmethod m, size_t n,
			  const uint8_t *idx, const uint8_t *digits, float *out);

/* Building blocks, exposed for tests and benchmarks. */
/* Exact optimal k-level quantizer of sorted values with weights (NULL: 1). */
int nuq_kmeans_dp(const double *sorted, const double *weight, size_t n, unsigned int k,
		  double *levels, unsigned int *nlevels);
/* Lloyd-Max for a density on [lo, hi] sampled at @npts points. */
int nuq_lloyd_max(double (*pdf)(double x, void *arg), void *arg, double lo, double hi,
		  unsigned int npts, unsigned int k, unsigned int iterations, double *levels);
/* Nearest level index for each value (levels sorted). */
void nuq_assign_nearest(const float *x, size_t n, const float *levels, unsigned int nlevels,
			uint8_t *idx);
/* Value of an ASD digit byte pair, in units of the scale. */
int32_t nuq_asd_value(uint8_t d0, uint8_t d1);

double nuq_mse(const float *a, const float *b, size_t n);
double nuq_sqnr_db(const float *ref, const float *q, size_t n);

/*
 * Codebook levels as fixed-point integers for the conv core: entries of
 * @width (8 or 16) bits with level ~= entry * *scale.  Returns the largest
 * absolute rounding error it introduces.
 */
double nuq_codebook_to_fixed(const float *levels, unsigned int n, unsigned int width,
			     int16_t *entries, float *scale);

/*
 * SVD of a rows x cols matrix, k = min(rows, cols): @sigma gets the k
 * singular values in descending order, @l (rows x k) U S and @r (k x cols)
 * V^T, so that a = l r.  Keeping the first columns of l and rows of r
 * gives the best approximation of that rank.
 */
int nuq_svd(const float *a, size_t rows, size_t cols, double *sigma, float *l, float *r);
/* The smallest rank that keeps @keep (0-1) of the squared singular values. */
unsigned int nuq_svd_rank_for_energy(const double *sigma, size_t k, double keep);

/*
 * A whole weight tensor: rows = output channels, cols = weights per channel.
 * NUQ_GRAN_CHANNEL_SCALED has one group (the shared codebook, in units of
 * the channel scales) and row_scales: weight (r, c) is
 * row_scales[r] * levels[idx].  Each row scale is row_base times a
 * float16 ratio in [0, 1] (row_ratio16), the form a .nuq file stores.
 */
struct nuq_qtensor {
	size_t rows, cols, group_size;	/* group_size: values per group */
	enum nuq_granularity gran;
	size_t ngroups;
	enum nuq_qmethod method;
	struct nuq_qgroup *groups;
	uint8_t *idx;			/* codebook methods: rows * cols */
	uint8_t *digits;		/* ASD variants: 2 * rows * cols */
	float *row_scales;		/* NUQ_GRAN_CHANNEL_SCALED */
	uint16_t *row_ratio16;		/* row_scales[r] = row_base * ratio */
	float row_base;
};

/* IEEE binary16 <-> float, round to nearest even (subnormals kept). */
uint16_t nuq_float_to_half(float f);
float nuq_half_to_float(uint16_t h);

int nuq_quantize_tensor(const float *w, size_t rows, size_t cols, enum nuq_granularity gran,
			size_t group_size, const struct nuq_qparams *p, struct nuq_qtensor *t);
void nuq_qtensor_dequantize(const struct nuq_qtensor *t, float *out);
void nuq_qtensor_free(struct nuq_qtensor *t);

#endif
