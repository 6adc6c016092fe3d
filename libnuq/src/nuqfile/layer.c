// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: quantizing one ONNX weight into its stored form, optionally
 * after an SVD, and measuring what the stored values lose.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/nuqfile.h>

#include "msg.h"
#include "quant/quant_priv.h"

/* Fully connected, or a 1x1 convolution without groups. */
static int svd_applies(const struct nuq_onnx_weight *w)
{
	unsigned int i;

	if (w->layout == NUQ_LAYOUT_KN || w->layout == NUQ_LAYOUT_NK)
		return 1;
	if (w->layout != NUQ_LAYOUT_OIHW)
		return 0;
	for (i = 2; i < w->ndims; i++)
		if (w->dims[i] != 1)
			return 0;
	return w->cols > 1;
}

/* Mean squared error of @m against the weights @a. */
static double qmat_mse(const float *a, const struct nuq_qmat *m, enum nuq_qmethod method,
		       unsigned int bits)
{
	size_t n = (size_t)m->rows * m->cols;
	float *d = malloc(n * sizeof(*d));
	double e;

	if (!d)
		return INFINITY;
	nuq_qmat_dequantize(m, method, bits, d);
	e = nuq_mse(a, d, n);
	free(d);
	return e;
}

/* Worth 16-bit entries: 8-bit ones add more than this to the error. */
#define CB8_MAX_EXTRA_ERR	0.01

/*
 * @cbw 0 picks the entry width: 8 bits unless that adds more than 1% to
 * the squared error (*@cbw gets the choice).
 */
static int quantize_mat(const float *a, size_t rows, size_t cols, const struct nuq_layer_opts *o,
			unsigned int bits, unsigned int *cbw, struct nuq_qmat *m, double *fixed)
{
	struct nuq_qtensor t;
	struct nuq_qmat m8;
	double f8;
	int ret;

	ret = nuq_quantize_tensor(a, rows, cols, o->gran, o->group_size, &o->q, &t);
	if (ret)
		return ret;
	ret = nuq_qmat_from_qtensor(&t, bits, *cbw ? *cbw : 16, m, fixed);
	if (!ret && !*cbw && !nuq_qmethod_is_asd(o->q.method)) {
		*cbw = 16;
		ret = nuq_qmat_from_qtensor(&t, bits, 8, &m8, &f8);
		if (!ret && qmat_mse(a, &m8, o->q.method, bits) <=
			    qmat_mse(a, m, o->q.method, bits) * (1 + CB8_MAX_EXTRA_ERR)) {
			nuq_qmat_free(m);
			*m = m8;
			*fixed = f8;
			*cbw = 8;
		} else if (!ret) {
			nuq_qmat_free(&m8);
		}
	}
	nuq_qtensor_free(&t);
	return ret;
}

/* Factor @mat when that saves space: fills l->mat[0..1] and l->rank. */
static int quantize_svd(const float *mat, const struct nuq_layer_opts *o, struct nuq_qlayer *l,
			double *fixed)
{
	size_t rows = l->rows, cols = l->cols, k = rows < cols ? rows : cols, i;
	double *sigma = malloc(k * sizeof(*sigma)), f2;
	float *u = malloc(rows * k * sizeof(*u)), *vt = malloc(k * cols * sizeof(*vt)), *lr;
	unsigned int rank, cbw;
	int ret = -ENOMEM;

	if (!sigma || !u || !vt)
		goto out;
	ret = nuq_svd(mat, rows, cols, sigma, u, vt);
	if (ret)
		goto out;
	rank = nuq_svd_rank_for_energy(sigma, k, o->svd_keep);
	if ((size_t)rank * (rows + cols) >= rows * cols) {
		ret = 1;	/* no saving: quantize the matrix itself */
		goto out;
	}
	lr = malloc(rows * rank * sizeof(*lr));
	if (!lr)
		goto out;
	for (i = 0; i < rows; i++)
		memcpy(lr + i * rank, u + i * k, rank * sizeof(*lr));
	l->rank = rank;
	/* both factors share the layer's entry width: the first one picks it */
	ret = quantize_mat(lr, rows, rank, o, l->bits, &l->cb_width, &l->mat[0], fixed);
	free(lr);
	cbw = l->cb_width;
	if (!ret)
		ret = quantize_mat(vt, rank, cols, o, l->bits, &cbw, &l->mat[1], &f2);
	if (!ret)
		*fixed = fmax(*fixed, f2);
out:
	free(sigma);
	free(u);
	free(vt);
	return ret;
}

int nuq_qlayer_quantize(const struct nuq_onnx_weight *w, const float *mat,
			const struct nuq_layer_opts *o, struct nuq_qlayer *l,
			struct nuq_layer_stats *st, char *msg, size_t msglen)
{
	size_t n = w->rows * w->cols, i;
	int asd = nuq_qmethod_is_asd(o->q.method);
	float *deq;
	int ret;

	memset(l, 0, sizeof(*l));
	memset(st, 0, sizeof(*st));
	if (strlen(w->name) > NUQ_NAME_MAX || w->rows > UINT32_MAX || w->cols > UINT32_MAX)
		return nuq_fail(msg, msglen, -EINVAL, "weight %.64s: name or shape too large for a .nuq file",
				w->name);
	for (i = 0; i < n; i++)
		if (!isfinite(mat[i]))
			return nuq_fail(msg, msglen, -EINVAL, "weight %s: element %zu is not finite",
					w->name, i);
	strcpy(l->name, w->name);
	l->method = o->q.method;
	l->gran = o->gran;
	l->bits = asd ? 0 : o->q.bits;
	l->cb_width = asd ? 0 : o->cb_width;	/* 0: quantize_mat() picks */
	l->layout = w->layout;
	l->ndims = w->ndims;
	memcpy(l->dims, w->dims, sizeof(l->dims));
	l->rows = w->rows;
	l->cols = w->cols;

	ret = 1;
	if (o->svd_keep > 0 && svd_applies(w))
		ret = quantize_svd(mat, o, l, &st->fixed_err);
	if (ret == 1) {
		nuq_qmat_free(&l->mat[0]);
		nuq_qmat_free(&l->mat[1]);
		l->rank = 0;
		l->cb_width = asd ? 0 : o->cb_width;
		ret = quantize_mat(mat, l->rows, l->cols, o, l->bits, &l->cb_width, &l->mat[0],
				   &st->fixed_err);
	}
	if (ret) {
		nuq_qlayer_free(l);
		return nuq_fail(msg, msglen, ret, "weight %s: %s quantization failed: %s", w->name,
				nuq_qmethod_name(o->q.method), strerror(-ret));
	}
	deq = malloc(n * sizeof(*deq));
	if (!deq || nuq_qlayer_dequantize(l, deq)) {
		free(deq);
		nuq_qlayer_free(l);
		return -ENOMEM;
	}
	st->mse = nuq_mse(mat, deq, n);
	st->sqnr_db = nuq_sqnr_db(mat, deq, n);
	st->bytes = nuq_qlayer_file_bytes(l);
	st->rank = l->rank;
	free(deq);
	return 0;
}
