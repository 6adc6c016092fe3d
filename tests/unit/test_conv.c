// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The shared integer conv core against the independent reference
 * (conv_ref.c): identical bits for randomised shapes and every weight
 * format, bit width and codebook strategy; against a float reference
 * within 1 LSB; extremes; the documented rounding cases.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <nuq/conv.h>

#include "conv_ref.h"
#include "nuq_conv.h"

static int run_core(struct test_job *tj)
{
	int code;

	return nuq_conv_run_cpu(&tj->job, (void *const *)tj->buf, tj->size, &code);
}

/* Run core and reference; assert identical outputs. */
static void check_identical(struct test_job *tj, const char *what)
{
	size_t n = tj->size[NUQ_T_OUTPUT];
	uint8_t *ref = malloc(n);
	int ret;

	assert_non_null(ref);
	ret = run_core(tj);
	if (ret)
		fail_msg("%s: core failed: %d", what, ret);
	assert_int_equal(conv_ref(&tj->job, tj->buf, ref), 0);
	if (memcmp(ref, tj->buf[NUQ_T_OUTPUT], n)) {
		size_t i;

		for (i = 0; i < n && ref[i] == tj->buf[NUQ_T_OUTPUT][i]; i++)
			;
		fail_msg("%s: output %zu differs: core %u, reference %u", what, i,
			 tj->buf[NUQ_T_OUTPUT][i], ref[i]);
	}
	free(ref);
}

static const uint32_t kernels[] = { 1, 3, 5, 7 };

static void random_shape(struct test_rng *r, struct test_shape *s, uint32_t wfmt, uint32_t bits)
{
	uint32_t kind = test_rand(r) % 4;

	memset(s, 0, sizeof(*s));
	s->wfmt = wfmt;
	s->bits = bits;
	s->batch = test_range(r, 1, 2);
	s->kh = kernels[test_rand(r) % 4];
	s->kw = test_rand(r) % 3 ? s->kh : kernels[test_rand(r) % 4];
	s->sh = test_range(r, 1, 2);
	s->sw = test_range(r, 1, 2);
	s->dh = test_rand(r) % 4 ? 1 : 2;
	s->dw = test_rand(r) % 4 ? 1 : 2;
	s->in_h = test_range(r, (s->kh - 1) * s->dh + 1, 13);
	s->in_w = test_range(r, (s->kw - 1) * s->dw + 1, 13);
	s->pt = test_range(r, 0, s->kh / 2 + 1);
	s->pb = test_range(r, 0, s->kh / 2);
	s->pl = test_range(r, 0, s->kw / 2);
	s->pr = test_range(r, 0, s->kw / 2 + 1);
	if (kind == 0) {		/* depthwise, sometimes with a multiplier */
		s->in_c = test_range(r, 1, 19);
		s->groups = s->in_c;
		s->out_c = s->in_c * test_range(r, 1, 2);
	} else if (kind == 1) {	/* grouped */
		s->groups = test_range(r, 2, 3);
		s->in_c = s->groups * test_range(r, 1, 5);
		s->out_c = s->groups * test_range(r, 1, 4);
	} else {
		s->groups = 1;
		s->in_c = test_range(r, 1, 21);
		s->out_c = test_range(r, 1, 17);
	}
	s->in_fmt = test_rand(r) % 2;
	s->out_fmt = test_rand(r) % 2;
	if (test_rand(r) % 3 == 0)
		s->flags |= NUQ_JOB_F_RESIDUAL;
	if (wfmt == NUQ_WFMT_CODEBOOK) {
		if (test_rand(r) % 2)
			s->flags |= NUQ_JOB_F_CODEBOOK_INT16;
		if (test_rand(r) % 3 == 0)
			s->flags |= NUQ_JOB_F_CODEBOOK_PER_LAYER;
		s->strategy = test_rand(r) % 3;
	}
}

static void random_format(uint32_t wfmt, uint32_t bits, int cases, uint64_t seed)
{
	struct test_rng r = { seed };
	int i, made = 0;

	for (i = 0; made < cases && i < cases * 10; i++) {
		struct test_shape s;
		struct test_job tj;
		char what[160];

		random_shape(&r, &s, wfmt, bits);
		if (test_job_make(&tj, &s, &r))
			continue;
		snprintf(what, sizeof(what),
			 "fmt %u bits %u case %d: %ux%ux%ux%u k%ux%u s%u/%u d%u/%u g%u oc%u strat %u",
			 wfmt, bits, i, s.batch, s.in_h, s.in_w, s.in_c, s.kh, s.kw, s.sh, s.sw,
			 s.dh, s.dw, s.groups, s.out_c, s.strategy);
		check_identical(&tj, what);
		test_job_free(&tj);
		made++;
	}
	assert_int_equal(made, cases);
}

