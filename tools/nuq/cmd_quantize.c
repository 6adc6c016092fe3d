// SPDX-License-Identifier: GPL-2.0
/*
 * nuq quantize: the weights of an ONNX model into a .nuq file.
 *
 * Every weight tensor of a Conv, ConvTranspose, Gemm or MatMul is
 * quantized (quantize_model.c); the table at the end is computed from
 * the values exactly as stored.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nuq/nuq.h>
#include <nuq/nuqfile.h>

#include "cli.h"
#include "model_io.h"

#define CALIB_INPUTS_MAX	256

struct calib_set {
	const char *dir;
	char *files[CALIB_INPUTS_MAX];
	size_t n;
	struct nuq_input_opts image;
	struct model_runs runs;	/* loaded */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nuq quantize MODEL.onnx -o OUT.nuq [options]\n"
		"       nuq quantize --ocr [--models DIR] -o OUT_DIR [options]\n"
		"  --ocr: the three PaddleOCR models, weights rounded and activations calibrated\n"
		"  on rendered text as nuq ocr and nuq eval do: OUT_DIR/<model>.nuq and .calib\n"
		"  -m, --method M        uniform, affine, dbc, enq, knq, kde, opt,\n"
		"                        minifloat, asd, asd1, csd (default knq)\n"
		"  -b, --bits B          1-8 index bits for codebook methods (default 4)\n"
		"  Layout: by default each layer gets the layout and width (bits-1 to bits+2)\n"
		"  that costs the model least error within bits + 0.5 bits per weight, all\n"
		"  included (never below every layer --shared at --bits); or one for all:\n"
		"      --shared          one codebook per layer over the weights divided by a\n"
		"                        per-channel scale (a float16 per channel; free at run time)\n"
		"      --per-channel     one codebook and scale per output channel\n"
		"      --per-layer       one codebook and one scale per layer\n"
		"      --group G         one codebook per G weights of a channel\n"
		"      --budget-bits X   choose the layout and width (2-8 bits) of each layer for\n"
		"                        X bits per weight, all included\n"
		"      --svd KEEP        factor FC and 1x1 conv layers, keeping KEEP (0-1) of\n"
		"                        the singular-value energy, when that saves space\n"
		"      --cb-width W      codebook entries of 8 or 16 bits (default: 8 per layer\n"
		"                        unless that adds more than 1%% to its error)\n"
		"      --seed S          seed of k-means++ and KDE sampling (default 1)\n"
		"      --kde-samples N   KDE sample size (default 8192)\n"
		"  -j, --jobs N          threads (default: the number of CPUs)\n"
		"  -q, --quiet           no per-layer table\n"
		"  Rounding: each weight to its nearest level, or with inputs the model takes, so\n"
		"  that each layer's output loses least on them (GPTQ with the codebook; the\n"
		"  layout choice then weighs output errors; NUQ_GPTQ=0 turns it off):\n"
		"      --calib-dir DIR   pictures (JPEG, PNG) or .npy files in DIR (--images DIR too)\n"
		"      --calib-input F   one such file (repeat for more)\n"
		"  A model with several inputs: each subdirectory of DIR is one run, with a file\n"
		"  per input named after it (NAME.npy, .png, .jpg; '/' and ':' as '_'), or each\n"
		"  --calib-input is one run's files, comma-separated: [NAME=]FILE,[NAME=]FILE\n"
		"%s", image_opts_help);
}

/* The size lines (also with --quiet): tests/cli checks them against the file. */
static void print_size(const struct qmodel *m)
{
	size_t fp32 = m->fp32_bytes, all = m->file_bytes + m->kept_bytes;

	printf("%zu layers, %zu weights: .nuq file %zu bytes, kept in the ONNX file %zu bytes\n"
	       "(biases, BatchNormalization, layers not quantized, constants)\n", m->n, m->weights,
	       m->file_bytes, m->kept_bytes);
	printf("bits per weight, all included: %.4f (fp32 %zu bytes -> %zu bytes, %.2fx smaller)\n",
	       bits_per_weight(m->file_bytes, m->kept_bytes, m->weights), fp32, all,
	       all ? (double)fp32 / all : 0);
}

