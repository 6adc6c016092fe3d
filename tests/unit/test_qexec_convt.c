// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A ConvTranspose whose kernel is a multiple of its stride is one integer
 * job (a phase per stride offset, qconvt.c): its output within a few 8-bit
 * steps of the fp32 ConvTranspose on the same quantized weights, for the
 * 2x2 stride-2 upsampler of PP-OCR's detector, a 4x4 stride-2 one with
 * pads and output_padding, a stride-1 one and an anisotropic one; with a
 * shared codebook (channel scales in the requantization), a codebook per
 * channel, and shift-add digits.  The weights' channels differ in scale,
 * so a scale applied to the wrong channel, a tap not flipped or a phase
 * misplaced shows.  One that has no job form stays fp32 and says why, and
 * so does a layer stored by input channel, as .nuq files before version 4
 * stored it.
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

#define C	6
#define O	5
#define H	7
#define W	9
#define NIN	3

struct shape {
	int64_t kh, kw, sh, sw, pads[4], out_pad[2], group;
	int bn;		/* a BatchNormalization after it (the import folds it) */
	int by_input;	/* the layer as .nuq files before version 4 stored it (IOHW) */
};

/* The BatchNormalization's gamma, beta, mean, var per output channel. */
static void bn_params(float *p)
{
	int i;

	test_gaussian(p, 4 * O, 43, 1.0);
	for (i = 0; i < O; i++) {
		p[i] = 0.5f + p[i] * p[i];			/* gamma > 0 */
		p[3 * O + i] = 0.2f + p[3 * O + i] * p[3 * O + i];	/* var */
	}
	p[2] = -p[2];	/* one channel's scale negative: its weights negate */
}

static void add_bn(struct gb *b, const char *in, const char *out)
{
	static const char *const names[] = { "gamma", "beta", "mean", "var" };
	float p[4 * O];
	int k;

	bn_params(p);
	for (k = 0; k < 4; k++)
		gb_init_f(b, names[k], 1, (int64_t[]){ O }, p + k * O);
	gb_node(b, "BatchNormalization", "bn", in, out);
}

struct convt_net {
	struct gb *b;
	struct nuq_onnx *m;
	struct nuq_graph *g;
	struct nuq_qlayer layer;
	struct nuq_tensor x[NIN];
	char msg[256];
};

