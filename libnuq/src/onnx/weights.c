// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the weight tensors of an ONNX model, as the matrices nuq
 * quantizes.  Row r of a matrix holds the weights that produce output
 * channel r, in the order the conv core reads them (OHWI for Conv), so a
 * per-channel quantizer sees exactly one channel per row.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "onnx_priv.h"

static int64_t attr_int(const Onnx__NodeProto *node, const char *name, int64_t def)
{
	size_t i;

	for (i = 0; i < node->n_attribute; i++)
		if (node->attribute[i]->name && !strcmp(node->attribute[i]->name, name) &&
		    node->attribute[i]->has_i)
			return node->attribute[i]->i;
	return def;
}

static int weight_layout(const Onnx__NodeProto *node, enum nuq_layout *layout)
{
	const char *op = node->op_type;

	if (!strcmp(op, "Conv"))
		*layout = NUQ_LAYOUT_OIHW;
	else if (!strcmp(op, "ConvTranspose"))
		*layout = NUQ_LAYOUT_IOHW_O;
	else if (!strcmp(op, "MatMul"))
		*layout = NUQ_LAYOUT_KN;
	else if (!strcmp(op, "Gemm"))
		*layout = attr_int(node, "transB", 0) ? NUQ_LAYOUT_NK : NUQ_LAYOUT_KN;
	else
		return 0;
	return 1;
}

static int describe(const Onnx__NodeProto *node, const Onnx__TensorProto *t,
		    struct nuq_onnx_weight *w, char *msg, size_t msglen)
{
	size_t count, i;
	int ret;

	w->name = t->name ? t->name : node->input[1];
	w->node = node->name ? node->name : "(unnamed)";
	w->op = node->op_type;
	ret = nuq_onnx_tensor_count(t, &count, msg, msglen);
	if (ret)
		return ret;
	w->ndims = t->n_dims;
	for (i = 0; i < t->n_dims; i++)
		w->dims[i] = t->dims[i];
	if (w->layout == NUQ_LAYOUT_KN || w->layout == NUQ_LAYOUT_NK) {
		if (t->n_dims != 2)
			return nuq_fail(msg, msglen, -EINVAL, "node %s: %s weight %s has %zu dims, expected 2",
					w->node, w->op, w->name, t->n_dims);
	} else if (t->n_dims < 3) {
		return nuq_fail(msg, msglen, -EINVAL, "node %s: %s weight %s has %zu dims, expected 3 or more",
				w->node, w->op, w->name, t->n_dims);
	}
	w->rows = w->layout == NUQ_LAYOUT_KN || w->layout == NUQ_LAYOUT_IOHW_O ? t->dims[1] :
		  t->dims[0];
	w->cols = w->rows ? count / w->rows : 0;
	if (!count)
		return nuq_fail(msg, msglen, -EINVAL, "node %s: weight %s is empty", w->node, w->name);
	return 0;
}

