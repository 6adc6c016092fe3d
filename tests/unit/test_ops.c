// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The fp32 executor's second set of ops (ops_unary.c, ops_variadic.c,
 * ops_pad.c, ops_reduce.c, ops_norm.c, ops_tensor.c): each one on a tiny
 * single-node graph against results worked out by hand or by the op's
 * defining formula, and every unsupported attribute a clear refusal
 * naming the node.
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

#include "graph_build.h"
#include "onnx.pb-c.h"


static struct nuq_tensor ft(float *data, unsigned int nd, const int64_t *dims)
{
	struct nuq_tensor t = { .dtype = NUQ_DT_FLOAT, .ndims = nd, .f = data };

	memcpy(t.dims, dims, nd * sizeof(int64_t));
	return t;
}

static struct nuq_tensor it(int64_t *data, unsigned int nd, const int64_t *dims)
{
	struct nuq_tensor t = { .dtype = NUQ_DT_INT64, .ndims = nd, .i = data };

	memcpy(t.dims, dims, nd * sizeof(int64_t));
	return t;
}


/* A graph x -> OP -> y at @opset; more inputs and attributes are added by the caller. */
static struct gb *one_node(int64_t opset, const char *op, const char *ins,
			   struct Onnx__NodeProto **n)
{
	struct gb *b = gb_new(opset);

	gb_input(b, "x");
	gb_output(b, "y");
	*n = gb_node(b, op, "n0", ins, "y");
	return b;
}

static void check_shape(const struct nuq_tensor *y, unsigned int nd, const int64_t *dims)
{
	unsigned int d;

	assert_int_equal(y->ndims, nd);
	for (d = 0; d < nd; d++)
		if (y->dims[d] != dims[d])
			fail_msg("dim %u: %lld, expected %lld", d, (long long)y->dims[d],
				 (long long)dims[d]);
}

/* Run @b on @x and compare y with @want (relative tolerance @tol); frees @b. */
static void expect_f(struct gb *b, const struct nuq_tensor *x, unsigned int nd,
		     const int64_t *dims, const float *want, float tol)
{
	struct gb_run r;
	size_t i, n;

	if (gb_run(b, x, &r))
		fail_msg("run: %s", r.msg);
	assert_int_equal(r.y.dtype, NUQ_DT_FLOAT);
	check_shape(&r.y, nd, dims);
	n = nuq_tensor_count(&r.y);
	for (i = 0; i < n; i++)
		if (!(fabsf(r.y.f[i] - want[i]) <= tol * (1 + fabsf(want[i]))) &&
		    !(isnan(want[i]) && isnan(r.y.f[i])))
			fail_msg("element %zu: %.9g, expected %.9g", i, r.y.f[i], want[i]);
	gb_run_free(&r);
	gb_free(b);
}

static void expect_i(struct gb *b, const struct nuq_tensor *x, unsigned int nd,
		     const int64_t *dims, const int64_t *want)
{
	struct gb_run r;
	size_t i, n;

	if (gb_run(b, x, &r))
		fail_msg("run: %s", r.msg);
	assert_int_equal(r.y.dtype, NUQ_DT_INT64);
	check_shape(&r.y, nd, dims);
	n = nuq_tensor_count(&r.y);
	for (i = 0; i < n; i++)
		if (r.y.i[i] != want[i])
			fail_msg("element %zu: %lld, expected %lld", i, (long long)r.y.i[i],
				 (long long)want[i]);
	gb_run_free(&r);
	gb_free(b);
}

/* Import or run fails with @err, and the message names node n0 and says @says. */
static void expect_refusal(struct gb *b, const struct nuq_tensor *x, int err, const char *says)
{
	struct gb_run r;
	int ret = gb_run(b, x, &r);

	if (ret != err)
		fail_msg("returned %d, expected %d (%s)", ret, err, r.msg);
	if (!strstr(r.msg, "'n0'") || !strstr(r.msg, says))
		fail_msg("\"%s\" does not name n0 and say \"%s\"", r.msg, says);
	gb_run_free(&r);
	gb_free(b);
}

static const float xs6[6] = { -2.0f, -0.5f, 0.0f, 0.5f, 2.0f, 3.0f };
static const int64_t d23[2] = { 2, 3 };

/* Each activation against its defining formula, on negative, zero and positive inputs. */
static void unary_activations(void **state)
{
	float x[6], want[6];
	struct nuq_tensor xt = ft(x, 2, d23);
	struct Onnx__NodeProto *n;
	struct gb *b;
	size_t i;

	(void)state;
	memcpy(x, xs6, sizeof(x));
	b = one_node(13, "LeakyRelu", "x", &n);
	gb_attr_f(b, n, "alpha", 0.1f);
	for (i = 0; i < 6; i++)
		want[i] = x[i] < 0 ? 0.1f * x[i] : x[i];
	expect_f(b, &xt, 2, d23, want, 1e-6f);

	b = one_node(13, "LeakyRelu", "x", &n);
	for (i = 0; i < 6; i++)
		want[i] = x[i] < 0 ? 0.01f * x[i] : x[i];
	expect_f(b, &xt, 2, d23, want, 1e-6f);

	b = one_node(13, "Elu", "x", &n);
	gb_attr_f(b, n, "alpha", 2.0f);
	for (i = 0; i < 6; i++)
		want[i] = x[i] < 0 ? 2.0f * (expf(x[i]) - 1) : x[i];
	expect_f(b, &xt, 2, d23, want, 1e-6f);

	b = one_node(13, "Selu", "x", &n);
	for (i = 0; i < 6; i++)
		want[i] = x[i] > 0 ? 1.0507009873554805f * x[i] :
			  1.0507009873554805f * 1.6732632423543772f * (expf(x[i]) - 1);
	expect_f(b, &xt, 2, d23, want, 1e-6f);

	b = one_node(13, "Selu", "x", &n);
	gb_attr_f(b, n, "alpha", 2.0f);
	gb_attr_f(b, n, "gamma", 3.0f);
	for (i = 0; i < 6; i++)
		want[i] = x[i] > 0 ? 3.0f * x[i] : 3.0f * 2.0f * (expf(x[i]) - 1);
	expect_f(b, &xt, 2, d23, want, 1e-6f);

	b = one_node(13, "Softplus", "x", &n);
	for (i = 0; i < 6; i++)
		want[i] = logf(1 + expf(x[i]));
	expect_f(b, &xt, 2, d23, want, 1e-6f);

	/* Large inputs must not overflow: softplus(100) = 100, softplus(-100) ~ e^-100. */
	x[0] = 100.0f, x[1] = -100.0f;
	b = one_node(13, "Softplus", "x", &n);
	want[0] = 100.0f, want[1] = 0.0f;
	for (i = 2; i < 6; i++)
		want[i] = logf(1 + expf(x[i]));
	expect_f(b, &xt, 2, d23, want, 1e-6f);
	memcpy(x, xs6, sizeof(x));

	b = one_node(13, "Erf", "x", &n);
	for (i = 0; i < 6; i++)
		want[i] = (float)erf(x[i]);
	expect_f(b, &xt, 2, d23, want, 1e-6f);
	/* erf(0.5) by hand (tables): 0.5204999. */
	assert_true(fabsf(want[3] - 0.5204999f) < 1e-6f);
}

