// SPDX-License-Identifier: GPL-2.0
/* Small ONNX models built in memory with protobuf-c. */
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "onnx_build.h"

static void fill_tensor(Onnx__TensorProto *t, const char *name, int64_t *dims, size_t nd,
			float *vals, size_t n, int raw, float base)
{
	size_t i;

	onnx__tensor_proto__init(t);
	t->name = (char *)name;
	t->n_dims = nd;
	t->dims = dims;
	t->has_data_type = 1;
	t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	for (i = 0; i < n; i++)
		vals[i] = base + (float)i;
	if (raw) {
		t->has_raw_data = 1;
		t->raw_data.len = 4 * n;
		t->raw_data.data = (uint8_t *)vals;	/* the test host is little-endian */
	} else {
		t->n_float_data = n;
		t->float_data = vals;
	}
}

uint8_t *test_onnx_model(size_t *len)
{
	static int64_t cdims[] = { 4, 3, 2, 2 }, gdims[] = { 5, 6 }, mdims[] = { 6, 7 };
	static float cv[48], gv[30], mv[42];
	static char *conv_in[] = { "x", "cw" }, *conv_out[] = { "y" }, *const_out[] = { "cw" };
	static char *gemm_in[] = { "v", "gw" }, *gemm_out[] = { "z" };
	static char *mm_in[] = { "u", "mw" }, *mm_out[] = { "o" };
	Onnx__TensorProto ct, gt, mt, *inits[2] = { &gt, &mt };
	Onnx__AttributeProto cval, transb, *cattrs[1] = { &cval }, *gattrs[1] = { &transb };
	Onnx__NodeProto cnode, conv, gemm, mm, *nodes[4] = { &cnode, &conv, &gemm, &mm };
	Onnx__GraphProto g;
	Onnx__ModelProto m;
	uint8_t *buf;

	fill_tensor(&ct, "cw", cdims, 4, cv, 48, 0, 0);
	fill_tensor(&gt, "gw", gdims, 2, gv, 30, 1, 1000);
	fill_tensor(&mt, "mw", mdims, 2, mv, 42, 0, 2000);

	onnx__attribute_proto__init(&cval);
	cval.name = "value";
	cval.t = &ct;
	cval.has_type = 1;
	cval.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
	onnx__attribute_proto__init(&transb);
	transb.name = "transB";
	transb.has_i = 1;
	transb.i = 1;
	transb.has_type = 1;
	transb.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;

	onnx__node_proto__init(&cnode);
	cnode.op_type = "Constant";
	cnode.name = "const0";
	cnode.n_output = 1;
	cnode.output = const_out;
	cnode.n_attribute = 1;
	cnode.attribute = cattrs;
	onnx__node_proto__init(&conv);
	conv.op_type = "Conv";
	conv.name = "conv0";
	conv.n_input = 2;
	conv.input = conv_in;
	conv.n_output = 1;
	conv.output = conv_out;
	onnx__node_proto__init(&gemm);
	gemm.op_type = "Gemm";
	gemm.name = "gemm0";
	gemm.n_input = 2;
	gemm.input = gemm_in;
	gemm.n_output = 1;
	gemm.output = gemm_out;
	gemm.n_attribute = 1;
	gemm.attribute = gattrs;
	onnx__node_proto__init(&mm);
	mm.op_type = "MatMul";
	mm.name = "mm0";
	mm.n_input = 2;
	mm.input = mm_in;
	mm.n_output = 1;
	mm.output = mm_out;

	onnx__graph_proto__init(&g);
	g.name = "test";
	g.n_node = 4;
	g.node = nodes;
	g.n_initializer = 2;
	g.initializer = inits;
	onnx__model_proto__init(&m);
	m.has_ir_version = 1;
	m.ir_version = 8;
	m.graph = &g;

	*len = onnx__model_proto__get_packed_size(&m);
	buf = malloc(*len);
	if (buf)
		onnx__model_proto__pack(&m, buf);
	return buf;
}
