// SPDX-License-Identifier: GPL-2.0
/*
 * nuq NPU: one device address space per context, and BO mappings.
 *
 * A context's address space is a 4-level page table (x86-64 layout) in
 * coherent DMA memory, created when the context's first NPU job is
 * submitted.  A BO is mapped at VA = handle << 32 the first time a job
 * uses it (its vmalloc pages, DMA-mapped as a scatter list), and stays
 * mapped until its memory is released (nuq_bo.c calls the backend's
 * bo_release), so a BO used by many jobs is mapped once.  Tables of
 * intermediate levels stay until the address space goes, which is when
 * its last mapping goes (at the latest when the context is released,
 * which releases all its BOs).
 *
 * The device caches no translation from one job to the next and a table
 * is changed only for BOs no job on the device uses, so no invalidation
 * is ever needed.  A handle whose slot was freed and reused while the
 * old BO lives on (mapped by userspace, or used by a job) would want the
 * same VA: the old BO is unmapped if no job uses it, otherwise the new
 * job waits (-EBUSY to the submit path, which puts it back in line).
 *
 * Everything here is under npu->mmu_lock.
 */

#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "nuq_bo.h"
#include "nuq_drv.h"
#include "nuq_npu.h"

static struct device *nuq_npu_dma_dev(struct nuq_npu *npu)
{
	return &npu->pdev->dev;
}

static struct nuq_npu_pt *nuq_npu_pt_alloc(struct nuq_npu_vm *vm, int level)
{
	struct nuq_npu_pt *pt = kzalloc(sizeof(*pt), GFP_KERNEL);

	if (!pt)
		return NULL;
	pt->cpu = dma_alloc_coherent(nuq_npu_dma_dev(vm->npu), NUQ_NPU_PAGE_SIZE, &pt->dma,
				     GFP_KERNEL);
	if (!pt->cpu)
		goto err;
	if (level < NUQ_NPU_PT_LEVELS - 1) {
		pt->child = kcalloc(NUQ_NPU_PT_ENTRIES, sizeof(*pt->child), GFP_KERNEL);
		if (!pt->child)
			goto err_dma;
	}
	vm->nr_tables++;
	return pt;

err_dma:
	dma_free_coherent(nuq_npu_dma_dev(vm->npu), NUQ_NPU_PAGE_SIZE, pt->cpu, pt->dma);
err:
	kfree(pt);
	return NULL;
}

static void nuq_npu_pt_free(struct nuq_npu *npu, struct nuq_npu_pt *pt)
{
	int i;

	if (!pt)
		return;
	if (pt->child)
		for (i = 0; i < NUQ_NPU_PT_ENTRIES; i++)
			nuq_npu_pt_free(npu, pt->child[i]);
	kfree(pt->child);
	dma_free_coherent(nuq_npu_dma_dev(npu), NUQ_NPU_PAGE_SIZE, pt->cpu, pt->dma);
	kfree(pt);
}

/* The level-3 table covering @va, created on the way if @create. */
static struct nuq_npu_pt *nuq_npu_pt_walk(struct nuq_npu_vm *vm, u64 va, bool create)
{
	struct nuq_npu_pt *pt = vm->root;
	int level;

	for (level = 0; level < NUQ_NPU_PT_LEVELS - 1; level++) {
		unsigned int i = NUQ_NPU_PT_INDEX(va, level);

		if (!pt->child[i]) {
			if (!create)
				return NULL;
			pt->child[i] = nuq_npu_pt_alloc(vm, level + 1);
			if (!pt->child[i])
				return NULL;
			WRITE_ONCE(pt->cpu[i], cpu_to_le64((pt->child[i]->dma &
							    NUQ_NPU_PTE_ADDR_MASK) |
							   NUQ_NPU_PTE_VALID));
		}
		pt = pt->child[i];
	}
	return pt;
}

static struct nuq_npu_vm *nuq_npu_vm_get(struct nuq_npu *npu, struct nuq_ctx *ctx)
{
	struct nuq_npu_vm *vm = ctx->backend_priv;

	if (vm)
		return vm;
	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return NULL;
	vm->npu = npu;
	vm->ctx = ctx;
	INIT_LIST_HEAD(&vm->maps);
	vm->root = nuq_npu_pt_alloc(vm, 0);
	if (!vm->root) {
		kfree(vm);
		return NULL;
	}
	list_add_tail(&vm->node, &npu->vms);
	ctx->backend_priv = vm;
	return vm;
}