static void unary_arith(void **state)
{
	float x[6] = { -2.5f, -0.5f, 0.0f, 0.5f, 1.5f, 4.0f };
	float neg[6] = { 2.5f, 0.5f, -0.0f, -0.5f, -1.5f, -4.0f };
	float abs_[6] = { 2.5f, 0.5f, 0.0f, 0.5f, 1.5f, 4.0f };
	float rec[6] = { -0.4f, -2.0f, INFINITY, 2.0f, 1.0f / 1.5f, 0.25f };
	float flo[6] = { -3, -1, 0, 0, 1, 4 }, cei[6] = { -2, -0.0f, 0, 1, 2, 4 };
	struct nuq_tensor xt = ft(x, 2, d23);
	struct Onnx__NodeProto *n;
	struct gb *b;
	struct gb_run r;

	(void)state;
	expect_f(one_node(13, "Neg", "x", &n), &xt, 2, d23, neg, 0);
	expect_f(one_node(13, "Abs", "x", &n), &xt, 2, d23, abs_, 0);
	expect_f(one_node(13, "Floor", "x", &n), &xt, 2, d23, flo, 0);
	expect_f(one_node(13, "Ceil", "x", &n), &xt, 2, d23, cei, 0);
	/* 1/0 is +inf: check it apart, the rest numerically. */
	b = one_node(13, "Reciprocal", "x", &n);
	assert_int_equal(gb_run(b, &xt, &r), 0);
	assert_true(isinf(r.y.f[2]) && r.y.f[2] > 0);
	gb_run_free(&r);
	gb_free(b);
	x[2] = 8.0f, rec[2] = 0.125f;
	expect_f(one_node(13, "Reciprocal", "x", &n), &xt, 2, d23, rec, 1e-7f);
}

/* Round: halves go to the even neighbour. */
static void round_half_even(void **state)
{
	float x[8] = { 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f, 2.6f, -2.6f };
	float want[8] = { 0.0f, 2.0f, 2.0f, -0.0f, -2.0f, 2.0f, 3.0f, -3.0f };
	int64_t d[1] = { 8 };
	struct nuq_tensor xt = ft(x, 1, d);
	struct Onnx__NodeProto *n;

	(void)state;
	expect_f(one_node(11, "Round", "x", &n), &xt, 1, d, want, 0);
}

static void neg_abs_int64(void **state)
{
	int64_t x[4] = { -3, 0, 5, -(1LL << 40) }, d[1] = { 4 };
	int64_t neg[4] = { 3, 0, -5, 1LL << 40 }, abs_[4] = { 3, 0, 5, 1LL << 40 };
	struct nuq_tensor xt = it(x, 1, d);
	struct Onnx__NodeProto *n;

	(void)state;
	expect_i(one_node(13, "Neg", "x", &n), &xt, 1, d, neg);
	expect_i(one_node(13, "Abs", "x", &n), &xt, 1, d, abs_);
	expect_refusal(one_node(13, "Floor", "x", &n), &xt, -EINVAL, "float");
}

static void gelu(void **state)
{
	float x[6], want[6];
	struct nuq_tensor xt = ft(x, 2, d23);
	struct Onnx__NodeProto *n;
	struct gb *b;
	size_t i;

	(void)state;
	memcpy(x, xs6, sizeof(x));
	x[1] = 1.0f, x[2] = -1.0f;
	for (i = 0; i < 6; i++)
		want[i] = 0.5f * x[i] * (1 + (float)erf(x[i] / sqrt(2.0)));
	/* Known values: gelu(1) = 0.8413447, gelu(-1) = -0.1586553. */
	assert_true(fabsf(want[1] - 0.8413447f) < 1e-6f && fabsf(want[2] + 0.1586553f) < 1e-6f);
	expect_f(one_node(20, "Gelu", "x", &n), &xt, 2, d23, want, 1e-6f);

	/* As exporters decompose it before opset 20: x * 0.5 * (1 + erf(x / sqrt 2)). */
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_f(b, "r2", 0, NULL, (float[]){ 1.4142135f });
	gb_init_f(b, "one", 0, NULL, (float[]){ 1.0f });
	gb_init_f(b, "half", 0, NULL, (float[]){ 0.5f });
	gb_node(b, "Div", "div", "x,r2", "t0");
	gb_node(b, "Erf", "erf", "t0", "t1");
	gb_node(b, "Add", "add", "t1,one", "t2");
	gb_node(b, "Mul", "mul", "x,t2", "t3");
	gb_node(b, "Mul", "mul2", "t3,half", "y");
	expect_f(b, &xt, 2, d23, want, 1e-6f);

	b = one_node(20, "Gelu", "x", &n);
	gb_attr_s(b, n, "approximate", "tanh");
	for (i = 0; i < 6; i++)
		want[i] = 0.5f * x[i] * (1 + tanhf(sqrtf(2 / (float)M_PI) *
						    (x[i] + 0.044715f * x[i] * x[i] * x[i])));
	expect_f(b, &xt, 2, d23, want, 1e-6f);

	b = one_node(20, "Gelu", "x", &n);
	gb_attr_s(b, n, "approximate", "sigmoid");
	expect_refusal(b, &xt, -EOPNOTSUPP, "approximate 'sigmoid'");
}

