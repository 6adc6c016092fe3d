// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * One SQ entry on an engine: copy it out of BAR2 once (the driver could
 * rewrite the slot; we must not read it twice), publish CUR_JOB and STATE,
 * run it with a band callback that reports progress and honours aborts,
 * resets and injected hangs/stalls, then complete it.
 */
#include <string.h>

#include "engine.h"
#include "nuq_conv.h"

#define SLICE_NS	1000000ull	/* sleeps are cut so aborts and resets stay quick */

void emu_check_abort(struct emu_engine *eng, struct emu_job_ctx *ctx)
{
	uint32_t req = emu_erd32(eng, NUQ_NPU_ENG_ABORT_REQ);
	uint64_t id;

	if (req == eng->abort_seen)
		return;
	/* ABORT_JOB was written before ABORT_REQ published it. */
	id = emu_rd64(eng->dev, NUQ_NPU_ENGINE(eng->idx) + NUQ_NPU_ENG_ABORT_JOB);
	eng->abort_seen = req;
	if (ctx && id == ctx->job_id && !ctx->aborted) {
		/* Acknowledged once the ABORTED CQE is posted. */
		emu_log("engine %u: aborting job %#llx", eng->idx, (unsigned long long)id);
		__atomic_add_fetch(&eng->dev->stats.aborts, 1, __ATOMIC_RELAXED);
		ctx->aborted = 1;
		ctx->abort_ack = req;
		return;
	}
	/* Not running here (queued, finished or unknown): nothing to stop. */
	emu_ewr32(eng, NUQ_NPU_ENG_ABORT_ACK, req);
	emu_event(eng->dev);
}

/* Sleep @ns in slices; ABANDON on a park request, ABORT on an abort of the job. */
static enum emu_check job_sleep(struct emu_job_ctx *ctx, uint64_t ns)
{
	uint64_t end = emu_now_ns() + ns, now;

	while ((now = emu_now_ns()) < end) {
		if (emu_park_wanted(ctx->eng))
			return EMU_ABANDON;
		emu_check_abort(ctx->eng, ctx);
		if (ctx->aborted)
			return EMU_ABORT;
		/* Submissions arriving meanwhile start their wait_ns now. */
		emu_observe_tail(ctx->eng, now);
		emu_sleep_ns(end - now < SLICE_NS ? end - now : SLICE_NS);
	}
	return EMU_GO;
}

static void add_progress(struct emu_engine *eng, uint32_t tiles)
{
	eng->progress += tiles;
	emu_ewr32(eng, NUQ_NPU_ENG_PROGRESS, eng->progress);
	eng->perf_tiles += tiles;
	emu_ewr64(eng, NUQ_NPU_ENG_PERF_TILES, eng->perf_tiles);
	__atomic_add_fetch(&eng->dev->stats.tiles, tiles, __ATOMIC_RELAXED);
}

/* A hung engine makes no progress and answers nothing but a reset. */
static enum emu_check hang(struct emu_job_ctx *ctx)
{
	struct emu_engine *eng = ctx->eng;

	if (!ctx->hang_logged)
		emu_log("fault: engine %u hangs in job %#llx", eng->idx,
			(unsigned long long)ctx->job_id);
	ctx->hang_logged = 1;
	while (!emu_park_wanted(eng))
		emu_sleep_ns(SLICE_NS);
	return EMU_ABANDON;
}

static enum emu_check band_cb(void *arg, uint32_t done, uint32_t tiles)
{
	struct emu_job_ctx *ctx = arg;
	struct emu_engine *eng = ctx->eng;
	struct emu_eng_faults *f = &eng->dev->faults.eng[eng->idx];
	enum emu_check r;
	uint64_t stall, target, spent;

	if (done != ctx->last_done)
		add_progress(eng, done - ctx->last_done);
	ctx->last_done = done;
	emu_observe_tail(eng, emu_now_ns());
	if (__atomic_load_n(&f->hang, __ATOMIC_ACQUIRE))
		return hang(ctx);
	stall = __atomic_exchange_n(&f->stall_ms, 0, __ATOMIC_ACQ_REL);
	if (stall) {
		emu_log("fault: engine %u stalls %llu ms in job %#llx", eng->idx,
			(unsigned long long)stall, (unsigned long long)ctx->job_id);
		r = job_sleep(ctx, stall * 1000000ull);
		if (r != EMU_GO)
			return r;
	}
	if (emu_park_wanted(eng))
		return EMU_ABANDON;
	emu_check_abort(eng, ctx);
	if (ctx->aborted)
		return EMU_ABORT;
	/* Timing model: be no faster than tiles_done / tiles of the modelled time. */
	if (ctx->model_ns && tiles) {
		target = (uint64_t)((double)ctx->model_ns * done / tiles);
		spent = emu_now_ns() - ctx->start_ns;
		if (spent < target)
			return job_sleep(ctx, target - spent);
	}
	return EMU_GO;
}

