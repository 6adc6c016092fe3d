// SPDX-License-Identifier: GPL-2.0
/*
 * nuq NPU: the watchdog, recovery and death.
 *
 * Hang detection is by lack of progress, not by one fixed timer.  Every
 * npu_watchdog_ms (and at once on a control interrupt, an abort request
 * or garbage from the device) the watchdog
 *
 *  - drains every CQ (a lost interrupt costs at most one period);
 *  - checks that the device is there (MAGIC not all ones), READY and
 *    neither HALTED nor in ERROR, and that HEARTBEAT moved within
 *    npu_hang_ms;
 *  - per engine with jobs: that ENG_PROGRESS moved within npu_hang_ms
 *    (a long job that keeps making progress is fine), and that the
 *    running job (the oldest: rings run in order) is within its own
 *    timeout, counted from when it started, which is the upper bound
 *    whatever its progress.
 *
 * Recovery escalates, one step at a time, each with a bounded wait:
 *
 *  1. abort the job (ABORT_JOB/ABORT_REQ); an engine that ends it with
 *     ABORTED within npu_abort_ms is fine;
 *  2. otherwise reset the engine (ENG_RESET_REQ/ACK/DONE within
 *     RESET_TIME_MS);
 *  3. reset the device (RESET_REQ/ACK/DONE within RESET_TIME_MS) if the
 *     engine reset failed, the device is hung, halted or in error, or it
 *     wrote garbage (a CQ index out of range, an unknown or repeated
 *     job_id, an unknown status);
 *  4. a device reset fails when it is not acknowledged and done in time,
 *     or when the device needs another one before any job succeeded
 *     since the last; after npu_max_resets failures in a row the device
 *     is dead.
 *
 * Job fates:
 *
 *  - the job that hung or ran past its timeout ends with -ETIMEDOUT;
 *  - a job the device failed ends with -EIO (DEVICE_ERROR, or a status
 *    the spec does not know), -EFAULT (MMU_FAULT) or -EINVAL (INVALID);
 *  - a cancelled job (its context closed, sysfs reset, its io_uring
 *    submitter died) ends with -ECANCELED, like on the software device,
 *    even when the device finished it before the abort reached it;
 *    only the running job is aborted on the device, the ones behind it
 *    on the ring are aborted when they start;
 *  - every other job that was on a reset engine (submitted, not
 *    completed) is innocent: it goes back to the head of its context's
 *    queue and runs again (a conv job overwrites its whole output, so a
 *    rerun is safe), at most npu_max_resubmits times, then -EIO;
 *  - completions the device wrote before it acknowledged a reset are
 *    real: they are read before any job is judged;
 *  - queued jobs (not yet submitted) are never touched: they stay in the
 *    scheduler and run after the recovery;
 *  - when the device dies (or is removed) every job, running or queued,
 *    ends with -ENODEV, and so does every later submit and ioctl.
 *
 * The device's address spaces are taken away (root tables cleared) before
 * the jobs of a dead device end, so an engine that wakes up later faults
 * rather than writing into memory that has been given back.
 *
 * Each device reset and the death send a KOBJ_CHANGE uevent with
 * NUQ_EVENT=reset or NUQ_EVENT=dead; the counters are in sysfs (npu_*).
 * Writing 1 (engine 0 reset) or 2 (device reset) to debugfs
 * nuq/nuqN/npu/recover forces a recovery.
 *
 * Locking: recovery_lock serialises all of this; a reset also holds
 * submit_lock, so no job goes onto a ring while one is pending (the
 * driver never writes SQ_TAIL or CQ_HEAD then, as npu.rst requires).
 */

#include <linux/kobject.h>
#include <linux/pci.h>

#include "nuq_drv.h"
#include "nuq_npu.h"
#include "nuq_sched.h"

enum nuq_npu_action {
	NUQ_NPU_FINE,
	NUQ_NPU_RESET_ENGINE,
};