int nuq_onnx_weights(struct nuq_onnx *m, const struct nuq_onnx_weight **out, size_t *n,
		     char *msg, size_t msglen)
{
	const Onnx__GraphProto *g = m->proto->graph;
	size_t i, j;
	int ret;

	if (m->weights_done)
		goto done;
	free(m->weights);
	m->weights = calloc(g->n_node ? g->n_node : 1, sizeof(*m->weights));
	if (!m->weights)
		return -ENOMEM;
	m->nweights = 0;
	for (i = 0; i < g->n_node; i++) {
		const Onnx__NodeProto *node = g->node[i];
		struct nuq_onnx_weight *w = &m->weights[m->nweights];
		const Onnx__TensorProto *t;

		if (!node->op_type || node->n_input < 2 || !node->input[1] ||
		    !weight_layout(node, &w->layout))
			continue;
		t = nuq_onnx_find_tensor(m, node->input[1]);
		/* activations times activations (attention) are not weights */
		if (!t || t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
			continue;
		for (j = 0; j < m->nweights; j++)
			if (!strcmp(m->weights[j].name, node->input[1]))
				break;
		if (j < m->nweights)
			continue;
		ret = describe(node, t, w, msg, msglen);
		if (ret)
			return ret;
		m->nweights++;
	}
	m->weights_done = 1;
done:
	*out = m->weights;
	*n = m->nweights;
	return 0;
}

/* Spatial size of a conv weight: the product of dims 2 and up. */
static size_t spatial(const int64_t *dims, unsigned int ndims)
{
	size_t s = 1;
	unsigned int i;

	for (i = 2; i < ndims; i++)
		s *= dims[i];
	return s;
}

/* Move elements between the ONNX order and the matrix order, either way. */
static void relayout(enum nuq_layout layout, const int64_t *dims, unsigned int ndims,
		     const float *src, float *dst, int to_matrix)
{
	size_t r, i, s, in, sp, m, o;

	switch (layout) {
	case NUQ_LAYOUT_OIHW:
		in = dims[1];
		sp = spatial(dims, ndims);
		for (r = 0; r < (size_t)dims[0]; r++) {
			for (i = 0; i < in; i++) {
				for (s = 0; s < sp; s++) {
					m = (r * sp + s) * in + i;
					o = (r * in + i) * sp + s;
					dst[to_matrix ? m : o] = src[to_matrix ? o : m];
				}
			}
		}
		return;
	case NUQ_LAYOUT_IOHW_O:
		/* ONNX (i, o, s) <-> matrix row o, column (s, i) */
		in = dims[0];
		sp = spatial(dims, ndims);
		for (r = 0; r < (size_t)dims[1]; r++) {
			for (i = 0; i < in; i++) {
				for (s = 0; s < sp; s++) {
					m = (r * sp + s) * in + i;
					o = (i * dims[1] + r) * sp + s;
					dst[to_matrix ? m : o] = src[to_matrix ? o : m];
				}
			}
		}
		return;
	case NUQ_LAYOUT_KN:
		for (r = 0; r < (size_t)dims[0]; r++) {
			for (i = 0; i < (size_t)dims[1]; i++) {
				m = i * dims[0] + r;
				o = r * dims[1] + i;
				dst[to_matrix ? m : o] = src[to_matrix ? o : m];
			}
		}
		return;
	default:
		s = dims[0] * (ndims > 1 ? (size_t)dims[1] : 1) * spatial(dims, ndims);
		memcpy(dst, src, s * sizeof(*dst));
		return;
	}
}

void nuq_layout_from_onnx(enum nuq_layout layout, const int64_t *dims, unsigned int ndims,
			  const float *onnx, float *mat)
{
	relayout(layout, dims, ndims, onnx, mat, 1);
}

void nuq_layout_to_onnx(enum nuq_layout layout, const int64_t *dims, unsigned int ndims,
			const float *mat, float *onnx)
{
	relayout(layout, dims, ndims, mat, onnx, 0);
}

int nuq_onnx_weight_matrix(const struct nuq_onnx *m, const struct nuq_onnx_weight *w,
			   float **matrix, char *msg, size_t msglen)
{
	const Onnx__TensorProto *t = nuq_onnx_find_tensor(m, w->name);
	float *raw, *mat;
	size_t n;
	int ret;

	*matrix = NULL;
	if (!t)
		return nuq_fail(msg, msglen, -ENOENT, "weight %s: no such tensor", w->name);
	ret = nuq_onnx_tensor_float(t, &raw, &n, msg, msglen);
	if (ret)
		return ret;
	if (n != w->rows * w->cols) {
		free(raw);
		return nuq_fail(msg, msglen, -EINVAL, "weight %s: changed shape", w->name);
	}
	mat = malloc(n * sizeof(*mat));
	if (!mat) {
		free(raw);
		return -ENOMEM;
	}
	nuq_layout_from_onnx(w->layout, w->dims, w->ndims, raw, mat);
	free(raw);
	*matrix = mat;
	return 0;
}