/* x[2, C, H, W] -> ConvTranspose(w, b; @s) -> Relu -> y, w quantized by @lo */
static void net_build(struct convt_net *t, const struct shape *s, const struct nuq_layer_opts *lo)
{
	int64_t og = O / s->group, n = C * og * s->kh * s->kw, i;
	const struct nuq_onnx_weight *w;
	struct nuq_onnx_weight wc;
	struct Onnx__NodeProto *node;
	struct nuq_layer_stats st;
	float *wv = malloc(n * sizeof(float)), bv[O], *mat;
	const uint8_t *buf;
	size_t len, nw;

	assert_non_null(wv);
	memset(t, 0, sizeof(*t));
	test_gaussian(wv, n, 41, 0.3);
	/* output channel o (dim 1) at 1 + o times the others' scale */
	for (i = 0; i < n; i++)
		wv[i] *= 1.0f + (float)((i / (s->kh * s->kw)) % og);
	test_gaussian(bv, O, 42, 1.0);
	t->b = gb_new(11);
	gb_input(t->b, "x");
	gb_output(t->b, "y");
	gb_init_f(t->b, "w", 4, (int64_t[]){ C, og, s->kh, s->kw }, wv);
	gb_init_f(t->b, "b", 1, (int64_t[]){ og * s->group }, bv);
	node = gb_node(t->b, "ConvTranspose", "up", "x,w,b", "h");
	gb_attr_ints(t->b, node, "kernel_shape", 2, (int64_t[]){ s->kh, s->kw });
	gb_attr_ints(t->b, node, "strides", 2, (int64_t[]){ s->sh, s->sw });
	gb_attr_ints(t->b, node, "pads", 4, s->pads);
	gb_attr_ints(t->b, node, "output_padding", 2, s->out_pad);
	gb_attr_i(t->b, node, "group", s->group);
	if (s->bn)
		add_bn(t->b, "h,gamma,beta,mean,var", "hb");
	gb_node(t->b, "Relu", "r", s->bn ? "hb" : "h", "y");
	buf = gb_pack(t->b, &len);
	assert_int_equal(nuq_onnx_load_mem(buf, len, &t->m, t->msg, sizeof(t->msg)), 0);
	assert_int_equal(nuq_graph_import(t->m, &t->g, t->msg, sizeof(t->msg)), 0);
	assert_int_equal(nuq_onnx_weights(t->m, &w, &nw, t->msg, sizeof(t->msg)), 0);
	assert_int_equal(nw, 1);
	assert_int_equal(w[0].layout, NUQ_LAYOUT_IOHW_O);
	assert_int_equal(w[0].rows, og);
	wc = w[0];
	if (s->by_input) {
		wc.layout = NUQ_LAYOUT_IOHW;
		wc.rows = C;
		wc.cols = og * s->kh * s->kw;
	}
	assert_int_equal(nuq_onnx_weight_matrix(t->m, &wc, &mat, t->msg, sizeof(t->msg)), 0);
	assert_int_equal(nuq_qlayer_quantize(&wc, mat, lo, &t->layer, &st, t->msg,
					     sizeof(t->msg)), 0);
	free(mat);
	free(wv);
	for (i = 0; i < NIN; i++) {
		assert_int_equal(nuq_tensor_alloc(&t->x[i], NUQ_DT_FLOAT, 4,
						  (int64_t[]){ 2, C, H, W }), 0);
		test_gaussian(t->x[i].f, 2 * C * H * W, 70 + i, 1.0);
	}
}

static void net_free(struct convt_net *t)
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
static void run(struct convt_net *t, unsigned int flags, struct nuq_tensor *y,
		struct nuq_qexec_stats *qs, struct nuq_qexec_layer *layer)
{
	qexec_run_one(t->g, &t->layer, t->x, NIN, flags, y, qs, layer);
}

static const struct nuq_layer_opts knq_shared = {
	.q = { .method = NUQ_Q_KNQ, .bits = 4, .seed = 1 },
	.gran = NUQ_GRAN_CHANNEL_SCALED, .cb_width = 8
};

static void check_job(const struct shape *s, const struct nuq_layer_opts *lo)
{
	int64_t oh = s->sh * (H - 1) + s->out_pad[0] + s->kh - s->pads[0] - s->pads[2];
	int64_t ow = s->sw * (W - 1) + s->out_pad[1] + s->kw - s->pads[1] - s->pads[3];
	int64_t jh = H + s->kh / s->sh - 1, jw = W + s->kw / s->sw - 1;
	struct nuq_qexec_stats qs, fs;
	struct nuq_qexec_layer layer;
	struct convt_net t;
	struct nuq_tensor yq, yf;
	double err = 0, range;
	size_t i;

	net_build(&t, s, lo);
	run(&t, NUQ_QEXEC_WEIGHTS_ONLY, &yf, &fs, &layer);
	run(&t, 0, &yq, &qs, &layer);
	assert_int_equal(qs.device_layers, 1);
	assert_int_equal(qs.fp32_layers, 0);
	assert_int_equal(qs.fused_acts, 1);
	assert_int_equal(qs.jobs, 1);
	/* the uncropped output: every phase over the input padded by m - 1 */
	assert_int_equal(qs.macs, 2 * jh * jw * O * s->sh * s->sw * C * (s->kh / s->sh) *
				  (s->kw / s->sw));
	assert_true(layer.device);
	assert_null(layer.why);
	assert_int_equal(yq.ndims, 4);
	assert_int_equal(yf.dims[2], oh);
	assert_int_equal(yf.dims[3], ow);
	assert_memory_equal(yq.dims, yf.dims, 4 * sizeof(yq.dims[0]));
	range = gb_max_abs(&yf);
	for (i = 0; i < nuq_tensor_count(&yf); i++) {
		err = fmax(err, fabs(yq.f[i] - yf.f[i]));
		assert_true(yq.f[i] >= 0.0f);	/* the fused ReLU */
	}
	print_message("k %lldx%lld s %lldx%lld, %s: max |diff| %.4f of %.3f\n",
		      (long long)s->kh, (long long)s->kw, (long long)s->sh, (long long)s->sw,
		      nuq_gran_name(lo->gran), err, range);
	/* the input's and the output's 8-bit steps; a misplaced tap is 10% or more */
	assert_true(range > 1.0 && err < range * 0.03);
	nuq_tensor_free(&yq);
	nuq_tensor_free(&yf);
	net_free(&t);
}

