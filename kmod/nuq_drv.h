/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: internal definitions shared by the module's files.
 */
#ifndef _NUQ_DRV_H_
#define _NUQ_DRV_H_

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/nuq.h>

#define NUQ_DRIVER_NAME		"nuq"
#define NUQ_MAX_DEVICES		16

/**
 * struct nuq_device - one /dev/nuqN instance
 * @ref: held by the module and by every open context
 * @cdev: the character device
 * @dev: the class device, parent of sysfs attributes
 * @index: N of /dev/nuqN
 * @backend: &enum nuq_backend_kind
 * @name: name reported by %NUQ_IOCTL_GET_INFO
 * @ctx_lock: protects @contexts and @next_ctx_id
 * @contexts: open contexts (struct nuq_ctx.node)
 * @next_ctx_id: id given to the next context
 */
struct nuq_device {
	struct kref ref;
	struct cdev cdev;
	struct device *dev;
	unsigned int index;
	enum nuq_backend_kind backend;
	char name[NUQ_NAME_LEN];

	struct mutex ctx_lock;	/* see above */
	struct list_head contexts;
	u32 next_ctx_id;
};

/**
 * struct nuq_ctx - per open file state
 * @ndev: the device, referenced for the context's lifetime
 * @node: entry in &nuq_device.contexts
 * @id: unique per device, for debugging
 * @tgid: process that opened the file
 */
struct nuq_ctx {
	struct nuq_device *ndev;
	struct list_head node;
	u32 id;
	pid_t tgid;
};

/* module parameters, see nuq_drv.c */
extern unsigned long nuq_max_bo_size;
extern unsigned int nuq_max_jobs_in_flight;

extern const struct file_operations nuq_fops;

void nuq_device_get(struct nuq_device *ndev);
void nuq_device_put(struct nuq_device *ndev);

int nuq_ioctl_get_info(struct nuq_ctx *ctx, void *data);

#endif /* _NUQ_DRV_H_ */