/* Every CPU implementation gives the portable core's bytes. */
static void impls_identical(struct test_job *tj, const char *what)
{
	size_t n = tj->size[NUQ_T_OUTPUT];
	uint8_t *want = malloc(n);
	int impl, code;

	assert_non_null(want);
	memset(tj->buf[NUQ_T_OUTPUT], 0x5a, n);
	assert_int_equal(nuq_conv_run_cpu_impl(&tj->job, (void *const *)tj->buf, tj->size, &code,
					       NUQ_CONV_IMPL_PORTABLE), 0);
	memcpy(want, tj->buf[NUQ_T_OUTPUT], n);
	for (impl = NUQ_CONV_IMPL_GENERIC; impl <= NUQ_CONV_IMPL_AVX2; impl++) {
		if (!nuq_conv_impl_available(impl))
			continue;
		memset(tj->buf[NUQ_T_OUTPUT], 0xa5, n);
		assert_int_equal(nuq_conv_run_cpu_impl(&tj->job, (void *const *)tj->buf, tj->size,
						       &code, impl), 0);
		if (memcmp(want, tj->buf[NUQ_T_OUTPUT], n))
			fail_msg("%s: %s differs from portable", what, nuq_conv_impl_name(impl));
	}
	free(want);
}

static void every_impl_identical(void **state)
{
	static const uint32_t fmts[][2] = {
		{ NUQ_WFMT_INT8, 8 }, { NUQ_WFMT_ASD, 0 }, { NUQ_WFMT_CODEBOOK, 1 },
		{ NUQ_WFMT_CODEBOOK, 2 }, { NUQ_WFMT_CODEBOOK, 3 }, { NUQ_WFMT_CODEBOOK, 4 },
		{ NUQ_WFMT_CODEBOOK, 5 }, { NUQ_WFMT_CODEBOOK, 8 },
	};
	struct test_rng r = { 4242 };
	size_t f;
	int i;

	(void)state;
	for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		for (i = 0; i < 60; i++) {
			struct test_shape s;
			struct test_job tj;
			char what[96];

			random_shape(&r, &s, fmts[f][0], fmts[f][1]);
			if (test_job_make(&tj, &s, &r))
				continue;
			snprintf(what, sizeof(what), "fmt %u bits %u case %d", fmts[f][0], fmts[f][1], i);
			impls_identical(&tj, what);
			test_job_free(&tj);
		}
	}
}

/*
 * Shapes at the fast path's real sizes, which the small random shapes
 * above do not reach: depthwise over whole and partial 16-channel blocks,
 * 1x1 convs that read the image without im2col (even channel counts) and
 * ones that cannot (odd), several output rows per dot product with a short
 * last block, a fully connected layer.
 */
static void wide_shapes_identical(void **state)
{
#define SHAPE(b, h, w, ic, oc, kh_, kw_, sh_, sw_, dh_, dw_, pt_, pb_, pl_, pr_, g)	\
	{ .batch = b, .in_h = h, .in_w = w, .in_c = ic, .out_c = oc, .kh = kh_, .kw = kw_, \
	  .sh = sh_, .sw = sw_, .dh = dh_, .dw = dw_, .pt = pt_, .pb = pb_, .pl = pl_,	\
	  .pr = pr_, .groups = g }
	static const struct test_shape shapes[] = {
		/* batch h w in_c out_c kh kw sh sw dh dw pt pb pl pr groups */
		SHAPE(2, 9, 11, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16),
		SHAPE(1, 10, 9, 40, 40, 3, 3, 2, 2, 1, 1, 1, 0, 0, 1, 40),
		SHAPE(1, 11, 12, 24, 24, 5, 3, 1, 2, 2, 1, 2, 3, 1, 0, 24),
		SHAPE(2, 6, 7, 32, 48, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),
		SHAPE(1, 5, 9, 33, 20, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),
		SHAPE(1, 6, 6, 32, 32, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2),
		SHAPE(2, 17, 5, 64, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
		SHAPE(1, 9, 8, 48, 36, 3, 3, 2, 1, 1, 2, 0, 1, 2, 2, 3),
		SHAPE(3, 1, 1, 256, 10, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),
	};
#undef SHAPE
	static const uint32_t fmts[][2] = {
		{ NUQ_WFMT_INT8, 8 }, { NUQ_WFMT_CODEBOOK, 4 }, { NUQ_WFMT_ASD, 0 },
	};
	struct test_rng r = { 77 };
	size_t i, f;

	(void)state;
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
			struct test_shape s = shapes[i];
			struct test_job tj;
			char what[64];

			s.wfmt = fmts[f][0];
			s.bits = fmts[f][1];
			s.in_fmt = (i + f) % 2;
			s.out_fmt = i % 2;
			s.flags = i % 3 == 2 ? NUQ_JOB_F_RESIDUAL : 0;
			assert_int_equal(test_job_make(&tj, &s, &r), 0);
			snprintf(what, sizeof(what), "wide shape %zu, format %u", i, s.wfmt);
			impls_identical(&tj, what);
			test_job_free(&tj);
		}
	}
}

/*
 * Jobs large enough (>= 2^20 MACs) that the fast path shares their output
 * rows among threads (NUQ_THREADS, default the CPUs): GEMM with and
 * without im2col, grouped, depthwise, with a residual, a batch of two.
 * The rows are the same whoever computes them, so every implementation
 * must still give the portable core's bytes.
 */
