// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Device-wide words several emulator threads update (STATUS, EVENTS) and
 * interrupts.  The driver sees one device, so these are serialised here:
 * two threads storing EVENTS out of order would make it go backwards.
 */
#include <stdint.h>
#include <unistd.h>

#include "emu.h"

/* @error_code < 0 leaves ERROR_CODE alone; it is written before STATUS. */
void emu_set_status(struct emu_dev *dev, uint32_t set, uint32_t clear, int error_code)
{
	pthread_mutex_lock(&dev->reg_lock);
	if (error_code >= 0 && (uint32_t)error_code != dev->error_code) {
		dev->error_code = (uint32_t)error_code;
		emu_wr32(dev, NUQ_NPU_REG_ERROR_CODE, dev->error_code);
	}
	dev->status = (dev->status | set) & ~clear;
	emu_wr32(dev, NUQ_NPU_REG_STATUS, dev->status);
	pthread_mutex_unlock(&dev->reg_lock);
}

/* EVENTS + 1, then the control vector. */
void emu_event(struct emu_dev *dev)
{
	pthread_mutex_lock(&dev->reg_lock);
	emu_wr32(dev, NUQ_NPU_REG_EVENTS, ++dev->events);
	pthread_mutex_unlock(&dev->reg_lock);
	__atomic_add_fetch(&dev->stats.events, 1, __ATOMIC_RELAXED);
	emu_irq(dev, NUQ_NPU_VEC_CTRL(dev->cfg.engines));
}

/*
 * MSI-X vector @vector of every connected guest: QEMU watches the eventfds
 * it got for its own peer id and raises that vector when one is written.
 */
void emu_irq(struct emu_dev *dev, unsigned int vector)
{
	uint64_t one = 1;
	int i;

	if (vector >= dev->nr_vec || !(emu_rd32(dev, NUQ_NPU_REG_CTRL) & NUQ_NPU_CTRL_IRQ))
		return;
	if (emu_fault_take(dev, &dev->faults.drop_irq[vector])) {
		__atomic_add_fetch(&dev->stats.irqs_dropped, 1, __ATOMIC_RELAXED);
		emu_log("fault: dropped interrupt of vector %u", vector);
		return;
	}
	__atomic_add_fetch(&dev->stats.irqs, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&dev->peers_lock);
	for (i = 0; i < EMU_MAX_PEERS; i++)
		if (dev->peers[i].used && write(dev->peers[i].irq[vector], &one, sizeof(one)) < 0)
			emu_log("interrupt of vector %u to peer %d failed", vector, dev->peers[i].id);
	pthread_mutex_unlock(&dev->peers_lock);
}