void nuq_npu_watchdog_now(struct nuq_npu *npu)
{
	if (!READ_ONCE(npu->stopping) && !nuq_device_dead(npu->ndev))
		mod_delayed_work(npu->wq, &npu->watchdog, 0);
}

/* backend_ops.abort (under the scheduler's lock): the watchdog sends it. */
void nuq_npu_abort(struct nuq_device *ndev, struct nuq_job *job)
{
	nuq_npu_watchdog_now(ndev->backend_priv);
}

static void nuq_npu_uevent(struct nuq_npu *npu, const char *event)
{
	char *envp[2];

	if (!npu->ndev->dev)
		return;
	envp[0] = (char *)event;
	envp[1] = NULL;
	kobject_uevent_env(&npu->ndev->dev->kobj, KOBJ_CHANGE, envp);
}

static s64 nuq_npu_ms_since(ktime_t now, ktime_t then)
{
	return ktime_ms_delta(now, then);
}

/* The oldest job on @eng, the one the engine runs; under its lock. */
static struct nuq_npu_slot *nuq_npu_head(struct nuq_npu_engine *eng)
{
	return list_first_entry_or_null(&eng->inflight, struct nuq_npu_slot, node);
}

/* Mark @slot's job as the one that hung or timed out. */
static void nuq_npu_blame(struct nuq_npu_engine *eng, struct nuq_npu_slot *slot,
			  const char *why)
{
	slot->guilty = true;
	atomic_cmpxchg(&slot->job->abort, 0, -ETIMEDOUT);
	atomic64_inc(&eng->npu->cnt.hangs);
	dev_warn(&eng->npu->pdev->dev, "engine %u: job %#llx %s\n", eng->index, slot->job_id,
		 why);
}

/* Look at one engine: hangs, timeouts, aborts to send or that failed. */
static enum nuq_npu_action nuq_npu_engine_check(struct nuq_npu_engine *eng, ktime_t now)
{
	struct nuq_npu *npu = eng->npu;
	enum nuq_npu_action act = NUQ_NPU_FINE;
	unsigned int hang_ms = READ_ONCE(nuq_npu_hang_ms);
	struct nuq_npu_slot *head;
	u32 progress;
	int stop;

	spin_lock(&eng->lock);
	head = nuq_npu_head(eng);
	if (!head)
		goto out;

	progress = nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_PROGRESS);
	if (progress != eng->progress) {
		eng->progress = progress;
		eng->progress_time = now;
	} else if ((npu->caps & NUQ_NPU_CAP_PROGRESS) && !head->guilty &&
		   nuq_npu_ms_since(now, eng->progress_time) > hang_ms) {
		nuq_npu_blame(eng, head, "made no progress: hang");
	}
	/* The timeout, or an io_uring submitter that died (it counts from t_head). */
	stop = nuq_job_should_stop(head->job);
	if (stop == -ETIMEDOUT && !head->guilty)
		nuq_npu_blame(eng, head, "ran past its timeout");
	else if (stop)
		atomic_cmpxchg(&head->job->abort, 0, stop);

	if (atomic_read(&head->job->abort) && !head->abort_sent) {
		/* One abort at a time per engine: the previous one was acknowledged. */
		if (nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_ABORT_ACK) == eng->abort_seq) {
			nuq_npu_eng_wr64(eng, NUQ_NPU_ENG_ABORT_JOB, head->job_id);
			nuq_npu_eng_wr32(eng, NUQ_NPU_ENG_ABORT_REQ, ++eng->abort_seq);
			nuq_npu_doorbell(npu, eng->index);
			head->abort_sent = now;
			eng->abort_time = now;
		} else if (nuq_npu_ms_since(now, eng->abort_time) > READ_ONCE(nuq_npu_abort_ms)) {
			/* The engine does not even acknowledge aborts. */
			act = NUQ_NPU_RESET_ENGINE;
		}
	} else if (head->abort_sent &&
		   nuq_npu_ms_since(now, head->abort_sent) > READ_ONCE(nuq_npu_abort_ms)) {
		act = NUQ_NPU_RESET_ENGINE;
	}
