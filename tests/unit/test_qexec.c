// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The quantized executor on a small conv network: integer jobs on
 * libnuq's CPU core against the fp32 graph with the same quantized
 * weights, fused activations, 8-bit activations between jobs, bias
 * correction, the calibration methods and their degenerate cases, and
 * clear errors.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <nuq/graph.h>
#include <nuq/nuqfile.h>
#include <nuq/qexec.h>

#include "gauss.h"
#include "graph_build.h"
#include "onnx.pb-c.h"
#include "qexec/calib.h"
#include "qexec/qexec_priv.h"

#define NIN	6

/* The layout and codebook entry width net_build() quantizes with. */
static enum nuq_granularity net_gran = NUQ_GRAN_CHANNEL;
static unsigned int net_cbw = 16;
/* check_jobs_match()'s net has an all-zero channel (net_build()'s zero_channel). */
static int net_zero;

struct net {
	struct gb *b;
	struct nuq_onnx *m;
	struct nuq_graph *g;
	struct nuq_qlayer layers[2];
	size_t nlayers;
	struct nuq_tensor x[NIN];
	char msg[256];
};

/*
 * x[1,3,12,12] -> Conv 3x3 (3->8, pad 1) -> Relu -> Conv 1x1 (8->5, bias) -> y.
 * @zero_channel: output channel 2 of the first conv has all-zero weights.
 */
static void net_build(struct net *n, enum nuq_qmethod method, unsigned int bits, int zero_channel)
{
	const struct nuq_onnx_weight *w;
	float w1[8 * 27], w2[5 * 8], b2[5];
	size_t len, i, nw;
	const uint8_t *buf;

	memset(n, 0, sizeof(*n));
	test_gaussian(w1, 8 * 27, 11, 0.3);
	test_gaussian(w2, 40, 12, 0.4);
	test_gaussian(b2, 5, 13, 0.2);
	if (zero_channel)
		memset(w1 + 2 * 27, 0, 27 * sizeof(float));
	n->b = gb_new(11);
	gb_input(n->b, "x");
	gb_output(n->b, "y");
	gb_init_f(n->b, "w1", 4, (int64_t[]){ 8, 3, 3, 3 }, w1);
	gb_init_f(n->b, "w2", 4, (int64_t[]){ 5, 8, 1, 1 }, w2);
	gb_init_f(n->b, "b2", 1, (int64_t[]){ 5 }, b2);
	gb_attr_ints(n->b, gb_node(n->b, "Conv", "conv1", "x,w1", "c1"), "pads", 4,
		     (int64_t[]){ 1, 1, 1, 1 });
	gb_node(n->b, "Relu", "relu1", "c1", "r1");
	gb_node(n->b, "Conv", "conv2", "r1,w2,b2", "y");
	buf = gb_pack(n->b, &len);
	assert_int_equal(nuq_onnx_load_mem(buf, len, &n->m, n->msg, sizeof(n->msg)), 0);
	assert_int_equal(nuq_graph_import(n->m, &n->g, n->msg, sizeof(n->msg)), 0);
	assert_int_equal(nuq_onnx_weights(n->m, &w, &nw, n->msg, sizeof(n->msg)), 0);
	for (i = 0; i < nw; i++) {
		struct nuq_layer_opts o = { .q = { .method = method, .bits = bits, .seed = 1 },
					    .gran = net_gran, .cb_width = net_cbw };
		struct nuq_layer_stats st;
		float *mat;

		assert_int_equal(nuq_onnx_weight_matrix(n->m, &w[i], &mat, n->msg, sizeof(n->msg)), 0);
		assert_int_equal(nuq_qlayer_quantize(&w[i], mat, &o, &n->layers[i], &st, n->msg,
						     sizeof(n->msg)), 0);
		free(mat);
	}
	n->nlayers = nw;
	for (i = 0; i < NIN; i++) {
		n->x[i].dtype = NUQ_DT_FLOAT;
		n->x[i].ndims = 4;
		n->x[i].dims[0] = 1, n->x[i].dims[1] = 3, n->x[i].dims[2] = 12, n->x[i].dims[3] = 12;
		n->x[i].f = malloc(432 * sizeof(float));
		test_gaussian(n->x[i].f, 432, 100 + i, 1.0);
	}
}