static void dropout(void **state)
{
	float x[6];
	struct nuq_tensor xt = ft(x, 2, d23);
	struct Onnx__NodeProto *n;
	struct gb *b;

	(void)state;
	memcpy(x, xs6, sizeof(x));
	b = one_node(13, "Dropout", "x", &n);
	expect_f(b, &xt, 2, d23, xs6, 0);

	/* A constant ratio and training_mode = false is inference: identity. */
	b = one_node(13, "Dropout", "x,ratio,tm", &n);
	gb_init_f(b, "ratio", 0, NULL, (float[]){ 0.5f });
	gb_init_i(b, "tm", 0, NULL, (int64_t[]){ 0 });
	expect_f(b, &xt, 2, d23, xs6, 0);

	b = one_node(13, "Dropout", "x,ratio,tm", &n);
	gb_init_f(b, "ratio", 0, NULL, (float[]){ 0.5f });
	gb_init_i(b, "tm", 0, NULL, (int64_t[]){ 1 });
	expect_refusal(b, &xt, -EOPNOTSUPP, "training_mode");

	b = one_node(6, "Dropout", "x", &n);
	gb_attr_i(b, n, "is_test", 0);
	expect_refusal(b, &xt, -EOPNOTSUPP, "is_test");

	/* The optional mask output is accepted (all true at inference). */
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_node(b, "Dropout", "n0", "x", "y,mask");
	expect_f(b, &xt, 2, d23, xs6, 0);

	/* Dropout has two outputs; a third is refused, naming the node. */
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_node(b, "Dropout", "n0", "x", "y,mask,extra");
	expect_refusal(b, &xt, -EOPNOTSUPP, "at most 2");
}

static void prelu(void **state)
{
	float x[8] = { -1, 2, -3, 4, -5, 6, -7, 8 };
	float want[8] = { -0.5f, 2, -1.5f, 4, -10, 6, -14, 8 };
	int64_t d[4] = { 1, 2, 2, 2 };
	struct nuq_tensor xt = ft(x, 4, d);
	struct Onnx__NodeProto *n;
	struct gb *b;

	(void)state;
	/* A per-channel slope [C, 1, 1], as exporters write it. */
	b = one_node(9, "PRelu", "x,s", &n);
	gb_init_f(b, "s", 3, (int64_t[]){ 2, 1, 1 }, (float[]){ 0.5f, 2.0f });
	expect_f(b, &xt, 4, d, want, 0);

	/* A scalar slope. */
	b = one_node(9, "PRelu", "x,s", &n);
	gb_init_f(b, "s", 1, (int64_t[]){ 1 }, (float[]){ 0.5f });
	expect_f(b, &xt, 4, d, (float[]){ -0.5f, 2, -1.5f, 4, -2.5f, 6, -3.5f, 8 }, 0);

	/* From opset 7 a [2] slope broadcasts numpy-style, along the last axis... */
	b = one_node(9, "PRelu", "x,s", &n);
	gb_init_f(b, "s", 1, (int64_t[]){ 2 }, (float[]){ 0.5f, 2.0f });
	expect_f(b, &xt, 4, d, (float[]){ -0.5f, 2, -1.5f, 4, -2.5f, 6, -3.5f, 8 }, 0);
	/* ...before it, a 1-D slope of C values is per channel (PyTorch 0.3's export). */
	b = one_node(6, "PRelu", "x,s", &n);
	gb_init_f(b, "s", 1, (int64_t[]){ 2 }, (float[]){ 0.5f, 2.0f });
	expect_f(b, &xt, 4, d, want, 0);

	/* A slope that would grow the output is not a PRelu slope. */
	b = one_node(9, "PRelu", "x,s", &n);
	gb_init_f(b, "s", 5, (int64_t[]){ 3, 1, 2, 1, 1 }, (float[]){ 1, 2, 3, 4, 5, 6 });
	expect_refusal(b, &xt, -EINVAL, "slope");

	b = one_node(9, "PRelu", "x,s", &n);
	gb_init_f(b, "s", 1, (int64_t[]){ 3 }, (float[]){ 1, 2, 3 });
	expect_refusal(b, &xt, -EINVAL, "broadcast");
}

/* Min, Max, Sum, Mean over three inputs of shapes [2,3], [3] and [1]. */
static void variadic(void **state)
{
	float x[6] = { 1, 5, -2, 0, 3, 7 };
	struct nuq_tensor xt = ft(x, 2, d23);
	struct Onnx__NodeProto *n;
	const char *ops[4] = { "Min", "Max", "Sum", "Mean" };
	float want[4][6];
	float c[3] = { 2, 2, 6 }, s = 4;
	struct gb *b;
	int k, i;

	(void)state;
	for (i = 0; i < 6; i++) {
		float a = x[i], v = c[i % 3];

		want[0][i] = fminf(fminf(a, v), s);
		want[1][i] = fmaxf(fmaxf(a, v), s);
		want[2][i] = a + v + s;
		want[3][i] = (a + v + s) / 3;
	}
	/* By hand, row 0 of Max: max(1,2,4), max(5,2,4), max(-2,6,4). */
	assert_true(want[1][0] == 4 && want[1][1] == 5 && want[1][2] == 6);
	for (k = 0; k < 4; k++) {
		b = one_node(13, ops[k], "x,c,s", &n);
		gb_init_f(b, "c", 1, (int64_t[]){ 3 }, c);
		gb_init_f(b, "s", 1, (int64_t[]){ 1 }, &s);
		expect_f(b, &xt, 2, d23, want[k], 1e-6f);
	}
	/* Broadcasting may grow the output: [2,3] with [2,1,1] gives [2,2,3]. */
	b = one_node(13, "Sum", "x,c", &n);
	gb_init_f(b, "c", 3, (int64_t[]){ 2, 1, 1 }, (float[]){ 10, 20 });
	expect_f(b, &xt, 3, (int64_t[]){ 2, 2, 3 },
		 (float[]){ 11, 15, 8, 10, 13, 17, 21, 25, 18, 20, 23, 27 }, 0);
	/* One input: a copy. */
	expect_f(one_node(13, "Max", "x", &n), &xt, 2, d23, x, 0);

	b = one_node(13, "Max", "x,c", &n);
	gb_init_f(b, "c", 1, (int64_t[]){ 2 }, c);
	expect_refusal(b, &xt, -EINVAL, "does not broadcast");
}

static void variadic_int64(void **state)
{
	int64_t x[3] = { 4, -1, 9 }, d[1] = { 3 };
	struct nuq_tensor xt = it(x, 1, d);
	struct Onnx__NodeProto *n;
	struct gb *b;

	(void)state;
	b = one_node(13, "Max", "x,c", &n);
	gb_init_i(b, "c", 0, NULL, (int64_t[]){ 2 });
	expect_i(b, &xt, 1, d, (int64_t[]){ 4, 2, 9 });
	b = one_node(13, "Min", "x,c", &n);
	gb_init_i(b, "c", 0, NULL, (int64_t[]){ 2 });
	expect_i(b, &xt, 1, d, (int64_t[]){ 2, -1, 2 });
	b = one_node(13, "Sum", "x,x", &n);
	expect_i(b, &xt, 1, d, (int64_t[]){ 8, -2, 18 });
	b = one_node(13, "Mean", "x,x", &n);
	expect_refusal(b, &xt, -EINVAL, "float");
}

