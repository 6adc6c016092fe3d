/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: running conv jobs on the CPU with the shared integer core, and
 * helpers to fill job descriptors.
 */
#ifndef NUQ_CONV_H
#define NUQ_CONV_H

#include <stddef.h>
#include <stdint.h>
#include <linux/nuq.h>

/*
 * Validate @job and run it on the calling thread.  @base[i] is the start of
 * the buffer tensor slot i lives in (the job's offsets are relative to it)
 * and @size[i] its size; unused slots are NULL/0.  Returns 0 or a negative
 * errno; when the descriptor or a tensor's contents were at fault,
 * *@err_code (if not NULL) receives the NUQ_JOB_E_* reason.
 */
int nuq_conv_run_cpu(const struct nuq_conv_job *job, void *const base[NUQ_T_COUNT],
		     const size_t size[NUQ_T_COUNT], int *err_code);

/*
 * CPU implementations, all bit-identical: the portable core (what the
 * kernel runs), im2col + int16 dot products in plain C (generic), and the
 * same with AVX2.  AUTO picks $NUQ_CONV_IMPL when it names an available
 * one ("portable", "generic", "avx2"), else the fastest available.
 */
enum nuq_conv_impl {
	NUQ_CONV_IMPL_AUTO,
	NUQ_CONV_IMPL_PORTABLE,
	NUQ_CONV_IMPL_GENERIC,
	NUQ_CONV_IMPL_AVX2,
};

/* nuq_conv_run_cpu() with a chosen implementation; -EOPNOTSUPP if this CPU lacks it. */
int nuq_conv_run_cpu_impl(const struct nuq_conv_job *job, void *const base[NUQ_T_COUNT],
			  const size_t size[NUQ_T_COUNT], int *err_code, enum nuq_conv_impl impl);
const char *nuq_conv_impl_name(enum nuq_conv_impl impl);
int nuq_conv_impl_available(enum nuq_conv_impl impl);

/* Text for a NUQ_JOB_E_* code (either sign). */
const char *nuq_job_error_str(int code);

/*
 * Express a positive real multiplier (e.g. in_scale * w_scale / out_scale)
 * as the core's fixed-point multiplier in [2^30, 2^31) and shift in
 * [-31, 30].  Returns 0, or -ERANGE if @real is not representable
 * (non-positive, not finite, or outside about [2^-32, 2^30]).
 */
int nuq_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift);

#endif
