// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: a faster CPU path, bit-identical to the portable core.
 *
 * The portable core (core/nuq_conv_run.c, also inside the kernel) walks
 * taps with bounds checks in its innermost loop.  Here each input image is
 * converted once to int16 x - in_zero_point with its padding written out
 * as zeros, so no loop tests bounds; the taps of a chunk of output rows
 * are gathered from it into an int16 matrix (im2col: plain copies, or no
 * copy at all for a 1x1 conv), the weights of every format are decoded
 * once per job into int16 and packed (conv_fast_weights.c), and the conv
 * becomes int16 dot products with 32-bit sums - which _mm256_madd_epi16
 * does 16 at a time, 8 output channels per register.  Depthwise convs
 * have their own kernel (run_depthwise()).
 *
 * Exactness: the core sums in 64 bits, so the 32-bit sums must not
 * overflow.  |x - zp| <= 255 and every decoded weight fits int16, so with
 * K taps per output |sum| <= K * 255 * max|w|; a job where that bound
 * reaches 2^31 (or whose weights do not fit int16) is left to the portable
 * core.  So is any job with malformed requantization parameters or ASD
 * digits, so that the core reports them exactly as it always does.  The
 * bias is added here; saturation, requantization, residual and clamp are
 * the core's own nuq_conv_output().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "conv_fast.h"
#include "conv_fast_cache.h"

/* The layouts of packed weights (conv_fast.h). */
enum nuq_packed_layout {
	NUQ_PACKED_GEMM = 1,
	NUQ_PACKED_DW,
};

static size_t oc_padded(size_t ocg)
{
	return (ocg + NUQ_OC_BLOCK - 1) / NUQ_OC_BLOCK * NUQ_OC_BLOCK;
}

static size_t dw_channels(size_t c)
{
	return (c + NUQ_DW_BLOCK - 1) / NUQ_DW_BLOCK * NUQ_DW_BLOCK;
}

/* Elements copy_run() may read and write past a run (see there). */
#define RUN_SLACK	8

/*
 * An input image as int16 x - zero point, its padding materialised as
 * zeros (x - zp is 0 there) and its channels padded with zeros to @cp:
 * pixel (r, c) of the padded image is at x[(r * w + c) * cp].
 */
struct padded_image {
	int16_t *x;
	size_t h, w, cp;
};

/*
 * Allocate @img for @job with @cp channels per pixel and zero what no
 * image overwrites: the padding rows and columns, and channels C..cp of
 * every pixel.  Returns 0, 1 if it would be unreasonably big (the portable
 * core computes huge paddings without a copy), or -ENOMEM.
 */
static int padded_alloc(const struct nuq_conv_job *job, size_t cp, struct padded_image *img)
{
	size_t c = job->in_c, r, col, row_len;

	img->h = (size_t)job->in_h + job->pad_top + job->pad_bottom;
	img->w = (size_t)job->in_w + job->pad_left + job->pad_right;
	img->cp = cp;
	if ((uint64_t)img->h * img->w * cp > (1ULL << 28))
		return 1;
	row_len = img->w * cp;
	img->x = nuq_scratch_get((img->h * row_len + RUN_SLACK) * sizeof(*img->x));
	if (!img->x)
		return -ENOMEM;
	memset(img->x, 0, job->pad_top * row_len * sizeof(*img->x));
	memset(img->x + (job->pad_top + job->in_h) * row_len, 0,
	       (job->pad_bottom * row_len + RUN_SLACK) * sizeof(*img->x));
	for (r = job->pad_top; r < job->pad_top + job->in_h; r++) {
		int16_t *row = img->x + r * row_len;

		memset(row, 0, job->pad_left * cp * sizeof(*row));
		memset(row + (job->pad_left + job->in_w) * cp, 0,
		       job->pad_right * cp * sizeof(*row));
		for (col = 0; cp > c && col < job->in_w; col++)
			memset(row + (job->pad_left + col) * cp + c, 0, (cp - c) * sizeof(*row));
	}
	return 0;
}

/* Fill the inside of @img (its borders stay zero) from image @in. */
static void pad_image(const struct nuq_conv_job *job, const struct nuq_fast_ops *ops,
		      const uint8_t *in, struct padded_image *img)
{
	size_t c = job->in_c, r, col;

	for (r = 0; r < job->in_h; r++) {
		int16_t *row = img->x + ((r + job->pad_top) * img->w + job->pad_left) * img->cp;
		const uint8_t *src = in + r * job->in_w * c;

		if (img->cp == c) {
			ops->widen(src, job->in_w * c, job->in_format, job->in_zero_point, row);
			continue;
		}
		for (col = 0; col < job->in_w; col++)
			ops->widen(src + col * c, c, job->in_format, job->in_zero_point,
				   row + col * img->cp);
	}
}

