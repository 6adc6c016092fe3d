// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Completions.  A CQE is written into its slot, then CQ_TAIL is stored with
 * release, so a driver that loads CQ_TAIL with acquire sees the whole
 * entry.  We never run more than RING_ENTRIES ahead of CQ_HEAD: when the
 * CQ is full the engine waits (a reset still gets through).  Injected
 * corruption and fuzzing deliberately break these rules, to test the driver.
 *
 * With CTRL_IRQ_SUPPRESS a completion is signalled only if the driver had
 * consumed every earlier one (emu_cq_notify()); otherwise the driver is
 * still draining and bound to re-read CQ_TAIL (npu.rst, Interrupts).
 */
#include <string.h>

#include "engine.h"

#define CQ_WAIT_NS	1000000ull

uint64_t emu_rand(struct emu_engine *eng)
{
	/* xorshift64*: garbage only, but reproducible per engine. */
	eng->rng ^= eng->rng >> 12;
	eng->rng ^= eng->rng << 25;
	eng->rng ^= eng->rng >> 27;
	return eng->rng * 2685821657736338717ull;
}

static void random_fill(struct emu_engine *eng, void *p, size_t n)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(emu_rand(eng) >> 56);
}

static void write_slot(struct emu_engine *eng, const struct nuq_npu_cqe *cqe)
{
	struct emu_dev *dev = eng->dev;
	uint32_t slot = eng->cq_tail % dev->cfg.ring_entries;

	memcpy(dev->bar2 + dev->cq_off[eng->idx] + (size_t)slot * EMU_CQE_SIZE, cqe, sizeof(*cqe));
	eng->cq_tail++;
	emu_ewr32(eng, NUQ_NPU_ENG_CQ_TAIL, eng->cq_tail);
}

/* Returns 0 when a reset came while waiting for room (no CQE then). */
int emu_post_cqe(struct emu_engine *eng, struct nuq_npu_cqe *cqe)
{
	struct emu_dev *dev = eng->dev;
	int fuzz = __atomic_load_n(&dev->faults.fuzz, __ATOMIC_RELAXED);

	while (!fuzz && eng->cq_tail - emu_erd32(eng, NUQ_NPU_ENG_CQ_HEAD) >= dev->cfg.ring_entries) {
		if (emu_park_wanted(eng))
			return 0;
		emu_check_abort(eng, NULL);
		emu_sleep_ns(CQ_WAIT_NS);
		fuzz = __atomic_load_n(&dev->faults.fuzz, __ATOMIC_RELAXED);
	}
	if (fuzz) {
		random_fill(eng, cqe, sizeof(*cqe));
	} else if (emu_fault_take(dev, &dev->faults.eng[eng->idx].corrupt_cqe)) {
		emu_log("fault: engine %u corrupts the CQE of job %#llx", eng->idx,
			(unsigned long long)cqe->job_id);
		cqe->job_id = emu_rand(eng) | 1ull << 63;
		cqe->status = (uint32_t)emu_rand(eng) | 0x80000000u;
	}
	write_slot(eng, cqe);
	return 1;
}

/*
 * The completion vector for the CQE just posted, unless CTRL_IRQ_SUPPRESS
 * says the driver needs none.  CQ_TAIL was stored (release) before; a full
 * fence, then CQ_HEAD: the driver stores CQ_HEAD, fences and re-reads
 * CQ_TAIL, so if we read an old CQ_HEAD here (an earlier CQE not yet
 * consumed) the driver's re-read, still to come, sees our CQ_TAIL.
 */
void emu_cq_notify(struct emu_engine *eng)
{
	struct emu_dev *dev = eng->dev;

	if (emu_rd32(dev, NUQ_NPU_REG_CTRL) & NUQ_NPU_CTRL_IRQ_SUPPRESS) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (emu_erd32(eng, NUQ_NPU_ENG_CQ_HEAD) != eng->cq_tail - 1) {
			__atomic_add_fetch(&dev->stats.irqs_suppressed, 1, __ATOMIC_RELAXED);
			return;
		}
	}
	emu_irq(dev, eng->idx);
}

/* Fuzzing: now and then a garbage CQE, sometimes with CQ_TAIL thrown far ahead. */
void emu_fuzz_tick(struct emu_engine *eng)
{
	struct nuq_npu_cqe cqe;

	if (emu_rand(eng) % 4)
		return;
	random_fill(eng, &cqe, sizeof(cqe));
	if (emu_rand(eng) % 8 == 0)
		eng->cq_tail += (uint32_t)emu_rand(eng);
	write_slot(eng, &cqe);
	__atomic_add_fetch(&eng->dev->stats.fuzz_cqes, 1, __ATOMIC_RELAXED);
	emu_irq(eng->dev, eng->idx);
}
