// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Nodes with several outputs (Split, BatchNormalization's optional
 * training outputs) and the BOOL/UINT8/INT8 tensors of masks: the
 * comparisons, And/Or/Xor/Not, Where, Cast to and from bool and 8-bit
 * integers, ArgMax/ArgMin.  Each on a tiny graph against results worked
 * out by hand; every unsupported form a clear refusal naming the node.
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

#define MAX_OUT 8

/* A graph's every output on one input x, or the import/run error and message. */
struct run {
	struct nuq_onnx *m;
	struct nuq_graph *g;
	struct nuq_tensor y[MAX_OUT];
	size_t ny;
	char msg[256];
};

static struct nuq_tensor ft(float *data, unsigned int nd, const int64_t *dims)
{
	struct nuq_tensor t = { .dtype = NUQ_DT_FLOAT, .ndims = nd, .f = data };

	memcpy(t.dims, dims, nd * sizeof(int64_t));
	return t;
}

static int run_graph(struct gb *b, const struct nuq_tensor *x, struct run *r)
{
	struct nuq_graph_feed feed = { "x", x };
	size_t len;
	const uint8_t *buf = gb_pack(b, &len);
	int ret;

	memset(r, 0, sizeof(*r));
	ret = nuq_onnx_load_mem(buf, len, &r->m, r->msg, sizeof(r->msg));
	if (!ret)
		ret = nuq_graph_import(r->m, &r->g, r->msg, sizeof(r->msg));
	if (!ret) {
		r->ny = nuq_graph_noutputs(r->g);
		assert_true(r->ny <= MAX_OUT);
		ret = nuq_graph_run_all(r->g, &feed, 1, r->y, r->msg, sizeof(r->msg));
	}
	return ret;
}

static void run_free(struct run *r)
{
	size_t k;

	for (k = 0; k < r->ny; k++)
		nuq_tensor_free(&r->y[k]);
	nuq_graph_free(r->g);
	nuq_onnx_free(r->m);
}

static void check(const struct nuq_tensor *y, enum nuq_dtype dt, unsigned int nd,
		  const int64_t *dims, const double *want)
{
	size_t i, n;
	unsigned int d;

	assert_int_equal(y->dtype, dt);
	assert_int_equal(y->ndims, nd);
	for (d = 0; d < nd; d++)
		assert_int_equal(y->dims[d], dims[d]);
	n = nuq_tensor_count(y);
	for (i = 0; i < n; i++) {
		double v = dt == NUQ_DT_FLOAT ? y->f[i] : (double)y->i[i];

		if (fabs(v - want[i]) > 1e-6 * (1 + fabs(want[i])))
			fail_msg("element %zu: %.9g, expected %.9g", i, v, want[i]);
	}
}

/* Run @b on @x; output 0 must be @dt with @dims and values @want.  Frees @b. */
static void expect(struct gb *b, const struct nuq_tensor *x, enum nuq_dtype dt, unsigned int nd,
		   const int64_t *dims, const double *want)
{
	struct run r;

	if (run_graph(b, x, &r))
		fail_msg("run: %s", r.msg);
	check(&r.y[0], dt, nd, dims, want);
	run_free(&r);
	gb_free(b);
}

static void expect_refusal(struct gb *b, const struct nuq_tensor *x, int err, const char *says)
{
	struct run r;
	int ret = run_graph(b, x, &r);

	if (ret != err)
		fail_msg("returned %d, expected %d (%s)", ret, err, r.msg);
	if (!strstr(r.msg, "'n0'") || !strstr(r.msg, says))
		fail_msg("\"%s\" does not name n0 and say \"%s\"", r.msg, says);
	run_free(&r);
	gb_free(b);
}

/* x -> OP -> y at @opset. */
static struct gb *one_node(int64_t opset, const char *op, const char *ins,
			   struct Onnx__NodeProto **n)
{
	struct gb *b = gb_new(opset);

	gb_input(b, "x");
	gb_output(b, "y");
	*n = gb_node(b, op, "n0", ins, "y");
	return b;
}

static float x23[6] = { 0, 1, 2, 3, 4, 5 };
static const int64_t d23[2] = { 2, 3 };

