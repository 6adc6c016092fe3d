// SPDX-License-Identifier: GPL-2.0
/*
 * What an ONNX model is made of, for Documentation/models.rst and for the
 * model tests: opset, graph inputs and outputs with their shapes, every op
 * with its node count, which of those ops nuq's graph executor does not
 * have (nuq_op_find()), and every distinct attribute value per op (an op
 * nuq has may still refuse an attribute value, e.g. a Conv's auto_pad).
 * Reads the protobuf with nuq's own loader.
 *
 *   onnx_info [--nodes] MODEL.onnx
 *
 * --nodes also prints every node: index, op, inputs -> outputs
 * ("=" marks an initializer input).
 *
 * Exit status 0 when every op is known to nuq, 3 when some are missing,
 * 1 when the file does not load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/onnx.h>

#include "graph/graph_priv.h"
#include "onnx.pb-c.h"

static const char *elem_name(int t)
{
	switch (t) {
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return "float32";
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return "uint8";
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return "int8";
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return "int32";
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return "int64";
	case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return "bool";
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return "float16";
	default: return "other";
	}
}

static void print_value(const char *what, const Onnx__ValueInfoProto *v)
{
	const Onnx__TypeProto__Tensor *t = v->type ? v->type->tensor_type : NULL;
	size_t i;

	printf("%s %s %s [", what, v->name, t ? elem_name(t->elem_type) : "?");
	for (i = 0; t && t->shape && i < t->shape->n_dim; i++) {
		const Onnx__TensorShapeProto__Dimension *d = t->shape->dim[i];

		if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
			printf("%s%lld", i ? "," : "", (long long)d->dim_value);
		else
			printf("%s%s", i ? "," : "", d->dim_param ? d->dim_param : "?");
	}
	printf("]\n");
}

/* Is @name an initializer, i.e. not an input the user feeds? */
static int is_initializer(const Onnx__GraphProto *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->n_initializer; i++)
		if (!strcmp(g->initializer[i]->name, name))
			return 1;
	return 0;
}

/* "Op.name=value" of one attribute into @buf. */
static void attr_text(const char *op, const Onnx__AttributeProto *a, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s.%s=", op, a->name);
	size_t i;

	switch (a->type) {
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
		snprintf(buf + n, size - n, "%lld", (long long)a->i);
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
		snprintf(buf + n, size - n, "%g", a->f);
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
		snprintf(buf + n, size - n, "%.*s", (int)a->s.len, (const char *)a->s.data);
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
		for (i = 0; i < a->n_ints && (size_t)n < size; i++)
			n += snprintf(buf + n, size - n, "%s%lld", i ? "," : "[",
				      (long long)a->ints[i]);
		if ((size_t)n < size)
			snprintf(buf + n, size - n, a->n_ints ? "]" : "[]");
		break;
	default:
		snprintf(buf + n, size - n, "<type %d>", a->type);
	}
}

static void print_nodes(const Onnx__GraphProto *g)
{
	size_t i, k;

	for (i = 0; i < g->n_node; i++) {
		const Onnx__NodeProto *nd = g->node[i];

		printf("node %zu %s", i, nd->op_type);
		for (k = 0; k < nd->n_input; k++)
			printf(" %s%s", is_initializer(g, nd->input[k]) ? "=" : "", nd->input[k]);
		printf(" ->");
		for (k = 0; k < nd->n_output; k++)
			printf(" %s", nd->output[k]);
		printf("\n");
	}
}

/* The tensors nuq would quantize (Conv, ConvTranspose, Gemm, MatMul weights). */
static void print_weights(struct nuq_onnx *m)
{
	const struct nuq_onnx_weight *w;
	size_t n, i, total = 0;
	char msg[256];

	if (nuq_onnx_weights(m, &w, &n, msg, sizeof(msg))) {
		printf("weights: %s\n", msg);
		return;
	}
	for (i = 0; i < n; i++)
		total += w[i].rows * w[i].cols;
	printf("weights %zu in %zu tensors (%.2f MB as fp32)\n", total, n, total * 4 / 1e6);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Each distinct attribute value, with the number of nodes that have it. */
static void print_attrs(const Onnx__GraphProto *g)
{
	char **t;
	size_t i, j, k, n = 0, total = 0;

	for (i = 0; i < g->n_node; i++)
		total += g->node[i]->n_attribute;
	t = calloc(total + 1, sizeof(*t));
	for (i = 0; t && i < g->n_node; i++) {
		const Onnx__NodeProto *nd = g->node[i];

		/* A Constant's value is data, not a setting. */
		if (!strcmp(nd->op_type, "Constant"))
			continue;
		for (k = 0; k < nd->n_attribute; k++) {
			t[n] = malloc(160);
			if (!t[n])
				break;
			attr_text(nd->op_type, nd->attribute[k], t[n++], 160);
		}
	}
	if (!t)
		return;
	qsort(t, n, sizeof(*t), cmp_str);
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && !strcmp(t[j], t[i]); j++)
			;
		printf("attr %s %zu\n", t[i], j - i);
	}
	for (i = 0; i < n; i++)
		free(t[i]);
	free(t);
}

int main(int argc, char **argv)
{
	const Onnx__ModelProto *p;
	const Onnx__GraphProto *g;
	struct nuq_onnx *m;
	const char **ops;
	char msg[512];
	size_t i, j, missing = 0;
	int nodes = argc == 3 && !strcmp(argv[1], "--nodes");

	if (argc != 2 + nodes || argv[argc - 1][0] == '-') {
		fprintf(stderr, "usage: onnx_info [--nodes] MODEL.onnx\n");
		return 2;
	}
	if (nuq_onnx_load(argv[argc - 1], &m, msg, sizeof(msg))) {
		fprintf(stderr, "%s\n", msg);
		return 1;
	}
	p = nuq_onnx_proto(m);
	g = p->graph;
	printf("producer %s %s, ir_version %lld\n", p->producer_name ? p->producer_name : "?",
	       p->producer_version ? p->producer_version : "", (long long)p->ir_version);
	for (i = 0; i < p->n_opset_import; i++)
		printf("opset %s %lld\n",
		       p->opset_import[i]->domain && *p->opset_import[i]->domain ?
		       p->opset_import[i]->domain : "ai.onnx",
		       (long long)p->opset_import[i]->version);
	for (i = 0; i < g->n_input; i++)
		if (!is_initializer(g, g->input[i]->name))
			print_value("input", g->input[i]);
	for (i = 0; i < g->n_output; i++)
		print_value("output", g->output[i]);
	printf("nodes %zu, initializers %zu\n", g->n_node, g->n_initializer);
	print_weights(m);

	ops = calloc(g->n_node + 1, sizeof(*ops));
	if (!ops) {
		nuq_onnx_free(m);
		return 1;
	}
	for (i = 0; i < g->n_node; i++)
		ops[i] = g->node[i]->op_type;
	qsort(ops, g->n_node, sizeof(*ops), cmp_str);
	for (i = 0; i < g->n_node; i = j) {
		/* Constant nodes become values at import: nuq needs no op for them. */
		int known = !strcmp(ops[i], "Constant") || nuq_op_find(ops[i]);

		for (j = i; j < g->n_node && !strcmp(ops[j], ops[i]); j++)
			;
		printf("op %s %zu%s\n", ops[i], j - i, known ? "" : " MISSING");
		missing += !known;
	}
	printf("ops missing in nuq: %zu\n", missing);
	free(ops);
	print_attrs(g);
	if (nodes)
		print_nodes(g);
	nuq_onnx_free(m);
	return missing ? 3 : 0;
}
