// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the graph's declared inputs and outputs (names, element types,
 * static and symbolic dims), and the check of a run's inputs against
 * them, so that a wrong name, type or shape is refused before any node
 * runs instead of failing somewhere inside the graph.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "graph_priv.h"
#include "msg.h"

const char *nuq_graph_dtype_name(int elem_type)
{
	static const char *const names[] = {
		[ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT] = "float32",
		[ONNX__TENSOR_PROTO__DATA_TYPE__UINT8] = "uint8",
		[ONNX__TENSOR_PROTO__DATA_TYPE__INT8] = "int8",
		[ONNX__TENSOR_PROTO__DATA_TYPE__UINT16] = "uint16",
		[ONNX__TENSOR_PROTO__DATA_TYPE__INT16] = "int16",
		[ONNX__TENSOR_PROTO__DATA_TYPE__INT32] = "int32",
		[ONNX__TENSOR_PROTO__DATA_TYPE__INT64] = "int64",
		[ONNX__TENSOR_PROTO__DATA_TYPE__STRING] = "string",
		[ONNX__TENSOR_PROTO__DATA_TYPE__BOOL] = "bool",
		[ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16] = "float16",
		[ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE] = "float64",
		[ONNX__TENSOR_PROTO__DATA_TYPE__UINT32] = "uint32",
		[ONNX__TENSOR_PROTO__DATA_TYPE__UINT64] = "uint64",
		[ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX64] = "complex64",
		[ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX128] = "complex128",
		[ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16] = "bfloat16",
	};
	static __thread char buf[24];

	if (elem_type > 0 && (size_t)elem_type < sizeof(names) / sizeof(names[0]) &&
	    names[elem_type])
		return names[elem_type];
	snprintf(buf, sizeof(buf), "type %d", elem_type);
	return buf;
}

static const char *kind_of(const Onnx__TypeProto *tp)
{
	switch (tp->value_case) {
	case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE:
		return "a sequence";
	case ONNX__TYPE_PROTO__VALUE_MAP_TYPE:
		return "a map";
	case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE:
		return "an optional";
	case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE:
		return "a sparse tensor";
	default:
		return "not a tensor";
	}
}

int nuq_graph_describe(struct nuq_graph_io *io, const Onnx__ValueInfoProto *vi,
		       const char *name, const char *what, char *msg, size_t msglen)
{
	const Onnx__TypeProto *tp = vi ? vi->type : NULL;
	const Onnx__TensorShapeProto *sp;
	size_t d;

	memset(io, 0, sizeof(*io));
	io->name = name;
	/* Old exporters leave the type out: then nothing is declared. */
	if (!tp || tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET)
		return 0;
	if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
		return nuq_fail(msg, msglen, -EOPNOTSUPP,
				"graph %s '%s' is %s; nuq's executor takes tensors only", what,
				name, kind_of(tp));
	io->elem_type = tp->tensor_type->has_elem_type ? tp->tensor_type->elem_type : 0;
	sp = tp->tensor_type->shape;
	if (!sp)
		return 0;
	if (sp->n_dim > NUQ_ONNX_MAX_DIMS)
		return nuq_fail(msg, msglen, -E2BIG, "graph %s '%s' has %zu dims (at most %d)",
				what, name, sp->n_dim, NUQ_ONNX_MAX_DIMS);
	io->has_shape = 1;
	io->ndims = (unsigned int)sp->n_dim;
	for (d = 0; d < sp->n_dim; d++) {
		const Onnx__TensorShapeProto__Dimension *dim = sp->dim[d];

		io->dims[d] = -1;
		if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
		    dim->dim_value > 0)
			io->dims[d] = dim->dim_value;
		else if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
			 dim->dim_param && *dim->dim_param)
			io->dim_params[d] = dim->dim_param;
	}
	return 0;
}

