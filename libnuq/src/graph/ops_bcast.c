// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: walking a tensor along a broadcast output, and reading small
 * INT64 inputs (shapes, axes, repeats) that several ops take.
 */
#include "ops_util.h"

void nuq_bwalk_init(struct nuq_bwalk *w, const struct nuq_tensor *t, unsigned int nd,
		    const int64_t *dims)
{
	int64_t s = 1;
	int i;

	w->nd = nd;
	w->off = 0;
	for (i = (int)nd - 1; i >= 0; i--) {
		int ti = i - (int)(nd - t->ndims);
		int64_t d = ti >= 0 ? t->dims[ti] : 1;

		w->dims[i] = dims[i];
		w->idx[i] = 0;
		/* A size-1 axis repeats its one element: stride 0. */
		w->st[i] = d == 1 ? 0 : s;
		s *= d;
	}
}

void nuq_bwalk_next(struct nuq_bwalk *w)
{
	int d;

	for (d = (int)w->nd - 1; d >= 0; d--) {
		w->off += w->st[d];
		if (++w->idx[d] < w->dims[d])
			return;
		w->off -= w->st[d] * w->dims[d];
		w->idx[d] = 0;
	}
}

int nuq_int_list(const struct nuq_tensor *t, int64_t *v, size_t max)
{
	size_t i, c;

	if (!t || t->dtype != NUQ_DT_INT64 || t->ndims > 1)
		return -1;
	c = nuq_tensor_count(t);
	if (c > max)
		return -1;
	for (i = 0; i < c; i++)
		v[i] = t->i[i];
	return (int)c;
}
