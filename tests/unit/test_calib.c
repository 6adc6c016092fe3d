// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Activation ranges on data far from zero (issue 16): KL calibration
 * once scored "clip everything" as a perfect fit when the values sat in
 * one bin of the |x| histogram's low end, and every image's output became
 * one constant.  Every method must keep such a tensor's values apart.
 * (test_qexec.c's calibration_methods checks that KL still clips a
 * Gaussian's far outlier.)
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "qexec/calib.h"

/* Distinct uint8 codes that the range [lo, hi] gives the @n values of @x. */
static int distinct_codes(const float *x, size_t n, float lo, float hi)
{
	int seen[256] = { 0 }, k = 0;
	float scale;
	int32_t zp;
	size_t i;

	nuq_act_qparams(lo, hi, &scale, &zp);
	for (i = 0; i < n; i++) {
		long q = lroundf(x[i] / scale) + zp;

		q = q < 0 ? 0 : q > 255 ? 255 : q;
		k += !seen[q];
		seen[q] = 1;
	}
	return k;
}

/* Values spread evenly over [a, b] (a heat map's offset band, logits far below 0). */
static void check_band(float a, float b)
{
	static float x[20000];
	struct nuq_act_stats s = { 0 };
	enum nuq_calib c;
	double ideal = 255.0 * (b - a) / fmax(fabs(a), fabs(b));
	float lo, hi;
	size_t i;

	for (i = 0; i < 20000; i++)
		x[i] = a + (b - a) * (float)i / 19999.0f;
	nuq_act_stats_add(&s, x, 20000);
	for (c = 0; c < NUQ_CALIB_COUNT; c++) {
		nuq_act_range(&s, c, &lo, &hi);
		/* The range reaches the far end of the data, whichever side it is on. */
		if (b > 0)
			assert_true(hi >= 0.9f * b);
		else
			assert_true(lo <= 0.9f * a);
		/*
		 * Most of the 8-bit steps the band gets in a range from 0 to
		 * its far end stay in use (the layer-wise method's step is
		 * rounded up to a power of two: up to twice as coarse).
		 */
		assert_true(distinct_codes(x, 20000, lo, hi) >= 0.45 * ideal);
	}
	nuq_act_stats_free(&s);
}

static void band_above_zero(void **state)
{
	(void)state;
	check_band(5.0f, 10.0f);
	check_band(0.5f, 0.9f);
}

static void band_below_zero(void **state)
{
	(void)state;
	check_band(-629.0f, -500.0f);
}

/*
 * A ReLU's output: half exact zeros, the rest exponential (mean 1, up
 * to 9.2).  The zeros are exact in any range; their spike let KL clip
 * at 2.2 (1.2 before Q left out the clipped mass).
 */
static void relu_zeros(void **state)
{
	static float x[20000];
	struct nuq_act_stats s = { 0 };
	float lo, hi;
	size_t i;

	(void)state;
	for (i = 0; i < 20000; i++)
		x[i] = i % 2 ? -logf((float)(i + 1) / 20001.0f) : 0.0f;
	nuq_act_stats_add(&s, x, 20000);
	nuq_act_range(&s, NUQ_CALIB_KL, &lo, &hi);
	assert_true(lo == 0 && hi >= 0.6 * s.max);
	nuq_act_stats_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(band_above_zero),
		cmocka_unit_test(band_below_zero),
		cmocka_unit_test(relu_zeros),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
