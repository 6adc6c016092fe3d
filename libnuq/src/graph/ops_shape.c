// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: ops that move data without arithmetic (shapes, slicing,
 * transposes).  They work on float and INT64 tensors alike.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "graph_priv.h"

static const char *const cast_attrs[] = { "to", NULL };
static const char *const shape_attrs[] = { "start", "end", NULL };
static const char *const slice_attrs[] = { "starts", "ends", "axes", NULL };
static const char *const axis_attrs[] = { "axis", NULL };
static const char *const axes_attrs[] = { "axes", NULL };
static const char *const perm_attrs[] = { "perm", NULL };
static const char *const reshape_attrs[] = { "allowzero", NULL };

static size_t esize(const struct nuq_tensor *t)
{
	return t->dtype == NUQ_DT_FLOAT ? sizeof(float) : sizeof(int64_t);
}

static void *tdata(const struct nuq_tensor *t)
{
	return t->dtype == NUQ_DT_FLOAT ? (void *)t->f : (void *)t->i;
}

static int copy_reshaped(struct nuq_tensor *y, const struct nuq_tensor *x, unsigned int nd,
			 const int64_t *dims)
{
	int ret = nuq_tensor_alloc(y, x->dtype, nd, dims);

	if (!ret)
		memcpy(tdata(y), tdata(x), nuq_tensor_count(x) * esize(x));
	return ret;
}

/* Normalise a possibly negative axis against @nd; -1 when out of range. */
static int norm_axis(int64_t axis, unsigned int nd)
{
	if (axis < 0)
		axis += nd;
	return axis >= 0 && axis < (int64_t)nd ? (int)axis : -1;
}

static int shape_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		     char *msg, size_t msglen)
{
	int64_t rank = in[0]->ndims, nd;
	/* Opset 15's start and end: negative from the back, clamped to the rank. */
	int64_t start = nuq_attr_int(n, "start", 0), end = nuq_attr_int(n, "end", rank);
	int ret;

	(void)msg, (void)msglen;
	start = start < 0 ? start + rank : start;
	end = end < 0 ? end + rank : end;
	start = start < 0 ? 0 : start > rank ? rank : start;
	end = end < 0 ? 0 : end > rank ? rank : end;
	nd = end > start ? end - start : 0;
	ret = nuq_tensor_alloc(out[0], NUQ_DT_INT64, 1, &nd);
	if (!ret)
		memcpy(out[0]->i, in[0]->dims + start, (size_t)nd * sizeof(int64_t));
	return ret;
}

/* The nuq dtype an ONNX element type is held in, or 0 when there is none. */
static enum nuq_dtype cast_target(int64_t to)
{
	switch (to) {
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
		return NUQ_DT_FLOAT;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
		return NUQ_DT_INT64;
	case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
		return NUQ_DT_BOOL;
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
		return NUQ_DT_UINT8;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
		return NUQ_DT_INT8;
	default:
		return (enum nuq_dtype)0;
	}
}

static int cast_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	(void)g;
	n->a.to = nuq_attr_int(n, "to", 0);
	if (!cast_target(n->a.to))
		return nuq_node_fail(n, msg, msglen, -EOPNOTSUPP, "cast to %s is not supported",
				     nuq_graph_dtype_name((int)n->a.to));
	return 0;
}

/* A value converted to an integer kind: nonzero for BOOL, wrapped for 8 bits. */
static int64_t cast_int(enum nuq_dtype to, int64_t v)
{
	if (to == NUQ_DT_UINT8)
		return (uint8_t)v;
	if (to == NUQ_DT_INT8)
		return (int8_t)v;
	return v;
}

static int cast_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		    char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	enum nuq_dtype to = cast_target(n->a.to);
	size_t i, cnt = nuq_tensor_count(x);
	int ret;

	(void)msg, (void)msglen;
	ret = nuq_tensor_alloc(out[0], to, x->ndims, x->dims);
	if (ret)
		return ret;
	for (i = 0; i < cnt; i++) {
		if (to == NUQ_DT_FLOAT)
			out[0]->f[i] = x->dtype == NUQ_DT_FLOAT ? x->f[i] : (float)x->i[i];
		else if (to == NUQ_DT_BOOL)
			/* NaN is true, as in C and numpy. */
			out[0]->i[i] = x->dtype == NUQ_DT_FLOAT ? x->f[i] != 0.0f : x->i[i] != 0;
		else if (x->dtype == NUQ_DT_FLOAT)
			out[0]->i[i] = cast_int(to, isfinite(x->f[i]) && fabsf(x->f[i]) < 9.2e18f ?
						(int64_t)x->f[i] : 0);
		else
			out[0]->i[i] = cast_int(to, x->i[i]);
	}
	return 0;
}