static void threaded_shapes_identical(void **state)
{
	static const struct test_shape shapes[] = {
		{ .batch = 2, .in_h = 40, .in_w = 37, .in_c = 32, .out_c = 64, .kh = 3, .kw = 3,
		  .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pb = 1, .pl = 1, .pr = 1,
		  .groups = 1 },
		{ .batch = 1, .in_h = 64, .in_w = 64, .in_c = 64, .out_c = 96, .kh = 1, .kw = 1,
		  .sh = 1, .sw = 1, .dh = 1, .dw = 1, .groups = 1 },
		{ .batch = 1, .in_h = 90, .in_w = 70, .in_c = 48, .out_c = 48, .kh = 3, .kw = 3,
		  .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pb = 1, .pl = 1, .pr = 1,
		  .groups = 48 },
		{ .batch = 2, .in_h = 33, .in_w = 50, .in_c = 32, .out_c = 64, .kh = 3, .kw = 3,
		  .sh = 2, .sw = 2, .dh = 1, .dw = 1, .pt = 1, .pb = 0, .pl = 1, .pr = 0,
		  .groups = 4 },
	};
	struct test_rng r = { 91 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct test_shape s = shapes[i];
		struct test_job tj;
		char what[64];

		s.wfmt = i % 2 ? NUQ_WFMT_INT8 : NUQ_WFMT_CODEBOOK;
		s.bits = i % 2 ? 8 : 4;
		s.in_fmt = i % 2;
		s.out_fmt = (i / 2) % 2;
		s.flags = i == 2 ? NUQ_JOB_F_RESIDUAL : 0;
		assert_int_equal(test_job_make(&tj, &s, &r), 0);
		snprintf(what, sizeof(what), "threaded shape %zu", i);
		impls_identical(&tj, what);
		test_job_free(&tj);
	}
}

/*
 * The fast path keeps packed weights between jobs: a job whose weight or
 * codebook bytes changed in place (same buffers, same descriptor) must
 * never be served the old ones.
 */
static void weight_cache_never_stale(void **state)
{
	static const uint32_t fmts[][2] = {
		{ NUQ_WFMT_INT8, 8 }, { NUQ_WFMT_CODEBOOK, 4 }, { NUQ_WFMT_ASD, 0 },
	};
	struct test_rng r = { 99 };
	size_t f;
	int round;

	(void)state;
	for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		struct test_shape s = {
			.batch = 1, .in_h = 6, .in_w = 7, .in_c = 24, .out_c = 20, .kh = 3, .kw = 3,
			.sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pb = 1, .pl = 1, .pr = 1,
			.groups = 1, .wfmt = fmts[f][0], .bits = fmts[f][1],
		};
		struct test_job tj;

		assert_int_equal(test_job_make(&tj, &s, &r), 0);
		for (round = 0; round < 4; round++) {
			char what[64];

			snprintf(what, sizeof(what), "format %u, change %d", s.wfmt, round);
			impls_identical(&tj, what);
			/* ASD digits must stay well formed: swap two weights instead */
			if (round % 2 == 0 || s.wfmt == NUQ_WFMT_ASD) {
				uint8_t *w = tj.buf[NUQ_T_WEIGHTS], tmp[2];

				memcpy(tmp, w, 2);
				memcpy(w, w + 2 * (round + 1), 2);
				memcpy(w + 2 * (round + 1), tmp, 2);
				if (s.wfmt != NUQ_WFMT_ASD)
					w[0] ^= 0x5a;
			} else if (s.wfmt == NUQ_WFMT_CODEBOOK) {
				tj.buf[NUQ_T_CODEBOOK][1] += 17;
			} else {
				tj.buf[NUQ_T_WEIGHTS][tj.size[NUQ_T_WEIGHTS] - 1] ^= 0x81;
			}
		}
		test_job_free(&tj);
	}
}

/*
 * The weight cache and the scratch buffers are shared by all threads:
 * threads running the same jobs at once (so they hit the same cache
 * entries and take turns with the same buffers) all get the portable
 * core's bytes.
 */
#define RACE_THREADS	4
#define RACE_JOBS	24

static void *race_jobs(void *arg)
{
	struct test_rng r = { 555 };
	int i, *failed = arg;

	for (i = 0; i < RACE_JOBS; i++) {
		struct test_shape s;
		struct test_job tj;
		uint8_t *want;
		size_t n;
		int code, impl;

		random_shape(&r, &s, i % 2 ? NUQ_WFMT_CODEBOOK : NUQ_WFMT_INT8, i % 2 ? 4 : 8);
		s.in_c *= 3;		/* bigger than the random shapes: several blocks */
		s.out_c *= s.groups > 1 ? 1 : 3;
		if (s.groups > 1 && s.groups == s.in_c / 3)
			s.groups = s.in_c;
		if (test_job_make(&tj, &s, &r))
			continue;
		n = tj.size[NUQ_T_OUTPUT];
		want = malloc(n);
		if (!want || nuq_conv_run_cpu_impl(&tj.job, (void *const *)tj.buf, tj.size, &code,
						   NUQ_CONV_IMPL_PORTABLE)) {
			*failed = 1;
			free(want);
			test_job_free(&tj);
			break;
		}
		memcpy(want, tj.buf[NUQ_T_OUTPUT], n);
		for (impl = NUQ_CONV_IMPL_GENERIC; impl <= NUQ_CONV_IMPL_AVX2; impl++) {
			if (!nuq_conv_impl_available(impl))
				continue;
			memset(tj.buf[NUQ_T_OUTPUT], 0xa5, n);
			if (nuq_conv_run_cpu_impl(&tj.job, (void *const *)tj.buf, tj.size, &code,
						  impl) || memcmp(want, tj.buf[NUQ_T_OUTPUT], n))
				*failed = 1;
		}
		free(want);
		test_job_free(&tj);
	}
	return NULL;
}

