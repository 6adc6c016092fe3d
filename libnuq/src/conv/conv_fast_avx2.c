// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: int16 dot products with AVX2 for the fast CPU path.
 *
 * Compiled for every x86-64 (the target attribute enables AVX2 for these
 * functions only); conv_cpu.c calls them only when the CPU has AVX2.
 * Register blocking: 4 pixels x 16 output channels = 8 accumulators of 8
 * channels.  Each tap pair loads two registers of packed weights and
 * broadcasts each pixel's input pair; _mm256_madd_epi16 multiplies and
 * adds the pair, so sums land per channel and need no horizontal adds.
 *
 * The requantization epilogue does the core's fixed-point steps (see
 * nuq_conv.h) on 8 channels at once, exactly: 32x32->64-bit products for
 * the doubling high multiply, per-lane shifts, saturation by compares.
 */
#include <immintrin.h>
#include <string.h>

#include "conv_fast.h"

#define AVX2 __attribute__((target("avx2")))

static AVX2 __m256i pair(const int16_t *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return _mm256_set1_epi32(v);
}

static AVX2 void widen_avx2(const uint8_t *src, size_t n, uint32_t fmt, int32_t zp,
			   int16_t *dst)
{
	__m256i z = _mm256_set1_epi16((int16_t)zp);
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		__m128i b = _mm_loadu_si128((const void *)(src + i));
		__m256i x = fmt == NUQ_AFMT_INT8 ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b);

		_mm256_storeu_si256((void *)(dst + i), _mm256_sub_epi16(x, z));
	}
	for (; i < n; i++)
		dst[i] = (int16_t)((fmt == NUQ_AFMT_INT8 ? (int8_t)src[i] : src[i]) - zp);
}

/*
 * Up to 4 pixels (@np, rows of @astride in @a) times one 16-channel block
 * over @kn taps, into @o (a row of @ostride per pixel); @add: add to what
 * @o holds (a later slice of the taps).
 */
static AVX2 void block(const int16_t *a, size_t np, size_t astride, size_t kn, const int16_t *wb,
		       int32_t *o, size_t ostride, int add)
{
	__m256i s00 = _mm256_setzero_si256(), s01 = s00, s10 = s00, s11 = s00;
	__m256i s20 = s00, s21 = s00, s30 = s00, s31 = s00;
	const int16_t *a0 = a, *a1 = a + (np > 1 ? astride : 0);
	const int16_t *a2 = a + (np > 2 ? 2 * astride : 0), *a3 = a + (np > 3 ? 3 * astride : 0);
	size_t k;

	if (add) {
		s00 = _mm256_loadu_si256((const void *)(o + 0));
		s01 = _mm256_loadu_si256((const void *)(o + 8));
		s10 = _mm256_loadu_si256((const void *)(o + ostride));
		s11 = _mm256_loadu_si256((const void *)(o + ostride + 8));
		s20 = _mm256_loadu_si256((const void *)(o + 2 * ostride));
		s21 = _mm256_loadu_si256((const void *)(o + 2 * ostride + 8));
		s30 = _mm256_loadu_si256((const void *)(o + 3 * ostride));
		s31 = _mm256_loadu_si256((const void *)(o + 3 * ostride + 8));
	}
#pragma GCC unroll 4
	for (k = 0; k < kn; k += 2, wb += 2 * NUQ_OC_BLOCK) {
		__m256i w0 = _mm256_loadu_si256((const void *)wb);
		__m256i w1 = _mm256_loadu_si256((const void *)(wb + 16));
		__m256i x;

		x = pair(a0 + k);
		s00 = _mm256_add_epi32(s00, _mm256_madd_epi16(x, w0));
		s01 = _mm256_add_epi32(s01, _mm256_madd_epi16(x, w1));
		x = pair(a1 + k);
		s10 = _mm256_add_epi32(s10, _mm256_madd_epi16(x, w0));
		s11 = _mm256_add_epi32(s11, _mm256_madd_epi16(x, w1));
		x = pair(a2 + k);
		s20 = _mm256_add_epi32(s20, _mm256_madd_epi16(x, w0));
		s21 = _mm256_add_epi32(s21, _mm256_madd_epi16(x, w1));
		x = pair(a3 + k);
		s30 = _mm256_add_epi32(s30, _mm256_madd_epi16(x, w0));
		s31 = _mm256_add_epi32(s31, _mm256_madd_epi16(x, w1));
	}
	_mm256_storeu_si256((void *)(o + 0), s00);
	_mm256_storeu_si256((void *)(o + 8), s01);
	_mm256_storeu_si256((void *)(o + ostride), s10);
	_mm256_storeu_si256((void *)(o + ostride + 8), s11);
	_mm256_storeu_si256((void *)(o + 2 * ostride), s20);
	_mm256_storeu_si256((void *)(o + 2 * ostride + 8), s21);
	_mm256_storeu_si256((void *)(o + 3 * ostride), s30);
	_mm256_storeu_si256((void *)(o + 3 * ostride + 8), s31);
}

