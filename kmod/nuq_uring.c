// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: job submission through io_uring.
 *
 * NUQ_URING_CMD_SUBMIT carries a pointer to one job descriptor in the
 * SQE's 16-byte command payload; NUQ_URING_CMD_SUBMIT_BATCH points at a
 * struct nuq_uring_batch.  The command returns -EIOCBQUEUED and is
 * completed from the submitter's task context (io_uring_cmd_complete_in_task)
 * once its jobs have finished, with the status in the CQE.
 *
 * Commands hold a reference on the file, so the context cannot be released
 * while any is pending: a ring closed with commands in flight waits for
 * them, and they end because every job ends (it finishes, fails, or times
 * out, at most max_job_timeout_ms after it starts).  A command belongs to
 * the task that issued it (the SQ thread for SQPOLL rings): once that task
 * is dying (fatal signal, exit) or its exec waits for its requests, its
 * jobs end with -ECANCELED - queued ones without running, running ones
 * after their current tile (nuq_job_should_stop()).
 */

#include <linux/mm_types.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "nuq_compat.h"
#include "nuq_drv.h"
#include "nuq_job.h"
#include "nuq_sched.h"
#include "nuq_uring.h"

/**
 * struct nuq_batch - the jobs of one NUQ_URING_CMD_SUBMIT_BATCH
 * @ioucmd: the command to complete when @remaining reaches zero
 * @remaining: jobs not finished yet
 * @count: number of jobs
 * @ustatuses: where the statuses go in the submitter's memory, or 0
 * @mm: the submitter's address space; statuses are copied only from it
 * @statuses: status of each job
 */
struct nuq_batch {
	struct io_uring_cmd *ioucmd;
	atomic_t remaining;
	u32 count;
	u64 ustatuses;
	struct mm_struct *mm;
	s32 statuses[];
};

/* What the command keeps in io_uring_cmd.pdu until completion. */
struct nuq_uring_pdu {
	struct nuq_batch *batch;
	s32 status;
};

static struct nuq_uring_pdu *nuq_uring_pdu(struct io_uring_cmd *ioucmd)
{
	BUILD_BUG_ON(sizeof(struct nuq_uring_pdu) > sizeof(ioucmd->pdu));
	return (struct nuq_uring_pdu *)ioucmd->pdu;
}

static void nuq_uring_single_done(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	io_uring_cmd_done(ioucmd, nuq_uring_pdu(ioucmd)->status, 0, issue_flags);
}

static void nuq_uring_batch_done(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	struct nuq_batch *batch = nuq_uring_pdu(ioucmd)->batch;
	s32 res = 0;
	u32 i;

	for (i = 0; i < batch->count && !res; i++)
		res = batch->statuses[i];

	/*
	 * Task work may fall back to a kernel worker when the submitter is
	 * exiting: write statuses only into the address space they belong to.
	 */
	if (batch->ustatuses) {
		if (current->mm != batch->mm || (current->flags & PF_KTHREAD))
			res = res ?: -ECANCELED;
		else if (copy_to_user(u64_to_user_ptr(batch->ustatuses), batch->statuses,
				      batch->count * sizeof(s32)))
			res = -EFAULT;
	}
	kfree(batch);
	io_uring_cmd_done(ioucmd, res, 0, issue_flags);
}

/* Called by nuq_job_complete() for jobs that came through io_uring. */
void nuq_uring_job_done(struct nuq_job *job)
{
	struct nuq_batch *batch = job->batch;

	if (!batch) {
		nuq_uring_pdu(job->ioucmd)->status = job->status;
		io_uring_cmd_complete_in_task(job->ioucmd, nuq_uring_single_done);
	} else {
		batch->statuses[job->batch_index] = job->status;
		if (atomic_dec_and_test(&batch->remaining))
			io_uring_cmd_complete_in_task(batch->ioucmd, nuq_uring_batch_done);
	}
	nuq_job_put(job);	/* the command's reference */
}

/*
 * Whether the task that issued an io_uring job can no longer take its
 * completion: it is dying, or io_uring is cancelling its requests (exec).
 * Its jobs are then cancelled.
 */
