// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Every class of bad conv job descriptor gets its own NUQ_JOB_E_* code and
 * errno, and nothing runs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <nuq/conv.h>

#include "conv_ref.h"
#include "nuq_conv.h"

static struct test_job base_job(uint32_t wfmt, uint32_t flags)
{
	struct test_rng r = { 3 };
	struct test_shape s = {
		.batch = 1, .in_h = 6, .in_w = 6, .in_c = 4, .out_c = 4, .kh = 3, .kw = 3,
		.sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pb = 1, .pl = 1, .pr = 1,
		.groups = 2, .wfmt = wfmt, .bits = 4, .flags = flags,
	};
	struct test_job tj;

	assert_int_equal(test_job_make(&tj, &s, &r), 0);
	return tj;
}

static int validate(const struct test_job *tj)
{
	struct nuq_conv_plan plan;
	__u64 sizes[NUQ_T_COUNT];
	int i;

	for (i = 0; i < NUQ_T_COUNT; i++)
		sizes[i] = tj->size[i];
	return nuq_conv_validate(&tj->job, sizes, &plan);
}

/* Apply @mutate to a valid job and expect @code, from validation and from the CPU path. */
#define EXPECT_CODE(wfmt, flags, code, mutate)					\
	do {									\
		struct test_job tj = base_job(wfmt, flags);			\
		struct nuq_conv_job *j = &tj.job;				\
		int err = -1, ret;						\
		memset(tj.buf[NUQ_T_OUTPUT], 0xa5, tj.size[NUQ_T_OUTPUT]);	\
		assert_int_equal(validate(&tj), 0);				\
		mutate;								\
		(void)j;							\
		assert_int_equal(validate(&tj), -(code));			\
		ret = nuq_conv_run_cpu(&tj.job, (void *const *)tj.buf, tj.size, &err); \
		assert_int_equal(err, code);					\
		assert_int_equal(ret, -nuq_job_error_errno(code));		\
		/* nothing ran */						\
		for (size_t i = 0; i < tj.size[NUQ_T_OUTPUT]; i++)		\
			assert_int_equal(tj.buf[NUQ_T_OUTPUT][i], 0xa5);	\
		test_job_free(&tj);						\
	} while (0)

#define I8 NUQ_WFMT_INT8
#define CB NUQ_WFMT_CODEBOOK
#define ASD NUQ_WFMT_ASD

static void reserved_fields(void **state)
{
	(void)state;
	EXPECT_CODE(I8, 0, NUQ_JOB_E_RESERVED, j->pad = 1);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_RESERVED, j->rsvd[3] = 1ULL << 63);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_RESERVED, j->tensors[NUQ_T_BIAS].rsvd = 1);
}

static void flags_priority_formats(void **state)
{
	(void)state;
	EXPECT_CODE(I8, 0, NUQ_JOB_E_FLAGS, j->flags = 1U << 9);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_FLAGS, j->flags = NUQ_JOB_F_CODEBOOK_INT16);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_PRIORITY, j->priority = 4);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_WEIGHT_FORMAT, j->weight_format = 3);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_WEIGHT_FORMAT, j->cb_strategy = NUQ_CB_DIRECT);
	EXPECT_CODE(CB, 0, NUQ_JOB_E_WEIGHT_FORMAT, j->cb_strategy = 3);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_ACT_FORMAT, j->in_format = 2);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_ACT_FORMAT, j->out_format = ~0U);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_BITS, j->weight_bits = 4);
	EXPECT_CODE(CB, 0, NUQ_JOB_E_BITS, j->weight_bits = 0);
	EXPECT_CODE(CB, 0, NUQ_JOB_E_BITS, j->weight_bits = 9);
	EXPECT_CODE(ASD, 0, NUQ_JOB_E_BITS, j->weight_bits = 2);
}

static void shapes(void **state)
{
	(void)state;
	EXPECT_CODE(I8, 0, NUQ_JOB_E_SHAPE, j->in_h = 0);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_SHAPE, j->out_c = NUQ_MAX_DIM + 1);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_SHAPE, j->pad_left = NUQ_MAX_DIM + 1);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_SHAPE,
		    (j->kernel_h = 1024, j->kernel_w = 1024, j->pad_top = j->pad_bottom = 1023,
		     j->pad_left = j->pad_right = 1023, j->out_h = j->out_w = 1029));
	EXPECT_CODE(I8, 0, NUQ_JOB_E_STRIDE, j->stride_w = 0);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_STRIDE, j->dilation_h = 0);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_GROUPS, j->groups = 0);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_GROUPS, j->groups = 3);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_OUT_SHAPE, j->out_h++);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_OUT_SHAPE, (j->kernel_w = 9, j->out_w = 1));
}