/*
 * Copy @n elements in whole 16-byte pieces: runs of taps are short (often
 * 3 to 48 elements), where a fixed-size copy beats calling memcpy().  Up
 * to RUN_SLACK - 1 elements past the end may be read and written: the
 * image and the tap matrix have that much slack, and what a run
 * overwrites past its end is written again by the next run.
 */
static void copy_run(int16_t *dst, const int16_t *src, size_t n)
{
	size_t i = 0;

	/* SSE2 moves: a plain loop of 16-byte memcpy()s becomes one memcpy() call again */
	do {
#ifdef __SSE2__
		_mm_storeu_si128((__m128i *)(dst + i), _mm_loadu_si128((const __m128i *)(src + i)));
#else
		memcpy(dst + i, src + i, RUN_SLACK * sizeof(*dst));
#endif
		i += RUN_SLACK;
	} while (i < n);
}

/* The taps of output rows [oh, oh + rows) of group @g, for every pixel, into @a. */
static void im2col(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
		   const struct padded_image *img, uint32_t oh, uint32_t rows, uint32_t g,
		   int16_t *a, size_t kp)
{
	size_t cg = plan->in_cg, C = img->cp, kw_span = job->kernel_w * cg;
	size_t step = (size_t)job->stride_w * C, kw_step = (size_t)job->dilation_w * C;
	size_t kh_step = (size_t)job->dilation_h * img->w * C;
	/* a row of taps is one run of the image */
	int runs = job->dilation_w == 1 && cg == C;
	uint32_t r, ow, kh, kw;

	for (r = 0; r < rows; r++) {
		const int16_t *src = img->x + (size_t)(oh + r) * job->stride_h * img->w * C + g * cg;

		for (ow = 0; ow < job->out_w; ow++, src += step) {
			int16_t *dst = a + ((size_t)r * job->out_w + ow) * kp;
			const int16_t *line = src;

			for (kh = 0; kh < job->kernel_h; kh++, line += kh_step) {
				if (runs) {
					copy_run(dst, line, kw_span);
					dst += kw_span;
					continue;
				}
				for (kw = 0; kw < job->kernel_w; kw++, dst += cg)
					copy_run(dst, line + kw * kw_step, cg);
			}
			if (kp > plan->k)
				*dst = 0;
		}
	}
}

/*
 * Output pixels [0, npix) (consecutive in NHWC), channels [c0, c0 + n),
 * from their sums @acc (@astride per pixel) into the output at element @at.
 */
static void write_pixels(const struct nuq_fast_ops *ops, const struct nuq_out_params *p,
			 const uint8_t *res, const int32_t *acc, size_t astride, size_t npix,
			 size_t n, size_t c0, uint8_t *out, uint64_t at)
{
	const struct nuq_conv_job *job = p->job;
	size_t px, o;

	if (!res) {
		ops->requant(acc, astride, npix, n, p, c0, out + at, job->out_c);
		return;
	}
	for (px = 0; px < npix; px++, acc += astride, at += job->out_c)
		for (o = 0; o < n; o++)
			out[at + o] = nuq_conv_output(job, (int64_t)acc[o] + p->bias[c0 + o],
						      p->mult[c0 + o], p->shift[c0 + o], res,
						      at + o);
}

/*
 * Depthwise (one input and one output channel per group): in NHWC the
 * channels of a pixel are adjacent, so the kernel multiplies 16 channels
 * at once, two taps per instruction, reading the padded image directly.
 */
/*
 * Jobs below this many multiply-accumulates run on the calling thread
 * alone: waking the pool costs tens of microseconds.
 */
#define PARALLEL_MIN_MACS	(1ULL << 20)

static int worth_threads(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan)
{
	return (uint64_t)job->out_h * job->out_w * job->out_c * plan->k >= PARALLEL_MIN_MACS;
}

/* One image's share of a depthwise job: its output rows. */
struct dw_parts {
	const struct nuq_conv_job *job;
	void *const *t;
	const struct nuq_fast_ops *ops;
	const struct nuq_out_params *p;
	const int16_t *wd;
	const struct padded_image *img;
	const size_t *off;
	size_t taps2;
	uint32_t n, rows;
	int err;
};