/*
 * Taps per slice: a slice of one block's packed weights (8 KiB) stays in
 * the L1 cache while the pixels stream past it.
 */
#define TAP_SLICE	256

/*
 * Output-channel blocks outermost, then slices of the taps, then groups
 * of 4 pixels.  Pixels left over at the end and a last block of fewer
 * than 16 channels go through @tmp with every tap at once.
 */
static AVX2 void dot_avx2(const int16_t *a, size_t npix, size_t kp, const int16_t *wp,
			 size_t ocn, int32_t *out)
{
	size_t nb = (ocn + NUQ_OC_BLOCK - 1) / NUQ_OC_BLOCK, full = npix & ~(size_t)3;
	size_t p, b, i, j, k0, kn;
	int32_t tmp[4 * NUQ_OC_BLOCK];

	for (b = 0; b < nb; b++) {
		size_t nc = ocn - b * NUQ_OC_BLOCK < NUQ_OC_BLOCK ?
			    ocn - b * NUQ_OC_BLOCK : NUQ_OC_BLOCK;
		const int16_t *wb = wp + b * kp * NUQ_OC_BLOCK;

		p = 0;
		if (nc == NUQ_OC_BLOCK) {
			for (k0 = 0; k0 < kp; k0 += kn) {
				kn = kp - k0 < TAP_SLICE ? kp - k0 : TAP_SLICE;
				for (p = 0; p < full; p += 4)
					block(a + p * kp + k0, 4, kp, kn, wb + k0 * NUQ_OC_BLOCK,
					      out + p * ocn + b * NUQ_OC_BLOCK, ocn, k0 > 0);
			}
		}
		for (; p < npix; p += 4) {
			size_t np = npix - p < 4 ? npix - p : 4;

			block(a + p * kp, np, kp, kp, wb, tmp, NUQ_OC_BLOCK, 0);
			for (i = 0; i < np; i++)
				for (j = 0; j < nc; j++)
					out[(p + i) * ocn + b * NUQ_OC_BLOCK + j] =
						tmp[i * NUQ_OC_BLOCK + j];
		}
	}
}

/*
 * Depthwise: per pixel and block of 16 channels, each pair of taps is two
 * loads, two unpacks (interleaving the taps' inputs channel by channel)
 * and two _mm256_madd_epi16 against the weights packed in the same order;
 * the two sums hold channels 0-3, 8-11 and 4-7, 12-15, put back in order
 * at the end.
 */
static AVX2 void dw_row_avx2(const int16_t *x, size_t xstride, const size_t *off, size_t taps,
			    const int16_t *w, size_t cp, size_t npix, int32_t *acc)
{
	size_t nb = cp / NUQ_DW_BLOCK, p, b, t;

	for (p = 0; p < npix; p++, x += xstride, acc += cp) {
		for (b = 0; b < nb; b++) {
			const int16_t *xb = x + b * NUQ_DW_BLOCK;
			const int16_t *wb = w + b * 2 * NUQ_DW_BLOCK;
			__m256i lo = _mm256_setzero_si256(), hi = lo;

			for (t = 0; t < taps; t += 2, wb += nb * 2 * NUQ_DW_BLOCK) {
				__m256i x0 = _mm256_loadu_si256((const void *)(xb + off[t]));
				__m256i x1 = _mm256_loadu_si256((const void *)(xb + off[t + 1]));

				lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1),
									    _mm256_loadu_si256((const void *)wb)));
				hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1),
									    _mm256_loadu_si256((const void *)(wb + 16))));
			}
			_mm256_storeu_si256((void *)(acc + b * NUQ_DW_BLOCK),
					    _mm256_permute2x128_si256(lo, hi, 0x20));
			_mm256_storeu_si256((void *)(acc + b * NUQ_DW_BLOCK + 8),
					    _mm256_permute2x128_si256(lo, hi, 0x31));
		}
	}
}

/* a + b saturated to 32 bits. */
static AVX2 __m256i adds_epi32(__m256i a, __m256i b)
{
	__m256i r = _mm256_add_epi32(a, b);
	/* Overflow: a and b have one sign and r the other. */
	__m256i ovf = _mm256_andnot_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(a, r));
	__m256i sat = _mm256_xor_si256(_mm256_srai_epi32(a, 31), _mm256_set1_epi32(0x7fffffff));

	return _mm256_blendv_epi8(r, sat, _mm256_srai_epi32(ovf, 31));
}

