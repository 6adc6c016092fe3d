// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * nuq integer convolution core: descriptor validation.
 *
 * Pure: reads the descriptor and the buffer sizes, writes the plan.  Every
 * size is computed in 64 bits with overflow checks, every field is range
 * checked, and each class of mistake has its own code.
 */

#include "nuq_conv.h"

/* Weights per output channel beyond this are refused (scratch is 2 bytes each). */
#define NUQ_MAX_K		1048576U
/* Input rows a tile may copy into scratch (nuq_conv_run.c), in bytes. */
#define NUQ_MAX_ROW_BYTES	0x100000U	/* 1 MiB */
/* No tensor may be larger than this; keeps every sum far from overflow. */
#define NUQ_MAX_TENSOR		0x1000000000000ULL	/* 2^48 */

static int nuq_mul(__u64 a, __u64 b, __u64 *out)
{
	if (__builtin_mul_overflow(a, b, out) || *out > NUQ_MAX_TENSOR)
		return -NUQ_JOB_E_OVERFLOW;
	return 0;
}

static int nuq_act_min(__u32 fmt)
{
	return fmt == NUQ_AFMT_INT8 ? -128 : 0;
}

static int nuq_act_max(__u32 fmt)
{
	return fmt == NUQ_AFMT_INT8 ? 127 : 255;
}

static int nuq_in_range(__s32 v, __u32 fmt)
{
	return v >= nuq_act_min(fmt) && v <= nuq_act_max(fmt);
}

static int nuq_dim_ok(__u32 v)
{
	return v >= 1 && v <= NUQ_MAX_DIM;
}

static int nuq_check_reserved(const struct nuq_conv_job *job)
{
	int i;

	if (job->pad)
		return -NUQ_JOB_E_RESERVED;
	for (i = 0; i < 4; i++)
		if (job->rsvd[i])
			return -NUQ_JOB_E_RESERVED;
	for (i = 0; i < NUQ_T_COUNT; i++)
		if (job->tensors[i].rsvd)
			return -NUQ_JOB_E_RESERVED;
	return 0;
}

static int nuq_check_formats(const struct nuq_conv_job *job)
{
	__u32 cb_flags = NUQ_JOB_F_CODEBOOK_PER_LAYER | NUQ_JOB_F_CODEBOOK_INT16;
	int codebook = job->weight_format == NUQ_WFMT_CODEBOOK;

	if (job->flags & ~NUQ_JOB_FLAGS_ALL)
		return -NUQ_JOB_E_FLAGS;
	if (!codebook && (job->flags & cb_flags))
		return -NUQ_JOB_E_FLAGS;
	if (job->priority > NUQ_PRIO_REALTIME)
		return -NUQ_JOB_E_PRIORITY;
	if (job->weight_format > NUQ_WFMT_ASD)
		return -NUQ_JOB_E_WEIGHT_FORMAT;
	if (codebook ? job->cb_strategy > NUQ_CB_ENTRY_SUM : job->cb_strategy != 0)
		return -NUQ_JOB_E_WEIGHT_FORMAT;
	if (job->in_format > NUQ_AFMT_UINT8 || job->out_format > NUQ_AFMT_UINT8)
		return -NUQ_JOB_E_ACT_FORMAT;

	switch (job->weight_format) {
	case NUQ_WFMT_INT8:
		return job->weight_bits == 8 ? 0 : -NUQ_JOB_E_BITS;
	case NUQ_WFMT_CODEBOOK:
		return job->weight_bits >= 1 && job->weight_bits <= 8 ? 0 : -NUQ_JOB_E_BITS;
	default:
		return job->weight_bits == 0 ? 0 : -NUQ_JOB_E_BITS;
	}
}

/* Output extent of one spatial axis, or 0 if the kernel does not fit. */
static __u64 nuq_out_extent(__u32 in, __u32 pad_a, __u32 pad_b, __u32 kernel,
			    __u32 stride, __u32 dilation)
{
	__u64 padded = (__u64)in + pad_a + pad_b;
	__u64 span = (__u64)(kernel - 1) * dilation + 1;

	if (padded < span)
		return 0;
	return (padded - span) / stride + 1;
}

