// SPDX-License-Identifier: GPL-2.0
/*
 * nuq NPU: MSI-X vectors, or polling without them.
 *
 * Vector e (one per engine) means "engine e posted completions", vector
 * NUM_ENGINES means "an event".  The handlers are threaded: ending a job
 * wakes waiters, queues io_uring task work and may free BOs (which
 * sleeps), so nothing runs in hard interrupt context but the default
 * primary handler.  After a drain the completion thread refills the rings
 * (or, while a submitter holds the lock, leaves it to the submit work), so
 * a busy device keeps its engines fed.
 *
 * Without MSI-X (npu_poll=1, or the vectors could not be had) CTRL.IRQ
 * stays clear and a delayed work drains the rings every jiffy while jobs
 * are in flight.  Interrupts may be lost either way: the watchdog drains
 * too (see npu.rst, the interrupt rule).
 */

#include <linux/interrupt.h>
#include <linux/pci.h>

#include "nuq_drv.h"
#include "nuq_npu.h"
#include "nuq_sched.h"

static irqreturn_t nuq_npu_engine_thread(int irq, void *data)
{
	struct nuq_npu_engine *eng = data;
	struct nuq_npu *npu = eng->npu;

	if (nuq_npu_drain(eng) < 0)
		return IRQ_HANDLED;
	/*
	 * Refill what the drain freed, if anything waits: the slots freed
	 * (stored) before the queue is looked at (loaded), as a submitter
	 * queues before it looks at the slots (nuq_npu_submit_locked()), so
	 * either it saw the room or this sees its job.  A submitter that holds
	 * the lock is filling the rings right now, but may have looked at this
	 * engine before the drain: the submit work runs another pass after
	 * it, rather than this thread spinning on the mutex.
	 */
	smp_mb();
	if (!nuq_sched_has_work(npu->ndev))
		return IRQ_HANDLED;
	if (mutex_trylock(&npu->submit_lock)) {
		nuq_npu_submit_locked(npu);
		mutex_unlock(&npu->submit_lock);
	} else if (!READ_ONCE(npu->stopping)) {
		queue_work(npu->wq, &npu->submit_work);
	}
	return IRQ_HANDLED;
}

static irqreturn_t nuq_npu_ctrl_thread(int irq, void *data)
{
	struct nuq_npu *npu = data;

	/* Acknowledgements and faults are the watchdog's to look at. */
	nuq_npu_watchdog_now(npu);
	return IRQ_HANDLED;
}

void nuq_npu_poll_arm(struct nuq_npu *npu)
{
	if (!READ_ONCE(npu->stopping))
		queue_delayed_work(npu->wq, &npu->poll_work, 1);
}

void nuq_npu_poll_work(struct work_struct *work)
{
	struct nuq_npu *npu = container_of(to_delayed_work(work), struct nuq_npu, poll_work);

	nuq_npu_drain_all(npu, false);
	nuq_npu_submit(npu);
	if (nuq_npu_busy(npu))
		nuq_npu_poll_arm(npu);
}

int nuq_npu_irq_init(struct nuq_npu *npu)
{
	struct pci_dev *pdev = npu->pdev;
	unsigned int nr = NUQ_NPU_NR_VECTORS(npu->num_engines), v;
	int nvec, ret;

	if (nuq_npu_poll)
		goto poll;
	nvec = pci_alloc_irq_vectors(pdev, nr, nr, PCI_IRQ_MSIX);
	if (nvec < 0) {
		dev_info(&pdev->dev, "no %u MSI-X vectors (%d): polling\n", nr, nvec);
		goto poll;
	}
	for (v = 0; v < nr; v++) {
		bool ctrl = v == NUQ_NPU_VEC_CTRL(npu->num_engines);

		snprintf(npu->irq_names[v], sizeof(npu->irq_names[v]), "nuq-npu%u-%s%u",
			 npu->ordinal, ctrl ? "ctrl" : "e", ctrl ? 0 : v);
		ret = request_threaded_irq(pci_irq_vector(pdev, v), NULL,
					   ctrl ? nuq_npu_ctrl_thread : nuq_npu_engine_thread,
					   IRQF_ONESHOT, npu->irq_names[v],
					   ctrl ? (void *)npu : (void *)&npu->engines[v]);
		if (ret) {
			while (v--)
				free_irq(pci_irq_vector(pdev, v),
					 v == NUQ_NPU_VEC_CTRL(npu->num_engines) ?
					 (void *)npu : (void *)&npu->engines[v]);
			pci_free_irq_vectors(pdev);
			dev_info(&pdev->dev, "MSI-X request failed (%d): polling\n", ret);
			goto poll;
		}
	}
	npu->nr_vectors = nr;
	return 0;

poll:
	npu->nr_vectors = 0;
	return 0;
}

/* No handler runs once this returns. */
void nuq_npu_irq_fini(struct nuq_npu *npu)
{
	unsigned int v;

	for (v = 0; v < npu->nr_vectors; v++)
		free_irq(pci_irq_vector(npu->pdev, v),
			 v == NUQ_NPU_VEC_CTRL(npu->num_engines) ?
			 (void *)npu : (void *)&npu->engines[v]);
	if (npu->nr_vectors)
		pci_free_irq_vectors(npu->pdev);
	npu->nr_vectors = 0;
	cancel_delayed_work_sync(&npu->poll_work);
}
