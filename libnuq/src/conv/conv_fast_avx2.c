// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: int16 dot products with AVX2 for the fast CPU path.
 *
 * Compiled for every x86-64 (the target attribute enables AVX2 for these
 * functions only); conv_cpu.c calls them only when the CPU has AVX2.
 * Register blocking: 4 pixels x 2 output channels = 8 accumulators, each
 * step loads 4 input rows and 2 weight rows of 16 int16 and does 8
 * _mm256_madd_epi16 (16 multiplies, pairs summed into 32 bits).
 */
#include <immintrin.h>

#include "conv_fast.h"

#define AVX2 __attribute__((target("avx2")))

static AVX2 int32_t hsum(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));

	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

static AVX2 void dot_1x1(const int16_t *a, const int16_t *w, size_t kp, int32_t *out)
{
	__m256i s = _mm256_setzero_si256();
	size_t k;

	for (k = 0; k < kp; k += 16)
		s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_loadu_si256((const void *)(a + k)),
							  _mm256_loadu_si256((const void *)(w + k))));
	*out = hsum(s);
}

AVX2 void nuq_dot_avx2(const int16_t *a, size_t npix, const int16_t *w, size_t ocn, size_t kp,
		       int32_t *out)
{
	size_t p = 0, o, k;

	for (; p + 4 <= npix; p += 4) {
		const int16_t *a0 = a + p * kp, *a1 = a0 + kp, *a2 = a1 + kp, *a3 = a2 + kp;

		for (o = 0; o + 2 <= ocn; o += 2) {
			const int16_t *w0 = w + o * kp, *w1 = w0 + kp;
			__m256i s00 = _mm256_setzero_si256(), s01 = s00, s10 = s00, s11 = s00;
			__m256i s20 = s00, s21 = s00, s30 = s00, s31 = s00;

			for (k = 0; k < kp; k += 16) {
				__m256i x0 = _mm256_loadu_si256((const void *)(a0 + k));
				__m256i x1 = _mm256_loadu_si256((const void *)(a1 + k));
				__m256i x2 = _mm256_loadu_si256((const void *)(a2 + k));
				__m256i x3 = _mm256_loadu_si256((const void *)(a3 + k));
				__m256i y0 = _mm256_loadu_si256((const void *)(w0 + k));
				__m256i y1 = _mm256_loadu_si256((const void *)(w1 + k));

				s00 = _mm256_add_epi32(s00, _mm256_madd_epi16(x0, y0));
				s01 = _mm256_add_epi32(s01, _mm256_madd_epi16(x0, y1));
				s10 = _mm256_add_epi32(s10, _mm256_madd_epi16(x1, y0));
				s11 = _mm256_add_epi32(s11, _mm256_madd_epi16(x1, y1));
				s20 = _mm256_add_epi32(s20, _mm256_madd_epi16(x2, y0));
				s21 = _mm256_add_epi32(s21, _mm256_madd_epi16(x2, y1));
				s30 = _mm256_add_epi32(s30, _mm256_madd_epi16(x3, y0));
				s31 = _mm256_add_epi32(s31, _mm256_madd_epi16(x3, y1));
			}
			out[p * ocn + o] = hsum(s00);
			out[p * ocn + o + 1] = hsum(s01);
			out[(p + 1) * ocn + o] = hsum(s10);
			out[(p + 1) * ocn + o + 1] = hsum(s11);
			out[(p + 2) * ocn + o] = hsum(s20);
			out[(p + 2) * ocn + o + 1] = hsum(s21);
			out[(p + 3) * ocn + o] = hsum(s30);
			out[(p + 3) * ocn + o + 1] = hsum(s31);
		}
		for (; o < ocn; o++) {
			dot_1x1(a0, w + o * kp, kp, &out[p * ocn + o]);
			dot_1x1(a1, w + o * kp, kp, &out[(p + 1) * ocn + o]);
			dot_1x1(a2, w + o * kp, kp, &out[(p + 2) * ocn + o]);
			dot_1x1(a3, w + o * kp, kp, &out[(p + 3) * ocn + o]);
		}
	}
	for (; p < npix; p++)
		for (o = 0; o < ocn; o++)
			dot_1x1(a + p * kp, w + o * kp, kp, &out[p * ocn + o]);
}