static void threads_share_caches(void **state)
{
	pthread_t th[RACE_THREADS];
	int failed[RACE_THREADS] = { 0 };
	int i;

	(void)state;
	for (i = 0; i < RACE_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race_jobs, &failed[i]), 0);
	for (i = 0; i < RACE_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (failed[i])
			fail_msg("thread %d: a fast path differs from portable", i);
	}
}

/*
 * The portable core copies a tile's input rows into scratch (the row path)
 * unless they would take more than 1 MiB; then every weight format goes
 * through the per-tap loop, which must agree as well.
 */
static void long_rows_take_the_tap_loop(void **state)
{
	static const uint32_t fmts[][2] = {
		{ NUQ_WFMT_INT8, 8 }, { NUQ_WFMT_CODEBOOK, 3 }, { NUQ_WFMT_ASD, 0 },
	};
	static const char *const names[] = { "int8", "codebook", "ASD" };
	struct test_rng r = { 31 };
	size_t f;

	(void)state;
	for (f = 0; f < 3; f++) {
		struct test_shape s = {
			.batch = 1, .in_h = 3, .in_w = 1760, .in_c = 100, .out_c = 3, .kh = 3,
			.kw = 3, .sh = 1, .sw = 2, .dh = 1, .dw = 1, .pt = 1, .pb = 1, .pl = 1,
			.pr = 1, .groups = 1, .wfmt = fmts[f][0], .bits = fmts[f][1],
			.strategy = fmts[f][0] == NUQ_WFMT_CODEBOOK ? NUQ_CB_DIRECT : 0,
		};
		struct nuq_conv_plan plan;
		struct test_job tj;
		__u64 sizes[NUQ_T_COUNT];
		int i;

		assert_int_equal(test_job_make(&tj, &s, &r), 0);
		for (i = 0; i < NUQ_T_COUNT; i++)
			sizes[i] = tj.buf[i] ? tj.size[i] : 0;
		assert_int_equal(nuq_conv_validate(&tj.job, sizes, &plan), 0);
		assert_int_equal(plan.rows, 0);
		check_identical(&tj, names[f]);
		test_job_free(&tj);
	}
}

/*
 * The vectorised epilogue at the edges of requantization: biases that
 * overflow 32 bits with the sum, left shifts that saturate, right shifts
 * up to 31, multipliers 0, 2^30 and INT32_MAX, zero points at the ends;
 * on plain and depthwise shapes (channel counts around the vector width).
 */
static void requant_edges_identical(void **state)
{
	static const int32_t mults[] = { 0, 1 << 30, INT32_MAX, 1518500250 };
	static const int32_t shifts[] = { 30, 7, 1, 0, -1, -13, -30, -31 };
	static const int32_t biases[] = { INT32_MAX, INT32_MIN, 0, -1, 12345, -7777777 };
	struct test_rng r = { 2024 };
	int i, dw;

	(void)state;
	for (dw = 0; dw < 2; dw++)
	for (i = 0; i < 40; i++) {
		uint32_t c = 1 + test_range(&r, 0, 19);
		struct test_shape s = {
			.batch = 1, .in_h = 4, .in_w = 5, .in_c = c, .out_c = dw ? c : 3 + i % 17,
			.kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pb = 0,
			.pl = 0, .pr = 1, .groups = dw ? c : 1, .wfmt = NUQ_WFMT_INT8, .bits = 8,
			.in_fmt = i & 1 ? NUQ_AFMT_INT8 : NUQ_AFMT_UINT8,
			.out_fmt = i & 2 ? NUQ_AFMT_INT8 : NUQ_AFMT_UINT8,
		};
		struct test_job tj;
		char what[64];
		uint32_t o;

		assert_int_equal(test_job_make(&tj, &s, &r), 0);
		for (o = 0; o < s.out_c; o++) {
			int32_t m = mults[test_range(&r, 0, 3)], sh = shifts[test_range(&r, 0, 7)];
			int32_t b = biases[test_range(&r, 0, 5)];

			memcpy(tj.buf[NUQ_T_REQUANT] + 8 * o, &m, 4);
			memcpy(tj.buf[NUQ_T_REQUANT] + 8 * o + 4, &sh, 4);
			if (tj.buf[NUQ_T_BIAS])
				memcpy(tj.buf[NUQ_T_BIAS] + 4 * o, &b, 4);
		}
		tj.job.out_zero_point = s.out_fmt == NUQ_AFMT_INT8 ? (i & 4 ? -128 : 127) :
					(i & 4 ? 0 : 255);
		snprintf(what, sizeof(what), "%s case %d, %u channels", dw ? "depthwise" : "plain",
			 i, c);
		impls_identical(&tj, what);
		test_job_free(&tj);
	}
}

