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

/* Up to 4 pixels (@np) of one 16-channel block, into @o (stride 16). */
static AVX2 void block(const int16_t *a, size_t np, size_t kp, const int16_t *wb, int32_t *o)
{
	__m256i s00 = _mm256_setzero_si256(), s01 = s00, s10 = s00, s11 = s00;
	__m256i s20 = s00, s21 = s00, s30 = s00, s31 = s00;
	const int16_t *a0 = a, *a1 = a + (np > 1 ? kp : 0), *a2 = a + (np > 2 ? 2 * kp : 0);
	const int16_t *a3 = a + (np > 3 ? 3 * kp : 0);
	size_t k;

	for (k = 0; k < kp; k += 2, wb += 2 * NUQ_OC_BLOCK) {
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
	_mm256_storeu_si256((void *)(o + 16), s10);
	_mm256_storeu_si256((void *)(o + 24), s11);
	_mm256_storeu_si256((void *)(o + 32), s20);
	_mm256_storeu_si256((void *)(o + 40), s21);
	_mm256_storeu_si256((void *)(o + 48), s30);
	_mm256_storeu_si256((void *)(o + 56), s31);
}

AVX2 void nuq_dot_avx2(const int16_t *a, size_t npix, size_t kp, const int16_t *wp, size_t ocn,
		       int32_t *out)
{
	size_t nb = (ocn + NUQ_OC_BLOCK - 1) / NUQ_OC_BLOCK, p, b, i, j;
	int32_t tmp[4 * NUQ_OC_BLOCK];

	for (p = 0; p < npix; p += 4) {
		size_t np = npix - p < 4 ? npix - p : 4;

		for (b = 0; b < nb; b++) {
			size_t nc = ocn - b * NUQ_OC_BLOCK < NUQ_OC_BLOCK ?
				    ocn - b * NUQ_OC_BLOCK : NUQ_OC_BLOCK;

			block(a + p * kp, np, kp, wp + b * kp * NUQ_OC_BLOCK, tmp);
			for (i = 0; i < np; i++)
				for (j = 0; j < nc; j++)
					out[(p + i) * ocn + b * NUQ_OC_BLOCK + j] =
						tmp[i * NUQ_OC_BLOCK + j];
		}
	}
}