static void print_table(const struct qmodel *m)
{
	size_t i, n = m->n;

	printf("%-40s %-14s %-10s %4s %-7s %2s %5s %9s %10s %10s\n", "tensor", "op", "method",
	       "bits", "layout", "cb", "rank", "SQNR dB", "fixed err", "bytes");
	for (i = 0; i < n; i++) {
		const struct nuq_qlayer *l = &m->layers[i];
		const struct nuq_layer_stats *st = &m->stats[i];

		printf("%-40.40s %-14.14s %-10s %4u %-7s %2u %5u %9.2f %10.2e %10zu\n", l->name,
		       m->weights_of[i]->op, nuq_qmethod_name(l->method), l->bits,
		       nuq_gran_name(l->gran), l->cb_width, st->rank, st->sqnr_db, st->fixed_err,
		       st->bytes);
	}
	printf("\nfixed err: the largest change the fixed-point codebook (--cb-width) made to a level\n");
	print_size(m);
}

/*
 * The weights of any ONNX file can be quantized, but a model nuq's
 * executor cannot import would be refused later by nuq run: say so now.
 * Returns the graph (NULL then), which rounding on inputs runs.
 */
static struct nuq_graph *import_or_warn(const char *path, const struct nuq_onnx *model)
{
	struct nuq_graph *g;
	char why[1024];

	if (!nuq_graph_import(model, &g, why, sizeof(why)))
		return g;
	fprintf(stderr, "nuq quantize: warning: nuq cannot run %s (%s); its weights are quantized all the same\n",
		path, why);
	return NULL;
}

/*
 * --calib-dir / --calib-input: the inputs the weights are rounded on
 * (quantize_gptq.c), made as nuq run makes them.
 */
static int load_calib(struct nuq_graph *g, struct calib_set *cs, char *msg, size_t msglen)
{
	if (!g) {
		snprintf(msg, msglen, "rounding on inputs runs the model, which nuq cannot");
		return -EOPNOTSUPP;
	}
	return load_model_runs(g, cs->dir, cs->files, cs->n, &cs->image, &cs->runs, msg, msglen);
}

