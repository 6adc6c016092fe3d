// SPDX-License-Identifier: GPL-2.0
/*
 * One whole model timed in one process (tests/bench/bench_models.sh runs
 * each measurement in its own, so that each peak RSS is its own):
 *
 *   bench_models fp32 MODEL.onnx IN.f32 SHAPE RUNS PROFILE.txt
 *   bench_models q MODEL.onnx IN.f32 SHAPE RUNS PROFILE.txt M.nuq M.calib
 *   bench_models calib MODEL.onnx M.nuq M.calib IN.f32 SHAPE [IN.f32 SHAPE...]
 *
 * fp32 runs nuq's graph executor, q the quantized executor on libnuq's
 * CPU integer core (NUQ_QEXEC_CPU) with the weights of M.nuq and the
 * activation ranges of M.calib, which calib writes from the given inputs
 * (percentile ranges, nuq's default).  Timing modes warm up twice, time
 * RUNS runs and print one line "median MS min MS max MS q1 MS q3 MS rss KB"
 * (ru_maxrss of the process: model, weights and the run's live tensors);
 * then 3 more runs with the per-op profile on go to PROFILE.txt.
 * SHAPE is "D0,D1,...", the input's dims.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include <nuq/nuq.h>

#define WARMUP		2
#define PROFILE_RUNS	3

struct bench {
	struct nuq_onnx *m;
	struct nuq_graph *g;
	struct nuq_file f;
	struct nuq_qexec *q;
	char msg[512];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A raw float32 file of shape "D0,D1,..." into @x. */
static int read_input(const char *path, const char *shape, struct nuq_tensor *x)
{
	const char *s = shape;
	size_t n, want;
	FILE *f;
	char *end;

	memset(x, 0, sizeof(*x));
	x->dtype = NUQ_DT_FLOAT;
	while (*s && x->ndims < NUQ_ONNX_MAX_DIMS) {
		x->dims[x->ndims++] = strtoll(s, &end, 10);
		s = *end == ',' ? end + 1 : end;
		if (end == s && *s)
			break;
	}
	want = nuq_tensor_count(x);
	x->f = malloc(want * sizeof(float) + 1);
	f = fopen(path, "rb");
	n = f && x->f ? fread(x->f, sizeof(float), want + 1, f) : 0;
	if (f)
		fclose(f);
	if (n != want) {
		fprintf(stderr, "%s: not %s float32 values\n", path, shape);
		free(x->f);
		x->f = NULL;
		return -EINVAL;
	}
	return 0;
}

static int setup(struct bench *b, const char *model, const char *nuq)
{
	struct nuq_qexec_opts qo = { .flags = NUQ_QEXEC_CPU, .calib = NUQ_CALIB_PERCENTILE };
	int ret;

	ret = nuq_onnx_load(model, &b->m, b->msg, sizeof(b->msg));
	if (!ret)
		ret = nuq_graph_import(b->m, &b->g, b->msg, sizeof(b->msg));
	if (!ret && nuq)
		ret = nuq_file_read(nuq, &b->f, b->msg, sizeof(b->msg));
	if (!ret && nuq)
		ret = nuq_qexec_create(b->g, b->f.layers, b->f.nlayers, &qo, &b->q, b->msg,
				       sizeof(b->msg));
	return ret;
}

static void teardown(struct bench *b)
{
	nuq_qexec_free(b->q);
	nuq_file_free(&b->f);
	nuq_graph_free(b->g);
	nuq_onnx_free(b->m);
}

/* One run on @x, every output computed and dropped. */
static int run_once(struct bench *b, const struct nuq_tensor *x)
{
	struct nuq_graph_feed feed = { nuq_graph_input_name(b->g), x };
	size_t n = nuq_graph_noutputs(b->g), i;
	struct nuq_tensor y[16];
	int ret;

	if (n > 16)
		return -E2BIG;
	ret = b->q ? nuq_qexec_run_all(b->q, &feed, 1, y, b->msg, sizeof(b->msg)) :
	      nuq_graph_run_all(b->g, &feed, 1, y, b->msg, sizeof(b->msg));
	for (i = 0; !ret && i < n; i++)
		nuq_tensor_free(&y[i]);
	return ret;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The value at fraction @p of the sorted @v (linear between neighbours). */
static double quantile(const double *v, int n, double p)
{
	double pos = p * (n - 1);
	int i = (int)pos;

	return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[n - 1];
}

static int write_profile(struct bench *b, const char *path, const char *model)
{
	struct nuq_qexec_stats st;
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "# %s, %s, %d runs\n", model, b->q ? "quantized (CPU core)" : "fp32",
		PROFILE_RUNS);
	if (b->q) {
		nuq_qexec_stats(b->q, &st);
		fprintf(f, "# %u conv layers as integer jobs, %u quantized layers in fp32, "
			"%u activations fused\n", st.device_layers, st.fp32_layers, st.fused_acts);
	}
	nuq_graph_profile_print(b->g, f);
	return fclose(f) ? -EIO : 0;
}

