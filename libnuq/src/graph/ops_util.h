/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: helpers shared by the op files that came after the first set
 * (broadcast walking, element access on float or INT64 tensors).
 */
#ifndef NUQ_OPS_UTIL_H
#define NUQ_OPS_UTIL_H

#include "graph_priv.h"

/* Output shape of a numpy broadcast (ops_eltwise.c); -EINVAL when they do not agree. */
int nuq_broadcast_shape(const struct nuq_tensor *a, const struct nuq_tensor *b,
			unsigned int *ndims, int64_t *dims);

/*
 * Walks the elements of a tensor as they line up with an @nd-dim
 * broadcast output of shape @dims: off is the input element of the
 * current output element, in output order.
 */
struct nuq_bwalk {
	unsigned int nd;
	int64_t dims[NUQ_ONNX_MAX_DIMS], st[NUQ_ONNX_MAX_DIMS], idx[NUQ_ONNX_MAX_DIMS];
	int64_t off;
};

void nuq_bwalk_init(struct nuq_bwalk *w, const struct nuq_tensor *t, unsigned int nd,
		    const int64_t *dims);
void nuq_bwalk_next(struct nuq_bwalk *w);

/* Normalise a possibly negative axis against @nd; -1 when out of range. */
static inline int nuq_norm_axis(int64_t axis, unsigned int nd)
{
	if (axis < 0)
		axis += nd;
	return axis >= 0 && axis < (int64_t)nd ? (int)axis : -1;
}

static inline size_t nuq_esize(const struct nuq_tensor *t)
{
	return t->dtype == NUQ_DT_FLOAT ? sizeof(float) : sizeof(int64_t);
}

static inline void *nuq_tdata(const struct nuq_tensor *t)
{
	return t->dtype == NUQ_DT_FLOAT ? (void *)t->f : (void *)t->i;
}

/* Element @i of a float or INT64 tensor as a double. */
static inline double nuq_tget(const struct nuq_tensor *t, size_t i)
{
	return t->dtype == NUQ_DT_FLOAT ? (double)t->f[i] : (double)t->i[i];
}

/* @v as a value of integer kind @dt: uint8 and int8 wrap modulo 256 (as numpy's). */
static inline int64_t nuq_wrap(enum nuq_dtype dt, int64_t v)
{
	if (dt == NUQ_DT_UINT8)
		return (uint8_t)v;
	if (dt == NUQ_DT_INT8)
		return (int8_t)v;
	return v;
}

/* A 1-D (or scalar) INT64 input of at most @max values into @v; count or -1. */
int nuq_int_list(const struct nuq_tensor *t, int64_t *v, size_t max);

/*
 * y[i] = expr for every element of float tensor x, v being x's element:
 * the loop of every elementwise unary op (needs i, cnt, x, y in scope).
 */
#define UNARY_LOOP(expr)				\
	do {						\
		for (i = 0; i < cnt; i++) {		\
			float v = x->f[i];		\
			y[i] = (expr);			\
		}					\
	} while (0)

#endif
