// SPDX-License-Identifier: GPL-2.0
/* ONNX graphs built in memory with protobuf-c, for tests. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_build.h"
#include "onnx.pb-c.h"

#define GB_MAX	256

struct gb {
	Onnx__ModelProto m;
	Onnx__GraphProto g;
	Onnx__OperatorSetIdProto opset, *opsets[1];
	Onnx__NodeProto *nodes[GB_MAX];
	Onnx__TensorProto *inits[GB_MAX];
	Onnx__ValueInfoProto *ins[GB_MAX], *outs[GB_MAX];
	void *allocs[GB_MAX * 8];
	size_t nallocs;
	uint8_t *packed;
};

static void *gb_alloc(struct gb *b, size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p || b->nallocs == GB_MAX * 8)
		abort();
	b->allocs[b->nallocs++] = p;
	return p;
}

static char *gb_strdup(struct gb *b, const char *s)
{
	char *p = gb_alloc(b, strlen(s) + 1);

	strcpy(p, s);
	return p;
}

struct gb *gb_new(int64_t opset)
{
	struct gb *b = calloc(1, sizeof(*b));

	if (!b)
		abort();
	onnx__model_proto__init(&b->m);
	onnx__graph_proto__init(&b->g);
	onnx__operator_set_id_proto__init(&b->opset);
	b->opset.has_version = 1;
	b->opset.version = opset;
	b->opsets[0] = &b->opset;
	b->m.n_opset_import = 1;
	b->m.opset_import = b->opsets;
	b->m.graph = &b->g;
	b->g.node = b->nodes;
	b->g.initializer = b->inits;
	b->g.input = b->ins;
	b->g.output = b->outs;
	return b;
}

void gb_free(struct gb *b)
{
	size_t i;

	for (i = 0; i < b->nallocs; i++)
		free(b->allocs[i]);
	free(b->packed);
	free(b);
}

static Onnx__ValueInfoProto *value_info(struct gb *b, const char *name)
{
	Onnx__ValueInfoProto *v = gb_alloc(b, sizeof(*v));

	onnx__value_info_proto__init(v);
	v->name = gb_strdup(b, name);
	return v;
}

void gb_input(struct gb *b, const char *name)
{
	b->ins[b->g.n_input++] = value_info(b, name);
}

void gb_output(struct gb *b, const char *name)
{
	b->outs[b->g.n_output++] = value_info(b, name);
}

static Onnx__ValueInfoProto *typed_info(struct gb *b, const char *name, int elem_type,
					int ndims, const int64_t *dims, const char *const *params)
{
	Onnx__ValueInfoProto *v = value_info(b, name);
	Onnx__TypeProto *tp = gb_alloc(b, sizeof(*tp));
	Onnx__TypeProto__Tensor *tt = gb_alloc(b, sizeof(*tt));
	Onnx__TensorShapeProto *sp;
	int d;

	onnx__type_proto__init(tp);
	onnx__type_proto__tensor__init(tt);
	tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	tp->tensor_type = tt;
	tt->has_elem_type = 1;
	tt->elem_type = elem_type;
	v->type = tp;
	if (ndims < 0)
		return v;
	sp = gb_alloc(b, sizeof(*sp));
	onnx__tensor_shape_proto__init(sp);
	sp->n_dim = (size_t)ndims;
	sp->dim = gb_alloc(b, (size_t)ndims * sizeof(*sp->dim));
	for (d = 0; d < ndims; d++) {
		Onnx__TensorShapeProto__Dimension *dim = gb_alloc(b, sizeof(*dim));

		onnx__tensor_shape_proto__dimension__init(dim);
		if (params && params[d]) {
			dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
			dim->dim_param = gb_strdup(b, params[d]);
		} else {
			dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
			dim->dim_value = dims[d];
		}
		sp->dim[d] = dim;
	}
	tt->shape = sp;
	return v;
}

void gb_input_typed(struct gb *b, const char *name, int elem_type, int ndims,
		    const int64_t *dims, const char *const *params)
{
	b->ins[b->g.n_input++] = typed_info(b, name, elem_type, ndims, dims, params);
}

void gb_output_typed(struct gb *b, const char *name, int elem_type, int ndims,
		     const int64_t *dims, const char *const *params)
{
	b->outs[b->g.n_output++] = typed_info(b, name, elem_type, ndims, dims, params);
}

static Onnx__TensorProto *tensor(struct gb *b, const char *name, unsigned int ndims,
				 const int64_t *dims, size_t *count)
{
	Onnx__TensorProto *t = gb_alloc(b, sizeof(*t));
	unsigned int i;

	onnx__tensor_proto__init(t);
	t->name = gb_strdup(b, name);
	t->n_dims = ndims;
	t->dims = gb_alloc(b, ndims * sizeof(int64_t));
	*count = 1;
	for (i = 0; i < ndims; i++) {
		t->dims[i] = dims[i];
		*count *= (size_t)dims[i];
	}
	t->has_data_type = 1;
	return t;
}

void gb_init_f(struct gb *b, const char *name, unsigned int ndims, const int64_t *dims,
	       const float *data)
{
	size_t n;
	Onnx__TensorProto *t = tensor(b, name, ndims, dims, &n);

	t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	t->n_float_data = n;
	t->float_data = gb_alloc(b, n * sizeof(float));
	if (n)
		memcpy(t->float_data, data, n * sizeof(float));
	b->inits[b->g.n_initializer++] = t;
}

void gb_init_i(struct gb *b, const char *name, unsigned int ndims, const int64_t *dims,
	       const int64_t *data)
{
	size_t n;
	Onnx__TensorProto *t = tensor(b, name, ndims, dims, &n);

	t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
	t->n_int64_data = n;
	t->int64_data = gb_alloc(b, n * sizeof(int64_t));
	memcpy(t->int64_data, data, n * sizeof(int64_t));
	b->inits[b->g.n_initializer++] = t;
}

void gb_init_bytes(struct gb *b, const char *name, int elem_type, unsigned int ndims,
		   const int64_t *dims, const uint8_t *data)
{
	size_t n;
	Onnx__TensorProto *t = tensor(b, name, ndims, dims, &n);

	t->data_type = elem_type;
	t->has_raw_data = 1;
	t->raw_data.len = n;
	t->raw_data.data = gb_alloc(b, n ? n : 1);
	memcpy(t->raw_data.data, data, n);
	b->inits[b->g.n_initializer++] = t;
}

/* Split "a,b,,c" into names ("" kept). */
static char **split(struct gb *b, const char *s, size_t *n)
{
	char **v = gb_alloc(b, 16 * sizeof(char *));
	const char *p = s;

	*n = 0;
	if (!*s)
		return v;
	for (;;) {
		size_t len = strcspn(p, ",");
		char *name = gb_alloc(b, len + 1);

		memcpy(name, p, len);
		v[(*n)++] = name;
		if (!p[len])
			break;
		p += len + 1;
	}
	return v;
}