static int nuq_check_shape(const struct nuq_conv_job *job)
{
	if (!nuq_dim_ok(job->batch) || !nuq_dim_ok(job->in_h) || !nuq_dim_ok(job->in_w) ||
	    !nuq_dim_ok(job->in_c) || !nuq_dim_ok(job->out_h) || !nuq_dim_ok(job->out_w) ||
	    !nuq_dim_ok(job->out_c) || !nuq_dim_ok(job->kernel_h) || !nuq_dim_ok(job->kernel_w) ||
	    job->pad_top > NUQ_MAX_DIM || job->pad_bottom > NUQ_MAX_DIM ||
	    job->pad_left > NUQ_MAX_DIM || job->pad_right > NUQ_MAX_DIM)
		return -NUQ_JOB_E_SHAPE;
	if (!nuq_dim_ok(job->stride_h) || !nuq_dim_ok(job->stride_w) ||
	    !nuq_dim_ok(job->dilation_h) || !nuq_dim_ok(job->dilation_w))
		return -NUQ_JOB_E_STRIDE;
	if (!job->groups || job->in_c % job->groups || job->out_c % job->groups)
		return -NUQ_JOB_E_GROUPS;
	if (nuq_out_extent(job->in_h, job->pad_top, job->pad_bottom, job->kernel_h,
			   job->stride_h, job->dilation_h) != job->out_h ||
	    nuq_out_extent(job->in_w, job->pad_left, job->pad_right, job->kernel_w,
			   job->stride_w, job->dilation_w) != job->out_w)
		return -NUQ_JOB_E_OUT_SHAPE;
	return 0;
}

static int nuq_check_quant(const struct nuq_conv_job *job)
{
	if (!nuq_in_range(job->in_zero_point, job->in_format) ||
	    !nuq_in_range(job->out_zero_point, job->out_format))
		return -NUQ_JOB_E_ZERO_POINT;
	if (!nuq_in_range(job->out_min, job->out_format) ||
	    !nuq_in_range(job->out_max, job->out_format) || job->out_min > job->out_max)
		return -NUQ_JOB_E_CLAMP;
	if (!(job->flags & NUQ_JOB_F_RESIDUAL)) {
		if (job->res_zero_point || job->res_multiplier || job->res_shift)
			return -NUQ_JOB_E_RESIDUAL;
		return 0;
	}
	if (!nuq_in_range(job->res_zero_point, job->out_format) ||
	    (job->res_multiplier && job->res_multiplier < (1 << 30)) ||
	    job->res_multiplier < 0 || job->res_shift < -31 || job->res_shift > 30)
		return -NUQ_JOB_E_RESIDUAL;
	return 0;
}

static int nuq_plan_sizes(const struct nuq_conv_job *job, struct nuq_conv_plan *p)
{
	__u64 k, n, row, oc = job->out_c;
	int ret;

	p->in_cg = job->in_c / job->groups;
	p->out_cg = job->out_c / job->groups;
	k = (__u64)job->kernel_h * job->kernel_w * p->in_cg;
	if (k > NUQ_MAX_K)
		return -NUQ_JOB_E_SHAPE;
	p->k = k;

	ret = nuq_mul((__u64)job->batch * job->in_h, (__u64)job->in_w * job->in_c,
		      &p->bytes[NUQ_T_INPUT]);
	ret = ret ?: nuq_mul((__u64)job->batch * job->out_h, (__u64)job->out_w * oc,
			     &p->bytes[NUQ_T_OUTPUT]);
	ret = ret ?: nuq_mul(p->bytes[NUQ_T_OUTPUT], k, &p->macs);
	if (ret)
		return ret;

	switch (job->weight_format) {
	case NUQ_WFMT_INT8:
		ret = nuq_mul(oc, k, &p->bytes[NUQ_T_WEIGHTS]);
		break;
	case NUQ_WFMT_CODEBOOK:
		/* Each channel's indices start on a byte boundary. */
		row = (k * job->weight_bits + 7) / 8;
		ret = nuq_mul(oc, row, &p->bytes[NUQ_T_WEIGHTS]);
		p->cb_entries = 1U << job->weight_bits;
		n = (__u64)p->cb_entries * (job->flags & NUQ_JOB_F_CODEBOOK_INT16 ? 2 : 1);
		p->bytes[NUQ_T_CODEBOOK] = job->flags & NUQ_JOB_F_CODEBOOK_PER_LAYER ? n : n * oc;
		break;
	default:
		ret = nuq_mul(oc * 2, k, &p->bytes[NUQ_T_WEIGHTS]);
		break;
	}
	if (ret)
		return ret;
	p->bytes[NUQ_T_BIAS] = job->tensors[NUQ_T_BIAS].handle ? oc * 4 : 0;
	p->bytes[NUQ_T_REQUANT] = oc * 8;
	if (job->flags & NUQ_JOB_F_RESIDUAL)
		p->bytes[NUQ_T_RESIDUAL] = p->bytes[NUQ_T_OUTPUT];
	return 0;
}

