// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the bytes a quantized model still reads from its ONNX file.
 *
 * The .nuq file replaces only the weight tensors it holds; everything
 * else the executor needs comes from the ONNX file at run time: biases,
 * the BatchNormalization parameters it folds into the convolutions
 * (unless the layer holds them folded, NUQ_QLAYER_BN_FOLDED),
 * the weights of layers that were not quantized (LayerNorm, attention
 * constants, ...), shape constants.  A size that claims to be "all
 * included" has to count them, at the size they are stored in.
 */
#include <errno.h>
#include <string.h>

#include <nuq/nuqfile.h>

#include "msg.h"
#include "onnx/onnx_priv.h"

/* Bytes per element of an ONNX TensorProto data type (unknown types: 4). */
static size_t elem_bytes(int32_t type)
{
	switch (type) {
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
	case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
		return 1;
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
	case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
		return 2;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
	case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
		return 8;
	default:
		return 4;
	}
}

/* The layer that quantizes the tensor @name, or NULL. */
static const struct nuq_qlayer *find_layer(const char *name, const struct nuq_qlayer *layers,
					   size_t n)
{
	size_t i;

	for (i = 0; name && i < n; i++)
		if (!strcmp(layers[i].name, name))
			return &layers[i];
	return NULL;
}

/* The layer of tensor @name holds any of @flags. */
static int holds(const char *name, uint32_t flags, const struct nuq_qlayer *layers, size_t n)
{
	const struct nuq_qlayer *l = find_layer(name, layers, n);

	return l && (l->flags & flags);
}

static int is_op(const Onnx__NodeProto *node, const char *op)
{
	return node->op_type && !strcmp(node->op_type, op);
}

/* Input @j of @node is a parameter a folded layer holds instead. */
static int folded_use(const Onnx__GraphProto *g, const Onnx__NodeProto *node, size_t j,
		      const struct nuq_qlayer *layers, size_t n)
{
	size_t i;

	if (is_op(node, "Conv"))
		return j == 2 && node->n_input > 1 &&
		       holds(node->input[1], NUQ_QLAYER_HAS_BIAS, layers, n);
	if (!is_op(node, "BatchNormalization") || j < 1 || j > 4 || !node->n_input)
		return 0;
	for (i = 0; i < g->n_node; i++) {
		const Onnx__NodeProto *p = g->node[i];

		if (is_op(p, "Conv") && p->n_output && p->n_input > 1 &&
		    !strcmp(p->output[0], node->input[0]))
			return holds(p->input[1], NUQ_QLAYER_BN_FOLDED, layers, n);
	}
	return 0;
}

/*
 * A Conv's bias and its BatchNormalization's scale, shift, mean and
 * variance are not read when the layer folds them (NUQ_QLAYER_BN_FOLDED),
 * nor a Conv's bias the layer holds (NUQ_QLAYER_BIAS), unless another
 * node uses the same tensor.
 */
static int replaced_by_fold(const Onnx__GraphProto *g, const char *name,
			    const struct nuq_qlayer *layers, size_t n)
{
	size_t i, j, uses = 0, folded = 0;

	for (i = 0; name && i < g->n_node; i++) {
		const Onnx__NodeProto *node = g->node[i];

		for (j = 0; j < node->n_input; j++) {
			if (!node->input[j] || strcmp(node->input[j], name))
				continue;
			uses++;
			folded += folded_use(g, node, j, layers, n);
		}
	}
	return uses && uses == folded;
}

static int add_tensor(const Onnx__TensorProto *t, uint64_t *bytes, char *msg, size_t msglen)
{
	size_t count;
	int ret = nuq_onnx_tensor_count(t, &count, msg, msglen);

	if (!ret)
		*bytes += (uint64_t)count * elem_bytes(t->data_type);
	return ret;
}

int nuq_onnx_kept_bytes(const struct nuq_onnx *model, const struct nuq_qlayer *layers, size_t n,
			uint64_t *bytes, char *msg, size_t msglen)
{
	const Onnx__GraphProto *g = model->proto->graph;
	size_t i, j;
	int ret;

	*bytes = 0;
	if (!g)
		return nuq_fail(msg, msglen, -EINVAL, "the model has no graph");
	for (i = 0; i < g->n_initializer; i++) {
		if (find_layer(g->initializer[i]->name, layers, n) ||
		    replaced_by_fold(g, g->initializer[i]->name, layers, n))
			continue;
		ret = add_tensor(g->initializer[i], bytes, msg, msglen);
		if (ret)
			return ret;
	}
	/* Constant nodes hold tensors too (a MatMul weight may be one). */
	for (i = 0; i < g->n_node; i++) {
		const Onnx__NodeProto *node = g->node[i];

		if (!node->op_type || strcmp(node->op_type, "Constant") || node->n_output != 1 ||
		    find_layer(node->output[0], layers, n) ||
		    replaced_by_fold(g, node->output[0], layers, n))
			continue;
		for (j = 0; j < node->n_attribute; j++) {
			if (!node->attribute[j]->t)
				continue;
			ret = add_tensor(node->attribute[j]->t, bytes, msg, msglen);
			if (ret)
				return ret;
		}
	}
	return 0;
}
