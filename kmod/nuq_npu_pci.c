// SPDX-License-Identifier: GPL-2.0
/*
 * nuq NPU: the PCI driver, probe and removal, and the backend operations.
 *
 * The NPU is an ivshmem-doorbell function (1af4:1110) whose BAR2 starts
 * with NUQ_NPU_MAGIC; any other ivshmem user is left alone (-ENODEV from
 * probe, without a message, and nothing written).  Each NPU becomes a
 * /dev/nuqN after the software devices, with a struct nuq_npu as its
 * backend state.
 *
 * Removal (unbind, rmmod, hot unplug, or a device found gone) makes the
 * device dead first: every job ends with -ENODEV, every waiter wakes.
 * Then the node goes, interrupts and work stop, and every DMA mapping is
 * undone while the function is still bound.  Open files keep the
 * struct nuq_device (and this struct nuq_npu) until they close; they get
 * -ENODEV and never reach the BARs again.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-mapping.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/preempt.h>
#include <linux/slab.h>

#include "nuq_drv.h"
#include "nuq_npu.h"
#include "nuq_sched.h"

static bool npu_enable = true;
module_param(npu_enable, bool, 0444);
MODULE_PARM_DESC(npu_enable, "Drive nuq PCIe NPUs (default 1)");

bool nuq_npu_poll;
module_param_named(npu_poll, nuq_npu_poll, bool, 0444);
MODULE_PARM_DESC(npu_poll, "Poll the NPU's rings instead of using MSI-X (default 0)");

/*
 * Deep enough that a stream of small jobs (a few us each on the device)
 * outlasts an interrupt's round trip and the refill after it.
 */
unsigned int nuq_npu_queue_depth = 32;
module_param_named(npu_queue_depth, nuq_npu_queue_depth, uint, 0444);
MODULE_PARM_DESC(npu_queue_depth, "Jobs on each NPU engine's ring at once (default 32; at most the ring's entries)");

unsigned int nuq_npu_watchdog_ms = 100;
module_param_named(npu_watchdog_ms, nuq_npu_watchdog_ms, uint, 0644);
MODULE_PARM_DESC(npu_watchdog_ms, "NPU watchdog period in ms (default 100)");

unsigned int nuq_npu_hang_ms = 2000;
module_param_named(npu_hang_ms, nuq_npu_hang_ms, uint, 0644);
MODULE_PARM_DESC(npu_hang_ms, "An NPU engine or heartbeat that does not move for this long is hung (default 2000)");

unsigned int nuq_npu_abort_ms = 250;
module_param_named(npu_abort_ms, nuq_npu_abort_ms, uint, 0644);
MODULE_PARM_DESC(npu_abort_ms, "How long an NPU job abort may take before the engine is reset (default 250)");

unsigned int nuq_npu_max_resets = 3;
module_param_named(npu_max_resets, nuq_npu_max_resets, uint, 0644);
MODULE_PARM_DESC(npu_max_resets, "Failed NPU resets in a row before the device is dead (default 3)");

unsigned int nuq_npu_max_resubmits = 2;
module_param_named(npu_max_resubmits, nuq_npu_max_resubmits, uint, 0644);
MODULE_PARM_DESC(npu_max_resubmits, "Times an innocent job is rerun after NPU resets before it fails with EIO (default 2)");

unsigned int nuq_npu_spin_us = 100;
module_param_named(npu_spin_us, nuq_npu_spin_us, uint, 0644);
MODULE_PARM_DESC(npu_spin_us, "Busy-wait this long in SUBMIT for a small job alone on an NPU engine, instead of its interrupt (default 100; 0 never)");

bool nuq_npu_notify_suppress = true;
module_param_named(npu_notify_suppress, nuq_npu_notify_suppress, bool, 0444);
MODULE_PARM_DESC(npu_notify_suppress, "Skip doorbells to awake NPU engines and have only the first of a burst of completions interrupt, if the NPU can (default 1)");

static DEFINE_IDA(nuq_npu_ida);
static bool nuq_npu_registered;

/* Everything a struct nuq_npu holds, once nothing can use it. */
static void nuq_npu_destroy(struct nuq_npu *npu)
{
	if (npu->wq) {
		cancel_work_sync(&npu->dead_work);
		destroy_workqueue(npu->wq);
	}
	nuq_npu_engines_fini(npu);
	mutex_destroy(&npu->mmu_lock);
	mutex_destroy(&npu->submit_lock);
	mutex_destroy(&npu->recovery_lock);
	ida_free(&nuq_npu_ida, npu->ordinal);
	pci_dev_put(npu->pdev);
	kfree(npu);
}

