// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: the job scheduler.
 *
 * Four priority levels; a queued job of a higher level goes first.  That
 * alone would let a busy higher level starve a lower one for ever (and an
 * io_uring command that never ends keeps its closed ring alive, which
 * io_uring warns about after five minutes), so a job that has waited
 * longer than sched_starve_ms gets the next turn whatever its level,
 * oldest first: every queued job runs within about that bound.
 * Within a level, contexts share the device fairly in cost units (the job's
 * multiply-accumulate count): each context has a virtual time, the cost it
 * has been given so far, and the context with the smallest one goes next
 * (start-time fair queuing).  A context that becomes active is moved up to
 * the level's virtual clock, so time spent idle is not banked as credit.
 *
 * The scheduler does not know how jobs run: a backend (software or NPU)
 * takes them with nuq_sched_next() and ends them with nuq_job_complete().
 */

#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "nuq_drv.h"
#include "nuq_sched.h"
#include "nuq_uring.h"

static unsigned int sched_starve_ms = 1000;
module_param(sched_starve_ms, uint, 0644);
MODULE_PARM_DESC(sched_starve_ms,
		 "A job queued this long runs next whatever its priority (default 1000; 0: strict priorities)");

void nuq_sched_init(struct nuq_sched *sched)
{
	int p;

	spin_lock_init(&sched->lock);
	for (p = 0; p < NUQ_NR_PRIOS; p++)
		INIT_LIST_HEAD(&sched->active[p]);
	INIT_LIST_HEAD(&sched->running_list);
	init_waitqueue_head(&sched->work_wq);
	init_waitqueue_head(&sched->abort_wq);
}

void nuq_ctx_sched_init(struct nuq_ctx_sched *cs)
{
	int p;

	for (p = 0; p < NUQ_NR_PRIOS; p++) {
		INIT_LIST_HEAD(&cs->queue[p]);
		INIT_LIST_HEAD(&cs->active_node[p]);
	}
}

/* Queue @count validated jobs at once, so a batch is never half queued. */
void nuq_sched_queue(struct nuq_device *ndev, struct nuq_job **jobs, unsigned int count)
{
	struct nuq_sched *sched = &ndev->sched;
	ktime_t now = ktime_get();
	unsigned int i;

	spin_lock(&sched->lock);
	for (i = 0; i < count; i++) {
		struct nuq_job *job = jobs[i];
		struct nuq_ctx_sched *cs = &job->ctx->sched;
		unsigned int p = job->prio;

		job->queued = now;
		kref_get(&job->ref);	/* the scheduler's, dropped on completion */
		list_add_tail(&job->queue_node, &cs->queue[p]);
		if (list_empty(&cs->active_node[p])) {
			cs->vtime[p] = max(cs->vtime[p], sched->vclock[p]);
			list_add_tail(&cs->active_node[p], &sched->active[p]);
		}
		sched->queued++;
	}
	spin_unlock(&sched->lock);

	atomic64_add(count, &ndev->stats.submitted);
	ndev->backend_ops->kick(ndev);
}

bool nuq_sched_has_work(struct nuq_device *ndev)
{
	return READ_ONCE(ndev->sched.queued) != 0;
}

static struct nuq_job *nuq_sched_head(struct nuq_ctx_sched *cs, int p)
{
	return list_first_entry(&cs->queue[p], struct nuq_job, queue_node);
}

/*
 * The context whose oldest job below the highest level with queued jobs
 * has waited past sched_starve_ms the longest, with its level in *@prio;
 * NULL if none has.  (Within the highest level, fairness alone decides.)
 * Only heads are looked at: a context's queue of a level is oldest first.
 */
static struct nuq_ctx_sched *nuq_sched_starving(struct nuq_sched *sched, int *prio)
{
	unsigned int limit_ms = READ_ONCE(sched_starve_ms);
	struct nuq_ctx_sched *best = NULL, *cs;
	ktime_t limit, oldest = 0;
	int p, top = NUQ_NR_PRIOS - 1;

	if (!limit_ms)
		return NULL;
	while (top > 0 && list_empty(&sched->active[top]))
		top--;
	limit = ktime_sub_ms(ktime_get(), limit_ms);
	for (p = 0; p < top; p++) {
		list_for_each_entry(cs, &sched->active[p], active_node[p]) {
			ktime_t queued = nuq_sched_head(cs, p)->queued;

			if (!ktime_before(queued, limit))
				continue;
			if (!best || ktime_before(queued, oldest)) {
				best = cs;
				oldest = queued;
				*prio = p;
			}
		}
	}
	return best;
}

