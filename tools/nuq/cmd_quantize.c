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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nuq quantize MODEL.onnx -o OUT.nuq [options]\n"
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
		"  -q, --quiet           no per-layer table\n");
}

/* The size lines (also with --quiet): tests/cli checks them against the file. */
static void print_size(const struct qmodel *m)
{
	size_t fp32 = 4 * m->weights + m->kept_bytes, all = m->file_bytes + m->kept_bytes;

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
 */
static void warn_if_not_runnable(const char *path, const struct nuq_onnx *model)
{
	struct nuq_graph *g;
	char why[1024];

	if (!nuq_graph_import(model, &g, why, sizeof(why))) {
		nuq_graph_free(g);
		return;
	}
	fprintf(stderr, "nuq quantize: warning: nuq cannot run %s (%s); its weights are quantized all the same\n",
		path, why);
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
		{}
	};
	struct nuq_layer_opts o = NUQ_DEFAULT_LAYER_OPTS;
	const char *out = NULL, *in;
	double budget = QUANT_RD_AUTO;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int jobs = ncpu > 0 ? ncpu : 1;
	int quiet = 0, c, ret = 1, asd;
	struct qmodel qm = { 0 };
	struct nuq_onnx *model;
	unsigned long v;
	char msg[512];
	double t0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:m:b:j:qh", longopts, NULL)) != -1) {
		switch (c) {
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
	if (optind != argc - 1 || !out) {
		usage(stderr);
		return 2;
	}
	in = argv[optind];
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

	t0 = now_seconds();
	ret = nuq_onnx_load(in, &model, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "nuq quantize: %s\n", msg);
		return 1;
	}
	warn_if_not_runnable(in, model);
	ret = quantize_model(model, &o, budget, jobs, 1, &qm, msg, sizeof(msg));
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
	nuq_onnx_free(model);
	return ret;
}
