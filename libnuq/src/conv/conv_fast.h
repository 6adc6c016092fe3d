/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: the vectorised CPU path (userspace only).  See conv_fast.c.
 */
#ifndef NUQ_CONV_FAST_H
#define NUQ_CONV_FAST_H

#include <stddef.h>
#include <stdint.h>

#include <nuq/conv.h>

#include "nuq_conv.h"

/*
 * out[p * ocn + o] = sum over k < kp of a[p * kp + k] * w[o * kp + k], for
 * p < npix and o < ocn; kp is a multiple of 16 and the sums fit 32 bits.
 */
typedef void (*nuq_dot_fn)(const int16_t *a, size_t npix, const int16_t *w, size_t ocn,
			   size_t kp, int32_t *out);

void nuq_dot_generic(const int16_t *a, size_t npix, const int16_t *w, size_t ocn, size_t kp,
		     int32_t *out);
void nuq_dot_avx2(const int16_t *a, size_t npix, const int16_t *w, size_t ocn, size_t kp,
		  int32_t *out);

/*
 * Run a validated job with @dot.  Returns 0, or 1 when the job is outside
 * what the fast path computes exactly (the caller then uses the portable
 * core), or a negative errno.
 */
int nuq_conv_run_fast(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
		      void *const t[NUQ_T_COUNT], nuq_dot_fn dot);

#endif
