// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: dense tensors of the graph executor.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "graph_priv.h"

/* 64 M elements (256 MiB of floats): far above any OCR activation. */
#define NUQ_TENSOR_MAX_COUNT	(1ULL << 26)

uint64_t nuq_tensor_max_count(void)
{
	return NUQ_TENSOR_MAX_COUNT;
}

size_t nuq_tensor_count(const struct nuq_tensor *t)
{
	size_t n = 1;
	unsigned int i;

	for (i = 0; i < t->ndims; i++)
		n *= (size_t)t->dims[i];
	return n;
}

int nuq_tensor_alloc(struct nuq_tensor *t, enum nuq_dtype dtype, unsigned int ndims,
		     const int64_t *dims)
{
	unsigned long long n = 1;
	unsigned int i;

	memset(t, 0, sizeof(*t));
	if (ndims > NUQ_ONNX_MAX_DIMS)
		return -E2BIG;
	for (i = 0; i < ndims; i++) {
		if (dims[i] < 0 || (dims[i] && n > NUQ_TENSOR_MAX_COUNT / (unsigned long long)dims[i]))
			return -ERANGE;
		n *= (unsigned long long)dims[i];
		t->dims[i] = dims[i];
	}
	t->ndims = ndims;
	t->dtype = dtype;
	if (dtype == NUQ_DT_FLOAT) {
		t->f = calloc(n ? n : 1, sizeof(float));
		if (!t->f)
			return -ENOMEM;
	} else {
		t->i = calloc(n ? n : 1, sizeof(int64_t));
		if (!t->i)
			return -ENOMEM;
	}
	return 0;
}

void nuq_tensor_free(struct nuq_tensor *t)
{
	free(t->f);
	free(t->i);
	free(t->q);
	memset(t, 0, sizeof(*t));
}

int nuq_tensor_need_float(struct nuq_tensor *t)
{
	size_t i, n;

	if (t->dtype != NUQ_DT_FLOAT || t->f)
		return 0;
	if (!t->q)
		return -EINVAL;
	n = nuq_tensor_count(t);
	t->f = malloc((n ? n : 1) * sizeof(float));
	if (!t->f)
		return -ENOMEM;
	if (t->ndims == 4) {
		/* Quantized 4-D activations are NHWC, the device's layout. */
		size_t N = (size_t)t->dims[0], C = (size_t)t->dims[1];
		size_t HW = (size_t)(t->dims[2] * t->dims[3]), b, c, p;

		for (b = 0; b < N; b++)
			for (p = 0; p < HW; p++)
				for (c = 0; c < C; c++)
					t->f[(b * C + c) * HW + p] =
						((int32_t)t->q[(b * HW + p) * C + c] - t->zp) * t->scale;
		return 0;
	}
	for (i = 0; i < n; i++)
		t->f[i] = ((int32_t)t->q[i] - t->zp) * t->scale;
	return 0;
}

int nuq_tensor_same_shape(const struct nuq_tensor *a, const struct nuq_tensor *b)
{
	return a->ndims == b->ndims && !memcmp(a->dims, b->dims, a->ndims * sizeof(a->dims[0]));
}
