/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef NUQ_QUANT_PRIV_H
#define NUQ_QUANT_PRIV_H

#include <stdlib.h>

#include <nuq/quant.h>

/* ASD variants give digit pairs and a scale instead of a codebook. */
static inline int nuq_qmethod_is_asd(enum nuq_qmethod m)
{
	return m == NUQ_Q_ASD || m == NUQ_Q_ASD1 || m == NUQ_Q_CSD;
}

unsigned int nuq_nearest(float v, const float *levels, unsigned int n);
double nuq_levels_sse(const float *x, size_t n, const float *levels, unsigned int nlevels);
void nuq_sort_floats(float *x, size_t n);
uint64_t nuq_rng_next(uint64_t *s);
double nuq_rng_uniform(uint64_t *s);

int nuq_q_uniform(const float *x, size_t n, const struct nuq_qparams *p, struct nuq_qgroup *g);
int nuq_q_enq(const float *x, size_t n, const struct nuq_qparams *p, struct nuq_qgroup *g);
int nuq_q_knq(const float *x, size_t n, const struct nuq_qparams *p, struct nuq_qgroup *g);
int nuq_q_opt(const float *x, size_t n, const struct nuq_qparams *p, struct nuq_qgroup *g);
int nuq_q_kde(const float *x, size_t n, const struct nuq_qparams *p, struct nuq_qgroup *g);
int nuq_q_minifloat(const float *x, size_t n, const struct nuq_qparams *p, struct nuq_qgroup *g);
int nuq_q_asd(const float *x, size_t n, const struct nuq_qparams *p, struct nuq_qgroup *g,
	      uint8_t *digits);
/* NUQ_GRAN_CHANNEL_SCALED: t sized (rows, cols, one group, idx) by the caller. */
int nuq_quantize_scaled(const float *w, const struct nuq_qparams *p, struct nuq_qtensor *t);

#endif
