/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: buffer objects.
 */
#ifndef _NUQ_BO_H_
#define _NUQ_BO_H_

#include <linux/kref.h>
#include <linux/types.h>

struct nuq_ctx;
struct file;
struct vm_area_struct;

/**
 * struct nuq_bo - a buffer object
 * @ref: one reference for the context's handle, one per mapping, one per
 *	job that uses the BO
 * @ctx: owner, for quota accounting; outlives the BO because a context is
 *	released only after its mappings (they pin the file) and its jobs
 * @vaddr: kernel address (vmalloc_user(): zeroed, mappable to userspace)
 * @size: bytes, a multiple of PAGE_SIZE
 * @dev_map: the backend's device mapping of the BO, or NULL; undone by
 *	&nuq_backend_ops.bo_release before the memory is freed
 */
struct nuq_bo {
	struct kref ref;
	struct nuq_ctx *ctx;
	void *vaddr;
	size_t size;
	void *dev_map;
};

void nuq_bo_ctx_init(struct nuq_ctx *ctx);
void nuq_bo_ctx_fini(struct nuq_ctx *ctx);

struct nuq_bo *nuq_bo_lookup(struct nuq_ctx *ctx, u32 handle);
void nuq_bo_put(struct nuq_bo *bo);

int nuq_bo_mmap(struct file *file, struct vm_area_struct *vma);

int nuq_ioctl_bo_create(struct nuq_ctx *ctx, void *data);
int nuq_ioctl_bo_info(struct nuq_ctx *ctx, void *data);
int nuq_ioctl_bo_free(struct nuq_ctx *ctx, void *data);

#endif /* _NUQ_BO_H_ */