Onnx__NodeProto *gb_node(struct gb *b, const char *op, const char *name, const char *ins,
			 const char *outs)
{
	Onnx__NodeProto *n = gb_alloc(b, sizeof(*n));

	onnx__node_proto__init(n);
	n->op_type = gb_strdup(b, op);
	n->name = gb_strdup(b, name);
	n->input = split(b, ins, &n->n_input);
	n->output = split(b, outs, &n->n_output);
	n->attribute = gb_alloc(b, 16 * sizeof(Onnx__AttributeProto *));
	b->nodes[b->g.n_node++] = n;
	return n;
}

static Onnx__AttributeProto *attr(struct gb *b, Onnx__NodeProto *n, const char *name,
				  Onnx__AttributeProto__AttributeType type)
{
	Onnx__AttributeProto *a = gb_alloc(b, sizeof(*a));

	onnx__attribute_proto__init(a);
	a->name = gb_strdup(b, name);
	a->has_type = 1;
	a->type = type;
	n->attribute[n->n_attribute++] = a;
	return a;
}

void gb_attr_i(struct gb *b, Onnx__NodeProto *n, const char *name, int64_t v)
{
	Onnx__AttributeProto *a = attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);

	a->has_i = 1;
	a->i = v;
}

void gb_attr_f(struct gb *b, Onnx__NodeProto *n, const char *name, float v)
{
	Onnx__AttributeProto *a = attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);

	a->has_f = 1;
	a->f = v;
}

void gb_attr_s(struct gb *b, Onnx__NodeProto *n, const char *name, const char *v)
{
	Onnx__AttributeProto *a = attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);

	a->has_s = 1;
	a->s.data = (uint8_t *)gb_strdup(b, v);
	a->s.len = strlen(v);
}

void gb_attr_ints(struct gb *b, Onnx__NodeProto *n, const char *name, unsigned int count,
		  const int64_t *v)
{
	Onnx__AttributeProto *a = attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);

	a->n_ints = count;
	a->ints = gb_alloc(b, count * sizeof(int64_t));
	memcpy(a->ints, v, count * sizeof(int64_t));
}

const uint8_t *gb_pack(struct gb *b, size_t *len)
{
	*len = onnx__model_proto__get_packed_size(&b->m);
	free(b->packed);
	b->packed = malloc(*len ? *len : 1);
	if (!b->packed)
		abort();
	onnx__model_proto__pack(&b->m, b->packed);
	return b->packed;
}

int gb_run(struct gb *b, const struct nuq_tensor *x, struct gb_run *r)
{
	size_t len;
	const uint8_t *buf = gb_pack(b, &len);
	int ret;

	memset(r, 0, sizeof(*r));
	ret = nuq_onnx_load_mem(buf, len, &r->m, r->msg, sizeof(r->msg));
	if (!ret)
		ret = nuq_graph_import(r->m, &r->g, r->msg, sizeof(r->msg));
	if (!ret)
		ret = nuq_graph_run(r->g, x, &r->y, r->msg, sizeof(r->msg));
	return ret;
}

void gb_run_free(struct gb_run *r)
{
	nuq_tensor_free(&r->y);
	nuq_graph_free(r->g);
	nuq_onnx_free(r->m);
}

double gb_max_abs(const struct nuq_tensor *t)
{
	double m = 0;
	size_t i;

	for (i = 0; i < nuq_tensor_count(t); i++)
		m = fmax(m, fabs(t->f[i]));
	return m;
}

void gb_hardswish(struct gb *b, const char *in, const char *out)
{
	static const float three = 3, zero = 0, six = 6;
	char ins[128];

	gb_init_f(b, "three", 0, NULL, &three);
	gb_init_f(b, "zero", 0, NULL, &zero);
	gb_init_f(b, "six", 0, NULL, &six);
	snprintf(ins, sizeof(ins), "%s,three", in);
	gb_node(b, "Add", "add3", ins, "p");
	gb_node(b, "Clip", "clip", "p,zero,six", "cl");
	gb_node(b, "Div", "div6", "cl,six", "d");
	snprintf(ins, sizeof(ins), "%s,d", in);
	gb_node(b, "Mul", "mul", ins, out);
}