static int nuq_npu_start(struct nuq_device *ndev)
{
	struct nuq_npu *npu = ndev->backend_priv;
	int ret;

	npu->ndev = ndev;
	snprintf(ndev->name, sizeof(ndev->name), "nuq-npu%u", npu->ordinal);
	ndev->caps = NUQ_CAP_JOBS | NUQ_CAP_URING_CMD |
		     (npu->caps & NUQ_NPU_CAP_RESIDUAL ? NUQ_CAP_RESIDUAL : 0);
	ndev->weight_formats = npu->weight_formats;
	ndev->weight_bits = npu->weight_bits;
	ndev->act_formats = npu->act_formats;

	ret = nuq_npu_irq_init(npu);
	if (ret)
		return ret;
	nuq_npu_hw_enable(npu, true);
	npu->heartbeat = nuq_npu_rd32(npu, NUQ_NPU_REG_HEARTBEAT);
	npu->heartbeat_time = ktime_get();
	queue_delayed_work(npu->wq, &npu->watchdog, msecs_to_jiffies(nuq_npu_watchdog_ms));
	nuq_npu_debugfs_init(npu);
	return 0;
}

/* Removal, or a failed creation: end everything, then never touch the device. */
static void nuq_npu_stop(struct nuq_device *ndev)
{
	struct nuq_npu *npu = ndev->backend_priv;

	WRITE_ONCE(npu->stopping, true);
	mutex_lock(&npu->recovery_lock);
	nuq_npu_mark_dead(npu, "removed");
	mutex_unlock(&npu->recovery_lock);
	cancel_delayed_work_sync(&npu->watchdog);
	nuq_npu_irq_fini(npu);
	cancel_work_sync(&npu->submit_work);
	nuq_npu_debugfs_fini(npu);
	nuq_npu_mmu_teardown(npu);
	/* The BARs are unmapped after remove returns. */
	WRITE_ONCE(npu->gone, true);
}

static void nuq_npu_kick(struct nuq_device *ndev)
{
	struct nuq_npu *npu = ndev->backend_priv;

	if (nuq_device_dead(ndev)) {
		queue_work(npu->wq, &npu->dead_work);
		return;
	}
	/*
	 * In the submitter's own context (SUBMIT, an io_uring issue) with
	 * nobody else submitting, fill the rings right here: one thread
	 * wakeup less per job.  Otherwise (atomic context, or the lock is
	 * busy: its holder may already have looked at the queue) the work
	 * does it.
	 */
	if (preemptible() && mutex_trylock(&npu->submit_lock)) {
		struct nuq_npu_engine *spin = nuq_npu_submit_locked(npu);

		mutex_unlock(&npu->submit_lock);
		if (spin && READ_ONCE(nuq_npu_spin_us))
			nuq_npu_spin(spin);
		return;
	}
	queue_work(npu->wq, &npu->submit_work);
}

/* The last reference to the device is gone. */
static void nuq_npu_release(struct nuq_device *ndev)
{
	if (ndev->backend_priv)
		nuq_npu_destroy(ndev->backend_priv);
}

const struct nuq_backend_ops nuq_npu_backend = {
	.name = "npu",
	.kind = NUQ_BACKEND_NPU,
	.start = nuq_npu_start,
	.stop = nuq_npu_stop,
	.kick = nuq_npu_kick,
	.abort = nuq_npu_abort,
	.bo_release = nuq_npu_bo_release,
	.release = nuq_npu_release,
};

static struct nuq_npu *nuq_npu_alloc(struct pci_dev *pdev)
{
	struct nuq_npu *npu = kzalloc(sizeof(*npu), GFP_KERNEL);
	int id;

	if (!npu)
		return NULL;
	id = ida_alloc(&nuq_npu_ida, GFP_KERNEL);
	if (id < 0) {
		kfree(npu);
		return NULL;
	}
	npu->ordinal = id;
	npu->pdev = pci_dev_get(pdev);
	mutex_init(&npu->recovery_lock);
	mutex_init(&npu->submit_lock);
	mutex_init(&npu->mmu_lock);
	INIT_LIST_HEAD(&npu->vms);
	INIT_WORK(&npu->submit_work, nuq_npu_submit_work);
	INIT_WORK(&npu->dead_work, nuq_npu_dead_work);
	INIT_DELAYED_WORK(&npu->watchdog, nuq_npu_watchdog_work);
	INIT_DELAYED_WORK(&npu->poll_work, nuq_npu_poll_work);
	return npu;
}

