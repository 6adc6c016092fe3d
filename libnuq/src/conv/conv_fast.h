/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: the vectorised CPU path (userspace only).  See conv_fast.c.
 */
#ifndef NUQ_CONV_FAST_H
#define NUQ_CONV_FAST_H

#include <stddef.h>
#include <stdint.h>

#include <nuq/conv.h>

#include "nuq_conv.h"

/*
 * Weights packed for the dot products: output channels in blocks of 16
 * (the last block padded with zero channels), and within a block, for each
 * pair of taps k, k+1, the 16 channels' (w[k], w[k+1]) pairs:
 * wp[((ob * kp / 2) + k / 2) * 32 + 2 * o + k % 2].  One 32-byte load then
 * holds a tap pair of 8 channels, which _mm256_madd_epi16 multiplies by a
 * broadcast pair of inputs - the sums land per channel, with no horizontal
 * additions.
 */
#define NUQ_OC_BLOCK	16

/*
 * out[p * ocn + o] = sum over k < kp of a[p * kp + k] * w[o][k], for
 * p < npix and o < ocn; kp is even and the sums fit 32 bits.
 */
typedef void (*nuq_dot_fn)(const int16_t *a, size_t npix, size_t kp, const int16_t *wp,
			   size_t ocn, int32_t *out);

/*
 * Depthwise weights are packed for pairs of taps over blocks of 16
 * channels: _mm256_unpacklo/hi_epi16 of two taps' inputs interleave
 * channels 0-3 and 8-11 (lo) and 4-7 and 12-15 (hi) of a block, so each
 * 32-weight group holds the (tap t, tap t + 1) pairs in that order.  An
 * odd last tap is paired with zero weights.
 */
#define NUQ_DW_BLOCK	16

/* Where the weight of tap @t, channel @c goes (cp channels, a multiple of 16). */
static inline size_t nuq_dw_pos(size_t t, size_t c, size_t cp)
{
	size_t cc = c % NUQ_DW_BLOCK;

	return ((t / 2) * (cp / NUQ_DW_BLOCK) + c / NUQ_DW_BLOCK) * 2 * NUQ_DW_BLOCK +
	       ((cc >> 2) & 1) * 16 + (cc >> 3) * 8 + 2 * (cc & 3) + t % 2;
}

/*
 * One output row of a depthwise conv, on an int16 image whose padding and
 * channels (cp, a multiple of 16) are materialised: for p < npix, c < cp,
 * acc[p * cp + c] = sum over t < taps of x[p * xstride + off[t] + c] *
 * (weight of tap t, channel c).  taps is even (see nuq_dw_pos()).
 */
typedef void (*nuq_dw_row_fn)(const int16_t *x, size_t xstride, const size_t *off, size_t taps,
			      const int16_t *w, size_t cp, size_t npix, int32_t *acc);

/*
 * A job's output parameters, per channel as arrays (for vector loads):
 * rshift is max(-shift, 0), rmask 2^rshift - 1, rhalf rmask / 2 (the
 * rounding right shift's pieces).  lshift: some shift is positive.  sums_fit:
 * no sum plus its bias can overflow 32 bits, so the bias needs no
 * saturating add.
 */
struct nuq_out_params {
	const struct nuq_conv_job *job;
	const int32_t *bias, *mult, *shift, *rshift, *rmask, *rhalf;
	int lshift, sums_fit;
};

/*
 * out[q * ostride + i] = nuq_conv_output(acc[q * astride + i] + bias[c0 + i])
 * with channel c0 + i's requantization, for pixels q < npix and i < n;
 * no residual.
 */
typedef void (*nuq_requant_fn)(const int32_t *acc, size_t astride, size_t npix, size_t n,
			       const struct nuq_out_params *p, size_t c0, uint8_t *out,
			       size_t ostride);

/* dst[i] = x - zp for the @n activations of &enum nuq_act_format @fmt at @src. */
typedef void (*nuq_widen_fn)(const uint8_t *src, size_t n, uint32_t fmt, int32_t zp,
			     int16_t *dst);

/* The kernels of one instruction set. */
struct nuq_fast_ops {
	nuq_widen_fn widen;
	nuq_dot_fn dot;
	nuq_dw_row_fn dw_row;
	nuq_requant_fn requant;
};

extern const struct nuq_fast_ops nuq_fast_generic, nuq_fast_avx2;

/*
 * conv_parallel.c: @fn(@ctx, i) for every i in [0, @n), on up to
 * nuq_conv_threads() threads (the caller is one); returns when all are done.
 */
typedef void (*nuq_part_fn)(void *ctx, size_t part);
void nuq_parallel_for(size_t n, nuq_part_fn fn, void *ctx);
unsigned int nuq_conv_threads(void);

/* conv_fast_scratch.c: a buffer of at least @size bytes, kept for reuse by nuq_scratch_put(). */
void *nuq_scratch_get(size_t size);
void nuq_scratch_put(void *p);

/* conv_fast_weights.c: weights of every format as int16, and packed. */
int nuq_fast_decode_weights(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
			    void *const t[NUQ_T_COUNT], int16_t *w, size_t kp, int32_t *wmax);
void nuq_fast_pack_weights(const int16_t *w, size_t ocn, size_t kp, int16_t *wp);
void nuq_fast_pack_dw_weights(const int16_t *w, size_t c, size_t kp, size_t taps, size_t cp,
			      int16_t *wd);

/*
 * Run a validated job with @ops.  Returns 0, or 1 when the job is outside
 * what the fast path computes exactly (the caller then uses the portable
 * core), or a negative errno.
 */
int nuq_conv_run_fast(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
		      void *const t[NUQ_T_COUNT], const struct nuq_fast_ops *ops);

#endif
