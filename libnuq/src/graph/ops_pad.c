// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: Pad, in constant, reflect and edge modes.  The pads come from
 * the attribute (before opset 11) or from input 1, the constant from the
 * value attribute or input 2, and opset 18's axes from input 3.  Negative
 * pads crop.  Works on float and INT64 tensors.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ops_util.h"

enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE };

static const char *const pad_attrs[] = { "mode", "pads", "value", NULL };

/* The mode goes in a.group; opset < 11 pads in a.pads-like a.axes (2 * rank values). */
static int pad_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	char buf[16];
	const char *mode = nuq_attr_string(n, "mode", "constant", buf, sizeof(buf));
	int c;

	(void)g;
	if (!strcmp(mode, "constant"))
		n->a.group = PAD_CONSTANT;
	else if (!strcmp(mode, "reflect"))
		n->a.group = PAD_REFLECT;
	else if (!strcmp(mode, "edge"))
		n->a.group = PAD_EDGE;
	else
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP,
				     "mode '%s' is not supported (constant, reflect, edge are)", mode);
	n->a.alpha = nuq_attr_float(n, "value", 0.0f);
	n->a.naxes = 0;
	if (nuq_attr(n, "pads")) {
		if (n->nin > 1)
			return nuq_node_fail(n, msg, msglen, -EINVAL,
					     "pads given both as attribute and input");
		c = nuq_attr_ints(n, "pads", n->a.axes, NUQ_ONNX_MAX_DIMS);
		if (c < 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "too many pads");
		n->a.naxes = (unsigned int)c;
	} else if (n->nin < 2 || n->in[1] < 0) {
		return nuq_node_fail(n, msg, msglen, -EINVAL, "needs pads");
	}
	return 0;
}

/* Begin and end pads per axis of @x from the attribute or the inputs. */
static int pad_amounts(struct nuq_node *n, struct nuq_tensor **in, int64_t *pb, int64_t *pe,
		       char *msg, size_t msglen)
{
	unsigned int nd = in[0]->ndims, d;
	int64_t p[2 * NUQ_ONNX_MAX_DIMS], ax[NUQ_ONNX_MAX_DIMS];
	int c, na = (int)nd, i;

	if (n->a.naxes || nuq_attr(n, "pads")) {
		c = (int)n->a.naxes;
		memcpy(p, n->a.axes, (size_t)c * sizeof(int64_t));
	} else {
		c = nuq_int_list(in[1], p, 2 * NUQ_ONNX_MAX_DIMS);
	}
	for (i = 0; i < (int)nd; i++)
		ax[i] = i;
	if (n->nin > 3 && in[3]) {
		na = nuq_int_list(in[3], ax, NUQ_ONNX_MAX_DIMS);
		if (na < 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "axes must be 1-D INT64");
	}
	if (c != 2 * na)
		return nuq_node_fail(n, msg, msglen, -EINVAL,
				     "pads must be an INT64 list of %d values", 2 * na);
	memset(pb, 0, nd * sizeof(int64_t));
	memset(pe, 0, nd * sizeof(int64_t));
	for (i = 0; i < na; i++) {
		int a = nuq_norm_axis(ax[i], nd);

		if (a < 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "axis %lld out of range",
					     (long long)ax[i]);
		pb[a] = p[i];
		pe[a] = p[i + na];
	}
	for (d = 0; d < nd; d++) {
		int64_t dim = in[0]->dims[d];

		if (dim + pb[d] + pe[d] < 0 || pb[d] < -dim || pe[d] < -dim)
			return nuq_node_fail(n, msg, msglen, -EINVAL,
					     "pads crop axis %u (size %lld) below zero", d,
					     (long long)dim);
		if (n->a.group == PAD_REFLECT && (pb[d] > dim - 1 || pe[d] > dim - 1) &&
		    (pb[d] > 0 || pe[d] > 0))
			return nuq_node_fail(n, msg, msglen, -EINVAL,
					     "reflect pads on axis %u must be < its size %lld", d,
					     (long long)dim);
		if (n->a.group == PAD_EDGE && dim == 0 && (pb[d] > 0 || pe[d] > 0))
			return nuq_node_fail(n, msg, msglen, -EINVAL,
					     "edge padding of an empty axis %u", d);
	}
	return 0;
}