static void dw_part(void *ctx, size_t part)
{
	const struct dw_parts *c = ctx;
	const struct nuq_conv_job *job = c->job;
	size_t C = job->out_c, cp = c->img->cp;
	uint32_t oh = (uint32_t)part * c->rows, end = oh + c->rows;
	int32_t *acc = nuq_scratch_get(cp * job->out_w * sizeof(*acc));

	if (!acc) {
		__atomic_store_n(&((struct dw_parts *)ctx)->err, -ENOMEM, __ATOMIC_RELAXED);
		return;
	}
	for (end = end < job->out_h ? end : job->out_h; oh < end; oh++) {
		c->ops->dw_row(c->img->x + (size_t)oh * job->stride_h * c->img->w * cp,
			       (size_t)job->stride_w * cp, c->off, c->taps2, c->wd, cp, job->out_w,
			       acc);
		write_pixels(c->ops, c->p, c->t[NUQ_T_RESIDUAL], acc, cp, job->out_w, C, 0,
			     c->t[NUQ_T_OUTPUT], ((uint64_t)c->n * job->out_h + oh) * job->out_w * C);
	}
	nuq_scratch_put(acc);
}

static int run_depthwise(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
			 void *const t[NUQ_T_COUNT], const struct nuq_fast_ops *ops,
			 const struct nuq_out_params *p, const int16_t *wd)
{
	size_t C = job->out_c, cp = dw_channels(C);
	size_t taps = plan->k, taps2 = (taps + 1) & ~(size_t)1, i, parts;
	struct padded_image img;
	size_t *off = malloc(taps2 * sizeof(*off));
	struct dw_parts c = {
		.job = job, .t = t, .ops = ops, .p = p, .wd = wd, .img = &img, .off = off,
		.taps2 = taps2,
	};
	int ret = -ENOMEM;

	img.x = NULL;
	if (!off)
		goto out;
	ret = padded_alloc(job, cp, &img);
	if (ret)
		goto out;
	for (i = 0; i < taps2; i++) {
		size_t tap = i < taps ? i : 0;	/* the odd pair's zero-weight partner */

		off[i] = ((tap / job->kernel_w) * job->dilation_h * img.w +
			  (tap % job->kernel_w) * job->dilation_w) * cp;
	}
	/* Parts of a few rows each: enough of them to share out evenly. */
	c.rows = (job->out_h + 15) / 16;
	parts = (job->out_h + c.rows - 1) / c.rows;
	for (c.n = 0; c.n < job->batch && !c.err; c.n++) {
		pad_image(job, ops, (const uint8_t *)t[NUQ_T_INPUT] +
			       (uint64_t)c.n * job->in_h * job->in_w * C, &img);
		if (worth_threads(job, plan))
			nuq_parallel_for(parts, dw_part, &c);
		else
			for (i = 0; i < parts; i++)
				dw_part(&c, i);
	}
	ret = c.err;
out:
	free(off);
	nuq_scratch_put(img.x);
	return ret;
}

/*
 * Output rows per dot product: enough pixels that the 4-pixel blocks
 * rarely end short and a block of packed weights is reused many times,
 * with at most 1 MiB of gathered taps.
 */
static uint32_t chunk_rows(const struct nuq_conv_job *job, size_t kp)
{
	size_t rows = (64 + job->out_w - 1) / job->out_w;
	size_t fit = (1 << 20) / ((size_t)job->out_w * kp * sizeof(int16_t));

	if (rows > fit)
		rows = fit ? fit : 1;
	return rows < job->out_h ? rows : job->out_h;
}

/* A 1x1 conv with stride 1, no padding, one group, an even channel count: the image is @a. */
static int taps_are_image(const struct nuq_conv_job *job, size_t kp)
{
	return job->kernel_h == 1 && job->kernel_w == 1 && job->stride_h == 1 &&
	       job->stride_w == 1 && job->groups == 1 && kp == job->in_c &&
	       !(job->pad_top | job->pad_bottom | job->pad_left | job->pad_right);
}

/* One image's share of a GEMM job: everything a chunk of output rows needs. */
struct gemm_parts {
	const struct nuq_conv_job *job;
	const struct nuq_conv_plan *plan;
	void *const *t;
	const struct nuq_fast_ops *ops;
	const struct nuq_out_params *p;
	const int16_t *wp;
	const struct padded_image *img;
	size_t kp;
	uint32_t rows, n;
	int direct;
	int err;		/* set (atomically) when a part could not get scratch */
};

