// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: quantized matrices in their stored form, and back to floats.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/nuqfile.h>

#include "quant/quant_priv.h"

void nuq_qmat_free(struct nuq_qmat *m)
{
	free(m->scales);
	free(m->ratio16);
	free(m->nlevels);
	free(m->entries);
	free(m->idx);
	free(m->digits);
	memset(m, 0, sizeof(*m));
}

/* The shared codebook's scale goes into the base: group g's scale is base * ratio. */
static int scaled_from_qtensor(const struct nuq_qtensor *t, unsigned int cb_width,
			       struct nuq_qmat *m, double *fixed_err)
{
	const struct nuq_qgroup *q = &t->groups[0];
	float cb_scale;
	size_t g;

	m->ratio16 = malloc(t->rows * sizeof(*m->ratio16));
	if (!m->ratio16)
		return -ENOMEM;
	memcpy(m->ratio16, t->row_ratio16, t->rows * sizeof(*m->ratio16));
	m->nlevels[0] = q->nlevels;
	*fixed_err = t->row_base * nuq_codebook_to_fixed(q->levels, q->nlevels, cb_width,
							 m->entries, &cb_scale);
	m->base_scale = t->row_base * cb_scale;
	for (g = 0; g < m->ngroups; g++)
		m->scales[g] = nuq_qmat_group_scale(m, g);
	return 0;
}

float nuq_qmat_group_scale(const struct nuq_qmat *m, size_t g)
{
	return m->ratio16 ? m->base_scale * nuq_half_to_float(m->ratio16[g]) : m->scales[g];
}

int nuq_qmat_from_qtensor(const struct nuq_qtensor *t, unsigned int bits, unsigned int cb_width,
			  struct nuq_qmat *m, double *fixed_err)
{
	size_t n = t->rows * t->cols, g, e = (size_t)1 << bits;
	int asd = nuq_qmethod_is_asd(t->method), scaled = t->gran == NUQ_GRAN_CHANNEL_SCALED;
	int ret;

	memset(m, 0, sizeof(*m));
	*fixed_err = 0;
	if (t->rows > UINT32_MAX || t->cols > UINT32_MAX || t->ngroups > UINT32_MAX ||
	    (!asd && (bits < 1 || bits > 8 || (cb_width != 8 && cb_width != 16))) ||
	    (scaled && (asd || t->ngroups != 1 || !t->row_ratio16)))
		return -EINVAL;
	m->rows = t->rows;
	m->cols = t->cols;
	m->group_size = t->group_size;
	m->ngroups = scaled ? t->rows : t->ngroups;
	m->ncodebooks = t->ngroups;
	m->scales = calloc(m->ngroups, sizeof(*m->scales));
	if (asd) {
		m->digits = malloc(2 * n);
		if (!m->scales || !m->digits)
			goto nomem;
		memcpy(m->digits, t->digits, 2 * n);
		for (g = 0; g < t->ngroups; g++)
			m->scales[g] = t->groups[g].scale;
		return 0;
	}
	m->nlevels = calloc(m->ncodebooks, sizeof(*m->nlevels));
	m->entries = calloc(m->ncodebooks * e, sizeof(*m->entries));
	m->idx = malloc(n);
	if (!m->scales || !m->nlevels || !m->entries || !m->idx)
		goto nomem;
	memcpy(m->idx, t->idx, n);
	for (g = 0; g < t->ngroups; g++)
		if (t->groups[g].nlevels < 1 || t->groups[g].nlevels > e) {
			nuq_qmat_free(m);
			return -EINVAL;
		}
	if (scaled) {
		ret = scaled_from_qtensor(t, cb_width, m, fixed_err);
		if (ret)
			nuq_qmat_free(m);
		return ret;
	}
	for (g = 0; g < t->ngroups; g++) {
		const struct nuq_qgroup *q = &t->groups[g];
		double err;

		m->nlevels[g] = q->nlevels;
		err = nuq_codebook_to_fixed(q->levels, q->nlevels, cb_width,
					    m->entries + g * e, &m->scales[g]);
		*fixed_err = fmax(*fixed_err, err);
	}
	return 0;
nomem:
	nuq_qmat_free(m);
	return -ENOMEM;
}

void nuq_qmat_dequantize(const struct nuq_qmat *m, enum nuq_qmethod method, unsigned int bits,
			 float *out)
{
	size_t r, c, e = (size_t)1 << bits;

	for (r = 0; r < m->rows; r++) {
		for (c = 0; c < m->cols; c++) {
			size_t i = r * m->cols + c, g = nuq_qmat_group_of(m, r, c);

			if (nuq_qmethod_is_asd(method))
				out[i] = m->scales[g] * nuq_asd_value(m->digits[2 * i],
								      m->digits[2 * i + 1]);
			else
				out[i] = m->scales[g] *
					 m->entries[nuq_qmat_codebook(m, g) * e + m->idx[i]];
		}
	}
}

int nuq_qlayer_dequantize(const struct nuq_qlayer *l, float *out)
{
	float *a, *b;
	size_t r, c, k;

	if (!l->rank) {
		nuq_qmat_dequantize(&l->mat[0], l->method, l->bits, out);
		return 0;
	}
	a = malloc((size_t)l->rows * l->rank * sizeof(*a));
	b = malloc((size_t)l->rank * l->cols * sizeof(*b));
	if (!a || !b) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	nuq_qmat_dequantize(&l->mat[0], l->method, l->bits, a);
	nuq_qmat_dequantize(&l->mat[1], l->method, l->bits, b);
	for (r = 0; r < l->rows; r++) {
		float *o = out + r * l->cols;

		memset(o, 0, l->cols * sizeof(*o));
		for (k = 0; k < l->rank; k++) {
			float f = a[r * l->rank + k];

			for (c = 0; c < l->cols; c++)
				o[c] += f * b[k * l->cols + c];
		}
	}
	free(a);
	free(b);
	return 0;
}

void nuq_qlayer_free(struct nuq_qlayer *l)
{
	nuq_qmat_free(&l->mat[0]);
	nuq_qmat_free(&l->mat[1]);
	free(l->bias16);
	l->bias16 = NULL;
	l->flags = 0;
}
