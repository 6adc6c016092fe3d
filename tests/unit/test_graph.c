// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The fp32 graph executor: every op against a straightforward reference
 * written here, constant and BatchNormalization folding, and a clear
 * error naming the node for every unsupported or malformed graph.  The
 * real models are checked against onnxruntime in tests/cli/nuq_ocr.sh.
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
#include <cmocka.h>

#include <nuq/graph.h>
#include <nuq/qexec.h>

#include "graph_build.h"
#include "onnx.pb-c.h"


static uint64_t rng = 88172645463325252ULL;

static float frand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (float)((rng >> 11) % 2001) / 1000.0f - 1.0f;
}

static void fill(float *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = frand();
}

static struct nuq_tensor tensor4(float *data, int64_t a, int64_t b, int64_t c, int64_t d,
				 unsigned int nd)
{
	struct nuq_tensor t = { .dtype = NUQ_DT_FLOAT, .ndims = nd, .f = data };

	t.dims[0] = a, t.dims[1] = b, t.dims[2] = c, t.dims[3] = d;
	return t;
}


static void assert_close(const float *a, const float *b, size_t n, float tol)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fabsf(a[i] - b[i]) > tol * (1 + fabsf(b[i])))
			fail_msg("element %zu: %g, expected %g", i, a[i], b[i]);
}

/* NCHW conv reference: direct loops. */
static void conv_ref(const float *x, int64_t C, int64_t H, int64_t W, const float *w, int64_t O,
		     int64_t kh, int64_t kw, const float *bias, int64_t s, int64_t d,
		     const int64_t *pads, int64_t group, float *y, int64_t oh, int64_t ow)
{
	int64_t cg = C / group, og = O / group, o, c, i, j, a, bb;

	for (o = 0; o < O; o++)
		for (i = 0; i < oh; i++)
			for (j = 0; j < ow; j++) {
				double acc = bias ? bias[o] : 0;
				int64_t g = o / og;

				for (c = 0; c < cg; c++)
					for (a = 0; a < kh; a++)
						for (bb = 0; bb < kw; bb++) {
							int64_t yy = i * s - pads[0] + a * d;
							int64_t xx = j * s - pads[1] + bb * d;

							if (yy < 0 || yy >= H || xx < 0 || xx >= W)
								continue;
							acc += x[((g * cg + c) * H + yy) * W + xx] *
							       w[((o * cg + c) * kh + a) * kw + bb];
						}
				y[(o * oh + i) * ow + j] = (float)acc;
			}
}

static void conv_case(int64_t C, int64_t O, int64_t k, int64_t s, int64_t d, int64_t group,
		      const int64_t *pads)
{
	int64_t H = 9, W = 11, wd[4] = { O, C / group, k, k }, bd[1] = { O };
	int64_t oh = (H + pads[0] + pads[2] - d * (k - 1) - 1) / s + 1;
	int64_t ow = (W + pads[1] + pads[3] - d * (k - 1) - 1) / s + 1;
	size_t nx = (size_t)(C * H * W), nw = (size_t)(O * C / group * k * k);
	float *x = malloc(nx * 4), *w = malloc(nw * 4), *bias = malloc(O * 4);
	float *ref = malloc((size_t)(O * oh * ow) * 4);
	struct gb *b = gb_new(11);
	struct nuq_tensor xt = tensor4(x, 1, C, H, W, 4);
	struct Onnx__NodeProto *n;
	struct gb_run r;

	fill(x, nx);
	fill(w, nw);
	fill(bias, (size_t)O);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_f(b, "w", 4, wd, w);
	gb_init_f(b, "b", 1, bd, bias);
	n = gb_node(b, "Conv", "conv", "x,w,b", "y");
	gb_attr_ints(b, n, "kernel_shape", 2, (int64_t[]){ k, k });
	gb_attr_ints(b, n, "strides", 2, (int64_t[]){ s, s });
	gb_attr_ints(b, n, "dilations", 2, (int64_t[]){ d, d });
	gb_attr_ints(b, n, "pads", 4, pads);
	gb_attr_i(b, n, "group", group);
	assert_int_equal(gb_run(b, &xt, &r), 0);
	conv_ref(x, C, H, W, w, O, k, k, bias, s, d, pads, group, ref, oh, ow);
	assert_int_equal(r.y.dims[1], O);
	assert_int_equal(r.y.dims[2], oh);
	assert_int_equal(r.y.dims[3], ow);
	assert_close(r.y.f, ref, (size_t)(O * oh * ow), 1e-4f);
	gb_run_free(&r);
	gb_free(b);
	free(x);
	free(w);
	free(bias);
	free(ref);
}

static void conv_shapes(void **state)
{
	(void)state;
	conv_case(3, 5, 3, 1, 1, 1, (int64_t[]){ 1, 1, 1, 1 });
	conv_case(4, 6, 3, 2, 1, 2, (int64_t[]){ 0, 1, 2, 0 });
	conv_case(6, 6, 5, 1, 2, 6, (int64_t[]){ 2, 2, 2, 2 });	/* depthwise, dilated */
	conv_case(8, 4, 1, 1, 1, 1, (int64_t[]){ 0, 0, 0, 0 });	/* pointwise */
	conv_case(7, 7, 3, 2, 1, 7, (int64_t[]){ 1, 1, 1, 1 });
}