bool nuq_uring_submitter_gone(struct task_struct *task)
{
	return fatal_signal_pending(task) || (READ_ONCE(task->flags) & PF_EXITING) ||
	       nuq_task_uring_cancelling(task);
}

/* The job belongs to the issuing task from now on. */
static void nuq_uring_job_own(struct nuq_job *job)
{
	get_task_struct(current);
	job->task = current;
}

static int nuq_uring_submit_one(struct nuq_ctx *ctx, struct io_uring_cmd *ioucmd,
				const struct nuq_uring_submit *args)
{
	struct nuq_job *job;
	s32 code;

	if (args->job_size != sizeof(struct nuq_conv_job))
		return -EINVAL;
	/* EAGAIN would make io_uring retry forever from its workers. */
	if (nuq_ctx_reserve_jobs(ctx, 1))
		return -EBUSY;
	job = nuq_job_create(ctx, u64_to_user_ptr(args->job), &code);
	if (IS_ERR(job)) {
		nuq_ctx_unreserve_jobs(ctx, 1);
		return PTR_ERR(job);
	}
	job->ioucmd = ioucmd;
	nuq_uring_job_own(job);
	nuq_sched_queue(ctx->ndev, &job, 1);
	return -EIOCBQUEUED;
}

static int nuq_uring_submit_batch(struct nuq_ctx *ctx, struct io_uring_cmd *ioucmd,
				  const struct nuq_uring_submit *args)
{
	struct nuq_uring_batch ub;
	struct nuq_batch *batch;
	struct nuq_job **jobs;
	const u8 __user *ujobs;
	u32 n;
	s32 code;
	int ret;

	if (args->job_size != sizeof(ub))
		return -EINVAL;
	if (copy_from_user(&ub, u64_to_user_ptr(args->job), sizeof(ub)))
		return -EFAULT;
	if (ub.flags || ub.pad || !ub.count || ub.count > NUQ_MAX_BATCH ||
	    ub.job_size != sizeof(struct nuq_conv_job))
		return -EINVAL;

	batch = kzalloc(struct_size(batch, statuses, ub.count), GFP_KERNEL);
	jobs = kcalloc(ub.count, sizeof(*jobs), GFP_KERNEL);
	if (!batch || !jobs) {
		ret = -ENOMEM;
		goto err_free;
	}
	if (nuq_ctx_reserve_jobs(ctx, ub.count)) {
		ret = -EBUSY;
		goto err_free;
	}

	ujobs = u64_to_user_ptr(ub.jobs);
	for (n = 0; n < ub.count; n++) {
		jobs[n] = nuq_job_create(ctx, ujobs + (size_t)n * ub.job_size, &code);
		if (IS_ERR(jobs[n])) {
			ret = PTR_ERR(jobs[n]);
			goto err_put;
		}
		jobs[n]->batch = batch;
		jobs[n]->batch_index = n;
		nuq_uring_job_own(jobs[n]);
	}

	batch->ioucmd = ioucmd;
	batch->count = ub.count;
	batch->ustatuses = ub.statuses;
	batch->mm = current->mm;
	atomic_set(&batch->remaining, ub.count);
	nuq_uring_pdu(ioucmd)->batch = batch;
	nuq_sched_queue(ctx->ndev, jobs, ub.count);
	kfree(jobs);
	return -EIOCBQUEUED;

err_put:
	while (n--)
		nuq_job_put(jobs[n]);
	nuq_ctx_unreserve_jobs(ctx, ub.count);
err_free:
	kfree(jobs);
	kfree(batch);
	return ret;
}

int nuq_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	struct nuq_ctx *ctx = ioucmd->file->private_data;
	struct nuq_uring_submit args;

	/* The SQE is shared with userspace: read it exactly once. */
	memcpy(&args, nuq_uring_cmd_payload(ioucmd), sizeof(args));
	if (args.flags)
		return -EINVAL;

	switch (ioucmd->cmd_op) {
	case NUQ_URING_CMD_SUBMIT:
		return nuq_uring_submit_one(ctx, ioucmd, &args);
	case NUQ_URING_CMD_SUBMIT_BATCH:
		return nuq_uring_submit_batch(ctx, ioucmd, &args);
	default:
		return -ENOTTY;
	}
}