static void quantization_parameters(void **state)
{
	(void)state;
	EXPECT_CODE(I8, 0, NUQ_JOB_E_ZERO_POINT, (j->in_format = NUQ_AFMT_INT8, j->in_zero_point = 128));
	EXPECT_CODE(I8, 0, NUQ_JOB_E_ZERO_POINT, (j->out_format = NUQ_AFMT_UINT8, j->out_zero_point = -1, j->out_min = 0, j->out_max = 255));
	EXPECT_CODE(I8, 0, NUQ_JOB_E_CLAMP, (j->out_min = 5, j->out_max = 4));
	EXPECT_CODE(I8, 0, NUQ_JOB_E_CLAMP, j->out_max = 300);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_RESIDUAL, j->res_multiplier = 1 << 30);
	EXPECT_CODE(I8, NUQ_JOB_F_RESIDUAL, NUQ_JOB_E_RESIDUAL, j->res_multiplier = 5);
	EXPECT_CODE(I8, NUQ_JOB_F_RESIDUAL, NUQ_JOB_E_RESIDUAL, j->res_shift = 31);
	EXPECT_CODE(I8, NUQ_JOB_F_RESIDUAL, NUQ_JOB_E_RESIDUAL, j->res_zero_point = 1000);
}

static void tensors(void **state)
{
	(void)state;
	EXPECT_CODE(I8, 0, NUQ_JOB_E_TENSOR_MISSING, j->tensors[NUQ_T_WEIGHTS].handle = 0);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_TENSOR_MISSING, j->tensors[NUQ_T_REQUANT].handle = 0);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_TENSOR_MISSING, j->tensors[NUQ_T_CODEBOOK].handle = 9);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_TENSOR_MISSING, j->tensors[NUQ_T_RESIDUAL].offset = 8);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_TENSOR_MISSING,
		    (j->tensors[NUQ_T_BIAS].handle = 0, j->tensors[NUQ_T_BIAS].offset = 4));
	EXPECT_CODE(I8, 0, NUQ_JOB_E_HANDLE, tj.size[NUQ_T_WEIGHTS] = NUQ_BO_UNRESOLVED);
	/* the descriptor's own mistakes come before unresolved handles */
	EXPECT_CODE(I8, 0, NUQ_JOB_E_GROUPS, (tj.size[NUQ_T_WEIGHTS] = NUQ_BO_UNRESOLVED, j->groups = 3));
	EXPECT_CODE(I8, 0, NUQ_JOB_E_BOUNDS, tj.size[NUQ_T_INPUT]--);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_BOUNDS, j->tensors[NUQ_T_OUTPUT].offset = 1);
	EXPECT_CODE(CB, 0, NUQ_JOB_E_BOUNDS, j->flags |= NUQ_JOB_F_CODEBOOK_INT16);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_OVERFLOW, j->tensors[NUQ_T_INPUT].offset = ~0ULL - 3);
	EXPECT_CODE(I8, 0, NUQ_JOB_E_OVERFLOW,
		    (j->batch = j->in_h = j->in_w = j->in_c = NUQ_MAX_DIM, j->groups = 1,
		     j->out_h = j->out_w = NUQ_MAX_DIM, j->kernel_h = j->kernel_w = 1,
		     j->pad_top = j->pad_bottom = j->pad_left = j->pad_right = 0));
	EXPECT_CODE(I8, 0, NUQ_JOB_E_ALIGN, (j->tensors[NUQ_T_BIAS].offset = 2, tj.size[NUQ_T_BIAS] += 2));
	EXPECT_CODE(I8, 0, NUQ_JOB_E_ALIGN, (j->tensors[NUQ_T_REQUANT].offset = 1, tj.size[NUQ_T_REQUANT] += 1));
}

/* Contents the validator cannot see fail the run, with their own codes. */
static void malformed_contents(void **state)
{
	struct test_job tj = base_job(I8, 0);
	int32_t bad = 5;
	int err;

	(void)state;
	memcpy(tj.buf[NUQ_T_REQUANT] + 8, &bad, 4);	/* multiplier below 2^30 */
	assert_int_equal(nuq_conv_run_cpu(&tj.job, (void *const *)tj.buf, tj.size, &err), -EINVAL);
	assert_int_equal(err, NUQ_JOB_E_REQUANT);
	test_job_free(&tj);

	tj = base_job(ASD, 0);
	tj.buf[NUQ_T_WEIGHTS][5] = 0x60;	/* reserved bit 5 set */
	assert_int_equal(nuq_conv_run_cpu(&tj.job, (void *const *)tj.buf, tj.size, &err), -EINVAL);
	assert_int_equal(err, NUQ_JOB_E_ASD_DIGIT);
	test_job_free(&tj);
}