/* Conv -> BatchNormalization imports as one node and computes the same. */
static void batchnorm_folds(void **state)
{
	int64_t wd[4] = { 3, 2, 1, 1 }, cd[1] = { 3 };
	float w[6], x[2 * 4 * 4], g[3] = { 1.5f, -0.5f, 2 }, be[3] = { 0.1f, 0.2f, -0.3f };
	float mean[3] = { 0.3f, -0.1f, 0.05f }, var[3] = { 0.5f, 2.0f, 0.01f }, ref[48];
	struct nuq_tensor xt = tensor4(x, 1, 2, 4, 4, 4);
	struct gb *b = gb_new(11);
	struct gb_run r;
	int o, p;

	(void)state;
	fill(w, 6);
	fill(x, 32);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_f(b, "w", 4, wd, w);
	gb_init_f(b, "g", 1, cd, g);
	gb_init_f(b, "be", 1, cd, be);
	gb_init_f(b, "m", 1, cd, mean);
	gb_init_f(b, "v", 1, cd, var);
	gb_node(b, "Conv", "conv", "x,w", "c");
	gb_attr_f(b, gb_node(b, "BatchNormalization", "bn", "c,g,be,m,v", "y"), "epsilon", 1e-5f);
	assert_int_equal(gb_run(b, &xt, &r), 0);
	assert_int_equal(nuq_graph_nnodes(r.g), 1);
	for (o = 0; o < 3; o++)
		for (p = 0; p < 16; p++) {
			float c = w[o * 2] * x[p] + w[o * 2 + 1] * x[16 + p];

			ref[o * 16 + p] = (c - mean[o]) / sqrtf(var[o] + 1e-5f) * g[o] + be[o];
		}
	assert_close(r.y.f, ref, 48, 1e-4f);
	gb_run_free(&r);
	gb_free(b);
}

/*
 * Conv -> Add of a constant [1, O, 1, 1] (a bias as some exporters write
 * it) imports as one node and computes the same; an Add that broadcasts
 * along the width instead ([W]) is not a bias and stays.
 */
static void bias_add_folds(void **state)
{
	int64_t wd[4] = { 3, 2, 1, 1 }, cd[4] = { 1, 3, 1, 1 }, rd[1] = { 4 };
	float w[6], x[2 * 4 * 4], c[4] = { 0.5f, -2.0f, 3.0f, 7.0f }, ref[48];
	struct nuq_tensor xt = tensor4(x, 1, 2, 4, 4, 4);
	struct gb_run r;
	struct gb *b;
	int o, p, k;

	(void)state;
	fill(w, 6);
	fill(x, 32);
	for (k = 0; k < 2; k++) {
		b = gb_new(11);
		gb_input(b, "x");
		gb_output(b, "y");
		gb_init_f(b, "w", 4, wd, w);
		gb_init_f(b, "c", k ? 1 : 4, k ? rd : cd, c);
		gb_node(b, "Conv", "conv", "x,w", "h");
		gb_node(b, "Add", "bias", k ? "h,c" : "c,h", "y");
		assert_int_equal(gb_run(b, &xt, &r), 0);
		assert_int_equal(nuq_graph_nnodes(r.g), k ? 2 : 1);
		for (o = 0; o < 3; o++)
			for (p = 0; p < 16; p++)
				ref[o * 16 + p] = w[o * 2] * x[p] + w[o * 2 + 1] * x[16 + p] +
						  c[k ? p % 4 : o];
		assert_close(r.y.f, ref, 48, 1e-5f);
		gb_run_free(&r);
		gb_free(b);
	}
}

/* Shape arithmetic on constants disappears at import. */
static void constant_folding(void **state)
{
	int64_t sd[1] = { 2 }, one[1] = { 1 }, cd[3] = { 2, 3, 4 };
	float x[24], c[24];
	struct nuq_tensor xt = tensor4(x, 4, 6, 0, 0, 2);
	struct gb *b = gb_new(13);
	struct gb_run r;
	struct Onnx__NodeProto *n;

	(void)state;
	fill(x, 24);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_f(b, "c", 3, cd, c);
	gb_init_i(b, "idx", 1, one, (int64_t[]){ 0 });
	gb_init_i(b, "minus1", 1, one, (int64_t[]){ -1 });
	gb_node(b, "Shape", "shape", "c", "s");			/* [2, 3, 4] */
	n = gb_node(b, "Gather", "gather", "s,idx", "s0");	/* [2] */
	gb_attr_i(b, n, "axis", 0);
	n = gb_node(b, "Concat", "concat", "s0,minus1", "shape2");	/* [2, -1] */
	gb_attr_i(b, n, "axis", 0);
	gb_node(b, "Reshape", "reshape", "x,shape2", "y");
	(void)sd;
	assert_int_equal(gb_run(b, &xt, &r), 0);
	assert_int_equal(nuq_graph_nnodes(r.g), 1);
	assert_string_equal(nuq_graph_node_op(r.g, 0), "Reshape");
	assert_int_equal(r.y.ndims, 2);
	assert_int_equal(r.y.dims[0], 2);
	assert_int_equal(r.y.dims[1], 12);
	assert_close(r.y.f, x, 24, 0);
	gb_run_free(&r);
	gb_free(b);
}

static void broadcasting(void **state)
{
	static const char *const ops[] = { "Add", "Sub", "Mul", "Div", "Pow" };
	int64_t bd[2] = { 3, 1 };
	float x[24], bv[3] = { 0.5f, 2.0f, -1.5f }, ref[24];
	struct nuq_tensor xt = tensor4(x, 2, 3, 4, 0, 3);
	unsigned int k;
	int i, j, l;

	(void)state;
	fill(x, 24);
	for (i = 0; i < 24; i++)
		x[i] = fabsf(x[i]) + 0.1f;	/* Pow of a negative base is NaN */
	for (k = 0; k < 5; k++) {
		struct gb *b = gb_new(11);
		struct gb_run r;

		gb_input(b, "x");
		gb_output(b, "y");
		gb_init_f(b, "b", 2, bd, bv);
		gb_node(b, ops[k], "op", "x,b", "y");
		assert_int_equal(gb_run(b, &xt, &r), 0);
		for (i = 0; i < 2; i++)
			for (j = 0; j < 3; j++)
				for (l = 0; l < 4; l++) {
					float a = x[(i * 3 + j) * 4 + l], c = bv[j], v;

					v = k == 0 ? a + c : k == 1 ? a - c : k == 2 ? a * c :
					    k == 3 ? a / c : powf(a, c);
					ref[(i * 3 + j) * 4 + l] = v;
				}
		assert_close(r.y.f, ref, 24, 1e-5f);
		gb_run_free(&r);
		gb_free(b);
	}
}

