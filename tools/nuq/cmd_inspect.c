// SPDX-License-Identifier: GPL-2.0
/*
 * nuq inspect: what a .nuq file holds.  The reader verifies every CRC and
 * field, so a file that lists at all is intact; otherwise the reason is
 * printed with the section it is in.
 */
#include <stdio.h>
#include <string.h>

#include <nuq/nuqfile.h>

#include "cli.h"

int cmd_inspect(int argc, char **argv)
{
	size_t weights = 0, bytes = 0;
	struct nuq_file f;
	char msg[512];
	uint32_t i;
	int ret;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
			"usage: nuq inspect MODEL.nuq\n");
		return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	ret = nuq_file_read(argv[1], &f, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "nuq inspect: %s\n", msg);
		return 1;
	}
	printf("%s: nuq file version %u, %u sections\n\n", argv[1], f.version, f.nlayers);
	printf("%-4s %-36s %-10s %4s %-8s %-13s %5s %10s %8s %s\n", "#", "tensor", "method", "bits",
	       "gran", "rows x cols", "rank", "bytes", "crc32", "BN");
	for (i = 0; i < f.nlayers; i++) {
		const struct nuq_qlayer *l = &f.layers[i];
		char shape[32];

		snprintf(shape, sizeof(shape), "%ux%u", l->rows, l->cols);
		/* BN: "folded" when the layer holds its BatchNormalization */
		printf("%-4u %-36.36s %-10s %4u %-8s %-13s %5u %10u %08x %s\n", i, l->name,
		       nuq_qmethod_name(l->method), l->bits, nuq_gran_name(l->gran), shape, l->rank,
		       f.sections[i].bytes, f.sections[i].crc,
		       l->flags & NUQ_QLAYER_BN_FOLDED ? "folded" :
		       l->flags & NUQ_QLAYER_BIAS ? "bias" : "-");
		weights += (size_t)l->rows * l->cols;
		bytes += f.sections[i].bytes + NUQ_SECTION_HEADER_BYTES;
	}
	bytes += NUQ_FILE_HEADER_BYTES;
	printf("\n%zu weights in %zu bytes, file header included (%.2f bits per weight, without\n"
	       "what the model keeps in its ONNX file: see nuq quantize); all CRCs verified\n",
	       weights, bytes, weights ? 8.0 * bytes / weights : 0);
	nuq_file_free(&f);
	return 0;
}