static void net_free(struct net *n)
{
	size_t i;

	for (i = 0; i < n->nlayers; i++)
		nuq_qlayer_free(&n->layers[i]);
	for (i = 0; i < NIN; i++)
		free(n->x[i].f);
	nuq_graph_free(n->g);
	nuq_onnx_free(n->m);
	gb_free(n->b);
}

/*
 * Integer jobs agree with fp32 on the same quantized weights to a few
 * steps; returns the first job's flags.
 */
static uint32_t check_jobs_match(enum nuq_qmethod method, unsigned int bits)
{
	/* Both layers as jobs: the last one is a head (a graph output follows). */
	struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU | NUQ_QEXEC_QUANTIZED_HEADS,
				    .calib = NUQ_CALIB_MINMAX };
	struct nuq_qexec_opts wo = { .flags = NUQ_QEXEC_CPU | NUQ_QEXEC_WEIGHTS_ONLY };
	struct nuq_qexec_stats st;
	struct nuq_qexec *q;
	struct nuq_tensor yq, yf;
	struct net n;
	size_t i;
	double range, err = 0;
	uint32_t flags = 0;

	net_build(&n, method, bits, net_zero);
	/* fp32 reference: same weights, fp32 activations */
	assert_int_equal(nuq_qexec_create(n.g, n.layers, n.nlayers, &wo, &q, n.msg,
					  sizeof(n.msg)), 0);
	assert_int_equal(nuq_qexec_calibrate(q, n.x, NIN - 1, NULL, NULL, n.msg,
					     sizeof(n.msg)), 0);
	assert_int_equal(nuq_qexec_run(q, &n.x[NIN - 1], &yf, n.msg, sizeof(n.msg)), 0);
	nuq_qexec_free(q);

	assert_int_equal(nuq_qexec_create(n.g, n.layers, n.nlayers, &o, &q, n.msg,
					  sizeof(n.msg)), 0);
	assert_int_equal(nuq_qexec_run(q, &n.x[0], &yq, n.msg, sizeof(n.msg)), -EINVAL);
	assert_non_null(strstr(n.msg, "calibrate"));
	assert_int_equal(nuq_qexec_calibrate(q, n.x, NIN - 1, NULL, NULL, n.msg,
					     sizeof(n.msg)), 0);
	assert_int_equal(nuq_qexec_run(q, &n.x[NIN - 1], &yq, n.msg, sizeof(n.msg)), 0);
	nuq_qexec_stats(q, &st);
	assert_int_equal(st.device_layers, 2);
	assert_int_equal(st.fused_acts, 1);
	assert_int_equal(st.jobs, 2);
	assert_int_equal(st.macs, 144 * (8 * 27 + 5 * 8));
	assert_int_equal(st.on_kernel_device, 0);
	assert_int_equal(yq.ndims, 4);
	assert_int_equal(yq.dims[1], 5);
	for (i = 0; i < q->g->nnodes; i++)
		if (q->qn[i].device) {
			flags = q->qn[i].job.flags;
			break;
		}
	range = gb_max_abs(&yf);
	for (i = 0; i < nuq_tensor_count(&yf); i++)
		err = fmax(err, fabs(yq.f[i] - yf.f[i]));
	/* two 8-bit activations (input, hidden) and the output step */
	if (!(err < range * 0.06))
		fail_msg("%s %u bits, %s: error %g of range %g", nuq_qmethod_name(method), bits,
			 nuq_gran_name(net_gran), err, range);
	assert_true(range > 0.5);
	nuq_tensor_free(&yq);
	nuq_tensor_free(&yf);
	nuq_qexec_free(q);
	net_free(&n);
	return flags;
}

/*
 * By default the layer a graph output follows runs in fp32 (with its
 * quantized weights): one job, one head, and the output closer to the
 * fp32-activation run than with both layers as jobs.
 */
