// SPDX-License-Identifier: GPL-2.0
/*
 * nuq NPU: putting jobs on the engines' submission rings and taking their
 * completions off the completion rings.
 *
 * Submission (nuq_npu_submit) runs in process context under submit_lock:
 * while some engine has fewer than npu_queue_depth jobs, it takes the
 * scheduler's next job, maps its BOs, writes the SQE and SQ_TAIL; the
 * least loaded engine gets it, or the one the pass filled last while its
 * work is small (NUQ_NPU_PACK_MACS).  Doorbells are rung per engine and pass,
 * not per job, and not at all for an engine that says it is awake
 * (nuq_npu_notify()).  A ring never holds more
 * jobs than it has entries, so neither ring can overflow and the device's
 * SQ_HEAD need not be read.
 *
 * Completion (nuq_npu_drain) follows the interrupt rule of npu.rst: read
 * CQ_TAIL, consume up to it, write CQ_HEAD, full fence, read CQ_TAIL
 * again (which lets the device signal only the first of a burst).  Each CQE
 * is read once and checked: its job_id must name a job in flight on that
 * engine, else it is garbage and the device is reset.  A submitter that
 * put a small job on an idle engine busy-waits for it up to npu_spin_us
 * (nuq_npu_spin()) and drains the ring itself, which saves an interrupt's
 * round trip where that dominates.  Jobs are ended
 * outside the engine's lock, as nuq_job_complete() takes other locks and
 * may free BOs (which sleeps).
 */

#include <linux/bitops.h>
#include <linux/io.h>
#include <linux/minmax.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>

#include "nuq_bo.h"
#include "nuq_drv.h"
#include "nuq_npu.h"
#include "nuq_sched.h"

/* Jobs up to this many MACs are worth a busy-wait (npu_spin_us). */
#define NUQ_NPU_SPIN_MACS	BIT(20)
/*
 * A pass keeps filling one engine while the work on it stays below this
 * many MACs (tens of us on the device): small jobs need no second engine,
 * and one engine costs one doorbell and one interrupt stream, not two.
 */
#define NUQ_NPU_PACK_MACS	BIT(20)
/* Jobs ended per pass of the engine's lock. */
#define NUQ_NPU_DRAIN_BATCH	32
/* Completion times from the device above this are not believed. */
#define NUQ_NPU_MAX_SANE_NS	(3600ull * NSEC_PER_SEC)

int nuq_npu_engines_init(struct nuq_npu *npu)
{
	unsigned int e;

	npu->depth = clamp_t(u32, nuq_npu_queue_depth, 1, npu->ring_entries);
	/* Without it: a doorbell per pass and engine, an interrupt per completion. */
	if (!nuq_npu_notify_suppress)
		npu->caps &= ~NUQ_NPU_CAP_NOTIFY_SUPPRESS;
	npu->sqe_buf = kzalloc(sizeof(*npu->sqe_buf), GFP_KERNEL);
	if (!npu->sqe_buf)
		return -ENOMEM;
	for (e = 0; e < npu->num_engines; e++) {
		struct nuq_npu_engine *eng = &npu->engines[e];

		eng->npu = npu;
		eng->index = e;
		spin_lock_init(&eng->lock);
		INIT_LIST_HEAD(&eng->inflight);
		eng->regs = npu->bar2 + NUQ_NPU_ENGINE(e);
		eng->slots = kcalloc(npu->depth, sizeof(*eng->slots), GFP_KERNEL);
		if (!eng->slots)
			return -ENOMEM;
		eng->accepting = true;
	}
	return 0;
}

void nuq_npu_engines_fini(struct nuq_npu *npu)
{
	unsigned int e;

	kfree(npu->sqe_buf);
	npu->sqe_buf = NULL;
	for (e = 0; e < NUQ_NPU_MAX_ENGINES; e++) {
		kfree(npu->engines[e].slots);
		npu->engines[e].slots = NULL;
	}
}

/*
 * The engine with ring space and the fewest jobs, or NULL.  @cur, the
 * engine the pass filled last, if it has room and little work.
 */
static struct nuq_npu_engine *nuq_npu_pick_engine(struct nuq_npu *npu,
						  struct nuq_npu_engine *cur)
{
	struct nuq_npu_engine *best = NULL;
	unsigned int e;

	if (cur && READ_ONCE(cur->accepting) && READ_ONCE(cur->nr_inflight) < npu->depth &&
	    READ_ONCE(cur->inflight_macs) < NUQ_NPU_PACK_MACS)
		return cur;

