// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: quantize models and inspect the result.
 *
 *   nuq quantize MODEL.onnx -o MODEL.nuq [--method M] [--bits B] ...
 *   nuq inspect MODEL.nuq
 *   nuq calibrate --nuq DIR
 *   nuq run MODEL.onnx --input FILE... [--nuq MODEL.nuq] [--cpu]
 *   nuq ocr PAGE.png [--nuq DIR] [--cpu]
 *   nuq eval [--out DIR]
 *
 * Run "nuq COMMAND --help" for the options of a command.
 */
#include <stdio.h>
#include <string.h>

#include <nuq/nuq.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "quantize", cmd_quantize, "quantize the weights of an ONNX model into a .nuq file" },
	{ "inspect", cmd_inspect, "list the sections of a .nuq file and verify their CRCs" },
	{ "calibrate", cmd_calibrate, "calibrate activations once, next to the .nuq weights" },
	{ "run", cmd_run, "run any ONNX model in fp32 and quantized, and compare every output" },
	{ "ocr", cmd_ocr, "OCR a page with the fp32 and the quantized models, side by side" },
	{ "eval", cmd_eval, "accuracy of every quantization method on real text, as a table" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: nuq COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nnuq COMMAND --help shows the options of a command; nuq --version the versions.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("nuq %s (libnuq %s; .nuq format versions 1-%d; nuq.ko UAPI %d.%d)\n",
		       NUQ_VERSION_STRING, nuq_version(), NUQ_FILE_VERSION, NUQ_UAPI_VERSION_MAJOR,
		       NUQ_UAPI_VERSION_MINOR);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "nuq: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
