// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: jobs submitted by ioctl, and waiting for them.
 *
 * A context may have at most max_jobs_in_flight jobs that are queued,
 * running, or finished but not yet reaped by NUQ_IOCTL_WAIT; beyond that
 * SUBMIT fails with EAGAIN.  Finished jobs keep only their status: their
 * buffers are released as soon as they finish.
 */

#include <linux/capability.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "nuq_drv.h"
#include "nuq_job.h"
#include "nuq_sched.h"

unsigned int nuq_job_timeout_ms = 5000;
module_param_named(job_timeout_ms, nuq_job_timeout_ms, uint, 0644);
MODULE_PARM_DESC(job_timeout_ms, "Default job timeout in ms when a job gives none (default 5000)");

/*
 * A job's timeout bounds how long anyone may wait for it: a ring closed
 * with commands pending, and release of a context, wait for their jobs.
 */
static unsigned int max_job_timeout_ms = 60000;
module_param(max_job_timeout_ms, uint, 0644);
MODULE_PARM_DESC(max_job_timeout_ms,
		 "Longer timeouts (the job's or job_timeout_ms) are clamped to this (default 60000)");

/* Take @count in-flight slots of @ctx, or fail with -EAGAIN. */
int nuq_ctx_reserve_jobs(struct nuq_ctx *ctx, unsigned int count)
{
	int ret = 0;

	spin_lock(&ctx->lock);
	if (ctx->inflight + ctx->unreaped + count > nuq_max_jobs_in_flight)
		ret = -EAGAIN;
	else
		ctx->inflight += count;
	spin_unlock(&ctx->lock);
	return ret;
}

/* Waking under the lock, like nuq_job_complete(): see nuq_sched_cancel_ctx(). */
void nuq_ctx_unreserve_jobs(struct nuq_ctx *ctx, unsigned int count)
{
	spin_lock(&ctx->lock);
	ctx->inflight -= count;
	wake_up_all(&ctx->wq);
	spin_unlock(&ctx->lock);
}

/*
 * Copy, validate and resolve one descriptor.  On failure returns an
 * ERR_PTR and, when the descriptor itself was at fault, its NUQ_JOB_E_*
 * code in @err_code.
 */
struct nuq_job *nuq_job_create(struct nuq_ctx *ctx, const void __user *udesc, s32 *err_code)
{
	struct nuq_job *job;
	u32 timeout_ms;
	int ret;

	*err_code = 0;
	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return ERR_PTR(-ENOMEM);
	kref_init(&job->ref);
	job->ctx = ctx;
	INIT_LIST_HEAD(&job->queue_node);
	job->state = NUQ_JOB_QUEUED;

	if (copy_from_user(&job->exec.desc, udesc, sizeof(job->exec.desc))) {
		ret = -EFAULT;
		goto err;
	}
	ret = nuq_job_exec_prepare(ctx, &job->exec, err_code);
	if (ret)
		goto err;

	job->prio = nuq_job_exec_prio(&job->exec);
	if (job->prio == NUQ_NR_PRIOS - 1 && !capable(CAP_SYS_NICE)) {
		ret = -EPERM;
		goto err;
	}
	timeout_ms = nuq_job_exec_timeout_ms(&job->exec) ?: READ_ONCE(nuq_job_timeout_ms);
	timeout_ms = clamp(timeout_ms, 1U, max_t(u32, READ_ONCE(max_job_timeout_ms), 1));
	job->timeout = ms_to_ktime(timeout_ms);
	job->cost = max_t(u64, nuq_job_exec_cost(&job->exec), 1);
	return job;

err:
	nuq_job_put(job);
	return ERR_PTR(ret);
}

static void nuq_jobs_put(struct nuq_job **jobs, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		nuq_job_put(jobs[i]);
}