static void activations(void **state)
{
	static const char *const ops[] = { "Relu", "Sigmoid", "HardSigmoid", "HardSwish", "Clip",
					   "Sqrt", "Tanh" };
	float x[16], ref[16];
	struct nuq_tensor xt = tensor4(x, 16, 0, 0, 0, 1);
	unsigned int k;
	int i;

	(void)state;
	for (i = 0; i < 16; i++)
		x[i] = (float)(i - 8) * 0.9f;
	for (k = 0; k < 7; k++) {
		struct gb *b = gb_new(9);
		struct gb_run r;
		struct Onnx__NodeProto *n;

		gb_input(b, "x");
		gb_output(b, "y");
		n = gb_node(b, ops[k], "act", "x", "y");
		if (k == 4) {
			gb_attr_f(b, n, "min", 0);
			gb_attr_f(b, n, "max", 6);
		}
		if (k == 5)
			for (i = 0; i < 16; i++)
				x[i] = fabsf(x[i]);
		assert_int_equal(gb_run(b, &xt, &r), 0);
		for (i = 0; i < 16; i++) {
			float v = x[i];

			ref[i] = k == 0 ? fmaxf(v, 0) : k == 1 ? 1 / (1 + expf(-v)) :
				 k == 2 ? fmaxf(0, fminf(1, 0.2f * v + 0.5f)) :
				 k == 3 ? v * fmaxf(0, fminf(1, v / 6 + 0.5f)) :
				 k == 4 ? fminf(fmaxf(v, 0), 6) : k == 5 ? sqrtf(v) : tanhf(v);
		}
		assert_close(r.y.f, ref, 16, 1e-5f);
		gb_run_free(&r);
		gb_free(b);
	}
}

static void softmax_axes(void **state)
{
	float x[24], ref[24];
	struct nuq_tensor xt = tensor4(x, 2, 3, 4, 0, 3);
	int opset, i, j, l;

	(void)state;
	fill(x, 24);
	for (opset = 11; opset <= 13; opset += 2) {
		struct gb *b = gb_new(opset);
		struct gb_run r;

		gb_input(b, "x");
		gb_output(b, "y");
		gb_attr_i(b, gb_node(b, "Softmax", "sm", "x", "y"), "axis", 1);
		assert_int_equal(gb_run(b, &xt, &r), 0);
		for (i = 0; i < 2; i++) {
			/* opset 11: over the 12 trailing values; 13: over axis 1 only */
			for (l = 0; l < (opset == 13 ? 4 : 1); l++) {
				double s = 0;
				int cnt = opset == 13 ? 3 : 12, step = opset == 13 ? 4 : 1;

				for (j = 0; j < cnt; j++)
					s += exp(x[i * 12 + l + j * step]);
				for (j = 0; j < cnt; j++)
					ref[i * 12 + l + j * step] = (float)(exp(x[i * 12 + l + j * step]) / s);
			}
		}
		assert_close(r.y.f, ref, 24, 1e-5f);
		gb_run_free(&r);
		gb_free(b);
	}
}

static void data_movement(void **state)
{
	float x[24], ref[24];
	struct nuq_tensor xt = tensor4(x, 2, 3, 4, 0, 3);
	struct gb *b;
	struct gb_run r;
	struct Onnx__NodeProto *n;
	int i, j, l;

	(void)state;
	for (i = 0; i < 24; i++)
		x[i] = (float)i;
	/* Transpose 0,2,1 */
	b = gb_new(11);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_attr_ints(b, gb_node(b, "Transpose", "t", "x", "y"), "perm", 3, (int64_t[]){ 0, 2, 1 });
	assert_int_equal(gb_run(b, &xt, &r), 0);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 3; j++)
			for (l = 0; l < 4; l++)
				ref[(i * 4 + l) * 3 + j] = x[(i * 3 + j) * 4 + l];
	assert_int_equal(r.y.dims[1], 4);
	assert_close(r.y.f, ref, 24, 0);
	gb_run_free(&r);
	gb_free(b);
	/* Slice (opset 9 attributes): axis 2 from 1 to -1 */
	b = gb_new(9);
	gb_input(b, "x");
	gb_output(b, "y");
	n = gb_node(b, "Slice", "s", "x", "y");
	gb_attr_ints(b, n, "starts", 1, (int64_t[]){ 1 });
	gb_attr_ints(b, n, "ends", 1, (int64_t[]){ -1 });
	gb_attr_ints(b, n, "axes", 1, (int64_t[]){ 2 });
	assert_int_equal(gb_run(b, &xt, &r), 0);
	assert_int_equal(r.y.dims[2], 2);
	for (i = 0; i < 6; i++)
		for (l = 0; l < 2; l++)
			ref[i * 2 + l] = x[i * 4 + 1 + l];
	assert_close(r.y.f, ref, 12, 0);
	gb_run_free(&r);
	gb_free(b);
	/* Concat with itself on axis 1, then Squeeze/Unsqueeze round trip */
	b = gb_new(11);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_attr_i(b, gb_node(b, "Concat", "c", "x,x", "cc"), "axis", 1);
	gb_attr_ints(b, gb_node(b, "Unsqueeze", "u", "cc", "uu"), "axes", 1, (int64_t[]){ 0 });
	gb_attr_ints(b, gb_node(b, "Squeeze", "q", "uu", "y"), "axes", 1, (int64_t[]){ 0 });
	assert_int_equal(gb_run(b, &xt, &r), 0);
	assert_int_equal(r.y.ndims, 3);
	assert_int_equal(r.y.dims[1], 6);
	assert_true(r.y.f[12] == x[0] && r.y.f[11] == x[11] && r.y.f[24] == x[12]);
	gb_run_free(&r);
	gb_free(b);
}