/*
 * A job of @s whose every weight is the int16 codebook entry -32513 and
 * every input 255 away from the zero point: K * 255 * 32513 passes 2^31.
 */
static void check_overflowing(const struct test_shape *s, struct test_rng *r, const char *what)
{
	struct test_job tj;
	size_t i;

	assert_int_equal(test_job_make(&tj, s, r), 0);
	for (i = 0; i + 1 < tj.size[NUQ_T_CODEBOOK]; i += 2) {
		tj.buf[NUQ_T_CODEBOOK][i] = 0xff;
		tj.buf[NUQ_T_CODEBOOK][i + 1] = 0x80;
	}
	memset(tj.buf[NUQ_T_INPUT], 255, tj.size[NUQ_T_INPUT]);
	tj.job.in_zero_point = 0;
	memset(tj.buf[NUQ_T_WEIGHTS], 0, tj.size[NUQ_T_WEIGHTS]);
	check_identical(&tj, what);
	impls_identical(&tj, what);
	test_job_free(&tj);
}

/*
 * Jobs outside the fast path's exact range go to the portable core, still
 * identical - and the portable core's own 32-bit sums must step aside too.
 */
static void fast_path_falls_back_exactly(void **state)
{
	struct test_shape s = { .batch = 1, .in_h = 5, .in_w = 6, .in_c = 64, .out_c = 3,
				.kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
				.pt = 1, .pb = 1, .pl = 1, .pr = 1, .groups = 1,
				.wfmt = NUQ_WFMT_CODEBOOK, .bits = 2, .in_fmt = NUQ_AFMT_UINT8,
				.out_fmt = NUQ_AFMT_INT8, .flags = NUQ_JOB_F_CODEBOOK_INT16 };
	struct test_shape one_run = s, dw = s;
	struct test_rng r = { 99 };
	struct test_job tj;
	size_t i;

	(void)state;
	/* K = 576 over three kernel rows */
	check_overflowing(&s, &r, "int16 codebook overflowing 32 bits");
	/* in one run of taps: a 1x1 conv over 320 channels */
	one_run.in_c = 320;
	one_run.kh = one_run.kw = 1;
	one_run.pt = one_run.pb = one_run.pl = one_run.pr = 0;
	check_overflowing(&one_run, &r, "int16 codebook overflowing 32 bits in one run");
	/* in one depthwise channel: 17x17 taps */
	dw.in_c = dw.out_c = dw.groups = 5;
	dw.in_h = dw.in_w = dw.kh = dw.kw = 17;
	check_overflowing(&dw, &r, "int16 codebook overflowing 32 bits, depthwise");

	/* ASD weights of 2^14 + 2^14 do not fit int16 */
	s.wfmt = NUQ_WFMT_ASD;
	s.bits = 0;
	s.flags = 0;
	assert_int_equal(test_job_make(&tj, &s, &r), 0);
	for (i = 0; i < tj.size[NUQ_T_WEIGHTS]; i++)
		tj.buf[NUQ_T_WEIGHTS][i] = 0x40 | 14;
	impls_identical(&tj, "ASD 2^15");
	test_job_free(&tj);
}

/*
 * Rows whose work passes NUQ_TILE_MACS are split into tiles of output
 * channels or of columns; run in reverse order by the portable core, they
 * must give the reference's bits, and libnuq's fast paths the same.
 */
