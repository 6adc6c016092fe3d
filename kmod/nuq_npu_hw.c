// SPDX-License-Identifier: GPL-2.0
/*
 * nuq NPU: register access, the doorbell, identification and the reset
 * handshakes (Documentation/npu.rst, kmod/hw/nuq_npu_regs.h).
 *
 * BAR2 is memory shared with the device, but it is accessed as MMIO
 * (readl/writel), so that the accesses are neither merged nor reordered.
 * Every value read is untrusted: callers range-check what they use.  Once
 * the device is gone (npu->gone) no access reaches the BARs: reads return
 * all ones, as a removed PCI function would, and writes are dropped.
 */

#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/pci.h>

#include "nuq_drv.h"
#include "nuq_npu.h"

u32 nuq_npu_rd32(struct nuq_npu *npu, u32 off)
{
	if (READ_ONCE(npu->gone))
		return ~0u;
	return readl(npu->bar2 + off);
}

/* Low word first; re-read until the high word is stable (no torn value). */
static u64 nuq_npu_rd64_at(struct nuq_npu *npu, void __iomem *p)
{
	u32 hi, lo, hi2;
	int tries = 3;

	if (READ_ONCE(npu->gone))
		return ~0ull;
	do {
		hi = readl(p + 4);
		lo = readl(p);
		hi2 = readl(p + 4);
	} while (hi != hi2 && --tries);
	return ((u64)hi2 << 32) | lo;
}

u64 nuq_npu_rd64(struct nuq_npu *npu, u32 off)
{
	return nuq_npu_rd64_at(npu, npu->bar2 + off);
}

void nuq_npu_wr32(struct nuq_npu *npu, u32 off, u32 val)
{
	if (!READ_ONCE(npu->gone))
		writel(val, npu->bar2 + off);
}

void nuq_npu_wr64(struct nuq_npu *npu, u32 off, u64 val)
{
	nuq_npu_wr32(npu, off, lower_32_bits(val));
	nuq_npu_wr32(npu, off + 4, upper_32_bits(val));
}

u32 nuq_npu_eng_rd32(struct nuq_npu_engine *eng, u32 off)
{
	return nuq_npu_rd32(eng->npu, NUQ_NPU_ENGINE(eng->index) + off);
}

u64 nuq_npu_eng_rd64(struct nuq_npu_engine *eng, u32 off)
{
	return nuq_npu_rd64(eng->npu, NUQ_NPU_ENGINE(eng->index) + off);
}

void nuq_npu_eng_wr32(struct nuq_npu_engine *eng, u32 off, u32 val)
{
	nuq_npu_wr32(eng->npu, NUQ_NPU_ENGINE(eng->index) + off, val);
}

void nuq_npu_eng_wr64(struct nuq_npu_engine *eng, u32 off, u64 val)
{
	nuq_npu_wr64(eng->npu, NUQ_NPU_ENGINE(eng->index) + off, val);
}

/* Publish what was written before (wmb), then signal doorbell @vector. */
void nuq_npu_doorbell(struct nuq_npu *npu, unsigned int vector)
{
	if (READ_ONCE(npu->gone))
		return;
	/* Ring and register writes before the doorbell that publishes them. */
	wmb();
	writel((npu->peer << 16) | vector, npu->bar0 + NUQ_IVSHMEM_DOORBELL);
}

/*
 * A removed function reads as all ones.  Once seen, the device is gone
 * for good: nothing may touch the BARs again.
 */
bool nuq_npu_check_gone(struct nuq_npu *npu)
{
	if (READ_ONCE(npu->gone))
		return true;
	if (pci_dev_is_disconnected(npu->pdev) ||
	    readl(npu->bar2 + NUQ_NPU_REG_MAGIC) == ~0u) {
		WRITE_ONCE(npu->gone, true);
		dev_warn(&npu->pdev->dev, "device is gone\n");
		return true;
	}
	return false;
}

/*
 * Wait until @cond (re-evaluated, reads registers) holds, up to @ms.
 * Sleeps: callers hold no spinlock.  False on timeout or a gone device.
 */
#define nuq_npu_wait(npu, cond, ms) ({					\
	unsigned long end_ = jiffies + msecs_to_jiffies(ms) + 1;	\
	bool ok_;							\
									\
	for (;;) {							\
		ok_ = (cond);						\
		if (ok_ || nuq_npu_check_gone(npu) ||			\
		    time_after(jiffies, end_))				\
			break;						\
		usleep_range(200, 500);					\
	}								\
	ok_;								\
})

/* How long the device says a reset may take, within sane bounds. */
static unsigned int nuq_npu_reset_ms(struct nuq_npu *npu)
{
	return clamp_t(u32, npu->reset_time_ms, 10, 30000);
}

