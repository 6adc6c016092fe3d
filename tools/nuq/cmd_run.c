// SPDX-License-Identifier: GPL-2.0
/*
 * nuq run: any ONNX model on real inputs, in fp32 and with quantized
 * weights and 8-bit activations (integer jobs on /dev/nuq0 or libnuq's
 * CPU core), side by side: per graph output its shape, SQNR and largest
 * difference against fp32 and whether the strongest entries agree; the
 * size saved; where the time went.  (The OCR pipeline on a page is
 * nuq ocr; nuq run PAGE.png still runs it.)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nuq/nuq.h>

#include "cli.h"
#include "model_run.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nuq run MODEL.onnx --input FILE [--input FILE...] [options]\n"
		"  Run MODEL on real inputs in fp32 and quantized, side by side, and compare\n"
		"  every output (SQNR, max |diff|, top-1/top-5 agreement).\n"
		"  -i, --input [NAME=]FILE  a picture (JPEG, PNG) or a .npy array for the next model\n"
		"                        input, or for the input called NAME; one per model input\n"
		"      --nuq FILE        quantized weights from FILE (nuq quantize); otherwise the\n"
		"                        model is quantized now with:\n"
		"  -m, --method M        quantization method (default knq)\n"
		"  -b, --bits B          bits per weight index (default 4; each layer's layout and\n"
		"                        width chosen within B + 0.5 bits per weight, all included)\n"
		"      --calib C         activation ranges: minmax, percentile, mse, kl, layer\n"
		"                        (default percentile)\n"
		"      --calib-input FILE  calibrate on FILE (repeat for more; default: on the\n"
		"                        --input files themselves)\n"
		"      --calib-dir DIR   calibrate on every picture and .npy file in DIR (a model\n"
		"                        with several inputs: on each subdirectory, holding a\n"
		"                        file per input named after it, NAME.npy/.png/.jpg;\n"
		"                        and each --calib-input is then one run's files,\n"
		"                        comma-separated [NAME=]FILE)\n"
		"      --calib-file FILE  ranges saved by nuq calibrate (default with --nuq M.nuq:\n"
		"                        M.calib when it exists)\n"
		"      --device PATH     the nuq device (default: the first NPU, else /dev/nuq0)\n"
		"      --cpu             run the integer jobs on libnuq's CPU core, not a device\n"
		"      --weights-only    quantized weights, fp32 activations (no jobs)\n"
		"      --fp32            only the fp32 model\n"
		"      --no-fp32         only the quantized model (nothing to compare with)\n"
		"      --save DIR        write every output as DIR/NAME.npy (fp32) and\n"
		"                        DIR/NAME.nuq.npy (quantized)\n"
		"      --repeat N        run each model N times, report the median (default 1)\n"
		"      --profile         time per op type of each run\n"
		"      --per-layer-error  the SQNR of every quantized layer's output against fp32,\n"
		"                        to see which layer hurts\n"
		"%s", image_opts_help);
}

enum {
	OPT_NUQ = 0x200, OPT_CALIB, OPT_CALIB_INPUT, OPT_CALIB_DIR, OPT_CALIB_FILE, OPT_DEVICE,
	OPT_CPU, OPT_WEIGHTS_ONLY, OPT_FP32, OPT_NO_FP32, OPT_SAVE, OPT_REPEAT, OPT_PROFILE,
	OPT_LAYER_ERRORS,
};

static const struct option run_longopts[] = {
	{ "input", required_argument, NULL, 'i' },
	{ "nuq", required_argument, NULL, OPT_NUQ },
	{ "method", required_argument, NULL, 'm' },
	{ "bits", required_argument, NULL, 'b' },
	{ "calib", required_argument, NULL, OPT_CALIB },
	{ "calib-input", required_argument, NULL, OPT_CALIB_INPUT },
	{ "calib-dir", required_argument, NULL, OPT_CALIB_DIR },
	{ "calib-file", required_argument, NULL, OPT_CALIB_FILE },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "cpu", no_argument, NULL, OPT_CPU },
	{ "weights-only", no_argument, NULL, OPT_WEIGHTS_ONLY },
	{ "fp32", no_argument, NULL, OPT_FP32 },
	{ "no-fp32", no_argument, NULL, OPT_NO_FP32 },
	{ "save", required_argument, NULL, OPT_SAVE },
	{ "repeat", required_argument, NULL, OPT_REPEAT },
	{ "profile", no_argument, NULL, OPT_PROFILE },
	{ "per-layer-error", no_argument, NULL, OPT_LAYER_ERRORS },
	{ "help", no_argument, NULL, 'h' },
};

/* nuq run PAGE.png: the OCR pipeline, as before nuq ocr existed. */
static int is_ocr_call(int argc, char **argv)
{
	int i, picture = 0;

	for (i = 1; i < argc; i++) {
		const char *dot = strrchr(argv[i], '.');

		if (argv[i][0] == '-' || !dot)
			continue;
		if (!strcasecmp(dot, ".onnx"))
			return 0;
		picture |= !strcasecmp(dot, ".png");
	}
	return picture;
}

