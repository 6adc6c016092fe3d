// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: buffer objects.
 *
 * A BO is zeroed vmalloc memory, addressable by the kernel for the software
 * backend and charged to the memory cgroup of the task that creates it
 * (GFP_KERNEL_ACCOUNT: the per-context quotas bound one context, the cgroup
 * bounds a user's many).  vmalloc_user() would not charge it, so the pages
 * are mapped into the process by the fault handler rather than by
 * remap_vmalloc_range(), which needs vmalloc_user()'s VM_USERMAP area.  A
 * mapping's page table entries may also be zapped (MADV_DONTNEED) or not
 * be copied (fork); the fault handler puts the BO's page back, so a mapping
 * always shows the BO's memory, like a shared file mapping.
 * Handles live in a per-context xarray, so a handle of another open file
 * never resolves.  The memory is freed with the last reference, which may
 * be a mapping or a job rather than the handle.
 *
 * Quotas (module parameters ctx_bo_bytes and ctx_bo_count) bound what one
 * context holds, counting BOs until their memory is freed, not only until
 * their handle is: freeing a handle of a still-mapped BO does not make room.
 */

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>

#include "nuq_bo.h"
#include "nuq_compat.h"
#include "nuq_drv.h"

static unsigned long ctx_bo_bytes = 512UL << 20;
module_param(ctx_bo_bytes, ulong, 0644);
MODULE_PARM_DESC(ctx_bo_bytes, "Per-context quota of BO memory in bytes (default 512 MiB; ENOSPC beyond)");

static unsigned int ctx_bo_count = 1024;
module_param(ctx_bo_count, uint, 0644);
MODULE_PARM_DESC(ctx_bo_count, "Per-context quota of BOs (default 1024; ENOSPC beyond)");

void nuq_bo_ctx_init(struct nuq_ctx *ctx)
{
	xa_init_flags(&ctx->bos, XA_FLAGS_ALLOC1);
	atomic64_set(&ctx->bo_bytes, 0);
	atomic_set(&ctx->bo_count, 0);
}

/* Drops the handles; mappings and jobs are gone by the time this runs. */
void nuq_bo_ctx_fini(struct nuq_ctx *ctx)
{
	struct nuq_bo *bo;
	unsigned long handle;

	xa_for_each(&ctx->bos, handle, bo) {
		xa_erase(&ctx->bos, handle);
		nuq_bo_put(bo);
	}
	xa_destroy(&ctx->bos);
	WARN_ON(atomic_read(&ctx->bo_count) || atomic64_read(&ctx->bo_bytes));
}

static void nuq_bo_release(struct kref *ref)
{
	struct nuq_bo *bo = container_of(ref, struct nuq_bo, ref);
	struct nuq_ctx *ctx = bo->ctx;
	struct nuq_device *ndev = ctx->ndev;

	/* The device must let go of the pages before they are freed. */
	if (READ_ONCE(bo->dev_map) && ndev->backend_ops->bo_release)
		ndev->backend_ops->bo_release(ndev, bo);
	vfree(bo->vaddr);
	atomic64_sub(bo->size, &ctx->bo_bytes);
	atomic_dec(&ctx->bo_count);
	atomic64_sub(bo->size, &ctx->ndev->stats.bo_bytes);
	kfree(bo);
}

void nuq_bo_put(struct nuq_bo *bo)
{
	kref_put(&bo->ref, nuq_bo_release);
}

/* Returns the BO with a reference the caller must put, or NULL. */
struct nuq_bo *nuq_bo_lookup(struct nuq_ctx *ctx, u32 handle)
{
	struct nuq_bo *bo;

	xa_lock(&ctx->bos);
	bo = xa_load(&ctx->bos, handle);
	if (bo)
		kref_get(&bo->ref);
	xa_unlock(&ctx->bos);
	return bo;
}

/* Reserve quota for @size bytes, or fail with -ENOSPC. */
static int nuq_bo_charge(struct nuq_ctx *ctx, size_t size)
{
	if (atomic_inc_return(&ctx->bo_count) > READ_ONCE(ctx_bo_count))
		goto err_count;
	if (atomic64_add_return(size, &ctx->bo_bytes) > READ_ONCE(ctx_bo_bytes))
		goto err_bytes;
	return 0;

err_bytes:
	atomic64_sub(size, &ctx->bo_bytes);
err_count:
	atomic_dec(&ctx->bo_count);
	return -ENOSPC;
}

int nuq_ioctl_bo_create(struct nuq_ctx *ctx, void *data)
{
	struct nuq_bo_create *args = data;
	struct nuq_bo *bo;
	size_t size;
	u32 handle;
	int ret;

	/* handle is out only: whatever it holds on input is overwritten */
	if (args->flags || memchr_inv(args->rsvd, 0, sizeof(args->rsvd)))
		return -EINVAL;
	if (!args->size || args->size > nuq_max_bo_size)
		return -EINVAL;
	size = PAGE_ALIGN(args->size);

	ret = nuq_bo_charge(ctx, size);
	if (ret)
		return ret;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	/*
	 * Beyond the cgroup's limit or the machine's memory the caller gets
	 * ENOMEM: no OOM kill (RETRY_MAYFAIL) and no allocation-failure
	 * splat (NOWARN) for a size the user chose.
	 */
	bo->vaddr = __vmalloc(size, GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_RETRY_MAYFAIL |
				    __GFP_NOWARN);
	if (!bo->vaddr) {
		ret = -ENOMEM;
		goto err_free;
	}
	kref_init(&bo->ref);
	bo->ctx = ctx;
	bo->size = size;
	atomic64_add(size, &ctx->ndev->stats.bo_bytes);

	ret = xa_alloc(&ctx->bos, &handle, bo, xa_limit_31b, GFP_KERNEL);
	if (ret) {
		/* The release path undoes the accounting. */
		nuq_bo_put(bo);
		return ret == -EBUSY ? -ENOSPC : ret;
	}
	args->handle = handle;
	return 0;

err_free:
	kfree(bo);
err_uncharge:
	atomic64_sub(size, &ctx->bo_bytes);
	atomic_dec(&ctx->bo_count);
	return ret;
}

int nuq_ioctl_bo_info(struct nuq_ctx *ctx, void *data)
{
	struct nuq_bo_info *args = data;
	struct nuq_bo *bo;

	if (args->flags || memchr_inv(args->rsvd, 0, sizeof(args->rsvd)))
		return -EINVAL;
	bo = nuq_bo_lookup(ctx, args->handle);
	if (!bo)
		return -ENOENT;
	args->size = bo->size;
	/* The handle is the page offset: unique per file, no lookup table. */
	args->mmap_offset = (u64)args->handle << PAGE_SHIFT;
	nuq_bo_put(bo);
	return 0;
}

int nuq_ioctl_bo_free(struct nuq_ctx *ctx, void *data)
{
	struct nuq_bo_free *args = data;
	struct nuq_bo *bo;

	if (args->flags || memchr_inv(args->rsvd, 0, sizeof(args->rsvd)))
		return -EINVAL;
	if (!args->handle)
		return -ENOENT;
	bo = xa_erase(&ctx->bos, args->handle);
	if (!bo)
		return -ENOENT;
	nuq_bo_put(bo);
	return 0;
}

static void nuq_bo_vm_open(struct vm_area_struct *vma)
{
	struct nuq_bo *bo = vma->vm_private_data;

	kref_get(&bo->ref);
}

static void nuq_bo_vm_close(struct vm_area_struct *vma)
{
	nuq_bo_put(vma->vm_private_data);
}

/*
 * Every page of a mapping comes in through here: at first touch, after
 * MADV_DONTNEED, and in a forked child.  vm_pgoff is the page offset in
 * the BO (see nuq_bo_mmap()), and the page belongs to the BO as long as
 * the mapping holds its reference.
 */
static vm_fault_t nuq_bo_vm_fault(struct vm_fault *vmf)
{
	struct nuq_bo *bo = vmf->vma->vm_private_data;
	struct page *page;

	if (vmf->pgoff >= bo->size >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;
	page = vmalloc_to_page((u8 *)bo->vaddr + (vmf->pgoff << PAGE_SHIFT));
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct nuq_bo_vm_ops = {
	.open = nuq_bo_vm_open,
	.close = nuq_bo_vm_close,
	.fault = nuq_bo_vm_fault,
};

int nuq_bo_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct nuq_ctx *ctx = file->private_data;
	struct nuq_bo *bo;
	int ret;

	/*
	 * A private mapping would copy on write and hide the job's results.
	 * VM_MAYSHARE, not VM_SHARED: mmap() clears VM_SHARED for a shared
	 * mapping of a file opened read-only, which can never be written.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff > U32_MAX)
		return -ENOENT;
	bo = nuq_bo_lookup(ctx, vma->vm_pgoff);
	if (!bo)
		return -ENOENT;
	if (vma->vm_end - vma->vm_start > bo->size) {
		ret = -EINVAL;
		goto err_put;
	}
	/* What remap_vmalloc_range() would set: no growth by mremap, no core dump. */
	nuq_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	/* The handle has served; faults want the offset in the BO. */
	vma->vm_pgoff = 0;
	vma->vm_private_data = bo;
	vma->vm_ops = &nuq_bo_vm_ops;
	return 0;

err_put:
	nuq_bo_put(bo);
	return ret;
}