/* x[2][3][4] = i (0..23): sums and extremes worked out by hand. */
static void reductions(void **state)
{
	float x[24];
	int64_t d[3] = { 2, 3, 4 };
	struct nuq_tensor xt = ft(x, 3, d);
	struct Onnx__NodeProto *n;
	struct gb *b;
	int i;

	(void)state;
	for (i = 0; i < 24; i++)
		x[i] = (float)i;
	/* Sum over the last axis (negative), dropped: 0+1+2+3 = 6, then +16 per row. */
	b = one_node(11, "ReduceSum", "x", &n);
	gb_attr_ints(b, n, "axes", 1, (int64_t[]){ -1 });
	gb_attr_i(b, n, "keepdims", 0);
	expect_f(b, &xt, 2, d23, (float[]){ 6, 22, 38, 54, 70, 86 }, 0);

	/* Opset 13: axes as an input. */
	b = one_node(13, "ReduceSum", "x,ax", &n);
	gb_init_i(b, "ax", 1, (int64_t[]){ 1 }, (int64_t[]){ 1 });
	expect_f(b, &xt, 3, (int64_t[]){ 2, 1, 4 }, (float[]){ 12, 15, 18, 21, 48, 51, 54, 57 }, 0);

	/* Max over axes 0 and 2, kept: the last of each row of the second block. */
	b = one_node(13, "ReduceMax", "x", &n);
	gb_attr_ints(b, n, "axes", 2, (int64_t[]){ 0, 2 });
	expect_f(b, &xt, 3, (int64_t[]){ 1, 3, 1 }, (float[]){ 15, 19, 23 }, 0);

	/* Opset 18: axes as an input; Min over axis 0. */
	b = one_node(18, "ReduceMin", "x,ax", &n);
	gb_init_i(b, "ax", 1, (int64_t[]){ 1 }, (int64_t[]){ 0 });
	gb_attr_i(b, n, "keepdims", 0);
	expect_f(b, &xt, 2, (int64_t[]){ 3, 4 }, (float[]){ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 }, 0);

	/* No axes: everything, kept as [1,1,1]. 0+...+23 = 276. */
	b = one_node(13, "ReduceSum", "x", &n);
	expect_f(b, &xt, 3, (int64_t[]){ 1, 1, 1 }, (float[]){ 276 }, 0);

	/* No axes and noop_with_empty_axes: the input unchanged. */
	b = one_node(13, "ReduceSum", "x", &n);
	gb_attr_i(b, n, "noop_with_empty_axes", 1);
	expect_f(b, &xt, 3, d, x, 0);

	/* Prod over axis 1 of the first elements: 0*4*8 = 0, 1*5*9 = 45, ... */
	b = one_node(13, "ReduceProd", "x", &n);
	gb_attr_ints(b, n, "axes", 1, (int64_t[]){ 1 });
	gb_attr_i(b, n, "keepdims", 0);
	expect_f(b, &xt, 2, (int64_t[]){ 2, 4 },
		 (float[]){ 0, 45, 120, 231, 12 * 16 * 20, 13 * 17 * 21, 14 * 18 * 22, 15 * 19 * 23 },
		 1e-6f);

	b = one_node(13, "ReduceMax", "x", &n);
	gb_attr_ints(b, n, "axes", 1, (int64_t[]){ 3 });
	expect_refusal(b, &xt, -EINVAL, "axis 3 out of range");

	b = one_node(13, "ReduceMax", "x,ax", &n);
	gb_attr_ints(b, n, "axes", 1, (int64_t[]){ 0 });
	gb_init_i(b, "ax", 1, (int64_t[]){ 1 }, (int64_t[]){ 0 });
	expect_refusal(b, &xt, -EINVAL, "both");
}

/* ReduceProd on a shape: the element count, as shape chains compute it. */
static void reduce_int64(void **state)
{
	int64_t x[4] = { 1, 3, 5, 7 }, d[1] = { 4 };
	struct nuq_tensor xt = it(x, 1, d);
	struct Onnx__NodeProto *n;
	struct gb *b;

	(void)state;
	b = one_node(13, "ReduceProd", "x", &n);
	gb_attr_i(b, n, "keepdims", 0);
	expect_i(b, &xt, 0, NULL, (int64_t[]){ 105 });
	b = one_node(13, "ReduceMin", "x", &n);
	expect_i(b, &xt, 1, (int64_t[]){ 1 }, (int64_t[]){ 1 });
}

static void global_max_pool(void **state)
{
	float x[8] = { 1, -4, 3, 2, -1, -2, -3, -0.5f };
	int64_t d[4] = { 1, 2, 2, 2 };
	struct nuq_tensor xt = ft(x, 4, d);
	struct Onnx__NodeProto *n;

	(void)state;
	expect_f(one_node(13, "GlobalMaxPool", "x", &n), &xt, 4, (int64_t[]){ 1, 2, 1, 1 },
		 (float[]){ 3, -0.5f }, 0);
}

/* Pad on x[1][1][2][3] = {{1,2,3},{4,5,6}}. */
static struct gb *pad_node(int64_t opset, const char *mode, const int64_t *pads, unsigned int np,
			   const char *ins)
{
	struct Onnx__NodeProto *n;
	struct gb *b = one_node(opset, "Pad", ins, &n);

	if (mode)
		gb_attr_s(b, n, "mode", mode);
	gb_init_i(b, "p", 1, (int64_t[]){ np }, pads);
	return b;
}