/* Source index along one axis for output index @o, or -1 for the constant. */
static int64_t src_index(enum pad_mode m, int64_t o, int64_t pb, int64_t dim)
{
	int64_t s = o - pb;

	if (s >= 0 && s < dim)
		return s;
	if (m == PAD_CONSTANT)
		return -1;
	if (m == PAD_EDGE)
		return s < 0 ? 0 : dim - 1;
	/* Reflect without repeating the border: -1 -> 1, dim -> dim - 2. */
	return s < 0 ? -s : 2 * (dim - 1) - s;
}

static int pad_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		   char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0], *cv = n->nin > 2 ? in[2] : NULL;
	int64_t pb[NUQ_ONNX_MAX_DIMS], pe[NUQ_ONNX_MAX_DIMS], dims[NUQ_ONNX_MAX_DIMS];
	int64_t idx[NUQ_ONNX_MAX_DIMS] = { 0 }, xs[NUQ_ONNX_MAX_DIMS], inner, xin, lo, hi;
	unsigned int nd = x->ndims, d;
	size_t es = nuq_esize(x), o, cnt;
	float fval = n->a.alpha;
	int64_t ival = (int64_t)n->a.alpha;
	char *yd, *xd;
	int ret;

	ret = pad_amounts(n, in, pb, pe, msg, msglen);
	if (ret)
		return ret;
	if (cv) {
		if (cv->dtype != x->dtype || nuq_tensor_count(cv) != 1)
			return nuq_node_fail(n, msg, msglen, -EINVAL,
					     "constant_value must be one element of the input's type");
		fval = x->dtype == NUQ_DT_FLOAT ? cv->f[0] : 0;
		ival = x->dtype == NUQ_DT_INT64 ? cv->i[0] : 0;
	}
	for (d = 0; d < nd; d++)
		dims[d] = x->dims[d] + pb[d] + pe[d];
	ret = nuq_tensor_alloc(out[0], x->dtype, nd, dims);
	if (ret)
		return ret;
	cnt = nuq_tensor_count(out[0]);
	for (d = nd; d-- > 0;)
		xs[d] = d + 1 < nd ? xs[d + 1] * x->dims[d + 1] : 1;
	yd = nuq_tdata(out[0]);
	xd = nuq_tdata(x);
	if (!nd) {
		memcpy(yd, xd, es);
		return 0;
	}
	/*
	 * Row by row along the last axis: the part of a row that lies inside
	 * the input is one copy, only its padded ends go element by element.
	 */
	inner = dims[nd - 1];
	xin = x->dims[nd - 1];
	lo = pb[nd - 1] > 0 ? pb[nd - 1] : 0;
	hi = pb[nd - 1] + xin < inner ? pb[nd - 1] + xin : inner;
	for (o = 0; inner && o < cnt; o += (size_t)inner) {
		int64_t off = 0, s, k;

		for (d = 0; d + 1 < nd; d++) {
			s = src_index((enum pad_mode)n->a.group, idx[d], pb[d], x->dims[d]);
			if (s < 0)
				break;
			off += s * xs[d];
		}
		for (k = 0; k < inner; k++) {
			if (d + 1 == nd && k == lo && hi > lo) {
				memcpy(yd + (o + k) * es, xd + (off + lo - pb[nd - 1]) * es,
				       (size_t)(hi - lo) * es);
				k = hi - 1;
				continue;
			}
			s = d + 1 < nd ? -1 :
			    src_index((enum pad_mode)n->a.group, k, pb[nd - 1], xin);
			if (s >= 0)
				memcpy(yd + (o + k) * es, xd + (off + s) * es, es);
			else if (x->dtype == NUQ_DT_FLOAT)
				out[0]->f[o + k] = fval;
			else
				out[0]->i[o + k] = ival;
		}
		for (d = nd - 1; d-- > 0;) {
			if (++idx[d] < dims[d])
				break;
			idx[d] = 0;
		}
	}
	return 0;
}

const struct nuq_op nuq_ops_pad[] = {
	{ "Pad", pad_attrs, pad_prepare, pad_run, 1, 1, 0, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
};
