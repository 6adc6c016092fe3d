// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * nuq integer convolution core: computing one tile.
 *
 * A tile is a part of one output row of one image: the outputs of a range
 * of its channels and a range of its columns (struct nuq_tile_range), at
 * most NUQ_TILE_MACS multiply-accumulates in all.  For each output channel
 * the weights are first brought into a form the inner loop can use (int16
 * values, or codebook indices), then every output pixel accumulates in 64
 * bits:
 *
 *   acc = bias + sum over taps of (x - in_zero_point) * w
 *
 * Taps that fall into padding contribute nothing (their x equals the zero
 * point).  The sum is exact, so the three ways of computing it - direct
 * multiply, per-codebook-entry sums, ASD shift-and-add - give identical
 * bits.  acc is saturated to 32 bits and requantized.
 *
 * Direct weights (int8, or codebook entries looked up) usually take the
 * row path: the tile first copies the kernel_h input rows it reads into
 * scratch as int16 x - in_zero_point with the padding as zeros, so each
 * output is a few plain dot products of int16 arrays, without bounds
 * tests - loops that compilers turn into vector code where they may
 * (userspace), and that stay simple scalar code in the kernel.
 */

#include "nuq_conv.h"

/**
 * struct nuq_tile_range - the outputs one tile computes
 * @n: the image
 * @oh: the output row
 * @oc0: first output channel
 * @oc1: one past the last output channel
 * @ow0: first output column
 * @ow1: one past the last output column
 */
struct nuq_tile_range {
	__u32 n;
	__u32 oh;
	__u32 oc0;
	__u32 oc1;
	__u32 ow0;
	__u32 ow1;
};

/* Tiles are numbered row by row; within a row, by channel run, then by column run. */
static void nuq_tile_range(const struct nuq_conv_job *job, const struct nuq_conv_plan *p,
			   __u32 tile, struct nuq_tile_range *r)
{
	__u32 row = tile / p->row_tiles, part = tile % p->row_tiles;
	__u32 ow_parts = (job->out_w + p->ow_tile - 1) / p->ow_tile;

	r->n = row / job->out_h;
	r->oh = row % job->out_h;
	r->oc0 = part / ow_parts * p->oc_tile;
	r->oc1 = job->out_c - r->oc0 < p->oc_tile ? job->out_c : r->oc0 + p->oc_tile;
	r->ow0 = part % ow_parts * p->ow_tile;
	r->ow1 = job->out_w - r->ow0 < p->ow_tile ? job->out_w : r->ow0 + p->ow_tile;
}

/*
 * Channel @c's requantization parameters, read once from the tensor (which
 * its owner may be changing) into @mul and @shift and checked there: the
 * caller uses only these copies.
 */
static int nuq_load_requant(const __u8 *rq, __u32 c, __s32 *mul, __s32 *shift)
{
	*mul = nuq_ld_s32(rq + 8 * (__u64)c);
	*shift = nuq_ld_s32(rq + 8 * (__u64)c + 4);
	return nuq_requant_ok(*mul, *shift) ? 0 : -NUQ_JOB_E_REQUANT;
}

__u32 nuq_index(const __u8 *row, __u32 j, __u32 bits)
{
	__u64 bit = (__u64)j * bits;
	const __u8 *p = row + (bit >> 3);
	__u32 shift = bit & 7;
	__u32 v = p[0];

	if (shift + bits > 8)
		v |= (__u32)p[1] << 8;
	return (v >> shift) & ((1U << bits) - 1);
}

int nuq_asd_digit_ok(__u8 d)
{
	return !d || ((d & 0x40) && !(d & 0x30) && (d & 0x0f) <= 14);
}

static __s32 nuq_cb_entry(const struct nuq_conv_job *job, const __u8 *cb, __u32 e)
{
	if (job->flags & NUQ_JOB_F_CODEBOOK_INT16)
		return nuq_ld_s16(cb + 2 * e);
	return (__s8)cb[e];
}

/* x * (+-2^e) for one ASD digit byte, by shifting; -1 in *bad if malformed. */
static __s64 nuq_asd_digit(__s32 x, __u8 d, int *bad)
{
	__s64 v;

	if (!d)
		return 0;
	if (!nuq_asd_digit_ok(d)) {
		*bad = 1;
		return 0;
	}
	/* Shift the magnitude: a left shift of a negative value is undefined. */
	v = x < 0 ? -(__s64)((__u64)-(__s64)x << (d & 0x0f)) : (__s64)((__u64)x << (d & 0x0f));
	return d & 0x80 ? -v : v;
}