/*
 * round(x * m / 2^31) per 64-bit lane, ties toward +inf: the core's nudge
 * and truncating division come to floor((ab + 2^30) / 2^31), and with
 * m >= 0 the result fits 32 bits - bits 31 to 62 of ab + 2^30.  The even
 * lanes shift them down to the low half, the odd lanes up to the high half.
 */
static AVX2 __m256i srdhm_even(__m256i ab)
{
	return _mm256_srli_epi64(_mm256_add_epi64(ab, _mm256_set1_epi64x(1LL << 30)), 31);
}

static AVX2 __m256i srdhm_odd(__m256i ab)
{
	return _mm256_slli_epi64(_mm256_add_epi64(ab, _mm256_set1_epi64x(1LL << 30)), 1);
}

/* x * 2^max(shift, 0) saturated to 32 bits: shifting back differs when bits were lost. */
static AVX2 __m256i lshift_sat(__m256i x, __m256i shift)
{
	__m256i lsh = _mm256_max_epi32(shift, _mm256_setzero_si256());
	__m256i up = _mm256_sllv_epi32(x, lsh);
	__m256i lost = _mm256_xor_si256(_mm256_cmpeq_epi32(_mm256_srav_epi32(up, lsh), x),
					_mm256_set1_epi32(-1));

	return _mm256_blendv_epi8(up, _mm256_xor_si256(_mm256_srai_epi32(x, 31),
						       _mm256_set1_epi32(0x7fffffff)), lost);
}

/*
 * nuq_requantize() of 8 lanes of channels @c (from @p); the multipliers
 * are 0 or >= 2^30 (validated).  The left shift is done by the caller.
 */
static AVX2 __m256i requantize8(__m256i x, const struct nuq_out_params *p, size_t c)
{
	__m256i mult = _mm256_loadu_si256((const void *)(p->mult + c));
	__m256i rsh = _mm256_loadu_si256((const void *)(p->rshift + c));
	__m256i mask = _mm256_loadu_si256((const void *)(p->rmask + c));
	__m256i half = _mm256_loadu_si256((const void *)(p->rhalf + c));
	__m256i even, odd, rem, thr;

	even = srdhm_even(_mm256_mul_epi32(x, mult));
	odd = srdhm_odd(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(mult, 32)));
	x = _mm256_blend_epi32(even, odd, 0xaa);
	/* Rounding right shift, ties away from zero: round up past half (half + 1 if negative). */
	rem = _mm256_and_si256(x, mask);
	thr = _mm256_sub_epi32(half, _mm256_srai_epi32(x, 31));
	return _mm256_sub_epi32(_mm256_srav_epi32(x, rsh), _mm256_cmpgt_epi32(rem, thr));
}

/*
 * Lanes 0-7 of @v, values of the output type, as bytes at @out: the packs
 * saturate, which values in range never reach.
 */
static AVX2 void store8(uint8_t *out, __m256i v, int u8)
{
	__m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));

	_mm_storel_epi64((void *)out, u8 ? _mm_packus_epi16(w, w) : _mm_packs_epi16(w, w));
}

static AVX2 void requant_avx2(const int32_t *acc, size_t astride, size_t npix, size_t n,
			      const struct nuq_out_params *p, size_t c0, uint8_t *out,
			      size_t ostride)
{
	const struct nuq_conv_job *job = p->job;
	__m256i zp = _mm256_set1_epi32(job->out_zero_point);
	/* Clamping before adding the zero point cannot overflow. */
	__m256i lo = _mm256_set1_epi32(job->out_min - job->out_zero_point);
	__m256i hi = _mm256_set1_epi32(job->out_max - job->out_zero_point);
	int u8 = job->out_format == NUQ_AFMT_UINT8;
	size_t q, i;

	for (q = 0; q < npix; q++, acc += astride, out += ostride) {
		for (i = 0; i + 8 <= n; i += 8) {
			__m256i x = _mm256_loadu_si256((const void *)(acc + i));
			__m256i b = _mm256_loadu_si256((const void *)(p->bias + c0 + i));
			__m256i r;

			x = p->sums_fit ? _mm256_add_epi32(x, b) : adds_epi32(x, b);
			if (p->lshift)
				x = lshift_sat(x, _mm256_loadu_si256((const void *)(p->shift + c0 + i)));
			r = requantize8(x, p, c0 + i);
			r = _mm256_min_epi32(_mm256_max_epi32(r, lo), hi);
			store8(out + i, _mm256_add_epi32(r, zp), u8);
		}
		for (; i < n; i++)
			out[i] = nuq_conv_output(job, (int64_t)acc[i] + p->bias[c0 + i],
						 p->mult[c0 + i], p->shift[c0 + i], NULL, 0);
	}
}

const struct nuq_fast_ops nuq_fast_avx2 = {
	.widen = widen_avx2,
	.dot = dot_avx2,
	.dw_row = dw_row_avx2,
	.requant = requant_avx2,
};
