/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: the differences between the kernels nuq builds on (6.1 LTS as
 * Debian 12 ships it, and newer ones such as 6.12) live here and only
 * here, so the rest of the driver reads as current kernel code.
 */
#ifndef _NUQ_COMPAT_H_
#define _NUQ_COMPAT_H_

#include <linux/device.h>
#include <linux/io_uring_types.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/version.h>

/* 6.4 dropped the owner argument of class_create(). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define nuq_class_create(name)	class_create(THIS_MODULE, name)
#else
#define nuq_class_create(name)	class_create(name)
#endif

/* 6.3 made vma->vm_flags read-only outside the vm_flags_*() helpers. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void nuq_vm_flags_set(struct vm_area_struct *vma, unsigned long flags)
{
	vma->vm_flags |= flags;
}
#else
#define nuq_vm_flags_set(vma, flags)	vm_flags_set(vma, flags)
#endif

/*
 * io_uring commands.  Debian's 6.1 already has the four-argument
 * io_uring_cmd_done() and task-work callbacks that take issue_flags; what
 * differs is the header and how the command payload is reached: 6.1 points
 * at it directly, later kernels hand over the whole SQE.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0)
#include <linux/io_uring.h>
#else
#include <linux/io_uring/cmd.h>
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
#define nuq_uring_cmd_payload(ioucmd)	((ioucmd)->cmd)
#else
#define nuq_uring_cmd_payload(ioucmd)	io_uring_sqe_cmd((ioucmd)->sqe)
#endif

/*
 * Whether io_uring is cancelling @task's requests: set for good when the
 * task exits, and while an exec waits for the task's requests to end
 * before it replaces the program.  The counter was renamed in 6.3.  The
 * task's io_uring context is freed only with the task, or by that exec
 * once every request of the task has completed, so it is safe to look at
 * while a request of the task is pending and the task is referenced.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define nuq_io_uring_task_cancel_count(tctx)	atomic_read(&(tctx)->in_idle)
#else
#define nuq_io_uring_task_cancel_count(tctx)	atomic_read(&(tctx)->in_cancel)
#endif

static inline bool nuq_task_uring_cancelling(struct task_struct *task)
{
	struct io_uring_task *tctx = READ_ONCE(task->io_uring);

	return tctx && nuq_io_uring_task_cancel_count(tctx);
}

#endif /* _NUQ_COMPAT_H_ */