/* Codebook indices are read as one bit stream through a table of the channel's entries. */
__s32 nuq_weights16(const struct nuq_conv_job *job, const struct nuq_conv_plan *p,
		    void *const tensors[NUQ_T_COUNT], __u32 oc, __s16 *w, __s16 *table)
{
	const __u8 *src = tensors[NUQ_T_WEIGHTS], *cb = tensors[NUQ_T_CODEBOOK];
	__u32 j, e, bits = job->weight_bits, have = 0;
	__s32 v, m = 0;
	__u64 buf = 0;

	if (job->weight_format == NUQ_WFMT_CODEBOOK) {
		src += (__u64)oc * ((p->k * (__u64)bits + 7) / 8);
		if (!(job->flags & NUQ_JOB_F_CODEBOOK_PER_LAYER))
			cb += (__u64)oc * p->cb_entries *
			      (job->flags & NUQ_JOB_F_CODEBOOK_INT16 ? 2 : 1);
		for (e = 0; e < p->cb_entries; e++)
			table[e] = (__s16)nuq_cb_entry(job, cb, e);
		for (j = 0; j < p->k; j++) {
			if (have < bits) {
				buf |= (__u64)*src++ << have;
				have += 8;
			}
			w[j] = table[buf & (p->cb_entries - 1)];
			buf >>= bits;
			have -= bits;
		}
	} else {
		src += (__u64)oc * p->k;
		for (j = 0; j < p->k; j++)
			w[j] = (__s8)src[j];
	}
	for (j = 0; j < p->k; j++) {
		v = w[j] < 0 ? -w[j] : w[j];
		if (v > m)
			m = v;
	}
	return m;
}

struct nuq_tile {
	const struct nuq_conv_job *job;
	const struct nuq_conv_plan *plan;
	const __u8 *in;		/* start of this image */
	__u32 oh;
	__u32 oc;
	__u32 ic0;		/* first input channel of oc's group */
	__s16 *w;		/* decoded weights (direct strategy) */
	__s16 *table;		/* codebook entries, for nuq_weights16() */
	__u8 *idx;		/* indices (entry-sum strategy) */
	__s64 *sums;		/* per-entry sums (entry-sum strategy) */
	const __u8 *cb;		/* oc's codebook */
	const __u8 *asd;	/* oc's ASD digit pairs */
};

/* Prepare the weights of output channel @oc for the inner loop. */
static void nuq_load_weights(struct nuq_tile *t, void *const tensors[NUQ_T_COUNT])
{
	const struct nuq_conv_job *job = t->job;
	const struct nuq_conv_plan *p = t->plan;
	const __u8 *w = tensors[NUQ_T_WEIGHTS];
	__u32 j, k = p->k;

	if (job->weight_format == NUQ_WFMT_ASD) {
		t->asd = w + (__u64)t->oc * k * 2;
		return;
	}
	if (p->strategy != NUQ_CB_ENTRY_SUM) {
		nuq_weights16(job, p, tensors, t->oc, t->w, t->table);
		return;
	}
	w += (__u64)t->oc * ((k * (__u64)job->weight_bits + 7) / 8);
	t->cb = tensors[NUQ_T_CODEBOOK];
	if (!(job->flags & NUQ_JOB_F_CODEBOOK_PER_LAYER))
		t->cb += (__u64)t->oc * p->cb_entries *
			 (job->flags & NUQ_JOB_F_CODEBOOK_INT16 ? 2 : 1);
	for (j = 0; j < k; j++)
		t->idx[j] = nuq_index(w, j, job->weight_bits);
}

