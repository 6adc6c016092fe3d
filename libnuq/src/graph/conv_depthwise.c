// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the fp32 depthwise conv (one input and one output channel per
 * group), the bulk of BlazeFace's and the PaddleOCR models' fp32 conv time
 * once the products go through OpenBLAS (Documentation/performance.rst).
 *
 * Row by row: each output row starts at the bias, then every tap adds
 * w * (a run of the input row) over the output columns whose input column
 * is inside the image, computed once per tap instead of tested per pixel,
 * so the inner loop is a plain a*x+y that the compiler vectorises.  Each
 * output still sums bias, then the taps in (ky, kx) order, as before.
 * Built for AVX2+FMA and baseline x86-64, picked at load time.
 */
#include "graph_priv.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NUQ_CLONES __attribute__((target_clones("arch=x86-64-v3", "default"), optimize("O3")))
#else
#define NUQ_CLONES
#endif

/* Output columns [*lo, *hi) whose input column ox * s + off lies in [0, iw). */
static void valid_cols(int64_t off, int64_t s, int64_t iw, int64_t ow, int64_t *lo, int64_t *hi)
{
	*lo = off >= 0 ? 0 : (-off + s - 1) / s;
	*hi = iw - off <= 0 ? 0 : (iw - off + s - 1) / s;
	if (*hi > ow)
		*hi = ow;
}

NUQ_CLONES
void nuq_conv_depthwise_f32(const struct nuq_attrs *a, const float *x, int64_t ih, int64_t iw,
			    const float *w, float bias, float *y, int64_t oh, int64_t ow)
{
	int64_t sy = a->strides[0], sx = a->strides[1], kh = a->kernel[0], kw = a->kernel[1];
	int64_t oy, ox, ky, kx, lo, hi;

	for (oy = 0; oy < oh; oy++) {
		float *restrict yr = y + oy * ow;

		for (ox = 0; ox < ow; ox++)
			yr[ox] = bias;
		for (ky = 0; ky < kh; ky++) {
			int64_t iy = oy * sy - a->pads[0] + ky * a->dilations[0];
			const float *xr;

			if (iy < 0 || iy >= ih)
				continue;
			xr = x + iy * iw;
			for (kx = 0; kx < kw; kx++) {
				int64_t off = kx * a->dilations[1] - a->pads[1];
				float wv = w[ky * kw + kx];

				valid_cols(off, sx, iw, ow, &lo, &hi);
				if (lo >= hi)
					continue;
				if (sx == 1) {
					const float *restrict xs = xr + lo + off;
					float *restrict ys = yr + lo;
					int64_t n = hi - lo, j;

					for (j = 0; j < n; j++)
						ys[j] += wv * xs[j];
				} else {
					for (ox = lo; ox < hi; ox++)
						yr[ox] += wv * xr[ox * sx + off];
				}
			}
		}
	}
}