/*
 * Scratch of the depthwise row path: weights per tap, one channel's, table,
 * sums, and every channel's requantization parameters.
 */
static __u64 nuq_dw_scratch(const struct nuq_conv_job *job, const struct nuq_conv_plan *p)
{
	__u64 kc = ((__u64)p->k * job->out_c + 7) & ~7ULL, c8 = (job->out_c + 7) & ~7U;

	return 2 * kc + 2 * (((__u64)p->k + 7) & ~7ULL) + 2 * 256 + 4 * c8 + 8 * c8;
}

static void nuq_plan_strategy(const struct nuq_conv_job *job, struct nuq_conv_plan *p)
{
	__u64 width = (__u64)job->in_w + job->pad_left + job->pad_right;
	__u64 row_bytes = 2 * width * job->kernel_h * job->in_c;
	__u32 k8 = (p->k + 7) & ~7U;

	/*
	 * Multiplying decoded weights over input rows copied once per tile
	 * (int16, padding as zeros) is the fastest way on a CPU; without
	 * that copy, summing the inputs per codebook entry first pays when
	 * there are fewer entries than weights.
	 */
	p->rows = NUQ_ROWS_NONE;
	if (row_bytes <= NUQ_MAX_ROW_BYTES)
		p->rows = job->weight_format != NUQ_WFMT_ASD && p->in_cg == 1 &&
			  p->out_cg == 1 && p->k <= NUQ_DOT_RUN &&
			  nuq_dw_scratch(job, p) <= NUQ_MAX_ROW_BYTES ?
			  NUQ_ROWS_DEPTHWISE : NUQ_ROWS_DOT;
	p->strategy = NUQ_CB_DIRECT;
	if (job->weight_format == NUQ_WFMT_CODEBOOK) {
		p->strategy = job->cb_strategy;
		if (p->strategy == NUQ_CB_AUTO)
			p->strategy = !p->rows && 2 * p->cb_entries <= p->k ?
				      NUQ_CB_ENTRY_SUM : NUQ_CB_DIRECT;
		if (p->strategy == NUQ_CB_ENTRY_SUM)
			p->rows = NUQ_ROWS_NONE;
	}
	p->row_width = p->rows ? (__u32)width : 0;
	if (job->weight_format == NUQ_WFMT_ASD && !p->rows)
		p->scratch_bytes = 0;
	else if (p->strategy == NUQ_CB_ENTRY_SUM)
		p->scratch_bytes = k8 + 8 * p->cb_entries;
	else if (p->rows == NUQ_ROWS_DEPTHWISE)
		p->scratch_bytes = (__u32)(nuq_dw_scratch(job, p) + row_bytes);
	else if (p->rows)
		p->scratch_bytes = 2 * k8 + 2 * 256 + (__u32)row_bytes;	/* weights, table, rows */
	else
		p->scratch_bytes = 2 * k8 + 2 * 256;	/* weights, table */
}

static __u64 nuq_div_up(__u64 a, __u64 b)
{
	return (a + b - 1) / b;
}

/*
 * Split each output row into tiles of at most NUQ_TILE_MACS: a row whose
 * work fits is one tile; otherwise runs of whole output channels, or, when
 * even one channel of the row is too much, runs of its columns.  The
 * depthwise path computes all channels of a pixel at once, so it splits by
 * columns only.  Splitting changes no result: every output is computed the
 * same way whichever tile it is in.
 */
