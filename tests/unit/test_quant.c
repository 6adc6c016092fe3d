// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Known answers for the quantization methods: published Lloyd-Max levels,
 * the exact DP against brute force and against k-means, ENQ spacing, ASD
 * digit rules, minifloat code sets, clipping, granularity and bad input.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <nuq/quant.h>

#include "conv_ref.h"
#include "gauss.h"

static double normal_pdf(double x, void *arg)
{
	(void)arg;
	return exp(-0.5 * x * x) / sqrt(2 * M_PI);
}

static double group_sse(const float *x, size_t n, const struct nuq_qparams *p)
{
	struct nuq_qgroup g;
	uint8_t *idx = malloc(n), *dg = malloc(2 * n);
	float *y = malloc(n * sizeof(float));
	double e;

	assert_int_equal(nuq_quantize_group(x, n, p, &g, idx, dg), 0);
	nuq_dequantize_group(&g, p->method, n, idx, dg, y);
	e = nuq_mse(x, y, n) * n;
	free(idx);
	free(dg);
	free(y);
	return e;
}

static void lloyd_max_standard_normal(void **state)
{
	double lv[4];

	(void)state;
	assert_int_equal(nuq_lloyd_max(normal_pdf, NULL, -8, 8, 40001, 2, 500, lv), 0);
	assert_float_equal(lv[0], -0.7979, 1e-3);
	assert_float_equal(lv[1], 0.7979, 1e-3);
	assert_int_equal(nuq_lloyd_max(normal_pdf, NULL, -8, 8, 40001, 4, 500, lv), 0);
	assert_float_equal(lv[0], -1.5104, 2e-3);
	assert_float_equal(lv[1], -0.4528, 2e-3);
	assert_float_equal(lv[2], 0.4528, 2e-3);
	assert_float_equal(lv[3], 1.5104, 2e-3);
}

