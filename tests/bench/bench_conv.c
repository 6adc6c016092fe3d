// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-conv: the nuq integer core against oneDNN int8, XNNPACK int8 and
 * an OpenBLAS sgemm-based fp32 convolution, on the same layer shapes, in
 * the same run, all single-threaded (the core runs on one thread; the
 * Makefile sets OMP_NUM_THREADS=1 and OPENBLAS_NUM_THREADS=1).
 *
 * Shapes: conv layers of the PaddleOCR PP-OCRv4 models (as a 640x640 page
 * and a 48x320 text line feed them) and ResNet-18-like 3x3 layers.
 * Printed: GOPS (2 x MACs per second) per implementation, then the
 * geometric-mean ratios the issue sets targets for.
 */
#include <cblas.h>
#include <math.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xnnpack.h>

#include <nuq/conv.h>

#include "conv_ref.h"

struct shape {
	const char *name;
	uint32_t h, w, c, oc, k, s, p, g;
};

static const struct shape shapes[] = {
	{ "det Conv.0 3x3 s2 3->16", 640, 640, 3, 16, 3, 2, 1, 1 },
	{ "det Conv.1 dw3x3 16", 320, 320, 16, 16, 3, 1, 1, 16 },
	{ "det Conv.2 1x1 16->32", 320, 320, 16, 32, 1, 1, 0, 1 },
	{ "det Conv.4 1x1 32->48", 160, 160, 32, 48, 1, 1, 0, 1 },
	{ "rec Conv.4 1x1 32->64", 24, 160, 32, 64, 1, 1, 0, 1 },
	{ "resnet 3x3 64->64 @56", 56, 56, 64, 64, 3, 1, 1, 1 },
	{ "resnet 3x3 128->128 @28", 28, 28, 128, 128, 3, 1, 1, 1 },
	{ "resnet 3x3 256->256 @14", 14, 14, 256, 256, 3, 1, 1, 1 },
};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

/* nuq's weight formats, on the portable core and on the vectorised path, then the peers. */
enum { PORT_I8, PORT_CB2, PORT_CB3, PORT_CB4, PORT_CB8, PORT_ASD,
       NUQ_I8, NUQ_CB2, NUQ_CB3, NUQ_CB4, NUQ_CB8, NUQ_ASD, ONEDNN, XNN, BLAS, NIMPL };
