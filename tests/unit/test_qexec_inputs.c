// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A model with two inputs calibrates and rounds on runs of named feeds:
 * - nuq_qexec_calibrate_feeds() gives ranges for both branches, and the
 *   quantized run of every output stays within a few 8-bit steps of the
 *   fp32-activation run, both inputs as jobs;
 * - the one-input nuq_qexec_calibrate() refuses the model and says what
 *   to call instead; a run missing an input is refused by name;
 * - nuq_graph_weight_moments_feeds() sums each weight's own input (a
 *   graph input itself here: w2 reads only b), checked by hand.
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

#define C	3
#define HW	6
#define O	4
#define RUNS	3

struct two_net {
	struct gb *b;
	struct nuq_onnx *m;
	struct nuq_graph *g;
	struct nuq_qlayer layers[3];
	struct nuq_tensor x[2 * RUNS];
	struct nuq_graph_feed feeds[2 * RUNS];
	char msg[256];
};

/* a, b -> Conv(w1) + Conv(w2) -> Relu -> Conv(w3) -> y; b at 5 times a's scale */
static void net_build(struct two_net *t)
{
	struct nuq_layer_opts lo = { .q = { .method = NUQ_Q_KNQ, .bits = 4, .seed = 1 },
				     .gran = NUQ_GRAN_CHANNEL_SCALED, .cb_width = 8 };
	const struct nuq_onnx_weight *w;
	float w1[O * C * 9], w2[O * C], w3[2 * O * 9], *mat;
	struct nuq_layer_stats st;
	const uint8_t *buf;
	size_t len, nw, i;

	memset(t, 0, sizeof(*t));
	test_gaussian(w1, O * C * 9, 51, 0.3);
	test_gaussian(w2, O * C, 52, 0.3);
	test_gaussian(w3, 2 * O * 9, 53, 0.3);
	t->b = gb_new(11);
	gb_input(t->b, "a");
	gb_input(t->b, "b");
	gb_output(t->b, "y");
	gb_init_f(t->b, "w1", 4, (int64_t[]){ O, C, 3, 3 }, w1);
	gb_init_f(t->b, "w2", 4, (int64_t[]){ O, C, 1, 1 }, w2);
	gb_init_f(t->b, "w3", 4, (int64_t[]){ 2, O, 3, 3 }, w3);
	gb_attr_ints(t->b, gb_node(t->b, "Conv", "c1", "a,w1", "p"), "pads", 4,
		     (int64_t[]){ 1, 1, 1, 1 });
	gb_node(t->b, "Conv", "c2", "b,w2", "q");
	gb_node(t->b, "Add", "sum", "p,q", "s");
	gb_node(t->b, "Relu", "r", "s", "h");
	gb_node(t->b, "Conv", "c3", "h,w3", "y");
	buf = gb_pack(t->b, &len);
	assert_int_equal(nuq_onnx_load_mem(buf, len, &t->m, t->msg, sizeof(t->msg)), 0);
	assert_int_equal(nuq_graph_import(t->m, &t->g, t->msg, sizeof(t->msg)), 0);
	assert_int_equal(nuq_graph_ninputs(t->g), 2);
	assert_int_equal(nuq_onnx_weights(t->m, &w, &nw, t->msg, sizeof(t->msg)), 0);
	assert_int_equal(nw, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(nuq_onnx_weight_matrix(t->m, &w[i], &mat, t->msg,
							sizeof(t->msg)), 0);
		assert_int_equal(nuq_qlayer_quantize(&w[i], mat, &lo, &t->layers[i], &st, t->msg,
						     sizeof(t->msg)), 0);
		free(mat);
	}
	for (i = 0; i < 2 * RUNS; i++) {
		assert_int_equal(nuq_tensor_alloc(&t->x[i], NUQ_DT_FLOAT, 4,
						  (int64_t[]){ 1, C, HW, HW }), 0);
		test_gaussian(t->x[i].f, C * HW * HW, 80 + i, i % 2 ? 5.0 : 1.0);
		t->feeds[i].name = i % 2 ? "b" : "a";
		t->feeds[i].tensor = &t->x[i];
	}
}

static void net_free(struct two_net *t)
{
	size_t i;

	for (i = 0; i < 2 * RUNS; i++)
		nuq_tensor_free(&t->x[i]);
	for (i = 0; i < 3; i++)
		nuq_qlayer_free(&t->layers[i]);
	nuq_graph_free(t->g);
	nuq_onnx_free(t->m);
	gb_free(t->b);
}