/* PP-OCR's detector: 2x2, stride 2, no pads (each input pixel its own 2x2 block). */
static void k2_s2_is_a_job(void **state)
{
	const struct shape s = { 2, 2, 2, 2, { 0, 0, 0, 0 }, { 0, 0 }, 1, 0, 0 };

	(void)state;
	check_job(&s, &knq_shared);
}

/* 4x4, stride 2: blocks overlap, the pads crop and output_padding adds a row. */
static void k4_s2_pads_is_a_job(void **state)
{
	const struct shape s = { 4, 4, 2, 2, { 1, 2, 1, 1 }, { 1, 0 }, 1, 0, 0 };

	(void)state;
	check_job(&s, &knq_shared);
}

/* Stride 1: a conv with the kernel flipped; and 3x4 with strides 1x2. */
static void stride1_and_anisotropic_are_jobs(void **state)
{
	const struct shape s1 = { 3, 3, 1, 1, { 1, 1, 1, 1 }, { 0, 0 }, 1, 0, 0 };
	const struct shape s2 = { 3, 4, 1, 2, { 0, 1, 2, 1 }, { 0, 0 }, 1, 0, 0 };

	(void)state;
	check_job(&s1, &knq_shared);
	check_job(&s2, &knq_shared);
}

/* A codebook per channel (copied per phase) and shift-add digits (reordered too). */
static void channel_codebooks_and_digits(void **state)
{
	const struct shape s = { 4, 4, 2, 2, { 1, 1, 1, 1 }, { 0, 0 }, 1, 0, 0 };
	struct nuq_layer_opts lo = knq_shared;

	(void)state;
	lo.gran = NUQ_GRAN_CHANNEL;
	lo.cb_width = 16;
	check_job(&s, &lo);
	lo.q.method = NUQ_Q_ASD;
	lo.q.bits = 0;
	lo.cb_width = 0;
	check_job(&s, &lo);
}

/*
 * The import folds a BatchNormalization into a ConvTranspose (its output
 * channel is weight dim 1): the same outputs as the ConvTranspose with the
 * fold done here by hand; and quantized, the job carries its scale (one
 * channel's negative) and bias.
 */
