// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: element-wise ops.  Binary ops broadcast numpy-style; they also
 * work on INT64 tensors, since shape arithmetic goes through them.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "ops_util.h"

enum unary { U_RELU, U_SIGMOID, U_HSIGMOID, U_HSWISH, U_SQRT, U_CLIP, U_EXP, U_TANH,
	     U_IDENTITY };
enum binary { B_ADD, B_SUB, B_MUL, B_DIV, B_POW };

static const char *const no_attrs[] = { NULL };
static const char *const hsig_attrs[] = { "alpha", "beta", NULL };
static const char *const clip_attrs[] = { "min", "max", NULL };
static const char *const bn_attrs[] = { "epsilon", "momentum", "spatial", "is_test", NULL };
/* broadcast and axis: the explicit broadcasting of opsets 1-6. */
static const char *const binary_attrs[] = { "broadcast", "axis", NULL };

static enum unary unary_kind(const struct nuq_node *n)
{
	static const char *const names[] = { "Relu", "Sigmoid", "HardSigmoid", "HardSwish",
					     "Sqrt", "Clip", "Exp", "Tanh", "Identity" };
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(n->op->name, names[i]))
			return (enum unary)i;
	return U_IDENTITY;
}

static int scalar_input(const struct nuq_graph *g, const struct nuq_node *n, unsigned int i,
			float *v)
{
	const struct nuq_tensor *t;

	if (i >= n->nin || n->in[i] < 0)
		return 0;
	t = nuq_const_input(g, n, i);
	if (!t || t->dtype != NUQ_DT_FLOAT || nuq_tensor_count(t) != 1)
		return -1;
	*v = t->f[0];
	return 0;
}

static int unary_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	n->a.alpha = nuq_attr_float(n, "alpha", 0.2f);
	n->a.beta = nuq_attr_float(n, "beta", 0.5f);
	n->a.min = nuq_attr_float(n, "min", -INFINITY);
	n->a.max = nuq_attr_float(n, "max", INFINITY);
	/*
	 * Bounds that are graph inputs are read at run time; min is then NaN
	 * here so that nothing fuses this Clip as a fixed clamp.
	 */
	if (unary_kind(n) == U_CLIP &&
	    (scalar_input(g, n, 1, &n->a.min) || scalar_input(g, n, 2, &n->a.max)))
		n->a.min = NAN;
	if (unary_kind(n) != U_CLIP && n->nin != 1)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "takes exactly one input");
	return 0;
}

#define CLAMP01(e) ({ float _c = (e); _c < 0.0f ? 0.0f : _c > 1.0f ? 1.0f : _c; })

static int unary_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		     char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	enum unary k = unary_kind(n);
	size_t i, cnt = nuq_tensor_count(x);
	float *y, a = n->a.alpha, b = n->a.beta;
	int ret;

	if (x->dtype != NUQ_DT_FLOAT && k != U_IDENTITY)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input must be float");
	ret = nuq_tensor_alloc(out[0], x->dtype, x->ndims, x->dims);
	if (ret)
		return ret;
	if (x->dtype != NUQ_DT_FLOAT) {
		memcpy(out[0]->i, x->i, cnt * sizeof(int64_t));
		return 0;
	}
	y = out[0]->f;
	switch (k) {
	case U_RELU:
		UNARY_LOOP(v > 0 ? v : 0);
		break;
	case U_SIGMOID:
		UNARY_LOOP(1.0f / (1.0f + expf(-v)));
		break;
	case U_HSIGMOID:
		UNARY_LOOP(CLAMP01(a * v + b));
		break;
	case U_HSWISH:
		UNARY_LOOP(v * CLAMP01(v / 6.0f + 0.5f));
		break;
	case U_SQRT:
		UNARY_LOOP(sqrtf(v));
		break;
	case U_CLIP: {
		float lo = n->a.min, hi = n->a.max;

		for (i = 1; i < 3 && i < n->nin; i++) {
			if (!in[i])
				continue;
			if (in[i]->dtype != NUQ_DT_FLOAT || nuq_tensor_count(in[i]) != 1)
				return nuq_node_fail(n, msg, msglen, -EINVAL,
						     "min and max must be float scalars");
			if (i == 1)
				lo = in[i]->f[0];
			else
				hi = in[i]->f[0];
		}
		if (isnan(lo))
			lo = -INFINITY;	/* only min's input was missing */

		UNARY_LOOP(v < lo ? lo : v > hi ? hi : v);
		break;
	}
	case U_EXP:
		UNARY_LOOP(expf(v));
		break;
	case U_TANH:
		UNARY_LOOP(tanhf(v));
		break;
	case U_IDENTITY:
		UNARY_LOOP(v);
		break;
	}
	return 0;
}

