// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * One job, start to CQE: re-validate the descriptor (the device trusts
 * nothing the driver wrote), translate every tensor, gather the inputs
 * into host buffers, run in bands, and scatter only the output back.  All
 * translation happens before any data moves, write permission included,
 * so a faulting job writes nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "nuq_conv.h"

struct job_bufs {
	struct emu_xlate x[NUQ_T_COUNT];
	uint8_t *buf[NUQ_T_COUNT];
};

static void bufs_free(struct job_bufs *b)
{
	int i;

	for (i = 0; i < NUQ_T_COUNT; i++) {
		emu_xlate_free(&b->x[i]);
		free(b->buf[i]);
	}
}

static void set_status(struct nuq_npu_cqe *cqe, uint32_t status, uint32_t detail)
{
	cqe->status = status;
	cqe->detail = detail;
}

/* A translation fault: counted, signalled on the control vector. */
static void mmu_fault(struct emu_dev *dev, struct nuq_npu_cqe *cqe, int kind, uint64_t va)
{
	set_status(cqe, NUQ_NPU_JOB_MMU_FAULT, (uint32_t)kind);
	cqe->fault_va = va;
	pthread_mutex_lock(&dev->reg_lock);
	emu_wr32(dev, NUQ_NPU_REG_MMU_FAULTS, ++dev->mmu_faults);
	pthread_mutex_unlock(&dev->reg_lock);
	emu_event(dev);
}

/* The output last: reads first, then the one writable range. */
static const int slot_order[NUQ_T_COUNT] = {
	NUQ_T_INPUT, NUQ_T_WEIGHTS, NUQ_T_CODEBOOK, NUQ_T_BIAS, NUQ_T_REQUANT, NUQ_T_RESIDUAL,
	NUQ_T_OUTPUT,
};

/* 0, a NUQ_NPU_FAULT_* with *va, or -errno. */
static int map_tensors(struct emu_dev *dev, const struct nuq_npu_sqe *sqe,
		       const struct nuq_conv_plan *plan, struct job_bufs *b, uint64_t *va)
{
	int k, ret;

	for (k = 0; k < NUQ_T_COUNT; k++) {
		int i = slot_order[k], out = i == NUQ_T_OUTPUT;
		uint64_t start;

		if (!plan->bytes[i] || !sqe->job.tensors[i].handle)
			continue;
		if (__builtin_add_overflow(sqe->va[i], sqe->job.tensors[i].offset, &start)) {
			*va = sqe->va[i];
			return out ? NUQ_NPU_FAULT_WRITE : NUQ_NPU_FAULT_READ;
		}
		ret = emu_mmu_translate(&dev->ram, sqe->pt_root, start, plan->bytes[i], out,
					&b->x[i], va);
		if (ret)
			return ret;
		b->buf[i] = malloc(plan->bytes[i]);
		if (!b->buf[i])
			return -ENOMEM;
		if (!out)
			emu_xlate_gather(&b->x[i], b->buf[i]);
	}
	return 0;
}

static int sqe_reserved_clear(const struct nuq_npu_sqe *sqe)
{
	size_t i;

	if (sqe->flags || sqe->rsvd0)
		return 0;
	for (i = 0; i < sizeof(sqe->rsvd1); i++)
		if (sqe->rsvd1[i])
			return 0;
	return 1;
}

enum emu_check emu_exec_job(struct emu_engine *eng, const struct nuq_npu_sqe *sqe,
			    struct nuq_npu_cqe *cqe, emu_band_cb cb, void *arg)
{
	struct emu_dev *dev = eng->dev;
	struct emu_band_run run = { 0 };
	struct job_bufs b = { 0 };
	struct nuq_conv_plan plan;
	__u64 bo[NUQ_T_COUNT];
	uint64_t va = 0;
	int i, ret;