static void large_rows_split_into_tiles(void **state)
{
	static const struct {
		const char *what;
		struct test_shape s;
		uint32_t rows;
	} cases[] = {
		{ "int8, runs of channels", { .batch = 1, .in_h = 2, .in_w = 128, .in_c = 256,
		  .out_c = 160, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .groups = 1,
		  .wfmt = NUQ_WFMT_INT8, .bits = 8 }, NUQ_ROWS_DOT },
		{ "ASD, runs of channels", { .batch = 1, .in_h = 1, .in_w = 128, .in_c = 256,
		  .out_c = 130, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .groups = 1,
		  .wfmt = NUQ_WFMT_ASD }, NUQ_ROWS_DOT },
		{ "entry sums, runs of channels", { .batch = 1, .in_h = 1, .in_w = 128,
		  .in_c = 256, .out_c = 140, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1,
		  .dw = 1, .groups = 1, .wfmt = NUQ_WFMT_CODEBOOK, .bits = 3,
		  .strategy = NUQ_CB_ENTRY_SUM }, NUQ_ROWS_NONE },
		{ "codebook, runs of columns", { .batch = 1, .in_h = 1, .in_w = 1100, .in_c = 64,
		  .out_c = 3, .kh = 1, .kw = 64, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pl = 2,
		  .groups = 1, .wfmt = NUQ_WFMT_CODEBOOK, .bits = 4 }, NUQ_ROWS_DOT },
		{ "depthwise, runs of columns", { .batch = 2, .in_h = 1, .in_w = 500,
		  .in_c = 1024, .out_c = 1024, .kh = 1, .kw = 16, .sh = 1, .sw = 1, .dh = 1,
		  .dw = 1, .groups = 1024, .wfmt = NUQ_WFMT_INT8, .bits = 8 },
		  NUQ_ROWS_DEPTHWISE },
	};
	struct test_rng r = { 77 };
	size_t c;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct nuq_conv_plan plan;
		struct test_job tj;
		__u64 sizes[NUQ_T_COUNT], per_tile;
		void *t[NUQ_T_COUNT];
		uint8_t *ref, *scratch;
		uint32_t tile;
		int i;

		assert_int_equal(test_job_make(&tj, &cases[c].s, &r), 0);
		for (i = 0; i < NUQ_T_COUNT; i++) {
			sizes[i] = tj.buf[i] ? tj.size[i] : 0;
			t[i] = tj.buf[i];
		}
		assert_int_equal(nuq_conv_validate(&tj.job, sizes, &plan), 0);
		assert_int_equal(plan.rows, cases[c].rows);
		if (plan.row_tiles < 2)
			fail_msg("%s: one tile per row", cases[c].what);
		per_tile = (__u64)plan.oc_tile * plan.ow_tile * plan.k;
		if (per_tile > NUQ_TILE_MACS)
			fail_msg("%s: %llu MACs per tile", cases[c].what,
				 (unsigned long long)per_tile);
		assert_int_equal(plan.tiles, tj.job.batch * tj.job.out_h * plan.row_tiles);

		ref = malloc(tj.size[NUQ_T_OUTPUT]);
		scratch = malloc(plan.scratch_bytes);
		assert_non_null(ref);
		assert_non_null(scratch);
		assert_int_equal(conv_ref(&tj.job, tj.buf, ref), 0);
		memset(tj.buf[NUQ_T_OUTPUT], 0x5a, tj.size[NUQ_T_OUTPUT]);
		for (tile = plan.tiles; tile-- > 0;)
			assert_int_equal(nuq_conv_run_tile(&tj.job, &plan, t, scratch, tile), 0);
		if (memcmp(ref, tj.buf[NUQ_T_OUTPUT], tj.size[NUQ_T_OUTPUT]))
			fail_msg("%s: tiles differ from the reference", cases[c].what);
		impls_identical(&tj, cases[c].what);
		free(scratch);
		free(ref);
		test_job_free(&tj);
	}
}

static void int8_matches_reference(void **state)
{
	(void)state;
	random_format(NUQ_WFMT_INT8, 8, 120, 1);
}

static void codebook_every_bit_width_matches_reference(void **state)
{
	uint32_t bits;

	(void)state;
	for (bits = 1; bits <= 8; bits++)
		random_format(NUQ_WFMT_CODEBOOK, bits, 40, 100 + bits);
}

static void asd_matches_reference(void **state)
{
	(void)state;
	random_format(NUQ_WFMT_ASD, 0, 120, 7);
}

/* The three codebook strategies compute the same exact sum. */
static void codebook_strategies_agree(void **state)
{
	struct test_rng r = { 42 };
	int i;

	(void)state;
	for (i = 0; i < 30; i++) {
		struct test_shape s;
		struct test_job tj;
		uint8_t *first = NULL;
		uint32_t st;

		random_shape(&r, &s, NUQ_WFMT_CODEBOOK, test_range(&r, 1, 8));
		if (test_job_make(&tj, &s, &r))
			continue;
		for (st = NUQ_CB_AUTO; st <= NUQ_CB_ENTRY_SUM; st++) {
			tj.job.cb_strategy = st;
			assert_int_equal(run_core(&tj), 0);
			if (!first) {
				first = malloc(tj.size[NUQ_T_OUTPUT]);
				memcpy(first, tj.buf[NUQ_T_OUTPUT], tj.size[NUQ_T_OUTPUT]);
			} else {
				assert_memory_equal(first, tj.buf[NUQ_T_OUTPUT],
						    tj.size[NUQ_T_OUTPUT]);
			}
		}
		free(first);
		test_job_free(&tj);
	}
}

/* A fully connected layer is a 1x1 convolution over a 1x1 image. */
static void fully_connected_as_1x1(void **state)
{
	struct test_rng r = { 9 };
	struct test_shape s = {
		.batch = 3, .in_h = 1, .in_w = 1, .in_c = 257, .out_c = 33, .kh = 1, .kw = 1,
		.sh = 1, .sw = 1, .dh = 1, .dw = 1, .groups = 1, .wfmt = NUQ_WFMT_CODEBOOK,
		.bits = 4,
	};
	struct test_job tj;

	(void)state;
	assert_int_equal(test_job_make(&tj, &s, &r), 0);
	check_identical(&tj, "fc");
	test_job_free(&tj);
}

/*
 * Float reference: dequantize, convolve in double, requantize by rounding.
 * The fixed-point multiplier is exact to 2^-31, so at most 1 LSB apart.
 */
