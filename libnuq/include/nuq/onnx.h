/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: reading ONNX models.
 *
 * nuq_onnx_load() parses a model with protobuf-c (the C code is generated
 * at build time from the onnx.proto of Debian's libonnx-dev).  Tensors
 * live either in the graph's initializers or in Constant nodes (the
 * PaddleOCR exports keep all their weights in Constant nodes); both are
 * found by name.  nuq_onnx_weights() lists the weight tensors that nuq
 * quantizes: the second input of every Conv, ConvTranspose, Gemm and
 * MatMul whose value is a constant.
 *
 * Functions that take @msg/@msglen write a one-line reason there on
 * failure (pass NULL/0 to skip it).
 */
#ifndef NUQ_ONNX_H
#define NUQ_ONNX_H

#include <stddef.h>
#include <stdint.h>

struct Onnx__ModelProto;
struct Onnx__TensorProto;
struct nuq_onnx;

#define NUQ_ONNX_MAX_DIMS	8

/* How a weight tensor's elements map to the rows x cols matrix nuq quantizes. */
enum nuq_layout {
	NUQ_LAYOUT_OIHW,	/* Conv [O, I/g, kh, kw]: rows O, cols (kh, kw, i) - OHWI */
	NUQ_LAYOUT_IOHW,	/* ConvTranspose [I, O/g, kh, kw]: rows I, cols as stored */
	NUQ_LAYOUT_KN,		/* MatMul / Gemm transB=0 [K, N]: rows N, cols K */
	NUQ_LAYOUT_NK,		/* Gemm transB=1 [N, K]: rows N, cols K */
	/*
	 * ConvTranspose [I, O/g, kh, kw] by output channel: rows O/g, cols
	 * (kh, kw, i) as for Conv, so that a row's scale is an output
	 * channel's and the layer can run as a job (file version 4).
	 */
	NUQ_LAYOUT_IOHW_O,
	NUQ_LAYOUT_COUNT,
};

struct nuq_onnx_weight {
	const char *name;	/* the tensor's name */
	const char *node;	/* the node that consumes it */
	const char *op;		/* that node's op_type */
	enum nuq_layout layout;
	unsigned int ndims;
	int64_t dims[NUQ_ONNX_MAX_DIMS];
	size_t rows;		/* output channels (see enum nuq_layout) */
	size_t cols;		/* weights per row */
};

int nuq_onnx_load(const char *path, struct nuq_onnx **model, char *msg, size_t msglen);
int nuq_onnx_load_mem(const void *buf, size_t len, struct nuq_onnx **model,
		      char *msg, size_t msglen);
void nuq_onnx_free(struct nuq_onnx *model);

/* The parsed protobuf, for graph import. */
const struct Onnx__ModelProto *nuq_onnx_proto(const struct nuq_onnx *model);

/* The initializer or Constant node output called @name, or NULL. */
const struct Onnx__TensorProto *nuq_onnx_find_tensor(const struct nuq_onnx *model,
						     const char *name);

/*
 * Decode a FLOAT tensor (float_data or little-endian raw_data) into a new
 * array of *@count values; checks that the data matches the dims.
 */
int nuq_onnx_tensor_float(const struct Onnx__TensorProto *t, float **data, size_t *count,
			  char *msg, size_t msglen);
/* Likewise for INT64 and INT32 tensors (shapes, axes), widened to int64. */
int nuq_onnx_tensor_int64(const struct Onnx__TensorProto *t, int64_t **data, size_t *count,
			  char *msg, size_t msglen);

/* The weight tensors, in graph order; the array belongs to @model. */
int nuq_onnx_weights(struct nuq_onnx *model, const struct nuq_onnx_weight **w, size_t *n,
		     char *msg, size_t msglen);

/* Weight @w as a rows x cols matrix (new array), and the inverse. */
int nuq_onnx_weight_matrix(const struct nuq_onnx *model, const struct nuq_onnx_weight *w,
			   float **matrix, char *msg, size_t msglen);
void nuq_layout_to_onnx(enum nuq_layout layout, const int64_t *dims, unsigned int ndims,
			const float *matrix, float *onnx);
void nuq_layout_from_onnx(enum nuq_layout layout, const int64_t *dims, unsigned int ndims,
			  const float *onnx, float *matrix);

#endif
