/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * nuq integer convolution core.
 *
 * Freestanding C: no libc, no kernel headers beyond <linux/types.h>, no
 * floating point, no allocation.  Compiled unchanged into nuq.ko, libnuq
 * and the NPU emulator, so every backend computes the same bits.
 *
 * Use: nuq_conv_validate() checks a descriptor against the sizes of the
 * buffers its tensors live in and fills a plan; nuq_conv_run_tile() then
 * computes one tile given the tensors' addresses and scratch memory of
 * plan->scratch_bytes.  A tile is a part of one output row of one image
 * (a range of its output channels, or of its columns) of at most
 * NUQ_TILE_MACS multiply-accumulates, so a caller that checks for
 * cancellation between tiles never waits long for one.
 *
 * Tensors live in memory the job's submitter may change at any time (a
 * BO mapped into its process): the core reads every value it checks
 * once, into the plan, the stack or scratch, and uses that copy, so a
 * racing writer can make the results wrong but never the computation
 * undefined.
 */
#ifndef _NUQ_CONV_H_
#define _NUQ_CONV_H_

#include <linux/types.h>
#include <linux/nuq.h>

/**
 * struct nuq_conv_plan - what validation derived from a descriptor
 * @bytes: bytes each tensor needs, by &enum nuq_tensor_slot (0: unused)
 * @macs: multiply-accumulates of the whole job (scheduling cost)
 * @k: weights per output channel, kernel_h * kernel_w * in_c / groups
 * @in_cg: input channels per group
 * @out_cg: output channels per group
 * @tiles: number of tiles, batch * out_h * @row_tiles
 * @row_tiles: tiles per output row
 * @oc_tile: output channels per tile (all of them on the depthwise path)
 * @ow_tile: output columns per tile
 * @strategy: &enum nuq_cb_strategy resolved (never %NUQ_CB_AUTO)
 * @cb_entries: codebook entries per codebook, 1 << weight_bits
 * @rows: whether tiles copy their input rows into scratch first, and for
 *	which loop: &enum nuq_rows_path (see nuq_conv_run.c)
 * @row_width: padded input row width in pixels (in_w + pad_left + pad_right)
 * @scratch_bytes: scratch memory nuq_conv_run_tile() needs
 */
struct nuq_conv_plan {
	__u64 bytes[NUQ_T_COUNT];
	__u64 macs;
	__u32 k;
	__u32 in_cg;
	__u32 out_cg;
	__u32 tiles;
	__u32 row_tiles;
	__u32 oc_tile;
	__u32 ow_tile;
	__u32 strategy;
	__u32 cb_entries;
	__u32 rows;
	__u32 row_width;
	__u32 scratch_bytes;
};

enum nuq_rows_path {
	NUQ_ROWS_NONE,		/* taps read in place, bounds tested */
	NUQ_ROWS_DOT,		/* dot products over the copied rows */
	NUQ_ROWS_DEPTHWISE,	/* one channel per group: all channels at once */
};

/*
 * Most multiply-accumulates in one tile.  A single output takes at most
 * K <= 2^20 of them, so every tile holds at least a few outputs; the other
 * work of a tile (copying its input rows, decoding weights) is bounded by
 * the 1 MiB row and scratch limits.  About 25 ms in the kernel under QEMU's
 * TCG, a few ms natively.
 */
#define NUQ_TILE_MACS	0x400000U	/* 2^22 */

/* A bo_size[] value for a handle that names no buffer of the caller's. */
#define NUQ_BO_UNRESOLVED	(~0ULL)

/*
 * Check @job against @bo_size, the size of the buffer each tensor slot
 * points into (0 for a slot whose handle is 0, %NUQ_BO_UNRESOLVED for a
 * handle the caller could not resolve).  Returns 0 and fills @plan, or a
 * negative &enum nuq_job_error; mistakes in the descriptor itself are
 * reported before unresolved handles.
 */
int nuq_conv_validate(const struct nuq_conv_job *job, const __u64 bo_size[NUQ_T_COUNT],
		      struct nuq_conv_plan *plan);

/*
 * Compute tile @tile (< plan->tiles) of a validated job.  @t holds the
 * address of each tensor (NULL for unused slots), @scratch at least
 * plan->scratch_bytes bytes aligned to 8 (its contents need not survive
 * between calls: one buffer may serve any job).  Tiles are independent
 * and may run in any order.  Returns 0 or a negative &enum nuq_job_error
 * for malformed tensor contents (requantization parameters, ASD digits);
 * the tile's outputs may then be partly written.
 */
int nuq_conv_run_tile(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
		      void *const t[NUQ_T_COUNT], void *scratch, __u32 tile);

