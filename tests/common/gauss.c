// SPDX-License-Identifier: GPL-2.0
/* Box-Muller on the tests' PRNG: reproducible Gaussian weights. */
#include <math.h>

#include "conv_ref.h"
#include "gauss.h"

void test_gaussian(float *x, size_t n, uint64_t seed, double sigma)
{
	struct test_rng r = { seed };
	size_t i;

	for (i = 0; i < n; i++) {
		double u = (test_rand(&r) + 1.0) / 4294967297.0, v = test_rand(&r) / 4294967296.0;

		x[i] = (float)(sigma * sqrt(-2 * log(u)) * cos(2 * M_PI * v));
	}
}