static void head_runs_in_fp32(void **state)
{
	struct nuq_qexec_opts wo = { .flags = NUQ_QEXEC_CPU | NUQ_QEXEC_WEIGHTS_ONLY };
	struct nuq_qexec_opts o[2] = {
		{ .flags = NUQ_QEXEC_CPU, .calib = NUQ_CALIB_MINMAX },
		{ .flags = NUQ_QEXEC_CPU | NUQ_QEXEC_QUANTIZED_HEADS, .calib = NUQ_CALIB_MINMAX },
	};
	struct nuq_qexec_layer_error *e;
	struct nuq_qexec_stats st;
	struct nuq_tensor y[3];
	struct nuq_graph_feed feed = { .name = NULL };
	struct nuq_qexec *q;
	struct net n;
	double err[2] = { 0, 0 };
	size_t i, ne;
	int k;

	(void)state;
	net_gran = NUQ_GRAN_CHANNEL;
	net_build(&n, NUQ_Q_KNQ, 4, 0);
	for (k = 0; k < 3; k++) {
		assert_int_equal(nuq_qexec_create(n.g, n.layers, n.nlayers, k ? &o[k - 1] : &wo,
						  &q, n.msg, sizeof(n.msg)), 0);
		assert_int_equal(nuq_qexec_calibrate(q, n.x, NIN - 1, NULL, NULL, n.msg,
						     sizeof(n.msg)), 0);
		assert_int_equal(nuq_qexec_run(q, &n.x[NIN - 1], &y[k], n.msg, sizeof(n.msg)), 0);
		nuq_qexec_stats(q, &st);
		assert_int_equal(st.device_layers, k == 1 ? 1 : k == 2 ? 2 : 0);
		assert_int_equal(st.head_layers, k == 2 ? 0 : 1);
		if (k == 1) {
			/* The report: one entry per quantized layer, the head last. */
			feed.name = nuq_graph_input_name(n.g);
			feed.tensor = &n.x[NIN - 1];
			assert_int_equal(nuq_qexec_layer_errors(q, &feed, 1, &e, &ne, n.msg,
								sizeof(n.msg)), 0);
			assert_int_equal(ne, 2);
			assert_true(e[0].device && !e[0].head && e[1].head && !e[1].device);
			assert_true(e[0].count > 0 && e[1].count > 0);
			assert_true(e[0].sqnr_db > 10 && e[1].sqnr_db > 10);
			free(e);
		}
		nuq_qexec_free(q);
	}
	for (k = 0; k < 2; k++)
		for (i = 0; i < nuq_tensor_count(&y[0]); i++)
			err[k] += (y[k + 1].f[i] - y[0].f[i]) * (y[k + 1].f[i] - y[0].f[i]);
	assert_true(err[0] < err[1]);
	for (k = 0; k < 3; k++)
		nuq_tensor_free(&y[k]);
	net_free(&n);
}

static void jobs_match_fp32(void **state)
{
	(void)state;
	net_gran = NUQ_GRAN_CHANNEL;
	check_jobs_match(NUQ_Q_KNQ, 4);
	check_jobs_match(NUQ_Q_ASD, 4);
}

/*
 * One codebook for the layer with per-channel scales: the scales go into
 * the per-channel requantization, so the job has a single (per-layer)
 * codebook, and it still matches the fp32 graph on the dequantized
 * weights.  Every backend gets this same descriptor from qconv.c.
 */
static void shared_codebook_jobs_match_fp32(void **state)
{
	static const enum nuq_qmethod methods[] = { NUQ_Q_KNQ, NUQ_Q_KDE, NUQ_Q_UNIFORM_SYM };
	unsigned int bits, k;

	(void)state;
	net_gran = NUQ_GRAN_CHANNEL_SCALED;
	for (k = 0; k < 3; k++)
		for (bits = 2; bits <= 8; bits += 2) {
			uint32_t flags = check_jobs_match(methods[k], bits);

			assert_true(flags & NUQ_JOB_F_CODEBOOK_PER_LAYER);
		}
	/* 8-bit entries move up into the 16-bit range before any shift */
	net_cbw = 8;
	for (bits = 2; bits <= 8; bits += 3)
		check_jobs_match(NUQ_Q_KNQ, bits);
	net_cbw = 16;
	net_gran = NUQ_GRAN_CHANNEL;
	assert_false(check_jobs_match(NUQ_Q_KNQ, 4) & NUQ_JOB_F_CODEBOOK_PER_LAYER);
}

