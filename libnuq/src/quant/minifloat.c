// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq quantization: low-bit floating point weights (minifloat), one
 * scale per group.  A format has 1 sign bit, E exponent bits and M mantissa
 * bits (bias 2^(E-1) - 1, subnormals, every code finite: E4M3, E5M2, E2M1
 * and so on); its values times the group's scale form a codebook of at most
 * 2^bits entries, so the device runs it as a codebook layer.
 */
#include <errno.h>
#include <math.h>

#include "quant_priv.h"

/* Default exponent widths per total width: E2M1 for 4 bits, E4M3 for 8. */
static const unsigned int default_exp[9] = { 0, 0, 1, 1, 2, 2, 3, 3, 4 };

static int cmp_f(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* All values of the format, sorted, without the duplicate -0. */
static unsigned int minifloat_values(unsigned int bits, unsigned int e, float *out)
{
	unsigned int m = bits - 1 - e, code, n = 0;
	int bias = (1 << (e ? e - 1 : 0)) - 1;

	for (code = 0; code < (1u << (bits - 1)); code++) {
		unsigned int ex = code >> m, man = code & ((1u << m) - 1);
		double v = ex ? ldexp(1.0 + (double)man / (1u << m), (int)ex - bias) :
				ldexp((double)man / (1u << m), 1 - bias);

		out[n++] = (float)v;
		if (v > 0)
			out[n++] = (float)-v;
	}
	qsort(out, n, sizeof(*out), cmp_f);
	return n;
}

int nuq_q_minifloat(const float *x, size_t n, const struct nuq_qparams *p, struct nuq_qgroup *g)
{
	unsigned int e = p->fp_exp_bits ? p->fp_exp_bits : default_exp[p->bits], nv, i;
	float vals[256];
	double amax = 0, best_s = 0, best_e = INFINITY, r;
	size_t j;

	if (p->bits < 2 || e < 1 || e > p->bits - 1 || e > 6)
		return -EINVAL;
	nv = minifloat_values(p->bits, e, vals);
	for (j = 0; j < n; j++)
		amax = fmax(amax, fabs(x[j]));
	if (amax == 0) {
		g->nlevels = 1;
		g->levels[0] = 0;
		return 0;
	}
	/* the scale that maps the largest weight near the largest value, refined for MSE */
	for (r = 1.0; r >= 0.5; r -= 0.02) {
		double s = amax * r / vals[nv - 1], err;

		for (i = 0; i < nv; i++)
			g->levels[i] = (float)(vals[i] * s);
		err = nuq_levels_sse(x, n, g->levels, nv);
		if (err < best_e) {
			best_e = err;
			best_s = s;
		}
	}
	for (i = 0; i < nv; i++)
		g->levels[i] = (float)(vals[i] * best_s);
	g->nlevels = nv;
	return 0;
}
