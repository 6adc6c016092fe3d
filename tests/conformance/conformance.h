/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ONNX backend conformance runner (tests/conformance/): each case of
 * Debian's libonnx-testdata is a model.onnx with test_data_set_N directories of
 * input_N.pb and output_N.pb TensorProtos.  A case is imported and run
 * by nuq's fp32 graph executor, and its outputs are compared with the
 * expected ones.
 */
#ifndef NUQ_CONFORMANCE_H
#define NUQ_CONFORMANCE_H

#include <stddef.h>
#include <stdint.h>

#include <nuq/graph.h>

/* ONNX's backend test tolerances (onnx/backend/test/runner). */
#define CONF_RTOL	1e-3
#define CONF_ATOL	1e-7

/* A TensorProto read from a .pb file, every element widened to double. */
struct pb_tensor {
	char *name;		/* NULL when the file names none */
	int elem_type;		/* ONNX TensorProto.DataType */
	unsigned int ndims;
	int64_t dims[NUQ_ONNX_MAX_DIMS];
	size_t count;
	double *v;
	int64_t *iv;		/* INT64 and INT32 elements, exact (v rounds above 2^53) */
};

/* 0, or -errno with @msg ("bool is not readable" for strings and the like). */
int pb_tensor_read(const char *path, struct pb_tensor *t, char *msg, size_t msglen);
void pb_tensor_free(struct pb_tensor *t);
/* A float32 or int64 nuq tensor holding @t; -EOPNOTSUPP for other element types. */
int pb_tensor_to_nuq(const struct pb_tensor *t, struct nuq_tensor *out);

enum case_result { CASE_PASS, CASE_REFUSED, CASE_WRONG, CASE_CRASH, CASE_SKIP };

/*
 * Run the case in @dir in this process.  @why gets the reason: for a
 * refusal nuq's message, for a wrong answer where it differs.
 */
enum case_result case_run(const char *dir, char *why, size_t whylen);

#endif