/* Little-endian loads: tensors need no alignment, results need no byte order. */
static inline __s32 nuq_ld_s32(const __u8 *p)
{
	return (__s32)((__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 | (__u32)p[3] << 24);
}

static inline __s32 nuq_ld_s16(const __u8 *p)
{
	return (__s16)((__u16)p[0] | (__u16)p[1] << 8);
}

/* One activation of &enum nuq_act_format @fmt. */
static inline __s32 nuq_ld_act(const __u8 *p, __u32 fmt)
{
	return fmt == NUQ_AFMT_INT8 ? (__s32)(__s8)*p : (__s32)*p;
}

/* Index @j of a LSB-first stream of @bits-bit indices (the codebook layout). */
__u32 nuq_index(const __u8 *row, __u32 j, __u32 bits);

/*
 * Output channel @oc's weights of a validated job with direct weights
 * (int8, or codebook entries looked up) as int16 into @w[plan->k], using
 * @table (256 int16) for the codebook's entries; returns the largest |w|.
 */
__s32 nuq_weights16(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
		    void *const tensors[NUQ_T_COUNT], __u32 oc, __s16 *w, __s16 *table);

/*
 * Terms per exact 32-bit partial sum: |x - zero point| <= 255 and every
 * weight is at most 2^15 in magnitude, and 256 * 255 * 2^15 < 2^31.
 */
#define NUQ_DOT_RUN	256

/* Whether an ASD digit byte is 0 or a well-formed signed power of two. */
int nuq_asd_digit_ok(__u8 d);

/* Whether a per-channel requantization multiplier and shift are in range. */
int nuq_requant_ok(__s32 multiplier, __s32 shift);

/* The positive errno value a &enum nuq_job_error stands for. */
int nuq_job_error_errno(int code);

/*
 * Requantization, gemmlowp/TFLite style (Documentation/conv-job.rst has
 * worked examples):
 *
 *   x = acc * 2^max(shift, 0), saturated to 32 bits
 *   y = srdhm(x, multiplier)                 (ties toward +inf)
 *   r = rounding_rshift(y, max(-shift, 0))   (round half away from zero)
 *
 * Inline, because every implementation runs it once per output element.
 */
#define NUQ_S32_MAX	0x7fffffff
#define NUQ_S32_MIN	(-NUQ_S32_MAX - 1)

/* Saturating rounding doubling high multiply: round(a * b / 2^31), ties up. */
static inline __s32 nuq_srdhm(__s32 a, __s32 b)
{
	__s64 ab, t;

	if (a == NUQ_S32_MIN && b == NUQ_S32_MIN)
		return NUQ_S32_MAX;
	ab = (__s64)a * b;
	/* Nudge by half, then divide truncating toward zero. */
	t = ab + (ab >= 0 ? (1LL << 30) : 1 - (1LL << 30));
	return (__s32)(t >= 0 ? t >> 31 : -((-t) >> 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero; 0 <= exponent <= 31. */
static inline __s32 nuq_rounding_rshift(__s32 x, int exponent)
{
	__s32 mask = (__s32)((1LL << exponent) - 1);
	__s32 rem = x & mask;
	__s32 threshold = (mask >> 1) + (x < 0 ? 1 : 0);

	return (x >> exponent) + (rem > threshold ? 1 : 0);
}

static inline __s32 nuq_requantize(__s32 acc, __s32 multiplier, __s32 shift)
{
	__s64 x = acc;

	if (shift > 0) {
		x *= 1LL << shift;
		if (x > NUQ_S32_MAX)
			x = NUQ_S32_MAX;
		if (x < NUQ_S32_MIN)
			x = NUQ_S32_MIN;
	}
	return nuq_rounding_rshift(nuq_srdhm((__s32)x, multiplier), shift < 0 ? -shift : 0);
}

/*
 * The output byte @at (an element index of the output tensor) for an exact
 * accumulator @acc, bias included: saturate to 32 bits, requantize, add the
 * output zero point and the rescaled residual element @at of @res (when
 * @res is not NULL), clamp.  Every implementation that computes
 * accumulators its own way finishes with this.
 */
static inline __u8 nuq_conv_output(const struct nuq_conv_job *job, __s64 acc, __s32 multiplier,
				   __s32 shift, const __u8 *res, __u64 at)
{
	__s64 v;

	if (acc > NUQ_S32_MAX)
		acc = NUQ_S32_MAX;
	if (acc < NUQ_S32_MIN)
		acc = NUQ_S32_MIN;
	v = (__s64)nuq_requantize((__s32)acc, multiplier, shift) + job->out_zero_point;
	if (res)
		v += nuq_requantize(nuq_ld_act(res + at, job->out_format) - job->res_zero_point,
				    job->res_multiplier, job->res_shift);
	if (v < job->out_min)
		v = job->out_min;
	if (v > job->out_max)
		v = job->out_max;
	return (__u8)v;
}

#endif /* _NUQ_CONV_H_ */