static void nuq_npu_vm_put_if_empty(struct nuq_npu_vm *vm)
{
	if (vm->nr_maps)
		return;
	list_del(&vm->node);
	vm->ctx->backend_priv = NULL;
	nuq_npu_pt_free(vm->npu, vm->root);
	kfree(vm);
}

/* Clear the level-3 entries of @map's pages, then give its pages back. */
static void nuq_npu_unmap_bo(struct nuq_npu_map *map)
{
	struct nuq_npu_vm *vm = map->vm;
	u64 va, end = map->va + map->bo->size;

	for (va = map->va; va < end; va += NUQ_NPU_PAGE_SIZE) {
		struct nuq_npu_pt *pt = nuq_npu_pt_walk(vm, va, false);

		if (pt)
			WRITE_ONCE(pt->cpu[NUQ_NPU_PT_INDEX(va, 3)], 0);
	}
	dma_unmap_sgtable(nuq_npu_dma_dev(vm->npu), &map->sgt, DMA_BIDIRECTIONAL, 0);
	sg_free_table(&map->sgt);
	list_del(&map->node);
	vm->nr_maps--;
	map->bo->dev_map = NULL;
	kfree(map);
}

static int nuq_npu_map_bo(struct nuq_npu_vm *vm, struct nuq_bo *bo, u64 va,
			  struct nuq_npu_map **out)
{
	struct device *dev = nuq_npu_dma_dev(vm->npu);
	unsigned int i, n = bo->size >> PAGE_SHIFT;
	struct sg_dma_page_iter it;
	struct nuq_npu_map *map;
	struct page **pages;
	int ret;

	BUILD_BUG_ON(PAGE_SIZE != NUQ_NPU_PAGE_SIZE);
	map = kzalloc(sizeof(*map), GFP_KERNEL);
	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	if (!map || !pages) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < n; i++)
		pages[i] = vmalloc_to_page((u8 *)bo->vaddr + ((size_t)i << PAGE_SHIFT));
	ret = sg_alloc_table_from_pages(&map->sgt, pages, n, 0, bo->size, GFP_KERNEL);
	if (ret)
		goto err_free;
	ret = dma_map_sgtable(dev, &map->sgt, DMA_BIDIRECTIONAL, 0);
	if (ret)
		goto err_sgt;

	map->bo = bo;
	map->vm = vm;
	map->va = va;
	atomic_set(&map->users, 0);
	list_add_tail(&map->node, &vm->maps);
	vm->nr_maps++;
	bo->dev_map = map;

	for_each_sgtable_dma_page(&map->sgt, &it, 0) {
		dma_addr_t addr = sg_page_iter_dma_address(&it);
		struct nuq_npu_pt *pt = nuq_npu_pt_walk(vm, va, true);

		if (!pt) {
			nuq_npu_unmap_bo(map);
			kvfree(pages);
			return -ENOMEM;
		}
		WRITE_ONCE(pt->cpu[NUQ_NPU_PT_INDEX(va, 3)],
			   cpu_to_le64((addr & NUQ_NPU_PTE_ADDR_MASK) | NUQ_NPU_PTE_VALID |
				       NUQ_NPU_PTE_WRITE));
		va += NUQ_NPU_PAGE_SIZE;
	}
	kvfree(pages);
	*out = map;
	return 0;

err_sgt:
	sg_free_table(&map->sgt);
err_free:
	kvfree(pages);
	kfree(map);
	return ret;
}

/* The mapping of a BO that holds @va in @vm, other than @bo's own. */
static struct nuq_npu_map *nuq_npu_vm_find_va(struct nuq_npu_vm *vm, u64 va)
{
	struct nuq_npu_map *map;

	list_for_each_entry(map, &vm->maps, node)
		if (map->va == va)
			return map;
	return NULL;
}

/*
 * Map every BO of @job into its context's address space (if not mapped
 * yet), count the job as a user of each mapping, and fill @slot->maps and
 * the root table's bus address.  On failure nothing is counted.
 * Returns -EOVERFLOW for a handle beyond the device's address space, and
 * -EBUSY when a handle's VA is still held by a freed BO a running job uses.
 */
