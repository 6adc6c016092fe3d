/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: internal definitions shared by the module's files.
 */
#ifndef _NUQ_DRV_H_
#define _NUQ_DRV_H_

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/kobject.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/nuq.h>

#include "nuq_fault.h"
#include "nuq_sched.h"

#define NUQ_DRIVER_NAME		"nuq"
#define NUQ_MAX_DEVICES		16

/**
 * struct nuq_stats - device counters, shown in sysfs
 * @submitted: jobs queued
 * @completed: jobs that finished with status 0
 * @failed: jobs that finished with another error
 * @timed_out: jobs that ran past their timeout
 * @cancelled: jobs cancelled (context closed, device reset)
 * @busy_ns: time the backend spent running jobs
 * @bo_bytes: memory of all live buffer objects
 */
struct nuq_stats {
	atomic64_t submitted;
	atomic64_t completed;
	atomic64_t failed;
	atomic64_t timed_out;
	atomic64_t cancelled;
	atomic64_t busy_ns;
	atomic64_t bo_bytes;
};

/**
 * struct nuq_device - one /dev/nuqN instance
 * @ref: held by the creator (module or PCI driver) and by every open context
 * @kobj: holds the memory: put when @ref drops to 0, and referenced by
 *	@cdev, which an open file may use for a moment after its release
 * @cdev: the character device
 * @dev: the class device, parent of sysfs attributes
 * @index: N of /dev/nuqN
 * @backend: &enum nuq_backend_kind
 * @name: name reported by %NUQ_IOCTL_GET_INFO
 * @caps: %NUQ_CAP_* reported by %NUQ_IOCTL_GET_INFO
 * @weight_formats: likewise, what the backend computes
 * @weight_bits: likewise
 * @act_formats: likewise
 * @dead: the device stopped working for good (it died or was removed):
 *	every job ends and every call fails with -ENODEV
 * @ctx_lock: protects @contexts and @next_ctx_id
 * @contexts: open contexts (struct nuq_ctx.node)
 * @next_ctx_id: id given to the next context
 * @nr_contexts: open contexts
 * @backend_ops: what runs the jobs
 * @backend_priv: the backend's state (the NPU's struct nuq_npu)
 * @sched: the job scheduler
 * @worker: the software backend's thread
 * @fault: fault injection knob
 * @stats: counters
 * @debugfs: /sys/kernel/debug/nuq/nuqN
 */
struct nuq_device {
	struct kref ref;
	struct kobject kobj;
	struct cdev cdev;
	struct device *dev;
	unsigned int index;
	enum nuq_backend_kind backend;
	char name[NUQ_NAME_LEN];
	u64 caps;
	u32 weight_formats;
	u32 weight_bits;
	u32 act_formats;
	bool dead;

	struct mutex ctx_lock;	/* see above */
	struct list_head contexts;
	u32 next_ctx_id;
	unsigned int nr_contexts;

	const struct nuq_backend_ops *backend_ops;
	void *backend_priv;
	struct nuq_sched sched;
	struct task_struct *worker;
	struct nuq_fault fault;
	struct nuq_stats stats;
	struct dentry *debugfs;
};

/**
 * struct nuq_ctx - per open file state
 * @ndev: the device, referenced for the context's lifetime
 * @node: entry in &nuq_device.contexts
 * @id: unique per device, for debugging
 * @tgid: process that opened the file
 * @bos: buffer objects by handle
 * @bo_bytes: memory of the context's live BOs, for the quota
 * @bo_count: number of the context's live BOs, for the quota
 * @lock: protects @inflight, @unreaped, @last_seqno
 * @inflight: jobs queued or running
 * @unreaped: ioctl jobs finished but not yet reaped by WAIT
 * @last_seqno: sequence number of the last ioctl job
 * @jobs: ioctl jobs by sequence number, until reaped
 * @wq: woken whenever a job of the context finishes, under @lock (see
 *	nuq_sched_cancel_ctx())
 * @sched: the context's queues
 * @backend_priv: the backend's per-context state (the NPU's address space)
 * @debugfs: /sys/kernel/debug/nuq/nuqN/ctxID
 */
struct nuq_ctx {
	struct nuq_device *ndev;
	struct list_head node;
	u32 id;
	pid_t tgid;

	struct xarray bos;
	atomic64_t bo_bytes;
	atomic_t bo_count;

	spinlock_t lock;	/* see above */
	unsigned int inflight;
	unsigned int unreaped;
	u64 last_seqno;
	struct xarray jobs;
	wait_queue_head_t wq;
	struct nuq_ctx_sched sched;
	void *backend_priv;
	struct dentry *debugfs;
};

/* module parameters, see nuq_drv.c */
extern unsigned long nuq_max_bo_size;
extern unsigned int nuq_max_jobs_in_flight;

extern const struct file_operations nuq_fops;

void nuq_device_get(struct nuq_device *ndev);
void nuq_device_put(struct nuq_device *ndev);
struct nuq_device *nuq_device_add(const struct nuq_backend_ops *ops, void *priv,
				  struct device *parent);
void nuq_device_remove(struct nuq_device *ndev);

static inline bool nuq_device_dead(struct nuq_device *ndev)
{
	return READ_ONCE(ndev->dead);
}

/* the PCIe NPU driver, see nuq_npu_pci.c */
int nuq_npu_init(void);
void nuq_npu_exit(void);

int nuq_ioctl_get_info(struct nuq_ctx *ctx, void *data);

extern const struct attribute_group *nuq_sysfs_groups[];
extern const struct attribute_group nuq_npu_attr_group;

void nuq_debugfs_init(void);
void nuq_debugfs_fini(void);
void nuq_debugfs_device(struct nuq_device *ndev);
void nuq_debugfs_ctx_add(struct nuq_ctx *ctx);
void nuq_debugfs_ctx_remove(struct nuq_ctx *ctx);

#endif /* _NUQ_DRV_H_ */
