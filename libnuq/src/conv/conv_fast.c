// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: a faster CPU path, bit-identical to the portable core.
 *
 * The portable core (core/nuq_conv_run.c, also inside the kernel) walks
 * taps with bounds checks in its innermost loop.  Here, per output row,
 * the input taps of every pixel are gathered once into an int16 matrix
 * (x - in_zero_point, 0 for padding: im2col), the weights of every format
 * are decoded once per job into int16 and packed (conv_fast.h), and the
 * conv becomes int16 dot products with 32-bit sums - which
 * _mm256_madd_epi16 does 16 at a time, 8 output channels per register.
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

#include "conv_fast.h"

static void dot_generic(const int16_t *a, size_t npix, size_t kp, const int16_t *wp, size_t ocn,
			int32_t *out)
{
	size_t p, o, k;

	for (p = 0; p < npix; p++) {
		for (o = 0; o < ocn; o++) {
			const int16_t *x = a + p * kp;
			const int16_t *y = wp + (o / NUQ_OC_BLOCK) * kp * NUQ_OC_BLOCK +
					   2 * (o % NUQ_OC_BLOCK);
			int32_t s = 0;

			for (k = 0; k < kp; k += 2, y += 2 * NUQ_OC_BLOCK)
				s += (int32_t)x[k] * y[0] + (int32_t)x[k + 1] * y[1];
			out[p * ocn + o] = s;
		}
	}
}

static void dw_tap_generic(const int16_t *x, size_t xstride, const int32_t *w, size_t n,
			   size_t npix, int32_t *acc)
{
	size_t p, c;

	for (p = 0; p < npix; p++, x += xstride, acc += n)
		for (c = 0; c < n; c++)
			acc[c] += x[c] * w[c];
}

static void requant_generic(const int32_t *acc, size_t n, const struct nuq_out_params *p,
			    size_t c0, uint8_t *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = nuq_conv_output(p->job, (int64_t)acc[i] + p->bias[c0 + i], p->mult[c0 + i],
					 p->shift[c0 + i], NULL, 0);
}

const struct nuq_fast_ops nuq_fast_generic = {
	.dot = dot_generic,
	.dw_tap = dw_tap_generic,
	.requant = requant_generic,
};

/* Rows w[o][kp] of @ocn channels into the packed layout (conv_fast.h). */
static void pack_weights(const int16_t *w, size_t ocn, size_t kp, int16_t *wp)
{
	size_t nb = (ocn + NUQ_OC_BLOCK - 1) / NUQ_OC_BLOCK, b, k, o;

	for (b = 0; b < nb; b++) {
		for (k = 0; k < kp; k += 2) {
			int16_t *dst = wp + (b * kp / 2 + k / 2) * 2 * NUQ_OC_BLOCK;

			for (o = 0; o < NUQ_OC_BLOCK; o++) {
				size_t oc = b * NUQ_OC_BLOCK + o;

				dst[2 * o] = oc < ocn ? w[oc * kp + k] : 0;
				dst[2 * o + 1] = oc < ocn ? w[oc * kp + k + 1] : 0;
			}
		}
	}
}

/* The value of an ASD digit byte; -1 if it is malformed. */
static int asd_digit_value(uint8_t d, int32_t *v)
{
	if (!nuq_asd_digit_ok(d))
		return -1;
	*v = d ? (d & 0x80 ? -1 : 1) * (1 << (d & 0x0f)) : 0;
	return 0;
}

/* Weights as int16 rows of kp; 1 if some weight does not fit or is malformed. */
static int decode_weights(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
			  void *const t[NUQ_T_COUNT], int16_t *w, size_t kp, int32_t *wmax)
{
	const uint8_t *src = t[NUQ_T_WEIGHTS], *cbs = t[NUQ_T_CODEBOOK];
	uint32_t k = plan->k, oc, j;
	int wide = job->flags & NUQ_JOB_F_CODEBOOK_INT16;
	size_t row_bytes = ((size_t)k * job->weight_bits + 7) / 8;

	*wmax = 0;
	for (oc = 0; oc < job->out_c; oc++) {
		int16_t *dst = w + (size_t)oc * kp;
		const uint8_t *cb = cbs;

		if (job->weight_format == NUQ_WFMT_CODEBOOK && !(job->flags & NUQ_JOB_F_CODEBOOK_PER_LAYER))
			cb += (size_t)oc * plan->cb_entries * (wide ? 2 : 1);
		for (j = 0; j < k; j++) {
			int32_t v, d1;

			switch (job->weight_format) {
			case NUQ_WFMT_INT8:
				v = (int8_t)src[(size_t)oc * k + j];
				break;
			case NUQ_WFMT_ASD:
				if (asd_digit_value(src[2 * ((size_t)oc * k + j)], &v) ||
				    asd_digit_value(src[2 * ((size_t)oc * k + j) + 1], &d1))
					return 1;
				v += d1;
				break;
			default: {
				uint32_t e = nuq_index(src + oc * row_bytes, j, job->weight_bits);

				v = wide ? nuq_ld_s16(cb + 2 * e) : (int8_t)cb[e];
				break;
			}
			}
			if (v > 32767 || v < -32768)
				return 1;
			dst[j] = (int16_t)v;
			if (v < 0)
				v = -v;
			if (v > *wmax)
				*wmax = v;
		}
		memset(dst + k, 0, (kp - k) * sizeof(*dst));
	}
	return 0;
}