/* Output rows [part * rows, + rows) of image n, every group. */
static void gemm_part(void *ctx, size_t part)
{
	const struct gemm_parts *c = ctx;
	const struct nuq_conv_job *job = c->job;
	size_t ocg = c->plan->out_cg, ocgp = oc_padded(ocg), kp = c->kp;
	uint32_t oh = (uint32_t)part * c->rows, g;
	uint32_t nr = job->out_h - oh < c->rows ? job->out_h - oh : c->rows;
	size_t chunk = (size_t)c->rows * job->out_w, np = (size_t)nr * job->out_w;
	uint64_t at = ((uint64_t)c->n * job->out_h + oh) * job->out_w * job->out_c;
	int16_t *a = c->direct ? NULL : nuq_scratch_get((chunk * kp + RUN_SLACK) * sizeof(*a));
	int32_t *acc = nuq_scratch_get(chunk * ocg * sizeof(*acc));

	if ((!c->direct && !a) || !acc) {
		__atomic_store_n(&((struct gemm_parts *)ctx)->err, -ENOMEM, __ATOMIC_RELAXED);
		goto out;
	}
	for (g = 0; g < job->groups; g++) {
		const int16_t *taps = c->img->x + (size_t)oh * job->in_w * kp;

		if (!c->direct) {
			im2col(job, c->plan, c->img, oh, nr, g, a, kp);
			taps = a;
		}
		c->ops->dot(taps, np, kp, c->wp + (size_t)g * ocgp * kp, ocg, acc);
		write_pixels(c->ops, c->p, c->t[NUQ_T_RESIDUAL], acc, ocg, np, ocg,
			     (size_t)g * ocg, c->t[NUQ_T_OUTPUT], at + (size_t)g * ocg);
	}
out:
	nuq_scratch_put(a);
	nuq_scratch_put(acc);
}

static int run_gemm(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
		    void *const t[NUQ_T_COUNT], const struct nuq_fast_ops *ops,
		    const struct nuq_out_params *p, const int16_t *wp, size_t kp)
{
	struct padded_image img;
	struct gemm_parts c = {
		.job = job, .plan = plan, .t = t, .ops = ops, .p = p, .wp = wp, .img = &img,
		.kp = kp, .rows = chunk_rows(job, kp), .direct = taps_are_image(job, kp),
	};
	size_t parts = (job->out_h + c.rows - 1) / c.rows, i;
	int ret;

	img.x = NULL;
	ret = padded_alloc(job, job->in_c, &img);
	if (ret)
		return ret;
	for (c.n = 0; c.n < job->batch && !c.err; c.n++) {
		pad_image(job, ops, (const uint8_t *)t[NUQ_T_INPUT] +
			       (uint64_t)c.n * job->in_h * job->in_w * job->in_c, &img);
		if (worth_threads(job, plan))
			nuq_parallel_for(parts, gemm_part, &c);
		else
			for (i = 0; i < parts; i++)
				gemm_part(&c, i);
	}
	nuq_scratch_put(img.x);
	return c.err;
}

/* Decode and pack a job's weights into @pk for @layout; 1 if not exact here. */
static int pack(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
		void *const t[NUQ_T_COUNT], uint32_t layout, size_t kp, struct nuq_packed *pk)
{
	size_t ocg = plan->out_cg, ocgp = oc_padded(ocg), g;
	int16_t *w = malloc((size_t)job->out_c * kp * sizeof(*w));
	int ret = -ENOMEM;

	pk->n = layout == NUQ_PACKED_DW ? ((plan->k + 1) & ~(size_t)1) * dw_channels(job->out_c) :
					  (size_t)job->groups * ocgp * kp;
	pk->w = malloc(pk->n * sizeof(*pk->w));
	if (!w || !pk->w)
		goto out;
	ret = 1;
	if (nuq_fast_decode_weights(job, plan, t, w, kp, &pk->wmax))
		goto out;
	/* the exactness bound of 32-bit sums (see the top of the file) */
	if ((int64_t)plan->k * 255 * pk->wmax >= (1LL << 31))
		goto out;
	if (layout == NUQ_PACKED_DW)
		nuq_fast_pack_dw_weights(w, job->out_c, kp, plan->k, dw_channels(job->out_c),
					 pk->w);
	else
		for (g = 0; g < job->groups; g++)
			nuq_fast_pack_weights(w + g * ocg * kp, ocg, kp, pk->w + g * ocgp * kp);
	ret = 0;
out:
	free(w);
	if (ret) {
		free(pk->w);
		pk->w = NULL;
	}
	return ret;
}

