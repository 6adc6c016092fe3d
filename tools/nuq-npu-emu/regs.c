// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The register file in BAR2.  Every word has one writer (nuq_npu_regs.h):
 * the emulator only ever stores to DEV words, and emu_wr32() refuses
 * anything else, so a slip cannot silently race the driver.  Index
 * registers are loaded with acquire and stored with release: a CQE is
 * visible before the CQ_TAIL that publishes it, and an SQE written by the
 * driver is visible once we have seen its SQ_TAIL.
 */
#include <stdlib.h>
#include <unistd.h>

#include "emu.h"

int emu_layout(unsigned int engines, unsigned int entries, uint32_t *sq_off, uint32_t *cq_off,
	       size_t *bar2_size)
{
	uint64_t sq_bytes = (uint64_t)entries * EMU_SQE_SIZE, cq_bytes = (uint64_t)entries * EMU_CQE_SIZE;
	uint64_t cq_base, end, size = NUQ_NPU_BAR2_MIN_SIZE;
	unsigned int e;

	if (engines < 1 || engines > NUQ_NPU_MAX_ENGINES || entries < 2 || entries > 1024 ||
	    (entries & (entries - 1)))
		return -1;
	/* SQs from 64 KiB (past the register pages), then the CQs, page aligned. */
	cq_base = EMU_SQ_BASE + engines * sq_bytes;
	cq_base = (cq_base + NUQ_NPU_PAGE_SIZE - 1) & ~(uint64_t)(NUQ_NPU_PAGE_SIZE - 1);
	for (e = 0; e < engines; e++) {
		sq_off[e] = (uint32_t)(EMU_SQ_BASE + e * sq_bytes);
		cq_off[e] = (uint32_t)(cq_base + e * cq_bytes);
	}
	end = cq_base + engines * cq_bytes;
	/* ivshmem wants a power of two; QEMU maps the whole memfd as BAR2. */
	while (size < end)
		size <<= 1;
	*bar2_size = size;
	return 0;
}

/* Whether @off (a BAR2 offset of a 32-bit word) is written by the device. */
int emu_reg_dev_owned(uint32_t off)
{
	uint32_t e, r;

	if (off < NUQ_NPU_ENGINE_BASE)
		return off <= NUQ_NPU_REG_HEARTBEAT_US ||
		       (off >= NUQ_NPU_REG_STATUS && off <= NUQ_NPU_REG_EVENTS);
	if (off >= NUQ_NPU_ENGINE(NUQ_NPU_MAX_ENGINES))
		return 0;	/* rings are written with memcpy, never through here */
	e = (off - NUQ_NPU_ENGINE_BASE) / NUQ_NPU_ENGINE_STRIDE;
	r = off - NUQ_NPU_ENGINE(e);
	switch (r) {
	case NUQ_NPU_ENG_SQ_OFFSET:
	case NUQ_NPU_ENG_CQ_OFFSET:
	case NUQ_NPU_ENG_SQ_HEAD:
	case NUQ_NPU_ENG_CQ_TAIL:
	case NUQ_NPU_ENG_PROGRESS:
	case NUQ_NPU_ENG_STATE:
	case NUQ_NPU_ENG_CUR_JOB:
	case NUQ_NPU_ENG_CUR_JOB + 4:
	case NUQ_NPU_ENG_ABORT_ACK:
	case NUQ_NPU_ENG_RESET_ACK:
	case NUQ_NPU_ENG_RESET_DONE:
	case NUQ_NPU_ENG_SQ_AWAKE:
		return 1;
	}
	return r >= NUQ_NPU_ENG_PERF_JOBS && r < NUQ_NPU_ENG_PERF_TILES + 8;
}

static uint32_t *word(const struct emu_dev *dev, uint32_t off)
{
	return (uint32_t *)(void *)(dev->bar2 + off);
}

uint32_t emu_rd32(const struct emu_dev *dev, uint32_t off)
{
	return __atomic_load_n(word(dev, off), __ATOMIC_ACQUIRE);
}

/* Low word first, like the writer stores it (nuq_npu_regs.h). */
uint64_t emu_rd64(const struct emu_dev *dev, uint32_t off)
{
	uint64_t lo = emu_rd32(dev, off);

	return lo | (uint64_t)emu_rd32(dev, off + 4) << 32;
}

