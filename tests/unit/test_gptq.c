// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Data-aware rounding (libnuq/src/quant/gptq.c) and the input moments it
 * rounds on (libnuq/src/graph/moments.c):
 * - the moments of a grouped, strided, padded Conv and of a MatMul equal
 *   the sums of x x^T and x over every patch, computed here by hand;
 * - centring subtracts sum sum^T / N;
 * - the factor U satisfies U^T U (H + damping) = 1 in its column order;
 * - on correlated inputs the rounding lowers the output error well below
 *   nearest rounding's, changing only indices (codebook, scales, bytes
 *   stay), and an input that is always zero does not break it.
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

#include <nuq/graph.h>
#include <nuq/nuqfile.h>

#include "gauss.h"
#include "graph_build.h"

#define NRUNS	2

static void input_make(struct nuq_tensor *t, unsigned int ndims, const int64_t *dims,
		       uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	assert_int_equal(nuq_tensor_alloc(t, NUQ_DT_FLOAT, ndims, dims), 0);
	test_gaussian(t->f, nuq_tensor_count(t), seed, 1);
}

static void assert_close(double a, double b, double tol)
{
	if (fabs(a - b) > tol * (1 + fabs(b)))
		fail_msg("%.9g != %.9g", a, b);
}

/* x[1,4,5,5] -> Conv(w [6,2,3,3], group 2, pads 1, strides 2) -> y */
static void moments_of_grouped_conv_are_the_patch_sums(void **state)
{
	enum { N = 4, HW = 5, O = 6, CG = 2, K = 3, OHW = 3, G = 2, DIM = K * K * CG };
	struct nuq_tensor x[NRUNS];
	struct nuq_moments m;
	struct nuq_onnx *model;
	struct nuq_graph *g;
	float w[O * CG * K * K];
	const char *name = "w";
	double h[G][DIM][DIM] = { 0 }, sum[G][DIM] = { 0 };
	struct gb *b;
	const uint8_t *buf;
	char msg[256];
	size_t len;
	int r, k, oy, ox, i, j;

	(void)state;
	test_gaussian(w, O * CG * K * K, 5, 0.3);
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_f(b, "w", 4, (int64_t[]){ O, CG, K, K }, w);
	{
		struct Onnx__NodeProto *c = gb_node(b, "Conv", "conv", "x,w", "y");

		gb_attr_i(b, c, "group", G);
		gb_attr_ints(b, c, "pads", 4, (int64_t[]){ 1, 1, 1, 1 });
		gb_attr_ints(b, c, "strides", 2, (int64_t[]){ 2, 2 });
	}
	buf = gb_pack(b, &len);
	assert_int_equal(nuq_onnx_load_mem(buf, len, &model, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_graph_import(model, &g, msg, sizeof(msg)), 0);
	for (r = 0; r < NRUNS; r++)
		input_make(&x[r], 4, (int64_t[]){ 1, N, HW, HW }, 40 + r);
	assert_int_equal(nuq_graph_weight_moments(g, x, NRUNS, &name, 1, &m, msg, sizeof(msg)),
			 0);
	assert_non_null(m.h);
	assert_int_equal(m.dim, DIM);
	assert_int_equal(m.groups, G);
	/* 9 positions a run (each group's): fewer than the sample count, so all are summed */
	assert_int_equal(m.samples, NRUNS * OHW * OHW);
	for (r = 0; r < NRUNS; r++)
		for (k = 0; k < G; k++)
			for (oy = 0; oy < OHW; oy++)
				for (ox = 0; ox < OHW; ox++) {
					double p[DIM];
					int ky, kx, ci;

					for (ky = 0; ky < K; ky++)
						for (kx = 0; kx < K; kx++)
							for (ci = 0; ci < CG; ci++) {
								int iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx;
								int in = iy >= 0 && iy < HW && ix >= 0 &&
									 ix < HW;

								p[(ky * K + kx) * CG + ci] = in ?
									x[r].f[((k * CG + ci) * HW + iy) *
									       HW + ix] : 0;
							}
					for (i = 0; i < DIM; i++) {
						sum[k][i] += p[i];
						for (j = 0; j < DIM; j++)
							h[k][i][j] += p[i] * p[j];
					}
				}
	for (k = 0; k < G; k++)
		for (i = 0; i < DIM; i++) {
			assert_close(m.sum[k * DIM + i], sum[k][i], 1e-5);
			for (j = 0; j < DIM; j++)
				assert_close(m.h[(k * DIM + i) * DIM + j], h[k][i][j], 1e-5);
		}
	/* centring: H - sum sum^T / N */
	nuq_moments_center(&m);
	assert_null(m.sum);
	for (i = 0; i < DIM; i++)
		assert_close(m.h[i * DIM + 3], h[0][i][3] - sum[0][i] * sum[0][3] / (NRUNS * 9),
			     1e-5);
	nuq_moments_free(&m);
	for (r = 0; r < NRUNS; r++)
		nuq_tensor_free(&x[r]);
	nuq_graph_free(g);
	nuq_onnx_free(model);
	gb_free(b);
}

/* x[3,7] -> MatMul(x, w [7,4]); a weight the graph does not use stays empty */
static void moments_of_matmul_are_the_row_sums(void **state)
{
	struct nuq_tensor x[NRUNS];
	struct nuq_moments m[2];
	struct nuq_onnx *model;
	struct nuq_graph *g;
	const char *names[2] = { "w", "nothing" };
	float w[7 * 4];
	struct gb *b;
	const uint8_t *buf;
	char msg[256];
	size_t len;
	int r, i, j, row;

	(void)state;
	test_gaussian(w, 7 * 4, 6, 0.3);
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_f(b, "w", 2, (int64_t[]){ 7, 4 }, w);
	gb_node(b, "MatMul", "mm", "x,w", "y");
	buf = gb_pack(b, &len);
	assert_int_equal(nuq_onnx_load_mem(buf, len, &model, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_graph_import(model, &g, msg, sizeof(msg)), 0);
	for (r = 0; r < NRUNS; r++)
		input_make(&x[r], 2, (int64_t[]){ 3, 7 }, 50 + r);
	assert_int_equal(nuq_graph_weight_moments(g, x, NRUNS, names, 2, m, msg, sizeof(msg)), 0);
	assert_null(m[1].h);
	assert_int_equal(m[0].dim, 7);
	assert_int_equal(m[0].samples, NRUNS * 3);
	for (i = 0; i < 7; i++)
		for (j = 0; j < 7; j++) {
			double s = 0;

			for (r = 0; r < NRUNS; r++)
				for (row = 0; row < 3; row++)
					s += (double)x[r].f[row * 7 + i] * x[r].f[row * 7 + j];
			assert_close(m[0].h[i * 7 + j], s, 1e-5);
		}
	nuq_moments_free(&m[0]);
	for (r = 0; r < NRUNS; r++)
		nuq_tensor_free(&x[r]);
	nuq_graph_free(g);
	nuq_onnx_free(model);
	gb_free(b);
}

/* Moments of @n samples x = L z (correlated), dim @d; column @dead always 0 (or -1). */
static void moments_make(struct nuq_moments *m, size_t d, size_t n, int dead)
{
	float *l = malloc(d * d * sizeof(*l)), *z = malloc(d * sizeof(*z));
	double *x = malloc(d * sizeof(*x));
	size_t s, i, j;

	assert_non_null(l);
	assert_non_null(z);
	assert_non_null(x);
	memset(m, 0, sizeof(*m));
	m->dim = d;
	m->groups = 1;
	m->h = calloc(d * d, sizeof(*m->h));
	assert_non_null(m->h);
	test_gaussian(l, d * d, 7, 1);
	for (s = 0; s < n; s++) {
		test_gaussian(z, d, 1000 + s, 1);
		for (i = 0; i < d; i++) {
			x[i] = 0;
			for (j = 0; j <= i; j++)
				x[i] += l[i * d + j] * z[j];
		}
		if (dead >= 0)
			x[dead] = 0;
		for (i = 0; i < d; i++)
			for (j = 0; j < d; j++)
				m->h[i * d + j] += x[i] * x[j];
	}
	m->samples = n;
	free(l);
	free(z);
	free(x);
}

static void factor_inverts_the_dampened_moments(void **state)
{
	enum { D = 12 };
	struct nuq_gptq_factor f;
	struct nuq_moments m;
	double mean = 0;
	size_t i, j, k, l;

	(void)state;
	moments_make(&m, D, 200, -1);
	assert_int_equal(nuq_gptq_factor(&m, 0, &f), 0);
	for (i = 0; i < D; i++)
		mean += m.h[i * D + i] / D;
	for (i = 1; i < D; i++)	/* the columns by falling diagonal */
		assert_true(m.h[f.perm[i - 1] * (D + 1)] >= m.h[f.perm[i] * (D + 1)]);
	for (i = 0; i < D; i++) {
		for (j = 0; j < i; j++)
			assert_true(f.u[i * D + j] == 0);
		for (j = 0; j < D; j++) {
			double s = 0;

			/* (U^T U)[i][l] (Hp + 0.01 mean)[l][j] */
			for (l = 0; l < D; l++) {
				double uu = 0, hd = m.h[f.perm[l] * D + f.perm[j]];

				for (k = 0; k < D; k++)
					uu += f.u[k * D + i] * f.u[k * D + l];
				s += uu * (hd + (l == j ? 0.01 * mean : 0));
			}
			assert_close(s, i == j, 1e-8);
		}
	}
	nuq_gptq_factor_free(&f);
	nuq_moments_free(&m);
}

/* Layer @l of @rows x @cols weights @w, quantized @bits shared with channel scales. */
static void layer_make(struct nuq_qlayer *l, const float *w, size_t rows, size_t cols,
		       unsigned int bits)
{
	struct nuq_onnx_weight ow = { .name = "w", .node = "fc", .op = "Gemm",
				      .layout = NUQ_LAYOUT_NK, .ndims = 2,
				      .dims = { (int64_t)rows, (int64_t)cols },
				      .rows = rows, .cols = cols };
	struct nuq_layer_opts o = { .q = { .method = NUQ_Q_KNQ, .bits = bits, .seed = 1 },
				    .gran = NUQ_GRAN_CHANNEL_SCALED };
	struct nuq_layer_stats st;
	char msg[256];

	assert_int_equal(nuq_qlayer_quantize(&ow, w, &o, l, &st, msg, sizeof(msg)), 0);
}

static double output_nsr(const struct nuq_moments *m, const struct nuq_qlayer *l, const float *w)
{
	size_t n = (size_t)l->rows * l->cols;
	float *d = malloc(n * sizeof(*d));
	double e;

	assert_non_null(d);
	assert_int_equal(nuq_qlayer_dequantize(l, d), 0);
	e = nuq_output_nsr(m, w, d, l->rows, l->cols);
	free(d);
	return e;
}

static void rounding_lowers_output_error(int dead)
{
	enum { R = 24, D = 48 };
	struct nuq_gptq_factor f;
	struct nuq_layer_stats st;
	struct nuq_moments m;
	struct nuq_qlayer l;
	float w[R * D];
	int16_t entries[16];
	size_t bytes;
	double before, after, energy;

	test_gaussian(w, R * D, 8, 0.5);
	moments_make(&m, D, 2000, dead);
	layer_make(&l, w, R, D, 3);
	memcpy(entries, l.mat[0].entries, sizeof(entries[0]) * 8);
	bytes = nuq_qlayer_file_bytes(&l);
	before = output_nsr(&m, &l, w);
	assert_int_equal(nuq_gptq_factor(&m, 0, &f), 0);
	assert_int_equal(nuq_qlayer_gptq(&l, w, &m, &f, &st, &energy), 0);
	after = output_nsr(&m, &l, w);
	/* the energy it reports is the error's, on the same inputs */
	assert_close(energy / nuq_moments_energy(&m, w, NULL, R, D), after, 1e-9);
	print_message("output NSR: nearest %.4g, data-aware %.4g (x%.2f)\n", before, after,
		      after / before);
	assert_true(isfinite(after));
	assert_true(after < 0.6 * before);
	/* only the indices moved */
	assert_memory_equal(entries, l.mat[0].entries, sizeof(entries[0]) * 8);
	assert_int_equal(nuq_qlayer_file_bytes(&l), bytes);
	assert_true(st.sqnr_db > 0);
	nuq_gptq_factor_free(&f);
	nuq_qlayer_free(&l);
	nuq_moments_free(&m);
}

static void rounding_lowers_output_error_on_correlated_inputs(void **state)
{
	(void)state;
	rounding_lowers_output_error(-1);
}

static void rounding_copes_with_an_input_that_is_always_zero(void **state)
{
	(void)state;
	rounding_lowers_output_error(5);
}

static void rounding_refuses_what_it_cannot_do(void **state)
{
	struct nuq_gptq_factor f;
	struct nuq_layer_stats st;
	struct nuq_moments m, zero = { .dim = 4, .groups = 1 };
	struct nuq_qlayer l;
	float w[6 * 8];

	(void)state;
	test_gaussian(w, 6 * 8, 9, 0.5);
	moments_make(&m, 8, 100, -1);
	layer_make(&l, w, 6, 8, 4);
	assert_int_equal(nuq_gptq_factor(&m, 0, &f), 0);
	/* moments of another width */
	m.dim = 7;
	assert_int_equal(nuq_qlayer_gptq(&l, w, &m, &f, &st, NULL), -EINVAL);
	assert_true(isnan(nuq_output_nsr(&m, w, w, 6, 8)));
	m.dim = 8;
	/* H all zero: no factor */
	zero.h = calloc(16, sizeof(double));
	assert_non_null(zero.h);
	zero.samples = 1;
	assert_int_equal(nuq_gptq_factor(&zero, 0, &(struct nuq_gptq_factor){ 0 }), -EDOM);
	nuq_moments_free(&zero);
	nuq_gptq_factor_free(&f);
	nuq_qlayer_free(&l);
	nuq_moments_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(moments_of_grouped_conv_are_the_patch_sums),
		cmocka_unit_test(moments_of_matmul_are_the_row_sums),
		cmocka_unit_test(factor_inverts_the_dampened_moments),
		cmocka_unit_test(rounding_lowers_output_error_on_correlated_inputs),
		cmocka_unit_test(rounding_copes_with_an_input_that_is_always_zero),
		cmocka_unit_test(rounding_refuses_what_it_cannot_do),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