/* Split into three outputs, all returned, in the graph's output order. */
static void split_three(void **state)
{
	float x[6] = { 0, 1, 2, 3, 4, 5 };
	struct nuq_tensor xt = ft(x, 1, (int64_t[]){ 6 });
	struct run r;
	struct gb *b;

	(void)state;
	/* The split attribute (opset 11): sizes 1, 2, 3. */
	b = gb_new(11);
	gb_input(b, "x");
	gb_output(b, "c");
	gb_output(b, "a");
	gb_output(b, "b");
	gb_attr_ints(b, gb_node(b, "Split", "n0", "x", "a,b,c"), "split", 3,
		     (int64_t[]){ 1, 2, 3 });
	if (run_graph(b, &xt, &r))
		fail_msg("run: %s", r.msg);
	assert_int_equal(r.ny, 3);
	check(&r.y[0], NUQ_DT_FLOAT, 1, (int64_t[]){ 3 }, (double[]){ 3, 4, 5 });
	check(&r.y[1], NUQ_DT_FLOAT, 1, (int64_t[]){ 1 }, (double[]){ 0 });
	check(&r.y[2], NUQ_DT_FLOAT, 1, (int64_t[]){ 2 }, (double[]){ 1, 2 });
	run_free(&r);
	gb_free(b);
}

static void split_forms(void **state)
{
	struct nuq_tensor xt = ft(x23, 2, d23);
	struct Onnx__NodeProto *n;
	struct gb *b;

	(void)state;
	/* Equal parts along axis 1 (no sizes given): 3 outputs of one column. */
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "b");
	gb_attr_i(b, gb_node(b, "Split", "n0", "x", "a,b,c"), "axis", 1);
	expect(b, &xt, NUQ_DT_FLOAT, 2, (int64_t[]){ 2, 1 }, (double[]){ 1, 4 });

	/* The split input (opset 13), a negative axis. */
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "b");
	n = gb_node(b, "Split", "n0", "x,s", "a,b");
	gb_attr_i(b, n, "axis", -1);
	gb_init_i(b, "s", 1, (int64_t[]){ 2 }, (int64_t[]){ 1, 2 });
	expect(b, &xt, NUQ_DT_FLOAT, 2, (int64_t[]){ 2, 2 }, (double[]){ 1, 2, 4, 5 });

	/* num_outputs (opset 18): 3 columns into 2 parts, the last smaller. */
	b = gb_new(18);
	gb_input(b, "x");
	gb_output(b, "a");
	gb_output(b, "b");
	n = gb_node(b, "Split", "n0", "x", "a,b");
	gb_attr_i(b, n, "axis", 1);
	gb_attr_i(b, n, "num_outputs", 2);
	expect(b, &xt, NUQ_DT_FLOAT, 2, (int64_t[]){ 2, 2 }, (double[]){ 0, 1, 3, 4 });

	/* Equal parts that do not divide, sizes that do not add up: refused. */
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "a");
	gb_attr_i(b, gb_node(b, "Split", "n0", "x", "a,b"), "axis", 1);
	expect_refusal(b, &xt, -EINVAL, "does not split into 2 equal parts");
	b = gb_new(11);
	gb_input(b, "x");
	gb_output(b, "a");
	gb_attr_ints(b, gb_node(b, "Split", "n0", "x", "a,b"), "split", 2, (int64_t[]){ 1, 2 });
	expect_refusal(b, &xt, -EINVAL, "add up to 3, the axis has 2");
	b = one_node(18, "Split", "x", &n);
	gb_attr_i(b, n, "num_outputs", 3);
	expect_refusal(b, &xt, -EINVAL, "num_outputs is 3 but the node has 1 outputs");
	b = one_node(11, "Split", "x", &n);
	gb_attr_i(b, n, "axis", 2);
	expect_refusal(b, &xt, -EINVAL, "axis 2 out of range");
}

/* Split of an int64 constant folds at import (M-LSD's pads come from one). */
static void split_int_folds(void **state)
{
	struct nuq_tensor xt = ft(x23, 2, d23);
	struct gb *b = gb_new(11);

	(void)state;
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_i(b, "c", 1, (int64_t[]){ 4 }, (int64_t[]){ 2, 3, 1, 1 });
	gb_node(b, "Split", "s0", "c", "p,q");
	gb_node(b, "Reshape", "r0", "x,p", "y");
	expect(b, &xt, NUQ_DT_FLOAT, 2, (int64_t[]){ 2, 3 }, (double[]){ 0, 1, 2, 3, 4, 5 });
}

