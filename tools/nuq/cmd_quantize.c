// SPDX-License-Identifier: GPL-2.0
/*
 * nuq quantize: the weights of an ONNX model into a .nuq file.
 *
 * Every weight tensor of a Conv, ConvTranspose, Gemm or MatMul is
 * quantized; layers are spread over the CPUs.  With --budget-bits each
 * layer is quantized at every bit width from 2 to 8 and the widths are
 * then chosen to fit the budget (nuq_mixed_precision()).  The table at
 * the end is computed from the values exactly as stored.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nuq/nuq.h>
#include <nuq/nuqfile.h>

#include "cli.h"

#define MP_MIN_BITS	2
#define MP_OPTS		7	/* 2..8 bits */

struct task {
	const struct nuq_onnx_weight *w;
	const float *mat;
	struct nuq_layer_opts opts;
	struct nuq_qlayer layer;
	struct nuq_layer_stats st;
	int ret;
	char msg[256];
};

struct pool {
	struct task *tasks;
	size_t ntasks;
	atomic_size_t next;
	atomic_size_t done;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->ntasks) {
		struct task *t = &p->tasks[i];

		t->ret = nuq_qlayer_quantize(t->w, t->mat, &t->opts, &t->layer, &t->st, t->msg,
					     sizeof(t->msg));
		atomic_fetch_add(&p->done, 1);
	}
	return NULL;
}

static int run_pool(struct pool *p, unsigned int jobs)
{
	pthread_t th[64];
	struct progress pr;
	unsigned int i, started = 0;

	if (jobs > 64)
		jobs = 64;
	progress_start(&pr, "quantize", p->ntasks);
	for (i = 0; i < jobs; i++)
		if (!pthread_create(&th[i], NULL, worker, p))
			started++;
	if (!started)
		worker(p);
	while (atomic_load(&p->done) < p->ntasks) {
		progress_step(&pr, atomic_load(&p->done));
		usleep(50000);
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	progress_step(&pr, p->ntasks);
	progress_end(&pr);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nuq quantize MODEL.onnx -o OUT.nuq [options]\n"
		"  -m, --method M        uniform-sym, uniform-affine, dbc, enq, knq, kde, opt,\n"
		"                        minifloat, asd, asd1, csd (default knq)\n"
		"  -b, --bits B          1-8 index bits for codebook methods (default 4)\n"
		"      --per-channel     one codebook/scale per output channel (default per layer)\n"
		"      --group G         one codebook per G weights of a channel\n"
		"      --budget-bits X   mixed precision: choose 2-8 bits per layer so the file\n"
		"                        averages X bits per weight\n"
		"      --svd KEEP        factor FC and 1x1 conv layers, keeping KEEP (0-1) of\n"
		"                        the singular-value energy, when that saves space\n"
		"      --cb-width W      codebook entries of 8 or 16 bits (default 16)\n"
		"      --seed S          seed of k-means++ and KDE sampling (default 1)\n"
		"      --kde-samples N   KDE sample size (default 8192)\n"
		"  -j, --jobs N          threads (default: the number of CPUs)\n"
		"  -q, --quiet           no per-layer table\n");
}

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	return errno || end == s || *end || *v > max || s[0] == '-';
}

static void print_table(struct task *const *chosen, size_t n, size_t weights, size_t file_bytes)
{
	size_t i;

	printf("%-40s %-14s %-10s %4s %5s %9s %10s %10s\n", "tensor", "op", "method", "bits",
	       "rank", "SQNR dB", "fixed err", "bytes");
	for (i = 0; i < n; i++) {
		const struct task *t = chosen[i];

		printf("%-40.40s %-14.14s %-10s %4u %5u %9.2f %10.2e %10zu\n", t->w->name, t->w->op,
		       nuq_qmethod_name(t->layer.method), t->layer.bits, t->st.rank, t->st.sqnr_db,
		       t->st.fixed_err, t->st.bytes);
	}
	printf("\nfixed err: the largest change the fixed-point codebook (--cb-width) made to a level\n");
	printf("%zu layers, %zu weights: fp32 %zu bytes -> %zu bytes, %.2fx smaller (%.2f bits per weight)\n",
	       n, weights, 4 * weights, file_bytes, file_bytes ? 4.0 * weights / file_bytes : 0,
	       weights ? 8.0 * file_bytes / weights : 0);
}