/* @n activations of @fmt as int16 x - @zp (|x - zp| <= 255 always fits). */
static void widen(const uint8_t *src, size_t n, uint32_t fmt, int32_t zp, int16_t *dst)
{
	size_t i;

	if (fmt == NUQ_AFMT_INT8)
		for (i = 0; i < n; i++)
			dst[i] = (int16_t)((int8_t)src[i] - zp);
	else
		for (i = 0; i < n; i++)
			dst[i] = (int16_t)(src[i] - zp);
}

/* The taps of output row @oh of image @n, group @g, for every pixel. */
static void im2col(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
		   const uint8_t *in, uint32_t oh, uint32_t g, int16_t *a, size_t kp)
{
	int64_t ih0 = (int64_t)oh * job->stride_h - job->pad_top;
	uint32_t cg = plan->in_cg, ow, kh, kw;
	int32_t zp = job->in_zero_point;

	for (ow = 0; ow < job->out_w; ow++) {
		int64_t iw0 = (int64_t)ow * job->stride_w - job->pad_left;
		int16_t *dst = a + (size_t)ow * kp;

		for (kh = 0; kh < job->kernel_h; kh++) {
			int64_t ih = ih0 + (int64_t)kh * job->dilation_h;

			for (kw = 0; kw < job->kernel_w; kw++, dst += cg) {
				int64_t iw = iw0 + (int64_t)kw * job->dilation_w;
				const uint8_t *px;

				if (ih < 0 || ih >= job->in_h || iw < 0 || iw >= job->in_w) {
					memset(dst, 0, cg * sizeof(*dst));
					continue;
				}
				px = in + ((uint64_t)ih * job->in_w + iw) * job->in_c + (uint64_t)g * cg;
				widen(px, cg, job->in_format, zp, dst);
			}
		}
		memset(dst, 0, (kp - plan->k) * sizeof(*dst));
	}
}

/*
 * Output row pixels [0, out_w) of channels [c0, c0 + n) from their sums
 * @acc (stride @n per pixel) into the NHWC output row at @at.
 */
static void write_row(const struct nuq_fast_ops *ops, const struct nuq_out_params *p,
		      const uint8_t *res, const int32_t *acc, size_t n, size_t c0, uint8_t *out,
		      uint64_t at)
{
	const struct nuq_conv_job *job = p->job;
	uint32_t ow;
	size_t o;

	for (ow = 0; ow < job->out_w; ow++, acc += n, at += job->out_c) {
		if (!res) {
			ops->requant(acc, n, p, c0, out + at);
			continue;
		}
		for (o = 0; o < n; o++)
			out[at + o] = nuq_conv_output(job, (int64_t)acc[o] + p->bias[c0 + o],
						      p->mult[c0 + o], p->shift[c0 + o], res,
						      at + o);
	}
}

/*
 * Depthwise (one input and one output channel per group): in NHWC the
 * channels of a pixel are adjacent, so each tap is one multiply-add over
 * all channels, on the input converted to int16 (x - zero point) once.
 */
