// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: the quantized executor on /dev/nuq0.  A small network
 * (conv, fused ReLU, depthwise conv, pointwise conv) with 4-bit codebook
 * and ASD weights runs as integer jobs on the kernel device and on
 * libnuq's CPU core: the outputs must be bit-identical, since both run
 * the same conv core on the same 8-bit activations.
 *
 * Then the executor's fusions, on the software backend (/dev/nuq0) and on
 * the NPU where the VM has one: a residual block (conv -> Add -> Relu as
 * one NUQ_JOB_F_RESIDUAL job) and elementwise chains after a conv (a
 * HardSwish written out as Add/Clip/Div/Mul, a SiLU as Sigmoid/Mul) as
 * 256-entry tables.  The CPU path's unit test (test_qexec_fusion.c)
 * checks them against fp32; here each must match the CPU core bit for bit
 * and must really have run fused on the device, since a fallback to fp32
 * for the conv or the table would go unnoticed in the outputs alone.
 */
#include <math.h>

#include <nuq/nuq.h>
#include <nuq/graph.h>
#include <nuq/nuqfile.h>
#include <nuq/qexec.h>

#include "nuq_harness.h"
#include "nuq_npu.h"
#include "gauss.h"
#include "graph_build.h"
#include "onnx.pb-c.h"
/* What ran fused in the last run: the stats count what was set up. */
#include "qexec/qexec_priv.h"

#define NIN	4

struct net {
	struct gb *b;
	struct nuq_onnx *m;
	struct nuq_graph *g;
	struct nuq_qlayer layers[3];
	size_t nlayers;
	int64_t c, h, w;	/* the input's shape (batch 1) */
};

/* Import @n->b's model and quantize every weight to 4 bits with @method. */
static int net_quantize(struct net *n, enum nuq_qmethod method, size_t want)
{
	const struct nuq_onnx_weight *w;
	size_t len, i, nw;
	const uint8_t *buf;

	buf = gb_pack(n->b, &len);
	if (nuq_onnx_load_mem(buf, len, &n->m, NULL, 0))
		return -1;
	if (nuq_onnx_weights(n->m, &w, &nw, NULL, 0) || nw != want || nw > 3)
		return -1;
	for (i = 0; i < nw; i++) {
		struct nuq_layer_opts o = { .q = { .method = method, .bits = 4, .seed = 1 },
					    .gran = NUQ_GRAN_CHANNEL, .cb_width = 16 };
		struct nuq_layer_stats st;
		float *mat;

		if (nuq_onnx_weight_matrix(n->m, &w[i], &mat, NULL, 0))
			return -1;
		if (nuq_qlayer_quantize(&w[i], mat, &o, &n->layers[i], &st, NULL, 0)) {
			free(mat);
			return -1;
		}
		free(mat);
		n->nlayers = i + 1;
	}
	return 0;
}

static int net_build(struct net *n, enum nuq_qmethod method)
{
	struct Onnx__NodeProto *c2;
	float w1[16 * 27], w2[16 * 9], w3[8 * 16], b3[8];

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
	n->c = 3, n->h = 33, n->w = 47;
	return net_quantize(n, method, 3);
}

static void net_free(struct net *n)
{
	size_t i;

	for (i = 0; i < n->nlayers; i++)
		nuq_qlayer_free(&n->layers[i]);
	nuq_onnx_free(n->m);
	gb_free(n->b);
}

/* NIN inputs of @n's shape (Gaussian, seeds from @seed on). */
static int inputs_make(const struct net *n, struct nuq_tensor *x, uint64_t seed)
{
	size_t cnt = (size_t)(n->c * n->h * n->w);
	int i;

	for (i = 0; i < NIN; i++) {
		memset(&x[i], 0, sizeof(x[i]));
		x[i].dtype = NUQ_DT_FLOAT;
		x[i].ndims = 4;
		x[i].dims[0] = 1, x[i].dims[1] = n->c, x[i].dims[2] = n->h, x[i].dims[3] = n->w;
		x[i].f = malloc(cnt * sizeof(float));
		if (!x[i].f)
			return -1;
		test_gaussian(x[i].f, cnt, seed + i, 1.0);
	}
	return 0;
}

static void inputs_free(struct nuq_tensor *x)
{
	int i;

	for (i = 0; i < NIN; i++)
		free(x[i].f);
}

/*
 * What ran fused in the last run.  The stats count the fusions set up
 * at create and calibrate time; at run time a residual job whose other
 * input does not fit, or a table whose source did not come out of its
 * job in 8 bits, quietly runs in fp32 instead.
 */
