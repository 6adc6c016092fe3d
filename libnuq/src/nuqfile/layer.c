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

static int quantize_mat(const float *a, size_t rows, size_t cols, const struct nuq_layer_opts *o,
			unsigned int bits, unsigned int cbw, struct nuq_qmat *m, double *fixed)
{
	struct nuq_qtensor t;
	int ret;

	ret = nuq_quantize_tensor(a, rows, cols, o->gran, o->group_size, &o->q, &t);
	if (ret)
		return ret;
	ret = nuq_qmat_from_qtensor(&t, bits, cbw, m, fixed);
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
	unsigned int rank;
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
	ret = quantize_mat(lr, rows, rank, o, l->bits, l->cb_width, &l->mat[0], fixed);
	free(lr);
	if (!ret)
		ret = quantize_mat(vt, rank, cols, o, l->bits, l->cb_width, &l->mat[1], &f2);
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
	l->cb_width = asd ? 0 : o->cb_width ? o->cb_width : 16;
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
		ret = quantize_mat(mat, l->rows, l->cols, o, l->bits, l->cb_width, &l->mat[0],
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
