// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the fast CPU path's kernels in plain C, for CPUs without AVX2
 * (and as the readable statement of what the AVX2 ones compute).
 */
#include "conv_fast.h"

/* |x - zp| <= 255 always fits int16. */
static void widen_generic(const uint8_t *src, size_t n, uint32_t fmt, int32_t zp, int16_t *dst)
{
	size_t i;

	if (fmt == NUQ_AFMT_INT8)
		for (i = 0; i < n; i++)
			dst[i] = (int16_t)((int8_t)src[i] - zp);
	else
		for (i = 0; i < n; i++)
			dst[i] = (int16_t)(src[i] - zp);
}

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

static void dw_row_generic(const int16_t *x, size_t xstride, const size_t *off, size_t taps,
			   const int16_t *w, size_t cp, size_t npix, int32_t *acc)
{
	size_t p, c, t;

	for (p = 0; p < npix; p++, x += xstride, acc += cp) {
		for (c = 0; c < cp; c++) {
			int32_t s = 0;

			for (t = 0; t < taps; t++)
				s += x[off[t] + c] * w[nuq_dw_pos(t, c, cp)];
			acc[c] = s;
		}
	}
}

static void requant_generic(const int32_t *acc, size_t astride, size_t npix, size_t n,
			    const struct nuq_out_params *p, size_t c0, uint8_t *out, size_t ostride)
{
	size_t q, i;

	for (q = 0; q < npix; q++, acc += astride, out += ostride)
		for (i = 0; i < n; i++)
			out[i] = nuq_conv_output(p->job, (int64_t)acc[i] + p->bias[c0 + i],
						 p->mult[c0 + i], p->shift[c0 + i], NULL, 0);
}

const struct nuq_fast_ops nuq_fast_generic = {
	.widen = widen_generic,
	.dot = dot_generic,
	.dw_row = dw_row_generic,
	.requant = requant_generic,
};