struct fused_ran {
	unsigned int res_jobs;	/* jobs with NUQ_JOB_F_RESIDUAL that ran */
	unsigned int tables;	/* tables that made their region's output */
};

static void fused_ran(const struct nuq_qexec *q, struct fused_ran *fr)
{
	size_t i;

	memset(fr, 0, sizeof(*fr));
	for (i = 0; i < q->g->nnodes; i++) {
		const struct qnode *qn = &q->qn[i];

		if (qn->device && qn->add && qn->ran && (qn->job.flags & NUQ_JOB_F_RESIDUAL))
			fr->res_jobs++;
		if (qn->lut_owner && qn->lut->ready && qn->lut->done)
			fr->tables++;
	}
}

/*
 * Run the net on @flags' device (@device: NULL for the default,
 * /dev/nuq0); the outputs of input NIN-1 into @y.
 */
static void run_net(struct __test_metadata *_metadata, struct net *n, unsigned int flags,
		    const char *device, struct nuq_tensor *x, struct nuq_tensor *y,
		    struct nuq_qexec_stats *st, struct fused_ran *fr)
{
	/*
	 * Every conv a job, the head too (by default it would run in fp32):
	 * the point is the kernel's jobs against the CPU core's.
	 */
	struct nuq_qexec_opts o = { .flags = flags | NUQ_QEXEC_QUANTIZED_HEADS,
				    .device = device, .calib = NUQ_CALIB_PERCENTILE };
	struct nuq_qexec *q;
	char msg[256];