int nuq_ioctl_submit(struct nuq_ctx *ctx, void *data)
{
	struct nuq_submit *args = data;
	const u8 __user *ujobs = u64_to_user_ptr(args->jobs);
	struct nuq_job **jobs;
	unsigned int i, n = 0;
	u64 *seqnos;
	s32 code;
	int ret;

	args->error_index = 0;
	args->error_code = 0;
	if (args->flags || args->pad || memchr_inv(args->rsvd, 0, sizeof(args->rsvd)))
		return -EINVAL;
	if (!args->count || args->count > NUQ_MAX_BATCH)
		return -EINVAL;
	if (args->job_size != sizeof(struct nuq_conv_job))
		return -EINVAL;

	jobs = kcalloc(args->count, sizeof(*jobs), GFP_KERNEL);
	seqnos = kcalloc(args->count, sizeof(*seqnos), GFP_KERNEL);
	if (!jobs || !seqnos) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = nuq_ctx_reserve_jobs(ctx, args->count);
	if (ret)
		goto out_free;

	/* Every job is checked before any is queued. */
	for (n = 0; n < args->count; n++) {
		jobs[n] = nuq_job_create(ctx, ujobs + (size_t)n * args->job_size, &code);
		if (IS_ERR(jobs[n])) {
			ret = PTR_ERR(jobs[n]);
			args->error_index = n;
			args->error_code = code;
			goto out_put;
		}
	}

	spin_lock(&ctx->lock);
	for (i = 0; i < n; i++)
		jobs[i]->seqno = ++ctx->last_seqno;
	spin_unlock(&ctx->lock);

	for (i = 0; i < n; i++) {
		seqnos[i] = jobs[i]->seqno;
		ret = xa_insert(&ctx->jobs, jobs[i]->seqno, jobs[i], GFP_KERNEL);
		if (ret)
			goto out_erase;
	}
	if (copy_to_user(u64_to_user_ptr(args->seqnos), seqnos, n * sizeof(*seqnos))) {
		ret = -EFAULT;
		goto out_erase;
	}

	/* The table's references stay with the table until WAIT reaps. */
	nuq_sched_queue(ctx->ndev, jobs, n);
	ret = 0;
	goto out_free;

out_erase:
	while (i--)
		xa_erase(&ctx->jobs, jobs[i]->seqno);
out_put:
	nuq_jobs_put(jobs, n);
	nuq_ctx_unreserve_jobs(ctx, args->count);
out_free:
	kfree(seqnos);
	kfree(jobs);
	return ret;
}

static bool nuq_job_done(struct nuq_job *job)
{
	return READ_ONCE(job->state) == NUQ_JOB_DONE;
}

int nuq_ioctl_wait(struct nuq_ctx *ctx, void *data)
{
	struct nuq_wait *args = data;
	struct nuq_job *job;
	long ret = 0;

	if (args->flags || memchr_inv(args->rsvd, 0, sizeof(args->rsvd)))
		return -EINVAL;
	args->status = 0;

	xa_lock(&ctx->jobs);
	job = xa_load(&ctx->jobs, args->seqno);
	if (job)
		kref_get(&job->ref);
	xa_unlock(&ctx->jobs);
	if (!job)
		return -ENOENT;

	if (args->timeout_ns < 0)
		ret = wait_event_interruptible(ctx->wq, nuq_job_done(job));
	else if (args->timeout_ns > 0)
		ret = wait_event_interruptible_hrtimeout(ctx->wq, nuq_job_done(job),
							 ns_to_ktime(args->timeout_ns));
	else if (!nuq_job_done(job))
		ret = -ETIME;
	if (ret)
		goto out;

	/* Reap: only one of several concurrent waiters gets the status. */
	if (xa_cmpxchg(&ctx->jobs, args->seqno, job, NULL, 0) == job) {
		spin_lock(&ctx->lock);
		ctx->unreaped--;
		spin_unlock(&ctx->lock);
		args->status = job->status;
		nuq_job_put(job);	/* the table's reference */
	} else {
		ret = -ENOENT;
	}
out:
	nuq_job_put(job);
	return ret;
}

__poll_t nuq_poll(struct file *file, struct poll_table_struct *wait)
{
	struct nuq_ctx *ctx = file->private_data;

	poll_wait(file, &ctx->wq, wait);
	return READ_ONCE(ctx->unreaped) ? EPOLLIN | EPOLLRDNORM : 0;
}

/* Release: the scheduler has let go of every job; drop what is unreaped. */
void nuq_ctx_jobs_fini(struct nuq_ctx *ctx)
{
	struct nuq_job *job;
	unsigned long seqno;

	xa_for_each(&ctx->jobs, seqno, job) {
		xa_erase(&ctx->jobs, seqno);
		nuq_job_put(job);
	}
	xa_destroy(&ctx->jobs);
}