#define NUQ_FORMATS	6
static const char *const impl_names[NIMPL] = {
	"port-i8", "port-cb2", "port-cb3", "port-cb4", "port-cb8", "port-asd",
	"vec-i8", "vec-cb2", "vec-cb3", "vec-cb4", "vec-cb8", "vec-asd",
	"onednn", "xnnpack", "blas-f32",
};
static const uint32_t nuq_formats[NUQ_FORMATS][2] = {
	{ NUQ_WFMT_INT8, 8 }, { NUQ_WFMT_CODEBOOK, 2 }, { NUQ_WFMT_CODEBOOK, 3 },
	{ NUQ_WFMT_CODEBOOK, 4 }, { NUQ_WFMT_CODEBOOK, 8 }, { NUQ_WFMT_ASD, 0 },
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef int (*run_fn)(void *arg);

/* Best time of one run: repeat for at least 0.1 s (at least 2 runs). */
static double best_time(run_fn fn, void *arg)
{
	double best = 1e30, start = now();
	int n = 0;

	if (fn(arg))
		return -1;
	while (n < 2 || now() - start < 0.1) {
		double t0 = now();

		if (fn(arg))
			return -1;
		t0 = now() - t0;
		if (t0 < best)
			best = t0;
		n++;
	}
	return best;
}

static uint32_t out_dim(uint32_t in, const struct shape *s)
{
	return (in + 2 * s->p - s->k) / s->s + 1;
}

/* ---- nuq ---------------------------------------------------------------- */

struct nuq_bench {
	struct test_job tj;
	enum nuq_conv_impl impl;
};

static int run_nuq(void *arg)
{
	struct nuq_bench *b = arg;
	int err;

	return nuq_conv_run_cpu_impl(&b->tj.job, (void *const *)b->tj.buf, b->tj.size, &err,
				     b->impl);
}

static double bench_nuq(const struct shape *s, uint32_t wfmt, uint32_t bits,
			enum nuq_conv_impl impl)
{
	struct test_rng r = { 7 };
	struct test_shape ts = {
		.batch = 1, .in_h = s->h, .in_w = s->w, .in_c = s->c, .out_c = s->oc,
		.kh = s->k, .kw = s->k, .sh = s->s, .sw = s->s, .dh = 1, .dw = 1,
		.pt = s->p, .pb = s->p, .pl = s->p, .pr = s->p, .groups = s->g,
		.wfmt = wfmt, .bits = bits,
	};
	struct nuq_bench b = { .impl = impl };
	double t;

	if (test_job_make(&b.tj, &ts, &r))
		return -1;
	/*
	 * The test builder draws ASD exponents up to 14, whose sums overflow
	 * the fast path's int16 weights and send the job to the portable core.
	 * Quantized weights use small exponents (asd_max_exp defaults to 7):
	 * keep the bench's digits in that range so it measures the fast path.
	 */
	if (wfmt == NUQ_WFMT_ASD) {
		size_t i;

		for (i = 0; i < b.tj.size[NUQ_T_WEIGHTS]; i++)
			if (b.tj.buf[NUQ_T_WEIGHTS][i])
				b.tj.buf[NUQ_T_WEIGHTS][i] &= 0xc7;	/* exponent 0-7 */
	}
	t = best_time(run_nuq, &b);
	test_job_free(&b.tj);
	return t;
}

/* ---- oneDNN int8 -------------------------------------------------------- */

struct dnnl_bench {
	dnnl_stream_t stream;
	dnnl_primitive_t conv;
	dnnl_exec_arg_t args[4];
};

static int run_dnnl(void *arg)
{
	struct dnnl_bench *b = arg;

	if (dnnl_primitive_execute(b->conv, b->stream, 4, b->args) != dnnl_success)
		return -1;
	return dnnl_stream_wait(b->stream) != dnnl_success;
}

static double bench_onednn(const struct shape *s)
{
	uint32_t oh = out_dim(s->h, s), ow = out_dim(s->w, s), i;
	dnnl_dims_t src_d = { 1, s->c, s->h, s->w }, dst_d = { 1, s->oc, oh, ow };
	dnnl_dims_t bias_d = { s->oc }, strides = { s->s, s->s }, dil = { 0, 0 };
	dnnl_dims_t pad = { s->p, s->p };
	dnnl_memory_desc_t src_md, wei_md, user_wei_md, bias_md, dst_md, any_wei_md;
	dnnl_convolution_desc_t cd;
	dnnl_primitive_desc_t pd, rpd;
	dnnl_primitive_attr_t attr;
	dnnl_engine_t eng;
	dnnl_memory_t src, wei, user_wei, bias, dst;
	dnnl_primitive_t reorder;
	struct dnnl_bench b;
	size_t wn = (size_t)s->oc * (s->c / s->g) * s->k * s->k;
	int8_t *w8 = malloc(wn), *in = malloc((size_t)s->h * s->w * s->c);
	int8_t *out = malloc((size_t)oh * ow * s->oc);
	int32_t *bias32 = calloc(s->oc, 4);
	float *scales = malloc(s->oc * sizeof(float));
	double t = -1;

	for (i = 0; i < wn; i++)
		w8[i] = (int8_t)(i * 37);
	for (i = 0; i < (size_t)s->h * s->w * s->c; i++)
		in[i] = (int8_t)(i * 11);
	for (i = 0; i < s->oc; i++)
		scales[i] = 0.001f;

	if (dnnl_engine_create(&eng, dnnl_cpu, 0) || dnnl_stream_create(&b.stream, eng, dnnl_stream_default_flags))
		return -1;
	dnnl_memory_desc_init_by_tag(&src_md, 4, src_d, dnnl_s8, dnnl_nhwc);
	dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_d, dnnl_s8, dnnl_nhwc);
	dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_d, dnnl_s32, dnnl_x);
	if (s->g == 1) {
		dnnl_dims_t wd = { s->oc, s->c, s->k, s->k };

		dnnl_memory_desc_init_by_tag(&user_wei_md, 4, wd, dnnl_s8, dnnl_ohwi);
		dnnl_memory_desc_init_by_tag(&any_wei_md, 4, wd, dnnl_s8, dnnl_format_tag_any);
	} else {
		dnnl_dims_t wd = { s->g, s->oc / s->g, s->c / s->g, s->k, s->k };

		dnnl_memory_desc_init_by_tag(&user_wei_md, 5, wd, dnnl_s8, dnnl_goihw);
		dnnl_memory_desc_init_by_tag(&any_wei_md, 5, wd, dnnl_s8, dnnl_format_tag_any);
	}
	if (dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference,
			dnnl_convolution_direct, &src_md, &any_wei_md, &bias_md, &dst_md,
			strides, dil, pad, pad))
		goto out;
	dnnl_primitive_attr_create(&attr);
	dnnl_primitive_attr_set_output_scales(attr, s->oc, 1 << 1, scales);
	if (dnnl_primitive_desc_create(&pd, &cd, attr, eng, NULL))
		goto out;
	wei_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
	dnnl_memory_create(&src, &src_md, eng, in);
	dnnl_memory_create(&dst, &dst_md, eng, out);
	dnnl_memory_create(&bias, &bias_md, eng, bias32);
	dnnl_memory_create(&user_wei, &user_wei_md, eng, w8);
	dnnl_memory_create(&wei, &wei_md, eng, DNNL_MEMORY_ALLOCATE);
	/* weights are laid out once, ahead of time, as for inference */
	if (dnnl_reorder_primitive_desc_create(&rpd, &user_wei_md, eng, &wei_md, eng, NULL) ||
	    dnnl_primitive_create(&reorder, rpd))
		goto out;
	{
		dnnl_exec_arg_t ra[2] = { { DNNL_ARG_FROM, user_wei }, { DNNL_ARG_TO, wei } };

		dnnl_primitive_execute(reorder, b.stream, 2, ra);
		dnnl_stream_wait(b.stream);
	}
	if (dnnl_primitive_create(&b.conv, pd))
		goto out;
	b.args[0] = (dnnl_exec_arg_t){ DNNL_ARG_SRC, src };
	b.args[1] = (dnnl_exec_arg_t){ DNNL_ARG_WEIGHTS, wei };
	b.args[2] = (dnnl_exec_arg_t){ DNNL_ARG_BIAS, bias };
	b.args[3] = (dnnl_exec_arg_t){ DNNL_ARG_DST, dst };
	t = best_time(run_dnnl, &b);