static void pooling(void **state)
{
	float x[25], ref[9];
	struct nuq_tensor xt = tensor4(x, 1, 1, 5, 5, 4);
	struct gb *b;
	struct gb_run r;
	struct Onnx__NodeProto *n;
	int i, j, a, c;

	(void)state;
	for (i = 0; i < 25; i++)
		x[i] = (float)((i * 7) % 11);
	/* MaxPool 2x2 stride 2 ceil_mode: 3x3 output, last window partial */
	b = gb_new(11);
	gb_input(b, "x");
	gb_output(b, "y");
	n = gb_node(b, "MaxPool", "mp", "x", "y");
	gb_attr_ints(b, n, "kernel_shape", 2, (int64_t[]){ 2, 2 });
	gb_attr_ints(b, n, "strides", 2, (int64_t[]){ 2, 2 });
	gb_attr_i(b, n, "ceil_mode", 1);
	assert_int_equal(gb_run(b, &xt, &r), 0);
	assert_int_equal(r.y.dims[2], 3);
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++) {
			float m = -1;

			for (a = 0; a < 2; a++)
				for (c = 0; c < 2; c++)
					if (2 * i + a < 5 && 2 * j + c < 5)
						m = fmaxf(m, x[(2 * i + a) * 5 + 2 * j + c]);
			ref[i * 3 + j] = m;
		}
	assert_close(r.y.f, ref, 9, 0);
	gb_run_free(&r);
	gb_free(b);
	/* AveragePool 3x3 pad 1 stride 2, padding excluded from the count */
	b = gb_new(11);
	gb_input(b, "x");
	gb_output(b, "y");
	n = gb_node(b, "AveragePool", "ap", "x", "y");
	gb_attr_ints(b, n, "kernel_shape", 2, (int64_t[]){ 3, 3 });
	gb_attr_ints(b, n, "strides", 2, (int64_t[]){ 2, 2 });
	gb_attr_ints(b, n, "pads", 4, (int64_t[]){ 1, 1, 1, 1 });
	assert_int_equal(gb_run(b, &xt, &r), 0);
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++) {
			float s = 0;
			int cnt = 0;

			for (a = -1; a <= 1; a++)
				for (c = -1; c <= 1; c++) {
					int yy = 2 * i + a, xx = 2 * j + c;

					if (yy >= 0 && yy < 5 && xx >= 0 && xx < 5) {
						s += x[yy * 5 + xx];
						cnt++;
					}
				}
			ref[i * 3 + j] = s / cnt;
		}
	assert_close(r.y.f, ref, 9, 1e-6f);
	gb_run_free(&r);
	gb_free(b);
}

static void matmul_gemm(void **state)
{
	int64_t wd[2] = { 4, 3 }, gd[2] = { 3, 4 }, cd[1] = { 3 };
	float x[2 * 5 * 4], w[12], gw[12], c[3] = { 1, 2, 3 }, ref[30];
	struct nuq_tensor xt = tensor4(x, 2, 5, 4, 0, 3), x2 = tensor4(x, 10, 4, 0, 0, 2);
	struct gb *b;
	struct gb_run r;
	struct Onnx__NodeProto *n;
	int i, j, k;

	(void)state;
	fill(x, 40);
	fill(w, 12);
	fill(gw, 12);
	b = gb_new(11);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_f(b, "w", 2, wd, w);
	gb_node(b, "MatMul", "mm", "x,w", "y");
	assert_int_equal(gb_run(b, &xt, &r), 0);
	assert_int_equal(r.y.ndims, 3);
	for (i = 0; i < 10; i++)
		for (j = 0; j < 3; j++) {
			ref[i * 3 + j] = 0;
			for (k = 0; k < 4; k++)
				ref[i * 3 + j] += x[i * 4 + k] * w[k * 3 + j];
		}
	assert_close(r.y.f, ref, 30, 1e-5f);
	gb_run_free(&r);
	gb_free(b);
	/* Gemm transB with alpha, beta and a broadcast C */
	b = gb_new(11);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_f(b, "w", 2, gd, gw);
	gb_init_f(b, "c", 1, cd, c);
	n = gb_node(b, "Gemm", "gemm", "x,w,c", "y");
	gb_attr_i(b, n, "transB", 1);
	gb_attr_f(b, n, "alpha", 0.5f);
	gb_attr_f(b, n, "beta", 2.0f);
	assert_int_equal(gb_run(b, &x2, &r), 0);
	for (i = 0; i < 10; i++)
		for (j = 0; j < 3; j++) {
			float s = 0;

			for (k = 0; k < 4; k++)
				s += x[i * 4 + k] * gw[j * 4 + k];
			ref[i * 3 + j] = 0.5f * s + 2.0f * c[j];
		}
	assert_close(r.y.f, ref, 30, 1e-5f);
	gb_run_free(&r);
	gb_free(b);
}

static void resize_modes(void **state)
{
	int64_t sd[1] = { 4 }, ed[1] = { 0 };
	float x[4] = { 1, 2, 3, 4 }, sc[4] = { 1, 1, 2, 2 };
	struct nuq_tensor xt = tensor4(x, 1, 1, 2, 2, 4);
	static const float nearest[16] = { 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4 };
	static const float linear[16] = { 1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f,
					  2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4 };
	int lin;

	(void)state;
	for (lin = 0; lin < 2; lin++) {
		struct gb *b = gb_new(11);
		struct gb_run r;
		struct Onnx__NodeProto *n;

		gb_input(b, "x");
		gb_output(b, "y");
		gb_init_f(b, "roi", 1, ed, NULL);
		gb_init_f(b, "scales", 1, sd, sc);
		n = gb_node(b, "Resize", "rs", "x,roi,scales", "y");
		gb_attr_s(b, n, "mode", lin ? "linear" : "nearest");
		if (!lin) {
			gb_attr_s(b, n, "coordinate_transformation_mode", "asymmetric");
			gb_attr_s(b, n, "nearest_mode", "floor");
		}
		assert_int_equal(gb_run(b, &xt, &r), 0);
		assert_close(r.y.f, lin ? linear : nearest, 16, 1e-6f);
		gb_run_free(&r);
		gb_free(b);
	}
}

