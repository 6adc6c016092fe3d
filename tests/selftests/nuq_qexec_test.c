// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: the quantized executor on /dev/nuq0.  A small network
 * (conv, fused ReLU, depthwise conv, pointwise conv) with 4-bit codebook
 * and ASD weights runs as integer jobs on the kernel device and on
 * libnuq's CPU core: the outputs must be bit-identical, since both run
 * the same conv core on the same 8-bit activations.
 */
#include <math.h>

#include <nuq/nuq.h>
#include <nuq/graph.h>
#include <nuq/nuqfile.h>
#include <nuq/qexec.h>

#include "nuq_harness.h"
#include "gauss.h"
#include "graph_build.h"
#include "onnx.pb-c.h"

#define NIN	4

struct net {
	struct gb *b;
	struct nuq_onnx *m;
	struct nuq_graph *g;
	struct nuq_qlayer layers[3];
	size_t nlayers;
};

static int net_build(struct net *n, enum nuq_qmethod method)
{
	const struct nuq_onnx_weight *w;
	struct Onnx__NodeProto *c2;
	float w1[16 * 27], w2[16 * 9], w3[8 * 16], b3[8];
	size_t len, i, nw;
	const uint8_t *buf;

	memset(n, 0, sizeof(*n));
	test_gaussian(w1, 16 * 27, 1, 0.3);
	test_gaussian(w2, 16 * 9, 2, 0.4);
	test_gaussian(w3, 8 * 16, 3, 0.3);
	test_gaussian(b3, 8, 4, 0.1);
	n->b = gb_new(11);
	gb_input(n->b, "x");
	gb_output(n->b, "y");
	gb_init_f(n->b, "w1", 4, (int64_t[]){ 16, 3, 3, 3 }, w1);
	gb_init_f(n->b, "w2", 4, (int64_t[]){ 16, 1, 3, 3 }, w2);
	gb_init_f(n->b, "w3", 4, (int64_t[]){ 8, 16, 1, 1 }, w3);
	gb_init_f(n->b, "b3", 1, (int64_t[]){ 8 }, b3);
	gb_attr_ints(n->b, gb_node(n->b, "Conv", "c1", "x,w1", "a1"), "strides", 2,
		     (int64_t[]){ 2, 2 });
	gb_node(n->b, "Relu", "r1", "a1", "h1");
	c2 = gb_node(n->b, "Conv", "c2", "h1,w2", "a2");	/* depthwise */
	gb_attr_ints(n->b, c2, "pads", 4, (int64_t[]){ 1, 1, 1, 1 });
	gb_attr_i(n->b, c2, "group", 16);
	gb_node(n->b, "Conv", "c3", "a2,w3,b3", "y");
	buf = gb_pack(n->b, &len);
	if (nuq_onnx_load_mem(buf, len, &n->m, NULL, 0))
		return -1;
	if (nuq_onnx_weights(n->m, &w, &nw, NULL, 0) || nw != 3)
		return -1;
	for (i = 0; i < nw; i++) {
		struct nuq_layer_opts o = { .q = { .method = method, .bits = 4, .seed = 1 },
					    .gran = NUQ_GRAN_CHANNEL, .cb_width = 16 };
		struct nuq_layer_stats st;
		float *mat;

		if (nuq_onnx_weight_matrix(n->m, &w[i], &mat, NULL, 0) ||
		    nuq_qlayer_quantize(&w[i], mat, &o, &n->layers[i], &st, NULL, 0))
			return -1;
		free(mat);
	}
	n->nlayers = nw;
	return 0;
}

static void net_free(struct net *n)
{
	size_t i;

	for (i = 0; i < n->nlayers; i++)
		nuq_qlayer_free(&n->layers[i]);
	nuq_onnx_free(n->m);
	gb_free(n->b);
}

/* Run the net on @flags' device; the outputs of input NIN-1 into @y. */
static void run_net(struct __test_metadata *_metadata, struct net *n, unsigned int flags,
		    struct nuq_tensor *x, struct nuq_tensor *y, struct nuq_qexec_stats *st)
{
	/*
	 * Every conv a job, the head too (by default it would run in fp32):
	 * the point is the kernel's jobs against the CPU core's.
	 */
	struct nuq_qexec_opts o = { .flags = flags | NUQ_QEXEC_QUANTIZED_HEADS,
				    .calib = NUQ_CALIB_PERCENTILE };
	struct nuq_qexec *q;
	char msg[256];

	ASSERT_EQ(0, nuq_graph_import(n->m, &n->g, msg, sizeof(msg))) TH_LOG("%s", msg);
	ASSERT_EQ(0, nuq_qexec_create(n->g, n->layers, n->nlayers, &o, &q, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	ASSERT_EQ(0, nuq_qexec_calibrate(q, x, NIN - 1, NULL, NULL, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	ASSERT_EQ(0, nuq_qexec_run(q, &x[NIN - 1], y, msg, sizeof(msg))) TH_LOG("%s", msg);
	nuq_qexec_stats(q, st);
	nuq_qexec_free(q);
	nuq_graph_free(n->g);
	n->g = NULL;
}

static void kernel_matches_cpu(struct __test_metadata *_metadata, enum nuq_qmethod method)
{
	struct nuq_tensor x[NIN], yk, yc;
	struct nuq_qexec_stats sk, sc;
	struct net n;
	int i;

	ASSERT_EQ(0, net_build(&n, method));
	for (i = 0; i < NIN; i++) {
		memset(&x[i], 0, sizeof(x[i]));
		x[i].dtype = NUQ_DT_FLOAT;
		x[i].ndims = 4;
		x[i].dims[0] = 1, x[i].dims[1] = 3, x[i].dims[2] = 33, x[i].dims[3] = 47;
		x[i].f = malloc(3 * 33 * 47 * sizeof(float));
		test_gaussian(x[i].f, 3 * 33 * 47, 10 + i, 1.0);
	}
	run_net(_metadata, &n, 0, x, &yk, &sk);
	run_net(_metadata, &n, NUQ_QEXEC_CPU, x, &yc, &sc);
	EXPECT_EQ(1, sk.on_kernel_device);
	EXPECT_EQ(0, sc.on_kernel_device);
	EXPECT_EQ(3, sk.device_layers);
	EXPECT_EQ(1, sk.fused_acts);
	EXPECT_EQ(3, sk.jobs);
	EXPECT_EQ(sk.macs, sc.macs);
	ASSERT_EQ(nuq_tensor_count(&yk), nuq_tensor_count(&yc));
	EXPECT_EQ(0, memcmp(yk.f, yc.f, nuq_tensor_count(&yk) * sizeof(float)));
	nuq_tensor_free(&yk);
	nuq_tensor_free(&yc);
	for (i = 0; i < NIN; i++)
		free(x[i].f);
	net_free(&n);
}

TEST(codebook_net_kernel_equals_cpu)
{
	kernel_matches_cpu(_metadata, NUQ_Q_KNQ);
}

TEST(asd_net_kernel_equals_cpu)
{
	kernel_matches_cpu(_metadata, NUQ_Q_ASD);
}

TEST_HARNESS_MAIN
