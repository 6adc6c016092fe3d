// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: more element-wise unary ops (activations and rounding), and
 * Dropout, which is the identity at inference.  Neg and Abs also take
 * INT64 tensors, since shape arithmetic uses them.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "ops_util.h"

enum unary2 { V_LEAKY, V_ELU, V_SELU, V_SOFTPLUS, V_NEG, V_ABS, V_RECIP, V_FLOOR, V_CEIL,
	      V_ROUND, V_ERF, V_GELU, V_DROPOUT };

static const char *const kind_names[] = { "LeakyRelu", "Elu", "Selu", "Softplus", "Neg",
					  "Abs", "Reciprocal", "Floor", "Ceil", "Round",
					  "Erf", "Gelu", "Dropout" };

static const char *const no_attrs[] = { NULL };
static const char *const alpha_attrs[] = { "alpha", NULL };
static const char *const selu_attrs[] = { "alpha", "gamma", NULL };
static const char *const gelu_attrs[] = { "approximate", NULL };
static const char *const dropout_attrs[] = { "ratio", "seed", "is_test", NULL };

static enum unary2 kind_of(const struct nuq_node *n)
{
	unsigned int i;

	for (i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (!strcmp(n->op->name, kind_names[i]))
			return (enum unary2)i;
	return V_DROPOUT;
}

/* Dropout runs in inference mode only: a training_mode input must be a constant false. */
static int dropout_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	const struct nuq_tensor *tm;

	if (n->nin > 2 && n->in[2] >= 0) {
		tm = nuq_const_input(g, n, 2);
		if (!tm || nuq_tensor_count(tm) != 1 || nuq_tget(tm, 0) != 0)
			return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
					     "training_mode must be a constant false (inference only)");
	}
	if (nuq_attr(n, "is_test") && !nuq_attr_int(n, "is_test", 0))
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
				     "is_test=0 (training) is not supported");
	return 0;
}

static int unary2_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	enum unary2 k = kind_of(n);
	char buf[16];
	const char *s;

	if (k == V_DROPOUT)
		return dropout_prepare(g, n, msg, msglen);
	if (n->nin != 1)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "takes exactly one input");
	if (k == V_LEAKY)
		n->a.alpha = nuq_attr_float(n, "alpha", 0.01f);
	else if (k == V_ELU)
		n->a.alpha = nuq_attr_float(n, "alpha", 1.0f);
	else if (k == V_SELU) {
		n->a.alpha = nuq_attr_float(n, "alpha", 1.67326319217681884765625f);
		n->a.beta = nuq_attr_float(n, "gamma", 1.05070102214813232421875f);
	} else if (k == V_GELU) {
		s = nuq_attr_string(n, "approximate", "none", buf, sizeof(buf));
		if (strcmp(s, "none") && strcmp(s, "tanh"))
			return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
					     "approximate '%s' is not supported (none, tanh are)", s);
		/* alpha holds the choice: 1 for the tanh approximation. */
		n->a.alpha = strcmp(s, "tanh") ? 0.0f : 1.0f;
	}
	return 0;
}

static float softplus(float v)
{
	/* log(1 + e^v) without overflow for large v. */
	return v > 0 ? v + log1pf(expf(-v)) : log1pf(expf(v));
}

static float gelu(float v, int tanh_approx)
{
	if (tanh_approx)
		return 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
	return 0.5f * v * (1.0f + erff(v * 0.7071067811865476f));
}

static int int_run(enum unary2 k, const struct nuq_tensor *x, struct nuq_tensor *y)
{
	size_t i, cnt = nuq_tensor_count(x);

	for (i = 0; i < cnt; i++) {
		int64_t v = x->i[i];

		y->i[i] = k == V_NEG ? -v : k == V_ABS ? (v < 0 ? -v : v) : v;
	}
	return 0;
}


static int unary2_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		      char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	enum unary2 k = kind_of(n);
	size_t i, cnt = nuq_tensor_count(x);
	float a = n->a.alpha, gm = n->a.beta, *y;
	int ret;

	if (x->dtype != NUQ_DT_FLOAT && k != V_NEG && k != V_ABS && k != V_DROPOUT)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input must be float");
	/* Inference keeps every element: the optional mask is all true. */
	if (k == V_DROPOUT && n->nout > 1 && out[1]) {
		ret = nuq_tensor_alloc(out[1], NUQ_DT_BOOL, x->ndims, x->dims);
		if (ret)
			return ret;
		for (i = 0; i < cnt; i++)
			out[1]->i[i] = 1;
	}
	ret = nuq_tensor_alloc(out[0], x->dtype, x->ndims, x->dims);
	if (ret)
		return ret;
	if (x->dtype != NUQ_DT_FLOAT)
		return int_run(k, x, out[0]);
	y = out[0]->f;
	switch (k) {
	case V_LEAKY:
		UNARY_LOOP(v < 0 ? a * v : v);
		break;
	case V_ELU:
		UNARY_LOOP(v < 0 ? a * expm1f(v) : v);
		break;
	case V_SELU:
		UNARY_LOOP(v > 0 ? gm * v : gm * a * expm1f(v));
		break;
	case V_SOFTPLUS:
		UNARY_LOOP(softplus(v));
		break;
	case V_NEG:
		UNARY_LOOP(-v);
		break;
	case V_ABS:
		UNARY_LOOP(fabsf(v));
		break;
	case V_RECIP:
		UNARY_LOOP(1.0f / v);
		break;
	case V_FLOOR:
		UNARY_LOOP(floorf(v));
		break;
	case V_CEIL:
		UNARY_LOOP(ceilf(v));
		break;
	case V_ROUND:
		/* Halves to even, as ONNX asks: the default rounding mode. */
		UNARY_LOOP(nearbyintf(v));
		break;
	case V_ERF:
		UNARY_LOOP(erff(v));
		break;
	case V_GELU:
		UNARY_LOOP(gelu(v, a != 0.0f));
		break;
	case V_DROPOUT:
		memcpy(y, x->f, cnt * sizeof(float));
		break;
	}
	return 0;
}

#define OP(name, attrs, int_ok) { name, attrs, unary2_prepare, unary2_run, 1, int_ok, 0, 0 }

const struct nuq_op nuq_ops_unary[] = {
	OP("LeakyRelu", alpha_attrs, 0), OP("Elu", alpha_attrs, 0), OP("Selu", selu_attrs, 0),
	OP("Softplus", no_attrs, 0), OP("Neg", no_attrs, 1), OP("Abs", no_attrs, 1),
	OP("Reciprocal", no_attrs, 0), OP("Floor", no_attrs, 0), OP("Ceil", no_attrs, 0),
	OP("Round", no_attrs, 0), OP("Erf", no_attrs, 0), OP("Gelu", gelu_attrs, 0),
	{ "Dropout", dropout_attrs, unary2_prepare, unary2_run, 1, 1, 2, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
};