/*
 * The packed weights of a job: from the cache, or packed now (and kept in
 * the cache, or in @own when the cache does not take them).
 */
static int packed_weights(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
			  void *const t[NUQ_T_COUNT], uint32_t layout, size_t kp,
			  struct nuq_packed **pk, struct nuq_packed *own)
{
	struct nuq_wcache_key key;
	int ret;

	memset(&key, 0, sizeof(key));
	key.layout = layout;
	key.weight_format = job->weight_format;
	key.weight_bits = job->weight_bits;
	key.flags = job->flags & (NUQ_JOB_F_CODEBOOK_INT16 | NUQ_JOB_F_CODEBOOK_PER_LAYER);
	key.out_c = job->out_c;
	key.k = plan->k;
	key.groups = job->groups;
	key.weight_bytes = plan->bytes[NUQ_T_WEIGHTS];
	key.codebook_bytes = job->weight_format == NUQ_WFMT_CODEBOOK ?
			     plan->bytes[NUQ_T_CODEBOOK] : 0;
	*pk = nuq_wcache_get(&key, t[NUQ_T_WEIGHTS], t[NUQ_T_CODEBOOK]);
	if (*pk)
		return 0;
	ret = pack(job, plan, t, layout, kp, own);
	if (ret)
		return ret;
	*pk = nuq_wcache_put(&key, t[NUQ_T_WEIGHTS], t[NUQ_T_CODEBOOK], own);
	if (*pk)
		own->w = NULL;	/* the cache's now */
	else
		*pk = own;
	return 0;
}

int nuq_conv_run_fast(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
		      void *const t[NUQ_T_COUNT], const struct nuq_fast_ops *ops)
{
	const uint8_t *bias = t[NUQ_T_BIAS], *rq = t[NUQ_T_REQUANT];
	size_t kp = ((size_t)plan->k + 1) & ~(size_t)1;
	uint32_t layout = plan->out_cg == 1 && plan->in_cg == 1 ? NUQ_PACKED_DW : NUQ_PACKED_GEMM;
	struct nuq_out_params p = { .job = job };
	struct nuq_packed *pk = NULL, own = { 0 };
	int64_t bmax = 0;
	int32_t *ch;
	uint32_t o;
	int ret = 1;

	/* Per channel: bias, multiplier, shift and the right shift's pieces, decoded once. */
	ch = malloc((size_t)job->out_c * 6 * sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	p.bias = ch;
	p.mult = ch + job->out_c;
	p.shift = ch + 2 * (size_t)job->out_c;
	p.rshift = ch + 3 * (size_t)job->out_c;
	p.rmask = ch + 4 * (size_t)job->out_c;
	p.rhalf = ch + 5 * (size_t)job->out_c;
	for (o = 0; o < job->out_c; o++) {
		int32_t b = bias ? nuq_ld_s32(bias + 4 * o) : 0;
		int32_t shift = nuq_ld_s32(rq + 8 * o + 4), rsh = shift < 0 && shift >= -31 ? -shift : 0;

		ch[o] = b;
		ch[job->out_c + o] = nuq_ld_s32(rq + 8 * o);
		ch[2 * job->out_c + o] = shift;
		ch[3 * job->out_c + o] = rsh;
		ch[4 * job->out_c + o] = (int32_t)((1LL << rsh) - 1);
		ch[5 * job->out_c + o] = (int32_t)(((1LL << rsh) - 1) >> 1);
		if (!nuq_requant_ok(p.mult[o], p.shift[o]))
			goto out;
		p.lshift |= p.shift[o] > 0;
		if ((int64_t)(b < 0 ? -(int64_t)b : b) > bmax)
			bmax = b < 0 ? -(int64_t)b : b;
	}
	ret = packed_weights(job, plan, t, layout, kp, &pk, &own);
	if (ret)
		goto out;
	p.sums_fit = (int64_t)plan->k * 255 * pk->wmax + bmax < (1LL << 31);
	if (layout == NUQ_PACKED_DW)
		ret = run_depthwise(job, plan, t, ops, &p, pk->w);
	else
		ret = run_gemm(job, plan, t, ops, &p, pk->w, kp);
	if (pk != &own)
		nuq_wcache_release(pk);
out:
	free(ch);
	free(own.w);
	return ret;
}
