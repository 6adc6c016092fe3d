// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the CPU path of the shared integer core.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <nuq/conv.h>

#include "nuq_conv.h"

int nuq_conv_run_cpu(const struct nuq_conv_job *job, void *const base[NUQ_T_COUNT],
		     const size_t size[NUQ_T_COUNT], int *err_code)
{
	struct nuq_conv_plan plan;
	__u64 sizes[NUQ_T_COUNT];
	void *t[NUQ_T_COUNT];
	void *scratch = NULL;
	__u32 tile;
	int i, ret;

	if (err_code)
		*err_code = 0;
	for (i = 0; i < NUQ_T_COUNT; i++)
		sizes[i] = base[i] ? size[i] : 0;
	ret = nuq_conv_validate(job, sizes, &plan);
	if (ret)
		goto job_error;

	for (i = 0; i < NUQ_T_COUNT; i++)
		t[i] = base[i] && job->tensors[i].handle ?
		       (uint8_t *)base[i] + job->tensors[i].offset : NULL;
	if (plan.scratch_bytes) {
		scratch = malloc(plan.scratch_bytes);
		if (!scratch)
			return -ENOMEM;
	}
	for (tile = 0; tile < plan.tiles && !ret; tile++)
		ret = nuq_conv_run_tile(job, &plan, t, scratch, tile);
	free(scratch);
	if (!ret)
		return 0;
job_error:
	if (err_code)
		*err_code = -ret;
	return -nuq_job_error_errno(ret);
}