static void float_reference_within_one_lsb(void **state)
{
	struct test_rng r = { 5 };
	int i, worst = 0;

	(void)state;
	for (i = 0; i < 40; i++) {
		struct test_shape s;
		struct test_job tj;
		struct nuq_conv_job *j = &tj.job;
		double in_scale = 0.02 + test_rand(&r) % 100 / 1000.0, out_scale = 0.05;
		uint32_t n, oh, ow, oc, kh, kw, c, icg, ocg;

		random_shape(&r, &s, NUQ_WFMT_INT8, 8);
		s.flags = 0;
		if (test_job_make(&tj, &s, &r))
			continue;
		j->out_min = s.out_fmt == NUQ_AFMT_INT8 ? -128 : 0;
		j->out_max = s.out_fmt == NUQ_AFMT_INT8 ? 127 : 255;
		icg = s.in_c / s.groups;
		ocg = s.out_c / s.groups;
		double *wscale = calloc(s.out_c, sizeof(double));

		for (oc = 0; oc < s.out_c; oc++) {
			int32_t m, sh;

			wscale[oc] = 0.001 + test_rand(&r) % 100 / 20000.0;
			assert_int_equal(nuq_quantize_multiplier(in_scale * wscale[oc] / out_scale,
								 &m, &sh), 0);
			memcpy(tj.buf[NUQ_T_REQUANT] + 8 * oc, &m, 4);
			memcpy(tj.buf[NUQ_T_REQUANT] + 8 * oc + 4, &sh, 4);
		}
		assert_int_equal(run_core(&tj), 0);

		for (n = 0; n < s.batch; n++)
		for (oh = 0; oh < j->out_h; oh++)
		for (ow = 0; ow < j->out_w; ow++)
		for (oc = 0; oc < s.out_c; oc++) {
			int32_t bias;
			double acc, v;
			size_t at = (((size_t)n * j->out_h + oh) * j->out_w + ow) * s.out_c + oc;
			int got, want, d;

			memcpy(&bias, tj.buf[NUQ_T_BIAS] + 4 * oc, 4);
			acc = bias * in_scale * wscale[oc];
			for (kh = 0; kh < s.kh; kh++)
			for (kw = 0; kw < s.kw; kw++)
			for (c = 0; c < icg; c++) {
				long ih = (long)oh * s.sh - s.pt + (long)kh * s.dh;
				long iw = (long)ow * s.sw - s.pl + (long)kw * s.dw;
				const uint8_t *px;
				int x;

				if (ih < 0 || iw < 0 || ih >= s.in_h || iw >= s.in_w)
					continue;
				px = tj.buf[NUQ_T_INPUT] +
				     (((size_t)n * s.in_h + ih) * s.in_w + iw) * s.in_c +
				     oc / ocg * icg + c;
				x = s.in_fmt == NUQ_AFMT_INT8 ? (int8_t)*px : *px;
				acc += (x - j->in_zero_point) * in_scale *
				       (int8_t)tj.buf[NUQ_T_WEIGHTS][(size_t)oc * s.kh * s.kw * icg +
						((size_t)kh * s.kw + kw) * icg + c] * wscale[oc];
			}
			v = round(acc / out_scale) + j->out_zero_point;
			want = v < j->out_min ? j->out_min : v > j->out_max ? j->out_max : (int)v;
			got = s.out_fmt == NUQ_AFMT_INT8 ? (int8_t)tj.buf[NUQ_T_OUTPUT][at] :
							   tj.buf[NUQ_T_OUTPUT][at];
			d = abs(got - want);
			if (d > worst)
				worst = d;
		}
		free(wscale);
		test_job_free(&tj);
	}
	print_message("# largest difference to the float reference: %d LSB\n", worst);
	assert_true(worst <= 1);
}

/* All inputs at one end, zero points at the ends: saturation, not wrap-around. */
static void extremes_saturate(void **state)
{
	static const int fill[] = { -128, 127 };
	static const int zps[] = { -128, 127 };
	int f, z;

	(void)state;
	for (f = 0; f < 2; f++)
	for (z = 0; z < 2; z++) {
		struct test_rng r = { 77 };
		struct test_shape s = {
			.batch = 1, .in_h = 5, .in_w = 5, .in_c = 64, .out_c = 4, .kh = 3,
			.kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pb = 1, .pl = 1,
			.pr = 1, .groups = 1, .wfmt = NUQ_WFMT_ASD,
		};
		struct test_job tj;
		size_t i;

		assert_int_equal(test_job_make(&tj, &s, &r), 0);
		tj.job.in_zero_point = zps[z];
		memset(tj.buf[NUQ_T_INPUT], (uint8_t)fill[f], tj.size[NUQ_T_INPUT]);
		/* every weight +2^14 + 2^14: the accumulator overflows 32 bits */
		memset(tj.buf[NUQ_T_WEIGHTS], 0x4e, tj.size[NUQ_T_WEIGHTS]);
		for (i = 0; i < s.out_c; i++) {
			int32_t m = INT32_MAX, sh = 30;

			memcpy(tj.buf[NUQ_T_REQUANT] + 8 * i, &m, 4);
			memcpy(tj.buf[NUQ_T_REQUANT] + 8 * i + 4, &sh, 4);
		}
		check_identical(&tj, "extremes");
		/* (x - zp) > 0 saturates at out_max, < 0 at out_min, 0 gives zp. */
		if (fill[f] != zps[z]) {
			int want = fill[f] > zps[z] ? tj.job.out_max : tj.job.out_min;
			size_t center = (2 * 5 + 2) * s.out_c;

			assert_int_equal(tj.job.out_format == NUQ_AFMT_INT8 ?
					 (int8_t)tj.buf[NUQ_T_OUTPUT][center] :
					 tj.buf[NUQ_T_OUTPUT][center], want);
		}
		test_job_free(&tj);
	}
}

