// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: data-aware rounding of codebook indices (GPTQ, Frantar et al.
 * 2023, with the codebook in place of the uniform grid).
 *
 * Rounding each weight to its nearest level minimises the weights' error;
 * what a layer's output loses is that error seen through its inputs,
 * (w - q)^T H (w - q) per row with H = sum x x^T over the calibration
 * inputs.  GPTQ takes the columns one at a time, rounds, and moves the
 * rounding error onto the columns still to come in the direction H says
 * costs least; with U the upper Cholesky factor of H^-1 that is
 * w[j] -= (w[i] - q[i]) / U[i][i] * U[i][j] for j > i.  The codebook,
 * scales and sizes stay as they are: only the indices change, so every
 * layout and the file are untouched.  Columns go in the order of falling
 * H[i][i] (the inputs that matter most are rounded while the most columns
 * are left to absorb the error).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/nuqfile.h>

#include "openblas.h"

/*
 * LAPACK's Cholesky factor and inverse from a positive definite one
 * (column-major, Fortran calling convention: the string's length last),
 * OpenBLAS's when linked in.
 */
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t len);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t len);
#pragma weak dpotrf_
#pragma weak dpotri_

/* Dampening, as a fraction of the mean diagonal: keeps H^-1 well conditioned. */
#define GPTQ_DAMP	0.01
#define GPTQ_TRIES	4	/* each one ten times the dampening before */

void nuq_moments_free(struct nuq_moments *m)
{
	free(m->h);
	free(m->sum);
	memset(m, 0, sizeof(*m));
}

void nuq_moments_center(struct nuq_moments *m)
{
	size_t n = m->dim, k, i, j;

	if (!m->h || !m->sum || !m->samples)
		return;
	for (k = 0; k < m->groups; k++) {
		double *h = m->h + k * n * n;
		const double *s = m->sum + k * n;

		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++)
				h[i * n + j] -= s[i] * s[j] / m->samples;
	}
	free(m->sum);
	m->sum = NULL;
}

/* In-place lower Cholesky factor of the n x n @a; -EDOM when not positive definite. */
static int cholesky(double *a, size_t n)
{
	size_t i, j, k;

	for (j = 0; j < n; j++) {
		double d = a[j * n + j];

		for (k = 0; k < j; k++)
			d -= a[j * n + k] * a[j * n + k];
		if (!(d > 0))
			return -EDOM;
		d = sqrt(d);
		a[j * n + j] = d;
		for (i = j + 1; i < n; i++) {
			double s = a[i * n + j];

			for (k = 0; k < j; k++)
				s -= a[i * n + k] * a[j * n + k];
			a[i * n + j] = s / d;
		}
		for (i = 0; i < j; i++)
			a[i * n + j] = 0;
	}
	return 0;
}

/*
 * inverse_upper_factor() with LAPACK (blocked: the recogniser's factors
 * take a small fraction of the loops' time).  H is symmetric, so the
 * row-major H is the column-major H: dpotrf("U") leaves H = L L^T's L in
 * the row-major lower triangle, dpotri("U") H^-1's lower triangle (here
 * mirrored), and dpotrf("L") of H^-1 leaves in the row-major upper
 * triangle the U with H^-1 = U^T U.  -ENOSYS when LAPACK is not linked in
 * (or NUQ_LAPACK is "own").
 */
static int lapack_upper_factor(double *h, size_t n)
{
	static int use = -1;
	int m = (int)n, info = 0;
	size_t i, j;

	if (use < 0)
		use = nuq_openblas_use(dpotrf_ && dpotri_, "NUQ_LAPACK");
	if (!use || n > INT_MAX / 2)
		return -ENOSYS;
	dpotrf_("U", &m, h, &m, &info, 1);
	if (!info)
		dpotri_("U", &m, h, &m, &info, 1);
	if (info)
		return -EDOM;
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			h[j * n + i] = h[i * n + j];
	dpotrf_("L", &m, h, &m, &info, 1);
	if (info)
		return -EDOM;
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			h[i * n + j] = 0;
	return 0;
}

/*
 * @h (n x n, overwritten) becomes U, upper with H^-1 = U^T U: the
 * transpose of H^-1's lower Cholesky factor.  H = L L^T gives
 * H^-1 = L^-T L^-1.
 */
