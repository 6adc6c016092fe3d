// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * nuq integer convolution core: requantization, gemmlowp/TFLite style.
 *
 *   x = acc * 2^max(shift, 0), saturated to 32 bits
 *   y = srdhm(x, multiplier)                 (round half away from zero)
 *   r = rounding_rshift(y, max(-shift, 0))   (round half away from zero)
 *
 * See Documentation/conv-job.rst for worked examples.
 */

#include "nuq_conv.h"

#define NUQ_S32_MAX	0x7fffffff
#define NUQ_S32_MIN	(-NUQ_S32_MAX - 1)

int nuq_requant_ok(__s32 multiplier, __s32 shift)
{
	return (multiplier == 0 || multiplier >= (1 << 30)) && shift >= -31 && shift <= 30;
}

/* Saturating rounding doubling high multiply: round(a * b / 2^31). */
__s32 nuq_srdhm(__s32 a, __s32 b)
{
	__s64 ab, t;

	if (a == NUQ_S32_MIN && b == NUQ_S32_MIN)
		return NUQ_S32_MAX;
	ab = (__s64)a * b;
	/* Nudge by half, then divide truncating toward zero. */
	t = ab + (ab >= 0 ? (1LL << 30) : 1 - (1LL << 30));
	return (__s32)(t >= 0 ? t >> 31 : -((-t) >> 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero; 0 <= exponent <= 31. */
__s32 nuq_rounding_rshift(__s32 x, int exponent)
{
	__s32 mask = (__s32)((1LL << exponent) - 1);
	__s32 rem = x & mask;
	__s32 threshold = (mask >> 1) + (x < 0 ? 1 : 0);

	return (x >> exponent) + (rem > threshold ? 1 : 0);
}

__s32 nuq_requantize(__s32 acc, __s32 multiplier, __s32 shift)
{
	__s64 x = acc;

	if (shift > 0) {
		x *= 1LL << shift;
		if (x > NUQ_S32_MAX)
			x = NUQ_S32_MAX;
		if (x < NUQ_S32_MIN)
			x = NUQ_S32_MIN;
	}
	return nuq_rounding_rshift(nuq_srdhm((__s32)x, multiplier), shift < 0 ? -shift : 0);
}
