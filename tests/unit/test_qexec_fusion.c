// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the quantized executor fuses after a job, each checked against
 * the fp32 graph on the same quantized weights (a few 8-bit steps):
 * - a residual block - conv -> Add(the block's input) -> Relu - is one
 *   job (NUQ_JOB_F_RESIDUAL with a clamp): the Add and the Relu run no
 *   fp32 code; an Add of a constant (a per-channel bias) is no residual
 *   and stays an fp32 Add;
 * - an elementwise chain on a job's output and scalar constants (a
 *   HardSwish written out as Add, Clip, Div, Mul, as PaddleOCR exports
 *   it) is one 256-entry table; where a value inside the chain is a
 *   graph output, the table stops before it.
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
#include <nuq/qexec.h>

#include "gauss.h"
#include "graph_build.h"
#include "qexec/qexec_priv.h"

#define NIN	6
#define C	8
#define HW	10

struct block {
	struct gb *b;
	struct nuq_onnx *m;
	struct nuq_graph *g;
	struct nuq_qlayer layers[2];
	size_t nlayers;
	struct nuq_tensor x[NIN];
	char msg[256];
};

/*
 * x[1,8,10,10] -> Conv 3x3 (8->8, pad 1) -> c1; then @tail (residual:
 * Add(c1, @other) -> a, Relu -> r; hswish: c1 * Clip(c1 + 3, 0, 6) / 6
 * -> r, and with @other "leak" the Clip's output is a second graph
 * output); Conv 1x1 (8->5) -> y.  @other is "x" (a residual) or "bc" (a
 * [1,8,1,1] constant: a broadcast, not a residual).
 */
static void block_build(struct block *k, const char *tail, const char *other)
{
	const struct nuq_onnx_weight *w;
	float w1[C * C * 9], w2[5 * C], bc[C];
	const uint8_t *buf;
	size_t len, i, nw;
	char ins[16];

	memset(k, 0, sizeof(*k));
	test_gaussian(w1, C * C * 9, 21, 0.15);
	test_gaussian(w2, 5 * C, 22, 0.4);
	test_gaussian(bc, C, 23, 0.5);
	k->b = gb_new(13);
	gb_input(k->b, "x");
	gb_output(k->b, "y");
	gb_init_f(k->b, "w1", 4, (int64_t[]){ C, C, 3, 3 }, w1);
	gb_init_f(k->b, "w2", 4, (int64_t[]){ 5, C, 1, 1 }, w2);
	gb_init_f(k->b, "bc", 4, (int64_t[]){ 1, C, 1, 1 }, bc);
	gb_attr_ints(k->b, gb_node(k->b, "Conv", "conv1", "x,w1", "c1"), "pads", 4,
		     (int64_t[]){ 1, 1, 1, 1 });
	if (!strcmp(tail, "residual")) {
		snprintf(ins, sizeof(ins), "c1,%s", other);
		gb_node(k->b, "Add", "add", ins, "a");
		gb_node(k->b, "Relu", "relu", "a", "r");
	} else {
		gb_hardswish(k->b, "c1", "r");
		if (!strcmp(other, "leak"))
			gb_output(k->b, "cl");
	}
	gb_node(k->b, "Conv", "conv2", "r,w2", "y");
	buf = gb_pack(k->b, &len);
	assert_int_equal(nuq_onnx_load_mem(buf, len, &k->m, k->msg, sizeof(k->msg)), 0);
	assert_int_equal(nuq_graph_import(k->m, &k->g, k->msg, sizeof(k->msg)), 0);
	assert_int_equal(nuq_onnx_weights(k->m, &w, &nw, k->msg, sizeof(k->msg)), 0);
	for (i = 0; i < nw; i++) {
		struct nuq_layer_opts o = { .q = { .method = NUQ_Q_KNQ, .bits = 4, .seed = 1 },
					    .gran = NUQ_GRAN_CHANNEL, .cb_width = 16 };
		struct nuq_layer_stats st;
		float *mat;

		assert_int_equal(nuq_onnx_weight_matrix(k->m, &w[i], &mat, k->msg, sizeof(k->msg)),
				 0);
		assert_int_equal(nuq_qlayer_quantize(&w[i], mat, &o, &k->layers[i], &st, k->msg,
						     sizeof(k->msg)), 0);
		free(mat);
	}
	k->nlayers = nw;
	for (i = 0; i < NIN; i++) {
		k->x[i].dtype = NUQ_DT_FLOAT;
		k->x[i].ndims = 4;
		k->x[i].dims[0] = 1, k->x[i].dims[1] = C, k->x[i].dims[2] = HW, k->x[i].dims[3] = HW;
		k->x[i].f = malloc(C * HW * HW * sizeof(float));
		test_gaussian(k->x[i].f, C * HW * HW, 200 + i, 1.0);
	}
}

static void block_free(struct block *k)
{
	size_t i;

	for (i = 0; i < k->nlayers; i++)
		nuq_qlayer_free(&k->layers[i]);
	for (i = 0; i < NIN; i++)
		free(k->x[i].f);
	nuq_graph_free(k->g);
	nuq_onnx_free(k->m);
	gb_free(k->b);
}