/* The worked examples of Documentation/conv-job.rst. */
static void requantization_rounding_cases(void **state)
{
	(void)state;
	/* srdhm: round(a * b / 2^31), ties toward +infinity */
	assert_int_equal(nuq_srdhm(3, 1 << 30), 2);		/* 1.5 -> 2 */
	assert_int_equal(nuq_srdhm(-3, 1 << 30), -1);		/* -1.5 -> -1 */
	assert_int_equal(nuq_srdhm(-1, 1 << 30), 0);		/* -0.5 -> 0 */
	assert_int_equal(nuq_srdhm(1, 1 << 30), 1);		/* 0.5 -> 1 */
	assert_int_equal(nuq_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
	assert_int_equal(nuq_srdhm(INT32_MAX, INT32_MAX), INT32_MAX - 1);
	/* rounding right shift: ties away from zero */
	assert_int_equal(nuq_rounding_rshift(5, 1), 3);
	assert_int_equal(nuq_rounding_rshift(-5, 1), -3);
	assert_int_equal(nuq_rounding_rshift(3, 1), 2);
	assert_int_equal(nuq_rounding_rshift(-3, 1), -2);
	assert_int_equal(nuq_rounding_rshift(6, 2), 2);	/* 1.5 -> 2 */
	assert_int_equal(nuq_rounding_rshift(-6, 2), -2);
	assert_int_equal(nuq_rounding_rshift(-7, 2), -2);	/* -1.75 -> -2 */
	assert_int_equal(nuq_rounding_rshift(INT32_MIN, 31), -1);
	/* the whole step: acc 1000 * 0.75 / 4 = 187.5 -> 188 */
	assert_int_equal(nuq_requantize(1000, 3 << 29, -2), 188);
	assert_int_equal(nuq_requantize(-1000, 3 << 29, -2), -188);
	/* positive shift saturates before the multiply */
	assert_int_equal(nuq_requantize(INT32_MAX, 1 << 30, 2), 1073741824);
	assert_int_equal(nuq_requantize(1 << 29, 1 << 30, 3), 1073741824);
	/* the reference agrees on a sweep */
	for (int32_t a = -70000; a <= 70000; a += 77)
		for (int32_t sh = -31; sh <= 30; sh += 3)
			assert_int_equal(nuq_requantize(a, 1518500250, sh),
					 ref_requantize(a, 1518500250, sh));
}

static void quantize_multiplier(void **state)
{
	int32_t m, s;

	(void)state;
	assert_int_equal(nuq_quantize_multiplier(0.75, &m, &s), 0);
	assert_int_equal(m, 3 << 29);
	assert_int_equal(s, 0);
	assert_int_equal(nuq_quantize_multiplier(0.1875, &m, &s), 0);	/* 0.75 / 4 */
	assert_int_equal(m, 3 << 29);
	assert_int_equal(s, -2);
	assert_int_equal(nuq_quantize_multiplier(3.0, &m, &s), 0);
	assert_int_equal(m, 3 << 29);
	assert_int_equal(s, 2);
	/* just below 1: rounds up to 2^31 and renormalises */
	assert_int_equal(nuq_quantize_multiplier(0.99999999999, &m, &s), 0);
	assert_int_equal(m, 1 << 30);
	assert_int_equal(s, 1);
	assert_int_equal(nuq_quantize_multiplier(0, &m, &s), -ERANGE);
	assert_int_equal(nuq_quantize_multiplier(-1, &m, &s), -ERANGE);
	assert_int_equal(nuq_quantize_multiplier(NAN, &m, &s), -ERANGE);
	assert_int_equal(nuq_quantize_multiplier(1e-30, &m, &s), -ERANGE);
	assert_int_equal(nuq_quantize_multiplier(1e30, &m, &s), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(int8_matches_reference),
		cmocka_unit_test(every_impl_identical),
		cmocka_unit_test(wide_shapes_identical),
		cmocka_unit_test(threaded_shapes_identical),
		cmocka_unit_test(weight_cache_never_stale),
		cmocka_unit_test(threads_share_caches),
		cmocka_unit_test(long_rows_take_the_tap_loop),
		cmocka_unit_test(requant_edges_identical),
		cmocka_unit_test(fast_path_falls_back_exactly),
		cmocka_unit_test(codebook_every_bit_width_matches_reference),
		cmocka_unit_test(asd_matches_reference),
		cmocka_unit_test(codebook_strategies_agree),
		cmocka_unit_test(fully_connected_as_1x1),
		cmocka_unit_test(large_rows_split_into_tiles),
		cmocka_unit_test(float_reference_within_one_lsb),
		cmocka_unit_test(extremes_saturate),
		cmocka_unit_test(requantization_rounding_cases),
		cmocka_unit_test(quantize_multiplier),
	};

	return cmocka_run_group_tests_name("conv", tests, NULL, NULL);
}
