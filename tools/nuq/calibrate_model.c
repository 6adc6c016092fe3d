// SPDX-License-Identifier: GPL-2.0
/*
 * nuq calibrate MODEL.onnx --nuq MODEL.nuq --images DIR: any model's
 * activation ranges, calibrated once on the user's own pictures or .npy
 * inputs and saved next to the weights (MODEL.calib), where nuq run
 * --nuq MODEL.nuq finds them.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/nuq.h>

#include "cli.h"
#include "model_run.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nuq calibrate MODEL.onnx --nuq MODEL.nuq --images DIR [options]\n"
		"  Calibrate the activations of MODEL with the weights of MODEL.nuq (nuq quantize)\n"
		"  on every picture (JPEG, PNG) and .npy file in DIR; write MODEL.calib next to\n"
		"  the .nuq, where nuq run --nuq MODEL.nuq finds it.  A model with several inputs:\n"
		"  each subdirectory of DIR is one run, with a file per input named after it\n"
		"  (NAME.npy, .png or .jpg).\n"
		"      --images DIR, --inputs DIR  the calibration inputs (the same option)\n"
		"  -o, --out FILE        write the ranges to FILE instead\n"
		"      --calib C         minmax, percentile, mse, kl or layer (default percentile)\n"
		"      --no-bias-correction  keep the biases as quantization left them\n"
		"%s"
		"  (nuq calibrate --nuq DIR calibrates the PaddleOCR models; see --help there.)\n",
		image_opts_help);
}

static int parse(int argc, char **argv, struct run_setup *s, const char **out)
{
	static const struct option own[] = {
		{ "nuq", required_argument, NULL, 'N' },
		{ "images", required_argument, NULL, 'I' },
		{ "inputs", required_argument, NULL, 'I' },
		{ "out", required_argument, NULL, 'o' },
		{ "calib", required_argument, NULL, 'c' },
		{ "no-bias-correction", no_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
	};
	size_t a = sizeof(own) / sizeof(own[0]), b = 0;
	struct option *longopts;
	int c, r, ret = 2;

	while (image_longopts[b].name)
		b++;
	longopts = calloc(a + b + 1, sizeof(*longopts));
	if (!longopts)
		return 1;
	memcpy(longopts, own, sizeof(own));
	memcpy(longopts + a, image_longopts, b * sizeof(*longopts));
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		r = image_opt("calibrate", c, optarg, &s->image);
		if (r == 2)
			goto out;
		if (r)
			continue;
		switch (c) {
		case 'N':
			s->nuq_file = optarg;
			break;
		case 'I':
			s->calib_dir = optarg;
			break;
		case 'o':
			*out = optarg;
			break;
		case 'c':
			if (opt_calib("calibrate", optarg, &s->qe.calib))
				goto out;
			break;
		case 'X':
			s->qe.flags |= NUQ_QEXEC_NO_BIAS_CORRECTION;
			break;
		case 'h':
			usage(stdout);
			ret = -1;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind != argc - 1 || !s->nuq_file || !s->calib_dir) {
		fprintf(stderr, "nuq calibrate: MODEL.onnx, --nuq MODEL.nuq and --images DIR are needed\n");
		usage(stderr);
		goto out;
	}
	s->model = argv[optind];
	ret = 0;
out:
	free(longopts);
	return ret;
}

int calibrate_any_model(int argc, char **argv)
{
	struct run_setup s = {
		.qe = { .flags = NUQ_QEXEC_CPU, .calib = NUQ_CALIB_PERCENTILE },
		.repeat = 1, .recalibrate = 1,
	};
	const char *out = NULL;
	char path[1024];
	size_t n;
	int ret;

	ret = parse(argc, argv, &s, &out);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (!out) {
		n = strlen(s.nuq_file);
		if (n > 4 && !strcmp(s.nuq_file + n - 4, ".nuq"))
			n -= 4;
		snprintf(path, sizeof(path), "%.*s.calib", (int)n, s.nuq_file);
		out = path;
	}
	return model_calibrate(&s, out);
}
