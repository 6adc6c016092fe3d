/* SPDX-License-Identifier: GPL-2.0 */
/* Small ONNX models built in memory with protobuf-c, for tests and fuzz seeds. */
#ifndef NUQ_TEST_ONNX_BUILD_H
#define NUQ_TEST_ONNX_BUILD_H

#include <stddef.h>
#include <stdint.h>

/*
 * A model with a Conv whose 4x3x2x2 weight is a Constant node (float_data),
 * a Gemm with transB=1 and a 5x6 initializer in raw_data, and a MatMul with
 * a 6x7 initializer in float_data.  Weight element i has value i + 1000 * t
 * (t = 0, 1, 2 in that order).  Returns a malloc'ed serialization.
 */
uint8_t *test_onnx_model(size_t *len);

#endif