/* A graph of one node @op "bad" reading x (plus @ins), expected to fail with @err and @says. */
static struct gb *one_node(const char *op, const char *ins, struct Onnx__NodeProto **n)
{
	struct gb *b = gb_new(11);

	gb_input(b, "x");
	gb_output(b, "y");
	*n = gb_node(b, op, "bad_node", ins, "y");
	return b;
}

static void expect_refusal(struct gb *b, int err, const char *says)
{
	float x[16] = { 0 };
	struct nuq_tensor xt = tensor4(x, 1, 1, 4, 4, 4);
	struct gb_run r;

	assert_int_equal(gb_run(b, &xt, &r), err);
	if (!strstr(r.msg, says))
		fail_msg("\"%s\" does not say \"%s\"", r.msg, says);
	gb_run_free(&r);
	gb_free(b);
}

/* Every refusal names the node and says why; none crashes or runs. */
/* Lockstep runs: what the observer and the callback saw, in order. */
struct lockstep_log {
	size_t seen[3];			/* outputs observed per node */
	size_t before_calls;
	float last[3][16];		/* the final node's output per input */
	size_t last_n[3];
};

static void lockstep_observe(void *ctx, size_t node, unsigned int idx, const struct nuq_tensor *t)
{
	struct lockstep_log *l = ctx;
	size_t k = l->seen[node]++;

	(void)idx;
	if (node == 2 && k < 3) {
		l->last_n[k] = nuq_tensor_count(t);
		memcpy(l->last[k], t->f, l->last_n[k] * sizeof(float));
	}
}

static int lockstep_before(void *ctx, size_t node)
{
	struct lockstep_log *l = ctx;

	/* Every input has passed all earlier nodes, none this one. */
	assert_int_equal(node, l->before_calls++);
	if (node > 0)
		assert_int_equal(l->seen[node - 1], 3);
	assert_int_equal(l->seen[node], 0);
	return node == 99;	/* never: the run goes on */
}

static void lockstep_runs(void **state)
{
	float x[3][16], *ref;
	int64_t len[3] = { 4, 16, 7 };
	struct nuq_tensor xt[3];
	struct lockstep_log log;
	struct gb *b = gb_new(13);
	struct gb_run r;
	size_t k, i;

	(void)state;
	memset(&log, 0, sizeof(log));
	for (k = 0; k < 3; k++) {
		fill(x[k], 16);
		xt[k] = tensor4(x[k], 1, len[k], 0, 0, 2);
	}
	gb_input(b, "x");
	gb_output(b, "y");
	gb_node(b, "Relu", "relu", "x", "a");
	gb_node(b, "Mul", "square", "a,a", "s");	/* one value read twice */
	gb_node(b, "Add", "add", "s,x", "y");		/* the input read again, late */
	assert_int_equal(gb_run(b, &xt[0], &r), 0);
	nuq_graph_set_observer(r.g, lockstep_observe, &log);
	assert_int_equal(nuq_graph_run_lockstep(r.g, xt, 3, lockstep_before, &log, r.msg,
						sizeof(r.msg)), 0);
	nuq_graph_set_observer(r.g, NULL, NULL);
	assert_int_equal(log.before_calls, 3);
	for (k = 0; k < 3; k++) {
		struct nuq_tensor y;

		assert_int_equal(log.last_n[k], len[k]);
		assert_int_equal(nuq_graph_run(r.g, &xt[k], &y, r.msg, sizeof(r.msg)), 0);
		ref = y.f;
		for (i = 0; i < (size_t)len[k]; i++)
			assert_true(ref[i] == (x[k][i] > 0 ? x[k][i] * x[k][i] : 0) + x[k][i]);
		assert_close(log.last[k], ref, (size_t)len[k], 0);
		nuq_tensor_free(&y);
	}
	gb_run_free(&r);
	gb_free(b);
}

static void clear_errors(void **state)
{
	struct Onnx__NodeProto *n;
	struct gb *b;

	(void)state;
	b = one_node("LSTM", "x", &n);
	expect_refusal(b, -EOPNOTSUPP, "node 'bad_node' (LSTM): op is not supported");

	b = one_node("Relu", "x", &n);
	gb_attr_i(b, n, "fancy", 1);
	expect_refusal(b, -EOPNOTSUPP, "attribute 'fancy' is not supported");

	expect_refusal(one_node("Relu", "nowhere", &n), -EINVAL, "'nowhere' is not produced");
	expect_refusal(one_node("Add", "x", &n), -EINVAL, "needs 2 inputs");

	b = one_node("Add", "x,z", &n);
	gb_node(b, "Relu", "r2", "y", "z");
	expect_refusal(b, -ELOOP, "cycle");

	b = one_node("Conv", "x,w", &n);
	gb_init_f(b, "w", 4, (int64_t[]){ 2, 3, 1, 1 }, (float[6]){ 0 });
	expect_refusal(b, -EINVAL, "node 'bad_node' (Conv): input has 1 channels");

	b = one_node("Conv", "x,w", &n);
	gb_init_f(b, "w", 4, (int64_t[]){ 1, 1, 3, 3 }, (float[9]){ 0 });
	gb_attr_s(b, n, "auto_pad", "SAME_MIDDLE");
	expect_refusal(b, -EINVAL, "auto_pad=SAME_MIDDLE is not an ONNX mode");

	b = one_node("Conv", "x,w", &n);
	gb_init_f(b, "w", 4, (int64_t[]){ 1, 1, 3, 3 }, (float[9]){ 0 });
	gb_attr_s(b, n, "auto_pad", "SAME_UPPER");
	gb_attr_ints(b, n, "pads", 4, (int64_t[]){ 1, 1, 1, 1 });
	expect_refusal(b, -EINVAL, "with explicit pads");

	b = one_node("Reshape", "x,s", &n);
	gb_init_i(b, "s", 1, (int64_t[]){ 2 }, (int64_t[]){ 1LL << 40, 1LL << 40 });
	expect_refusal(b, -EINVAL, "too many elements");

	b = gb_new(11);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_node(b, "Relu", "r3", "x", "other");
	expect_refusal(b, -EINVAL, "output");
}