static void pad(void **state)
{
	float x[6] = { 1, 2, 3, 4, 5, 6 };
	int64_t d[4] = { 1, 1, 2, 3 };
	struct nuq_tensor xt = ft(x, 4, d);
	struct Onnx__NodeProto *n;
	struct gb *b;

	(void)state;
	b = pad_node(13, NULL, (int64_t[]){ 0, 0, 1, 1, 0, 0, 0, 1 }, 8, "x,p,v");
	gb_init_f(b, "v", 0, NULL, (float[]){ 9 });
	expect_f(b, &xt, 4, (int64_t[]){ 1, 1, 3, 5 },
		 (float[]){ 9, 9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 4, 5, 6, 9 }, 0);

	/* Reflect at both borders, without repeating the edge value. */
	b = pad_node(13, "reflect", (int64_t[]){ 0, 0, 1, 2, 0, 0, 0, 2 }, 8, "x,p");
	expect_f(b, &xt, 4, (int64_t[]){ 1, 1, 3, 7 },
		 (float[]){ 6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4 }, 0);

	b = pad_node(13, "edge", (int64_t[]){ 0, 0, 0, 1, 0, 0, 1, 2 }, 8, "x,p");
	expect_f(b, &xt, 4, (int64_t[]){ 1, 1, 3, 6 },
		 (float[]){ 1, 1, 2, 3, 3, 3, 4, 4, 5, 6, 6, 6, 4, 4, 5, 6, 6, 6 }, 0);

	/* A negative pad crops: drop the first column, add a zero one at the end. */
	b = pad_node(13, NULL, (int64_t[]){ 0, 0, 0, -1, 0, 0, 0, 1 }, 8, "x,p");
	expect_f(b, &xt, 4, d, (float[]){ 2, 3, 0, 5, 6, 0 }, 0);

	/* Opset 18: pads for the axes listed in input 3 only. */
	b = pad_node(18, NULL, (int64_t[]){ 1, 1 }, 2, "x,p,,ax");
	gb_init_i(b, "ax", 1, (int64_t[]){ 1 }, (int64_t[]){ -1 });
	expect_f(b, &xt, 4, (int64_t[]){ 1, 1, 2, 5 }, (float[]){ 0, 1, 2, 3, 0, 0, 4, 5, 6, 0 }, 0);

	/* Before opset 11: pads and value are attributes. */
	b = one_node(2, "Pad", "x", &n);
	gb_attr_ints(b, n, "pads", 8, (int64_t[]){ 0, 0, 1, 0, 0, 0, 0, 0 });
	gb_attr_f(b, n, "value", 7);
	expect_f(b, &xt, 4, (int64_t[]){ 1, 1, 3, 3 }, (float[]){ 7, 7, 7, 1, 2, 3, 4, 5, 6 }, 0);

	b = pad_node(13, "reflect", (int64_t[]){ 0, 0, 0, 3, 0, 0, 0, 0 }, 8, "x,p");
	expect_refusal(b, &xt, -EINVAL, "reflect pads on axis 3");
	b = pad_node(19, "wrap", (int64_t[]){ 0, 0, 0, 1, 0, 0, 0, 0 }, 8, "x,p");
	expect_refusal(b, &xt, -EOPNOTSUPP, "mode 'wrap'");
	b = pad_node(13, NULL, (int64_t[]){ 0, 0, 0, 1 }, 4, "x,p");
	expect_refusal(b, &xt, -EINVAL, "8 values");
	b = pad_node(13, NULL, (int64_t[]){ 0, 0, 0, -2, 0, 0, 0, -2 }, 8, "x,p");
	expect_refusal(b, &xt, -EINVAL, "below zero");
	b = one_node(13, "Pad", "x", &n);
	expect_refusal(b, &xt, -EINVAL, "needs pads");
}

/* Pad on an INT64 tensor (shape arithmetic), constant from input 2. */
static void pad_int64(void **state)
{
	int64_t x[2] = { 5, 6 }, d[1] = { 2 };
	struct nuq_tensor xt = it(x, 1, d);
	struct gb *b;

	(void)state;
	b = pad_node(13, NULL, (int64_t[]){ 1, 2 }, 2, "x,p,v");
	gb_init_i(b, "v", 0, NULL, (int64_t[]){ -1 });
	expect_i(b, &xt, 1, (int64_t[]){ 5 }, (int64_t[]){ -1, 5, 6, -1, -1 });
}

/* A one-element tensor attribute @name on @n (the objects belong to the caller). */
static void attr_tensor(Onnx__NodeProto *n, const char *name, Onnx__AttributeProto *a,
			Onnx__TensorProto *t, int dtype, float *f, int64_t *i, int32_t *i32)
{
	static int64_t one = 1;

	onnx__tensor_proto__init(t);
	t->has_data_type = 1;
	t->data_type = dtype;
	t->n_dims = 1;
	t->dims = &one;
	if (f)
		t->n_float_data = 1, t->float_data = f;
	if (i)
		t->n_int64_data = 1, t->int64_data = i;
	if (i32)
		t->n_int32_data = 1, t->int32_data = i32;
	onnx__attribute_proto__init(a);
	a->name = (char *)name;
	a->has_type = 1;
	a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
	a->t = t;
	n->attribute[n->n_attribute++] = a;
}

static void constant_of_shape(void **state)
{
	int64_t s[2] = { 2, 3 }, ds[1] = { 2 }, iv = 7;
	float fv = 1.5f, want[6] = { 1.5f, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f }, x[6] = { 0 };
	int32_t i32 = -4;
	uint8_t bv = 1;
	struct nuq_tensor st = it(s, 1, ds), xt = ft(x, 2, d23);
	Onnx__AttributeProto a;
	Onnx__TensorProto t;
	struct Onnx__NodeProto *n;
	struct gb *b;

	(void)state;
	b = one_node(9, "ConstantOfShape", "x", &n);
	attr_tensor(n, "value", &a, &t, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, &fv, NULL, NULL);
	expect_f(b, &st, 2, d23, want, 0);

	b = one_node(9, "ConstantOfShape", "x", &n);
	attr_tensor(n, "value", &a, &t, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, NULL, &iv, NULL);
	expect_i(b, &st, 2, d23, (int64_t[]){ 7, 7, 7, 7, 7, 7 });

	b = one_node(9, "ConstantOfShape", "x", &n);
	attr_tensor(n, "value", &a, &t, ONNX__TENSOR_PROTO__DATA_TYPE__INT32, NULL, NULL, &i32);
	expect_i(b, &st, 2, d23, (int64_t[]){ -4, -4, -4, -4, -4, -4 });

	/* No value: float zeros. */
	expect_f(one_node(9, "ConstantOfShape", "x", &n), &st, 2, d23, (float[6]){ 0 }, 0);

	/* An empty shape gives a scalar. */
	b = one_node(9, "ConstantOfShape", "x", &n);
	attr_tensor(n, "value", &a, &t, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, &fv, NULL, NULL);
	st.dims[0] = 0;
	expect_f(b, &st, 0, NULL, want, 0);
	st.dims[0] = 2;

	/* Of a constant shape, as BlazeFace's exporter leaves it: folded, then added to x. */
	b = gb_new(9);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_i(b, "s", 1, ds, s);
	n = gb_node(b, "ConstantOfShape", "n0", "s", "c");
	attr_tensor(n, "value", &a, &t, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, &fv, NULL, NULL);
	gb_node(b, "Add", "add", "x,c", "y");
	expect_f(b, &xt, 2, d23, want, 0);

	/* A bool value needs a bool tensor type nuq does not have: refused. */
	b = one_node(9, "ConstantOfShape", "x", &n);
	attr_tensor(n, "value", &a, &t, ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, NULL, NULL, NULL);
	t.raw_data.len = 1, t.raw_data.data = &bv, t.has_raw_data = 1;
	expect_refusal(b, &st, -EOPNOTSUPP, "data type 9");

	s[1] = -3;
	expect_refusal(one_node(9, "ConstantOfShape", "x", &n), &st, -EINVAL, "negative dimension");
}