out:
	spin_unlock(&eng->lock);
	return act;
}

/* The fate of a job that was on a reset engine (see the top of the file). */
static void nuq_npu_judge(struct nuq_npu *npu, struct nuq_job *job, bool guilty)
{
	int abort = atomic_read(&job->abort);

	if (guilty || abort) {
		nuq_job_complete(job, abort ?: -ETIMEDOUT);
	} else if (job->resubmits < READ_ONCE(nuq_npu_max_resubmits)) {
		job->resubmits++;
		atomic64_inc(&npu->cnt.resubmits);
		nuq_sched_requeue(job);
	} else {
		nuq_job_complete(job, -EIO);
	}
}

/*
 * After @eng was reset: read the completions it wrote before, then judge
 * every job still on it.  Newest first, so that requeued jobs end up in
 * their old order at the head of their queues.  Under submit_lock.
 */
static void nuq_npu_engine_settle(struct nuq_npu_engine *eng)
{
	struct nuq_npu_slot *slot;
	struct nuq_job *job;
	bool guilty;

	if (nuq_npu_drain(eng) < 0) {
		/* What is left in the CQ is garbage: start after it. */
		spin_lock(&eng->lock);
		eng->cq_head = nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_CQ_TAIL);
		nuq_npu_eng_wr32(eng, NUQ_NPU_ENG_CQ_HEAD, eng->cq_head);
		spin_unlock(&eng->lock);
	}
	for (;;) {
		spin_lock(&eng->lock);
		slot = list_empty(&eng->inflight) ? NULL :
		       list_last_entry(&eng->inflight, struct nuq_npu_slot, node);
		if (!slot) {
			spin_unlock(&eng->lock);
			break;
		}
		guilty = slot->guilty;
		job = nuq_npu_take_slot(eng, slot, ktime_get());
		spin_unlock(&eng->lock);
		nuq_npu_judge(eng->npu, job, guilty);
	}
	eng->progress = nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_PROGRESS);
}

static void nuq_npu_set_resetting(struct nuq_npu_engine *eng, bool resetting)
{
	spin_lock(&eng->lock);
	eng->resetting = resetting;
	spin_unlock(&eng->lock);
}

static void nuq_npu_accept(struct nuq_npu *npu, bool accept)
{
	unsigned int e;

	for (e = 0; e < npu->num_engines; e++)
		WRITE_ONCE(npu->engines[e].accepting, accept);
}

/* End every job on the engines with @status (the device is dead). */
static void nuq_npu_end_inflight(struct nuq_npu *npu, int status)
{
	unsigned int e;

	for (e = 0; e < npu->num_engines; e++) {
		struct nuq_npu_engine *eng = &npu->engines[e];
		struct nuq_npu_slot *slot;
		struct nuq_job *job;

		for (;;) {
			spin_lock(&eng->lock);
			slot = nuq_npu_head(eng);
			job = slot ? nuq_npu_take_slot(eng, slot, ktime_get()) : NULL;
			spin_unlock(&eng->lock);
			if (!job)
				break;
			nuq_job_complete(job, status);
		}
	}
}

/* End every queued job of a dead device. */
static void nuq_npu_end_queued(struct nuq_npu *npu)
{
	struct nuq_job *job;

	while ((job = nuq_sched_next(npu->ndev)))
		nuq_job_complete(job, -ENODEV);
}

void nuq_npu_dead_work(struct work_struct *work)
{
	nuq_npu_end_queued(container_of(work, struct nuq_npu, dead_work));
}

/*
 * The device is dead: nothing is submitted again, every job ends with
 * -ENODEV.  Under recovery_lock.
 */
