// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq quantization: retrain-less approximate signed digit weights
 * (KAIST 2020).  Every weight becomes scale * (+-2^a +- 2^b), at most two
 * non-zero signed power-of-two digits, so the convolution needs shifts and
 * adds only; the per-group scale is chosen for the smallest squared error.
 * ASD1 allows one digit, CSD two non-adjacent ones (|a - b| >= 2).
 * Digits use the UAPI's byte format (bit 7 sign, bit 6 present, 0-3 exponent).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "quant_priv.h"

#define ASD_MAX	1024

struct asd_value {
	int32_t v;
	uint8_t d0, d1;
};

static uint8_t digit(int sign, unsigned int e)
{
	return (uint8_t)(0x40 | (sign < 0 ? 0x80 : 0) | e);
}

int32_t nuq_asd_value(uint8_t d0, uint8_t d1)
{
	int32_t v = 0;

	if (d0)
		v += (d0 & 0x80 ? -1 : 1) * (1 << (d0 & 15));
	if (d1)
		v += (d1 & 0x80 ? -1 : 1) * (1 << (d1 & 15));
	return v;
}

static int cmp_asd(const void *a, const void *b)
{
	const struct asd_value *x = a, *y = b;

	return (x->v > y->v) - (x->v < y->v);
}

/* Every value the variant can represent with exponents 0..emax, sorted, unique. */
static unsigned int asd_table(enum nuq_qmethod m, unsigned int emax, struct asd_value *t)
{
	unsigned int n = 0, a, b, k, out = 0;
	int sa, sb;

	t[n++] = (struct asd_value){ 0, 0, 0 };
	for (a = 0; a <= emax; a++) {
		for (sa = -1; sa <= 1; sa += 2) {
			t[n++] = (struct asd_value){ sa * (1 << a), digit(sa, a), 0 };
			if (m == NUQ_Q_ASD1)
				continue;
			for (b = 0; b <= a; b++) {
				if (m == NUQ_Q_CSD && a - b < 2)
					continue;
				for (sb = -1; sb <= 1; sb += 2)
					t[n++] = (struct asd_value){ sa * (1 << a) + sb * (1 << b),
								     digit(sa, a), digit(sb, b) };
			}
		}
	}
	/* sort by value; keep the first (fewest-digit) encoding of each */
	qsort(t, n, sizeof(*t), cmp_asd);
	for (k = 0; k < n; k++) {
		if (out && t[out - 1].v == t[k].v) {
			if (!t[k].d1 && t[out - 1].d1)
				t[out - 1] = t[k];
			continue;
		}
		t[out++] = t[k];
	}
	return out;
}

static unsigned int asd_nearest(double v, const struct asd_value *t, unsigned int n)
{
	unsigned int lo = 0, hi = n - 1;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (v > 0.5 * ((double)t[mid].v + t[mid + 1].v))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int nuq_q_asd(const float *x, size_t n, const struct nuq_qparams *p, struct nuq_qgroup *g,
	      uint8_t *digits)
{
	unsigned int emax = p->asd_max_exp ? p->asd_max_exp : 7, nt;
	struct asd_value *t;
	double amax = 0, best_s = 1, best_e = INFINITY, r;
	size_t i;

	if (emax > 14)
		return -EINVAL;
	t = malloc(ASD_MAX * sizeof(*t));
	if (!t)
		return -ENOMEM;
	nt = asd_table(p->method, emax, t);
	for (i = 0; i < n; i++)
		amax = fmax(amax, fabs(x[i]));
	if (amax > 0) {
		for (r = 1.0; r >= 0.3; r -= 0.01) {
			double s = amax * r / t[nt - 1].v, e = 0;

			for (i = 0; i < n && e < best_e; i++) {
				double d = x[i] - s * t[asd_nearest(x[i] / s, t, nt)].v;

				e += d * d;
			}
			if (e < best_e) {
				best_e = e;
				best_s = s;
			}
		}
	}
	g->scale = (float)best_s;
	g->nlevels = 0;
	if (digits) {
		for (i = 0; i < n; i++) {
			const struct asd_value *v = &t[asd_nearest(x[i] / g->scale, t, nt)];

			digits[2 * i] = v->d0;
			digits[2 * i + 1] = v->d1;
		}
	}
	free(t);
	return 0;
}