static int add_spec(struct spec_list *l, char *s)
{
	void *p = realloc(l->v, (l->n + 1) * sizeof(*l->v));

	if (!p)
		return -ENOMEM;
	l->v = p;
	l->v[l->n++] = s;
	return 0;
}

static int parse(int argc, char **argv, struct run_setup *s)
{
	struct option *longopts = with_image_longopts(run_longopts,
						      sizeof(run_longopts) / sizeof(run_longopts[0]));
	unsigned long v;
	int c, r;

	if (!longopts)
		return 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:m:b:h", longopts, NULL)) != -1) {
		r = image_opt("run", c, optarg, &s->image);
		if (r) {
			if (r == 2)
				goto bad;
			continue;
		}
		switch (c) {
		case 'i':
			if (add_spec(&s->inputs, optarg))
				goto bad;
			break;
		case OPT_NUQ:
			s->nuq_file = optarg;
			break;
		case 'm':
			if (opt_method("run", optarg, &s->opts.q.method))
				goto bad;
			break;
		case 'b':
			if (opt_bits("run", optarg, &s->opts.q.bits))
				goto bad;
			break;
		case OPT_CALIB:
			if (opt_calib("run", optarg, &s->qe.calib))
				goto bad;
			break;
		case OPT_CALIB_INPUT:
			if (add_spec(&s->calib_inputs, optarg))
				goto bad;
			break;
		case OPT_CALIB_DIR:
			s->calib_dir = optarg;
			break;
		case OPT_CALIB_FILE:
			s->calib_file = optarg;
			break;
		case OPT_DEVICE:
			s->qe.device = optarg;
			break;
		case OPT_CPU:
			s->qe.flags |= NUQ_QEXEC_CPU;
			break;
		case OPT_WEIGHTS_ONLY:
			s->qe.flags |= NUQ_QEXEC_WEIGHTS_ONLY;
			break;
		case OPT_FP32:
			s->fp32_only = 1;
			break;
		case OPT_NO_FP32:
			s->no_fp32 = 1;
			break;
		case OPT_SAVE:
			s->save_dir = optarg;
			break;
		case OPT_REPEAT:
			if (opt_count("run", "repeat", optarg, 100000, &v))
				goto bad;
			s->repeat = (unsigned int)v;
			break;
		case OPT_PROFILE:
			s->profile = 1;
			break;
		case OPT_LAYER_ERRORS:
			s->layer_errors = 1;
			break;
		case 'h':
			free(longopts);
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			goto bad;
		}
	}
	free(longopts);
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	s->model = argv[optind];
	if (s->fp32_only && s->no_fp32) {
		fprintf(stderr, "nuq run: --fp32 and --no-fp32 exclude each other\n");
		return 2;
	}
	if (s->calib_dir && s->calib_inputs.n) {
		fprintf(stderr, "nuq run: --calib-dir and --calib-input exclude each other\n");
		return 2;
	}
	return 0;
bad:
	free(longopts);
	return 2;
}

int cmd_run(int argc, char **argv)
{
	struct run_setup s = {
		.opts = NUQ_DEFAULT_LAYER_OPTS,
		.qe = { .calib = NUQ_CALIB_PERCENTILE },
		.repeat = 1,
	};
	struct stat st;
	int ret;

	if (is_ocr_call(argc, argv)) {
		fprintf(stderr, "nuq run: a page is read by 'nuq ocr PAGE.png' now; running that\n");
		return cmd_ocr(argc, argv);
	}
	ret = parse(argc, argv, &s);
	if (ret)
		goto out;
	if (s.save_dir && (stat(s.save_dir, &st) || !S_ISDIR(st.st_mode))) {
		fprintf(stderr, "nuq run: --save %s: not a directory\n", s.save_dir);
		ret = 2;
		goto out;
	}
	ret = model_run(&s);
out:
	free(s.inputs.v);
	free(s.calib_inputs.v);
	return ret < 0 ? 0 : ret;
}