/*
 * What the executor still reads from the ONNX file: every tensor that is
 * not a quantized weight, at its stored size (here the bias b2, and w2
 * too when only w1 is quantized).
 */
static void kept_bytes_count_the_rest(void **state)
{
	uint64_t kept;
	struct net n;

	(void)state;
	net_gran = NUQ_GRAN_CHANNEL_SCALED;
	net_build(&n, NUQ_Q_KNQ, 4, 0);
	assert_int_equal(n.nlayers, 2);
	assert_int_equal(nuq_onnx_kept_bytes(n.m, n.layers, 2, &kept, n.msg, sizeof(n.msg)), 0);
	assert_int_equal(kept, 5 * 4);
	assert_int_equal(nuq_onnx_kept_bytes(n.m, n.layers, 1, &kept, n.msg, sizeof(n.msg)), 0);
	assert_int_equal(kept, 5 * 4 + (strcmp(n.layers[0].name, "w1") ? 8 * 27 : 5 * 8) * 4);
	assert_int_equal(nuq_onnx_kept_bytes(n.m, n.layers, 0, &kept, n.msg, sizeof(n.msg)), 0);
	assert_int_equal(kept, (5 + 8 * 27 + 5 * 8) * 4);
	net_free(&n);
	net_gran = NUQ_GRAN_CHANNEL;
}