	for (e = 0; e < npu->num_engines; e++) {
		struct nuq_npu_engine *eng = &npu->engines[e];
		unsigned int n = READ_ONCE(eng->nr_inflight);

		if (!READ_ONCE(eng->accepting) || n >= npu->depth)
			continue;
		if (!best || n < READ_ONCE(best->nr_inflight))
			best = eng;
	}
	return best;
}

/* Refusals for what the device cannot run; 0 if it can. */
static int nuq_npu_check_job(struct nuq_npu *npu, const struct nuq_job *job)
{
	const struct nuq_conv_job *d = &job->exec.desc;

	if (!(npu->weight_formats & BIT(d->weight_format)) ||
	    !(npu->act_formats & BIT(d->in_format)) || !(npu->act_formats & BIT(d->out_format)))
		return -EOPNOTSUPP;
	if (d->weight_format == NUQ_WFMT_CODEBOOK && !(npu->weight_bits & BIT(d->weight_bits)))
		return -EOPNOTSUPP;
	if ((d->flags & NUQ_JOB_F_RESIDUAL) && !(npu->caps & NUQ_NPU_CAP_RESIDUAL))
		return -EOPNOTSUPP;
	if (job->cost > npu->max_job_macs)
		return -E2BIG;
	return 0;
}

/*
 * A free slot of @eng.  Under the engine's lock, where a slot's job and
 * nr_inflight change together (a drain may be freeing one right now).
 */
static struct nuq_npu_slot *nuq_npu_free_slot(struct nuq_npu_engine *eng, unsigned int *idx)
{
	struct nuq_npu_slot *slot = NULL;
	unsigned int i;

	spin_lock(&eng->lock);
	for (i = 0; i < eng->npu->depth && !slot; i++) {
		if (!eng->slots[i].job) {
			*idx = i;
			slot = &eng->slots[i];
		}
	}
	spin_unlock(&eng->lock);
	return slot;
}

/*
 * The MMU isolation test hook (debugfs npu/mmu_probe = N): the next job's
 * output is pointed N handles further, at an address its context has not
 * mapped - where another context's BO of that handle lives in that
 * context's own address space.  The device must fault and write nothing.
 */
static void nuq_npu_mmu_probe(struct nuq_npu *npu, struct nuq_npu_sqe *sqe)
{
	int skew = atomic_xchg(&npu->mmu_probe, 0);

	if (unlikely(skew))
		sqe->va[NUQ_T_OUTPUT] += (u64)skew << 32;
}

/*
 * Put @job on @eng.  0 when the job is on the ring or has been ended;
 * -EBUSY when it must wait for a completion (the caller requeues it).
 * *@spin is set when the job is small and alone on the engine, so that
 * its completion is worth waiting for right here (nuq_npu_spin()).  *@now
 * is the pass's clock reading (HPET under TCG: one per pass), 0 until the
 * first job needs it.  The doorbell is the caller's.
 */
static int nuq_npu_start_job(struct nuq_npu *npu, struct nuq_npu_engine *eng,
			     struct nuq_job *job, bool *spin, ktime_t *now)
{
	struct nuq_npu_sqe *sqe;
	struct nuq_npu_slot *slot;
	unsigned int idx, i;
	u64 pt_root;
	int ret;

	ret = atomic_read(&job->abort) ?: nuq_npu_check_job(npu, job);
	if (ret)
		goto err_complete;
	/*
	 * Only this function fills slots, under submit_lock, and the engine
	 * had fewer than depth jobs: one is free.
	 */
	slot = nuq_npu_free_slot(eng, &idx);
	if (WARN_ON_ONCE(!slot))
		return -EBUSY;
	ret = nuq_npu_map_job(npu, job, slot, &pt_root);
	if (ret == -EBUSY)
		return ret;
	if (ret)
		goto err_complete;

	/* Built in memory (submit_lock's buffer), then copied to the ring at once. */
	sqe = npu->sqe_buf;
	memset(sqe, 0, sizeof(*sqe));
	sqe->job_id = (atomic64_inc_return(&npu->next_seq) << NUQ_NPU_SLOT_BITS) | idx;
	sqe->pt_root = pt_root;
	for (i = 0; i < NUQ_T_COUNT; i++) {
		struct nuq_bo *bo = job->exec.bos[i];

		if (!bo)
			continue;
		sqe->va[i] = (u64)job->exec.desc.tensors[i].handle << 32;
		sqe->size[i] = bo->size;
	}
	sqe->job = job->exec.desc;
	nuq_npu_mmu_probe(npu, sqe);