/* The accumulator of output pixel (t->oh, ow, t->oc), bias excluded. */
static __s64 nuq_accumulate(struct nuq_tile *t, __u32 ow, int *bad)
{
	const struct nuq_conv_job *job = t->job;
	const struct nuq_conv_plan *p = t->plan;
	__s64 ih0 = (__s64)t->oh * job->stride_h - job->pad_top;
	__s64 iw0 = (__s64)ow * job->stride_w - job->pad_left;
	__s32 zp = job->in_zero_point;
	__u32 cg = p->in_cg, kh, kw, c, j = 0, e;
	__s64 acc = 0;

	for (kh = 0; kh < job->kernel_h; kh++) {
		__s64 ih = ih0 + (__s64)kh * job->dilation_h;

		if (ih < 0 || ih >= job->in_h) {
			j += job->kernel_w * cg;
			continue;
		}
		for (kw = 0; kw < job->kernel_w; kw++, j += cg) {
			__s64 iw = iw0 + (__s64)kw * job->dilation_w;
			const __u8 *px;

			if (iw < 0 || iw >= job->in_w)
				continue;
			px = t->in + ((__u64)ih * job->in_w + iw) * job->in_c + t->ic0;

			if (job->weight_format == NUQ_WFMT_ASD) {
				for (c = 0; c < cg; c++) {
					__s32 x = nuq_ld_act(px + c, job->in_format) - zp;
					const __u8 *d = t->asd + 2 * (__u64)(j + c);

					acc += nuq_asd_digit(x, d[0], bad) +
					       nuq_asd_digit(x, d[1], bad);
				}
			} else if (p->strategy == NUQ_CB_ENTRY_SUM &&
				   job->weight_format == NUQ_WFMT_CODEBOOK) {
				for (c = 0; c < cg; c++)
					t->sums[t->idx[j + c]] +=
						nuq_ld_act(px + c, job->in_format) - zp;
			} else if (job->in_format == NUQ_AFMT_UINT8) {
				/*
				 * The hot loop, without the format test: |x - zp| <= 255
				 * and |w| <= 2^15, so each product fits 32 bits.
				 */
				for (c = 0; c < cg; c++)
					acc += ((__s32)px[c] - zp) * t->w[j + c];
			} else {
				for (c = 0; c < cg; c++)
					acc += ((__s32)(__s8)px[c] - zp) * t->w[j + c];
			}
		}
	}

	if (p->strategy == NUQ_CB_ENTRY_SUM && job->weight_format == NUQ_WFMT_CODEBOOK) {
		for (e = 0; e < p->cb_entries; e++) {
			if (t->sums[e])
				acc += t->sums[e] * nuq_cb_entry(job, t->cb, e);
			t->sums[e] = 0;
		}
	}
	return acc;
}

/*
 * sum of a[i] * b[i]: each run of NUQ_DOT_RUN sums exactly in 32 bits -
 * the loop compilers vectorise - and only the runs are added in 64.
 */