static void shape_str(char *buf, size_t size, unsigned int ndims, const int64_t *dims,
		      const char *const *params)
{
	size_t len = 0;
	unsigned int d;

	len += (size_t)snprintf(buf + len, size - len, "[");
	for (d = 0; d < ndims && len < size; d++) {
		const char *sep = d ? "," : "";

		if (params && params[d])
			len += (size_t)snprintf(buf + len, size - len, "%s%s", sep, params[d]);
		else if (dims[d] < 0)
			len += (size_t)snprintf(buf + len, size - len, "%s?", sep);
		else
			len += (size_t)snprintf(buf + len, size - len, "%s%lld", sep,
						(long long)dims[d]);
	}
	if (len < size)
		snprintf(buf + len, size - len, "]");
}

int nuq_graph_check_input(const struct nuq_graph *g, size_t i, const struct nuq_tensor *t,
			  char *msg, size_t msglen)
{
	const struct nuq_graph_io *io = &g->in_info[i];
	char want[160], got[160];
	int et = io->elem_type;
	unsigned int d;

	if (t->ndims > NUQ_ONNX_MAX_DIMS ||
	    (t->dtype != NUQ_DT_FLOAT && t->dtype != NUQ_DT_INT64 && !nuq_dtype_narrow(t->dtype)) ||
	    (nuq_tensor_count(t) && !(t->dtype == NUQ_DT_FLOAT ? (void *)t->f : (void *)t->i)))
		return nuq_fail(msg, msglen, -EINVAL,
				"input '%s': not a float or integer tensor with values", io->name);
	if (et && et != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT &&
	    et != ONNX__TENSOR_PROTO__DATA_TYPE__INT64 &&
	    et != ONNX__TENSOR_PROTO__DATA_TYPE__INT32 && !nuq_dtype_narrow((enum nuq_dtype)et))
		return nuq_fail(msg, msglen, -EOPNOTSUPP,
				"input '%s' is %s; nuq's executor takes float32, int64, int32, bool, uint8 and int8 inputs",
				io->name, nuq_graph_dtype_name(et));
	/* INT32 inputs are given as int64; the narrow kinds as themselves. */
	if (et && (et == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ? t->dtype != NUQ_DT_FLOAT :
		   nuq_dtype_narrow((enum nuq_dtype)et) ? (int)t->dtype != et :
		   t->dtype != NUQ_DT_INT64))
		return nuq_fail(msg, msglen, -EINVAL, "input '%s' is %s, the tensor given is %s",
				io->name, nuq_graph_dtype_name(et),
				nuq_graph_dtype_name((int)t->dtype));
	if (!io->has_shape)
		return 0;
	for (d = 0; d < t->ndims && d < io->ndims; d++)
		if (io->dims[d] > 0 && io->dims[d] != t->dims[d])
			break;
	if (t->ndims == io->ndims && d == t->ndims)
		return 0;
	shape_str(want, sizeof(want), io->ndims, io->dims, io->dim_params);
	shape_str(got, sizeof(got), t->ndims, t->dims, NULL);
	return nuq_fail(msg, msglen, -EINVAL, "input '%s' must have shape %s, the tensor given is %s",
			io->name, want, got);
}

size_t nuq_graph_ninputs(const struct nuq_graph *g)
{
	return g->ninputs;
}

size_t nuq_graph_noutputs(const struct nuq_graph *g)
{
	return g->noutputs;
}

const struct nuq_graph_io *nuq_graph_input_info(const struct nuq_graph *g, size_t i)
{
	return i < g->ninputs ? &g->in_info[i] : NULL;
}

const struct nuq_graph_io *nuq_graph_output_info(const struct nuq_graph *g, size_t i)
{
	return i < g->noutputs ? &g->out_info[i] : NULL;
}

int nuq_graph_find_input(const struct nuq_graph *g, const char *name)
{
	size_t i;

	for (i = 0; name && i < g->ninputs; i++)
		if (!strcmp(g->in_info[i].name, name))
			return (int)i;
	return -1;
}