	spin_lock(&eng->lock);
	memcpy_toio(eng->sq + (eng->sq_tail & (npu->ring_entries - 1)) * sizeof(*sqe), sqe,
		    sizeof(*sqe));
	slot->job = job;
	slot->job_id = sqe->job_id;
	slot->abort_sent = 0;
	slot->guilty = false;
	if (!*now)
		*now = ktime_get();
	slot->t_doorbell = *now;
	if (list_empty(&eng->inflight)) {
		*spin = job->cost <= NUQ_NPU_SPIN_MACS;
		slot->t_head = slot->t_doorbell;
		WRITE_ONCE(job->started, slot->t_head);
		eng->progress_time = slot->t_doorbell;
		eng->progress = nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_PROGRESS);
	}
	list_add_tail(&slot->node, &eng->inflight);
	WRITE_ONCE(eng->nr_inflight, eng->nr_inflight + 1);
	WRITE_ONCE(eng->inflight_macs, eng->inflight_macs + job->cost);
	eng->sq_tail++;
	/* The entry before the index that publishes it. */
	wmb();
	nuq_npu_eng_wr32(eng, NUQ_NPU_ENG_SQ_TAIL, eng->sq_tail);
	spin_unlock(&eng->lock);
	return 0;

err_complete:
	nuq_job_complete(job, ret);
	return 0;
}

/*
 * Tell @eng about the entries up to the SQ_TAIL just written: ring its
 * doorbell, unless the device has notification suppression and the engine
 * says (SQ_AWAKE, read after a full fence) that it reads SQ_TAIL again
 * before it sleeps.  Both sides store, fence, then load the other's word,
 * so one of them sees the other's store: no submission is left asleep
 * (npu.rst, Submission).  Under submit_lock.
 */
static void nuq_npu_notify(struct nuq_npu_engine *eng)
{
	struct nuq_npu *npu = eng->npu;

	if (npu->caps & NUQ_NPU_CAP_NOTIFY_SUPPRESS) {
		/* SQ_TAIL (stored) before SQ_AWAKE (loaded): BAR order is not enough. */
		mb();
		if (nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_SQ_AWAKE) == 1)
			return;
	}
	nuq_npu_doorbell(npu, eng->index);
}

/*
 * Fill the rings from the scheduler; under submit_lock.  Returns the
 * engine worth spinning on (see nuq_npu_spin()), or NULL.
 *
 * Each engine that got entries is notified once, at the end of the pass:
 * one doorbell (an MMIO trap under TCG) per engine and pass, none if it
 * is awake.  A pass of one job (an ioctl) rings as soon as it is written.
 */
struct nuq_npu_engine *nuq_npu_submit_locked(struct nuq_npu *npu)
{
	struct nuq_device *ndev = npu->ndev;
	struct nuq_npu_engine *eng = NULL, *spin_eng = NULL;
	unsigned long pending = 0;
	struct nuq_job *job;
	bool started = false;
	unsigned int n = 0, e;
	ktime_t now = 0;

	lockdep_assert_held(&npu->submit_lock);
	/*
	 * The jobs queued before this pass (stored) before the slots are
	 * looked at (loaded): pairs with the completion thread, which frees
	 * slots and then looks for queued jobs (nuq_npu_engine_thread()).
	 */
	smp_mb();
	while (!nuq_device_dead(ndev) && (eng = nuq_npu_pick_engine(npu, eng))) {
		bool spin = false;
		u32 tail = eng->sq_tail;

		job = nuq_sched_next(ndev);
		if (!job)
			break;
		n++;
		if (nuq_npu_start_job(npu, eng, job, &spin, &now) == -EBUSY) {
			/* Retried on the next completion. */
			nuq_sched_requeue(job);
			break;
		}
		if (spin)
			spin_eng = eng;
		started = true;
		if (eng->sq_tail != tail)	/* else it ended without reaching the ring */
			__set_bit(eng->index, &pending);
	}
	for_each_set_bit(e, &pending, NUQ_NPU_MAX_ENGINES)
		nuq_npu_notify(&npu->engines[e]);
	if (started && !npu->nr_vectors)
		nuq_npu_poll_arm(npu);
	/* Only for a lone job: with more in flight, interrupts serve better. */
	return n == 1 ? spin_eng : NULL;
}

/*
 * Busy-wait up to npu_spin_us for the completion of a small job that is
 * alone on @eng, and end it here: an interrupt's round trip costs far
 * more than such a job (the idea of i915's request busy-wait and NVMe's
 * hybrid polling).  Process context, no lock held.
 */