/* Import @b (without running it) into @r. */
static void import_only(struct gb *b, struct gb_run *r)
{
	size_t len;
	const uint8_t *buf = gb_pack(b, &len);

	memset(r, 0, sizeof(*r));
	assert_int_equal(nuq_onnx_load_mem(buf, len, &r->m, r->msg, sizeof(r->msg)), 0);
	if (nuq_graph_import(r->m, &r->g, r->msg, sizeof(r->msg)))
		fail_msg("import: %s", r->msg);
}

/*
 * Two inputs, three outputs (one of them the input itself), fed in the
 * other order than declared: every output comes back, in declared order.
 */
static void two_inputs_two_outputs(void **state)
{
	float a[6], bv[6];
	struct nuq_tensor at = tensor4(a, 2, 3, 0, 0, 2), bt = tensor4(bv, 2, 3, 0, 0, 2);
	struct nuq_graph_feed feeds[2] = { { "b", &bt }, { "a", &at } };
	struct nuq_tensor y[3], one;
	struct gb *b = gb_new(13);
	struct gb_run r;
	size_t i, k;

	(void)state;
	fill(a, 6);
	fill(bv, 6);
	gb_input(b, "a");
	gb_input(b, "b");
	gb_output(b, "sum");
	gb_output(b, "prod");
	gb_output(b, "a");
	gb_node(b, "Add", "add", "a,b", "sum");
	gb_node(b, "Mul", "mul", "a,b", "prod");
	import_only(b, &r);
	assert_int_equal(nuq_graph_ninputs(r.g), 2);
	assert_int_equal(nuq_graph_noutputs(r.g), 3);
	assert_string_equal(nuq_graph_input_info(r.g, 1)->name, "b");
	assert_string_equal(nuq_graph_output_info(r.g, 1)->name, "prod");
	assert_null(nuq_graph_input_info(r.g, 2));
	assert_int_equal(nuq_graph_find_input(r.g, "b"), 1);
	assert_int_equal(nuq_graph_find_input(r.g, "sum"), -1);
	/* Twice: the input kept as an output must not be consumed by the first run. */
	for (k = 0; k < 2; k++) {
		if (nuq_graph_run_all(r.g, feeds, 2, y, r.msg, sizeof(r.msg)))
			fail_msg("run: %s", r.msg);
		for (i = 0; i < 3; i++) {
			assert_int_equal(y[i].ndims, 2);
			assert_int_equal(y[i].dims[0], 2);
			assert_int_equal(y[i].dims[1], 3);
		}
		for (i = 0; i < 6; i++) {
			assert_true(y[0].f[i] == a[i] + bv[i]);
			assert_true(y[1].f[i] == a[i] * bv[i]);
			assert_true(y[2].f[i] == a[i]);
		}
		for (i = 0; i < 3; i++)
			nuq_tensor_free(&y[i]);
	}
	/* The one-input call cannot feed this graph, and says so. */
	assert_int_equal(nuq_graph_run(r.g, &at, &one, r.msg, sizeof(r.msg)), -EINVAL);
	assert_non_null(strstr(r.msg, "input 'b' was not given"));
	assert_null(one.f);
	gb_run_free(&r);
	gb_free(b);
}

/* Declared element types and dims, static and symbolic, and runs on any symbolic size. */
static void io_metadata(void **state)
{
	static const char *const params[4] = { "batch", NULL, NULL, NULL };
	const struct nuq_graph_io *in, *out;
	float x[2 * 3 * 5 * 8];
	struct nuq_tensor xt = tensor4(x, 2, 3, 5, 8, 4), y;
	struct gb *b = gb_new(13);
	struct gb_run r;
	size_t i;

	(void)state;
	/* dim 2 is neither static nor named: undeclared (dim_value 0). */
	gb_input_typed(b, "x", 1, 4, (int64_t[]){ 0, 3, 0, 8 }, params);
	gb_output_typed(b, "y", 1, -1, NULL, NULL);
	gb_node(b, "Relu", "", "x", "y");
	import_only(b, &r);
	in = nuq_graph_input_info(r.g, 0);
	out = nuq_graph_output_info(r.g, 0);
	assert_string_equal(in->name, "x");
	assert_int_equal(in->elem_type, 1);
	assert_string_equal(nuq_graph_dtype_name(in->elem_type), "float32");
	assert_string_equal(nuq_graph_dtype_name(9), "bool");
	assert_true(in->has_shape);
	assert_int_equal(in->ndims, 4);
	assert_int_equal(in->dims[0], -1);
	assert_string_equal(in->dim_params[0], "batch");
	assert_int_equal(in->dims[1], 3);
	assert_null(in->dim_params[1]);
	assert_int_equal(in->dims[2], -1);
	assert_null(in->dim_params[2]);
	assert_int_equal(in->dims[3], 8);
	assert_string_equal(out->name, "y");
	assert_int_equal(out->elem_type, 1);
	assert_false(out->has_shape);
	fill(x, sizeof(x) / sizeof(x[0]));
	assert_int_equal(nuq_graph_run(r.g, &xt, &y, r.msg, sizeof(r.msg)), 0);
	for (i = 0; i < sizeof(x) / sizeof(x[0]); i++)
		assert_true(y.f[i] == (x[i] > 0 ? x[i] : 0));
	nuq_tensor_free(&y);
	gb_run_free(&r);
	gb_free(b);
}

