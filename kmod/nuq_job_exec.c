// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: resolving a job's buffers, validating it with the shared core, and
 * running its tiles.
 */

#include <linux/mm.h>
#include <linux/slab.h>

#include "nuq_bo.h"
#include "nuq_drv.h"
#include "nuq_job_exec.h"

/*
 * Look up the BOs, validate the descriptor against their sizes, and set up
 * the tensors' kernel addresses.  On failure returns a
 * negative errno and puts the NUQ_JOB_E_* reason in @err_code; whatever
 * was taken is released by nuq_job_exec_release().
 */
int nuq_job_exec_prepare(struct nuq_ctx *ctx, struct nuq_job_exec *ex, s32 *err_code)
{
	u64 sizes[NUQ_T_COUNT] = { 0 };
	int i, ret;

	for (i = 0; i < NUQ_T_COUNT; i++) {
		u32 handle = ex->desc.tensors[i].handle;

		if (!handle)
			continue;
		ex->bos[i] = nuq_bo_lookup(ctx, handle);
		sizes[i] = ex->bos[i] ? ex->bos[i]->size : NUQ_BO_UNRESOLVED;
	}

	ret = nuq_conv_validate(&ex->desc, sizes, &ex->plan);
	if (ret) {
		*err_code = -ret;
		return -nuq_job_error_errno(ret);
	}

	for (i = 0; i < NUQ_T_COUNT; i++)
		if (ex->bos[i])
			ex->ptrs[i] = (u8 *)ex->bos[i]->vaddr + ex->desc.tensors[i].offset;
	return 0;
}

/* @scratch: nuq_job_exec_scratch_bytes() of the caller's, aligned to 8. */
int nuq_job_exec_tile(struct nuq_job_exec *ex, u32 tile, void *scratch)
{
	int ret = nuq_conv_run_tile(&ex->desc, &ex->plan, ex->ptrs, scratch, tile);

	return ret ? -nuq_job_error_errno(ret) : 0;
}

/* Give the buffers back; safe to call more than once. */
void nuq_job_exec_release(struct nuq_job_exec *ex)
{
	int i;

	for (i = 0; i < NUQ_T_COUNT; i++) {
		if (ex->bos[i])
			nuq_bo_put(ex->bos[i]);
		ex->bos[i] = NULL;
		ex->ptrs[i] = NULL;
	}
}