int cmd_quantize(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "method", required_argument, NULL, 'm' },
		{ "bits", required_argument, NULL, 'b' },
		{ "per-channel", no_argument, NULL, 'C' },
		{ "per-layer", no_argument, NULL, 'L' },
		{ "shared", no_argument, NULL, 'H' },
		{ "group", required_argument, NULL, 'G' },
		{ "budget-bits", required_argument, NULL, 'B' },
		{ "svd", required_argument, NULL, 'S' },
		{ "cb-width", required_argument, NULL, 'W' },
		{ "seed", required_argument, NULL, 'r' },
		{ "kde-samples", required_argument, NULL, 'k' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "calib-dir", required_argument, NULL, 'D' },
		{ "images", required_argument, NULL, 'D' },
		{ "calib-input", required_argument, NULL, 'I' },
		{ "ocr", no_argument, NULL, 'O' },
		{ "models", required_argument, NULL, 'M' },
	};
	struct nuq_layer_opts o = NUQ_DEFAULT_LAYER_OPTS;
	const char *out = NULL, *in, *models = NULL;
	double budget = QUANT_RD_AUTO;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int jobs = ncpu > 0 ? ncpu : 1;
	int quiet = 0, ocr = 0, c, ret = 1, asd;
	static struct option *all;	/* reachable to the end, like longopts */
	struct calib_set cs = { 0 };
	struct qmodel qm = { 0 };
	struct nuq_graph *g = NULL;
	struct nuq_onnx *model;
	unsigned long v;
	char msg[512];
	double t0;

	if (!all)
		all = with_image_longopts(longopts, sizeof(longopts) / sizeof(longopts[0]));
	if (!all)
		return 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:m:b:j:qh", all, NULL)) != -1) {
		int r = image_opt("quantize", c, optarg, &cs.image);

		if (r == 2)
			return 2;
		if (r)
			continue;
		switch (c) {
		case 'D':
			cs.dir = optarg;
			break;
		case 'O':
			ocr = 1;
			break;
		case 'M':
			models = optarg;
			break;
		case 'I':
			if (cs.n == CALIB_INPUTS_MAX) {
				fprintf(stderr, "nuq quantize: at most %d --calib-input files; use --calib-dir\n",
					CALIB_INPUTS_MAX);
				return 2;
			}
			cs.files[cs.n++] = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'm':
			if (opt_method("quantize", optarg, &o.q.method))
				return 2;
			break;
		case 'b':
			if (opt_bits("quantize", optarg, &o.q.bits))
				return 2;
			break;
		case 'C':
			o.gran = NUQ_GRAN_CHANNEL;
			budget = budget > 0 ? budget : 0;
			break;
		case 'L':
			o.gran = NUQ_GRAN_LAYER;
			budget = budget > 0 ? budget : 0;
			break;
		case 'H':
			o.gran = NUQ_GRAN_CHANNEL_SCALED;
			budget = budget > 0 ? budget : 0;
			break;
		case 'G':
			if (parse_uint(optarg, 1UL << 30, &v) || !v) {
				fprintf(stderr, "nuq quantize: --group must be a positive number\n");
				return 2;
			}
			o.gran = NUQ_GRAN_GROUP;
			o.group_size = v;
			budget = 0;
			break;
		case 'B':
			budget = strtod(optarg, NULL);
			if (!(budget >= 1 && budget <= 32)) {
				fprintf(stderr, "nuq quantize: --budget-bits must be 1 to 32\n");
				return 2;
			}
			break;
		case 'S':
			o.svd_keep = strtod(optarg, NULL);
			if (!(o.svd_keep > 0 && o.svd_keep <= 1)) {
				fprintf(stderr, "nuq quantize: --svd must be in (0, 1]\n");
				return 2;
			}
			break;
		case 'W':
			if (parse_uint(optarg, 16, &v) || (v != 8 && v != 16)) {
				fprintf(stderr, "nuq quantize: --cb-width must be 8 or 16\n");
				return 2;
			}
			o.cb_width = v;
			break;
		case 'r':
			if (parse_uint(optarg, ~0UL, &v)) {
				fprintf(stderr, "nuq quantize: bad --seed\n");
				return 2;
			}
			o.q.seed = v;
			break;
		case 'k':
			if (parse_uint(optarg, 1UL << 24, &v) || v < 16) {
				fprintf(stderr, "nuq quantize: --kde-samples must be 16 or more\n");
				return 2;
			}
			o.q.kde_samples = v;
			break;
		case 'j':
			if (opt_count("quantize", "jobs", optarg, 64, &v))
				return 2;
			jobs = v;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - !ocr || !out || (ocr && (cs.dir || cs.n))) {
		usage(stderr);
		return 2;
	}
	in = ocr ? NULL : argv[optind];
	asd = o.q.method == NUQ_Q_ASD || o.q.method == NUQ_Q_ASD1 || o.q.method == NUQ_Q_CSD;
	if (asd && o.gran == NUQ_GRAN_CHANNEL_SCALED)
		o.gran = NUQ_GRAN_CHANNEL;	/* no codebook to share: a scale per channel */
	if (asd && budget == QUANT_RD_AUTO)
		budget = 0;
	if (budget > 0 && asd) {
		fprintf(stderr, "nuq quantize: --budget-bits needs a codebook method, not %s\n",
			nuq_qmethod_name(o.q.method));
		return 2;
	}

	if (ocr)
		return quantize_ocr(models, out, &o, budget, jobs, quiet);
	t0 = now_seconds();
	ret = nuq_onnx_load(in, &model, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "nuq quantize: %s\n", msg);
		return 1;
	}
	g = import_or_warn(in, model);
	if (cs.dir || cs.n) {
		ret = load_calib(g, &cs, msg, sizeof(msg));
		if (ret) {
			fprintf(stderr, "nuq quantize: %s\n", msg);
			ret = 1;
			goto out;
		}
	} else if (g && quant_gptq_enabled()) {
		fprintf(stderr, "nuq quantize: rounding each weight to its nearest level; --calib-dir DIR\n"
			"  (pictures or .npy files the model takes) rounds on real inputs, which loses less\n");
	}
	{
		struct quant_data d = { .graph = g, .feeds = cs.runs.feeds, .nfeeds = cs.runs.nfeeds,
					.n = cs.runs.n,
					.inputs = cs.runs.nfeeds == 1 ? cs.runs.t : NULL };

		ret = quantize_model_data(model, &o, budget, &d, jobs, 1, &qm, msg, sizeof(msg));
	}
	if (!ret)
		ret = nuq_file_write(out, qm.layers, (uint32_t)qm.n, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "nuq quantize: %s: %s\n", in, msg);
		ret = 1;
		goto out;
	}
	if (!quiet)
		print_table(&qm);
	else
		print_size(&qm);
	fprintf(stderr, "nuq quantize: wrote %s in %.2f s\n", out, now_seconds() - t0);
	ret = 0;
out:
	qmodel_free(&qm);
	model_runs_free(&cs.runs);
	nuq_graph_free(g);
	nuq_onnx_free(model);
	return ret;
}