/* Optional outputs nuq does not compute: accepted unread, refused when read. */
static void unused_outputs(void **state)
{
	float x[2] = { 1, 3 };
	int64_t d[4] = { 1, 2, 1, 1 };
	struct nuq_tensor xt = ft(x, 4, d);
	struct gb *b;
	int k;

	(void)state;
	for (k = 0; k < 2; k++) {
		b = gb_new(9);
		gb_input(b, "x");
		gb_output(b, "y");
		if (k)
			gb_output(b, "mean");
		gb_node(b, "BatchNormalization", "n0", "x,s,o,m,v", "y,mean");
		gb_init_f(b, "s", 1, (int64_t[]){ 2 }, (float[]){ 1, 1 });
		gb_init_f(b, "o", 1, (int64_t[]){ 2 }, (float[]){ 0, 1 });
		gb_init_f(b, "m", 1, (int64_t[]){ 2 }, (float[]){ 0, 0 });
		gb_init_f(b, "v", 1, (int64_t[]){ 2 }, (float[]){ 1, 1 });
		if (!k)
			expect(b, &xt, NUQ_DT_FLOAT, 4, d,
			       (double[]){ 1 / sqrt(1 + 1e-5), 3 / sqrt(1 + 1e-5) + 1 });
		else
			expect_refusal(b, &xt, -EOPNOTSUPP, "output 1 ('mean') is read");
	}
	/* More outputs than the op has at all. */
	b = gb_new(11);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_node(b, "Relu", "n0", "x", "y,z");
	expect_refusal(b, &xt, -EOPNOTSUPP, "at most 1");
}

/* x OP c, then Cast to float so that the graph output is a float mask. */
static struct gb *compare_graph(const char *op, float c)
{
	struct gb *b = gb_new(13);

	gb_input(b, "x");
	gb_output(b, "y");
	gb_output(b, "m");
	gb_init_f(b, "c", 0, NULL, (float[]){ c });
	gb_node(b, op, "n0", "x,c", "m");
	gb_attr_i(b, gb_node(b, "Cast", "n1", "m", "y"), "to", 1);
	return b;
}

static void comparisons(void **state)
{
	float x[6] = { 0, 1, 2, 3, NAN, 5 };
	struct nuq_tensor xt = ft(x, 2, d23);
	struct run r;
	struct gb *b;

	(void)state;
	expect(compare_graph("Equal", 2), &xt, NUQ_DT_FLOAT, 2, d23, (double[]){ 0, 0, 1, 0, 0, 0 });
	expect(compare_graph("Less", 2), &xt, NUQ_DT_FLOAT, 2, d23, (double[]){ 1, 1, 0, 0, 0, 0 });
	expect(compare_graph("Greater", 2), &xt, NUQ_DT_FLOAT, 2, d23,
	       (double[]){ 0, 0, 0, 1, 0, 1 });
	expect(compare_graph("LessOrEqual", 2), &xt, NUQ_DT_FLOAT, 2, d23,
	       (double[]){ 1, 1, 1, 0, 0, 0 });
	expect(compare_graph("GreaterOrEqual", 2), &xt, NUQ_DT_FLOAT, 2, d23,
	       (double[]){ 0, 0, 1, 1, 0, 1 });
	/* The mask itself is a BOOL graph output. */
	b = compare_graph("Equal", 5);
	if (run_graph(b, &xt, &r))
		fail_msg("run: %s", r.msg);
	check(&r.y[1], NUQ_DT_BOOL, 2, d23, (double[]){ 0, 0, 0, 0, 0, 1 });
	run_free(&r);
	gb_free(b);
	/* Comparing a float with an int64 is refused. */
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_i(b, "c", 0, NULL, (int64_t[]){ 1 });
	gb_node(b, "Equal", "n0", "x,c", "y");
	expect_refusal(b, &xt, -EINVAL, "inputs are float32 and int64");
}