out:
	free(w8);
	free(in);
	free(out);
	free(bias32);
	free(scales);
	return t;
}

/* ---- XNNPACK int8 (per-channel weights) --------------------------------- */

struct xnn_bench {
	xnn_operator_t op;
};

static int run_xnn(void *arg)
{
	return xnn_run_operator(((struct xnn_bench *)arg)->op, NULL) != xnn_status_success;
}

static double bench_xnnpack(const struct shape *s)
{
	uint32_t oh = out_dim(s->h, s), ow = out_dim(s->w, s), i;
	size_t wn = (size_t)s->oc * (s->c / s->g) * s->k * s->k;
	int8_t *w8 = malloc(wn), *in = malloc((size_t)s->h * s->w * s->c + 64);
	int8_t *out = malloc((size_t)oh * ow * s->oc);
	int32_t *bias = calloc(s->oc, 4);
	float *ks = malloc(s->oc * sizeof(float));
	struct xnn_bench b;
	double t = -1;

	for (i = 0; i < wn; i++)
		w8[i] = (int8_t)(i * 37);
	for (i = 0; i < (size_t)s->h * s->w * s->c; i++)
		in[i] = (int8_t)(i * 11);
	for (i = 0; i < s->oc; i++)
		ks[i] = 0.01f;
	if (xnn_create_convolution2d_nhwc_qc8(s->p, s->p, s->p, s->p, s->k, s->k, s->s, s->s, 1, 1,
					      s->g, s->c / s->g, s->oc / s->g, s->c, s->oc, 0, 0.05f,
					      ks, w8, bias, 0, 0.5f, -128, 127, 0, &b.op) ||
	    xnn_setup_convolution2d_nhwc_qc8(b.op, 1, s->h, s->w, in, out, NULL))
		goto out;
	t = best_time(run_xnn, &b);
	xnn_delete_operator(b.op);
out:
	free(w8);
	free(in);
	free(out);
	free(bias);
	free(ks);
	return t;
}