/* Slack on top of RESET_TIME_MS for scheduling of the emulator's threads. */
#define NUQ_NPU_RESET_SLACK_MS	100
/* How long a device that just appeared may take to set READY. */
#define NUQ_NPU_READY_MS	5000

/*
 * Read and check the identification registers.  -ENODEV (quietly) if this
 * is not an NPU at all, -EINVAL (loudly) if it is one we cannot drive.
 */
int nuq_npu_hw_identify(struct nuq_npu *npu)
{
	struct device *dev = &npu->pdev->dev;
	u32 version, e;

	if (nuq_npu_rd32(npu, NUQ_NPU_REG_MAGIC) != NUQ_NPU_MAGIC)
		return -ENODEV;
	version = nuq_npu_rd32(npu, NUQ_NPU_REG_VERSION);
	if (version >> 16 != NUQ_NPU_VERSION_MAJOR)
		return -ENODEV;
	if (npu->bar2_size < NUQ_NPU_BAR2_MIN_SIZE) {
		dev_err(dev, "BAR2 of %pa bytes is too small\n", &npu->bar2_size);
		return -EINVAL;
	}
	if (!nuq_npu_wait(npu, nuq_npu_rd32(npu, NUQ_NPU_REG_STATUS) & NUQ_NPU_STATUS_READY,
			  NUQ_NPU_READY_MS)) {
		dev_err(dev, "device never became ready\n");
		return -ETIMEDOUT;
	}

	npu->caps = nuq_npu_rd32(npu, NUQ_NPU_REG_CAPS);
	npu->num_engines = nuq_npu_rd32(npu, NUQ_NPU_REG_NUM_ENGINES);
	npu->ring_entries = nuq_npu_rd32(npu, NUQ_NPU_REG_RING_ENTRIES);
	/* Only what both the device and this driver's UAPI know. */
	npu->weight_formats = nuq_npu_rd32(npu, NUQ_NPU_REG_WEIGHT_FORMATS) &
			      (BIT(NUQ_WFMT_INT8) | BIT(NUQ_WFMT_CODEBOOK) | BIT(NUQ_WFMT_ASD));
	npu->weight_bits = nuq_npu_rd32(npu, NUQ_NPU_REG_WEIGHT_BITS) & GENMASK(8, 1);
	npu->act_formats = nuq_npu_rd32(npu, NUQ_NPU_REG_ACT_FORMATS) &
			   (BIT(NUQ_AFMT_INT8) | BIT(NUQ_AFMT_UINT8));
	npu->max_job_macs = nuq_npu_rd64(npu, NUQ_NPU_REG_MAX_JOB_MACS);
	npu->peer = nuq_npu_rd32(npu, NUQ_NPU_REG_DEVICE_PEER);
	npu->reset_time_ms = nuq_npu_rd32(npu, NUQ_NPU_REG_RESET_TIME_MS);
	npu->heartbeat_us = nuq_npu_rd32(npu, NUQ_NPU_REG_HEARTBEAT_US);
	npu->reset_seq = nuq_npu_rd32(npu, NUQ_NPU_REG_RESET_REQ);

	if (!(npu->caps & NUQ_NPU_CAP_MMU) || npu->num_engines < 1 ||
	    npu->num_engines > NUQ_NPU_MAX_ENGINES || npu->ring_entries < 2 ||
	    npu->ring_entries > NUQ_NPU_MAX_RING || !is_power_of_2(npu->ring_entries) ||
	    npu->peer > 0xffff || nuq_npu_rd32(npu, NUQ_NPU_REG_VA_BITS) != NUQ_NPU_VA_BITS) {
		dev_err(dev, "unsupported NPU: caps %#x, %u engines, %u ring entries\n",
			npu->caps, npu->num_engines, npu->ring_entries);
		return -EINVAL;
	}

	/* The rings must lie in BAR2, above the register pages. */
	for (e = 0; e < npu->num_engines; e++) {
		u64 min = NUQ_NPU_ENGINE(npu->num_engines);
		u64 sq = nuq_npu_rd32(npu, NUQ_NPU_ENGINE(e) + NUQ_NPU_ENG_SQ_OFFSET);
		u64 cq = nuq_npu_rd32(npu, NUQ_NPU_ENGINE(e) + NUQ_NPU_ENG_CQ_OFFSET);
		u64 sq_end = sq + (u64)npu->ring_entries * sizeof(struct nuq_npu_sqe);
		u64 cq_end = cq + (u64)npu->ring_entries * sizeof(struct nuq_npu_cqe);

		if (sq < min || cq < min || !IS_ALIGNED(sq, 8) || !IS_ALIGNED(cq, 8) ||
		    sq_end > npu->bar2_size || cq_end > npu->bar2_size ||
		    (sq < cq_end && cq < sq_end)) {
			dev_err(dev, "engine %u: rings at %#llx/%#llx outside BAR2\n", e, sq, cq);
			return -EINVAL;
		}
		npu->engines[e].sq = npu->bar2 + sq;
		npu->engines[e].cq = npu->bar2 + cq;
	}
	dev_info(dev, "NPU %u.%u: %u engines, %u ring entries, caps %#x\n",
		 version >> 16, version & 0xffff, npu->num_engines, npu->ring_entries, npu->caps);
	return 0;
}

