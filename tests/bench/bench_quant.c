// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-quant: every quantization method at 2-8 bits on every Conv, Gemm
 * and MatMul weight of the three PaddleOCR models, one codebook per layer.
 * The exact optimum (opt, the DP) runs in the same run and is the
 * reference: MSE ratios are sum(SSE method) / sum(SSE opt) over all
 * layers, times are ratios to the DP's time.  Then: KDE against
 * full-data k-means (knq) on the layers over 100k weights, and the time
 * to quantize all three models at 4 bits on every CPU.
 *
 * Writes OUT.dat (SQNR per method and bits) and OUT.png via gnuplot
 * when a second argument names OUT.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nuq/nuqfile.h>
#include <nuq/onnx.h>

static const char *const model_files[] = {
	"ch_PP-OCRv4_det_infer.onnx",
	"ch_PP-OCRv4_rec_infer.onnx",
	"ch_ppocr_mobile_v2.0_cls_infer.onnx",
};

static const enum nuq_qmethod methods[] = {
	NUQ_Q_OPT, NUQ_Q_UNIFORM_SYM, NUQ_Q_UNIFORM_AFFINE, NUQ_Q_DBC, NUQ_Q_ENQ,
	NUQ_Q_KNQ, NUQ_Q_KDE, NUQ_Q_MINIFLOAT,
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))
#define MINB 2
#define MAXB 8

struct layer {
	struct nuq_onnx_weight w;
	float *mat;
	size_t n;
	double energy;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Squared error of one method on one layer, and its time. */
static double run(const struct layer *l, enum nuq_qmethod m, unsigned int bits, double *secs,
		  float *deq)
{
	struct nuq_qparams p = { .method = m, .bits = bits, .seed = 1 };
	struct nuq_qtensor t;
	double t0 = now(), sse = 0;
	size_t i;

	if (nuq_quantize_tensor(l->mat, l->w.rows, l->w.cols, NUQ_GRAN_LAYER, 0, &p, &t)) {
		fprintf(stderr, "bench-quant: %s failed on %s\n", nuq_qmethod_name(m), l->w.name);
		exit(1);
	}
	*secs = now() - t0;
	nuq_qtensor_dequantize(&t, deq);
	nuq_qtensor_free(&t);
	for (i = 0; i < l->n; i++)
		sse += ((double)l->mat[i] - deq[i]) * ((double)l->mat[i] - deq[i]);
	return sse;
}

struct all4 {
	struct layer *layers;
	size_t n;
	enum nuq_qmethod m;
	atomic_size_t next;
};

static void *all4_worker(void *arg)
{
	struct all4 *a = arg;
	size_t i;

	while ((i = atomic_fetch_add(&a->next, 1)) < a->n) {
		struct nuq_layer_opts o = { .q = { .method = a->m, .bits = 4, .seed = 1 },
					    .cb_width = 16 };
		struct nuq_layer_stats st;
		struct nuq_qlayer q;

		if (!nuq_qlayer_quantize(&a->layers[i].w, a->layers[i].mat, &o, &q, &st, NULL, 0))
			nuq_qlayer_free(&q);
	}
	return NULL;
}

/* All layers of all models at 4 bits into their stored form, on every CPU. */
static double quantize_all(struct layer *layers, size_t n, enum nuq_qmethod m)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct all4 a = { .layers = layers, .n = n, .m = m };
	pthread_t th[16];
	double t0 = now();
	long i;

	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > 16)
		ncpu = 16;
	for (i = 0; i < ncpu; i++)
		pthread_create(&th[i], NULL, all4_worker, &a);
	for (i = 0; i < ncpu; i++)
		pthread_join(th[i], NULL);
	return now() - t0;
}

typedef double (*cell_fn)(double (*sse)[MAXB + 1], double (*secs)[MAXB + 1], unsigned int m,
			  unsigned int b, double energy);

static double sqnr_cell(double (*sse)[MAXB + 1], double (*secs)[MAXB + 1], unsigned int m,
			unsigned int b, double energy)
{
	(void)secs;
	return 10 * log10(energy / sse[m][b]);
}

static double mse_cell(double (*sse)[MAXB + 1], double (*secs)[MAXB + 1], unsigned int m,
		       unsigned int b, double energy)
{
	(void)secs;
	(void)energy;
	return sse[m][b] / sse[0][b];
}

static double time_cell(double (*sse)[MAXB + 1], double (*secs)[MAXB + 1], unsigned int m,
			unsigned int b, double energy)
{
	(void)sse;
	(void)energy;
	return secs[m][b] / secs[0][b];
}

