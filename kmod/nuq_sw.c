// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: the software backend.
 *
 * One kernel thread per device runs jobs with the shared integer core, one
 * tile at a time; the core bounds a tile to NUQ_TILE_MACS multiply-
 * accumulates whatever the job's shape.  Between tiles it yields
 * (cond_resched()) so a large job never monopolises a CPU, and checks
 * whether the job was cancelled or ran past its timeout.  Integer only:
 * the core uses no floating point.
 *
 * The core's scratch memory belongs to the thread, not to the jobs: it is
 * allocated when a job that needs more than the thread has starts, and
 * kept for the next ones (at most about 3 MiB per device), so queued jobs
 * pin no memory beyond their BOs.
 *
 * The fault knob (debugfs, see nuq_fault.c) can make a job hang until it
 * times out or is cancelled, fail with -EIO, or run slowly.
 */

#include <linux/delay.h>
#include <linux/freezer.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "nuq_drv.h"
#include "nuq_fault.h"
#include "nuq_sched.h"

/* Sleep up to @ms, or until @job must stop; returns nuq_job_should_stop(). */
static int nuq_sw_sleep(struct nuq_device *ndev, struct nuq_job *job, unsigned int ms)
{
	unsigned long end = jiffies + msecs_to_jiffies(ms);
	int stop;

	while (!(stop = nuq_job_should_stop(job)) && time_before(jiffies, end))
		wait_event_timeout(ndev->sched.abort_wq, atomic_read(&job->abort),
				   min_t(unsigned long, end - jiffies, HZ / 20));
	return stop;
}

/**
 * struct nuq_sw_scratch - the thread's scratch memory for the core
 * @buf: kvmalloc()ed, or NULL
 * @size: bytes at @buf
 */
struct nuq_sw_scratch {
	void *buf;
	size_t size;
};

/* At least @size bytes of scratch; grows (never shrinks) the thread's buffer. */
static void *nuq_sw_scratch_get(struct nuq_sw_scratch *s, size_t size)
{
	if (size <= s->size)
		return s->buf;
	kvfree(s->buf);
	s->size = 0;
	s->buf = kvmalloc(size, GFP_KERNEL);
	if (s->buf)
		s->size = size;
	return s->buf;
}

static int nuq_sw_run(struct nuq_device *ndev, struct nuq_job *job, struct nuq_sw_scratch *s)
{
	enum nuq_fault_kind fault = nuq_fault_next(&ndev->fault);
	u32 tile, tiles = nuq_job_exec_tiles(&job->exec);
	size_t need = nuq_job_exec_scratch_bytes(&job->exec);
	void *scratch = NULL;
	int ret;

	switch (fault) {
	case NUQ_FAULT_HANG:
		/* Like a wedged engine: only the timeout or a cancel ends it. */
		return nuq_sw_sleep(ndev, job, UINT_MAX);
	case NUQ_FAULT_FAIL:
		return -EIO;
	default:
		break;
	}
	if (need) {
		scratch = nuq_sw_scratch_get(s, need);
		if (!scratch)
			return -ENOMEM;
	}

	for (tile = 0; tile < tiles; tile++) {
		ret = nuq_job_should_stop(job);
		if (ret)
			return ret;
		ret = nuq_job_exec_tile(&job->exec, tile, scratch);
		if (ret)
			return ret;
		if (fault == NUQ_FAULT_SLOW) {
			ret = nuq_sw_sleep(ndev, job, ndev->fault.slow_ms);
			if (ret)
				return ret;
		}
		cond_resched();
	}
	return nuq_job_should_stop(job);
}

static int nuq_sw_thread(void *data)
{
	struct nuq_device *ndev = data;
	struct nuq_sw_scratch scratch = { };
	struct nuq_job *job;

	while (!kthread_should_stop()) {
		wait_event_interruptible(ndev->sched.work_wq,
					 nuq_sched_has_work(ndev) || kthread_should_stop());
		while ((job = nuq_sched_next(ndev)))
			nuq_job_complete(job, nuq_sw_run(ndev, job, &scratch));
	}
	kvfree(scratch.buf);
	return 0;
}

static int nuq_sw_start(struct nuq_device *ndev)
{
	struct task_struct *t;

	t = kthread_run(nuq_sw_thread, ndev, "nuq-sw%u", ndev->index);
	if (IS_ERR(t))
		return PTR_ERR(t);
	ndev->worker = t;
	return 0;
}

/* Only called when no context is open, so no job is queued or running. */
static void nuq_sw_stop(struct nuq_device *ndev)
{
	kthread_stop(ndev->worker);
	ndev->worker = NULL;
}

static void nuq_sw_kick(struct nuq_device *ndev)
{
	wake_up(&ndev->sched.work_wq);
}

const struct nuq_backend_ops nuq_sw_backend = {
	.name = "software",
	.kind = NUQ_BACKEND_SOFTWARE,
	.start = nuq_sw_start,
	.stop = nuq_sw_stop,
	.kick = nuq_sw_kick,
};
