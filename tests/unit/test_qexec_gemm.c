// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A Gemm with constant weights is an integer job (a 1x1 conv over A's
 * rows, as a MatMul is) with beta * C as the job's bias, for B as [K, N]
 * and as [N, K] (transB): its output within a few 8-bit steps of the fp32
 * Gemm on the same quantized weights, C and all (under 1% of the range).  A Gemm no job can take
 * (A transposed, alpha other than 1) stays fp32 and says why.
 */
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
#include <nuq/qexec.h>

#include "gauss.h"
#include "graph_build.h"
#include "qexec_run.h"

#define M	7
#define K	16
#define N	10
#define NIN	3

struct gemm_net {
	struct gb *b;
	struct nuq_onnx *m;
	struct nuq_graph *g;
	struct nuq_qlayer layer;
	struct nuq_tensor x[NIN];
	char msg[256];
};

/* x[M, K] -> Gemm(x, w, c; @trans_b, @alpha, beta 0.5, C when @with_c) -> Relu -> y */
static void net_build(struct gemm_net *t, int trans_b, int with_c, float alpha, int trans_a)
{
	struct nuq_layer_opts lo = { .q = { .method = NUQ_Q_KNQ, .bits = 4, .seed = 1 },
				     .gran = NUQ_GRAN_CHANNEL, .cb_width = 16 };
	const struct nuq_onnx_weight *w;
	struct Onnx__NodeProto *gemm;
	struct nuq_layer_stats st;
	float wv[K * N], cv[N], *mat;
	const uint8_t *buf;
	size_t len, nw, i;

	memset(t, 0, sizeof(*t));
	test_gaussian(wv, K * N, 31, 0.5);
	test_gaussian(cv, N, 32, 2.0);	/* large enough that a lost bias shows */
	t->b = gb_new(11);
	gb_input(t->b, "x");
	gb_output(t->b, "y");
	gb_init_f(t->b, "w", 2, trans_b ? (int64_t[]){ N, K } : (int64_t[]){ K, N }, wv);
	gb_init_f(t->b, "c", 1, (int64_t[]){ N }, cv);
	gemm = gb_node(t->b, "Gemm", "fc", with_c ? "x,w,c" : "x,w", "h");
	gb_attr_i(t->b, gemm, "transB", trans_b);
	gb_attr_i(t->b, gemm, "transA", trans_a);
	gb_attr_f(t->b, gemm, "alpha", alpha);
	gb_attr_f(t->b, gemm, "beta", 0.5f);
	gb_node(t->b, "Relu", "r", "h", "y");
	buf = gb_pack(t->b, &len);
	assert_int_equal(nuq_onnx_load_mem(buf, len, &t->m, t->msg, sizeof(t->msg)), 0);
	assert_int_equal(nuq_graph_import(t->m, &t->g, t->msg, sizeof(t->msg)), 0);
	assert_int_equal(nuq_onnx_weights(t->m, &w, &nw, t->msg, sizeof(t->msg)), 0);
	assert_int_equal(nw, 1);
	assert_int_equal(nuq_onnx_weight_matrix(t->m, &w[0], &mat, t->msg, sizeof(t->msg)), 0);
	assert_int_equal(nuq_qlayer_quantize(&w[0], mat, &lo, &t->layer, &st, t->msg,
					     sizeof(t->msg)), 0);
	free(mat);
	for (i = 0; i < NIN; i++) {
		int64_t d[2] = { trans_a ? K : M, trans_a ? M : K };

		assert_int_equal(nuq_tensor_alloc(&t->x[i], NUQ_DT_FLOAT, 2, d), 0);
		test_gaussian(t->x[i].f, M * K, 60 + i, 1.0);
	}
}

static void net_free(struct gemm_net *t)
{
	size_t i;

	for (i = 0; i < NIN; i++)
		nuq_tensor_free(&t->x[i]);
	nuq_qlayer_free(&t->layer);
	nuq_graph_free(t->g);
	nuq_onnx_free(t->m);
	gb_free(t->b);
}

/* Run @t with @flags: calibrated on the inputs it runs on, heads as jobs too. */
static void run(struct gemm_net *t, unsigned int flags, struct nuq_tensor *y,
		struct nuq_qexec_stats *qs, struct nuq_qexec_layer *layer)
{
	qexec_run_one(t->g, &t->layer, t->x, NIN, flags, y, qs, layer);
}

static void gemm_is_a_job(int trans_b, int with_c)
{
	struct nuq_qexec_stats qs, fs;
	struct nuq_qexec_layer layer;
	struct gemm_net t;
	struct nuq_tensor yq, yf;
	double err = 0, range = 0;
	size_t i;

	net_build(&t, trans_b, with_c, 1.0f, 0);
	run(&t, NUQ_QEXEC_WEIGHTS_ONLY, &yf, &fs, &layer);
	run(&t, 0, &yq, &qs, &layer);
	assert_int_equal(qs.device_layers, 1);
	assert_int_equal(qs.fp32_layers, 0);
	assert_int_equal(qs.fused_acts, 1);
	assert_int_equal(qs.jobs, 1);
	assert_int_equal(qs.macs, M * K * N);
	assert_true(layer.device);
	assert_null(layer.why);
	assert_int_equal(yq.ndims, 2);
	assert_int_equal(yq.dims[0], M);
	assert_int_equal(yq.dims[1], N);
	for (i = 0; i < M * N; i++) {
		err = fmax(err, fabs(yq.f[i] - yf.f[i]));
		range = fmax(range, fabs(yf.f[i]));
		assert_true(yq.f[i] >= 0.0f);	/* the fused ReLU */
	}
	print_message("transB %d, C %d: max |diff| %.4f of %.3f\n", trans_b, with_c, err, range);
	/* a lost or doubled bias (beta * C is about +-1 here) would be 20% of the range */
	assert_true(range > 0.5 && err < range * 0.02);
	nuq_tensor_free(&yq);
	nuq_tensor_free(&yf);
	net_free(&t);
}

static void gemm_kn_with_c_is_a_job(void **state)
{
	(void)state;
	gemm_is_a_job(0, 1);
}

static void gemm_nk_with_c_is_a_job(void **state)
{
	(void)state;
	gemm_is_a_job(1, 1);
}

static void gemm_without_c_is_a_job(void **state)
{
	(void)state;
	gemm_is_a_job(1, 0);
}

static void gemm_stays_fp32(float alpha, int trans_a, const char *why)
{
	struct nuq_qexec_layer layer;
	struct nuq_qexec_stats qs;
	struct gemm_net t;
	struct nuq_tensor y;

	net_build(&t, 1, 1, alpha, trans_a);
	run(&t, 0, &y, &qs, &layer);
	assert_int_equal(qs.device_layers, 0);
	assert_int_equal(qs.fp32_layers, 1);
	assert_int_equal(qs.jobs, 0);
	assert_false(layer.device);
	assert_non_null(layer.why);
	assert_non_null(strstr(layer.why, why));
	nuq_tensor_free(&y);
	net_free(&t);
}

static void transposed_a_stays_fp32(void **state)
{
	(void)state;
	gemm_stays_fp32(1.0f, 1, "transA");
}

static void alpha_stays_fp32(void **state)
{
	(void)state;
	gemm_stays_fp32(2.0f, 0, "alpha");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gemm_kn_with_c_is_a_job),
		cmocka_unit_test(gemm_nk_with_c_is_a_job),
		cmocka_unit_test(gemm_without_c_is_a_job),
		cmocka_unit_test(transposed_a_stays_fp32),
		cmocka_unit_test(alpha_stays_fp32),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