/* One row per method (from @first), one column per bit width; "-" where it did not run. */
static void print_table(const char *title, unsigned int first, cell_fn cell,
			double (*sse)[MAXB + 1], double (*secs)[MAXB + 1], double energy)
{
	unsigned int b, mi;

	printf("\n%s\n%-10s", title, "method");
	for (b = MINB; b <= MAXB; b++)
		printf(" %7u", b);
	printf("\n");
	for (mi = first; mi < NMETHODS; mi++) {
		printf("%-10s", nuq_qmethod_name(methods[mi]));
		for (b = MINB; b <= MAXB; b++)
			if (sse[mi][b] > 0)
				printf(" %7.*f", first ? 4 : 2, cell(sse, secs, mi, b, energy));
			else
				printf(" %7s", "-");
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	const char *dir = getenv("NUQ_MODELS_DIR"), *out = argc > 1 ? argv[1] : NULL;
	static double sse[NMETHODS][MAXB + 1], secs[NMETHODS][MAXB + 1];
	double energy = 0, big_kde = 0, big_knq = 0, t, best;
	struct nuq_onnx *models[3];
	struct layer *layers = NULL;
	size_t nl = 0, k, i, maxn = 0, big = 0, weights = 0;
	unsigned int b, mi;
	float *deq;
	char path[1024], msg[512];
	FILE *dat = NULL;

	if (!dir) {
		fprintf(stderr, "bench-quant: NUQ_MODELS_DIR is not set (make bench-quant sets it)\n");
		return 1;
	}
	for (k = 0; k < 3; k++) {
		const struct nuq_onnx_weight *w;
		size_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, model_files[k]);
		if (nuq_onnx_load(path, &models[k], msg, sizeof(msg)) ||
		    nuq_onnx_weights(models[k], &w, &n, msg, sizeof(msg))) {
			fprintf(stderr, "bench-quant: %s\n", msg);
			return 1;
		}
		layers = realloc(layers, (nl + n) * sizeof(*layers));
		for (i = 0; i < n; i++) {
			struct layer *l = &layers[nl++];

			l->w = w[i];
			l->n = w[i].rows * w[i].cols;
			if (nuq_onnx_weight_matrix(models[k], &w[i], &l->mat, msg, sizeof(msg))) {
				fprintf(stderr, "bench-quant: %s\n", msg);
				return 1;
			}
			l->energy = 0;
			for (size_t j = 0; j < l->n; j++)
				l->energy += (double)l->mat[j] * l->mat[j];
			energy += l->energy;
			weights += l->n;
			if (l->n > maxn)
				maxn = l->n;
		}
	}
	deq = malloc(maxn * sizeof(*deq));
	printf("bench-quant: %zu layers, %zu weights of 3 PaddleOCR models; one codebook per layer\n",
	       nl, weights);

	for (mi = 0; mi < NMETHODS; mi++) {
		for (b = MINB; b <= MAXB; b++) {
			if (methods[mi] == NUQ_Q_MINIFLOAT && b < 3)
				continue;
			for (i = 0; i < nl; i++) {
				sse[mi][b] += run(&layers[i], methods[mi], b, &t, deq);
				secs[mi][b] += t;
			}
		}
	}

	print_table("SQNR of all weights, dB (higher is better)", 0, sqnr_cell, sse, secs, energy);
	print_table("MSE / optimal MSE (opt = exact DP, measured above)", 1, mse_cell, sse, secs,
		    energy);
	for (b = MINB, t = 0; b <= MAXB; b++)
		t += secs[0][b];
	printf("\n(DP total: %.3f s over all bit widths)", t);
	print_table("time / DP time", 1, time_cell, sse, secs, energy);

	/* KDE against full-data k-means where the sample matters: big layers */
	for (i = 0; i < nl; i++) {
		if (layers[i].n <= 100000)
			continue;
		big++;
		for (k = 0; k < 3; k++) {	/* best of three: these are short */
			double a, c;

			run(&layers[i], NUQ_Q_KDE, 4, &a, deq);
			run(&layers[i], NUQ_Q_KNQ, 4, &c, deq);
			best = k ? fmin(best, a) : a;
			if (k == 2) {
				big_kde += best;
				big_knq += c;
			}
		}
	}

	printf("\ntargets:\n");
	printf("  4 bits: KNQ MSE / optimal %.4f, KDE %.4f (target <= 1.01)\n",
	       sse[5][4] / sse[0][4], sse[6][4] / sse[0][4]);
	printf("  layers over 100k weights (%zu): KNQ %.1f ms, KDE %.1f ms: KDE %.1fx faster (target >= 10x)\n",
	       big, 1e3 * big_knq, 1e3 * big_kde, big_kde > 0 ? big_knq / big_kde : 0);
	t = quantize_all(layers, nl, NUQ_Q_KNQ);
	printf("  all 3 models at 4 bits, stored form, %ld CPUs: knq %.3f s", sysconf(_SC_NPROCESSORS_ONLN), t);
	t = quantize_all(layers, nl, NUQ_Q_KDE);
	printf(", kde %.3f s (target < 1 s)\n", t);

	if (out) {
		char cmd[2048];

		snprintf(path, sizeof(path), "%s.dat", out);
		dat = fopen(path, "w");
		if (!dat) {
			perror(path);
			return 1;
		}
		fprintf(dat, "# bits");
		for (mi = 0; mi < NMETHODS; mi++)
			fprintf(dat, " %s", nuq_qmethod_name(methods[mi]));
		fprintf(dat, "\n");
		for (b = MINB; b <= MAXB; b++) {
			fprintf(dat, "%u", b);
			for (mi = 0; mi < NMETHODS; mi++)
				if (sse[mi][b] > 0)
					fprintf(dat, " %.3f", 10 * log10(energy / sse[mi][b]));
				else
					fprintf(dat, " NaN");
			fprintf(dat, "\n");
		}
		fclose(dat);
		snprintf(cmd, sizeof(cmd),
			 "gnuplot -e \"set terminal png size 900,600; set output '%s.png'; "
			 "set title 'PaddleOCR weights: SQNR vs bits (per-layer codebooks)'; "
			 "set xlabel 'bits'; set ylabel 'SQNR (dB)'; set key left top; set grid; "
			 "plot for [i=2:%zu] '%s.dat' using 1:i with linespoints title columnheader(i)\"",
			 out, NMETHODS + 1, out);
		if (system(cmd))
			fprintf(stderr, "bench-quant: gnuplot failed; the data is in %s.dat\n", out);
		else
			printf("\nplot: %s.png (data: %s.dat)\n", out, out);
	}
	for (i = 0; i < nl; i++)
		free(layers[i].mat);
	free(layers);
	free(deq);
	for (k = 0; k < 3; k++)
		nuq_onnx_free(models[k]);
	return 0;
}
