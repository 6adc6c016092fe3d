// SPDX-License-Identifier: GPL-2.0
/*
 * A small CNN with two image inputs for the CLI tests (tests/cli/
 * nuq_inputs.sh), written as an ONNX file: "left" and "right", NCHW
 * 1x3x32x32 each, a 3x3 Conv per branch (the right one's input at ten
 * times the left's scale in the tests), their sum through a Relu, a 3x3
 * Conv to 8 channels, a Relu, a 1x1 Conv to 4 channels -> "out".
 *
 *   two_inputs_model OUT.onnx
 */
#include <stdio.h>

#include "gauss.h"
#include "graph_build.h"

int main(int argc, char **argv)
{
	static const int64_t pads[4] = { 1, 1, 1, 1 };
	float wl[8 * 3 * 9], wr[8 * 3 * 9], w2[8 * 8 * 9], w3[4 * 8];
	const int64_t in_dims[4] = { 1, 3, 32, 32 };
	struct gb *b = gb_new(13);
	const uint8_t *buf;
	size_t len;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: two_inputs_model OUT.onnx\n");
		return 2;
	}
	test_gaussian(wl, 8 * 3 * 9, 1, 0.2);
	test_gaussian(wr, 8 * 3 * 9, 2, 0.02);
	test_gaussian(w2, 8 * 8 * 9, 3, 0.1);
	test_gaussian(w3, 4 * 8, 4, 0.3);
	gb_input_typed(b, "left", 1, 4, in_dims, NULL);
	gb_input_typed(b, "right", 1, 4, in_dims, NULL);
	gb_output(b, "out");
	gb_init_f(b, "wl", 4, (int64_t[]){ 8, 3, 3, 3 }, wl);
	gb_init_f(b, "wr", 4, (int64_t[]){ 8, 3, 3, 3 }, wr);
	gb_init_f(b, "w2", 4, (int64_t[]){ 8, 8, 3, 3 }, w2);
	gb_init_f(b, "w3", 4, (int64_t[]){ 4, 8, 1, 1 }, w3);
	gb_attr_ints(b, gb_node(b, "Conv", "conv_l", "left,wl", "l"), "pads", 4, pads);
	gb_attr_ints(b, gb_node(b, "Conv", "conv_r", "right,wr", "r"), "pads", 4, pads);
	gb_node(b, "Add", "sum", "l,r", "s");
	gb_node(b, "Relu", "relu1", "s", "h");
	gb_attr_ints(b, gb_node(b, "Conv", "conv2", "h,w2", "h2"), "pads", 4, pads);
	gb_node(b, "Relu", "relu2", "h2", "h3");
	gb_node(b, "Conv", "conv3", "h3,w3", "out");
	buf = gb_pack(b, &len);
	f = fopen(argv[1], "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(argv[1]);
		return 1;
	}
	gb_free(b);
	return 0;
}
