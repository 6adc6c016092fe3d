/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef NUQ_ONNX_PRIV_H
#define NUQ_ONNX_PRIV_H

#include <nuq/onnx.h>

#include "onnx.pb-c.h"

struct nuq_onnx {
	Onnx__ModelProto *proto;
	struct nuq_onnx_weight *weights;	/* filled by nuq_onnx_weights() */
	size_t nweights;
	int weights_done;
};

/* Elements the dims of @t describe; -ERANGE/-EINVAL with a message. */
int nuq_onnx_tensor_count(const Onnx__TensorProto *t, size_t *count, char *msg, size_t msglen);

#endif
