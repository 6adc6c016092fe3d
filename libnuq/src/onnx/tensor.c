// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: decoding ONNX tensors.  A tensor holds its values either in
 * the typed repeated field (float_data, int64_data, ...) or as
 * little-endian bytes in raw_data; both are checked against the dims
 * before anything is copied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "onnx_priv.h"

/* A tensor over this many elements is refused rather than allocated. */
#define NUQ_ONNX_MAX_ELEMS	(1ULL << 30)

int nuq_onnx_tensor_count(const Onnx__TensorProto *t, size_t *count, char *msg, size_t msglen)
{
	const char *name = t->name ? t->name : "(unnamed)";
	unsigned long long n = 1;
	size_t i;

	if (t->n_dims > NUQ_ONNX_MAX_DIMS)
		return nuq_fail(msg, msglen, -EINVAL, "tensor %s: %zu dims, at most %d supported",
				name, t->n_dims, NUQ_ONNX_MAX_DIMS);
	for (i = 0; i < t->n_dims; i++) {
		if (t->dims[i] < 0)
			return nuq_fail(msg, msglen, -EINVAL, "tensor %s: negative dim %lld",
					name, (long long)t->dims[i]);
		if (t->dims[i] && n > NUQ_ONNX_MAX_ELEMS / (unsigned long long)t->dims[i])
			return nuq_fail(msg, msglen, -ERANGE, "tensor %s: too many elements",
					name);
		n *= t->dims[i];
	}
	*count = n;
	return 0;
}

static uint32_t ld32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t ld64(const uint8_t *p)
{
	return ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

/* Where the values are and how many: raw bytes, or a typed array of @have. */
static int tensor_source(const Onnx__TensorProto *t, size_t elem, size_t typed, size_t *count,
			 const uint8_t **raw, char *msg, size_t msglen)
{
	const char *name = t->name ? t->name : "(unnamed)";
	int ret = nuq_onnx_tensor_count(t, count, msg, msglen);

	if (ret)
		return ret;
	if (t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
		return nuq_fail(msg, msglen, -ENOTSUP,
				"tensor %s: external data is not supported", name);
	*raw = NULL;
	if (t->has_raw_data) {
		if (t->raw_data.len != *count * elem)
			return nuq_fail(msg, msglen, -EBADMSG,
					"tensor %s: raw_data has %zu bytes, dims need %zu",
					name, t->raw_data.len, *count * elem);
		*raw = t->raw_data.data;
		return 0;
	}
	if (typed != *count)
		return nuq_fail(msg, msglen, -EBADMSG, "tensor %s: %zu values, dims need %zu",
				name, typed, *count);
	return 0;
}

int nuq_onnx_tensor_float(const struct Onnx__TensorProto *t, float **data, size_t *count,
			  char *msg, size_t msglen)
{
	const uint8_t *raw;
	size_t i, n;
	float *out;
	int ret;

	*data = NULL;
	if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
		return nuq_fail(msg, msglen, -ENOTSUP, "tensor %s: data type %d, expected FLOAT",
				t->name ? t->name : "(unnamed)", t->data_type);
	ret = tensor_source(t, 4, t->n_float_data, &n, &raw, msg, msglen);
	if (ret)
		return ret;
	out = malloc((n ? n : 1) * sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (raw) {
			uint32_t u = ld32(raw + 4 * i);

			memcpy(&out[i], &u, 4);
		} else {
			out[i] = t->float_data[i];
		}
	}
	*data = out;
	*count = n;
	return 0;
}

int nuq_onnx_tensor_int64(const struct Onnx__TensorProto *t, int64_t **data, size_t *count,
			  char *msg, size_t msglen)
{
	int is64 = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
	const uint8_t *raw;
	int64_t *out;
	size_t i, n;
	int ret;

	*data = NULL;
	if (!is64 && t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT32)
		return nuq_fail(msg, msglen, -ENOTSUP,
				"tensor %s: data type %d, expected INT64 or INT32",
				t->name ? t->name : "(unnamed)", t->data_type);
	ret = tensor_source(t, is64 ? 8 : 4, is64 ? t->n_int64_data : t->n_int32_data, &n, &raw,
			    msg, msglen);
	if (ret)
		return ret;
	out = malloc((n ? n : 1) * sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (raw)
			out[i] = is64 ? (int64_t)ld64(raw + 8 * i) : (int32_t)ld32(raw + 4 * i);
		else
			out[i] = is64 ? t->int64_data[i] : t->int32_data[i];
	}
	*data = out;
	*count = n;
	return 0;
}

const struct Onnx__TensorProto *nuq_onnx_find_tensor(const struct nuq_onnx *m, const char *name)
{
	const Onnx__GraphProto *g = m->proto->graph;
	size_t i, j;

	for (i = 0; i < g->n_initializer; i++)
		if (g->initializer[i]->name && !strcmp(g->initializer[i]->name, name))
			return g->initializer[i];
	for (i = 0; i < g->n_node; i++) {
		const Onnx__NodeProto *node = g->node[i];

		if (!node->op_type || strcmp(node->op_type, "Constant") || node->n_output != 1 ||
		    !node->output[0] || strcmp(node->output[0], name))
			continue;
		for (j = 0; j < node->n_attribute; j++) {
			const Onnx__AttributeProto *a = node->attribute[j];

			if (a->name && !strcmp(a->name, "value") && a->t)
				return a->t;
		}
	}
	return NULL;
}