static void batchnorm_folds_into_convt(void **state)
{
	struct shape s = { 4, 4, 2, 2, { 1, 1, 1, 1 }, { 0, 0 }, 1, 1, 0 };
	struct gb_run r[2];
	struct gb *b[2];
	float w[C * O * 16], bias[O], p[4 * O], sc;
	struct nuq_tensor x;
	double err = 0;
	size_t i;
	int k;

	(void)state;
	check_job(&s, &knq_shared);
	test_gaussian(w, C * O * 16, 44, 0.3);
	test_gaussian(bias, O, 45, 1.0);
	bn_params(p);
	assert_int_equal(nuq_tensor_alloc(&x, NUQ_DT_FLOAT, 4, (int64_t[]){ 1, C, H, W }), 0);
	test_gaussian(x.f, C * H * W, 46, 1.0);
	for (k = 0; k < 2; k++) {
		struct Onnx__NodeProto *n;

		b[k] = gb_new(11);
		gb_input(b[k], "x");
		gb_output(b[k], "y");
		if (k) {	/* by hand: [i, o, kh, kw] times channel o's scale */
			for (i = 0; i < C * O * 16; i++)
				w[i] *= p[(i / 16) % O] / sqrtf(p[3 * O + (i / 16) % O] + 1e-5f);
			for (i = 0; i < O; i++) {
				sc = p[i] / sqrtf(p[3 * O + i] + 1e-5f);
				bias[i] = (bias[i] - p[2 * O + i]) * sc + p[O + i];
			}
		}
		gb_init_f(b[k], "w", 4, (int64_t[]){ C, O, 4, 4 }, w);
		gb_init_f(b[k], "b", 1, (int64_t[]){ O }, bias);
		n = gb_node(b[k], "ConvTranspose", "up", "x,w,b", k ? "y" : "h");
		gb_attr_ints(b[k], n, "strides", 2, (int64_t[]){ 2, 2 });
		gb_attr_ints(b[k], n, "pads", 4, (int64_t[]){ 1, 1, 1, 1 });
		if (!k)
			add_bn(b[k], "h,gamma,beta,mean,var", "y");
		assert_int_equal(gb_run(b[k], &x, &r[k]), 0);
	}
	assert_int_equal(nuq_tensor_count(&r[0].y), nuq_tensor_count(&r[1].y));
	for (i = 0; i < nuq_tensor_count(&r[0].y); i++)
		err = fmax(err, fabs(r[0].y.f[i] - r[1].y.f[i]));
	assert_true(err < 1e-4 * gb_max_abs(&r[1].y));
	for (k = 0; k < 2; k++) {
		gb_run_free(&r[k]);
		gb_free(b[k]);
	}
	nuq_tensor_free(&x);
}

static void stays_fp32(const struct shape *s, const char *why)
{
	struct nuq_qexec_layer layer;
	struct nuq_qexec_stats qs;
	struct convt_net t;
	struct nuq_tensor y;

	net_build(&t, s, &knq_shared);
	run(&t, 0, &y, &qs, &layer);
	assert_int_equal(qs.device_layers, 0);
	assert_int_equal(qs.fp32_layers, 1);
	assert_int_equal(qs.jobs, 0);
	assert_false(layer.device);
	assert_non_null(layer.why);
	if (!strstr(layer.why, why))
		fail_msg("why: %s", layer.why);
	nuq_tensor_free(&y);
	net_free(&t);
}

static void no_job_form_stays_fp32(void **state)
{
	const struct shape odd = { 3, 3, 2, 2, { 1, 1, 1, 1 }, { 0, 0 }, 1, 0, 0 };
	const struct shape grouped = { 2, 2, 2, 2, { 0, 0, 0, 0 }, { 0, 0 }, 2, 0, 0 };
	const struct shape past = { 2, 2, 2, 2, { 0, 0, 0, 0 }, { 1, 0 }, 1, 0, 0 };
	const struct shape old = { 2, 2, 2, 2, { 0, 0, 0, 0 }, { 0, 0 }, 1, 0, 1 };

	(void)state;
	stays_fp32(&odd, "not a multiple of its stride");
	stays_fp32(&grouped, "grouped");
	stays_fp32(&past, "output_padding");
	stays_fp32(&old, "quantize the model again");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(k2_s2_is_a_job),
		cmocka_unit_test(k4_s2_pads_is_a_job),
		cmocka_unit_test(stride1_and_anisotropic_are_jobs),
		cmocka_unit_test(channel_codebooks_and_digits),
		cmocka_unit_test(batchnorm_folds_into_convt),
		cmocka_unit_test(no_job_form_stays_fp32),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