/* Slice: opset 1-9 attributes, or opset 10+ constant inputs. */
static int slice_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	(void)g;
	if (n->nin == 1 && (!nuq_attr(n, "starts") || !nuq_attr(n, "ends")))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "needs starts and ends");
	return 0;
}

static int slice_params(struct nuq_node *n, struct nuq_tensor **in, int64_t *st, int64_t *en,
			int64_t *ax, int64_t *sp, int *cnt)
{
	int i, c, ce, ca;

	if (n->nin == 1) {
		c = nuq_attr_ints(n, "starts", st, NUQ_ONNX_MAX_DIMS);
		ce = nuq_attr_ints(n, "ends", en, NUQ_ONNX_MAX_DIMS);
		ca = nuq_attr_ints(n, "axes", ax, NUQ_ONNX_MAX_DIMS);
		if (c < 0 || ce != c || (ca && ca != c))
			return -EINVAL;
		if (!ca)
			for (i = 0; i < c; i++)
				ax[i] = i;
		for (i = 0; i < c; i++)
			sp[i] = 1;
		*cnt = c;
		return 0;
	}
	if (n->nin < 3 || !in[1] || !in[2] || in[1]->dtype != NUQ_DT_INT64 ||
	    in[2]->dtype != NUQ_DT_INT64)
		return -EINVAL;
	c = (int)nuq_tensor_count(in[1]);
	if (c > NUQ_ONNX_MAX_DIMS || nuq_tensor_count(in[2]) != (size_t)c)
		return -EINVAL;
	for (i = 0; i < c; i++) {
		st[i] = in[1]->i[i];
		en[i] = in[2]->i[i];
		ax[i] = n->nin > 3 && in[3] ? (i < (int)nuq_tensor_count(in[3]) ? in[3]->i[i] : -99) : i;
		sp[i] = n->nin > 4 && in[4] ? (i < (int)nuq_tensor_count(in[4]) ? in[4]->i[i] : 0) : 1;
	}
	*cnt = c;
	return 0;
}

static int slice_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		     char *msg, size_t msglen)
{
	int64_t st[NUQ_ONNX_MAX_DIMS], en[NUQ_ONNX_MAX_DIMS], ax[NUQ_ONNX_MAX_DIMS];
	int64_t sp[NUQ_ONNX_MAX_DIMS], start[NUQ_ONNX_MAX_DIMS], step[NUQ_ONNX_MAX_DIMS];
	int64_t dims[NUQ_ONNX_MAX_DIMS], idx[NUQ_ONNX_MAX_DIMS] = { 0 }, xs[NUQ_ONNX_MAX_DIMS];
	const struct nuq_tensor *x = in[0];
	unsigned int nd = x->ndims, d;
	size_t es = esize(x), o, cnt;
	int i, c, ret;

	if (slice_params(n, in, st, en, ax, sp, &c))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "bad starts/ends/axes/steps");
	for (d = 0; d < nd; d++) {
		start[d] = 0;
		step[d] = 1;
		dims[d] = x->dims[d];
	}
	for (i = 0; i < c; i++) {
		int a = norm_axis(ax[i], nd);
		int64_t dim, s, e;

		if (a < 0 || sp[i] == 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "bad axis or step");
		dim = x->dims[a];
		s = st[i] < 0 ? st[i] + dim : st[i];
		e = en[i] < 0 ? en[i] + dim : en[i];
		if (sp[i] > 0) {
			s = s < 0 ? 0 : s > dim ? dim : s;
			e = e < 0 ? 0 : e > dim ? dim : e;
			dims[a] = e > s ? (e - s + sp[i] - 1) / sp[i] : 0;
		} else {
			s = s < 0 ? -1 : s > dim - 1 ? dim - 1 : s;
			e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
			dims[a] = s > e ? (s - e - sp[i] - 1) / -sp[i] : 0;
		}
		start[a] = s;
		step[a] = sp[i];
	}
	ret = nuq_tensor_alloc(out[0], x->dtype, nd, dims);
	if (ret)
		return ret;
	cnt = nuq_tensor_count(out[0]);
	xs[nd ? nd - 1 : 0] = 1;
	for (d = nd - 1; nd && d > 0; d--)
		xs[d - 1] = xs[d] * x->dims[d];
	for (o = 0; o < cnt; o++) {
		int64_t off = 0;

		for (d = 0; d < nd; d++)
			off += (start[d] + idx[d] * step[d]) * xs[d];
		memcpy((char *)tdata(out[0]) + o * es, (char *)tdata(x) + off * es, es);
		for (d = nd; d-- > 0;) {
			if (++idx[d] < dims[d])
				break;
			idx[d] = 0;
		}
	}
	return 0;
}