/* Optimal 1-D clusters are contiguous in sorted order: try every split. */
static double brute_force(const double *x, size_t n, unsigned int k)
{
	double best = INFINITY;
	unsigned int mask;

	for (mask = 0; mask < (1u << (n - 1)); mask++) {
		double sse = 0, s = 0, q = 0;
		size_t i, cnt = 0;

		if ((unsigned int)__builtin_popcount(mask) != k - 1)
			continue;
		for (i = 0; i < n; i++) {
			s += x[i];
			q += x[i] * x[i];
			cnt++;
			if (i == n - 1 || (mask & (1u << i))) {
				sse += q - s * s / cnt;
				s = q = 0;
				cnt = 0;
			}
		}
		if (sse < best)
			best = sse;
	}
	return best;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void dp_equals_brute_force(void **state)
{
	struct test_rng r = { 11 };
	int trial;

	(void)state;
	for (trial = 0; trial < 200; trial++) {
		size_t n = test_range(&r, 2, 11), i;
		unsigned int k = test_range(&r, 1, 4), nl, j;
		double x[11], lv[4], sse = 0;

		for (i = 0; i < n; i++)
			x[i] = test_range(&r, -1000, 1000) / 100.0;
		qsort(x, n, sizeof(double), cmp_d);
		if (k > n)
			k = n;
		assert_int_equal(nuq_kmeans_dp(x, NULL, n, k, lv, &nl), 0);
		for (i = 0; i < n; i++) {
			double d = INFINITY;

			for (j = 0; j < nl; j++)
				d = fmin(d, (x[i] - lv[j]) * (x[i] - lv[j]));
			sse += d;
		}
		assert_float_equal(sse, brute_force(x, n, k), 1e-9);
	}
}

static void dp_never_worse_than_knq_or_kde(void **state)
{
	float *x = malloc(3000 * sizeof(float));
	unsigned int bits;

	(void)state;
	test_gaussian(x, 3000, 3, 0.05);
	for (bits = 1; bits <= 5; bits++) {
		struct nuq_qparams opt = { .method = NUQ_Q_OPT, .bits = bits };
		struct nuq_qparams knq = { .method = NUQ_Q_KNQ, .bits = bits, .seed = 7 };
		struct nuq_qparams kde = { .method = NUQ_Q_KDE, .bits = bits, .seed = 7 };
		double e_opt = group_sse(x, 3000, &opt);

		assert_true(e_opt <= group_sse(x, 3000, &knq) * (1 + 1e-9));
		assert_true(e_opt <= group_sse(x, 3000, &kde) * (1 + 1e-9));
	}
	free(x);
}

/* KDE's point: close to the optimum at 4 bits from a small sample. */
static void kde_and_knq_close_to_optimum(void **state)
{
	size_t n = 100000;
	float *x = malloc(n * sizeof(float));
	struct nuq_qparams opt = { .method = NUQ_Q_OPT, .bits = 4 };
	struct nuq_qparams knq = { .method = NUQ_Q_KNQ, .bits = 4, .seed = 1 };
	struct nuq_qparams kde = { .method = NUQ_Q_KDE, .bits = 4, .seed = 1 };
	double e_opt;

	(void)state;
	test_gaussian(x, n, 9, 0.02);
	e_opt = group_sse(x, n, &opt);
	print_message("# 4-bit MSE / optimum: knq %.4f, kde %.4f\n",
		      group_sse(x, n, &knq) / e_opt, group_sse(x, n, &kde) / e_opt);
	assert_true(group_sse(x, n, &knq) <= 1.02 * e_opt);
	assert_true(group_sse(x, n, &kde) <= 1.05 * e_opt);
	free(x);
}

static void knq_is_deterministic(void **state)
{
	float x[500];
	struct nuq_qparams p = { .method = NUQ_Q_KNQ, .bits = 3, .seed = 42 };
	struct nuq_qgroup a, b;

	(void)state;
	test_gaussian(x, 500, 5, 1);
	assert_int_equal(nuq_quantize_group(x, 500, &p, &a, NULL, NULL), 0);
	assert_int_equal(nuq_quantize_group(x, 500, &p, &b, NULL, NULL), 0);
	assert_int_equal(a.nlevels, 8);
	assert_memory_equal(a.levels, b.levels, sizeof(float) * a.nlevels);
}

static void enq_levels_equally_spaced(void **state)
{
	float x[1000];
	struct nuq_qparams p = { .method = NUQ_Q_ENQ };
	struct nuq_qgroup g;
	unsigned int i;

	(void)state;
	test_gaussian(x, 1000, 6, 1);
	for (p.bits = 1; p.bits <= 8; p.bits++) {
		assert_int_equal(nuq_quantize_group(x, 1000, &p, &g, NULL, NULL), 0);
		assert_int_equal(g.nlevels, 1u << p.bits);
		for (i = 2; i < g.nlevels; i++)
			assert_float_equal(g.levels[i] - g.levels[i - 1], g.levels[1] - g.levels[0],
					   1e-4 * (g.levels[g.nlevels - 1] - g.levels[0]));
	}
}

static void asd_digit_rules(void **state)
{
	static const enum nuq_qmethod m[] = { NUQ_Q_ASD, NUQ_Q_ASD1, NUQ_Q_CSD };
	size_t n = 4000, i;
	float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
	uint8_t *d = malloc(2 * n);
	int v;

	(void)state;
	test_gaussian(x, n, 8, 0.1);
	for (v = 0; v < 3; v++) {
		struct nuq_qparams p = { .method = m[v] };
		struct nuq_qgroup g;
		double sqnr;

		assert_int_equal(nuq_quantize_group(x, n, &p, &g, NULL, d), 0);
		for (i = 0; i < n; i++) {
			uint8_t d0 = d[2 * i], d1 = d[2 * i + 1];

			/* well-formed UAPI digit bytes, at most two digits */
			assert_true(!d0 || ((d0 & 0x40) && !(d0 & 0x30) && (d0 & 15) <= 7));
			assert_true(!d1 || ((d1 & 0x40) && !(d1 & 0x30) && (d1 & 15) <= 7));
			if (m[v] == NUQ_Q_ASD1)
				assert_int_equal(d1, 0);
			if (m[v] == NUQ_Q_CSD && d0 && d1)
				assert_true(abs((d0 & 15) - (d1 & 15)) >= 2);
		}
		nuq_dequantize_group(&g, m[v], n, NULL, d, y);
		sqnr = nuq_sqnr_db(x, y, n);
		print_message("# %s SQNR %.1f dB\n", nuq_qmethod_name(m[v]), sqnr);
		assert_true(sqnr > (m[v] == NUQ_Q_ASD1 ? 12 : 25));
	}
	assert_int_equal(nuq_asd_value(0x43, 0xc0), 7);
	assert_int_equal(nuq_asd_value(0x80 | 0x45, 0), -32);
	free(x);
	free(y);
	free(d);
}

static void minifloat_e2m1_code_set(void **state)
{
	static const float e2m1[] = { -6, -4, -3, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3, 4, 6 };
	float x[] = { -6, 6, 0.25f, 1 };
	struct nuq_qparams p = { .method = NUQ_Q_MINIFLOAT, .bits = 4 };
	struct nuq_qgroup g;
	unsigned int i;

	(void)state;
	assert_int_equal(nuq_quantize_group(x, 4, &p, &g, NULL, NULL), 0);
	assert_int_equal(g.nlevels, 15);
	for (i = 0; i < 15; i++)
		assert_float_equal(g.levels[i] / g.levels[14] * 6, e2m1[i], 1e-5);
	p.bits = 8;	/* E4M3: 255 distinct values with the single zero */
	assert_int_equal(nuq_quantize_group(x, 4, &p, &g, NULL, NULL), 0);
	assert_int_equal(g.nlevels, 255);
	p.fp_exp_bits = 8;
	assert_int_equal(nuq_quantize_group(x, 4, &p, &g, NULL, NULL), -EINVAL);
}

static void uniform_clipping(void **state)
{
	size_t n = 5000;
	float *x = malloc(n * sizeof(float));
	struct nuq_qparams p = { .method = NUQ_Q_UNIFORM_SYM, .bits = 4 };
	struct nuq_qgroup g, pct;
	double e_mm, e_mse, e_dbc;

	(void)state;
	test_gaussian(x, n, 2, 1);
	x[7] = 12;	/* an outlier that min-max has to cover */
	e_mm = group_sse(x, n, &p);
	assert_int_equal(nuq_quantize_group(x, n, &p, &g, NULL, NULL), 0);
	assert_int_equal(g.nlevels, 15);
	assert_float_equal(g.levels[14], 12, 1e-5);
	assert_float_equal(g.levels[7], 0, 0);	/* zero is a level */
	p.clip = NUQ_CLIP_PERCENTILE;
	p.percentile = 99.9;
	assert_int_equal(nuq_quantize_group(x, n, &p, &pct, NULL, NULL), 0);
	assert_true(pct.levels[14] < 5);
	p.clip = NUQ_CLIP_MSE;
	e_mse = group_sse(x, n, &p);
	p.method = NUQ_Q_DBC;
	e_dbc = group_sse(x, n, &p);
	print_message("# 4-bit SSE: min-max %.1f, mse clip %.1f, dbc %.1f\n", e_mm, e_mse, e_dbc);
	assert_true(e_mse < e_mm);
	assert_true(e_dbc < e_mm);
	/* affine keeps an exact zero even for a one-sided range */
	p.method = NUQ_Q_UNIFORM_AFFINE;
	p.clip = NUQ_CLIP_MINMAX;
	for (size_t i = 0; i < n; i++)
		x[i] = fabsf(x[i]) + 0.5f;
	assert_int_equal(nuq_quantize_group(x, n, &p, &g, NULL, NULL), 0);
	assert_float_equal(g.levels[0], 0, 0);
	free(x);
}

static void per_channel_not_worse_than_per_layer(void **state)
{
	size_t rows = 16, cols = 300, r;
	float *w = malloc(rows * cols * sizeof(float)), *y = malloc(rows * cols * sizeof(float));
	struct nuq_qparams p = { .method = NUQ_Q_UNIFORM_SYM, .bits = 4 };
	struct nuq_qtensor t;
	double e_layer, e_chan, e_group;

	(void)state;
	for (r = 0; r < rows; r++)	/* channels of very different scales */
		test_gaussian(w + r * cols, cols, r + 1, 0.01 * (r + 1) * (r + 1));
	assert_int_equal(nuq_quantize_tensor(w, rows, cols, NUQ_GRAN_LAYER, 0, &p, &t), 0);
	nuq_qtensor_dequantize(&t, y);
	e_layer = nuq_mse(w, y, rows * cols);
	nuq_qtensor_free(&t);
	assert_int_equal(nuq_quantize_tensor(w, rows, cols, NUQ_GRAN_CHANNEL, 0, &p, &t), 0);
	assert_int_equal(t.ngroups, rows);
	nuq_qtensor_dequantize(&t, y);
	e_chan = nuq_mse(w, y, rows * cols);
	nuq_qtensor_free(&t);
	assert_int_equal(nuq_quantize_tensor(w, rows, cols, NUQ_GRAN_GROUP, 64, &p, &t), 0);
	assert_int_equal(t.ngroups, rows * 5);	/* 300 = 4 x 64 + 44 */
	nuq_qtensor_dequantize(&t, y);
	e_group = nuq_mse(w, y, rows * cols);
	nuq_qtensor_free(&t);
	assert_true(e_chan <= e_layer);
	assert_true(e_group <= e_chan * 1.0001);
	free(w);
	free(y);
}

static void fixed_point_codebook(void **state)
{
	float lv[16], s8, s16;
	int16_t e8[16], e16[16];
	double err8, err16;
	unsigned int i;

	(void)state;
	for (i = 0; i < 16; i++)
		lv[i] = (float)(sin(i * 0.7) * 0.1);
	err8 = nuq_codebook_to_fixed(lv, 16, 8, e8, &s8);
	err16 = nuq_codebook_to_fixed(lv, 16, 16, e16, &s16);
	assert_true(err8 <= s8 / 2 * 1.0001);
	assert_true(err16 <= s16 / 2 * 1.0001);
	assert_true(err16 < err8);
	for (i = 0; i < 16; i++) {
		assert_true(e8[i] >= -127 && e8[i] <= 127);
		assert_float_equal(e16[i] * s16, lv[i], err16 * 1.0001);
	}
}

static void bad_input(void **state)
{
	float x[4] = { 1, 2, NAN, 3 };
	struct nuq_qparams p = { .method = NUQ_Q_KNQ, .bits = 4 };
	struct nuq_qgroup g;
	enum nuq_qmethod m;

	(void)state;
	assert_int_equal(nuq_quantize_group(x, 4, &p, &g, NULL, NULL), -EINVAL);
	x[2] = INFINITY;
	assert_int_equal(nuq_quantize_group(x, 4, &p, &g, NULL, NULL), -EINVAL);
	x[2] = 0;
	assert_int_equal(nuq_quantize_group(x, 0, &p, &g, NULL, NULL), -EINVAL);
	p.bits = 0;
	assert_int_equal(nuq_quantize_group(x, 4, &p, &g, NULL, NULL), -EINVAL);
	p.bits = 9;
	assert_int_equal(nuq_quantize_group(x, 4, &p, &g, NULL, NULL), -EINVAL);
	p.method = NUQ_Q_COUNT;
	p.bits = 4;
	assert_int_equal(nuq_quantize_group(x, 4, &p, &g, NULL, NULL), -EINVAL);
	assert_int_equal(nuq_qmethod_parse("kde", &m), 0);
	assert_int_equal(m, NUQ_Q_KDE);
	assert_int_equal(nuq_qmethod_parse("nope", &m), -EINVAL);
	/* more levels than distinct values: no duplicates */
	p.method = NUQ_Q_OPT;
	x[0] = x[1] = x[2] = x[3] = 0.5f;
	assert_int_equal(nuq_quantize_group(x, 4, &p, &g, NULL, NULL), 0);
	assert_int_equal(g.nlevels, 1);
}

/*
 * The shared layout (one codebook over channel-scaled weights) on Gaussian
 * channels that differ only in scale (1x to 31x): the scales divide the
 * differences out, so it is as good as the 1-D optimum of one Gaussian
 * (Lloyd-Max: 9.30 dB at 2 bits, 14.62 at 3, 20.22 at 4) within 0.3 dB.
 */
static void shared_layout_matches_lloyd_max(void **state)
{
	static const double lloyd_max_db[] = { 0, 0, 9.30, 14.62, 20.22 };
	const size_t rows = 16, cols = 2048, n = rows * cols;
	float *w = malloc(n * sizeof(*w)), *y = malloc(n * sizeof(*y));
	struct nuq_qparams p = { .method = NUQ_Q_KNQ, .seed = 1 };
	struct nuq_qtensor t;
	size_t r, c;

	(void)state;
	assert_non_null(w);
	assert_non_null(y);
	test_gaussian(w, n, 7, 1);
	for (r = 0; r < rows; r++)
		for (c = 0; c < cols; c++)
			w[r * cols + c] *= 1 + 2 * r;	/* 1x to 31x */
	for (p.bits = 2; p.bits <= 4; p.bits++) {
		double db;

		assert_int_equal(nuq_quantize_tensor(w, rows, cols, NUQ_GRAN_CHANNEL_SCALED, 0, &p,
						     &t), 0);
		nuq_qtensor_dequantize(&t, y);
		db = nuq_sqnr_db(w, y, n);
		if (db < lloyd_max_db[p.bits] - 0.3)
			fail_msg("%u bits: %.2f dB, Lloyd-Max %.2f", p.bits, db,
				 lloyd_max_db[p.bits]);
		nuq_qtensor_free(&t);
	}
	free(w);
	free(y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lloyd_max_standard_normal),
		cmocka_unit_test(dp_equals_brute_force),
		cmocka_unit_test(dp_never_worse_than_knq_or_kde),
		cmocka_unit_test(kde_and_knq_close_to_optimum),
		cmocka_unit_test(knq_is_deterministic),
		cmocka_unit_test(enq_levels_equally_spaced),
		cmocka_unit_test(asd_digit_rules),
		cmocka_unit_test(minifloat_e2m1_code_set),
		cmocka_unit_test(uniform_clipping),
		cmocka_unit_test(per_channel_not_worse_than_per_layer),
		cmocka_unit_test(shared_layout_matches_lloyd_max),
		cmocka_unit_test(fixed_point_codebook),
		cmocka_unit_test(bad_input),
	};

	return cmocka_run_group_tests_name("quant", tests, NULL, NULL);
}
