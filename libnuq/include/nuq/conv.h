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
