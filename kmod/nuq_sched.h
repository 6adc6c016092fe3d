/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: the job scheduler and the backend interface.
 */
#ifndef _NUQ_SCHED_H_
#define _NUQ_SCHED_H_

#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "nuq_job_exec.h"

struct nuq_device;
struct nuq_ctx;
struct nuq_batch;
struct nuq_bo;
struct io_uring_cmd;

#define NUQ_NR_PRIOS	4	/* low, normal, high, realtime */

enum nuq_job_state {
	NUQ_JOB_QUEUED,
	NUQ_JOB_RUNNING,
	NUQ_JOB_DONE,
};

/**
 * struct nuq_job - one convolution job from submission to reaping
 * @ref: held by the context's table (ioctl jobs), by the scheduler while
 *	queued or running, and by waiters
 * @ctx: the submitting context
 * @queue_node: entry in the context's queue of @prio while queued
 * @seqno: per-context sequence number (ioctl jobs), 0 for io_uring jobs
 * @prio: 0 (low) to 3 (realtime)
 * @cost: scheduling cost, the job's multiply-accumulate count (at least 1)
 * @timeout: how long the job may run
 * @state: &enum nuq_job_state, under the context's lock
 * @status: 0 or a negative errno, valid in state %NUQ_JOB_DONE
 * @abort: 0, or the status a canceller or the timeout asked the backend to
 *	end the running job with
 * @started: when the backend took the job (a ring backend moves it to
 *	when the device started the job: the timeout counts from there)
 * @queued: when the job was queued, for latency statistics and the
 *	scheduler's starvation bound (sched_starve_ms)
 * @resubmits: times a backend put the job back after a device reset
 * @ioucmd: the io_uring command to complete, or NULL
 * @task: for io_uring jobs, the task that issued the command (referenced
 *	until the job is freed): once it dies or execs, the job is cancelled
 *	(see nuq_job_should_stop()); NULL for ioctl jobs, which the
 *	context's release cancels
 * @batch: the io_uring batch the job belongs to, or NULL
 * @batch_index: position of the job in @batch
 * @exec: the descriptor and the resolved buffers
 */
struct nuq_job {
	struct kref ref;
	struct nuq_ctx *ctx;
	struct list_head queue_node;
	u64 seqno;
	unsigned int prio;
	u64 cost;
	ktime_t timeout;
	enum nuq_job_state state;
	int status;
	atomic_t abort;
	ktime_t started;
	ktime_t queued;
	unsigned int resubmits;
	struct io_uring_cmd *ioucmd;
	struct task_struct *task;
	struct nuq_batch *batch;
	unsigned int batch_index;
	struct nuq_job_exec exec;
};

/**
 * struct nuq_ctx_sched - a context's part of the scheduler state
 * @queue: queued jobs per priority, oldest first
 * @active_node: entry in &nuq_sched.active of that priority while the
 *	context has queued jobs there
 * @vtime: virtual time per priority: the cost the context has been given,
 *	for fair sharing between contexts of one priority
 */
struct nuq_ctx_sched {
	struct list_head queue[NUQ_NR_PRIOS];
	struct list_head active_node[NUQ_NR_PRIOS];
	u64 vtime[NUQ_NR_PRIOS];
};

/**
 * struct nuq_sched - per device scheduler
 * @lock: protects everything here and every &nuq_ctx_sched of the device
 * @active: contexts with queued jobs, per priority
 * @vclock: per priority, the virtual time of the last job dispatched: a
 *	context that becomes active starts no earlier, so idling earns no
 *	credit over contexts that kept the device busy
 * @queued: jobs queued, all contexts
 * @running: jobs the backend has taken and not completed
 * @running_list: jobs the backend has taken (&nuq_job.queue_node)
 * @work_wq: the backend waits here for work
 * @abort_wq: a backend sleeping in a job waits here for an abort
 */
struct nuq_sched {
	spinlock_t lock;	/* see above */
	struct list_head active[NUQ_NR_PRIOS];
	u64 vclock[NUQ_NR_PRIOS];
	unsigned int queued;
	unsigned int running;
	struct list_head running_list;
	wait_queue_head_t work_wq;
	wait_queue_head_t abort_wq;
};

/**
 * struct nuq_backend_ops - what executes jobs (software or NPU)
 * @name: for sysfs
 * @kind: &enum nuq_backend_kind reported by GET_INFO
 * @start: set up the device's engine; jobs may arrive afterwards
 * @stop: stop the engine; every taken job has been completed on return
 * @kick: new jobs were queued (may be called under no lock, any context)
 * @abort: the running @job should end early with its &nuq_job.abort status
 * @bo_release: optional, a BO of the device is about to be freed: undo the
 *	backend's mapping of it (&nuq_bo.dev_map); no job uses the BO
 * @release: optional, the last reference to the device is gone: free the
 *	backend's state (&nuq_device.backend_priv)
 *
 * A backend takes jobs with nuq_sched_next(), ends them with
 * nuq_job_complete(), and between units of work checks
 * nuq_job_should_stop().
 *
 * nuq_job_should_stop() is the one place a running job learns that it
 * must end: an abort (cancel, reset) reaches @abort too, but a timeout and
 * the death of an io_uring job's submitter are seen only there, so a
 * backend that does not poll it per unit of work (a ring-based one) must
 * call it periodically for each job it runs, e.g. from its timeout
 * watchdog.  nuq_sched_next() completes queued jobs that should already
 * stop (their submitter died) instead of returning them, so it must be
 * called where nuq_job_complete() may be: process context, no spinlock.
 */
struct nuq_backend_ops {
	const char *name;
	unsigned int kind;
	int (*start)(struct nuq_device *ndev);
	void (*stop)(struct nuq_device *ndev);
	void (*kick)(struct nuq_device *ndev);
	void (*abort)(struct nuq_device *ndev, struct nuq_job *job);
	void (*bo_release)(struct nuq_device *ndev, struct nuq_bo *bo);
	void (*release)(struct nuq_device *ndev);
};

extern const struct nuq_backend_ops nuq_sw_backend;

void nuq_sched_init(struct nuq_sched *sched);
void nuq_ctx_sched_init(struct nuq_ctx_sched *cs);

void nuq_sched_queue(struct nuq_device *ndev, struct nuq_job **jobs, unsigned int count);
struct nuq_job *nuq_sched_next(struct nuq_device *ndev);
void nuq_sched_requeue(struct nuq_job *job);
bool nuq_sched_has_work(struct nuq_device *ndev);
void nuq_sched_cancel_ctx(struct nuq_ctx *ctx);
void nuq_sched_reset(struct nuq_device *ndev);

int nuq_job_should_stop(struct nuq_job *job);
void nuq_job_abort(struct nuq_job *job, int status);
void nuq_job_complete(struct nuq_job *job, int status);
void nuq_job_put(struct nuq_job *job);

#endif /* _NUQ_SCHED_H_ */