static int time_model(char **argv, const char *nuq, const char *calib)
{
	int runs = atoi(argv[5]), k, ret;
	struct bench b = { 0 };
	struct nuq_tensor x;
	struct rusage ru;
	double *t;

	if (runs < 1 || read_input(argv[3], argv[4], &x))
		return 2;
	t = calloc((size_t)runs, sizeof(*t));
	ret = t ? setup(&b, argv[2], nuq) : -ENOMEM;
	if (!ret && calib)
		ret = nuq_qexec_load_calibration(b.q, calib, b.msg, sizeof(b.msg));
	for (k = 0; !ret && k < WARMUP; k++)
		ret = run_once(&b, &x);
	for (k = 0; !ret && k < runs; k++) {
		double t0 = now();

		ret = run_once(&b, &x);
		t[k] = (now() - t0) * 1e3;
	}
	if (!ret) {
		nuq_graph_set_profile(b.g, 1);
		for (k = 0; !ret && k < PROFILE_RUNS; k++)
			ret = run_once(&b, &x);
		nuq_graph_set_profile(b.g, 0);
	}
	if (!ret)
		ret = write_profile(&b, argv[6], argv[2]);
	if (!ret) {
		qsort(t, (size_t)runs, sizeof(*t), cmp_double);
		getrusage(RUSAGE_SELF, &ru);
		printf("median %.3f min %.3f max %.3f q1 %.3f q3 %.3f rss %ld\n",
		       quantile(t, runs, 0.5), t[0], t[runs - 1], quantile(t, runs, 0.25),
		       quantile(t, runs, 0.75), ru.ru_maxrss);
	} else {
		fprintf(stderr, "%s: %s\n", argv[2], b.msg[0] ? b.msg : strerror(-ret));
	}
	teardown(&b);
	free(x.f);
	free(t);
	return ret ? 1 : 0;
}

static int calibrate(int argc, char **argv)
{
	int n = (argc - 5) / 2, k, ret = 0;
	struct bench b = { 0 };
	struct nuq_tensor *x;

	if (n < 1 || (argc - 5) % 2)
		return 2;
	x = calloc((size_t)n, sizeof(*x));
	for (k = 0; x && k < n && !ret; k++)
		ret = read_input(argv[5 + 2 * k], argv[6 + 2 * k], &x[k]);
	if (!x || ret)
		return 2;
	ret = setup(&b, argv[2], argv[3]);
	if (!ret)
		ret = nuq_qexec_calibrate(b.q, x, (size_t)n, NULL, NULL, b.msg, sizeof(b.msg));
	if (!ret)
		ret = nuq_qexec_save_calibration(b.q, argv[4], b.msg, sizeof(b.msg));
	if (ret)
		fprintf(stderr, "%s: %s\n", argv[2], b.msg);
	teardown(&b);
	for (k = 0; k < n; k++)
		free(x[k].f);
	free(x);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "fp32"))
		return time_model(argv, NULL, NULL);
	if (argc == 9 && !strcmp(argv[1], "q"))
		return time_model(argv, argv[7], argv[8]);
	if (argc >= 7 && !strcmp(argv[1], "calib"))
		return calibrate(argc, argv);
	fprintf(stderr, "usage: bench_models fp32 MODEL.onnx IN.f32 SHAPE RUNS PROFILE.txt\n"
		"       bench_models q MODEL.onnx IN.f32 SHAPE RUNS PROFILE.txt M.nuq M.calib\n"
		"       bench_models calib MODEL.onnx M.nuq M.calib IN.f32 SHAPE...\n");
	return 2;
}