/* ---- OpenBLAS fp32: im2col + sgemm per group ---------------------------- */

struct blas_bench {
	const struct shape *s;
	float *in, *w, *col, *out;
};

static int run_blas(void *arg)
{
	struct blas_bench *b = arg;
	const struct shape *s = b->s;
	uint32_t oh = out_dim(s->h, s), ow = out_dim(s->w, s);
	uint32_t cg = s->c / s->g, ocg = s->oc / s->g, kk = s->k * s->k * cg, g, y, x, ky, kx, c;

	for (g = 0; g < s->g; g++) {
		float *col = b->col;

		for (y = 0; y < oh; y++)
		for (x = 0; x < ow; x++)
		for (ky = 0; ky < s->k; ky++)
		for (kx = 0; kx < s->k; kx++) {
			int iy = (int)(y * s->s + ky) - (int)s->p, ix = (int)(x * s->s + kx) - (int)s->p;

			for (c = 0; c < cg; c++)
				*col++ = iy < 0 || ix < 0 || iy >= (int)s->h || ix >= (int)s->w ? 0 :
					 b->in[((size_t)iy * s->w + ix) * s->c + g * cg + c];
		}
		/* out[p][g*ocg + o] = sum_k col[p][k] * w[g*ocg + o][k] */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, oh * ow, ocg, kk, 1.0f,
			    b->col, kk, b->w + (size_t)g * ocg * kk, kk, 0.0f, b->out + g * ocg,
			    s->oc);
	}
	return 0;
}

static double bench_blas(const struct shape *s)
{
	uint32_t oh = out_dim(s->h, s), ow = out_dim(s->w, s);
	size_t kk = (size_t)s->k * s->k * (s->c / s->g), i;
	struct blas_bench b = {
		.s = s,
		.in = malloc(sizeof(float) * s->h * s->w * s->c),
		.w = malloc(sizeof(float) * s->oc * kk),
		.col = malloc(sizeof(float) * oh * ow * kk),
		.out = malloc(sizeof(float) * oh * ow * s->oc),
	};
	double t;

	for (i = 0; i < (size_t)s->h * s->w * s->c; i++)
		b.in[i] = (float)(i % 13) / 13;
	for (i = 0; i < s->oc * kk; i++)
		b.w[i] = (float)(i % 7) / 7;
	t = best_time(run_blas, &b);
	free(b.in);
	free(b.w);
	free(b.col);
	free(b.out);
	return t;
}

#define SWEEPS	3

