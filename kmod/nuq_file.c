// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: file operations.  Every open file is a context; ioctls are
 * dispatched through one table, by number; the full command must then
 * match, which checks direction and size.  The dispatcher copies
 * the argument in and out, so handlers only see kernel memory.
 */

#include <linux/fs.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "nuq_bo.h"
#include "nuq_drv.h"
#include "nuq_job.h"
#include "nuq_uring.h"

/*
 * Every context may hold jobs and BOs up to its own caps and quotas, so the
 * number of contexts bounds what all openers together can pin.
 */
static unsigned int max_contexts = 1024;
module_param(max_contexts, uint, 0644);
MODULE_PARM_DESC(max_contexts, "Open files (contexts) per device (default 1024; EMFILE beyond)");

static int nuq_open(struct inode *inode, struct file *file)
{
	struct nuq_device *ndev = container_of(inode->i_cdev, struct nuq_device, cdev);
	struct nuq_ctx *ctx;

	/* Removed (reopened through an open file) or dead: nothing to reach. */
	if (nuq_device_dead(ndev))
		return -ENODEV;
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;

	nuq_device_get(ndev);
	ctx->ndev = ndev;
	ctx->tgid = task_tgid_nr(current);
	nuq_bo_ctx_init(ctx);
	spin_lock_init(&ctx->lock);
	xa_init(&ctx->jobs);
	init_waitqueue_head(&ctx->wq);
	nuq_ctx_sched_init(&ctx->sched);

	mutex_lock(&ndev->ctx_lock);
	if (ndev->nr_contexts >= READ_ONCE(max_contexts)) {
		mutex_unlock(&ndev->ctx_lock);
		nuq_device_put(ndev);
		kfree(ctx);
		return -EMFILE;
	}
	ctx->id = ndev->next_ctx_id++;
	list_add_tail(&ctx->node, &ndev->contexts);
	ndev->nr_contexts++;
	mutex_unlock(&ndev->ctx_lock);
	nuq_debugfs_ctx_add(ctx);

	file->private_data = ctx;
	return nonseekable_open(inode, file);
}

static int nuq_release(struct inode *inode, struct file *file)
{
	struct nuq_ctx *ctx = file->private_data;
	struct nuq_device *ndev = ctx->ndev;

	/* Nothing can submit any more; the jobs still around are cancelled. */
	nuq_sched_cancel_ctx(ctx);
	nuq_debugfs_ctx_remove(ctx);
	nuq_ctx_jobs_fini(ctx);
	nuq_bo_ctx_fini(ctx);

	mutex_lock(&ndev->ctx_lock);
	list_del(&ctx->node);
	ndev->nr_contexts--;
	mutex_unlock(&ndev->ctx_lock);

	kfree(ctx);
	nuq_device_put(ndev);
	return 0;
}

/* Copy the argument back even when the handler fails (error details). */
#define NUQ_IOCTL_OUT_ON_ERROR	BIT(0)

struct nuq_ioctl_desc {
	unsigned int cmd;
	int (*func)(struct nuq_ctx *ctx, void *data);
	unsigned int flags;
};

static const struct nuq_ioctl_desc nuq_ioctls[] = {
	{ NUQ_IOCTL_GET_INFO, nuq_ioctl_get_info },
	{ NUQ_IOCTL_BO_CREATE, nuq_ioctl_bo_create },
	{ NUQ_IOCTL_BO_INFO, nuq_ioctl_bo_info },
	{ NUQ_IOCTL_BO_FREE, nuq_ioctl_bo_free },
	{ NUQ_IOCTL_SUBMIT, nuq_ioctl_submit, NUQ_IOCTL_OUT_ON_ERROR },
	{ NUQ_IOCTL_WAIT, nuq_ioctl_wait },
};

static const struct nuq_ioctl_desc *nuq_ioctl_find(unsigned int cmd)
{
	unsigned int i;

	if (_IOC_TYPE(cmd) != NUQ_IOCTL_BASE)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(nuq_ioctls); i++)
		if (_IOC_NR(nuq_ioctls[i].cmd) == _IOC_NR(cmd))
			return &nuq_ioctls[i];
	return NULL;
}

/* Large enough for every argument struct; larger ones use the heap. */
#define NUQ_IOCTL_STACK_BUF	256

static long nuq_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct nuq_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;
	const struct nuq_ioctl_desc *desc = nuq_ioctl_find(cmd);
	u8 stack_buf[NUQ_IOCTL_STACK_BUF];
	unsigned int size = _IOC_SIZE(cmd);
	void *kdata = stack_buf;
	long ret;

	if (!desc)
		return -ENOTTY;
	/* A known command with another size or direction is a caller bug. */
	if (cmd != desc->cmd)
		return -EINVAL;
	if (nuq_device_dead(ctx->ndev))
		return -ENODEV;

	if (size > sizeof(stack_buf)) {
		kdata = kmalloc(size, GFP_KERNEL);
		if (!kdata)
			return -ENOMEM;
	}

	if (_IOC_DIR(cmd) & _IOC_WRITE) {
		if (copy_from_user(kdata, uarg, size)) {
			ret = -EFAULT;
			goto out;
		}
	} else {
		memset(kdata, 0, size);
	}

	ret = desc->func(ctx, kdata);

	if ((!ret || (desc->flags & NUQ_IOCTL_OUT_ON_ERROR)) && (_IOC_DIR(cmd) & _IOC_READ) &&
	    copy_to_user(uarg, kdata, size))
		ret = ret ?: -EFAULT;
out:
	if (kdata != stack_buf)
		kfree(kdata);
	return ret;
}

const struct file_operations nuq_fops = {
	.owner = THIS_MODULE,
	.open = nuq_open,
	.release = nuq_release,
	.unlocked_ioctl = nuq_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = nuq_bo_mmap,
	.poll = nuq_poll,
	.uring_cmd = nuq_uring_cmd,
};