/* Integers compare exactly, beyond a float's 24 bits, and broadcast. */
static void compare_int64(void **state)
{
	struct nuq_tensor xt = ft(x23, 2, d23);
	struct gb *b = gb_new(13);

	(void)state;
	/* Equal([[16777217],[5]], [16777216, 5, 16777217]) = [[0,0,1],[0,1,0]]. */
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_i(b, "a", 2, (int64_t[]){ 2, 1 }, (int64_t[]){ 16777217, 5 });
	gb_init_i(b, "c", 1, (int64_t[]){ 3 }, (int64_t[]){ 16777216, 5, 16777217 });
	gb_node(b, "Equal", "e0", "a,c", "m");
	gb_attr_i(b, gb_node(b, "Cast", "c0", "m", "mf"), "to", 1);
	gb_node(b, "Add", "n0", "x,mf", "y");
	expect(b, &xt, NUQ_DT_FLOAT, 2, d23, (double[]){ 0, 1, 3, 3, 5, 5 });
}

/* (x > 1) AND/OR/XOR (x < 4), NOT (x > 1): through Where to floats. */
static void logic(void **state)
{
	static const char *const ops[] = { "And", "Or", "Xor" };
	static const double want[3][6] = {
		{ -1, -1, 2, 3, -1, -1 }, { 0, 1, 2, 3, 4, 5 }, { 0, 1, -1, -1, 4, 5 },
	};
	struct nuq_tensor xt = ft(x23, 2, d23);
	struct gb *b;
	int k;

	(void)state;
	for (k = 0; k < 4; k++) {
		b = gb_new(13);
		gb_input(b, "x");
		gb_output(b, "y");
		gb_init_f(b, "one", 0, NULL, (float[]){ 1 });
		gb_init_f(b, "four", 0, NULL, (float[]){ 4 });
		gb_init_f(b, "neg", 0, NULL, (float[]){ -1 });
		gb_node(b, "Greater", "g0", "x,one", "gt");
		gb_node(b, "Less", "l0", "x,four", "lt");
		if (k < 3)
			gb_node(b, ops[k], "n0", "gt,lt", "m");
		else
			gb_node(b, "Not", "n0", "gt", "m");
		gb_node(b, "Where", "w0", "m,x,neg", "y");
		if (k < 3)
			expect(b, &xt, NUQ_DT_FLOAT, 2, d23, want[k]);
		else
			expect(b, &xt, NUQ_DT_FLOAT, 2, d23, (double[]){ 0, 1, -1, -1, -1, -1 });
	}
	/* And on floats, Not on a float, Where on a float condition: refused. */
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_node(b, "And", "n0", "x,x", "y");
	expect_refusal(b, &xt, -EINVAL, "inputs must be bool");
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_node(b, "Not", "n0", "x", "y");
	expect_refusal(b, &xt, -EINVAL, "input must be bool");
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_node(b, "Where", "n0", "x,x,x", "y");
	expect_refusal(b, &xt, -EINVAL, "condition must be bool");
}

/* Where broadcasts all three: a [2,1] condition, x [2,3], a scalar y. */
static void where_broadcast(void **state)
{
	struct nuq_tensor xt = ft(x23, 2, d23);
	struct gb *b = gb_new(13);

	(void)state;
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_i(b, "ci", 2, (int64_t[]){ 2, 1 }, (int64_t[]){ 0, 7 });
	gb_init_f(b, "z", 0, NULL, (float[]){ 9 });
	gb_attr_i(b, gb_node(b, "Cast", "c0", "ci", "c"), "to", 9);
	gb_node(b, "Where", "n0", "c,x,z", "y");
	expect(b, &xt, NUQ_DT_FLOAT, 2, d23, (double[]){ 9, 9, 9, 3, 4, 5 });
}

