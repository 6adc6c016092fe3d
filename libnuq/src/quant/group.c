// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq quantization: one group of values through any method, and back.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "quant_priv.h"

int nuq_quantize_group(const float *x, size_t n, const struct nuq_qparams *p,
		       struct nuq_qgroup *g, uint8_t *idx, uint8_t *digits)
{
	size_t i;
	int ret;

	if (!x || !n || !p || !g || (unsigned int)p->method >= NUQ_Q_COUNT)
		return -EINVAL;
	if (!nuq_qmethod_is_asd(p->method) && (p->bits < 1 || p->bits > 8))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return -EINVAL;
	memset(g, 0, sizeof(*g));

	switch (p->method) {
	case NUQ_Q_UNIFORM_SYM:
	case NUQ_Q_UNIFORM_AFFINE:
	case NUQ_Q_DBC:
		ret = nuq_q_uniform(x, n, p, g);
		break;
	case NUQ_Q_ENQ:
		ret = nuq_q_enq(x, n, p, g);
		break;
	case NUQ_Q_KNQ:
		ret = nuq_q_knq(x, n, p, g);
		break;
	case NUQ_Q_KDE:
		ret = nuq_q_kde(x, n, p, g);
		break;
	case NUQ_Q_OPT:
		ret = nuq_q_opt(x, n, p, g);
		break;
	case NUQ_Q_MINIFLOAT:
		ret = nuq_q_minifloat(x, n, p, g);
		break;
	default:
		return nuq_q_asd(x, n, p, g, digits);
	}
	if (!ret && idx)
		nuq_assign_nearest(x, n, g->levels, g->nlevels, idx);
	return ret;
}

void nuq_dequantize_group(const struct nuq_qgroup *g, enum nuq_qmethod m, size_t n,
			  const uint8_t *idx, const uint8_t *digits, float *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = nuq_qmethod_is_asd(m) ? g->scale * nuq_asd_value(digits[2 * i], digits[2 * i + 1]) :
				     g->levels[idx[i] < g->nlevels ? idx[i] : 0];
}

double nuq_codebook_to_fixed(const float *levels, unsigned int n, unsigned int width,
			     int16_t *entries, float *scale)
{
	double amax = 0, err = 0, s;
	int qmax = width == 16 ? 32767 : 127;
	unsigned int i;

	for (i = 0; i < n; i++)
		amax = fmax(amax, fabs(levels[i]));
	s = amax > 0 ? amax / qmax : 1;
	*scale = (float)s;
	for (i = 0; i < n; i++) {
		long q = lround(levels[i] / s);

		entries[i] = (int16_t)(q > qmax ? qmax : q < -qmax ? -qmax : q);
		err = fmax(err, fabs(levels[i] - entries[i] * s));
	}
	return err;
}
