// SPDX-License-Identifier: GPL-2.0
/*
 * nuq calibrate: calibrate the OCR models' activations once and save the
 * result next to their .nuq weights (DIR/<model>.calib), so nuq ocr can
 * start at once - in a slow VM, say.  With MODEL.onnx, any model
 * (calibrate_model.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <nuq/nuq.h>

#include "quantized.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nuq calibrate --nuq DIR [options]   (the PaddleOCR models)\n"
		"       nuq calibrate MODEL.onnx --nuq MODEL.nuq --images DIR   (any model;\n"
		"       nuq calibrate MODEL.onnx --help for its options)\n"
		"  Calibrate the activations of the models whose weights are DIR/<model>.nuq\n"
		"  (nuq quantize) and write DIR/<model>.calib.\n"
		"      --models DIR      the PaddleOCR ONNX models (default $NUQ_MODELS_DIR)\n"
		"      --calib C         minmax, percentile, mse, kl or layer (default percentile)\n"
		"      --lines N         rendered lines for the classifier and recogniser (default 48)\n"
		"      --pages N         rendered pages for the detector (default 2)\n"
		"      --no-bias-correction  keep the biases as quantization left them\n");
}

/* nuq calibrate MODEL.onnx ...: any model (calibrate_model.c). */
static int names_a_model(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (argv[i][0] != '-' && n > 5 && !strcmp(argv[i] + n - 5, ".onnx"))
			return 1;
	}
	return 0;
}

int cmd_calibrate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "nuq", required_argument, NULL, 'N' },
		{ "models", required_argument, NULL, 'M' },
		{ "calib", required_argument, NULL, 'c' },
		{ "lines", required_argument, NULL, 'l' },
		{ "pages", required_argument, NULL, 'p' },
		{ "no-bias-correction", no_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct quant_setup s = {
		.qe = { .flags = NUQ_QEXEC_CPU, .calib = NUQ_CALIB_PERCENTILE },
		.calib_lines = 48, .calib_pages = 2, .jobs = 1, .progress = 1,
		.recalibrate = 1, .save_calibration = 1,
	};
	const char *models = NULL;
	struct ocr_models m;
	struct quantized qz;
	unsigned long v;
	char msg[512], path[1024];
	int c, i, ret;

	if (names_a_model(argc, argv))
		return calibrate_any_model(argc, argv);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'N':
			s.nuq_dir = optarg;
			break;
		case 'M':
			models = optarg;
			break;
		case 'c':
			if (opt_calib("calibrate", optarg, &s.qe.calib))
				return 2;
			break;
		case 'l':
		case 'p':
			if (opt_count("calibrate", c == 'l' ? "lines" : "pages", optarg, 10000, &v))
				return 2;
			*(c == 'l' ? &s.calib_lines : &s.calib_pages) = v;
			break;
		case 'X':
			s.qe.flags |= NUQ_QEXEC_NO_BIAS_CORRECTION;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !s.nuq_dir) {
		usage(stderr);
		return 2;
	}
	ret = ocr_models_load(models, &m, msg, sizeof(msg));
	if (!ret) {
		ret = quantized_setup(&m, &s, &qz, msg, sizeof(msg));
		if (!ret)
			quantized_free(&m, &qz);
		ocr_models_free(&m);
	}
	if (ret) {
		fprintf(stderr, "nuq calibrate: %s\n", msg);
		return 1;
	}
	for (i = 0; i < M_COUNT; i++) {
		quantized_path(s.nuq_dir, i, ".calib", path, sizeof(path));
		printf("wrote %s (%s)\n", path, nuq_calib_name(s.qe.calib));
	}
	return 0;
}
