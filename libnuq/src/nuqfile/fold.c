// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: a layer that carries the BatchNormalization after its Conv
 * (NUQ_QLAYER_BN_FOLDED), or its Conv's own bias (NUQ_QLAYER_BIAS).  A
 * folded scale is already in the weights; the bias is kept here in
 * float16, the precision the file stores, so what the quantizer measures
 * is what every reader computes.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include <nuq/nuqfile.h>

#define HALF_MAX	65504.0f

int nuq_folded_bias_fits(const float *bias, size_t n)
{
	size_t r;

	for (r = 0; r < n; r++)
		if (!isfinite(bias[r]) || fabsf(bias[r]) > HALF_MAX)
			return 0;
	return 1;
}

static int set_bias16(struct nuq_qlayer *l, const float *bias, uint32_t flag)
{
	uint16_t *b;
	size_t r;

	if (!nuq_folded_bias_fits(bias, l->rows))
		return -ERANGE;
	b = malloc((l->rows ? l->rows : 1) * sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (r = 0; r < l->rows; r++)
		b[r] = nuq_float_to_half(bias[r]);
	free(l->bias16);
	l->bias16 = b;
	l->flags = (l->flags & ~NUQ_QLAYER_HAS_BIAS) | flag;
	return 0;
}

int nuq_qlayer_set_folded_bias(struct nuq_qlayer *l, const float *bias)
{
	return set_bias16(l, bias, NUQ_QLAYER_BN_FOLDED);
}

int nuq_qlayer_set_bias(struct nuq_qlayer *l, const float *bias)
{
	return set_bias16(l, bias, NUQ_QLAYER_BIAS);
}

float nuq_qlayer_bias(const struct nuq_qlayer *l, size_t r)
{
	return l->bias16 ? nuq_half_to_float(l->bias16[r]) : 0.0f;
}