static void errno_and_strings(void **state)
{
	int code;

	(void)state;
	assert_int_equal(nuq_job_error_errno(-NUQ_JOB_E_HANDLE), ENOENT);
	assert_int_equal(nuq_job_error_errno(NUQ_JOB_E_BOUNDS), ERANGE);
	assert_int_equal(nuq_job_error_errno(NUQ_JOB_E_OVERFLOW), EOVERFLOW);
	assert_int_equal(nuq_job_error_errno(NUQ_JOB_E_RESERVED), EINVAL);
	assert_int_equal(nuq_job_error_errno(0), 0);
	for (code = 0; code < NUQ_JOB_E_COUNT; code++) {
		assert_non_null(nuq_job_error_str(code));
		assert_string_not_equal(nuq_job_error_str(code), "unknown job error");
	}
	assert_string_equal(nuq_job_error_str(NUQ_JOB_E_COUNT), "unknown job error");
	assert_string_equal(nuq_job_error_str(-NUQ_JOB_E_BOUNDS), nuq_job_error_str(NUQ_JOB_E_BOUNDS));
}

/*
 * How validation splits rows into tiles of at most NUQ_TILE_MACS: the job
 * of issue 14 (a 1x1 conv of a 2048-pixel row, 256 to 14000 channels) and
 * the largest possible job's bound on the tile count.
 */
static void tiles_are_bounded(void **state)
{
	struct nuq_conv_job j = { 0 };
	struct nuq_conv_plan p;
	__u64 sizes[NUQ_T_COUNT] = { 0 };

	(void)state;
	j.weight_format = NUQ_WFMT_INT8;
	j.weight_bits = 8;
	j.batch = j.in_h = j.out_h = 1;
	j.in_w = j.out_w = 2048;
	j.in_c = 256;
	j.out_c = 14000;
	j.kernel_h = j.kernel_w = j.stride_h = j.stride_w = 1;
	j.dilation_h = j.dilation_w = j.groups = 1;
	j.out_max = 127;
	j.out_min = -128;
	j.tensors[NUQ_T_INPUT].handle = 1;
	j.tensors[NUQ_T_OUTPUT].handle = 2;
	j.tensors[NUQ_T_WEIGHTS].handle = 3;
	j.tensors[NUQ_T_REQUANT].handle = 4;
	sizes[NUQ_T_INPUT] = sizes[NUQ_T_OUTPUT] = sizes[NUQ_T_WEIGHTS] = 1ULL << 40;
	sizes[NUQ_T_REQUANT] = 1ULL << 40;
	assert_int_equal(nuq_conv_validate(&j, sizes, &p), 0);
	/* 2048 * 256 MACs per channel: 8 channels per tile, 1750 tiles */
	assert_int_equal(p.rows, NUQ_ROWS_DOT);
	assert_int_equal(p.oc_tile, 8);
	assert_int_equal(p.ow_tile, 2048);
	assert_int_equal(p.row_tiles, 1750);
	assert_int_equal(p.tiles, 1750);

	/* K = 2^20 and a 65535-wide row: one channel is 2^36 MACs, so columns */
	j.in_c = 4096;
	j.kernel_h = j.kernel_w = 16;
	j.in_h = 16;
	j.in_w = 65535;
	j.out_w = 65535 - 15;
	j.out_c = 3;
	assert_int_equal(nuq_conv_validate(&j, sizes, &p), 0);
	assert_int_equal(p.k, 1U << 20);
	assert_int_equal(p.oc_tile, 1);
	assert_int_equal(p.ow_tile, NUQ_TILE_MACS >> 20);
	assert_int_equal(p.row_tiles, 3 * ((65520 + 3) / 4));
	assert_true((__u64)p.oc_tile * p.ow_tile * p.k <= NUQ_TILE_MACS);
}

static void struct_layout_is_fixed(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct nuq_conv_job), 280);
	assert_int_equal(offsetof(struct nuq_conv_job, tensors), 136);
	assert_int_equal(sizeof(struct nuq_tensor_ref), 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reserved_fields),
		cmocka_unit_test(flags_priority_formats),
		cmocka_unit_test(shapes),
		cmocka_unit_test(quantization_parameters),
		cmocka_unit_test(tensors),
		cmocka_unit_test(malformed_contents),
		cmocka_unit_test(errno_and_strings),
		cmocka_unit_test(tiles_are_bounded),
		cmocka_unit_test(struct_layout_is_fixed),
	};

	return cmocka_run_group_tests_name("conv_validate", tests, NULL, NULL);
}