/* Run @k quantized (both convs as jobs) and in fp32 with the same weights. */
static void run_both(struct block *k, struct nuq_qexec_stats *st, uint32_t *flags,
		     double *err, double *range)
{
	struct nuq_qexec_opts wo = { .flags = NUQ_QEXEC_CPU | NUQ_QEXEC_WEIGHTS_ONLY };
	struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU | NUQ_QEXEC_QUANTIZED_HEADS,
				    .calib = NUQ_CALIB_MINMAX };
	struct nuq_tensor yq, yf;
	struct nuq_qexec *q;
	size_t i;

	assert_int_equal(nuq_qexec_create(k->g, k->layers, k->nlayers, &wo, &q, k->msg,
					  sizeof(k->msg)), 0);
	assert_int_equal(nuq_qexec_calibrate(q, k->x, NIN - 1, NULL, NULL, k->msg,
					     sizeof(k->msg)), 0);
	assert_int_equal(nuq_qexec_run(q, &k->x[NIN - 1], &yf, k->msg, sizeof(k->msg)), 0);
	nuq_qexec_free(q);
	assert_int_equal(nuq_qexec_create(k->g, k->layers, k->nlayers, &o, &q, k->msg,
					  sizeof(k->msg)), 0);
	assert_int_equal(nuq_qexec_calibrate(q, k->x, NIN - 1, NULL, NULL, k->msg,
					     sizeof(k->msg)), 0);
	assert_int_equal(nuq_qexec_run(q, &k->x[NIN - 1], &yq, k->msg, sizeof(k->msg)), 0);
	nuq_qexec_stats(q, st);
	*flags = 0;
	for (i = 0; i < q->g->nnodes; i++)
		if (q->qn[i].device && q->qn[i].add)
			*flags |= q->qn[i].job.flags;
	*err = 0;
	*range = 0;
	for (i = 0; i < nuq_tensor_count(&yf); i++) {
		*err = fmax(*err, fabs(yq.f[i] - yf.f[i]));
		*range = fmax(*range, fabs(yf.f[i]));
	}
	nuq_tensor_free(&yq);
	nuq_tensor_free(&yf);
	nuq_qexec_free(q);
}

static void residual_block_is_one_job(void **state)
{
	struct nuq_qexec_stats st;
	struct block k;
	double err, range;
	uint32_t flags;

	(void)state;
	block_build(&k, "residual", "x");
	run_both(&k, &st, &flags, &err, &range);
	assert_int_equal(st.device_layers, 2);
	assert_int_equal(st.fused_adds, 1);
	assert_int_equal(st.fused_acts, 1);
	assert_int_equal(st.jobs, 2);
	assert_true(flags & NUQ_JOB_F_RESIDUAL);
	assert_true(range > 0.5);
	/* three 8-bit activations (input, block output, output) and the residual's */
	if (!(err < range * 0.06))
		fail_msg("error %g of range %g", err, range);
	block_free(&k);
}

static void broadcast_add_is_not_fused(void **state)
{
	struct nuq_qexec_stats st;
	struct block k;
	double err, range;
	uint32_t flags;

	(void)state;
	block_build(&k, "residual", "bc");
	run_both(&k, &st, &flags, &err, &range);
	assert_int_equal(st.fused_adds, 0);
	assert_int_equal(flags, 0);
	assert_int_equal(st.device_layers, 2);
	if (!(err < range * 0.06))
		fail_msg("error %g of range %g", err, range);
	block_free(&k);
}

static void hardswish_is_a_table(void **state)
{
	struct nuq_qexec_stats st;
	struct block k;
	double err, range;
	uint32_t flags;

	(void)state;
	block_build(&k, "hswish", "");
	run_both(&k, &st, &flags, &err, &range);
	assert_int_equal(st.device_layers, 2);
	assert_int_equal(st.fused_tables, 1);
	assert_int_equal(st.jobs, 2);
	assert_true(range > 0.5);
	if (!(err < range * 0.06))
		fail_msg("error %g of range %g", err, range);
	block_free(&k);
}

static void open_chain_is_not_a_table(void **state)
{
	struct nuq_qexec_stats st;
	struct block k;
	double err, range;
	uint32_t flags;

	(void)state;
	block_build(&k, "hswish", "leak");
	run_both(&k, &st, &flags, &err, &range);
	/*
	 * Clip's output is a graph output, which keeps its float precision:
	 * the region shrinks to the Add alone (its output read by the fp32
	 * Clip), and the rest runs in fp32.
	 */
	assert_int_equal(st.fused_tables, 1);
	if (!(err < range * 0.06))
		fail_msg("error %g of range %g", err, range);
	block_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(residual_block_is_one_job),
		cmocka_unit_test(broadcast_add_is_not_fused),
		cmocka_unit_test(hardswish_is_a_table),
		cmocka_unit_test(open_chain_is_not_a_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