/* Cast to bool (nonzero, NaN true), to uint8/int8 (wrapping), and back. */
static void cast_narrow(void **state)
{
	float x[6] = { 0, -0.0f, 2.5f, NAN, 300, -129 };
	struct nuq_tensor xt = ft(x, 2, d23);
	struct Onnx__NodeProto *n;
	struct gb *b;

	(void)state;
	b = one_node(13, "Cast", "x", &n);
	gb_attr_i(b, n, "to", 9);
	expect(b, &xt, NUQ_DT_BOOL, 2, d23, (double[]){ 0, 0, 1, 1, 1, 1 });
	b = one_node(13, "Cast", "x", &n);
	gb_attr_i(b, n, "to", 2);
	expect(b, &xt, NUQ_DT_UINT8, 2, d23, (double[]){ 0, 0, 2, 0, 44, 127 });
	b = one_node(13, "Cast", "x", &n);
	gb_attr_i(b, n, "to", 3);
	expect(b, &xt, NUQ_DT_INT8, 2, d23, (double[]){ 0, 0, 2, 0, 44, 127 });
	/* bool -> float round trip, through a Reshape that keeps the type. */
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_i(b, "s", 1, (int64_t[]){ 1 }, (int64_t[]){ 6 });
	gb_attr_i(b, gb_node(b, "Cast", "c0", "x", "m"), "to", 9);
	gb_node(b, "Reshape", "r0", "m,s", "mr");
	gb_attr_i(b, gb_node(b, "Cast", "n0", "mr", "y"), "to", 1);
	expect(b, &xt, NUQ_DT_FLOAT, 1, (int64_t[]){ 6 }, (double[]){ 0, 0, 1, 1, 1, 1 });
	/* uint8 arithmetic wraps: {0, 0, 2, 0, 44, 127} * 2 and Sum of three. */
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_attr_i(b, gb_node(b, "Cast", "c0", "x", "u"), "to", 2);
	gb_node(b, "Add", "n0", "u,u", "y");
	expect(b, &xt, NUQ_DT_UINT8, 2, d23, (double[]){ 0, 0, 4, 0, 88, 254 });
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_attr_i(b, gb_node(b, "Cast", "c0", "x", "u"), "to", 3);
	gb_node(b, "Sum", "n0", "u,u,u", "y");
	expect(b, &xt, NUQ_DT_INT8, 2, d23, (double[]){ 0, 0, 6, 0, -124, 125 });
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_attr_i(b, gb_node(b, "Cast", "c0", "x", "u"), "to", 2);
	gb_node(b, "Max", "n0", "u,u", "y");
	expect(b, &xt, NUQ_DT_UINT8, 2, d23, (double[]){ 0, 0, 2, 0, 44, 127 });
	/* Ops whose int64 form would not wrap or that ONNX gives no 8-bit type: refused. */
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_attr_i(b, gb_node(b, "Cast", "c0", "x", "u"), "to", 2);
	gb_node(b, "Neg", "n0", "u", "y");
	expect_refusal(b, &xt, -EOPNOTSUPP, "uint8 input is not supported");
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_attr_i(b, gb_node(b, "Cast", "c0", "x", "u"), "to", 9);
	gb_node(b, "Add", "n0", "u,u", "y");
	expect_refusal(b, &xt, -EOPNOTSUPP, "bool inputs are not supported");
	b = one_node(13, "Cast", "x", &n);
	gb_attr_i(b, n, "to", 10);
	expect_refusal(b, &xt, -EOPNOTSUPP, "cast to float16 is not supported");
}

/* A BOOL graph input, given as a NUQ_DT_BOOL tensor. */
static void bool_input(void **state)
{
	int64_t m[3] = { 1, 0, 1 };
	struct nuq_tensor mt = { .dtype = NUQ_DT_BOOL, .ndims = 1, .dims = { 3 }, .i = m };
	struct nuq_tensor wrong = mt;
	struct run r;
	struct gb *b;

	(void)state;
	b = gb_new(13);
	gb_input_typed(b, "x", 9, 1, (int64_t[]){ 3 }, NULL);
	gb_output(b, "y");
	gb_node(b, "Not", "n0", "x", "y");
	expect(b, &mt, NUQ_DT_BOOL, 1, (int64_t[]){ 3 }, (double[]){ 0, 1, 0 });
	b = gb_new(13);
	gb_input_typed(b, "x", 9, 1, (int64_t[]){ 3 }, NULL);
	gb_output(b, "y");
	gb_node(b, "Not", "n0", "x", "y");
	wrong.dtype = NUQ_DT_INT64;
	assert_int_equal(run_graph(b, &wrong, &r), -EINVAL);
	assert_non_null(strstr(r.msg, "input 'x' is bool, the tensor given is int64"));
	run_free(&r);
	gb_free(b);
}