/* Usage: bench_conv [PATTERN]: only the layers whose name contains PATTERN. */
int main(int argc, char **argv)
{
	static double gops[NSHAPES][NIMPL];
	double lr[3] = { 0 }, i8_vs_dnnl = 0, port_vs_vec = 0;
	enum nuq_conv_impl vec = nuq_conv_impl_available(NUQ_CONV_IMPL_AVX2) ?
				 NUQ_CONV_IMPL_AVX2 : NUQ_CONV_IMPL_GENERIC;
	unsigned int i, j, n = 0, sweep;

	if (xnn_initialize(NULL) != xnn_status_success) {
		fprintf(stderr, "bench-conv: xnn_initialize failed\n");
		return 1;
	}
	openblas_set_num_threads(1);
	printf("# GOPS (2 x MAC / s), single thread; port = the portable core (the kernel's),\n"
	       "# vec = libnuq's vectorised path (%s)\n", nuq_conv_impl_name(vec));
	printf("%-26s %8s", "layer", "MMAC");
	for (j = 0; j < NIMPL; j++)
		printf(" %9s", impl_names[j]);
	printf("\n");
	for (i = 0; i < NSHAPES; i++) {
		const struct shape *s = &shapes[i];
		double macs = (double)out_dim(s->h, s) * out_dim(s->w, s) * s->oc *
			      s->k * s->k * (s->c / s->g);
		double t[NIMPL];

		if (argc > 1 && !strstr(s->name, argv[1]))
			continue;
		/*
		 * Every implementation once per sweep, the best of SWEEPS: a burst
		 * of load from elsewhere on the machine then spoils at most one
		 * sweep of a cell instead of a whole column.
		 */
		for (j = 0; j < NIMPL; j++)
			t[j] = -1;
		for (sweep = 0; sweep < SWEEPS; sweep++) {
			double ts[NIMPL];

			for (j = 0; j < NUQ_FORMATS; j++) {
				ts[PORT_I8 + j] = bench_nuq(s, nuq_formats[j][0], nuq_formats[j][1],
							    NUQ_CONV_IMPL_PORTABLE);
				ts[NUQ_I8 + j] = bench_nuq(s, nuq_formats[j][0], nuq_formats[j][1],
							   vec);
			}
			ts[ONEDNN] = bench_onednn(s);
			ts[XNN] = bench_xnnpack(s);
			ts[BLAS] = bench_blas(s);
			for (j = 0; j < NIMPL; j++)
				if (ts[j] > 0 && (t[j] < 0 || ts[j] < t[j]))
					t[j] = ts[j];
		}
		printf("%-26s %8.1f", s->name, macs / 1e6);
		for (j = 0; j < NIMPL; j++) {
			gops[i][j] = t[j] > 0 ? 2 * macs / t[j] / 1e9 : 0;
			if (t[j] > 0)
				printf(" %9.2f", gops[i][j]);
			else
				printf(" %9s", "failed");
		}
		printf("\n");
		fflush(stdout);
		if (gops[i][NUQ_CB4] > 0 && gops[i][ONEDNN] > 0 && gops[i][XNN] > 0 &&
		    gops[i][BLAS] > 0) {
			lr[0] += log(gops[i][NUQ_CB4] / gops[i][ONEDNN]);
			lr[1] += log(gops[i][NUQ_CB4] / gops[i][XNN]);
			lr[2] += log(gops[i][NUQ_CB4] / gops[i][BLAS]);
			i8_vs_dnnl += log(gops[i][NUQ_I8] / gops[i][ONEDNN]);
			port_vs_vec += log(gops[i][PORT_CB4] / gops[i][NUQ_CB4]);
			n++;
		}
	}
	if (!n) {
		printf("no shape ran on every implementation\n");
		return 1;
	}
	printf("\n# per layer: the vectorised 4-bit codebook path against each peer, and the\n"
	       "# portable core's 4-bit codebook against it\n");
	printf("%-26s %9s %9s %9s %9s\n", "layer", "/onednn", "/xnnpack", "/blas-f32", "port/vec");
	for (i = 0; i < NSHAPES; i++) {
		if (gops[i][NUQ_CB4] <= 0 || gops[i][ONEDNN] <= 0 || gops[i][XNN] <= 0 ||
		    gops[i][BLAS] <= 0)
			continue;
		printf("%-26s %8.2fx %8.2fx %8.2fx %8.3fx\n", shapes[i].name,
		       gops[i][NUQ_CB4] / gops[i][ONEDNN], gops[i][NUQ_CB4] / gops[i][XNN],
		       gops[i][NUQ_CB4] / gops[i][BLAS], gops[i][PORT_CB4] / gops[i][NUQ_CB4]);
	}
	printf("\n# geometric means over %u shapes\n", n);
	printf("vec 4-bit codebook / oneDNN int8:   %6.3fx  (target >= 0.8x)\n", exp(lr[0] / n));
	printf("vec 4-bit codebook / XNNPACK int8:  %6.3fx\n", exp(lr[1] / n));
	printf("vec 4-bit codebook / OpenBLAS fp32: %6.3fx  (target >= 3x)\n", exp(lr[2] / n));
	printf("vec int8 / oneDNN int8:             %6.3fx\n", exp(i8_vs_dnnl / n));
	printf("portable / vec (4-bit codebook):    %6.3fx  (target >= 0.25x, within 4x)\n",
	       exp(port_vs_vec / n));
	xnn_deinitialize();
	return 0;
}