static int concat_prepare(struct nuq_graph *g, struct nuq_node *n, char *msg, size_t msglen)
{
	unsigned int j;

	(void)g;
	if (!nuq_attr(n, "axis"))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "needs an axis");
	n->a.axis = nuq_attr_int(n, "axis", 0);
	for (j = 0; j < n->nin; j++)
		if (n->in[j] < 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "empty input name");
	return 0;
}

static int concat_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		      char *msg, size_t msglen)
{
	const struct nuq_tensor *x0 = in[0];
	int64_t dims[NUQ_ONNX_MAX_DIMS], outer = 1, inner = 1, off = 0;
	int axis = norm_axis(n->a.axis, x0->ndims);
	unsigned int j, d;
	size_t es = esize(x0);
	int64_t o;
	int ret;

	if (axis < 0)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "axis out of range");
	memcpy(dims, x0->dims, sizeof(dims));
	dims[axis] = 0;
	for (j = 0; j < n->nin; j++) {
		if (in[j]->ndims != x0->ndims || in[j]->dtype != x0->dtype)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "inputs differ in rank or type");
		for (d = 0; d < x0->ndims; d++)
			if ((int)d != axis && in[j]->dims[d] != x0->dims[d])
				return nuq_node_fail(n, msg, msglen, -EINVAL,
						     "input %u has a different shape", j);
		dims[axis] += in[j]->dims[axis];
	}
	ret = nuq_tensor_alloc(out[0], x0->dtype, x0->ndims, dims);
	if (ret)
		return ret;
	for (d = 0; d < (unsigned int)axis; d++)
		outer *= dims[d];
	for (d = axis + 1; d < x0->ndims; d++)
		inner *= dims[d];
	for (o = 0; o < outer; o++)
		for (j = 0; j < n->nin; j++) {
			size_t len = (size_t)(in[j]->dims[axis] * inner) * es;

			memcpy((char *)tdata(out[0]) + off, (char *)tdata(in[j]) + o * len, len);
			off += len;
		}
	return 0;
}

static int reshape_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		       char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0], *s = n->nin > 1 ? in[1] : NULL;
	int64_t dims[NUQ_ONNX_MAX_DIMS], known = 1;
	size_t cnt = nuq_tensor_count(x), nd, i;
	int infer = -1;

	if (!s || s->dtype != NUQ_DT_INT64 || s->ndims != 1 ||
	    (nd = nuq_tensor_count(s)) > NUQ_ONNX_MAX_DIMS)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "shape must be a 1-D INT64 tensor");
	for (i = 0; i < nd; i++) {
		dims[i] = s->i[i];
		if (dims[i] == 0 && !nuq_attr_int(n, "allowzero", 0)) {
			if (i >= x->ndims)
				return nuq_node_fail(n, msg, msglen, -EINVAL, "0 beyond the input rank");
			dims[i] = x->dims[i];
		}
		if (dims[i] == -1) {
			if (infer >= 0)
				return nuq_node_fail(n, msg, msglen, -EINVAL, "two -1 in the shape");
			infer = (int)i;
			continue;
		}
		if (dims[i] < 0)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "negative dimension");
		if (dims[i] && known > (int64_t)nuq_tensor_max_count() / dims[i])
			return nuq_node_fail(n, msg, msglen, -EINVAL, "shape holds too many elements");
		known *= dims[i];
	}
	if (infer >= 0)
		dims[infer] = known ? (int64_t)cnt / known : 0;
	else if ((size_t)known != cnt)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "shape holds %lld elements, input %zu",
				     (long long)known, cnt);
	if (infer >= 0 && (size_t)(dims[infer] * known) != cnt)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "input does not divide into the shape");
	return copy_reshaped(out[0], x, (unsigned int)nd, dims);
}