/* BOOL, UINT8 and INT8 initializers (raw bytes), read as their own types. */
static void narrow_initializers(void **state)
{
	struct nuq_tensor xt = ft(x23, 2, d23);
	struct gb *b;

	(void)state;
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_init_f(b, "z", 0, NULL, (float[]){ -1 });
	gb_init_bytes(b, "c", 9, 1, (int64_t[]){ 3 }, (const uint8_t[]){ 1, 0, 2 });
	gb_node(b, "Where", "n0", "c,x,z", "y");
	expect(b, &xt, NUQ_DT_FLOAT, 2, d23, (double[]){ 0, -1, 2, 3, -1, 5 });
	/* uint8 200 and int8 -56 (the same byte), added to x = {10, 20}. */
	b = gb_new(13);
	gb_input(b, "x");
	gb_output(b, "y");
	gb_output(b, "z");
	gb_init_bytes(b, "u", 2, 1, (int64_t[]){ 2 }, (const uint8_t[]){ 200, 7 });
	gb_init_bytes(b, "s", 3, 1, (int64_t[]){ 2 }, (const uint8_t[]){ 200, 7 });
	gb_attr_i(b, gb_node(b, "Cast", "c0", "u", "uf"), "to", 1);
	gb_attr_i(b, gb_node(b, "Cast", "c1", "s", "sf"), "to", 1);
	gb_node(b, "Add", "n0", "x,uf", "y");
	gb_node(b, "Add", "n1", "x,sf", "z");
	{
		float x2[2] = { 10, 20 };
		struct nuq_tensor x2t = ft(x2, 1, (int64_t[]){ 2 });
		struct run r;

		if (run_graph(b, &x2t, &r))
			fail_msg("run: %s", r.msg);
		check(&r.y[0], NUQ_DT_FLOAT, 1, (int64_t[]){ 2 }, (double[]){ 210, 27 });
		check(&r.y[1], NUQ_DT_FLOAT, 1, (int64_t[]){ 2 }, (double[]){ -46, 27 });
		run_free(&r);
		gb_free(b);
	}
}

static void argmax(void **state)
{
	float x[6] = { 1, 5, 5, 7, NAN, 0 };
	struct nuq_tensor xt = ft(x, 2, d23);
	struct Onnx__NodeProto *n;
	struct gb *b;

	(void)state;
	/* axis 1, keepdims: the first of the ties; a NaN wins, as in numpy. */
	b = one_node(13, "ArgMax", "x", &n);
	gb_attr_i(b, n, "axis", 1);
	expect(b, &xt, NUQ_DT_INT64, 2, (int64_t[]){ 2, 1 }, (double[]){ 1, 1 });
	b = one_node(13, "ArgMax", "x", &n);
	gb_attr_i(b, n, "axis", 1);
	gb_attr_i(b, n, "select_last_index", 1);
	gb_attr_i(b, n, "keepdims", 0);
	expect(b, &xt, NUQ_DT_INT64, 1, (int64_t[]){ 2 }, (double[]){ 2, 1 });
	/* axis 0 (the default): per column. */
	b = one_node(13, "ArgMin", "x", &n);
	expect(b, &xt, NUQ_DT_INT64, 2, (int64_t[]){ 1, 3 }, (double[]){ 0, 1, 1 });
	b = one_node(13, "ArgMin", "x", &n);
	gb_attr_i(b, n, "axis", -1);
	expect(b, &xt, NUQ_DT_INT64, 2, (int64_t[]){ 2, 1 }, (double[]){ 0, 1 });
	b = one_node(13, "ArgMax", "x", &n);
	gb_attr_i(b, n, "axis", 2);
	expect_refusal(b, &xt, -EINVAL, "axis 2 is out of range");
	b = one_node(13, "ArgMax", "x", &n);
	gb_attr_i(b, n, "bogus", 1);
	expect_refusal(b, &xt, -EOPNOTSUPP, "bogus");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split_three),
		cmocka_unit_test(split_forms),
		cmocka_unit_test(split_int_folds),
		cmocka_unit_test(unused_outputs),
		cmocka_unit_test(comparisons),
		cmocka_unit_test(compare_int64),
		cmocka_unit_test(logic),
		cmocka_unit_test(where_broadcast),
		cmocka_unit_test(cast_narrow),
		cmocka_unit_test(bool_input),
		cmocka_unit_test(narrow_initializers),
		cmocka_unit_test(argmax),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