	ASSERT_EQ(0, nuq_graph_import(n->m, &n->g, msg, sizeof(msg))) TH_LOG("%s", msg);
	ASSERT_EQ(0, nuq_qexec_create(n->g, n->layers, n->nlayers, &o, &q, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	ASSERT_EQ(0, nuq_qexec_calibrate(q, x, NIN - 1, NULL, NULL, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	ASSERT_EQ(0, nuq_qexec_run(q, &x[NIN - 1], y, msg, sizeof(msg))) TH_LOG("%s", msg);
	nuq_qexec_stats(q, st);
	fused_ran(q, fr);
	nuq_qexec_free(q);
	nuq_graph_free(n->g);
	n->g = NULL;
}

static void kernel_matches_cpu(struct __test_metadata *_metadata, enum nuq_qmethod method)
{
	struct nuq_tensor x[NIN], yk, yc;
	struct nuq_qexec_stats sk, sc;
	struct fused_ran fk, fc;
	struct net n;

	ASSERT_EQ(0, net_build(&n, method));
	ASSERT_EQ(0, inputs_make(&n, x, 10));
	run_net(_metadata, &n, 0, NULL, x, &yk, &sk, &fk);
	run_net(_metadata, &n, NUQ_QEXEC_CPU, NULL, x, &yc, &sc, &fc);
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
	inputs_free(x);
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

/*
 * The fusion nets, after test_qexec_fusion.c: x[1,8,10,10], 3x3 convs
 * (8->8, pad 1), a 1x1 conv (8->5) -> y, and in between
 * - RES_ACT: Conv -> Relu -> h; Conv(h) -> Add(h) -> Relu: a residual of
 *   an earlier job's output (a ResNet block; the residual BO is a copy
 *   of that job's bytes);
 * - RES_INPUT: Conv(x) -> Add(x) -> Relu: a residual of the graph input
 *   (quantized from float into the residual BO);
 * - HSWISH: c * Clip(c + 3, 0, 6) / 6 as Add, Clip, Div, Mul (as
 *   PaddleOCR exports it): one table;
 * - SILU: c * Sigmoid(c): one table of two nodes.
 */
enum fusion_net { RES_ACT, RES_INPUT, HSWISH, SILU, UPSAMPLE };

#define FC	8
#define FHW	10

static int fusion_build(struct net *n, enum fusion_net kind)
{
	float w0[FC * FC * 9], w1[FC * FC * 16], w2[5 * FC];

	memset(n, 0, sizeof(*n));
	test_gaussian(w0, FC * FC * 9, 20, 0.15);
	test_gaussian(w1, FC * FC * 16, 21, 0.15);
	test_gaussian(w2, 5 * FC, 22, 0.4);
	n->b = gb_new(13);
	gb_input(n->b, "x");
	gb_output(n->b, "y");
	n->c = FC, n->h = FHW, n->w = FHW;
	if (kind == UPSAMPLE) {
		/* conv -> Relu -> ConvTranspose 4x4 stride 2 (a job of 4 phases) -> Relu -> 1x1 */
		struct Onnx__NodeProto *up;

		gb_init_f(n->b, "w0", 4, (int64_t[]){ FC, FC, 3, 3 }, w0);
		gb_attr_ints(n->b, gb_node(n->b, "Conv", "conv0", "x,w0", "c0"), "pads", 4,
			     (int64_t[]){ 1, 1, 1, 1 });
		gb_node(n->b, "Relu", "relu0", "c0", "h");
		gb_init_f(n->b, "w1", 4, (int64_t[]){ FC, FC, 4, 4 }, w1);
		up = gb_node(n->b, "ConvTranspose", "up", "h,w1", "u");
		gb_attr_ints(n->b, up, "strides", 2, (int64_t[]){ 2, 2 });
		gb_attr_ints(n->b, up, "pads", 4, (int64_t[]){ 1, 1, 1, 1 });
		gb_node(n->b, "Relu", "relu1", "u", "r");
		gb_init_f(n->b, "w2", 4, (int64_t[]){ 5, FC, 1, 1 }, w2);
		gb_node(n->b, "Conv", "conv2", "r,w2", "y");
		return net_quantize(n, NUQ_Q_KNQ, 3);
	}
	if (kind == RES_ACT) {
		gb_init_f(n->b, "w0", 4, (int64_t[]){ FC, FC, 3, 3 }, w0);
		gb_attr_ints(n->b, gb_node(n->b, "Conv", "conv0", "x,w0", "c0"), "pads", 4,
			     (int64_t[]){ 1, 1, 1, 1 });
		gb_node(n->b, "Relu", "relu0", "c0", "h");
	}
	gb_init_f(n->b, "w1", 4, (int64_t[]){ FC, FC, 3, 3 }, w1);
	gb_init_f(n->b, "w2", 4, (int64_t[]){ 5, FC, 1, 1 }, w2);
	gb_attr_ints(n->b, gb_node(n->b, "Conv", "conv1", kind == RES_ACT ? "h,w1" : "x,w1",
				   "c1"),
		     "pads", 4, (int64_t[]){ 1, 1, 1, 1 });
	switch (kind) {
	case RES_ACT:
	case RES_INPUT:
		gb_node(n->b, "Add", "add", kind == RES_ACT ? "c1,h" : "c1,x", "a");
		gb_node(n->b, "Relu", "relu", "a", "r");
		break;
	case HSWISH:
		gb_hardswish(n->b, "c1", "r");
		break;
	case SILU:
		gb_node(n->b, "Sigmoid", "sig", "c1", "s");
		gb_node(n->b, "Mul", "mul", "c1,s", "r");
		break;
	case UPSAMPLE:		/* built whole above */
		break;
	}
	gb_node(n->b, "Conv", "conv2", "r,w2", "y");
	return net_quantize(n, NUQ_Q_KNQ, kind == RES_ACT ? 3 : 2);
}

/* What the device run of a fusion net must show. */
struct fusion_expect {
	unsigned int device_layers, fused_acts, fused_adds, fused_tables;
	uint64_t jobs;
	unsigned int scale;	/* the output is scale x scale times the input's size */
};

static const struct fusion_expect fusion_expect[] = {
	[RES_ACT] = { .device_layers = 3, .fused_acts = 2, .fused_adds = 1, .jobs = 3, .scale = 1 },
	[RES_INPUT] = { .device_layers = 2, .fused_acts = 1, .fused_adds = 1, .jobs = 2, .scale = 1 },
	[HSWISH] = { .device_layers = 2, .fused_tables = 1, .jobs = 2, .scale = 1 },
	[SILU] = { .device_layers = 2, .fused_tables = 1, .jobs = 2, .scale = 1 },
	[UPSAMPLE] = { .device_layers = 3, .fused_acts = 2, .jobs = 3, .scale = 2 },
};

/* Distinct values among @n floats (a few hundred at most here). */
static size_t distinct(const float *f, size_t n)
{
	size_t i, k, d = 0;

	for (i = 0; i < n; i++) {
		for (k = 0; k < i && memcmp(&f[k], &f[i], sizeof(*f)); k++)
			;
		d += k == i;
	}
	return d;
}

FIXTURE(fusion) {
	char path[32];		/* the device under test */
};

/* The software backend is /dev/nuq0; the NPU, where the VM has one, another node. */
FIXTURE_VARIANT(fusion) {
	int npu;
};

FIXTURE_VARIANT_ADD(fusion, sw) {
	.npu = 0,
};

FIXTURE_VARIANT_ADD(fusion, npu) {
	.npu = 1,
};

FIXTURE_SETUP(fusion)
{
	struct nuq_info info;
	int idx = variant->npu ? npu_find() : 0, fd;

	if (idx < 0)
		SKIP(return, "no NPU in this VM");
	snprintf(self->path, sizeof(self->path), "/dev/nuq%d", idx);
	fd = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0) TH_LOG("%s: %s", self->path, strerror(errno));
	ASSERT_EQ(0, nuq_get_info(fd, &info));
	close(fd);
	ASSERT_EQ(variant->npu ? NUQ_BACKEND_NPU : NUQ_BACKEND_SOFTWARE, info.backend);
	/* Without it the executor runs the Add in fp32: no residual job to test. */
	ASSERT_TRUE(info.caps & NUQ_CAP_RESIDUAL) TH_LOG("%s lacks NUQ_CAP_RESIDUAL", self->path);
}

FIXTURE_TEARDOWN(fusion)
{
}

/*
 * @kind on @path and on the CPU core: the same fusions, all of them run
 * fused on the device, and the same output bits.
 */
static void fusion_matches_cpu(struct __test_metadata *_metadata, const char *path,
			       enum fusion_net kind)
{
	const struct fusion_expect *e = &fusion_expect[kind];
	struct nuq_tensor x[NIN], yk, yc;
	struct nuq_qexec_stats sk, sc;
	struct fused_ran fk, fc;
	struct net n;
	size_t cnt;

	ASSERT_EQ(0, fusion_build(&n, kind));
	ASSERT_EQ(0, inputs_make(&n, x, 200));
	run_net(_metadata, &n, 0, path, x, &yk, &sk, &fk);
	run_net(_metadata, &n, NUQ_QEXEC_CPU, NULL, x, &yc, &sc, &fc);
	EXPECT_EQ(1, sk.on_kernel_device);
	EXPECT_EQ(0, sc.on_kernel_device);
	/* Set up on the device as on the CPU: no layer left in fp32. */
	EXPECT_EQ(e->device_layers, sk.device_layers);
	EXPECT_EQ(0, sk.fp32_layers);
	EXPECT_EQ(e->fused_acts, sk.fused_acts);
	EXPECT_EQ(e->fused_adds, sk.fused_adds);
	EXPECT_EQ(e->fused_tables, sk.fused_tables);
	EXPECT_EQ(sc.fused_adds, sk.fused_adds);
	EXPECT_EQ(sc.fused_tables, sk.fused_tables);
	/*
	 * And run so: a conv of a residual block that fell back to fp32 this
	 * run would be one job fewer, a table not made from its job's bytes
	 * one table fewer.
	 */
	EXPECT_EQ(e->jobs, sk.jobs);
	EXPECT_EQ(sk.jobs, sc.jobs);
	EXPECT_EQ(sk.macs, sc.macs);
	EXPECT_EQ(e->fused_adds, fk.res_jobs);
	EXPECT_EQ(e->fused_tables, fk.tables);
	EXPECT_EQ(fk.res_jobs, fc.res_jobs);
	EXPECT_EQ(fk.tables, fc.tables);
	cnt = nuq_tensor_count(&yk);
	ASSERT_EQ(cnt, nuq_tensor_count(&yc));
	ASSERT_EQ(5 * FHW * FHW * e->scale * e->scale, cnt);
	/* Equal bits say little of a constant output (a range calibrated to nothing). */
	EXPECT_LT(16, distinct(yk.f, cnt));
	EXPECT_EQ(0, memcmp(yk.f, yc.f, cnt * sizeof(float))) {
		size_t i;

		for (i = 0; i < cnt && yk.f[i] == yc.f[i]; i++)
			;
		if (i < cnt)
			TH_LOG("first difference at %zu: kernel %g, CPU %g", i, yk.f[i], yc.f[i]);
	}
	nuq_tensor_free(&yk);
	nuq_tensor_free(&yc);
	inputs_free(x);
	net_free(&n);
}

TEST_F(fusion, residual_of_activation_kernel_equals_cpu)
{
	fusion_matches_cpu(_metadata, self->path, RES_ACT);
}

TEST_F(fusion, residual_of_input_kernel_equals_cpu)
{
	fusion_matches_cpu(_metadata, self->path, RES_INPUT);
}

TEST_F(fusion, hardswish_table_kernel_equals_cpu)
{
	fusion_matches_cpu(_metadata, self->path, HSWISH);
}

TEST_F(fusion, silu_table_kernel_equals_cpu)
{
	fusion_matches_cpu(_metadata, self->path, SILU);
}

/* A ConvTranspose as one job of four phases, interleaved by the executor. */
TEST_F(fusion, convtranspose_kernel_equals_cpu)
{
	fusion_matches_cpu(_metadata, self->path, UPSAMPLE);
}

TEST_HARNESS_MAIN
