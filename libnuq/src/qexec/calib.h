/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: statistics of one activation tensor over a calibration set,
 * and the ranges the calibration methods derive from them.
 */
#ifndef NUQ_CALIB_H
#define NUQ_CALIB_H

#include <stddef.h>
#include <stdint.h>
#include <nuq/qexec.h>

/* Values kept per tensor (a uniform reservoir sample of everything seen). */
#define NUQ_CALIB_SAMPLE	32768

struct nuq_act_stats {
	double min, max, sum, sumsq;
	uint64_t count;
	float *sample;
	size_t nsample;
	uint64_t rng;
};

void nuq_act_stats_add(struct nuq_act_stats *s, const float *x, size_t n);
void nuq_act_stats_free(struct nuq_act_stats *s);
/*
 * The real range [*lo, *hi] to quantize to 8 bits; it always contains 0
 * and is never empty (a tensor that was always zero gets a tiny range,
 * not an infinite scale).
 */
void nuq_act_range(const struct nuq_act_stats *s, enum nuq_calib method, float *lo, float *hi);
/* uint8 scale and zero point of a range. */
void nuq_act_qparams(float lo, float hi, float *scale, int32_t *zp);

#endif