static enum binary binary_kind(const struct nuq_node *n)
{
	static const char *const names[] = { "Add", "Sub", "Mul", "Div", "Pow" };
	unsigned int i;

	for (i = 0; i < 5; i++)
		if (!strcmp(n->op->name, names[i]))
			return (enum binary)i;
	return B_ADD;
}

static int binary_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	(void)g;
	if (n->nin != 2 || n->in[0] < 0 || n->in[1] < 0)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "takes exactly two inputs");
	/* naxes 1: an opset 1-6 axis, checked against numpy's alignment at run time. */
	n->a.naxes = nuq_attr(n, "axis") && nuq_attr_int(n, "broadcast", 0) ? 1 : 0;
	n->a.axis = nuq_attr_int(n, "axis", 0);
	return 0;
}

static float fop(enum binary k, float a, float b)
{
	switch (k) {
	case B_ADD:
		return a + b;
	case B_SUB:
		return a - b;
	case B_MUL:
		return a * b;
	case B_DIV:
		return a / b;
	case B_POW:
		return b == 2.0f ? a * a : powf(a, b);
	}
	return 0;
}

static int64_t iop(enum binary k, int64_t a, int64_t b)
{
	switch (k) {
	case B_ADD:
		return a + b;
	case B_SUB:
		return a - b;
	case B_MUL:
		return a * b;
	case B_DIV:
		return b ? a / b : 0;
	case B_POW:
		return (int64_t)pow((double)a, (double)b);
	}
	return 0;
}

/* One row of a float binary op; the switch is outside the loops so they vectorise. */
#define ROW(expr)							\
	do {								\
		if (sa == 1 && sb == 1)					\
			for (j = 0; j < n; j++) {			\
				float x = a[j], z = b[j];		\
				y[j] = (expr);				\
			}						\
		else if (sa == 1)					\
			for (j = 0; j < n; j++) {			\
				float x = a[j], z = b[0];		\
				y[j] = (expr);				\
			}						\
		else							\
			for (j = 0; j < n; j++) {			\
				float x = a[j * sa], z = b[j * sb];	\
				y[j] = (expr);				\
			}						\
	} while (0)

static void float_rows(enum binary k, float *restrict y, const float *a, int64_t sa,
		       const float *b, int64_t sb, size_t n)
{
	size_t j;

	switch (k) {
	case B_ADD:
		ROW(x + z);
		break;
	case B_SUB:
		ROW(x - z);
		break;
	case B_MUL:
		ROW(x * z);
		break;
	case B_DIV:
		ROW(x / z);
		break;
	case B_POW:
		ROW(fop(B_POW, x, z));
		break;
	}
}

/* Output shape of a numpy broadcast; -EINVAL when the shapes do not agree. */
int nuq_broadcast_shape(const struct nuq_tensor *a, const struct nuq_tensor *b,
			unsigned int *ndims, int64_t *dims);
int nuq_broadcast_shape(const struct nuq_tensor *a, const struct nuq_tensor *b,
			unsigned int *ndims, int64_t *dims)
{
	unsigned int nd = a->ndims > b->ndims ? a->ndims : b->ndims, i;

	for (i = 0; i < nd; i++) {
		int64_t da = i < nd - a->ndims ? 1 : a->dims[i - (nd - a->ndims)];
		int64_t db = i < nd - b->ndims ? 1 : b->dims[i - (nd - b->ndims)];

		if (da != db && da != 1 && db != 1)
			return -EINVAL;
		dims[i] = da == 1 ? db : da;
	}
	*ndims = nd;
	return 0;
}

