// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: real multipliers as the core's fixed-point (multiplier, shift).
 */
#include <errno.h>
#include <math.h>

#include <nuq/conv.h>

int nuq_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift)
{
	int exp;
	double q;
	long long m;

	if (!(real > 0) || !isfinite(real))
		return -ERANGE;
	/* real = q * 2^exp with q in [0.5, 1). */
	q = frexp(real, &exp);
	m = llround(q * 2147483648.0);	/* q * 2^31 */
	if (m == 2147483648LL) {	/* rounded up to 1.0 */
		m /= 2;
		exp++;
	}
	if (exp < -31 || exp > 30)
		return -ERANGE;
	*multiplier = (int32_t)m;
	*shift = exp;
	return 0;
}