	memset(cqe, 0, sizeof(*cqe));
	cqe->job_id = sqe->job_id;
	if (emu_fault_take(dev, &dev->faults.eng[eng->idx].fail)) {
		emu_log("fault: engine %u fails job %#llx", eng->idx, (unsigned long long)sqe->job_id);
		set_status(cqe, NUQ_NPU_JOB_DEVICE_ERROR, 0);
		return EMU_GO;
	}
	if (!sqe_reserved_clear(sqe)) {
		set_status(cqe, NUQ_NPU_JOB_INVALID, NUQ_JOB_E_RESERVED);
		return EMU_GO;
	}
	for (i = 0; i < NUQ_T_COUNT; i++)
		bo[i] = sqe->job.tensors[i].handle ? sqe->size[i] : 0;
	ret = nuq_conv_validate(&sqe->job, bo, &plan);
	if (ret) {
		set_status(cqe, NUQ_NPU_JOB_INVALID, (uint32_t)-ret);
		return EMU_GO;
	}
	for (i = 0; i < NUQ_T_COUNT; i++)
		if (plan.bytes[i] > dev->ram.size)
			ret = 1;	/* cannot be distinct guest pages; refuse to allocate it */
	if (ret || plan.macs > EMU_MAX_JOB_MACS) {
		emu_log("engine %u: job %#llx exceeds the device's limits", eng->idx,
			(unsigned long long)sqe->job_id);
		set_status(cqe, NUQ_NPU_JOB_DEVICE_ERROR, 0);
		return EMU_GO;
	}
	if (emu_fault_take(dev, &dev->faults.eng[eng->idx].mmu_fault)) {
		emu_log("fault: engine %u: job %#llx faults on its input", eng->idx,
			(unsigned long long)sqe->job_id);
		mmu_fault(dev, cqe, NUQ_NPU_FAULT_READ,
			  sqe->va[NUQ_T_INPUT] + sqe->job.tensors[NUQ_T_INPUT].offset);
		return EMU_GO;
	}
	ret = map_tensors(dev, sqe, &plan, &b, &va);
	if (ret > 0) {
		mmu_fault(dev, cqe, ret, va);
		goto out;
	}
	if (ret < 0) {
		set_status(cqe, NUQ_NPU_JOB_DEVICE_ERROR, 0);
		goto out;
	}

	run.job = &sqe->job;
	for (i = 0; i < NUQ_T_COUNT; i++) {
		run.t[i] = b.buf[i];
		run.sz[i] = b.buf[i] ? plan.bytes[i] : 0;
	}
	run.macs = plan.macs;
	run.tiles = plan.tiles;
	run.row_tiles = plan.row_tiles;
	run.band_macs = dev->cfg.band_macs;
	run.cb = cb;
	run.arg = arg;
	/* The callback at 0 tiles: a hang, stall or abort before the first band. */
	run.stop = cb ? cb(arg, 0, plan.tiles) : EMU_GO;
	ret = run.stop == EMU_GO ? emu_run_bands(&run) : 0;
	cqe->tiles = run.tiles_done;
	__atomic_add_fetch(&dev->stats.row_bands, run.row_bands, __ATOMIC_RELAXED);
	__atomic_add_fetch(&dev->stats.image_bands, run.image_bands, __ATOMIC_RELAXED);
	__atomic_add_fetch(&dev->stats.tile_bands, run.tile_bands, __ATOMIC_RELAXED);
	/* Tiles of a row may differ in size: exact when done, else in proportion. */
	cqe->macs = run.tiles_done >= plan.tiles ? plan.macs : plan.tiles ?
		    (uint64_t)((unsigned __int128)plan.macs * run.tiles_done / plan.tiles) : 0;
	if (ret < 0)
		set_status(cqe, NUQ_NPU_JOB_INVALID, (uint32_t)-ret);
	else if (ret > 0)
		set_status(cqe, NUQ_NPU_JOB_DEVICE_ERROR, 0);
	else if (run.stop == EMU_ABANDON) {
		bufs_free(&b);
		return EMU_ABANDON;
	} else if (run.stop == EMU_ABORT && run.tiles_done < plan.tiles)
		set_status(cqe, NUQ_NPU_JOB_ABORTED, 0);
	else
		emu_xlate_scatter(&b.x[NUQ_T_OUTPUT], b.buf[NUQ_T_OUTPUT]);
out:
	bufs_free(&b);
	return EMU_GO;
}