static int run_depthwise(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
			 void *const t[NUQ_T_COUNT], const struct nuq_fast_ops *ops,
			 const struct nuq_out_params *p, const int16_t *w, size_t kp)
{
	size_t C = job->out_c, taps = plan->k, npx = (size_t)job->in_h * job->in_w, i, c;
	int32_t *wd = malloc(taps * C * sizeof(*wd)), *acc = malloc(C * job->out_w * sizeof(*acc));
	int16_t *x = malloc(npx * C * sizeof(*x));
	uint32_t n, oh, kh, kw;
	int ret = -ENOMEM;

	if (!wd || !acc || !x)
		goto out;
	for (i = 0; i < taps; i++)
		for (c = 0; c < C; c++)
			wd[i * C + c] = w[c * kp + i];
	for (n = 0; n < job->batch; n++) {
		const uint8_t *in = (const uint8_t *)t[NUQ_T_INPUT] + (uint64_t)n * npx * C;

		widen(in, npx * C, job->in_format, job->in_zero_point, x);
		for (oh = 0; oh < job->out_h; oh++) {
			int64_t ih0 = (int64_t)oh * job->stride_h - job->pad_top;

			memset(acc, 0, C * job->out_w * sizeof(*acc));
			/* Padding taps add 0 (x - zero point is 0 there): skip them. */
			for (kh = 0; kh < job->kernel_h; kh++) {
				int64_t ih = ih0 + (int64_t)kh * job->dilation_h;

				if (ih < 0 || ih >= job->in_h)
					continue;
				for (kw = 0; kw < job->kernel_w; kw++) {
					int64_t off = (int64_t)kw * job->dilation_w - job->pad_left;
					uint32_t lo = 0, hi = job->out_w;

					/* the output pixels whose input column is inside */
					while (lo < hi && off + (int64_t)lo * job->stride_w < 0)
						lo++;
					while (hi > lo && off + (int64_t)(hi - 1) * job->stride_w >=
							  job->in_w)
						hi--;
					if (lo == hi)
						continue;
					ops->dw_tap(x + ((size_t)ih * job->in_w +
							 (size_t)(off + (int64_t)lo * job->stride_w)) * C,
						    (size_t)job->stride_w * C,
						    wd + ((size_t)kh * job->kernel_w + kw) * C, C,
						    hi - lo, acc + (size_t)lo * C);
				}
			}
			write_row(ops, p, t[NUQ_T_RESIDUAL], acc, C, 0, t[NUQ_T_OUTPUT],
				  ((uint64_t)n * job->out_h + oh) * job->out_w * C);
		}
	}
	ret = 0;
out:
	free(wd);
	free(acc);
	free(x);
	return ret;
}

int nuq_conv_run_fast(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
		      void *const t[NUQ_T_COUNT], const struct nuq_fast_ops *ops)
{
	const uint8_t *bias = t[NUQ_T_BIAS], *rq = t[NUQ_T_REQUANT];
	size_t kp = ((size_t)plan->k + 1) & ~(size_t)1, ocg = plan->out_cg;
	size_t ocgp = (ocg + NUQ_OC_BLOCK - 1) / NUQ_OC_BLOCK * NUQ_OC_BLOCK;
	int16_t *w = NULL, *a = NULL, *wp = NULL;
	int32_t *acc = NULL, wmax, *ch = NULL;
	uint32_t n, oh, g, o, groups = job->groups;
	struct nuq_out_params p = { .job = job };
	int ret = 1;

	/* Per channel: bias, multiplier, shift, decoded once. */
	ch = malloc((size_t)job->out_c * 3 * sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	p.bias = ch;
	p.mult = ch + job->out_c;
	p.shift = ch + 2 * (size_t)job->out_c;
	for (o = 0; o < job->out_c; o++) {
		ch[o] = bias ? nuq_ld_s32(bias + 4 * o) : 0;
		ch[job->out_c + o] = nuq_ld_s32(rq + 8 * o);
		ch[2 * job->out_c + o] = nuq_ld_s32(rq + 8 * o + 4);
		if (!nuq_requant_ok(p.mult[o], p.shift[o]))
			goto out;
	}
	w = malloc((size_t)job->out_c * kp * sizeof(*w));
	if (!w) {
		ret = -ENOMEM;
		goto out;
	}
	if (decode_weights(job, plan, t, w, kp, &wmax))
		goto out;
	/* the exactness bound of 32-bit sums (see the top of the file) */
	if ((uint64_t)plan->k * 255 * (uint64_t)wmax >= (1ULL << 31))
		goto out;
	if (ocg == 1 && plan->in_cg == 1) {
		ret = run_depthwise(job, plan, t, ops, &p, w, kp);
		goto out;
	}
	a = malloc((size_t)job->out_w * kp * sizeof(*a));
	acc = malloc((size_t)job->out_w * ocg * sizeof(*acc));
	wp = malloc((size_t)groups * ocgp * kp * sizeof(*wp));
	if (!a || !acc || !wp) {
		ret = -ENOMEM;
		goto out;
	}
	for (g = 0; g < groups; g++)
		pack_weights(w + (size_t)g * ocg * kp, ocg, kp, wp + (size_t)g * ocgp * kp);

	for (n = 0; n < job->batch; n++) {
		const uint8_t *in = (const uint8_t *)t[NUQ_T_INPUT] +
				    (uint64_t)n * job->in_h * job->in_w * job->in_c;

		for (oh = 0; oh < job->out_h; oh++) {
			uint64_t row = ((uint64_t)n * job->out_h + oh) * job->out_w;

			for (g = 0; g < groups; g++) {
				im2col(job, plan, in, oh, g, a, kp);
				ops->dot(a, job->out_w, kp, wp + (size_t)g * ocgp * kp, ocg, acc);
				write_row(ops, &p, t[NUQ_T_RESIDUAL], acc, ocg, (size_t)g * ocg,
					  t[NUQ_T_OUTPUT], row * job->out_c + (size_t)g * ocg);
			}
		}
	}
	ret = 0;
out:
	free(ch);
	free(w);
	free(wp);
	free(a);
	free(acc);
	return ret;
}