static void expand(void **state)
{
	float x[3] = { 1, 2, 3 };
	int64_t d[2] = { 3, 1 };
	struct nuq_tensor xt = ft(x, 2, d);
	struct Onnx__NodeProto *n;
	float want[24];
	struct gb *b;
	int i;

	(void)state;
	for (i = 0; i < 24; i++)
		want[i] = x[(i / 4) % 3];
	b = one_node(13, "Expand", "x,s", &n);
	gb_init_i(b, "s", 1, (int64_t[]){ 3 }, (int64_t[]){ 2, 1, 4 });
	expect_f(b, &xt, 3, (int64_t[]){ 2, 3, 4 }, want, 0);
	/* A shape smaller than the input's keeps the input's dims. */
	b = one_node(13, "Expand", "x,s", &n);
	gb_init_i(b, "s", 1, (int64_t[]){ 1 }, (int64_t[]){ 1 });
	expect_f(b, &xt, 2, d, x, 0);
	b = one_node(13, "Expand", "x,s", &n);
	gb_init_i(b, "s", 1, (int64_t[]){ 2 }, (int64_t[]){ 2, 2 });
	expect_refusal(b, &xt, -EINVAL, "does not broadcast");
}

static void tile(void **state)
{
	float x[4] = { 1, 2, 3, 4 };
	int64_t d[2] = { 2, 2 };
	struct nuq_tensor xt = ft(x, 2, d);
	struct Onnx__NodeProto *n;
	struct gb *b;

	(void)state;
	b = one_node(13, "Tile", "x,r", &n);
	gb_init_i(b, "r", 1, (int64_t[]){ 2 }, (int64_t[]){ 2, 3 });
	expect_f(b, &xt, 2, (int64_t[]){ 4, 6 },
		 (float[]){ 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4,
			    1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4 }, 0);
	b = one_node(13, "Tile", "x,r", &n);
	gb_init_i(b, "r", 1, (int64_t[]){ 1 }, (int64_t[]){ 2 });
	expect_refusal(b, &xt, -EINVAL, "2 values");
	b = one_node(13, "Tile", "x,r", &n);
	gb_init_i(b, "r", 1, (int64_t[]){ 2 }, (int64_t[]){ 1, -1 });
	expect_refusal(b, &xt, -EINVAL, "negative repeat");
}

static void range(void **state)
{
	float fs = 1.0f;
	int64_t is = 10, one[1] = { 1 };
	struct nuq_tensor ft0 = ft(&fs, 0, one), it0 = it(&is, 0, one);
	struct Onnx__NodeProto *n;
	struct gb *b;

	(void)state;
	b = one_node(11, "Range", "x,l,d", &n);
	gb_init_f(b, "l", 0, NULL, (float[]){ 5.0f });
	gb_init_f(b, "d", 0, NULL, (float[]){ 1.5f });
	expect_f(b, &ft0, 1, (int64_t[]){ 3 }, (float[]){ 1.0f, 2.5f, 4.0f }, 0);
	/* Counting down, the limit excluded: 10, 7 (4 is not reached). */
	b = one_node(11, "Range", "x,l,d", &n);
	gb_init_i(b, "l", 0, NULL, (int64_t[]){ 4 });
	gb_init_i(b, "d", 0, NULL, (int64_t[]){ -3 });
	expect_i(b, &it0, 1, (int64_t[]){ 2 }, (int64_t[]){ 10, 7 });
	/* Counting the wrong way: empty. */
	b = one_node(11, "Range", "x,l,d", &n);
	gb_init_i(b, "l", 0, NULL, (int64_t[]){ 4 });
	gb_init_i(b, "d", 0, NULL, (int64_t[]){ 3 });
	expect_i(b, &it0, 1, (int64_t[]){ 0 }, NULL);
	b = one_node(11, "Range", "x,l,d", &n);
	gb_init_i(b, "l", 0, NULL, (int64_t[]){ 4 });
	gb_init_i(b, "d", 0, NULL, (int64_t[]){ 0 });
	expect_refusal(b, &it0, -EINVAL, "delta must be non-zero");
	b = one_node(11, "Range", "x,l,d", &n);
	gb_init_f(b, "l", 0, NULL, (float[]){ 4 });
	gb_init_i(b, "d", 0, NULL, (int64_t[]){ 1 });
	expect_refusal(b, &it0, -EINVAL, "one type");
}

/* x[1][8][1][1] = 0..7 with blocksize 2: the two channel orders, by hand. */
static void depth_to_space(void **state)
{
	float x[8] = { 0, 1, 2, 3, 4, 5, 6, 7 }, big[48];
	int64_t d[4] = { 1, 8, 1, 1 }, od[4] = { 1, 2, 2, 2 }, bd[4] = { 1, 8, 2, 3 };
	struct nuq_tensor xt = ft(x, 4, d), bt = ft(big, 4, bd);
	struct Onnx__NodeProto *n;
	struct gb_run r;
	struct gb *b;
	int i;

	(void)state;
	/* DCR: y[c][i][j] = x[(i * 2 + j) * 2 + c]. */
	b = one_node(13, "DepthToSpace", "x", &n);
	gb_attr_i(b, n, "blocksize", 2);
	expect_f(b, &xt, 4, od, (float[]){ 0, 2, 4, 6, 1, 3, 5, 7 }, 0);
	/* CRD: y[c][i][j] = x[c * 4 + i * 2 + j]. */
	b = one_node(13, "DepthToSpace", "x", &n);
	gb_attr_i(b, n, "blocksize", 2);
	gb_attr_s(b, n, "mode", "CRD");
	expect_f(b, &xt, 4, od, x, 0);

	/* The shape of the ONNX documentation's example, [1,8,2,3], with x = 0..47: rows 0, 1. */
	for (i = 0; i < 48; i++)
		big[i] = (float)i;
	b = one_node(13, "DepthToSpace", "x", &n);
	gb_attr_i(b, n, "blocksize", 2);
	assert_int_equal(gb_run(b, &bt, &r), 0);
	check_shape(&r.y, 4, (int64_t[]){ 1, 2, 4, 6 });
	{
		const float row0[6] = { 0, 12, 1, 13, 2, 14 }, row1[6] = { 24, 36, 25, 37, 26, 38 };

		for (i = 0; i < 6; i++) {
			assert_true(r.y.f[i] == row0[i]);
			assert_true(r.y.f[6 + i] == row1[i]);
		}
	}
	/* SpaceToDepth undoes DCR. */
	{
		struct nuq_tensor yt = r.y;

		r.y.f = NULL;
		gb_run_free(&r);
		gb_free(b);
		b = one_node(13, "SpaceToDepth", "x", &n);
		gb_attr_i(b, n, "blocksize", 2);
		expect_f(b, &yt, 4, bd, big, 0);
		nuq_tensor_free(&yt);
	}

	b = one_node(13, "DepthToSpace", "x", &n);
	gb_attr_i(b, n, "blocksize", 2);
	gb_attr_s(b, n, "mode", "XYZ");
	expect_refusal(b, &xt, -EOPNOTSUPP, "mode 'XYZ'");
	b = one_node(13, "DepthToSpace", "x", &n);
	gb_attr_i(b, n, "blocksize", 3);
	expect_refusal(b, &xt, -EINVAL, "not divisible");
	b = one_node(13, "SpaceToDepth", "x", &n);
	gb_attr_i(b, n, "blocksize", 2);
	expect_refusal(b, &xt, -EINVAL, "divisible by blocksize");
	expect_refusal(one_node(13, "SpaceToDepth", "x", &n), &xt, -EINVAL, "blocksize must be set");
}