static __s32 nuq_dot_run(const __s16 *a, const __s16 *b, __u32 n)
{
	__s32 s = 0;
	__u32 i;

	for (i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

static __s64 nuq_dot(const __s16 *a, const __s16 *b, __u32 n)
{
	__s64 sum = 0;
	__u32 len;

	for (; n; n -= len, a += len, b += len) {
		len = n < NUQ_DOT_RUN ? n : NUQ_DOT_RUN;
		sum += nuq_dot_run(a, b, len);
	}
	return sum;
}

/* x * (+-2^e) for a well-formed ASD digit byte, or 0: shifts and masks only. */
static __s32 nuq_asd_term(__s32 x, __u8 d)
{
	/* |x| << 14 fits: shift the two's complement bits, no signed overflow */
	__s32 v = (__s32)((__u32)x << (d & 0x0f));
	__s32 neg = -(__s32)(d >> 7), present = -(__s32)((d >> 6) & 1);

	return ((v ^ neg) - neg) & present;
}

/* sum of x[i] * (the ASD weight of digit pair @d[2i], @d[2i + 1]). */
static __s64 nuq_asd_dot(const __s16 *x, const __u8 *d, __u32 n)
{
	__s64 s = 0;
	__u32 i;

	for (i = 0; i < n; i++)
		s += nuq_asd_term(x[i], d[2 * i]) + nuq_asd_term(x[i], d[2 * i + 1]);
	return s;
}

/* The kernel_h input rows output row @oh reads, as int16 x - zp, padding 0. */
static void nuq_copy_rows(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
			  const __u8 *in, __u32 oh, __s16 *rows)
{
	__u64 width = (__u64)plan->row_width * job->in_c, n = (__u64)job->in_w * job->in_c;
	__u64 left = (__u64)job->pad_left * job->in_c, i;
	__s32 zp = job->in_zero_point;
	__u32 kh;

	for (kh = 0; kh < job->kernel_h; kh++, rows += width) {
		__s64 ih = (__s64)oh * job->stride_h - job->pad_top + (__s64)kh * job->dilation_h;
		const __u8 *src;

		for (i = 0; i < width; i++)
			rows[i] = 0;
		if (ih < 0 || ih >= job->in_h)
			continue;
		src = in + (__u64)ih * n;
		if (job->in_format == NUQ_AFMT_UINT8)
			for (i = 0; i < n; i++)
				rows[left + i] = (__s16)(src[i] - zp);
		else
			for (i = 0; i < n; i++)
				rows[left + i] = (__s16)((__s8)src[i] - zp);
	}
}

/*
 * Channel @oc's ASD digit bytes copied into @d (2 * K bytes) and checked
 * there: the copy is what the dot products use.
 */
static int nuq_load_digits(void *const tensors[NUQ_T_COUNT], const struct nuq_conv_plan *p,
			   __u32 oc, __u8 *d)
{
	const __u8 *src = (const __u8 *)tensors[NUQ_T_WEIGHTS] + (__u64)oc * p->k * 2;
	__u32 j;
	int bad = 0;

	for (j = 0; j < 2 * p->k; j++) {
		d[j] = src[j];
		bad |= !nuq_asd_digit_ok(d[j]);
	}
	return bad ? -NUQ_JOB_E_ASD_DIGIT : 0;
}

/* A tile on the row path (see the top of the file). */
static int nuq_rows_tile(const struct nuq_conv_job *job, const struct nuq_conv_plan *p,
			 void *const tensors[NUQ_T_COUNT], void *scratch,
			 const struct nuq_tile_range *r)
{
	const __u8 *bias = tensors[NUQ_T_BIAS], *rq = tensors[NUQ_T_REQUANT];
	const __u8 *res = tensors[NUQ_T_RESIDUAL];
	__u8 *out = tensors[NUQ_T_OUTPUT];
	__u32 oc, ow, kh, kw, j;
	__u32 C = job->in_c, cg = p->in_cg, kw_n = job->kernel_w;
	__u32 span = job->dilation_w == 1 && cg == C ? kw_n * cg : cg;
	__u64 width = (__u64)p->row_width * C;
	__s16 *w = scratch, *table = w + ((p->k + 7) & ~7U), *rows = table + 256;
	__u8 *digits = scratch;	/* ASD: the channel's digits, where int16 weights would be */
	__u64 row = ((__u64)r->n * job->out_h + r->oh) * job->out_w;
	int asd = job->weight_format == NUQ_WFMT_ASD;

	nuq_copy_rows(job, p, (const __u8 *)tensors[NUQ_T_INPUT] +
			      (__u64)r->n * job->in_h * job->in_w * C, r->oh, rows);
	for (oc = r->oc0; oc < r->oc1; oc++) {
		__s32 b = bias ? nuq_ld_s32(bias + 4 * oc) : 0, mul, shift;
		__u32 ic0 = oc / p->out_cg * cg;

		if (nuq_load_requant(rq, oc, &mul, &shift))
			return -NUQ_JOB_E_REQUANT;
		if (asd) {
			if (nuq_load_digits(tensors, p, oc, digits))
				return -NUQ_JOB_E_ASD_DIGIT;
		} else {
			nuq_weights16(job, p, tensors, oc, w, table);
		}
		for (ow = r->ow0; ow < r->ow1; ow++) {
			const __s16 *x = rows + (__u64)ow * job->stride_w * C + ic0;
			__u64 at = (row + ow) * job->out_c + oc;
			__s64 acc = 0;

			/* a row of kernel_w taps is one run of the copied row when adjacent */
			for (kh = 0, j = 0; kh < job->kernel_h; kh++, x += width) {
				for (kw = 0; kw < kw_n; kw += span / cg, j += span) {
					const __s16 *xk = x + (__u64)kw * job->dilation_w * C;

					acc += asd ? nuq_asd_dot(xk, digits + 2 * j, span) :
						     nuq_dot(xk, w + j, span);
				}
			}
			out[at] = nuq_conv_output(job, b + acc, mul, shift, res, at);
		}
	}
	return 0;
}

/*
 * A depthwise tile on the row path: per output pixel, every tap is one
 * multiply-add over all channels (adjacent in NHWC), with the weights
 * stored tap by tap.  Validation sends only jobs of at most NUQ_DOT_RUN
 * taps here, so the 32-bit sums are exact.  The tile is a run of columns
 * of all channels; every channel's requantization parameters are copied
 * to scratch and checked there first.
 */
static int nuq_rows_dw_tile(const struct nuq_conv_job *job, const struct nuq_conv_plan *p,
			    void *const tensors[NUQ_T_COUNT], void *scratch,
			    const struct nuq_tile_range *r)
{
	const __u8 *bias = tensors[NUQ_T_BIAS], *res = tensors[NUQ_T_RESIDUAL];
	__u8 *out = tensors[NUQ_T_OUTPUT];
	__u32 C = job->out_c, taps = p->k, c8 = (C + 7) & ~7U;
	__u32 c, t, ow, kh, kw;
	__u64 width = (__u64)p->row_width * C, at;
	__s16 *wt = scratch, *w1 = wt + (((__u64)taps * C + 7) & ~7ULL);
	__s16 *table = w1 + ((taps + 7) & ~7U);
	__s32 *acc = (__s32 *)(table + 256), *mul = acc + c8, *shift = mul + c8;
	__s16 *rows = (__s16 *)(shift + c8);

	for (c = 0; c < C; c++)
		if (nuq_load_requant(tensors[NUQ_T_REQUANT], c, &mul[c], &shift[c]))
			return -NUQ_JOB_E_REQUANT;
	for (c = 0; c < C; c++) {
		nuq_weights16(job, p, tensors, c, w1, table);
		for (t = 0; t < taps; t++)
			wt[(__u64)t * C + c] = w1[t];
	}
	nuq_copy_rows(job, p, (const __u8 *)tensors[NUQ_T_INPUT] +
			      (__u64)r->n * job->in_h * job->in_w * C, r->oh, rows);
	at = (((__u64)r->n * job->out_h + r->oh) * job->out_w + r->ow0) * C;
	for (ow = r->ow0; ow < r->ow1; ow++, at += C) {
		const __s16 *x = rows + (__u64)ow * job->stride_w * C, *wk = wt;

		for (c = 0; c < C; c++)
			acc[c] = 0;
		for (kh = 0; kh < job->kernel_h; kh++, x += width) {
			for (kw = 0; kw < job->kernel_w; kw++, wk += C) {
				const __s16 *xt = x + (__u64)kw * job->dilation_w * C;

				for (c = 0; c < C; c++)
					acc[c] += xt[c] * wk[c];
			}
		}
		for (c = 0; c < C; c++) {
			__s64 a = (__s64)acc[c] + (bias ? nuq_ld_s32(bias + 4 * c) : 0);

			out[at + c] = nuq_conv_output(job, a, mul[c], shift[c], res, at + c);
		}
	}
	return 0;
}

int nuq_conv_run_tile(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
		      void *const tensors[NUQ_T_COUNT], void *scratch, __u32 tile)
{
	const __u8 *bias = tensors[NUQ_T_BIAS];
	const __u8 *rq = tensors[NUQ_T_REQUANT];
	const __u8 *res = tensors[NUQ_T_RESIDUAL];
	__u8 *out = tensors[NUQ_T_OUTPUT];
	struct nuq_tile t = { .job = job, .plan = plan };
	struct nuq_tile_range r;
	__u32 ow, e;
	__u64 row;
	int bad = 0;

	nuq_tile_range(job, plan, tile, &r);
	if (plan->rows == NUQ_ROWS_DEPTHWISE)
		return nuq_rows_dw_tile(job, plan, tensors, scratch, &r);
	if (plan->rows == NUQ_ROWS_DOT)
		return nuq_rows_tile(job, plan, tensors, scratch, &r);
	t.oh = r.oh;
	t.in = (const __u8 *)tensors[NUQ_T_INPUT] +
	       (__u64)r.n * job->in_h * job->in_w * job->in_c;
	row = ((__u64)r.n * job->out_h + t.oh) * job->out_w;
	if (plan->strategy == NUQ_CB_ENTRY_SUM && job->weight_format == NUQ_WFMT_CODEBOOK) {
		t.sums = scratch;
		t.idx = (__u8 *)scratch + 8 * plan->cb_entries;
		for (e = 0; e < plan->cb_entries; e++)
			t.sums[e] = 0;
	} else {
		t.w = scratch;
		t.table = t.w + ((plan->k + 7) & ~7U);
	}

	for (t.oc = r.oc0; t.oc < r.oc1; t.oc++) {
		__s32 b = bias ? nuq_ld_s32(bias + 4 * t.oc) : 0, mul, shift;

		if (nuq_load_requant(rq, t.oc, &mul, &shift))
			return -NUQ_JOB_E_REQUANT;
		t.ic0 = t.oc / plan->out_cg * plan->in_cg;
		nuq_load_weights(&t, tensors);

		for (ow = r.ow0; ow < r.ow1; ow++) {
			__u64 at = (row + ow) * job->out_c + t.oc;

			out[at] = nuq_conv_output(job, b + nuq_accumulate(&t, ow, &bad), mul, shift,
						  res, at);
		}
		if (bad)
			return -NUQ_JOB_E_ASD_DIGIT;
	}
	return 0;
}