void nuq_npu_hw_enable(struct nuq_npu *npu, bool enable)
{
	u32 ctrl = 0;

	if (enable)
		ctrl = NUQ_NPU_CTRL_ENABLE | (npu->nr_vectors ? NUQ_NPU_CTRL_IRQ : 0);
	/* nuq_npu_drain() fences and re-reads CQ_TAIL as suppression needs. */
	if ((ctrl & NUQ_NPU_CTRL_IRQ) && (npu->caps & NUQ_NPU_CAP_NOTIFY_SUPPRESS))
		ctrl |= NUQ_NPU_CTRL_IRQ_SUPPRESS;
	nuq_npu_wr32(npu, NUQ_NPU_REG_CTRL, ctrl);
	nuq_npu_doorbell(npu, NUQ_NPU_VEC_CTRL(npu->num_engines));
}

/*
 * Reset the whole device and wait for RESET_DONE and READY.  The device
 * drops every submission and running job; completions written before it
 * acknowledged stay in the CQs.  The caller stops submitting first.
 */
int nuq_npu_hw_reset(struct nuq_npu *npu)
{
	unsigned int ms = nuq_npu_reset_ms(npu) + NUQ_NPU_RESET_SLACK_MS;
	u32 n;

	if (nuq_npu_check_gone(npu))
		return -ENODEV;
	/* Never the value RESET_DONE already has, or it would look finished. */
	n = npu->reset_seq + 1;
	if (n == nuq_npu_rd32(npu, NUQ_NPU_REG_RESET_DONE))
		n++;
	npu->reset_seq = n;
	nuq_npu_wr32(npu, NUQ_NPU_REG_RESET_REQ, n);
	nuq_npu_doorbell(npu, NUQ_NPU_VEC_CTRL(npu->num_engines));

	if (!nuq_npu_wait(npu, nuq_npu_rd32(npu, NUQ_NPU_REG_RESET_DONE) == n, ms) ||
	    !nuq_npu_wait(npu, (nuq_npu_rd32(npu, NUQ_NPU_REG_STATUS) &
				(NUQ_NPU_STATUS_READY | NUQ_NPU_STATUS_HALTED |
				 NUQ_NPU_STATUS_RESETTING)) == NUQ_NPU_STATUS_READY,
			  NUQ_NPU_RESET_SLACK_MS))
		return nuq_npu_check_gone(npu) ? -ENODEV : -ETIMEDOUT;
	return 0;
}

/* Reset one engine; like the device reset, for its rings only. */
int nuq_npu_hw_engine_reset(struct nuq_npu_engine *eng)
{
	struct nuq_npu *npu = eng->npu;
	unsigned int ms = nuq_npu_reset_ms(npu) + NUQ_NPU_RESET_SLACK_MS;
	u32 n;

	if (nuq_npu_check_gone(npu))
		return -ENODEV;
	n = eng->reset_seq + 1;
	if (n == nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_RESET_DONE))
		n++;
	eng->reset_seq = n;
	nuq_npu_eng_wr32(eng, NUQ_NPU_ENG_RESET_REQ, n);
	nuq_npu_doorbell(npu, NUQ_NPU_VEC_CTRL(npu->num_engines));

	if (!nuq_npu_wait(npu, nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_RESET_DONE) == n, ms))
		return nuq_npu_check_gone(npu) ? -ENODEV : -ETIMEDOUT;
	return 0;
}

/*
 * Take the ring indices the driver owns from the device's after a reset
 * of unknown history (probe): the driver's SQ_TAIL continues from the
 * device's SQ_HEAD, and every completion already posted is skipped.
 */
void nuq_npu_ring_resync(struct nuq_npu_engine *eng)
{
	eng->sq_tail = nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_SQ_HEAD);
	eng->cq_head = nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_CQ_TAIL);
	nuq_npu_eng_wr32(eng, NUQ_NPU_ENG_SQ_TAIL, eng->sq_tail);
	nuq_npu_eng_wr32(eng, NUQ_NPU_ENG_CQ_HEAD, eng->cq_head);
	/* Requests continue from the last ones written, so each is new. */
	eng->abort_seq = nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_ABORT_REQ);
	eng->reset_seq = nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_RESET_REQ);
	eng->progress = nuq_npu_eng_rd32(eng, NUQ_NPU_ENG_PROGRESS);
}
