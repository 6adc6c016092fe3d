// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq quantization: a whole weight tensor at a granularity - one group
 * per layer, per output channel, or per group_size weights of a channel.
 */
#include <errno.h>
#include <string.h>

#include "quant_priv.h"

int nuq_quantize_tensor(const float *w, size_t rows, size_t cols, enum nuq_granularity gran,
			size_t group_size, const struct nuq_qparams *p, struct nuq_qtensor *t)
{
	size_t per_row, g, n = rows * cols;
	int ret;

	memset(t, 0, sizeof(*t));
	if (!w || !rows || !cols || n / rows != cols)
		return -EINVAL;
	switch (gran) {
	case NUQ_GRAN_LAYER:
		group_size = n;
		break;
	case NUQ_GRAN_CHANNEL:
	case NUQ_GRAN_CHANNEL_SCALED:
		group_size = cols;
		break;
	case NUQ_GRAN_GROUP:
		if (!group_size)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (gran == NUQ_GRAN_CHANNEL_SCALED && nuq_qmethod_is_asd(p->method))
		return -EINVAL;	/* ASD has no codebook to share */
	/* groups never straddle channels */
	per_row = gran == NUQ_GRAN_LAYER ? 1 : (cols + group_size - 1) / group_size;
	t->rows = rows;
	t->cols = cols;
	t->group_size = group_size;
	t->gran = gran;
	t->ngroups = gran == NUQ_GRAN_LAYER || gran == NUQ_GRAN_CHANNEL_SCALED ? 1 : rows * per_row;
	t->method = p->method;
	t->groups = calloc(t->ngroups, sizeof(*t->groups));
	if (nuq_qmethod_is_asd(p->method))
		t->digits = malloc(2 * n);
	else
		t->idx = malloc(n);
	if (!t->groups || (!t->digits && !t->idx)) {
		nuq_qtensor_free(t);
		return -ENOMEM;
	}
	if (gran == NUQ_GRAN_CHANNEL_SCALED) {
		ret = nuq_quantize_scaled(w, p, t);
		if (ret)
			nuq_qtensor_free(t);
		return ret;
	}
	for (g = 0; g < t->ngroups; g++) {
		size_t start = gran == NUQ_GRAN_LAYER ? 0 : (g / per_row) * cols + (g % per_row) * group_size;
		size_t len = gran == NUQ_GRAN_LAYER ? n : cols - (g % per_row) * group_size;

		if (len > group_size)
			len = group_size;
		ret = nuq_quantize_group(w + start, len, p, &t->groups[g],
					 t->idx ? t->idx + start : NULL,
					 t->digits ? t->digits + 2 * start : NULL);
		if (ret) {
			nuq_qtensor_free(t);
			return ret;
		}
	}
	return 0;
}

void nuq_qtensor_dequantize(const struct nuq_qtensor *t, float *out)
{
	size_t per_row = t->ngroups == 1 ? 1 : t->ngroups / t->rows, g, i;

	if (t->gran == NUQ_GRAN_CHANNEL_SCALED) {
		for (i = 0; i < t->rows * t->cols; i++)
			out[i] = t->row_scales[i / t->cols] * t->groups[0].levels[t->idx[i]];
		return;
	}
	for (g = 0; g < t->ngroups; g++) {
		size_t start = t->ngroups == 1 ? 0 :
			       (g / per_row) * t->cols + (g % per_row) * t->group_size;
		size_t len = t->ngroups == 1 ? t->rows * t->cols :
			     t->cols - (g % per_row) * t->group_size;

		if (len > t->group_size)
			len = t->group_size;
		nuq_dequantize_group(&t->groups[g], t->method, len, t->idx ? t->idx + start : NULL,
				     t->digits ? t->digits + 2 * start : NULL, out + start);
	}
}

void nuq_qtensor_free(struct nuq_qtensor *t)
{
	free(t->groups);
	free(t->idx);
	free(t->digits);
	free(t->row_scales);
	free(t->row_ratio16);
	memset(t, 0, sizeof(*t));
}