static int axes_of(struct nuq_node *n, struct nuq_tensor **in, int64_t *axes, int *cnt)
{
	size_t i, c;

	if (n->nin > 1 && in[1]) {
		c = nuq_tensor_count(in[1]);
		if (in[1]->dtype != NUQ_DT_INT64 || c > NUQ_ONNX_MAX_DIMS)
			return -EINVAL;
		for (i = 0; i < c; i++)
			axes[i] = in[1]->i[i];
		*cnt = (int)c;
		return 0;
	}
	*cnt = nuq_attr_ints(n, "axes", axes, NUQ_ONNX_MAX_DIMS);
	return *cnt < 0 ? -EINVAL : 0;
}

static int squeeze_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		       char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	int64_t axes[NUQ_ONNX_MAX_DIMS], dims[NUQ_ONNX_MAX_DIMS];
	int drop[NUQ_ONNX_MAX_DIMS] = { 0 }, c, i;
	unsigned int d, nd = 0;

	if (axes_of(n, in, axes, &c))
		return nuq_node_fail(n, msg, msglen, -EINVAL, "bad axes");
	for (i = 0; i < c; i++) {
		int a = norm_axis(axes[i], x->ndims);

		if (a < 0 || x->dims[a] != 1)
			return nuq_node_fail(n, msg, msglen, -EINVAL, "axis %lld is not of size 1",
					     (long long)axes[i]);
		drop[a] = 1;
	}
	for (d = 0; d < x->ndims; d++)
		if (!(c ? drop[d] : x->dims[d] == 1))
			dims[nd++] = x->dims[d];
	return copy_reshaped(out[0], x, nd, dims);
}

static int unsqueeze_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
			 char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	int64_t axes[NUQ_ONNX_MAX_DIMS], dims[NUQ_ONNX_MAX_DIMS];
	int add[NUQ_ONNX_MAX_DIMS] = { 0 }, c, i;
	unsigned int d, nd, src = 0;

	if (axes_of(n, in, axes, &c) || !c || x->ndims + c > NUQ_ONNX_MAX_DIMS)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "bad axes");
	nd = x->ndims + (unsigned int)c;
	for (i = 0; i < c; i++) {
		int a = norm_axis(axes[i], nd);

		if (a < 0 || add[a])
			return nuq_node_fail(n, msg, msglen, -EINVAL, "bad axis %lld",
					     (long long)axes[i]);
		add[a] = 1;
	}
	for (d = 0; d < nd; d++)
		dims[d] = add[d] ? 1 : x->dims[src++];
	return copy_reshaped(out[0], x, nd, dims);
}

static int flatten_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		       char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	int64_t axis = nuq_attr_int(n, "axis", 1), dims[2] = { 1, 1 };
	unsigned int d;

	if (axis < 0)
		axis += x->ndims;
	if (axis < 0 || axis > (int64_t)x->ndims)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "axis out of range");
	for (d = 0; d < x->ndims; d++)
		dims[(int64_t)d < axis ? 0 : 1] *= x->dims[d];
	return copy_reshaped(out[0], x, 2, dims);
}