/* The timing model's time for a job (0 when the model is off or the job is invalid). */
static uint64_t model_time(const struct emu_dev *dev, const struct nuq_npu_sqe *sqe)
{
	const struct emu_config *cfg = &dev->cfg;
	struct nuq_conv_plan plan;
	__u64 bo[NUQ_T_COUNT];
	uint64_t bytes = 0;
	int i;

	if (!cfg->mac_rate && !cfg->bandwidth && !cfg->job_latency_ns)
		return 0;
	for (i = 0; i < NUQ_T_COUNT; i++)
		bo[i] = sqe->job.tensors[i].handle ? sqe->size[i] : 0;
	if (nuq_conv_validate(&sqe->job, bo, &plan))
		return cfg->job_latency_ns;
	for (i = 0; i < NUQ_T_COUNT; i++)
		bytes += plan.bytes[i];
	return emu_model_ns(cfg, plan.macs, bytes);
}

static void count_status(struct emu_stats *s, uint32_t status)
{
	uint64_t *c = status == NUQ_NPU_JOB_OK ? &s->jobs_ok :
		      status == NUQ_NPU_JOB_INVALID ? &s->jobs_invalid :
		      status == NUQ_NPU_JOB_MMU_FAULT ? &s->jobs_mmu_fault :
		      status == NUQ_NPU_JOB_ABORTED ? &s->jobs_aborted : &s->jobs_device_error;

	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->jobs, 1, __ATOMIC_RELAXED);
}

void emu_run_one(struct emu_engine *eng)
{
	struct emu_dev *dev = eng->dev;
	uint32_t n = dev->cfg.ring_entries, slot = eng->sq_head % n;
	struct emu_job_ctx ctx = { .eng = eng };
	struct nuq_npu_sqe sqe;
	struct nuq_npu_cqe cqe;
	enum emu_check r;
	uint64_t end;

	memcpy(&sqe, dev->bar2 + dev->sq_off[eng->idx] + (size_t)slot * EMU_SQE_SIZE, sizeof(sqe));
	ctx.job_id = sqe.job_id;
	ctx.start_ns = emu_now_ns();
	ctx.model_ns = model_time(dev, &sqe);
	eng->cur_job = sqe.job_id;
	emu_ewr64(eng, NUQ_NPU_ENG_CUR_JOB, sqe.job_id);
	emu_ewr32(eng, NUQ_NPU_ENG_STATE, NUQ_NPU_ENG_STATE_RUNNING);

	r = emu_exec_job(eng, &sqe, &cqe, band_cb, &ctx);
	if (r == EMU_ABANDON) {
		/* A reset took the job: no completion; the reset sets SQ_HEAD. */
		__atomic_add_fetch(&dev->stats.jobs_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	/* Jobs that never reached a band (invalid, faulted) still take the latency. */
	if (ctx.model_ns && !ctx.last_done && job_sleep(&ctx, dev->cfg.job_latency_ns) ==
	    EMU_ABANDON) {
		__atomic_add_fetch(&dev->stats.jobs_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	end = emu_now_ns();
	cqe.wait_ns = ctx.start_ns > eng->seen_ns[slot] ? ctx.start_ns - eng->seen_ns[slot] : 0;
	cqe.exec_ns = end - ctx.start_ns;
	count_status(&dev->stats, cqe.status);
	__atomic_add_fetch(&dev->stats.macs, cqe.macs, __ATOMIC_RELAXED);
	if (!emu_post_cqe(eng, &cqe)) {
		__atomic_add_fetch(&dev->stats.jobs_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	emu_ewr32(eng, NUQ_NPU_ENG_SQ_HEAD, ++eng->sq_head);
	eng->perf_jobs++;
	eng->perf_macs += cqe.macs;
	eng->perf_busy_ns += cqe.exec_ns;
	emu_ewr64(eng, NUQ_NPU_ENG_PERF_JOBS, eng->perf_jobs);
	emu_ewr64(eng, NUQ_NPU_ENG_PERF_MACS, eng->perf_macs);
	emu_ewr64(eng, NUQ_NPU_ENG_PERF_BUSY_NS, eng->perf_busy_ns);
	eng->cur_job = 0;
	emu_ewr64(eng, NUQ_NPU_ENG_CUR_JOB, 0);
	emu_ewr32(eng, NUQ_NPU_ENG_STATE, NUQ_NPU_ENG_STATE_IDLE);
	emu_cq_notify(eng);
	if (ctx.aborted) {
		emu_ewr32(eng, NUQ_NPU_ENG_ABORT_ACK, ctx.abort_ack);
		emu_event(dev);
	}
}