/* The context that goes next within level @p by virtual time, or NULL. */
static struct nuq_ctx_sched *nuq_sched_fair(struct nuq_sched *sched, int p)
{
	struct nuq_ctx_sched *best = NULL, *cs;

	list_for_each_entry(cs, &sched->active[p], active_node[p])
		if (!best || cs->vtime[p] < best->vtime[p])
			best = cs;
	return best;
}

/* A starving context if any, else the top level's fairest; its level in *@prio. */
static struct nuq_ctx_sched *nuq_sched_pick(struct nuq_sched *sched, int *prio)
{
	struct nuq_ctx_sched *cs = nuq_sched_starving(sched, prio);
	int p;

	for (p = NUQ_NR_PRIOS - 1; !cs && p >= 0; p--) {
		cs = nuq_sched_fair(sched, p);
		*prio = p;
	}
	return cs;
}

/* The next job to run, taken off its queue, or NULL when none is queued. */
static struct nuq_job *nuq_sched_take(struct nuq_device *ndev)
{
	struct nuq_sched *sched = &ndev->sched;
	struct nuq_ctx_sched *best;
	struct nuq_job *job = NULL;
	int p;

	spin_lock(&sched->lock);
	best = nuq_sched_pick(sched, &p);
	if (best) {
		job = nuq_sched_head(best, p);
		list_del(&job->queue_node);
		if (list_empty(&best->queue[p]))
			list_del_init(&best->active_node[p]);
		sched->vclock[p] = best->vtime[p];
		best->vtime[p] += job->cost;
		sched->queued--;
		sched->running++;
		list_add_tail(&job->queue_node, &sched->running_list);
		job->state = NUQ_JOB_RUNNING;
		job->started = ktime_get();
	}
	spin_unlock(&sched->lock);
	return job;
}

/*
 * The next job to run, now running, or NULL when none is queued.  Jobs
 * that should stop before they start (their io_uring submitter died) are
 * completed here, so a dead process's queue drains without running.
 */
struct nuq_job *nuq_sched_next(struct nuq_device *ndev)
{
	struct nuq_job *job;
	int stop;

	while ((job = nuq_sched_take(ndev))) {
		stop = nuq_job_should_stop(job);
		if (!stop)
			return job;
		nuq_job_complete(job, stop);
	}
	return NULL;
}

/*
 * Put a running @job back at the head of its context's queue, for a
 * backend that lost it through no fault of the job (a device reset): it
 * runs again first in its context's line.  Its cost stays charged.
 */
void nuq_sched_requeue(struct nuq_job *job)
{
	struct nuq_sched *sched = &job->ctx->ndev->sched;
	struct nuq_ctx_sched *cs = &job->ctx->sched;
	unsigned int p = job->prio;

	spin_lock(&sched->lock);
	if (!WARN_ON_ONCE(job->state != NUQ_JOB_RUNNING)) {
		list_del(&job->queue_node);
		sched->running--;
		list_add(&job->queue_node, &cs->queue[p]);
		if (list_empty(&cs->active_node[p])) {
			cs->vtime[p] = max(cs->vtime[p], sched->vclock[p]);
			list_add_tail(&cs->active_node[p], &sched->active[p]);
		}
		sched->queued++;
		job->state = NUQ_JOB_QUEUED;
	}
	spin_unlock(&sched->lock);
}

/*
 * 0 while the running @job should go on; otherwise the status to end it
 * with: what an abort asked for, -ECANCELED once the io_uring submitter
 * is dying or execs, or -ETIMEDOUT past the job's timeout.
 */
int nuq_job_should_stop(struct nuq_job *job)
{
	int abort = atomic_read(&job->abort);

	if (abort)
		return abort;
	if (job->task && nuq_uring_submitter_gone(job->task))
		return -ECANCELED;
	if (ktime_after(ktime_get(), ktime_add(job->started, job->timeout)))
		return -ETIMEDOUT;
	return 0;
}

/* Ask the backend to end the running @job early with @status. */
void nuq_job_abort(struct nuq_job *job, int status)
{
	struct nuq_device *ndev = job->ctx->ndev;

	if (atomic_cmpxchg(&job->abort, 0, status) == 0) {
		wake_up_all(&ndev->sched.abort_wq);
		if (ndev->backend_ops->abort)
			ndev->backend_ops->abort(ndev, job);
	}
}