void emu_wr32(struct emu_dev *dev, uint32_t off, uint32_t val)
{
	if (!emu_reg_dev_owned(off)) {
		emu_log("bug: write to driver-owned word 0x%x", off);
		abort();
	}
	__atomic_store_n(word(dev, off), val, __ATOMIC_RELEASE);
}

void emu_wr64(struct emu_dev *dev, uint32_t off, uint64_t val)
{
	emu_wr32(dev, off, (uint32_t)val);
	emu_wr32(dev, off + 4, (uint32_t)(val >> 32));
}

uint32_t emu_erd32(const struct emu_engine *eng, uint32_t off)
{
	return emu_rd32(eng->dev, NUQ_NPU_ENGINE(eng->idx) + off);
}

void emu_ewr32(struct emu_engine *eng, uint32_t off, uint32_t val)
{
	emu_wr32(eng->dev, NUQ_NPU_ENGINE(eng->idx) + off, val);
}

void emu_ewr64(struct emu_engine *eng, uint32_t off, uint64_t val)
{
	emu_wr64(eng->dev, NUQ_NPU_ENGINE(eng->idx) + off, val);
}

/*
 * Identification and ring geometry, then STATUS READY last: the driver
 * reads the rest only once it has seen READY (release orders them).
 */
void emu_regs_init(struct emu_dev *dev)
{
	unsigned int e;

	emu_wr32(dev, NUQ_NPU_REG_MAGIC, NUQ_NPU_MAGIC);
	emu_wr32(dev, NUQ_NPU_REG_VERSION, NUQ_NPU_VERSION);
	emu_wr32(dev, NUQ_NPU_REG_CAPS, NUQ_NPU_CAP_MMU | NUQ_NPU_CAP_PROGRESS |
		 NUQ_NPU_CAP_PERF | NUQ_NPU_CAP_RESIDUAL | NUQ_NPU_CAP_NOTIFY_SUPPRESS);
	emu_wr32(dev, NUQ_NPU_REG_NUM_ENGINES, dev->cfg.engines);
	emu_wr32(dev, NUQ_NPU_REG_RING_ENTRIES, dev->cfg.ring_entries);
	/* What the software backend takes: every format, 1-8 bit indices. */
	emu_wr32(dev, NUQ_NPU_REG_WEIGHT_FORMATS, 1u << NUQ_WFMT_INT8 | 1u << NUQ_WFMT_CODEBOOK |
		 1u << NUQ_WFMT_ASD);
	emu_wr32(dev, NUQ_NPU_REG_WEIGHT_BITS, 0x1feu);
	emu_wr32(dev, NUQ_NPU_REG_ACT_FORMATS, 1u << NUQ_AFMT_INT8 | 1u << NUQ_AFMT_UINT8);
	emu_wr64(dev, NUQ_NPU_REG_MAX_JOB_MACS, EMU_MAX_JOB_MACS);
	emu_wr32(dev, NUQ_NPU_REG_VA_BITS, NUQ_NPU_VA_BITS);
	emu_wr32(dev, NUQ_NPU_REG_DEVICE_PEER, 0);
	emu_wr32(dev, NUQ_NPU_REG_RESET_TIME_MS, EMU_RESET_TIME_MS);
	emu_wr32(dev, NUQ_NPU_REG_HEARTBEAT_US, EMU_HEARTBEAT_US);
	for (e = 0; e < dev->cfg.engines; e++) {
		emu_wr32(dev, NUQ_NPU_ENGINE(e) + NUQ_NPU_ENG_SQ_OFFSET, dev->sq_off[e]);
		emu_wr32(dev, NUQ_NPU_ENGINE(e) + NUQ_NPU_ENG_CQ_OFFSET, dev->cq_off[e]);
		emu_wr32(dev, NUQ_NPU_ENGINE(e) + NUQ_NPU_ENG_STATE, NUQ_NPU_ENG_STATE_IDLE);
	}
	emu_set_status(dev, NUQ_NPU_STATUS_READY, 0, NUQ_NPU_ERR_NONE);
}