static void instance_norm(void **state)
{
	/* Channel 0 {1, 3}: mean 2, variance 1; channel 1 {5, 5}: variance 0. */
	float x[4] = { 1, 3, 5, 5 }, e = 1e-5f;
	int64_t d[4] = { 1, 2, 1, 2 };
	struct nuq_tensor xt = ft(x, 4, d);
	struct Onnx__NodeProto *n;
	float s0 = 2.0f / sqrtf(1 + e);
	struct gb *b;

	(void)state;
	b = one_node(6, "InstanceNormalization", "x,s,bias", &n);
	gb_init_f(b, "s", 1, (int64_t[]){ 2 }, (float[]){ 2, 3 });
	gb_init_f(b, "bias", 1, (int64_t[]){ 2 }, (float[]){ 0.5f, -1 });
	expect_f(b, &xt, 4, d, (float[]){ 0.5f - s0, 0.5f + s0, -1, -1 }, 1e-6f);
	b = one_node(6, "InstanceNormalization", "x,s,bias", &n);
	gb_init_f(b, "s", 1, (int64_t[]){ 3 }, (float[]){ 2, 3, 4 });
	gb_init_f(b, "bias", 1, (int64_t[]){ 2 }, (float[]){ 0.5f, -1 });
	expect_refusal(b, &xt, -EINVAL, "need 2 floats");
}

static void lrn(void **state)
{
	float x[3] = { 1, 2, 3 };
	int64_t d[4] = { 1, 3, 1, 1 };
	struct nuq_tensor xt = ft(x, 4, d);
	struct Onnx__NodeProto *n;
	struct gb *b;

	(void)state;
	/* size 3, alpha/size = 1, beta 1, bias 1: x / (1 + sum of the neighbours' squares). */
	b = one_node(13, "LRN", "x", &n);
	gb_attr_i(b, n, "size", 3);
	gb_attr_f(b, n, "alpha", 3);
	gb_attr_f(b, n, "beta", 1);
	expect_f(b, &xt, 4, d, (float[]){ 1.0f / 6, 2.0f / 15, 3.0f / 14 }, 1e-6f);
	/* size 2 looks at c and c + 1 only (floor and ceil of (size - 1) / 2 = 0, 1). */
	b = one_node(13, "LRN", "x", &n);
	gb_attr_i(b, n, "size", 2);
	gb_attr_f(b, n, "alpha", 2);
	gb_attr_f(b, n, "beta", 0.5f);
	gb_attr_f(b, n, "bias", 2);
	expect_f(b, &xt, 4, d, (float[]){ 1 / sqrtf(7), 2 / sqrtf(15), 3 / sqrtf(11) }, 1e-6f);
	expect_refusal(one_node(13, "LRN", "x", &n), &xt, -EINVAL, "size must be set");
}

static void layer_norm(void **state)
{
	/* Rows {1, 3} and {0, 4}: (x - mean) / std = {-1, 1} each. */
	float x[4] = { 1, 3, 0, 4 }, e = 1e-5f;
	int64_t d[2] = { 2, 2 };
	struct nuq_tensor xt = ft(x, 2, d);
	struct Onnx__NodeProto *n;
	float r1 = 1 / sqrtf(1 + e), r4 = 2 / sqrtf(4 + e);
	struct gb *b;

	(void)state;
	b = one_node(17, "LayerNormalization", "x,s,bias", &n);
	gb_init_f(b, "s", 1, (int64_t[]){ 2 }, (float[]){ 2, 3 });
	gb_init_f(b, "bias", 1, (int64_t[]){ 2 }, (float[]){ 1, 0 });
	expect_f(b, &xt, 2, d, (float[]){ 1 - 2 * r1, 3 * r1, 1 - 2 * r4, 3 * r4 }, 1e-6f);

	/* axis 0: all four values, mean 2, variance 2.5; scalar scale, no bias. */
	b = one_node(17, "LayerNormalization", "x,s", &n);
	gb_attr_i(b, n, "axis", 0);
	gb_attr_f(b, n, "epsilon", 0);
	gb_init_f(b, "s", 0, NULL, (float[]){ 1 });
	{
		float sd = sqrtf(2.5f);

		expect_f(b, &xt, 2, d, (float[]){ -1 / sd, 1 / sd, -2 / sd, 2 / sd }, 1e-6f);
	}
	b = one_node(17, "LayerNormalization", "x,s", &n);
	gb_attr_i(b, n, "axis", -3);
	gb_init_f(b, "s", 0, NULL, (float[]){ 1 });
	expect_refusal(b, &xt, -EINVAL, "axis -3 out of range");
	b = one_node(17, "LayerNormalization", "x,s", &n);
	gb_init_f(b, "s", 1, (int64_t[]){ 3 }, (float[]){ 1, 1, 1 });
	expect_refusal(b, &xt, -EINVAL, "scale and B");
	/* The optional Mean and InvStdDev outputs, per row. */
	b = gb_new(17);
	gb_input(b, "x");
	gb_output(b, "isd");
	gb_output(b, "mean");
	gb_output(b, "y");
	gb_node(b, "LayerNormalization", "n0", "x,s", "y,mean,isd");
	gb_init_f(b, "s", 0, NULL, (float[]){ 1 });
	expect_f(b, &xt, 2, (int64_t[]){ 2, 1 }, (float[]){ r1, r4 / 2 }, 1e-6f);
	b = gb_new(17);
	gb_input(b, "x");
	gb_output(b, "mean");
	gb_output(b, "y");
	gb_node(b, "LayerNormalization", "n0", "x,s", "y,mean");
	gb_init_f(b, "s", 0, NULL, (float[]){ 1 });
	expect_f(b, &xt, 2, (int64_t[]){ 2, 1 }, (float[]){ 2, 2 }, 1e-6f);
	b = one_node(17, "LayerNormalization", "x,s", &n);
	gb_attr_i(b, n, "stash_type", 10);
	gb_init_f(b, "s", 1, (int64_t[]){ 2 }, (float[]){ 1, 1 });
	expect_refusal(b, &xt, -EOPNOTSUPP, "stash_type 10");
}