void nuq_npu_spin(struct nuq_npu_engine *eng)
{
	u64 end = local_clock() + (u64)READ_ONCE(nuq_npu_spin_us) * NSEC_PER_USEC;

	while (READ_ONCE(eng->nr_inflight) && !READ_ONCE(eng->npu->gone)) {
		if (nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_CQ_TAIL) != READ_ONCE(eng->cq_head)) {
			/* As the interrupt thread would: then refill. */
			if (nuq_npu_drain(eng) >= 0)
				nuq_npu_submit(eng->npu);
			return;
		}
		if (local_clock() > end || need_resched())
			return;
		cpu_relax();
	}
}

void nuq_npu_submit(struct nuq_npu *npu)
{
	mutex_lock(&npu->submit_lock);
	nuq_npu_submit_locked(npu);
	mutex_unlock(&npu->submit_lock);
}

void nuq_npu_submit_work(struct work_struct *work)
{
	nuq_npu_submit(container_of(work, struct nuq_npu, submit_work));
}

/* The in-flight slot of @id on @eng, or NULL if the device made it up. */
static struct nuq_npu_slot *nuq_npu_lookup(struct nuq_npu_engine *eng, u64 id)
{
	u64 idx = id & (NUQ_NPU_MAX_RING - 1);

	if (idx >= eng->npu->depth)
		return NULL;
	if (!eng->slots[idx].job || eng->slots[idx].job_id != id)
		return NULL;
	return &eng->slots[idx];
}

/*
 * Take @slot's job off @eng (under the engine's lock) and hand back the
 * job; the next one in line starts now, for its timeout.
 */
struct nuq_job *nuq_npu_take_slot(struct nuq_npu_engine *eng, struct nuq_npu_slot *slot,
				  ktime_t now)
{
	struct nuq_job *job = slot->job;
	bool was_head = list_first_entry(&eng->inflight, struct nuq_npu_slot, node) == slot;

	list_del(&slot->node);
	slot->job = NULL;
	WRITE_ONCE(eng->nr_inflight, eng->nr_inflight - 1);
	WRITE_ONCE(eng->inflight_macs, eng->inflight_macs - job->cost);
	if (was_head && !list_empty(&eng->inflight)) {
		struct nuq_npu_slot *next = list_first_entry(&eng->inflight, struct nuq_npu_slot,
							     node);

		/* Its timeout counts from now (nuq_job_should_stop()). */
		next->t_head = now;
		WRITE_ONCE(next->job->started, now);
	}
	eng->progress_time = now;
	nuq_npu_unmap_job(eng->npu, slot);
	slot->job_id = 0;
	return job;
}

/*
 * What a job's CQE status means to its waiters.  *@garbage is set for a
 * status the spec does not know.
 */
static int nuq_npu_cqe_status(struct nuq_npu *npu, struct nuq_npu_slot *slot, u32 status,
			      bool *garbage)
{
	int abort = atomic_read(&slot->job->abort);

	switch (status) {
	case NUQ_NPU_JOB_OK:
		/* Like the software device: a job asked to stop ends so. */
		return abort;
	case NUQ_NPU_JOB_INVALID:
		return -EINVAL;
	case NUQ_NPU_JOB_MMU_FAULT:
		atomic64_inc(&npu->cnt.mmu_faults);
		return -EFAULT;
	case NUQ_NPU_JOB_DEVICE_ERROR:
		atomic64_inc(&npu->cnt.device_errors);
		return -EIO;
	case NUQ_NPU_JOB_ABORTED:
		if (abort)
			return abort;
		/* An abort nobody asked for. */
		atomic64_inc(&npu->cnt.device_errors);
		return -EIO;
	default:
		atomic64_inc(&npu->cnt.device_errors);
		*garbage = true;
		return -EIO;
	}
}

static void nuq_npu_account(struct nuq_npu_engine *eng, struct nuq_npu_slot *slot,
			    const struct nuq_npu_cqe *cqe, ktime_t seen)
{
	u64 wait = le64_to_cpu(cqe->wait_ns), exec = le64_to_cpu(cqe->exec_ns);
	s64 to_irq = ktime_to_ns(ktime_sub(seen, slot->t_doorbell));
	struct nuq_npu_lat *lat = &eng->lat;

	eng->completed++;
	if (wait > NUQ_NPU_MAX_SANE_NS || exec > NUQ_NPU_MAX_SANE_NS)
		return;
	lat->count++;
	lat->queue_ns += max_t(s64, 0, ktime_to_ns(ktime_sub(slot->t_doorbell,
							     slot->job->queued)));
	lat->wait_ns += wait;
	lat->exec_ns += exec;
	/* The device's clock is not ours: never below zero. */
	lat->irq_ns += max_t(s64, 0, to_irq - (s64)(wait + exec));
}