static int inverse_upper_factor(double *h, size_t n, double *tmp)
{
	size_t i, j, k;
	int ret;

	ret = lapack_upper_factor(h, n);
	if (ret != -ENOSYS)
		return ret;
	ret = cholesky(h, n);
	if (ret)
		return ret;
	/*
	 * tmp = X = L^-1 (lower), a row at a time:
	 * X[i] = (e_i - sum over k < i of L[i][k] X[k]) / L[i][i]
	 * (rows, not columns, so that the loops run along memory).
	 */
	memset(tmp, 0, n * n * sizeof(*tmp));
	for (i = 0; i < n; i++) {
		double *xi = tmp + i * n;

		xi[i] = 1;
		for (k = 0; k < i; k++) {
			double l = h[i * n + k];
			const double *xk = tmp + k * n;

			if (l == 0)
				continue;
			for (j = 0; j <= k; j++)
				xi[j] -= l * xk[j];
		}
		for (j = 0; j <= i; j++)
			xi[j] /= h[i * n + i];
	}
	/* h = X^T X, summed row by row of X (its lower triangle, then mirrored) */
	memset(h, 0, n * n * sizeof(*h));
	for (k = 0; k < n; k++) {
		const double *xk = tmp + k * n;

		for (i = 0; i <= k; i++) {
			double xi = xk[i], *hi = h + i * n;

			if (xi == 0)
				continue;
			for (j = 0; j <= i; j++)
				hi[j] += xi * xk[j];
		}
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			h[j * n + i] = h[i * n + j];
	ret = cholesky(h, n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			tmp[i * n + j] = h[j * n + i];
	memcpy(h, tmp, n * n * sizeof(*h));
	return 0;
}

/* Columns by falling diagonal; stable, so ties keep their order. */
struct col_key {
	double d;
	size_t c;
};

static int cmp_col_key(const void *a, const void *b)
{
	const struct col_key *x = a, *y = b;

	if (x->d != y->d)
		return x->d < y->d ? 1 : -1;
	return (x->c > y->c) - (x->c < y->c);
}

int nuq_gptq_factor(const struct nuq_moments *mo, size_t k, struct nuq_gptq_factor *f)
{
	size_t n = mo->dim, i, j;
	const double *h = mo->h + k * n * n;
	struct col_key *key;
	double mean = 0, *tmp;
	unsigned int t;
	int ret = -ENOMEM;

	memset(f, 0, sizeof(*f));
	f->dim = n;
	f->perm = malloc(n * sizeof(*f->perm));
	f->u = malloc(n * n * sizeof(*f->u));
	key = malloc(n * sizeof(*key));
	tmp = malloc(n * n * sizeof(*tmp));
	if (!f->perm || !f->u || !key || !tmp)
		goto out;
	for (i = 0; i < n; i++) {
		key[i].d = h[i * n + i];
		key[i].c = i;
		mean += h[i * n + i];
	}
	mean /= n;
	qsort(key, n, sizeof(*key), cmp_col_key);
	for (i = 0; i < n; i++)
		f->perm[i] = key[i].c;
	ret = -EDOM;
	for (t = 0; mean > 0 && t < GPTQ_TRIES && ret; t++) {
		double damp = GPTQ_DAMP * pow(10, t) * mean;

		for (i = 0; i < n; i++) {
			for (j = 0; j < n; j++)
				f->u[i * n + j] = h[f->perm[i] * n + f->perm[j]];
			/* an input that is always zero: its weight costs nothing */
			if (f->u[i * n + i] <= 0)
				f->u[i * n + i] = mean;
			f->u[i * n + i] += damp;
		}
		ret = inverse_upper_factor(f->u, n, tmp);
	}
out:
	free(key);
	free(tmp);
	if (ret)
		nuq_gptq_factor_free(f);
	return ret;
}

void nuq_gptq_factor_free(struct nuq_gptq_factor *f)
{
	free(f->perm);
	free(f->u);
	memset(f, 0, sizeof(*f));
}

/* A codebook's levels in ascending order, with their indices. */
struct level {
	float v;
	uint8_t idx;
};

static int cmp_level(const void *a, const void *b)
{
	const struct level *x = a, *y = b;

	return (x->v > y->v) - (x->v < y->v);
}

/* The index of the level nearest @v among @n sorted ones. */
static uint8_t nearest(const struct level *l, unsigned int n, float v)
{
	unsigned int lo = 0, hi = n - 1;

	while (hi - lo > 1) {
		unsigned int mid = (lo + hi) / 2;

		if (l[mid].v <= v)
			lo = mid;
		else
			hi = mid;
	}
	return fabsf(v - l[lo].v) <= fabsf(l[hi].v - v) ? l[lo].idx : l[hi].idx;
}

int nuq_qmat_gptq(struct nuq_qmat *m, unsigned int bits, const float *w,
		  const struct nuq_gptq_factor *f, size_t row0, size_t nrows)
{
	size_t n = m->cols, e = (size_t)1 << bits, r, i, j, cb;
	struct level *lv;
	double *x;

	if (!m->idx || f->dim != n || row0 + nrows > m->rows || bits < 1 || bits > 8)
		return -EINVAL;
	lv = malloc(m->ncodebooks * e * sizeof(*lv));
	x = malloc(n * sizeof(*x));
	if (!lv || !x) {
		free(lv);
		free(x);
		return -ENOMEM;
	}
	for (cb = 0; cb < m->ncodebooks; cb++) {
		for (i = 0; i < m->nlevels[cb]; i++) {
			lv[cb * e + i].v = m->entries[cb * e + i];
			lv[cb * e + i].idx = (uint8_t)i;
		}
		qsort(lv + cb * e, m->nlevels[cb], sizeof(*lv), cmp_level);
	}
	for (r = row0; r < row0 + nrows; r++) {
		for (i = 0; i < n; i++)
			x[i] = w[r * n + f->perm[i]];
		for (i = 0; i < n; i++) {
			size_t c = f->perm[i], g = nuq_qmat_group_of(m, r, c);
			size_t k = nuq_qmat_codebook(m, g);
			float s = m->scales[g];
			const double *u = f->u + i * n;
			uint8_t q;
			double err;

			if (!(s != 0) || !m->nlevels[k])
				continue;	/* a zero channel: every index gives 0 */
			q = m->nlevels[k] == 1 ? lv[k * e].idx :
			    nearest(lv + k * e, m->nlevels[k], (float)(x[i] / s));
			m->idx[r * n + c] = q;
			err = (x[i] - (double)s * m->entries[k * e + q]) / u[i];
			for (j = i + 1; j < n; j++)
				x[j] -= err * u[j];
		}
	}
	free(lv);
	free(x);
	return 0;
}

double nuq_moments_energy(const struct nuq_moments *mo, const float *a, const float *b,
			  size_t rows, size_t cols)
{
	size_t n = cols, per, r, i, j;
	double total = 0, *d;

	if (!mo->h || mo->dim != cols || !mo->groups || rows % mo->groups)
		return NAN;
	d = malloc(n * sizeof(*d));
	if (!d)
		return NAN;
	per = rows / mo->groups;
	for (r = 0; r < rows; r++) {
		const double *h = mo->h + (r / per) * n * n;

		for (i = 0; i < n; i++)
			d[i] = b ? (double)a[r * n + i] - b[r * n + i] : a[r * n + i];
		for (i = 0; i < n; i++) {
			double s = 0;

			if (d[i] == 0)
				continue;
			for (j = 0; j < n; j++)
				s += h[i * n + j] * d[j];
			total += d[i] * s;
		}
	}
	free(d);
	return total;
}

double nuq_output_nsr(const struct nuq_moments *mo, const float *ref, const float *deq,
		      size_t rows, size_t cols)
{
	double signal = nuq_moments_energy(mo, ref, NULL, rows, cols);

	return signal > 0 ? nuq_moments_energy(mo, ref, deq, rows, cols) / signal :
	       isnan(signal) ? NAN : 0;
}

int nuq_qlayer_gptq(struct nuq_qlayer *l, const float *mat, const struct nuq_moments *mo,
		    const struct nuq_gptq_factor *f, struct nuq_layer_stats *st, double *err_energy)
{
	size_t n = (size_t)l->rows * l->cols, per, k;
	float *deq;
	int ret = 0;

	if (l->rank || !l->mat[0].idx)
		return -EOPNOTSUPP;
	if (!mo->h || mo->dim != l->cols || !mo->groups || l->rows % mo->groups)
		return -EINVAL;
	per = l->rows / mo->groups;
	for (k = 0; !ret && k < mo->groups; k++)
		ret = nuq_qmat_gptq(&l->mat[0], l->bits, mat, &f[k], k * per, per);
	if (ret)
		return ret;
	deq = malloc(n * sizeof(*deq));
	if (!deq)
		return -ENOMEM;
	nuq_qmat_dequantize(&l->mat[0], l->method, l->bits, deq);
	st->mse = nuq_mse(mat, deq, n);
	st->sqnr_db = nuq_sqnr_db(mat, deq, n);
	if (err_energy)
		*err_energy = nuq_moments_energy(mo, mat, deq, l->rows, l->cols);
	free(deq);
	return 0;
}
