// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: whole-graph import (topological sort, attribute
 * checks, constant folding, BatchNormalization folding) and one fp32 run
 * on a small input.  Hostile graphs must give an error, never a crash,
 * an out-of-bounds access or a runaway allocation.
 */
#include <stdint.h>
#include <stdlib.h>

#include <nuq/graph.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static float xf[1 * 3 * 8 * 8];
	struct nuq_tensor x = { .dtype = NUQ_DT_FLOAT, .ndims = 4, .dims = { 1, 3, 8, 8 },
				.f = xf }, y;
	struct nuq_onnx *m;
	struct nuq_graph *g;
	char msg[256];
	size_t i;

	if (nuq_onnx_load_mem(data, size, &m, msg, sizeof(msg)))
		return 0;
	if (!nuq_graph_import(m, &g, msg, sizeof(msg))) {
		for (i = 0; i < sizeof(xf) / sizeof(xf[0]); i++)
			xf[i] = (float)((i * 7) % 13) / 6.0f - 1.0f;
		if (!nuq_graph_run(g, &x, &y, msg, sizeof(msg)))
			nuq_tensor_free(&y);
		nuq_graph_free(g);
	}
	nuq_onnx_free(m);
	return 0;
}