/* Expect run_all on @feeds to fail with -EINVAL, saying @says. */
static void expect_bad_feed(struct gb_run *r, const struct nuq_graph_feed *feeds, size_t n,
			    const char *says)
{
	struct nuq_tensor y[2];

	r->msg[0] = 0;
	assert_int_equal(nuq_graph_run_all(r->g, feeds, n, y, r->msg, sizeof(r->msg)), -EINVAL);
	if (!strstr(r->msg, says))
		fail_msg("\"%s\" does not say \"%s\"", r->msg, says);
	assert_null(y[0].f);
	assert_null(y[1].f);
}

/* A wrong name, a missing or repeated input, a wrong type or shape: refused, named. */
static void bad_inputs_refused(void **state)
{
	static const char *const params[2] = { "n", NULL };
	float x[12] = { 0 };
	int64_t iv[4] = { 0 };
	struct nuq_tensor ok = tensor4(x, 3, 4, 0, 0, 2), wide = tensor4(x, 2, 6, 0, 0, 2);
	struct nuq_tensor flat = tensor4(x, 12, 0, 0, 0, 1);
	struct nuq_tensor ints = { .dtype = NUQ_DT_INT64, .ndims = 2, .dims = { 1, 4 }, .i = iv };
	struct gb *b = gb_new(13);
	struct Onnx__NodeProto *n;
	struct gb_run r;

	(void)state;
	gb_input_typed(b, "a", 1, 2, (int64_t[]){ 0, 4 }, params);
	gb_input_typed(b, "b", 1, 2, (int64_t[]){ 0, 4 }, params);
	gb_output(b, "y");
	gb_output(b, "z");
	gb_node(b, "Add", "add", "a,b", "y");
	gb_node(b, "Relu", "relu", "a", "z");
	import_only(b, &r);
	expect_bad_feed(&r, (struct nuq_graph_feed[]){ { "a", &ok }, { "c", &ok } }, 2,
			"the graph has no input called 'c' (its inputs: 'a', 'b')");
	expect_bad_feed(&r, (struct nuq_graph_feed[]){ { "a", &ok } }, 1,
			"input 'b' was not given");
	expect_bad_feed(&r, (struct nuq_graph_feed[]){ { "a", &ok }, { "a", &ok } }, 2,
			"input 'a' is given twice");
	expect_bad_feed(&r, (struct nuq_graph_feed[]){ { "a", &ok }, { "b", &wide } }, 2,
			"input 'b' must have shape [n,4], the tensor given is [2,6]");
	expect_bad_feed(&r, (struct nuq_graph_feed[]){ { "a", &flat }, { "b", &ok } }, 2,
			"input 'a' must have shape [n,4], the tensor given is [12]");
	expect_bad_feed(&r, (struct nuq_graph_feed[]){ { "a", &ok }, { "b", &ints } }, 2,
			"input 'b' is float32, the tensor given is int64");
	expect_bad_feed(&r, (struct nuq_graph_feed[]){ { NULL, &ok }, { "b", &ok } }, 2,
			"no input called '(null)'");
	gb_run_free(&r);
	gb_free(b);

	/* An unnamed node is named by its index in the model, its op and its output. */
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_node(b, "Relu", "", "x", "r");
	n = gb_node(b, "Relu", "", "r", "y");
	gb_attr_i(b, n, "fancy", 1);
	expect_refusal(b, -EOPNOTSUPP, "node #1 (Relu, output 'y'): attribute 'fancy'");

	/* An input of a type the executor lacks is refused at the run, by name. */
	b = gb_new(13);
	gb_input_typed(b, "x", 10, -1, NULL, NULL);
	gb_output(b, "y");
	gb_node(b, "Identity", "id", "x", "y");
	expect_refusal(b, -EOPNOTSUPP, "input 'x' is float16");
}