static void run(struct two_net *t, unsigned int flags, struct nuq_tensor *y,
		struct nuq_qexec_stats *qs)
{
	struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU | NUQ_QEXEC_QUANTIZED_HEADS | flags,
				    .calib = NUQ_CALIB_MINMAX };
	struct nuq_qexec *q;

	assert_int_equal(nuq_qexec_create(t->g, t->layers, 3, &o, &q, t->msg, sizeof(t->msg)), 0);
	if (!(flags & NUQ_QEXEC_WEIGHTS_ONLY) &&
	    nuq_qexec_calibrate_feeds(q, t->feeds, 2, RUNS, NULL, NULL, t->msg, sizeof(t->msg)))
		fail_msg("%s", t->msg);
	/* the last run again, its inputs in the other order */
	assert_int_equal(nuq_qexec_run_all(q, (struct nuq_graph_feed[]){
						      t->feeds[2 * RUNS - 1], t->feeds[2 * RUNS - 2] },
					   2, y, t->msg, sizeof(t->msg)), 0);
	nuq_qexec_stats(q, qs);
	nuq_qexec_free(q);
}

static void two_inputs_calibrate_on_feeds(void **state)
{
	struct nuq_qexec_stats qs, fs;
	struct nuq_tensor yq, yf;
	struct two_net t;
	double err = 0, range;
	size_t i;

	(void)state;
	net_build(&t);
	run(&t, NUQ_QEXEC_WEIGHTS_ONLY, &yf, &fs);
	run(&t, 0, &yq, &qs);
	assert_int_equal(qs.device_layers, 3);
	assert_int_equal(qs.jobs, 3);
	range = gb_max_abs(&yf);
	for (i = 0; i < nuq_tensor_count(&yf); i++)
		err = fmax(err, fabs(yq.f[i] - yf.f[i]));
	print_message("max |diff| %.4f of %.3f\n", err, range);
	/* b's range is 5x a's: calibrated on a alone, b's branch would saturate */
	assert_true(range > 1.0 && err < range * 0.06);
	nuq_tensor_free(&yq);
	nuq_tensor_free(&yf);
	net_free(&t);
}

static void one_input_calls_refused(void **state)
{
	struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU };
	struct nuq_qexec *q;
	struct two_net t;

	(void)state;
	net_build(&t);
	assert_int_equal(nuq_qexec_create(t.g, t.layers, 3, &o, &q, t.msg, sizeof(t.msg)), 0);
	assert_int_equal(nuq_qexec_calibrate(q, t.x, RUNS, NULL, NULL, t.msg, sizeof(t.msg)),
			 -EINVAL);
	assert_non_null(strstr(t.msg, "the model has 2 inputs"));
	assert_non_null(strstr(t.msg, "nuq_qexec_calibrate_feeds"));
	/* run 1 with input a twice and no b */
	t.feeds[3] = t.feeds[2];
	assert_int_equal(nuq_qexec_calibrate_feeds(q, t.feeds, 2, RUNS, NULL, NULL, t.msg,
						   sizeof(t.msg)), -EINVAL);
	assert_non_null(strstr(t.msg, "input 'a' is given twice"));
	nuq_qexec_free(q);
	net_free(&t);
}

/* w2 (1x1) reads graph input b itself: its moments are b's sums over the runs. */
static void moments_on_feeds(void **state)
{
	const char *names[3] = { "w1", "w2", "w3" };
	struct nuq_moments mo[3];
	double sum[C] = { 0 }, h00 = 0;
	struct two_net t;
	size_t i, r, p;

	(void)state;
	net_build(&t);
	if (nuq_graph_weight_moments_feeds(t.g, t.feeds, 2, RUNS, names, 3, mo, t.msg,
					   sizeof(t.msg)))
		fail_msg("%s", t.msg);
	for (i = 0; i < 3; i++)
		assert_non_null(mo[i].h);
	assert_int_equal(mo[1].dim, C);
	assert_int_equal(mo[1].samples, RUNS * HW * HW);
	for (r = 0; r < RUNS; r++)
		for (p = 0; p < HW * HW; p++) {
			for (i = 0; i < C; i++)
				sum[i] += t.x[2 * r + 1].f[i * HW * HW + p];
			h00 += (double)t.x[2 * r + 1].f[p] * t.x[2 * r + 1].f[p];
		}
	for (i = 0; i < C; i++)
		assert_true(fabs(mo[1].sum[i] - sum[i]) < 1e-3 * (1 + fabs(sum[i])));
	assert_true(fabs(mo[1].h[0] - h00) < 1e-3 * h00);
	for (i = 0; i < 3; i++)
		nuq_moments_free(&mo[i]);
	/* the one-input call refuses the model */
	assert_int_equal(nuq_graph_weight_moments(t.g, t.x, RUNS, names, 3, mo, t.msg,
						  sizeof(t.msg)), -EINVAL);
	assert_non_null(strstr(t.msg, "2 inputs"));
	net_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_inputs_calibrate_on_feeds),
		cmocka_unit_test(one_input_calls_refused),
		cmocka_unit_test(moments_on_feeds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