/*
 * One pass over @eng's CQ: up to NUQ_NPU_DRAIN_BATCH jobs taken into @done
 * with their statuses.  Returns how many; sets *@more if the CQ has more,
 * *@garbage if the device wrote something impossible.
 */
static unsigned int nuq_npu_drain_batch(struct nuq_npu_engine *eng, struct nuq_job **done,
					int *status, bool *more, bool *garbage)
{
	struct nuq_npu *npu = eng->npu;
	ktime_t seen = ktime_get();
	unsigned int n = 0;
	u32 tail, avail;

	*more = false;
	spin_lock(&eng->lock);
	if (eng->resetting)
		goto out;
	eng->t_seen = seen;
	tail = nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_CQ_TAIL);
	avail = tail - eng->cq_head;
	if (avail > npu->ring_entries) {
		if (!nuq_npu_check_gone(npu))
			atomic64_inc(&npu->cnt.device_errors);
		*garbage = true;
		goto out;
	}
	while (eng->cq_head != tail && n < NUQ_NPU_DRAIN_BATCH) {
		struct nuq_npu_cqe cqe;
		struct nuq_npu_slot *slot;

		/* The entry after the index that published it. */
		rmb();
		memcpy_fromio(&cqe, eng->cq + (eng->cq_head & (npu->ring_entries - 1)) *
			      sizeof(cqe), sizeof(cqe));
		eng->cq_head++;
		slot = nuq_npu_lookup(eng, le64_to_cpu(cqe.job_id));
		if (!slot) {
			atomic64_inc(&npu->cnt.device_errors);
			*garbage = true;
			continue;
		}
		status[n] = nuq_npu_cqe_status(npu, slot, le32_to_cpu(cqe.status), garbage);
		if (!status[n])
			nuq_npu_account(eng, slot, &cqe, seen);
		done[n++] = nuq_npu_take_slot(eng, slot, seen);
	}
	nuq_npu_eng_wr32(eng, NUQ_NPU_ENG_CQ_HEAD, eng->cq_head);
	*more = eng->cq_head != tail;
out:
	spin_unlock(&eng->lock);
	return n;
}

/*
 * Consume every completion of @eng and end the jobs.  Returns the number
 * of jobs ended, or -EIO if the device wrote garbage (a reset is then
 * scheduled; the rest of that CQ is not trusted).
 */
int nuq_npu_drain(struct nuq_npu_engine *eng)
{
	struct nuq_job *done[NUQ_NPU_DRAIN_BATCH];
	int status[NUQ_NPU_DRAIN_BATCH];
	struct nuq_npu *npu = eng->npu;
	bool more, garbage = false, ok = false;
	unsigned int i, n, ok_now;
	int total = 0;

	do {
		n = nuq_npu_drain_batch(eng, done, status, &more, &garbage);
		for (i = 0, ok_now = 0; i < n; i++) {
			ok_now += !status[i];
			nuq_job_complete(done[i], status[i]);
		}
		/* Statistics only: a racing drain may lose an addition. */
		if (ok_now)
			eng->lat.complete_ns += ok_now * ktime_to_ns(ktime_sub(ktime_get(),
									 eng->t_seen));
		ok |= ok_now;
		total += n;
		/* Re-check: a completion may have landed after the tail was read. */
		if (!more && !garbage && !READ_ONCE(npu->gone) && !READ_ONCE(eng->resetting)) {
			/*
			 * CQ_HEAD (stored) before CQ_TAIL (loaded), as the
			 * device fences its CQ_TAIL store before its CQ_HEAD
			 * load: with CTRL_IRQ_SUPPRESS a completion the device
			 * did not signal is one this re-read sees (npu.rst).
			 */
			mb();
			more = nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_CQ_TAIL) !=
			       READ_ONCE(eng->cq_head);
		}
	} while (more && !garbage);

	if (ok) {
		/* A job succeeded: the last reset, if any, worked. */
		WRITE_ONCE(npu->reset_unproven, false);
		WRITE_ONCE(npu->failed_resets, 0);
	}
	if (garbage) {
		set_bit(0, &npu->garbage);
		nuq_npu_watchdog_now(npu);
		return -EIO;
	}
	return total;
}

/* Drain every engine; the watchdog counts what interrupts missed. */
void nuq_npu_drain_all(struct nuq_npu *npu, bool from_watchdog)
{
	unsigned int e;
	int n;

	for (e = 0; e < npu->num_engines; e++) {
		n = nuq_npu_drain(&npu->engines[e]);
		if (from_watchdog && n > 0 && npu->nr_vectors)
			atomic64_add(n, &npu->cnt.lost_irqs);
	}
}
