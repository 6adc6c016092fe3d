// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: comparisons and masks: Equal, Less, Greater, LessOrEqual,
 * GreaterOrEqual (BOOL results), And, Or, Xor, Not (on BOOL) and Where.
 * All broadcast numpy-style.  Integers are compared as int64, never
 * through a float, so large shape values stay exact.
 */
#include <errno.h>
#include <string.h>

#include "ops_util.h"

static const char *const no_attrs[] = { NULL };

enum cmp_kind { C_EQ, C_LT, C_GT, C_LE, C_GE, C_AND, C_OR, C_XOR };

static const char *const cmp_names[] = {
	[C_EQ] = "Equal", [C_LT] = "Less", [C_GT] = "Greater", [C_LE] = "LessOrEqual",
	[C_GE] = "GreaterOrEqual", [C_AND] = "And", [C_OR] = "Or", [C_XOR] = "Xor",
};

static enum cmp_kind cmp_kind_of(const struct nuq_node *n)
{
	size_t k;

	for (k = 0; k < sizeof(cmp_names) / sizeof(cmp_names[0]); k++)
		if (!strcmp(n->op->name, cmp_names[k]))
			return (enum cmp_kind)k;
	return C_EQ;
}

static int is_float(const struct nuq_tensor *t)
{
	return t->dtype == NUQ_DT_FLOAT;
}

/* The three-way order of two elements of the same kind (NaN: unordered, 2). */
static int order(const struct nuq_tensor *a, int64_t ia, const struct nuq_tensor *b, int64_t ib)
{
	if (is_float(a)) {
		float x = a->f[ia], y = b->f[ib];

		return x < y ? -1 : x > y ? 1 : x == y ? 0 : 2;
	}
	return a->i[ia] < b->i[ib] ? -1 : a->i[ia] > b->i[ib];
}

static int64_t compare(enum cmp_kind k, const struct nuq_tensor *a, int64_t ia,
		       const struct nuq_tensor *b, int64_t ib)
{
	int o;

	switch (k) {
	case C_AND:
		return a->i[ia] && b->i[ib];
	case C_OR:
		return a->i[ia] || b->i[ib];
	case C_XOR:
		return !a->i[ia] != !b->i[ib];
	default:
		break;
	}
	o = order(a, ia, b, ib);
	switch (k) {
	case C_EQ:
		return o == 0;
	case C_LT:
		return o == -1;
	case C_GT:
		return o == 1;
	case C_LE:
		return o == -1 || o == 0;
	default:
		return o == 1 || o == 0;
	}
}

static int compare_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		       char *msg, size_t msglen)
{
	const struct nuq_tensor *a = in[0], *b = in[1];
	enum cmp_kind k = cmp_kind_of(n);
	struct nuq_bwalk wa, wb;
	int64_t dims[NUQ_ONNX_MAX_DIMS];
	unsigned int nd;
	size_t i, cnt;
	int ret;

	if (k >= C_AND && (a->dtype != NUQ_DT_BOOL || b->dtype != NUQ_DT_BOOL))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "inputs must be bool");
	if (is_float(a) != is_float(b))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "inputs are %s and %s",
				     nuq_graph_dtype_name((int)a->dtype),
				     nuq_graph_dtype_name((int)b->dtype));
	if (nuq_broadcast_shape(a, b, &nd, dims))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "shapes do not broadcast");
	ret = nuq_tensor_alloc(out[0], NUQ_DT_BOOL, nd, dims);
	if (ret)
		return nuq_node_fail(n, msg, msglen, ret, "cannot allocate the output");
	cnt = nuq_tensor_count(out[0]);
	nuq_bwalk_init(&wa, a, nd, dims);
	nuq_bwalk_init(&wb, b, nd, dims);
	for (i = 0; i < cnt; i++) {
		out[0]->i[i] = compare(k, a, wa.off, b, wb.off);
		nuq_bwalk_next(&wa);
		nuq_bwalk_next(&wb);
	}
	return 0;
}

static int not_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		   char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	size_t i, cnt = nuq_tensor_count(x);
	int ret;

	if (x->dtype != NUQ_DT_BOOL)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input must be bool");
	ret = nuq_tensor_alloc(out[0], NUQ_DT_BOOL, x->ndims, x->dims);
	if (ret)
		return nuq_node_fail(n, msg, msglen, ret, "cannot allocate the output");
	for (i = 0; i < cnt; i++)
		out[0]->i[i] = !x->i[i];
	return 0;
}

/* Where(cond, x, y): x where cond holds, else y; all three broadcast. */
static int where_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		     char *msg, size_t msglen)
{
	const struct nuq_tensor *c = in[0], *x = in[1], *y = in[2];
	struct nuq_tensor xy = { 0 };
	struct nuq_bwalk wc, wx, wy;
	int64_t dims[NUQ_ONNX_MAX_DIMS];
	unsigned int nd;
	size_t i, cnt;
	int ret;

	if (c->dtype != NUQ_DT_BOOL)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "condition must be bool");
	if (x->dtype != y->dtype)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "X is %s but Y is %s",
				     nuq_graph_dtype_name((int)x->dtype),
				     nuq_graph_dtype_name((int)y->dtype));
	/* The shape of x and y broadcast, then broadcast with the condition. */
	if (nuq_broadcast_shape(x, y, &xy.ndims, xy.dims) ||
	    nuq_broadcast_shape(c, &xy, &nd, dims))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "shapes do not broadcast");
	ret = nuq_tensor_alloc(out[0], x->dtype, nd, dims);
	if (ret)
		return nuq_node_fail(n, msg, msglen, ret, "cannot allocate the output");
	cnt = nuq_tensor_count(out[0]);
	nuq_bwalk_init(&wc, c, nd, dims);
	nuq_bwalk_init(&wx, x, nd, dims);
	nuq_bwalk_init(&wy, y, nd, dims);
	for (i = 0; i < cnt; i++) {
		int take_x = c->i[wc.off] != 0;

		if (is_float(x))
			out[0]->f[i] = take_x ? x->f[wx.off] : y->f[wy.off];
		else
			out[0]->i[i] = take_x ? x->i[wx.off] : y->i[wy.off];
		nuq_bwalk_next(&wc);
		nuq_bwalk_next(&wx);
		nuq_bwalk_next(&wy);
	}
	return 0;
}

#define CMP(name) { name, no_attrs, NULL, compare_run, 2, 2, 0, 0 }

const struct nuq_op nuq_ops_compare[] = {
	CMP("Equal"), CMP("Less"), CMP("Greater"), CMP("LessOrEqual"), CMP("GreaterOrEqual"),
	CMP("And"), CMP("Or"), CMP("Xor"),
	{ "Not", no_attrs, NULL, not_run, 1, 2, 0, 0 },
	{ "Where", no_attrs, NULL, where_run, 3, 2, 0, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
};