/* Element strides of @t as seen in an @nd-dim broadcast (0 along broadcast axes). */
static void bstrides(const struct nuq_tensor *t, unsigned int nd, int64_t *st)
{
	int64_t s = 1;
	int i;

	for (i = (int)nd - 1; i >= 0; i--) {
		int ti = i - (int)(nd - t->ndims);
		int64_t d = ti >= 0 ? t->dims[ti] : 1;

		st[i] = d == 1 ? 0 : s;
		s *= d;
	}
}

static int binary_same(struct nuq_node *n, const struct nuq_tensor *a,
		       const struct nuq_tensor *b, struct nuq_tensor **out, char *msg, size_t msglen)
{
	int64_t dims[NUQ_ONNX_MAX_DIMS], sa[NUQ_ONNX_MAX_DIMS], sb[NUQ_ONNX_MAX_DIMS];
	int64_t idx[NUQ_ONNX_MAX_DIMS] = { 0 };
	enum binary k = binary_kind(n);
	unsigned int nd;
	size_t o, cnt, inner;
	int64_t ia = 0, ib = 0, last, sal, sbl;
	int ret, d, isf = a->dtype == NUQ_DT_FLOAT;

	if (a->dtype != b->dtype)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "inputs have different types");
	if (a->dtype == NUQ_DT_BOOL || (nuq_dtype_narrow(a->dtype) && k == B_POW))
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP, "%s inputs are not supported",
				     nuq_graph_dtype_name((int)a->dtype));
	if (n->a.naxes && n->a.axis != (int64_t)a->ndims - (int64_t)b->ndims)
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
				     "broadcast at axis %lld is not supported (only B aligned to A's last dims)",
				     (long long)n->a.axis);
	if (nuq_broadcast_shape(a, b, &nd, dims))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "shapes do not broadcast");
	ret = nuq_tensor_alloc(out[0], a->dtype, nd, dims);
	if (ret)
		return ret;
	cnt = nuq_tensor_count(out[0]);
	if (!cnt)
		return 0;
	bstrides(a, nd, sa);
	bstrides(b, nd, sb);
	last = nd ? dims[nd - 1] : 1;
	sal = nd ? sa[nd - 1] : 0;
	sbl = nd ? sb[nd - 1] : 0;
	inner = (size_t)last;
	for (o = 0; o < cnt; o += inner) {
		size_t j;

		if (isf) {
			float_rows(k, out[0]->f + o, a->f + ia, sal, b->f + ib, sbl, inner);
		} else {
			for (j = 0; j < inner; j++)
				out[0]->i[o + j] = iop(k, a->i[ia + j * sal], b->i[ib + j * sbl]);
		}
		/* Advance the outer index (all dims but the last). */
		for (d = (int)nd - 2; d >= 0; d--) {
			idx[d]++;
			ia += sa[d];
			ib += sb[d];
			if (idx[d] < dims[d])
				break;
			ia -= sa[d] * dims[d];
			ib -= sb[d] * dims[d];
			idx[d] = 0;
		}
	}
	/* uint8/int8 results wrap, as onnxruntime's and numpy's do. */
	for (o = 0; nuq_dtype_narrow(out[0]->dtype) && o < cnt; o++)
		out[0]->i[o] = nuq_wrap(out[0]->dtype, out[0]->i[o]);
	return 0;
}

/* A BatchNormalization that could not be folded into a conv (inference mode). */
static int bn_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	unsigned int j;

	n->a.epsilon = nuq_attr_float(n, "epsilon", 1e-5f);
	/* Before opset 7, is_test=0 normalises with the batch's own statistics. */
	/* Training statistics outputs were accepted by check_io() only when unread. */
	if (n->nin != 5 || (nuq_attr(n, "is_test") && !nuq_attr_int(n, "is_test", 0)))
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
				     "only inference mode (5 inputs, 1 output) is supported");
	for (j = 1; j < 5; j++)
		if (n->in[j] < 0 ||
		    (nuq_const_input(g, n, j) && nuq_const_input(g, n, j)->dtype != NUQ_DT_FLOAT))
			return nuq_node_fail(n, msg, msglen, -EINVAL,
					     "scale, bias, mean and var must be float tensors");
	return 0;
}

