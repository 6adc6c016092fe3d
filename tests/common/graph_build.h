/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ONNX graphs built in memory for the graph executor's tests.  Everything
 * a builder allocates is freed by gb_free(); names are copied.
 */
#ifndef NUQ_TEST_GRAPH_BUILD_H
#define NUQ_TEST_GRAPH_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include <nuq/graph.h>
#include <nuq/onnx.h>

struct gb;
struct Onnx__NodeProto;

struct gb *gb_new(int64_t opset);
void gb_free(struct gb *b);
/* The graph input and output (their shapes are not recorded: nuq infers them). */
void gb_input(struct gb *b, const char *name);
void gb_output(struct gb *b, const char *name);
/*
 * An input or output with a declared tensor type: @elem_type (ONNX
 * TensorProto.DataType) and @ndims dims, dim d static @dims[d] or, when
 * @params and @params[d] are set, symbolic; no shape at all when @ndims < 0.
 */
void gb_input_typed(struct gb *b, const char *name, int elem_type, int ndims,
		    const int64_t *dims, const char *const *params);
void gb_output_typed(struct gb *b, const char *name, int elem_type, int ndims,
		     const int64_t *dims, const char *const *params);
void gb_init_f(struct gb *b, const char *name, unsigned int ndims, const int64_t *dims,
	       const float *data);
void gb_init_i(struct gb *b, const char *name, unsigned int ndims, const int64_t *dims,
	       const int64_t *data);
/* A one-byte-per-element initializer (BOOL, UINT8, INT8) in raw_data. */
void gb_init_bytes(struct gb *b, const char *name, int elem_type, unsigned int ndims,
		   const int64_t *dims, const uint8_t *data);
/* A node; @ins and @outs are comma-separated value names ("" for an omitted input). */
struct Onnx__NodeProto *gb_node(struct gb *b, const char *op, const char *name, const char *ins,
				const char *outs);
void gb_attr_i(struct gb *b, struct Onnx__NodeProto *n, const char *name, int64_t v);
void gb_attr_f(struct gb *b, struct Onnx__NodeProto *n, const char *name, float v);
void gb_attr_s(struct gb *b, struct Onnx__NodeProto *n, const char *name, const char *v);
void gb_attr_ints(struct gb *b, struct Onnx__NodeProto *n, const char *name, unsigned int count,
		  const int64_t *v);
/*
 * HardSwish written out as PaddleOCR exports it, @in * Clip(@in + 3, 0, 6)
 * / 6 -> @out, through values "p", "cl" (the Clip's output) and "d", with
 * the constants "three", "zero" and "six".
 */
void gb_hardswish(struct gb *b, const char *in, const char *out);
/* Serialise; the buffer belongs to the builder. */
const uint8_t *gb_pack(struct gb *b, size_t *len);

/* A one-input, first-output run of a built graph, for op tests. */
struct gb_run {
	struct nuq_onnx *m;
	struct nuq_graph *g;
	struct nuq_tensor y;
	char msg[256];
};

/* Import @b and run it on @x; the import or run error, its message in r->msg. */
int gb_run(struct gb *b, const struct nuq_tensor *x, struct gb_run *r);
void gb_run_free(struct gb_run *r);

/* The largest |value| of a float tensor (the range errors are measured against). */
double gb_max_abs(const struct nuq_tensor *t);

#endif
