/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Unit-test check shared by the .nuq file tests: two quantized layers
 * (one written, one read back) are the same layer with the same values.
 */
#ifndef NUQ_TEST_QLAYER_CHECK_H
#define NUQ_TEST_QLAYER_CHECK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <nuq/nuqfile.h>

static inline void assert_same_values(const struct nuq_qlayer *a, const struct nuq_qlayer *b)
{
	size_t n = (size_t)a->rows * a->cols;
	float *x = malloc(n * sizeof(*x)), *y = malloc(n * sizeof(*y));

	assert_non_null(x);
	assert_non_null(y);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->method, b->method);
	assert_int_equal(a->gran, b->gran);
	assert_int_equal(a->bits, b->bits);
	assert_int_equal(a->cb_width, b->cb_width);
	assert_int_equal(a->rank, b->rank);
	assert_int_equal(a->rows, b->rows);
	assert_int_equal(a->cols, b->cols);
	assert_int_equal(a->flags, b->flags);
	if (a->flags & NUQ_QLAYER_BN_FOLDED)
		assert_memory_equal(a->bias16, b->bias16, a->rows * sizeof(*a->bias16));
	assert_int_equal(nuq_qlayer_dequantize(a, x), 0);
	assert_int_equal(nuq_qlayer_dequantize(b, y), 0);
	assert_memory_equal(x, y, n * sizeof(*x));
	free(x);
	free(y);
}

#endif