int cmd_quantize(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "method", required_argument, NULL, 'm' },
		{ "bits", required_argument, NULL, 'b' },
		{ "per-channel", no_argument, NULL, 'C' },
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
	struct nuq_layer_opts o = { .q = { .method = NUQ_Q_KNQ, .bits = 4, .seed = 1 },
				    .gran = NUQ_GRAN_LAYER, .cb_width = 16 };
	const char *out = NULL, *in;
	double budget = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int jobs = ncpu > 0 ? ncpu : 1;
	int quiet = 0, c, ret = 1, asd;
	const struct nuq_onnx_weight *w;
	struct nuq_qlayer *layers = NULL;
	struct task **chosen = NULL;
	struct pool pool = { 0 };
	struct nuq_onnx *model;
	float **mats = NULL;
	size_t nw = 0, i, weights = 0, file_bytes = NUQ_FILE_HEADER_BYTES;
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
			if (nuq_qmethod_parse(optarg, &o.q.method)) {
				fprintf(stderr, "nuq quantize: unknown method '%s'\n", optarg);
				return 2;
			}
			break;
		case 'b':
			if (parse_uint(optarg, 8, &v) || !v) {
				fprintf(stderr, "nuq quantize: --bits must be 1 to 8\n");
				return 2;
			}
			o.q.bits = v;
			break;
		case 'C':
			o.gran = NUQ_GRAN_CHANNEL;
			break;
		case 'G':
			if (parse_uint(optarg, 1UL << 30, &v) || !v) {
				fprintf(stderr, "nuq quantize: --group must be a positive number\n");
				return 2;
			}
			o.gran = NUQ_GRAN_GROUP;
			o.group_size = v;
			break;
		case 'B':
			budget = strtod(optarg, NULL);
			if (!(budget >= 2 && budget <= 16)) {
				fprintf(stderr, "nuq quantize: --budget-bits must be 2 to 16\n");
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
			if (parse_uint(optarg, 64, &v) || !v) {
				fprintf(stderr, "nuq quantize: --jobs must be 1 to 64\n");
				return 2;
			}
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
	if (budget && asd) {
		fprintf(stderr, "nuq quantize: --budget-bits needs a codebook method, not %s\n",
			nuq_qmethod_name(o.q.method));
		return 2;
	}

	t0 = now_seconds();
	ret = nuq_onnx_load(in, &model, msg, sizeof(msg));
	if (!ret)
		ret = nuq_onnx_weights(model, &w, &nw, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "nuq quantize: %s\n", msg);
		if (!ret)
			nuq_onnx_free(model);
		return 1;
	}
	if (!nw) {
		fprintf(stderr, "nuq quantize: %s has no Conv/Gemm/MatMul weights\n", in);
		nuq_onnx_free(model);
		return 1;
	}
	ret = 1;
	mats = calloc(nw, sizeof(*mats));
	chosen = calloc(nw, sizeof(*chosen));
	layers = calloc(nw, sizeof(*layers));
	pool.ntasks = nw * (budget ? MP_OPTS : 1);
	pool.tasks = calloc(pool.ntasks, sizeof(*pool.tasks));
	if (!mats || !chosen || !layers || !pool.tasks) {
		fprintf(stderr, "nuq quantize: out of memory\n");
		goto out;
	}
	for (i = 0; i < nw; i++) {
		if (nuq_onnx_weight_matrix(model, &w[i], &mats[i], msg, sizeof(msg))) {
			fprintf(stderr, "nuq quantize: %s: %s\n", in, msg);
			goto out;
		}
		weights += w[i].rows * w[i].cols;
	}
	for (i = 0; i < pool.ntasks; i++) {
		struct task *t = &pool.tasks[i];

		t->w = &w[i % nw];
		t->mat = mats[i % nw];
		t->opts = o;
		if (budget)
			t->opts.q.bits = MP_MIN_BITS + i / nw;
	}
	run_pool(&pool, jobs);
	for (i = 0; i < pool.ntasks; i++) {
		if (pool.tasks[i].ret) {
			fprintf(stderr, "nuq quantize: %s: %s\n", in, pool.tasks[i].msg);
			goto out;
		}
	}

	for (i = 0; i < nw; i++)
		chosen[i] = &pool.tasks[i];
	if (budget) {
		double *err = calloc(nw * MP_OPTS, sizeof(*err));
		double *bytes = calloc(nw * MP_OPTS, sizeof(*bytes));
		unsigned int *choice = calloc(nw, sizeof(*choice)), b;

		if (!err || !bytes || !choice) {
			free(err);
			free(bytes);
			free(choice);
			fprintf(stderr, "nuq quantize: out of memory\n");
			goto out;
		}
		/* error as noise-to-signal ratio, so small and large layers weigh alike */
		for (i = 0; i < nw; i++) {
			for (b = 0; b < MP_OPTS; b++) {
				const struct task *t = &pool.tasks[b * nw + i];

				err[i * MP_OPTS + b] = pow(10, -t->st.sqnr_db / 10);
				bytes[i * MP_OPTS + b] = t->st.bytes;
			}
		}
		ret = nuq_mixed_precision(nw, MP_OPTS, err, bytes, budget * weights / 8 - NUQ_FILE_HEADER_BYTES,
					  choice);
		for (i = 0; !ret && i < nw; i++)
			chosen[i] = &pool.tasks[choice[i] * nw + i];
		free(err);
		free(bytes);
		free(choice);
		if (ret) {
			fprintf(stderr, "nuq quantize: --budget-bits %.2f is below what %d-bit layers need\n",
				budget, MP_MIN_BITS);
			ret = 1;
			goto out;
		}
	}
	for (i = 0; i < nw; i++) {
		layers[i] = chosen[i]->layer;
		file_bytes += chosen[i]->st.bytes;
	}
	ret = nuq_file_write(out, layers, nw, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "nuq quantize: %s\n", msg);
		ret = 1;
		goto out;
	}
	if (!quiet)
		print_table(chosen, nw, weights, file_bytes);
	fprintf(stderr, "nuq quantize: wrote %s in %.2f s\n", out, now_seconds() - t0);
	ret = 0;
out:
	for (i = 0; pool.tasks && i < pool.ntasks; i++)
		nuq_qlayer_free(&pool.tasks[i].layer);
	for (i = 0; mats && i < nw; i++)
		free(mats[i]);
	free(pool.tasks);
	free(mats);
	free(chosen);
	free(layers);
	nuq_onnx_free(model);
	return ret;
}
