// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * nuq_ratio_interval(): the interval nuq eval reports for character
 * accuracy.  Its width must follow the data - binomial for independent
 * characters, sqrt(cluster size) wider when a line's characters fail
 * together - and a paired difference of identical systems is exactly 0.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <nuq/ocr.h>

#define N	1000

/* 1000 single-character samples, 100 of them wrong: the binomial case. */
static void independent_characters(void **state)
{
	static double num[N], den[N];
	struct nuq_interval r, again;
	double se = sqrt(0.1 * 0.9 / N);
	size_t i;

	(void)state;
	for (i = 0; i < N; i++) {
		num[i] = i % 10 == 3;
		den[i] = 1;
	}
	assert_int_equal(nuq_ratio_interval(num, den, N, NULL, 0, 4000, 0.95, 1, &r), 0);
	assert_true(fabs(r.est - 0.1) < 1e-12);
	assert_true(fabs(r.se - se) < 0.02 * se);
	assert_true(r.lo < 0.1 && r.hi > 0.1);
	/* Within 10% of the normal interval's width. */
	assert_true(fabs((r.hi - r.lo) - 2 * 1.96 * se) < 0.1 * 2 * 1.96 * se);
	assert_int_equal(nuq_ratio_interval(num, den, N, NULL, 0, 4000, 0.95, 1, &again), 0);
	assert_true(again.lo == r.lo && again.hi == r.hi);
}

/* 100 lines of 10 characters; 10 lines entirely wrong: 10 times fewer independent units. */
static void clustered_lines(void **state)
{
	static double num[100], den[100];
	struct nuq_interval r;
	double binomial = 2 * 1.96 * sqrt(0.1 * 0.9 / 1000);
	size_t i;

	(void)state;
	for (i = 0; i < 100; i++) {
		num[i] = i % 10 == 7 ? 10 : 0;
		den[i] = 10;
	}
	assert_int_equal(nuq_ratio_interval(num, den, 100, NULL, 0, 4000, 0.95, 2, &r), 0);
	assert_true(fabs(r.est - 0.1) < 1e-12);
	/* sqrt(10) = 3.16 times the binomial width over 1000 characters. */
	assert_true(r.hi - r.lo > 2.7 * binomial && r.hi - r.lo < 3.6 * binomial);
	assert_true(fabs(r.se - sqrt(10) * binomial / (2 * 1.96)) < 0.05 * r.se);
}

/* Two systems with the same errors: the paired difference is 0, no spread. */
static void paired_and_strata(void **state)
{
	double num[6] = { 0, 0, 0, 0, 0, 0 }, den[6] = { 5, 7, 3, 4, 9, 2 };
	double two[6] = { 1, 0, 2, 4, 1, 0 };
	size_t strata[2] = { 4, 6 }, bad[2] = { 4, 5 };
	struct nuq_interval r;

	(void)state;
	assert_int_equal(nuq_ratio_interval(num, den, 6, strata, 2, 500, 0.95, 3, &r), 0);
	assert_true(r.est == 0 && r.lo == 0 && r.hi == 0 && r.se == 0);
	/* The estimate is the pooled ratio, whatever the strata. */
	assert_int_equal(nuq_ratio_interval(two, den, 6, strata, 2, 500, 0.95, 3, &r), 0);
	assert_true(fabs(r.est - 8.0 / 30) < 1e-12);
	assert_true(r.lo <= r.est && r.est <= r.hi && r.lo < r.hi);
	/* Bad input. */
	assert_int_equal(nuq_ratio_interval(two, den, 0, NULL, 0, 500, 0.95, 3, &r), -EINVAL);
	assert_int_equal(nuq_ratio_interval(two, den, 6, bad, 2, 500, 0.95, 3, &r), -EINVAL);
	assert_int_equal(nuq_ratio_interval(two, den, 6, NULL, 0, 500, 1.5, 3, &r), -EINVAL);
	assert_int_equal(nuq_ratio_interval(two, den, 6, NULL, 0, 5, 0.95, 3, &r), -EINVAL);
	assert_int_equal(nuq_ratio_interval(two, num, 6, NULL, 0, 500, 0.95, 3, &r), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(independent_characters),
		cmocka_unit_test(clustered_lines),
		cmocka_unit_test(paired_and_strata),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
