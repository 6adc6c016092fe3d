// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the bytes a quantized model still reads from its ONNX file.
 *
 * The .nuq file replaces only the weight tensors it holds; everything
 * else the executor needs comes from the ONNX file at run time: biases,
 * the BatchNormalization parameters it folds into the convolutions,
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

static int is_quantized(const char *name, const struct nuq_qlayer *layers, size_t n)
{
	size_t i;

	for (i = 0; name && i < n; i++)
		if (!strcmp(layers[i].name, name))
			return 1;
	return 0;
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
		if (is_quantized(g->initializer[i]->name, layers, n))
			continue;
		ret = add_tensor(g->initializer[i], bytes, msg, msglen);
		if (ret)
			return ret;
	}
	/* Constant nodes hold tensors too (a MatMul weight may be one). */
	for (i = 0; i < g->n_node; i++) {
		const Onnx__NodeProto *node = g->node[i];

		if (!node->op_type || strcmp(node->op_type, "Constant") || node->n_output != 1 ||
		    is_quantized(node->output[0], layers, n))
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