/* A clean device: no job of an earlier driver instance, rings in step. */
static int nuq_npu_hw_init(struct nuq_npu *npu)
{
	unsigned int e;
	int ret;

	ret = nuq_npu_hw_identify(npu);
	if (ret)
		return ret;
	ret = nuq_npu_engines_init(npu);
	if (ret)
		return ret;
	ret = nuq_npu_hw_reset(npu);
	if (ret) {
		dev_err(&npu->pdev->dev, "initial reset failed: %d\n", ret);
		return ret;
	}
	for (e = 0; e < npu->num_engines; e++)
		nuq_npu_ring_resync(&npu->engines[e]);
	return 0;
}

static int nuq_npu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct nuq_device *ndev;
	struct nuq_npu *npu;
	void __iomem *bar2;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	if (!(pci_resource_flags(pdev, 0) & IORESOURCE_MEM) ||
	    !(pci_resource_flags(pdev, 2) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, 2) < PAGE_SIZE)
		return -ENODEV;
	bar2 = pcim_iomap(pdev, 2, 0);
	if (!bar2)
		return -ENODEV;
	/* Not ours: another ivshmem user.  Quietly, and nothing written. */
	if (readl(bar2 + NUQ_NPU_REG_MAGIC) != NUQ_NPU_MAGIC ||
	    readl(bar2 + NUQ_NPU_REG_VERSION) >> 16 != NUQ_NPU_VERSION_MAJOR)
		return -ENODEV;

	ret = pci_request_regions(pdev, NUQ_DRIVER_NAME);
	if (ret)
		return ret;
	npu = nuq_npu_alloc(pdev);
	if (!npu)
		return -ENOMEM;
	npu->bar2 = bar2;
	npu->bar2_size = pci_resource_len(pdev, 2);
	npu->bar0 = pcim_iomap(pdev, 0, 0);
	if (!npu->bar0) {
		ret = -ENOMEM;
		goto err_free;
	}
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto err_free;
	npu->wq = alloc_workqueue("nuq-npu%u", WQ_HIGHPRI, 0, npu->ordinal);
	if (!npu->wq) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = nuq_npu_hw_init(npu);
	if (ret)
		goto err_free;

	ndev = nuq_device_add(&nuq_npu_backend, npu, &pdev->dev);
	if (IS_ERR(ndev)) {
		ret = PTR_ERR(ndev);
		goto err_free;
	}
	pci_set_drvdata(pdev, npu);
	dev_info(&pdev->dev, "%s is /dev/nuq%u (%s)\n", ndev->name, ndev->index,
		 npu->nr_vectors ? "MSI-X" : "polling");
	return 0;

err_free:
	nuq_npu_destroy(npu);
	return ret;
}

static void nuq_npu_remove(struct pci_dev *pdev)
{
	struct nuq_npu *npu = pci_get_drvdata(pdev);

	if (pci_dev_is_disconnected(pdev))
		WRITE_ONCE(npu->gone, true);
	nuq_device_remove(npu->ndev);
}

static const struct pci_device_id nuq_npu_ids[] = {
	{ PCI_DEVICE(NUQ_NPU_PCI_VENDOR, NUQ_NPU_PCI_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, nuq_npu_ids);

static struct pci_driver nuq_npu_driver = {
	.name = "nuq-npu",
	.id_table = nuq_npu_ids,
	.probe = nuq_npu_probe,
	.remove = nuq_npu_remove,
};

int nuq_npu_init(void)
{
	int ret;

	if (!npu_enable)
		return 0;
	if (nuq_npu_watchdog_ms < 10 || nuq_npu_hang_ms < nuq_npu_watchdog_ms) {
		pr_err("npu_watchdog_ms=%u must be at least 10 and at most npu_hang_ms=%u\n",
		       nuq_npu_watchdog_ms, nuq_npu_hang_ms);
		return -EINVAL;
	}
	ret = pci_register_driver(&nuq_npu_driver);
	if (!ret)
		nuq_npu_registered = true;
	return ret;
}

/* Unbinds every NPU: their files may stay open, getting -ENODEV. */
void nuq_npu_exit(void)
{
	if (nuq_npu_registered)
		pci_unregister_driver(&nuq_npu_driver);
	nuq_npu_registered = false;
}