/* A MatMul with constant weights runs as a 1x1 conv job over its rows. */
static void fully_connected_job(void **state)
{
	/* Both layers as jobs: the last one is a head (a graph output follows). */
	struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU | NUQ_QEXEC_QUANTIZED_HEADS,
				    .calib = NUQ_CALIB_MINMAX };
	struct nuq_qexec_opts wo = { .flags = NUQ_QEXEC_CPU | NUQ_QEXEC_WEIGHTS_ONLY };
	const struct nuq_onnx_weight *w;
	struct nuq_layer_opts lo = { .q = { .method = NUQ_Q_KNQ, .bits = 4, .seed = 1 },
				     .gran = NUQ_GRAN_CHANNEL, .cb_width = 16 };
	struct nuq_tensor x[3], yq, yf;
	struct nuq_layer_stats st;
	struct nuq_qexec_stats qs;
	struct nuq_qlayer layer;
	struct nuq_onnx *m;
	struct nuq_graph *g;
	struct nuq_qexec *q;
	struct gb *b = gb_new(11);
	float wv[16 * 10], *mat;
	double err = 0, range = 0;
	char msg[256];
	const uint8_t *buf;
	size_t len, nw, i;

	(void)state;
	test_gaussian(wv, 160, 21, 0.5);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_f(b, "fc_w", 2, (int64_t[]){ 16, 10 }, wv);
	gb_node(b, "MatMul", "fc", "x,fc_w", "h");
	gb_node(b, "Relu", "r", "h", "y");
	buf = gb_pack(b, &len);
	assert_int_equal(nuq_onnx_load_mem(buf, len, &m, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_graph_import(m, &g, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_onnx_weights(m, &w, &nw, msg, sizeof(msg)), 0);
	assert_int_equal(nw, 1);
	assert_int_equal(nuq_onnx_weight_matrix(m, &w[0], &mat, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_qlayer_quantize(&w[0], mat, &lo, &layer, &st, msg, sizeof(msg)), 0);
	free(mat);
	for (i = 0; i < 3; i++) {
		memset(&x[i], 0, sizeof(x[i]));
		x[i].dtype = NUQ_DT_FLOAT;
		x[i].ndims = 3;
		x[i].dims[0] = 1, x[i].dims[1] = 7, x[i].dims[2] = 16;
		x[i].f = malloc(112 * sizeof(float));
		test_gaussian(x[i].f, 112, 50 + i, 1.0);
	}
	assert_int_equal(nuq_qexec_create(g, &layer, 1, &wo, &q, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_qexec_calibrate(q, x, 2, NULL, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_qexec_run(q, &x[2], &yf, msg, sizeof(msg)), 0);
	nuq_qexec_free(q);
	assert_int_equal(nuq_qexec_create(g, &layer, 1, &o, &q, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_qexec_calibrate(q, x, 2, NULL, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(nuq_qexec_run(q, &x[2], &yq, msg, sizeof(msg)), 0);
	nuq_qexec_stats(q, &qs);
	assert_int_equal(qs.device_layers, 1);
	assert_int_equal(qs.fused_acts, 1);
	assert_int_equal(qs.jobs, 1);
	assert_int_equal(qs.macs, 7 * 16 * 10);
	assert_int_equal(yq.ndims, 3);
	assert_int_equal(yq.dims[1], 7);
	assert_int_equal(yq.dims[2], 10);
	for (i = 0; i < 70; i++) {
		err = fmax(err, fabs(yq.f[i] - yf.f[i]));
		range = fmax(range, fabs(yf.f[i]));
		assert_true(yq.f[i] >= 0.0f);	/* the fused ReLU */
	}
	assert_true(range > 0.5 && err < range * 0.05);
	nuq_tensor_free(&yq);
	nuq_tensor_free(&yf);
	nuq_qexec_free(q);
	for (i = 0; i < 3; i++)
		free(x[i].f);
	nuq_qlayer_free(&layer);
	nuq_graph_free(g);
	nuq_onnx_free(m);
	gb_free(b);
}

/* Freeing the executor gives the graph back its fp32 weights. */
static void free_restores_graph(void **state)
{
	struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU, .calib = NUQ_CALIB_PERCENTILE };
	struct nuq_tensor a, b;
	struct nuq_qexec *q, *q2;
	struct net n;

	(void)state;
	net_build(&n, NUQ_Q_KNQ, 2, 0);
	assert_int_equal(nuq_graph_run(n.g, &n.x[0], &a, n.msg, sizeof(n.msg)), 0);
	assert_int_equal(nuq_qexec_create(n.g, n.layers, n.nlayers, &o, &q, n.msg, sizeof(n.msg)), 0);
	/* One executor per graph. */
	assert_int_equal(nuq_qexec_create(n.g, n.layers, n.nlayers, &o, &q2, n.msg, sizeof(n.msg)),
			 -EBUSY);
	assert_int_equal(nuq_qexec_calibrate(q, n.x, NIN, NULL, NULL, n.msg, sizeof(n.msg)), 0);
	nuq_qexec_free(q);
	assert_int_equal(nuq_graph_run(n.g, &n.x[0], &b, n.msg, sizeof(n.msg)), 0);
	assert_memory_equal(a.f, b.f, nuq_tensor_count(&a) * sizeof(float));
	nuq_tensor_free(&a);
	nuq_tensor_free(&b);
	net_free(&n);
}

/* An all-zero weight channel: finite scales, and the output is the bias path. */
static void zero_channel(void **state)
{
	struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU, .calib = NUQ_CALIB_MSE };
	struct nuq_tensor y;
	struct nuq_qexec *q;
	struct net n;
	size_t i;

	(void)state;
	net_build(&n, NUQ_Q_KNQ, 3, 1);
	assert_int_equal(nuq_qexec_create(n.g, n.layers, n.nlayers, &o, &q, n.msg, sizeof(n.msg)), 0);
	assert_int_equal(nuq_qexec_calibrate(q, n.x, NIN, NULL, NULL, n.msg, sizeof(n.msg)), 0);
	assert_int_equal(nuq_qexec_run(q, &n.x[0], &y, n.msg, sizeof(n.msg)), 0);
	for (i = 0; i < nuq_tensor_count(&y); i++)
		assert_true(isfinite(y.f[i]));
	nuq_tensor_free(&y);
	nuq_qexec_free(q);
	net_free(&n);
}

/*
 * A channel whose weights are all zero has scale 0: with one codebook
 * for the layer its job once added the layer's entries through the unit
 * requantization meant for a bias alone, and saturated.  It gets zero
 * entries (per-channel codebooks) and matches fp32.
 */
static void zero_scale_channel_job(void **state)
{
	uint32_t flags;

	(void)state;
	net_gran = NUQ_GRAN_CHANNEL_SCALED;
	net_zero = 1;
	flags = check_jobs_match(NUQ_Q_KNQ, 4);
	assert_false(flags & NUQ_JOB_F_CODEBOOK_PER_LAYER);
	net_gran = NUQ_GRAN_CHANNEL;
	check_jobs_match(NUQ_Q_ASD, 4);
	net_zero = 0;
}

/* A .nuq layer of the wrong shape is refused with its name. */
static void wrong_layer_shape(void **state)
{
	struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU };
	struct nuq_qexec *q;
	struct net n;

	(void)state;
	net_build(&n, NUQ_Q_KNQ, 4, 0);
	n.layers[1].dims[1] = 9;
	assert_int_equal(nuq_qexec_create(n.g, n.layers, n.nlayers, &o, &q, n.msg, sizeof(n.msg)),
			 -EINVAL);
	assert_non_null(strstr(n.msg, "w2"));
	assert_null(q);
	n.layers[1].dims[1] = 8;
	net_free(&n);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A saved calibration gives the same bits; a broken one is refused with its line. */
static void calibration_file(void **state)
{
	struct nuq_qexec_opts o = { .flags = NUQ_QEXEC_CPU, .calib = NUQ_CALIB_KL };
	char path[] = "/tmp/nuq-calib-XXXXXX", bad[64], *text = NULL;
	struct nuq_tensor a, b;
	struct nuq_qexec *q;
	struct net n;
	size_t len = 0;
	FILE *f;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	net_build(&n, NUQ_Q_KNQ, 3, 0);
	assert_int_equal(nuq_qexec_create(n.g, n.layers, n.nlayers, &o, &q, n.msg, sizeof(n.msg)), 0);
	assert_int_equal(nuq_qexec_save_calibration(q, path, n.msg, sizeof(n.msg)), -EINVAL);
	assert_int_equal(nuq_qexec_calibrate(q, n.x, NIN - 1, NULL, NULL, n.msg, sizeof(n.msg)), 0);
	assert_int_equal(nuq_qexec_run(q, &n.x[NIN - 1], &a, n.msg, sizeof(n.msg)), 0);
	assert_int_equal(nuq_qexec_save_calibration(q, path, n.msg, sizeof(n.msg)), 0);
	nuq_qexec_free(q);

	assert_int_equal(nuq_qexec_create(n.g, n.layers, n.nlayers, &o, &q, n.msg, sizeof(n.msg)), 0);
	assert_int_equal(nuq_qexec_load_calibration(q, path, n.msg, sizeof(n.msg)), 0);
	assert_int_equal(nuq_qexec_run(q, &n.x[NIN - 1], &b, n.msg, sizeof(n.msg)), 0);
	assert_memory_equal(a.f, b.f, nuq_tensor_count(&a) * sizeof(float));
	nuq_tensor_free(&a);
	nuq_tensor_free(&b);

	f = fopen(path, "r");
	assert_int_equal(getdelim(&text, &len, 0, f) > 0, 1);
	fclose(f);
	snprintf(bad, sizeof(bad), "%s.bad", path);
	write_text(bad, "not a calibration\n");
	assert_int_equal(nuq_qexec_load_calibration(q, bad, n.msg, sizeof(n.msg)), -EBADMSG);
	assert_non_null(strstr(n.msg, ":1:"));
	write_text(bad, "nuq-calibration 1\nrange nowhere 0 1\n");
	assert_int_equal(nuq_qexec_load_calibration(q, bad, n.msg, sizeof(n.msg)), -ENOENT);
	assert_non_null(strstr(n.msg, ":2: the model has no value 'nowhere'"));
	write_text(bad, "nuq-calibration 1\nrange x 0 nan\n");
	assert_int_equal(nuq_qexec_load_calibration(q, bad, n.msg, sizeof(n.msg)), -EINVAL);
	write_text(bad, "nuq-calibration 1\nrange x -1 1\n");
	assert_int_equal(nuq_qexec_load_calibration(q, bad, n.msg, sizeof(n.msg)), -EINVAL);
	assert_non_null(strstr(n.msg, "no range for"));
	write_text(bad, "nuq-calibration 1\nmean x 2 0.5 0.5\n");	/* x has 3 channels */
	assert_int_equal(nuq_qexec_load_calibration(q, bad, n.msg, sizeof(n.msg)), -EINVAL);
	/* every truncation of the good file either loads or fails cleanly */
	for (size_t cut = 0; cut < strlen(text); cut += 7) {
		f = fopen(bad, "w");
		fwrite(text, 1, cut, f);
		fclose(f);
		(void)nuq_qexec_load_calibration(q, bad, n.msg, sizeof(n.msg));
	}
	/* and the good one still works after all that */
	assert_int_equal(nuq_qexec_load_calibration(q, path, n.msg, sizeof(n.msg)), 0);
	unlink(bad);
	unlink(path);
	free(text);
	nuq_qexec_free(q);
	net_free(&n);
}

static void calibration_methods(void **state)
{
	struct nuq_act_stats s = { 0 }, z = { 0 };
	float x[20000], lo[NUQ_CALIB_COUNT], hi[NUQ_CALIB_COUNT], scale, zeros[64] = { 0 };
	enum nuq_calib c;
	int32_t zp;
	int i;

	(void)state;
	test_gaussian(x, 20000, 5, 1.0);
	x[17] = 40.0f;	/* one outlier */
	nuq_act_stats_add(&s, x, 20000);
	for (c = 0; c < NUQ_CALIB_COUNT; c++) {
		enum nuq_calib back;

		nuq_act_range(&s, c, &lo[c], &hi[c]);
		assert_true(lo[c] <= 0 && hi[c] > 0);
		assert_int_equal(nuq_calib_parse(nuq_calib_name(c), &back), 0);
		assert_int_equal(back, c);
	}
	assert_true(hi[NUQ_CALIB_MINMAX] == 40.0f);
	/* MSE may keep one far outlier (it costs more clipped than kept) ... */
	assert_true(hi[NUQ_CALIB_MSE] <= 40.0f && lo[NUQ_CALIB_MSE] < -3.0f);
	/* ... the others clip it and keep the body of the distribution. */
	assert_true(hi[NUQ_CALIB_PERCENTILE] < 20.0f && lo[NUQ_CALIB_PERCENTILE] < -3.0f);
	assert_true(hi[NUQ_CALIB_KL] < 20.0f && lo[NUQ_CALIB_KL] < -2.0f);
	assert_true(hi[NUQ_CALIB_LAYER] < 20.0f && lo[NUQ_CALIB_LAYER] < -3.0f);
	/* The layer-wise method's step is a power of two. */
	nuq_act_qparams(lo[NUQ_CALIB_LAYER], hi[NUQ_CALIB_LAYER], &scale, &zp);
	assert_true(fabsf(log2f(scale) - roundf(log2f(scale))) < 1e-3f);
	/* A tensor that was always zero gets a finite, tiny range. */
	nuq_act_stats_add(&z, zeros, 64);
	for (c = 0; c < NUQ_CALIB_COUNT; c++) {
		nuq_act_range(&z, c, &lo[0], &hi[0]);
		nuq_act_qparams(lo[0], hi[0], &scale, &zp);
		assert_true(isfinite(scale) && scale > 0);
		assert_true(zp >= 0 && zp <= 255);
	}
	for (i = 0; i < 3; i++)
		assert_int_equal(nuq_calib_parse("nope", &c), -EINVAL);
	nuq_act_stats_free(&s);
	nuq_act_stats_free(&z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jobs_match_fp32),
		cmocka_unit_test(shared_codebook_jobs_match_fp32),
		cmocka_unit_test(kept_bytes_count_the_rest),
		cmocka_unit_test(fully_connected_job),
		cmocka_unit_test(head_runs_in_fp32),
		cmocka_unit_test(free_restores_graph),
		cmocka_unit_test(zero_channel),
		cmocka_unit_test(zero_scale_channel_job),
		cmocka_unit_test(wrong_layer_shape),
		cmocka_unit_test(calibration_file),
		cmocka_unit_test(calibration_methods),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
