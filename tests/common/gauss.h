/* SPDX-License-Identifier: GPL-2.0 */
/* Gaussian test data from the tests' seeded PRNG. */
#ifndef NUQ_TEST_GAUSS_H
#define NUQ_TEST_GAUSS_H

#include <stddef.h>
#include <stdint.h>

void test_gaussian(float *x, size_t n, uint64_t seed, double sigma);

#endif