static int bn_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		  char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	int64_t N, C, S = 1, bn, c, p;
	unsigned int i;
	int ret;

	if (x->ndims < 2)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input needs a channel axis");
	N = x->dims[0], C = x->dims[1];
	for (i = 2; i < x->ndims; i++)
		S *= x->dims[i];
	for (i = 1; i < 5; i++)
		if (in[i]->dtype != NUQ_DT_FLOAT || nuq_tensor_count(in[i]) != (size_t)C)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "parameters need %lld values",
					     (long long)C);
	ret = nuq_tensor_alloc(out[0], NUQ_DT_FLOAT, x->ndims, x->dims);
	if (ret)
		return ret;
	for (bn = 0; bn < N; bn++)
		for (c = 0; c < C; c++) {
			float s = in[1]->f[c] / sqrtf(in[4]->f[c] + n->a.epsilon);
			float t = in[2]->f[c] - in[3]->f[c] * s;
			const float *xr = x->f + (bn * C + c) * S;
			float *yr = out[0]->f + (bn * C + c) * S;

			for (p = 0; p < S; p++)
				yr[p] = xr[p] * s + t;
		}
	return 0;
}

#define UNARY(n, attrs) { n, attrs, unary_prepare, unary_run, 1, 0, 0, 0 }
#define BINARY(n) { n, binary_attrs, binary_prepare, binary_run, 2, 2, 0, 0 }

/* @t's values as floats in a new tensor @f. */
static int as_float(const struct nuq_tensor *t, struct nuq_tensor *f)
{
	size_t i, cnt = nuq_tensor_count(t);
	int ret = nuq_tensor_alloc(f, NUQ_DT_FLOAT, t->ndims, t->dims);

	for (i = 0; !ret && i < cnt; i++)
		f->f[i] = (float)t->i[i];
	return ret;
}

/*
 * Pow's base and exponent may differ in type (opset 12+); the result has
 * the base's.  An integer base is raised in float, then truncated as
 * numpy's astype does.
 */
static int binary_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		      char *msg, size_t msglen)
{
	struct nuq_tensor fa = { 0 }, fb = { 0 }, fy = { 0 }, *py = &fy;
	size_t i, cnt;
	int ret;

	if (in[0]->dtype == in[1]->dtype || binary_kind(n) != B_POW)
		return binary_same(n, in[0], in[1], out, msg, msglen);
	if (in[0]->dtype == NUQ_DT_FLOAT) {
		ret = as_float(in[1], &fb);
		if (!ret)
			ret = binary_same(n, in[0], &fb, out, msg, msglen);
		nuq_tensor_free(&fb);
		return ret;
	}
	ret = as_float(in[0], &fa);
	if (!ret)
		ret = binary_same(n, &fa, in[1], &py, msg, msglen);
	if (!ret)
		ret = nuq_tensor_alloc(out[0], NUQ_DT_INT64, fy.ndims, fy.dims);
	cnt = ret ? 0 : nuq_tensor_count(&fy);
	for (i = 0; i < cnt; i++)
		out[0]->i[i] = isfinite(fy.f[i]) && fabsf(fy.f[i]) < 9.2e18f ? (int64_t)fy.f[i] : 0;
	nuq_tensor_free(&fa);
	nuq_tensor_free(&fy);
	return ret;
}

const struct nuq_op nuq_ops_eltwise[] = {
	UNARY("Relu", no_attrs), UNARY("Sigmoid", no_attrs), UNARY("HardSigmoid", hsig_attrs),
	UNARY("HardSwish", no_attrs), UNARY("Sqrt", no_attrs), UNARY("Clip", clip_attrs),
	UNARY("Exp", no_attrs), UNARY("Tanh", no_attrs), { "Identity", no_attrs, unary_prepare, unary_run, 1, 2, 0, 0 },
	BINARY("Add"), BINARY("Sub"), BINARY("Mul"), BINARY("Div"), BINARY("Pow"),
	{ "BatchNormalization", bn_attrs, bn_prepare, bn_run, 5, 0, 1, 4 },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
};