static int transpose_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
			 char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0];
	int64_t perm[NUQ_ONNX_MAX_DIMS], dims[NUQ_ONNX_MAX_DIMS], xs[NUQ_ONNX_MAX_DIMS];
	int64_t ps[NUQ_ONNX_MAX_DIMS], idx[NUQ_ONNX_MAX_DIMS] = { 0 };
	unsigned int nd = x->ndims, d, seen = 0;
	size_t o, cnt, es = esize(x);
	int c, ret;

	c = nuq_attr_ints(n, "perm", perm, NUQ_ONNX_MAX_DIMS);
	if (!c)
		for (d = 0; d < nd; d++)
			perm[d] = nd - 1 - d;
	else if (c != (int)nd)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "perm has %d axes, input %u", c, nd);
	for (d = 0; d < nd; d++) {
		if (perm[d] < 0 || perm[d] >= nd || (seen & (1u << perm[d])))
			return nuq_node_fail(n, msg, msglen, -EINVAL, "perm is not a permutation");
		seen |= 1u << perm[d];
		dims[d] = x->dims[perm[d]];
	}
	ret = nuq_tensor_alloc(out[0], x->dtype, nd, dims);
	if (ret)
		return ret;
	if (!nd)
		return copy_reshaped(out[0], x, 0, dims);
	xs[nd - 1] = 1;
	for (d = nd - 1; d > 0; d--)
		xs[d - 1] = xs[d] * x->dims[d];
	for (d = 0; d < nd; d++)
		ps[d] = xs[perm[d]];
	cnt = nuq_tensor_count(x);
	for (o = 0; o < cnt;) {
		int64_t off = 0, j, last = dims[nd - 1], sl = ps[nd - 1];

		for (d = 0; d + 1 < nd; d++)
			off += idx[d] * ps[d];
		if (x->dtype == NUQ_DT_FLOAT)
			for (j = 0; j < last; j++)
				out[0]->f[o + j] = x->f[off + j * sl];
		else
			for (j = 0; j < last; j++)
				memcpy(&out[0]->i[o + j], &x->i[off + j * sl], es);
		o += (size_t)last;
		for (d = nd - 1; d-- > 0;) {
			if (++idx[d] < dims[d])
				break;
			idx[d] = 0;
		}
	}
	return 0;
}

static int gather_run(struct nuq_node *n, struct nuq_tensor **in, struct nuq_tensor **out,
		      char *msg, size_t msglen)
{
	const struct nuq_tensor *x = in[0], *ix = in[1];
	int64_t dims[NUQ_ONNX_MAX_DIMS], outer = 1, inner = 1, o, k, nidx;
	int axis = norm_axis(nuq_attr_int(n, "axis", 0), x->ndims);
	unsigned int d, nd = 0;
	size_t es = esize(x);
	int ret;

	if (axis < 0 || !ix || ix->dtype != NUQ_DT_INT64 ||
	    x->ndims - 1 + ix->ndims > NUQ_ONNX_MAX_DIMS)
		return nuq_node_fail(n, msg, msglen, -EINVAL, "bad axis or indices");
	for (d = 0; d < (unsigned int)axis; d++)
		outer *= (dims[nd++] = x->dims[d]);
	for (d = 0; d < ix->ndims; d++)
		dims[nd++] = ix->dims[d];
	for (d = axis + 1; d < x->ndims; d++)
		inner *= (dims[nd++] = x->dims[d]);
	ret = nuq_tensor_alloc(out[0], x->dtype, nd, dims);
	if (ret)
		return ret;
	nidx = (int64_t)nuq_tensor_count(ix);
	for (o = 0; o < outer; o++)
		for (k = 0; k < nidx; k++) {
			int64_t i = ix->i[k] < 0 ? ix->i[k] + x->dims[axis] : ix->i[k];

			if (i < 0 || i >= x->dims[axis])
				return nuq_node_fail(n, msg, msglen, -EINVAL, "index %lld out of range",
						     (long long)ix->i[k]);
			memcpy((char *)tdata(out[0]) + ((o * nidx + k) * inner) * (int64_t)es,
			       (char *)tdata(x) + ((o * x->dims[axis] + i) * inner) * (int64_t)es,
			       (size_t)inner * es);
		}
	return 0;
}

const struct nuq_op nuq_ops_shape[] = {
	{ "Shape", shape_attrs, NULL, shape_run, 1, 2, 0, 0 },
	{ "Cast", cast_attrs, cast_prepare, cast_run, 1, 2, 0, 0 },
	{ "Slice", slice_attrs, slice_prepare, slice_run, 1, 2, 0, 0 },
	{ "Concat", axis_attrs, concat_prepare, concat_run, 1, 2, 0, 0 },
	{ "Reshape", reshape_attrs, NULL, reshape_run, 2, 2, 0, 0 },
	{ "Squeeze", axes_attrs, NULL, squeeze_run, 1, 2, 0, 0 },
	{ "Unsqueeze", axes_attrs, NULL, unsqueeze_run, 1, 2, 0, 0 },
	{ "Flatten", axis_attrs, NULL, flatten_run, 1, 2, 0, 0 },
	{ "Transpose", perm_attrs, NULL, transpose_run, 1, 2, 0, 0 },
	{ "Gather", axis_attrs, NULL, gather_run, 2, 2, 0, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
};