/* Forms of existing ops that older or newer opsets use (also in make conformance). */
static void op_forms(void **state)
{
	float x[6] = { -3, -1, 0, 0.5f, 2, 7 }, hi = 1.5f;
	struct nuq_tensor xt = tensor4(x, 2, 3, 0, 0, 2), ht = { .dtype = NUQ_DT_FLOAT, .f = &hi };
	struct nuq_graph_feed feeds[2] = { { "x", &xt }, { "hi", &ht } };
	struct Onnx__NodeProto *n;
	struct nuq_tensor y;
	struct gb *b;
	struct gb_run r;
	size_t i;

	(void)state;
	/* Clip with a constant min and a max that is a graph input. */
	b = gb_new(13);
	gb_input(b, "x");
	gb_input(b, "hi");
	gb_output(b, "y");
	gb_init_f(b, "lo", 0, NULL, (float[]){ 0 });
	gb_node(b, "Clip", "clip", "x,lo,hi", "y");
	import_only(b, &r);
	assert_int_equal(nuq_graph_run_all(r.g, feeds, 2, &y, r.msg, sizeof(r.msg)), 0);
	for (i = 0; i < 6; i++)
		assert_true(y.f[i] == (x[i] < 0 ? 0 : x[i] > hi ? hi : x[i]));
	nuq_tensor_free(&y);
	hi = 6;
	assert_int_equal(nuq_graph_run_all(r.g, feeds, 2, &y, r.msg, sizeof(r.msg)), 0);
	assert_true(y.f[5] == 6 && y.f[4] == 2);
	nuq_tensor_free(&y);
	gb_run_free(&r);
	gb_free(b);

	/* Shape with start and end (opset 15). */
	b = one_node("Shape", "x", &n);
	gb_attr_i(b, n, "start", 1);
	gb_attr_i(b, n, "end", -1);
	{
		float z[16] = { 0 };
		struct nuq_tensor zt = tensor4(z, 1, 2, 4, 2, 4);

		assert_int_equal(gb_run(b, &zt, &r), 0);
	}
	assert_int_equal(r.y.dtype, NUQ_DT_INT64);
	assert_int_equal(nuq_tensor_count(&r.y), 2);
	assert_true(r.y.i[0] == 2 && r.y.i[1] == 4);
	gb_run_free(&r);
	gb_free(b);

	/* Opset 6 broadcasting: numpy's alignment runs, another axis is refused. */
	b = gb_new(6);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_f(b, "c", 1, (int64_t[]){ 3 }, (float[]){ 1, 2, 3 });
	n = gb_node(b, "Add", "add", "x,c", "y");
	gb_attr_i(b, n, "broadcast", 1);
	gb_attr_i(b, n, "axis", 1);
	assert_int_equal(gb_run(b, &xt, &r), 0);
	for (i = 0; i < 6; i++)
		assert_true(r.y.f[i] == x[i] + (float)(i % 3 + 1));
	gb_run_free(&r);
	gb_free(b);
	b = gb_new(6);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_f(b, "c", 1, (int64_t[]){ 2 }, (float[]){ 1, 2 });
	n = gb_node(b, "Add", "add", "x,c", "y");
	gb_attr_i(b, n, "broadcast", 1);
	gb_attr_i(b, n, "axis", 0);
	assert_int_equal(gb_run(b, &xt, &r), -EOPNOTSUPP);
	assert_non_null(strstr(r.msg, "broadcast at axis 0 is not supported"));
	gb_run_free(&r);
	gb_free(b);

	/* Pow of an int64 base by a float exponent: computed, then truncated. */
	{
		struct nuq_graph_feed pf[2];
		int64_t base[3] = { 2, 3, -2 };
		float ex[3] = { 3, 0.5f, 2 };
		struct nuq_tensor bt = { .dtype = NUQ_DT_INT64, .ndims = 1, .dims = { 3 }, .i = base };
		struct nuq_tensor et = tensor4(ex, 3, 0, 0, 0, 1);

		b = gb_new(15);
		gb_input(b, "x");
		gb_input(b, "e");
		gb_output(b, "y");
		gb_node(b, "Pow", "pow", "x,e", "y");
		import_only(b, &r);
		pf[0] = (struct nuq_graph_feed){ "x", &bt };
		pf[1] = (struct nuq_graph_feed){ "e", &et };
		assert_int_equal(nuq_graph_run_all(r.g, pf, 2, &y, r.msg, sizeof(r.msg)), 0);
		assert_int_equal(y.dtype, NUQ_DT_INT64);
		assert_true(y.i[0] == 8 && y.i[1] == 1 && y.i[2] == 4);
		nuq_tensor_free(&y);
		gb_run_free(&r);
		gb_free(b);
	}

	/* An opset 6 BatchNormalization in training mode is refused. */
	b = one_node("BatchNormalization", "x,s,s,s,s", &n);
	gb_init_f(b, "s", 1, (int64_t[]){ 1 }, (float[]){ 1 });
	gb_attr_i(b, n, "is_test", 0);
	expect_refusal(b, -EOPNOTSUPP, "only inference mode");
}

/* The quantized executor takes the same named feeds and returns every output. */
static void qexec_run_all(void **state)
{
	float a[4] = { 1, -2, 3, 0.5f }, bv[4] = { 4, 5, -6, 2 };
	struct nuq_tensor at = tensor4(a, 4, 0, 0, 0, 1), bt = tensor4(bv, 4, 0, 0, 0, 1);
	struct nuq_graph_feed feeds[2] = { { "b", &bt }, { "a", &at } };
	struct nuq_qexec_opts opts = { 0 };
	struct nuq_tensor y[2];
	struct nuq_qexec *q;
	struct gb *b = gb_new(13);
	struct gb_run r;
	size_t i;

	(void)state;
	gb_input(b, "a");
	gb_input(b, "b");
	gb_output(b, "d");
	gb_output(b, "m");
	gb_node(b, "Sub", "sub", "a,b", "d");
	gb_node(b, "Mul", "mul", "a,b", "m");
	import_only(b, &r);
	if (nuq_qexec_create(r.g, NULL, 0, &opts, &q, r.msg, sizeof(r.msg)))
		fail_msg("qexec: %s", r.msg);
	assert_int_equal(nuq_qexec_run_all(q, feeds, 2, y, r.msg, sizeof(r.msg)), 0);
	for (i = 0; i < 4; i++) {
		assert_true(y[0].f[i] == a[i] - bv[i]);
		assert_true(y[1].f[i] == a[i] * bv[i]);
	}
	nuq_tensor_free(&y[0]);
	nuq_tensor_free(&y[1]);
	assert_int_equal(nuq_qexec_run_all(q, feeds, 1, y, r.msg, sizeof(r.msg)), -EINVAL);
	assert_non_null(strstr(r.msg, "input 'a' was not given"));
	nuq_qexec_free(q);
	gb_run_free(&r);
	gb_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(conv_shapes),
		cmocka_unit_test(batchnorm_folds),
		cmocka_unit_test(bias_add_folds),
		cmocka_unit_test(constant_folding),
		cmocka_unit_test(broadcasting),
		cmocka_unit_test(activations),
		cmocka_unit_test(softmax_axes),
		cmocka_unit_test(data_movement),
		cmocka_unit_test(pooling),
		cmocka_unit_test(matmul_gemm),
		cmocka_unit_test(resize_modes),
		cmocka_unit_test(lockstep_runs),
		cmocka_unit_test(clear_errors),
		cmocka_unit_test(two_inputs_two_outputs),
		cmocka_unit_test(io_metadata),
		cmocka_unit_test(bad_inputs_refused),
		cmocka_unit_test(op_forms),
		cmocka_unit_test(qexec_run_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