/*
 * A conv whose im2col scratch (18 x 1000 x 1000 floats) exceeds one band:
 * all-ones 3x3 weights over 2 channels of ones with pads 1 give 18
 * inside, 12 on the edges and 8 in the corners, across the band seams.
 */
static void conv_banded(void **state)
{
	const int64_t hw = 1000, d[4] = { 1, 2, 1000, 1000 }, dy[4] = { 1, 1, 1000, 1000 };
	size_t i, cnt = (size_t)(2 * hw * hw);
	float *x = malloc(cnt * sizeof(float)), w[18];
	struct nuq_tensor xt = ft(x, 4, d);
	struct Onnx__NodeProto *n;
	struct gb_run r;
	struct gb *b;
	int64_t oy, ox;

	(void)state;
	assert_non_null(x);
	for (i = 0; i < cnt; i++)
		x[i] = 1;
	for (i = 0; i < 18; i++)
		w[i] = 1;
	b = one_node(13, "Conv", "x,w", &n);
	gb_init_f(b, "w", 4, (int64_t[]){ 1, 2, 3, 3 }, w);
	gb_attr_ints(b, n, "pads", 4, (int64_t[]){ 1, 1, 1, 1 });
	if (gb_run(b, &xt, &r))
		fail_msg("run: %s", r.msg);
	check_shape(&r.y, 4, dy);
	for (oy = 0; oy < hw; oy++)
		for (ox = 0; ox < hw; ox++) {
			int ey = oy == 0 || oy == hw - 1, ex = ox == 0 || ox == hw - 1;
			float want = 2.0f * (3 - ey) * (3 - ex);

			if (r.y.f[oy * hw + ox] != want)
				fail_msg("(%lld,%lld): %g, expected %g", (long long)oy, (long long)ox,
					 r.y.f[oy * hw + ox], want);
		}
	gb_run_free(&r);
	gb_free(b);
	free(x);
}

/* Conv on @x (1x1x5x6) with 3x3 weights, stride 2, as @mode or explicit @pads. */
static void conv_pads_run(const struct nuq_tensor *x, const char *mode, const int64_t *pads,
			  struct gb_run *r)
{
	static const float w[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct Onnx__NodeProto *n;
	struct gb *b = one_node(13, "Conv", "x,w", &n);

	gb_init_f(b, "w", 4, (int64_t[]){ 1, 1, 3, 3 }, w);
	gb_attr_ints(b, n, "strides", 2, (int64_t[]){ 2, 2 });
	if (mode)
		gb_attr_s(b, n, "auto_pad", mode);
	else
		gb_attr_ints(b, n, "pads", 4, pads);
	if (gb_run(b, x, r))
		fail_msg("%s: %s", mode ? mode : "pads", r->msg);
	gb_free(b);
}

/*
 * auto_pad: ONNX's SAME_UPPER/SAME_LOWER pad so the output is
 * ceil(in / stride), the odd pixel at the end (UPPER) or the start
 * (LOWER); VALID pads nothing.  5x6 in, 3x3 stride 2: the rows need 2
 * (1 + 1), the columns 1 (0 + 1 or 1 + 0).
 */
static void conv_auto_pad(void **state)
{
	static const struct {
		const char *mode;
		int64_t pads[4];
	} cases[] = {
		{ "SAME_UPPER", { 1, 0, 1, 1 } },
		{ "SAME_LOWER", { 1, 1, 1, 0 } },
		{ "VALID", { 0, 0, 0, 0 } },
	};
	const int64_t d[4] = { 1, 1, 5, 6 };
	float x[30];
	struct nuq_tensor xt = ft(x, 4, d);
	struct gb_run a, e;
	size_t i, k;

	(void)state;
	for (i = 0; i < 30; i++)
		x[i] = (float)(i * 7 % 11) - 5;
	for (k = 0; k < 3; k++) {
		conv_pads_run(&xt, cases[k].mode, NULL, &a);
		conv_pads_run(&xt, NULL, cases[k].pads, &e);
		check_shape(&a.y, 4, e.y.dims);
		if (k < 2)
			assert_true(a.y.dims[2] == 3 && a.y.dims[3] == 3);
		assert_memory_equal(a.y.f, e.y.f, nuq_tensor_count(&e.y) * sizeof(float));
		gb_run_free(&a);
		gb_run_free(&e);
	}
}

/* Every op the executor lacks is named at once, with its node count. */
static void unknown_ops_listed(void **state)
{
	struct gb *b = gb_new(13);
	struct nuq_tensor xt = ft((float *)xs6, 2, d23);

	(void)state;
	gb_input(b, "x");
	gb_output(b, "y");
	gb_node(b, "NoSuchOp", "n0", "x", "a");
	gb_node(b, "Relu", "n1", "a", "b");
	gb_node(b, "AlsoMissing", "n2", "b", "c");
	gb_node(b, "NoSuchOp", "n3", "c", "y");
	expect_refusal(b, &xt, -EOPNOTSUPP,
		       "every op the model needs that nuq lacks: NoSuchOp (2 nodes), AlsoMissing (1 node)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unary_activations),
		cmocka_unit_test(unary_arith),
		cmocka_unit_test(round_half_even),
		cmocka_unit_test(neg_abs_int64),
		cmocka_unit_test(gelu),
		cmocka_unit_test(dropout),
		cmocka_unit_test(prelu),
		cmocka_unit_test(variadic),
		cmocka_unit_test(variadic_int64),
		cmocka_unit_test(reductions),
		cmocka_unit_test(reduce_int64),
		cmocka_unit_test(global_max_pool),
		cmocka_unit_test(pad),
		cmocka_unit_test(pad_int64),
		cmocka_unit_test(constant_of_shape),
		cmocka_unit_test(expand),
		cmocka_unit_test(tile),
		cmocka_unit_test(range),
		cmocka_unit_test(depth_to_space),
		cmocka_unit_test(instance_norm),
		cmocka_unit_test(lrn),
		cmocka_unit_test(layer_norm),
		cmocka_unit_test(conv_banded),
		cmocka_unit_test(conv_auto_pad),
		cmocka_unit_test(unknown_ops_listed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