static int nuq_plan_tiles(const struct nuq_conv_job *job, struct nuq_conv_plan *p)
{
	__u64 col = p->k, per_oc = (__u64)job->out_w * p->k, tiles;

	p->oc_tile = job->out_c;
	p->ow_tile = job->out_w;
	if (p->rows == NUQ_ROWS_DEPTHWISE) {
		col *= job->out_c;
		if (col * job->out_w > NUQ_TILE_MACS)
			p->ow_tile = (__u32)(NUQ_TILE_MACS / col ?: 1);
	} else if (per_oc * job->out_c > NUQ_TILE_MACS) {
		if (per_oc <= NUQ_TILE_MACS) {
			p->oc_tile = (__u32)(NUQ_TILE_MACS / per_oc);
		} else {
			p->oc_tile = 1;
			p->ow_tile = (__u32)(NUQ_TILE_MACS / col ?: 1);
		}
	}
	p->row_tiles = (__u32)(nuq_div_up(job->out_c, p->oc_tile) *
			       nuq_div_up(job->out_w, p->ow_tile));
	tiles = (__u64)job->batch * job->out_h * p->row_tiles;
	if (tiles > 0xffffffffULL)
		return -NUQ_JOB_E_OVERFLOW;
	p->tiles = (__u32)tiles;
	return 0;
}

/* Which tensors a job must, may, or must not reference. */
static int nuq_check_tensors(const struct nuq_conv_job *job, const __u64 bo_size[NUQ_T_COUNT],
			     const struct nuq_conv_plan *p)
{
	int i;

	for (i = 0; i < NUQ_T_COUNT; i++) {
		const struct nuq_tensor_ref *t = &job->tensors[i];
		int optional = i == NUQ_T_BIAS;
		__u64 end;

		if (!p->bytes[i] && !optional) {
			if (t->handle || t->offset)
				return -NUQ_JOB_E_TENSOR_MISSING;
			continue;
		}
		if (!t->handle) {
			if (!optional || t->offset)
				return -NUQ_JOB_E_TENSOR_MISSING;
			continue;
		}
		if (bo_size[i] == NUQ_BO_UNRESOLVED)
			return -NUQ_JOB_E_HANDLE;
		if (__builtin_add_overflow(t->offset, p->bytes[i], &end))
			return -NUQ_JOB_E_OVERFLOW;
		if (end > bo_size[i])
			return -NUQ_JOB_E_BOUNDS;
	}
	if (job->tensors[NUQ_T_BIAS].offset % 4 || job->tensors[NUQ_T_REQUANT].offset % 4)
		return -NUQ_JOB_E_ALIGN;
	if ((job->flags & NUQ_JOB_F_CODEBOOK_INT16) && job->tensors[NUQ_T_CODEBOOK].offset % 2)
		return -NUQ_JOB_E_ALIGN;
	return 0;
}

int nuq_conv_validate(const struct nuq_conv_job *job, const __u64 bo_size[NUQ_T_COUNT],
		      struct nuq_conv_plan *plan)
{
	struct nuq_conv_plan p = { 0 };
	int ret;

	ret = nuq_check_reserved(job);
	ret = ret ?: nuq_check_formats(job);
	ret = ret ?: nuq_check_shape(job);
	ret = ret ?: nuq_check_quant(job);
	ret = ret ?: nuq_plan_sizes(job, &p);
	ret = ret ?: nuq_check_tensors(job, bo_size, &p);
	if (ret)
		return ret;
	nuq_plan_strategy(job, &p);
	ret = nuq_plan_tiles(job, &p);
	if (ret)
		return ret;
	*plan = p;
	return 0;
}

int nuq_job_error_errno(int code)
{
	if (code < 0)
		code = -code;
	switch (code) {
	case NUQ_JOB_E_NONE:
		return 0;
	case NUQ_JOB_E_HANDLE:
		return 2;	/* ENOENT */
	case NUQ_JOB_E_BOUNDS:
		return 34;	/* ERANGE */
	case NUQ_JOB_E_OVERFLOW:
		return 75;	/* EOVERFLOW */
	default:
		return 22;	/* EINVAL */
	}
}
