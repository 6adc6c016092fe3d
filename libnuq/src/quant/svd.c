// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: singular value decomposition for fully connected and 1x1 conv
 * layers (Zhao et al., JCST 2019: factor W ~ U S V^T, keep the largest
 * singular values, quantize the two factors).
 *
 * One-sided Jacobi (Hestenes): rotate pairs of columns of the matrix
 * until all are orthogonal; their norms are then the singular values.
 * It works on the matrix itself rather than on W W^T, so small singular
 * values keep their accuracy, and it needs no library beyond libm.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant_priv.h"

#define NUQ_SVD_SWEEPS	40

struct order {
	double s;
	size_t j;
};

static int by_sigma_desc(const void *a, const void *b)
{
	const struct order *x = a, *y = b;

	return x->s < y->s ? 1 : x->s > y->s ? -1 : (x->j > y->j) - (x->j < y->j);
}

/*
 * Orthogonalise the q columns (length p, stored one after another) of @x
 * and accumulate the rotations in @v (q x q, column j at v + j * q).
 */
static void jacobi(double *x, size_t p, size_t q, double *v)
{
	unsigned int sweep;
	size_t i, j, k;

	for (sweep = 0; sweep < NUQ_SVD_SWEEPS; sweep++) {
		int rotated = 0;

		for (i = 0; i + 1 < q; i++) {
			for (j = i + 1; j < q; j++) {
				double *xi = x + i * p, *xj = x + j * p, *vi = v + i * q, *vj = v + j * q;
				double a = 0, b = 0, c = 0, zeta, t, cs, sn;

				for (k = 0; k < p; k++) {
					a += xi[k] * xi[k];
					b += xj[k] * xj[k];
					c += xi[k] * xj[k];
				}
				if (fabs(c) <= 1e-15 * sqrt(a * b) || c == 0)
					continue;
				rotated = 1;
				zeta = (b - a) / (2 * c);
				t = (zeta >= 0 ? 1 : -1) / (fabs(zeta) + sqrt(1 + zeta * zeta));
				cs = 1 / sqrt(1 + t * t);
				sn = cs * t;
				for (k = 0; k < p; k++) {
					double u = xi[k], w = xj[k];

					xi[k] = cs * u - sn * w;
					xj[k] = sn * u + cs * w;
				}
				for (k = 0; k < q; k++) {
					double u = vi[k], w = vj[k];

					vi[k] = cs * u - sn * w;
					vj[k] = sn * u + cs * w;
				}
			}
		}
		if (!rotated)
			break;
	}
}

int nuq_svd(const float *a, size_t rows, size_t cols, double *sigma, float *l, float *r)
{
	int tr = rows < cols;
	size_t p = tr ? cols : rows, q = tr ? rows : cols, i, j, k;
	struct order *ord;
	double *x, *v;

	if (!rows || !cols || q > 65536)
		return -EINVAL;
	x = malloc(p * q * sizeof(*x));
	v = calloc(q * q, sizeof(*v));
	ord = malloc(q * sizeof(*ord));
	if (!x || !v || !ord) {
		free(x);
		free(v);
		free(ord);
		return -ENOMEM;
	}
	/* the columns of A (rows >= cols) or of A^T */
	for (i = 0; i < rows; i++)
		for (j = 0; j < cols; j++)
			x[tr ? i * p + j : j * p + i] = a[i * cols + j];
	for (j = 0; j < q; j++)
		v[j * q + j] = 1;
	jacobi(x, p, q, v);

	for (j = 0; j < q; j++) {
		double s = 0;

		for (k = 0; k < p; k++)
			s += x[j * p + k] * x[j * p + k];
		ord[j].s = sqrt(s);
		ord[j].j = j;
	}
	qsort(ord, q, sizeof(*ord), by_sigma_desc);

	/*
	 * A V = X (columns x_j = sigma_j u_j).  Not transposed: L = X (that is
	 * U S), R = V^T.  Transposed (A^T V = X): A = V X^T, so L = V S and
	 * R = the normalised x_j as rows.
	 */
	for (k = 0; k < q; k++) {
		size_t c = ord[k].j;
		double s = ord[k].s;

		sigma[k] = s;
		for (i = 0; i < rows; i++)
			l[i * q + k] = tr ? v[c * q + i] * s : x[c * p + i];
		for (j = 0; j < cols; j++)
			r[k * cols + j] = tr ? (s > 0 ? x[c * p + j] / s : 0) : v[c * q + j];
	}
	free(x);
	free(v);
	free(ord);
	return 0;
}

unsigned int nuq_svd_rank_for_energy(const double *sigma, size_t k, double keep)
{
	double total = 0, acc = 0;
	size_t i;

	for (i = 0; i < k; i++)
		total += sigma[i] * sigma[i];
	if (total <= 0)
		return 1;
	for (i = 0; i < k; i++) {
		acc += sigma[i] * sigma[i];
		if (acc >= keep * total)
			return i + 1;
	}
	return k;
}