void nuq_npu_mark_dead(struct nuq_npu *npu, const char *why)
{
	struct nuq_device *ndev = npu->ndev;

	if (nuq_device_dead(ndev))
		return;
	mutex_lock(&npu->submit_lock);
	WRITE_ONCE(ndev->dead, true);
	nuq_npu_accept(npu, false);
	mutex_unlock(&npu->submit_lock);

	dev_err(&npu->pdev->dev, "device is dead: %s\n", why);
	/* Stop fetching; a device that still listens then drops its jobs. */
	if (!nuq_npu_check_gone(npu)) {
		nuq_npu_hw_enable(npu, false);
		if (READ_ONCE(npu->stopping))
			nuq_npu_hw_reset(npu);
	}
	nuq_npu_mmu_fence(npu);
	nuq_npu_end_inflight(npu, -ENODEV);
	nuq_npu_end_queued(npu);
	nuq_npu_uevent(npu, "NUQ_EVENT=dead");
}

/* Reset @eng; 0, or an error if it did not reset (escalate). */
static int nuq_npu_reset_engine(struct nuq_npu *npu, struct nuq_npu_engine *eng)
{
	int ret;

	mutex_lock(&npu->submit_lock);
	WRITE_ONCE(eng->accepting, false);
	atomic64_inc(&npu->cnt.engine_resets);
	nuq_npu_set_resetting(eng, true);
	ret = nuq_npu_hw_engine_reset(eng);
	/* Failed: the device reset that follows clears it. */
	if (!ret) {
		nuq_npu_set_resetting(eng, false);
		nuq_npu_engine_settle(eng);
		WRITE_ONCE(eng->accepting, true);
		dev_warn(&npu->pdev->dev, "engine %u reset\n", eng->index);
	} else {
		dev_warn(&npu->pdev->dev, "engine %u reset failed: %d\n", eng->index, ret);
	}
	mutex_unlock(&npu->submit_lock);
	if (!ret)
		queue_work(npu->wq, &npu->submit_work);
	return ret;
}

/* Reset the whole device, or declare it dead.  Under recovery_lock. */
static int nuq_npu_reset_device(struct nuq_npu *npu, const char *why)
{
	unsigned int e;
	int ret;

	/* The last reset did not help: no job has succeeded since. */
	if (npu->reset_unproven)
		npu->failed_resets++;
	for (;;) {
		if (npu->failed_resets >= READ_ONCE(nuq_npu_max_resets) ||
		    nuq_npu_check_gone(npu)) {
			nuq_npu_mark_dead(npu, nuq_npu_check_gone(npu) ? "gone" :
					  "too many failed resets");
			return -ENODEV;
		}
		dev_warn(&npu->pdev->dev, "resetting the device: %s\n", why);
		mutex_lock(&npu->submit_lock);
		nuq_npu_accept(npu, false);
		atomic64_inc(&npu->cnt.resets);
		for (e = 0; e < npu->num_engines; e++)
			nuq_npu_set_resetting(&npu->engines[e], true);
		ret = nuq_npu_hw_reset(npu);
		if (!ret)
			break;
		mutex_unlock(&npu->submit_lock);
		npu->failed_resets++;
		why = "the last reset failed";
	}
	for (e = 0; e < npu->num_engines; e++) {
		nuq_npu_set_resetting(&npu->engines[e], false);
		nuq_npu_engine_settle(&npu->engines[e]);
	}
	clear_bit(0, &npu->garbage);
	npu->reset_unproven = true;
	npu->heartbeat = nuq_npu_rd32(npu, NUQ_NPU_REG_HEARTBEAT);
	npu->heartbeat_time = ktime_get();
	nuq_npu_accept(npu, true);
	mutex_unlock(&npu->submit_lock);

	nuq_npu_uevent(npu, "NUQ_EVENT=reset");
	queue_work(npu->wq, &npu->submit_work);
	return 0;
}

