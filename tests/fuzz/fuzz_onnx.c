// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: ONNX loading - protobuf decoding, the weight list and
 * the decoding of every weight tensor into its matrix.
 */
#include <stdint.h>
#include <stdlib.h>

#include <nuq/onnx.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nuq_onnx_weight *w;
	struct nuq_onnx *m;
	char msg[256];
	size_t n, i;

	if (nuq_onnx_load_mem(data, size, &m, msg, sizeof(msg)))
		return 0;
	if (!nuq_onnx_weights(m, &w, &n, msg, sizeof(msg))) {
		for (i = 0; i < n; i++) {
			float *mat;

			if (w[i].rows * w[i].cols > (1U << 22))
				continue;
			if (!nuq_onnx_weight_matrix(m, &w[i], &mat, msg, sizeof(msg)))
				free(mat);
		}
	}
	nuq_onnx_free(m);
	return 0;
}