int nuq_npu_map_job(struct nuq_npu *npu, struct nuq_job *job, struct nuq_npu_slot *slot,
		    u64 *pt_root)
{
	struct nuq_ctx *ctx = job->ctx;
	struct nuq_npu_vm *vm;
	int i, ret = 0;

	mutex_lock(&npu->mmu_lock);
	vm = nuq_npu_vm_get(npu, ctx);
	if (!vm) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < NUQ_T_COUNT; i++) {
		struct nuq_bo *bo = job->exec.bos[i];
		u32 handle = job->exec.desc.tensors[i].handle;
		struct nuq_npu_map *old;
		u64 va = (u64)handle << 32;

		slot->maps[i] = NULL;
		if (!bo)
			continue;
		if (handle >= NUQ_NPU_MAX_HANDLE) {
			ret = -EOVERFLOW;
			break;
		}
		if (!bo->dev_map) {
			old = nuq_npu_vm_find_va(vm, va);
			if (old && atomic_read(&old->users)) {
				ret = -EBUSY;
				break;
			}
			if (old)
				nuq_npu_unmap_bo(old);
			ret = nuq_npu_map_bo(vm, bo, va, &slot->maps[i]);
			if (ret)
				break;
		}
		slot->maps[i] = bo->dev_map;
		atomic_inc(&slot->maps[i]->users);
		/* Written by the CPU since the last job: make it the device's. */
		dma_sync_sgtable_for_device(nuq_npu_dma_dev(npu), &slot->maps[i]->sgt,
					    DMA_BIDIRECTIONAL);
	}
	if (ret) {
		while (i--)
			if (slot->maps[i])
				atomic_dec(&slot->maps[i]->users);
		memset(slot->maps, 0, sizeof(slot->maps));
		nuq_npu_vm_put_if_empty(vm);
		goto out;
	}
	*pt_root = vm->root->dma;
out:
	mutex_unlock(&npu->mmu_lock);
	return ret;
}

/* The job of @slot left the device: its results become the CPU's. */
void nuq_npu_unmap_job(struct nuq_npu *npu, struct nuq_npu_slot *slot)
{
	int i;

	for (i = 0; i < NUQ_T_COUNT; i++) {
		struct nuq_npu_map *map = slot->maps[i];

		if (!map)
			continue;
		/* Only after a teardown at removal is the mapping gone already. */
		if (!READ_ONCE(npu->stopping))
			dma_sync_sgtable_for_cpu(nuq_npu_dma_dev(npu), &map->sgt,
						 DMA_BIDIRECTIONAL);
		atomic_dec(&map->users);
		slot->maps[i] = NULL;
	}
}

/* backend_ops.bo_release: the BO's memory is about to be freed. */
void nuq_npu_bo_release(struct nuq_device *ndev, struct nuq_bo *bo)
{
	struct nuq_npu *npu = ndev->backend_priv;
	struct nuq_npu_map *map;

	if (!npu)
		return;
	mutex_lock(&npu->mmu_lock);
	map = bo->dev_map;
	if (map) {
		struct nuq_npu_vm *vm = map->vm;

		/* A job holds a BO reference: no job can be using it. */
		WARN_ON(atomic_read(&map->users));
		nuq_npu_unmap_bo(map);
		nuq_npu_vm_put_if_empty(vm);
	}
	mutex_unlock(&npu->mmu_lock);
}

/*
 * The device is dead but may still be running: take every translation
 * away before the jobs' memory is given back, so a wedged engine that
 * wakes up faults instead of writing into freed pages.
 */
void nuq_npu_mmu_fence(struct nuq_npu *npu)
{
	struct nuq_npu_vm *vm;

	mutex_lock(&npu->mmu_lock);
	list_for_each_entry(vm, &npu->vms, node)
		memset(vm->root->cpu, 0, NUQ_NPU_PAGE_SIZE);
	mutex_unlock(&npu->mmu_lock);
}

/*
 * Removal, after every job ended: undo every DMA mapping and free every
 * table while the PCI function is still bound; BOs released later find
 * nothing to unmap.
 */
void nuq_npu_mmu_teardown(struct nuq_npu *npu)
{
	struct nuq_npu_vm *vm, *tmp;
	struct nuq_npu_map *map, *mtmp;

	mutex_lock(&npu->mmu_lock);
	list_for_each_entry_safe(vm, tmp, &npu->vms, node) {
		list_for_each_entry_safe(map, mtmp, &vm->maps, node)
			nuq_npu_unmap_bo(map);
		nuq_npu_vm_put_if_empty(vm);
	}
	mutex_unlock(&npu->mmu_lock);
}
