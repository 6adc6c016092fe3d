/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: a job's descriptor, resolved buffers and plan - the glue between
 * the scheduler and the shared integer core.
 */
#ifndef _NUQ_JOB_EXEC_H_
#define _NUQ_JOB_EXEC_H_

#include <linux/types.h>

#include "nuq_conv.h"

struct nuq_ctx;
struct nuq_bo;

/**
 * struct nuq_job_exec - everything needed to run a job
 * @desc: the descriptor, copied from userspace once
 * @plan: what validation derived from @desc
 * @bos: the BO of each tensor slot, referenced until release
 * @ptrs: kernel address of each tensor
 *
 * A job holds no scratch memory: whoever runs it provides
 * nuq_job_exec_scratch_bytes() of it when the job starts, so queued jobs
 * pin nothing but their BOs (which the context's quota counts).
 */
struct nuq_job_exec {
	struct nuq_conv_job desc;
	struct nuq_conv_plan plan;
	struct nuq_bo *bos[NUQ_T_COUNT];
	void *ptrs[NUQ_T_COUNT];
};

int nuq_job_exec_prepare(struct nuq_ctx *ctx, struct nuq_job_exec *ex, s32 *err_code);
int nuq_job_exec_tile(struct nuq_job_exec *ex, u32 tile, void *scratch);
void nuq_job_exec_release(struct nuq_job_exec *ex);

static inline unsigned int nuq_job_exec_prio(const struct nuq_job_exec *ex)
{
	return ex->desc.priority;
}

static inline u32 nuq_job_exec_timeout_ms(const struct nuq_job_exec *ex)
{
	return ex->desc.timeout_ms;
}

static inline u64 nuq_job_exec_cost(const struct nuq_job_exec *ex)
{
	return ex->plan.macs;
}

static inline u32 nuq_job_exec_tiles(const struct nuq_job_exec *ex)
{
	return ex->plan.tiles;
}

/* Scratch memory nuq_job_exec_tile() needs (at most about 3 MiB). */
static inline size_t nuq_job_exec_scratch_bytes(const struct nuq_job_exec *ex)
{
	return ex->plan.scratch_bytes;
}

#endif /* _NUQ_JOB_EXEC_H_ */