static void nuq_job_release(struct kref *ref)
{
	struct nuq_job *job = container_of(ref, struct nuq_job, ref);

	nuq_job_exec_release(&job->exec);
	if (job->task)
		put_task_struct(job->task);
	kfree(job);
}

void nuq_job_put(struct nuq_job *job)
{
	kref_put(&job->ref, nuq_job_release);
}

static void nuq_job_count(struct nuq_device *ndev, int status)
{
	switch (status) {
	case 0:
		atomic64_inc(&ndev->stats.completed);
		break;
	case -ETIMEDOUT:
		atomic64_inc(&ndev->stats.timed_out);
		break;
	case -ECANCELED:
		atomic64_inc(&ndev->stats.cancelled);
		break;
	default:
		atomic64_inc(&ndev->stats.failed);
		break;
	}
}

/*
 * End @job, queued or running, with @status: release its buffers, wake
 * its waiters, complete its io_uring command.  Drops the scheduler's
 * reference.
 */
void nuq_job_complete(struct nuq_job *job, int status)
{
	struct nuq_ctx *ctx = job->ctx;
	struct nuq_device *ndev = ctx->ndev;
	struct nuq_sched *sched = &ndev->sched;

	spin_lock(&sched->lock);
	if (job->state == NUQ_JOB_RUNNING) {
		list_del(&job->queue_node);
		sched->running--;
		atomic64_add(ktime_to_ns(ktime_sub(ktime_get(), job->started)),
			     &ndev->stats.busy_ns);
	}
	spin_unlock(&sched->lock);

	/* The buffers go back now, not when userspace gets round to WAIT. */
	nuq_job_exec_release(&job->exec);
	nuq_job_count(ndev, status);

	spin_lock(&ctx->lock);
	job->status = status;
	job->state = NUQ_JOB_DONE;
	ctx->inflight--;
	if (job->seqno)
		ctx->unreaped++;
	/*
	 * Wake under the lock: release may free @ctx as soon as it sees
	 * inflight reach 0, but only after taking this lock once more.
	 */
	wake_up_all(&ctx->wq);
	spin_unlock(&ctx->lock);

	if (job->ioucmd || job->batch)
		nuq_uring_job_done(job);
	nuq_job_put(job);
}

/* Take every queued job of @ctx (all of them if @ctx is NULL) off the queues. */
static void nuq_sched_take_queued(struct nuq_sched *sched, struct nuq_ctx *ctx,
				  struct list_head *out)
{
	struct nuq_ctx_sched *cs, *tmp;
	struct nuq_job *job;
	int p;

	for (p = 0; p < NUQ_NR_PRIOS; p++) {
		list_for_each_entry_safe(cs, tmp, &sched->active[p], active_node[p]) {
			if (ctx && cs != &ctx->sched)
				continue;
			list_for_each_entry(job, &cs->queue[p], queue_node)
				sched->queued--;
			list_splice_tail_init(&cs->queue[p], out);
			list_del_init(&cs->active_node[p]);
		}
	}
}

static void nuq_sched_cancel(struct nuq_device *ndev, struct nuq_ctx *ctx)
{
	struct nuq_sched *sched = &ndev->sched;
	struct nuq_job *job, *tmp;
	LIST_HEAD(cancelled);

	spin_lock(&sched->lock);
	nuq_sched_take_queued(sched, ctx, &cancelled);
	list_for_each_entry(job, &sched->running_list, queue_node)
		if (!ctx || job->ctx == ctx)
			nuq_job_abort(job, -ECANCELED);
	spin_unlock(&sched->lock);

	list_for_each_entry_safe(job, tmp, &cancelled, queue_node) {
		list_del_init(&job->queue_node);
		nuq_job_complete(job, -ECANCELED);
	}
}

/*
 * Cancel every job of @ctx and wait until the backend has let go of the
 * running ones.  Called on release, when nobody can submit any more.
 * Whoever drops inflight does so and wakes @ctx->wq under @ctx->lock, so
 * once the lock has been taken after inflight reached 0, nothing touches
 * @ctx any more and the caller may free it.
 */
void nuq_sched_cancel_ctx(struct nuq_ctx *ctx)
{
	nuq_sched_cancel(ctx->ndev, ctx);
	wait_event(ctx->wq, READ_ONCE(ctx->inflight) == 0);
	spin_lock(&ctx->lock);
	spin_unlock(&ctx->lock);
}

/* Device reset: every queued and running job ends with -ECANCELED. */
void nuq_sched_reset(struct nuq_device *ndev)
{
	nuq_sched_cancel(ndev, NULL);
}