/*
 * Recover now: reset @engine (falling back to a device reset), or the
 * device if @engine < 0.  For the debugfs knob.
 */
int nuq_npu_recover(struct nuq_npu *npu, int engine, const char *why)
{
	int ret = -ENODEV;

	mutex_lock(&npu->recovery_lock);
	if (nuq_device_dead(npu->ndev) || READ_ONCE(npu->stopping))
		goto out;
	if (engine >= 0 && engine < npu->num_engines &&
	    !nuq_npu_reset_engine(npu, &npu->engines[engine])) {
		ret = 0;
		goto out;
	}
	ret = nuq_npu_reset_device(npu, why);
out:
	mutex_unlock(&npu->recovery_lock);
	return ret;
}

/* Device-wide health: why it needs a reset, or NULL. */
static const char *nuq_npu_device_check(struct nuq_npu *npu, ktime_t now)
{
	u32 status = nuq_npu_rd32(npu, NUQ_NPU_REG_STATUS);
	u32 hb = nuq_npu_rd32(npu, NUQ_NPU_REG_HEARTBEAT);
	unsigned int hang_ms = READ_ONCE(nuq_npu_hang_ms);

	npu->mmu_fault_regs = nuq_npu_rd32(npu, NUQ_NPU_REG_MMU_FAULTS);
	if (test_bit(0, &npu->garbage))
		return "garbage from the device";
	if (status & (NUQ_NPU_STATUS_HALTED | NUQ_NPU_STATUS_ERROR) ||
	    !(status & NUQ_NPU_STATUS_READY)) {
		dev_warn(&npu->pdev->dev, "status %#x, error %u\n", status,
			 nuq_npu_rd32(npu, NUQ_NPU_REG_ERROR_CODE));
		return "halted or in error";
	}
	if (hb != npu->heartbeat) {
		npu->heartbeat = hb;
		npu->heartbeat_time = now;
		/* Idle and alive after a reset: it worked (busy, a job must succeed). */
		if (npu->reset_unproven && !nuq_npu_busy(npu)) {
			npu->reset_unproven = false;
			npu->failed_resets = 0;
		}
	} else if (nuq_npu_ms_since(now, npu->heartbeat_time) >
		   max_t(s64, hang_ms, 3 * (s64)npu->heartbeat_us / 1000)) {
		return "heartbeat stopped";
	}
	return NULL;
}

void nuq_npu_watchdog_work(struct work_struct *work)
{
	struct nuq_npu *npu = container_of(to_delayed_work(work), struct nuq_npu, watchdog);
	const char *why;
	unsigned int e;
	ktime_t now;

	mutex_lock(&npu->recovery_lock);
	if (nuq_device_dead(npu->ndev) || READ_ONCE(npu->stopping))
		goto out_unlock;
	if (nuq_npu_check_gone(npu)) {
		nuq_npu_mark_dead(npu, "gone");
		goto out_unlock;
	}
	nuq_npu_drain_all(npu, true);
	nuq_npu_submit(npu);

	now = ktime_get();
	why = nuq_npu_device_check(npu, now);
	if (why) {
		nuq_npu_reset_device(npu, why);
		goto out;
	}
	for (e = 0; e < npu->num_engines; e++) {
		struct nuq_npu_engine *eng = &npu->engines[e];

		if (nuq_npu_engine_check(eng, now) == NUQ_NPU_FINE)
			continue;
		if (nuq_npu_reset_engine(npu, eng)) {
			nuq_npu_reset_device(npu, "an engine reset failed");
			break;
		}
	}
out:
	if (!nuq_device_dead(npu->ndev) && !READ_ONCE(npu->stopping))
		queue_delayed_work(npu->wq, &npu->watchdog,
				   msecs_to_jiffies(max(READ_ONCE(nuq_npu_watchdog_ms), 10u)));
out_unlock:
	mutex_unlock(&npu->recovery_lock);
}
