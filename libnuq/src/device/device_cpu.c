// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the device API on the CPU, for machines without nuq.ko.  BOs are
 * page-aligned heap memory with the kernel's limits; jobs run at submission
 * with the same core and the same validation, and keep their status until
 * nuq_wait() collects it, as on the device.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/conv.h>

#include "device_priv.h"
#include "nuq_conv.h"

#define CPU_MAX_BO_SIZE		(256ULL << 20)
#define CPU_MAX_UNREAPED	256

static int c_info(struct nuq_device *dev, struct nuq_info *info)
{
	(void)dev;
	memset(info, 0, sizeof(*info));
	info->uapi_version = NUQ_UAPI_VERSION;
	info->backend = NUQ_BACKEND_SOFTWARE;
	strcpy(info->name, "cpu");
	info->caps = NUQ_CAP_JOBS | NUQ_CAP_RESIDUAL;
	info->max_bo_size = CPU_MAX_BO_SIZE;
	info->max_jobs_in_flight = CPU_MAX_UNREAPED;
	info->weight_formats = 1u << NUQ_WFMT_INT8 | 1u << NUQ_WFMT_CODEBOOK | 1u << NUQ_WFMT_ASD;
	info->weight_bits = 0x1fe;
	info->act_formats = 1u << NUQ_AFMT_INT8 | 1u << NUQ_AFMT_UINT8;
	return 0;
}

static int c_bo_create(struct nuq_device *dev, uint64_t size, uint32_t *handle)
{
	uint64_t rounded = (size + 4095) & ~4095ULL;
	void *p;
	int ret;

	if (!size || size > CPU_MAX_BO_SIZE)
		return -EINVAL;
	p = aligned_alloc(4096, rounded);
	if (!p)
		return -ENOMEM;
	memset(p, 0, rounded);
	ret = nuq_bo_slot_add(dev, ++dev->next_handle, p, rounded);
	if (ret) {
		free(p);
		return ret;
	}
	*handle = dev->next_handle;
	return 0;
}

/* The memory is the mapping: nuq_bo_map() finds it before getting here. */
static int c_bo_map(struct nuq_device *dev, uint32_t handle, void **ptr, uint64_t *size)
{
	(void)dev;
	(void)handle;
	(void)ptr;
	(void)size;
	return -ENOENT;
}

static int c_bo_free(struct nuq_device *dev, uint32_t handle)
{
	struct nuq_bo_slot *slot = nuq_bo_slot_find(dev, handle);

	if (!slot)
		return -ENOENT;
	free(slot->ptr);
	nuq_bo_slot_remove(dev, slot);
	return 0;
}

int nuq_cpu_run_job(struct nuq_device *dev, const struct nuq_conv_job *job, int *code)
{
	void *base[NUQ_T_COUNT] = { 0 };
	size_t size[NUQ_T_COUNT] = { 0 };
	int i;

	for (i = 0; i < NUQ_T_COUNT; i++) {
		struct nuq_bo_slot *slot;

		if (!job->tensors[i].handle)
			continue;
		slot = nuq_bo_slot_find(dev, job->tensors[i].handle);
		if (!slot) {
			*code = NUQ_JOB_E_HANDLE;
			return -ENOENT;
		}
		base[i] = slot->ptr;
		size[i] = slot->size;
	}
	return nuq_conv_run_cpu(job, base, size, code);
}

/* Validation as SUBMIT does it: nothing runs unless every job is valid. */
static int c_check(struct nuq_device *dev, const struct nuq_conv_job *job, int *code)
{
	struct nuq_conv_plan plan;
	__u64 sizes[NUQ_T_COUNT] = { 0 };
	int i, ret;

	for (i = 0; i < NUQ_T_COUNT; i++) {
		struct nuq_bo_slot *slot;

		if (!job->tensors[i].handle)
			continue;
		slot = nuq_bo_slot_find(dev, job->tensors[i].handle);
		sizes[i] = slot ? slot->size : NUQ_BO_UNRESOLVED;
	}
	ret = nuq_conv_validate(job, sizes, &plan);
	*code = -ret;
	return ret ? -nuq_job_error_errno(ret) : 0;
}

static int c_submit(struct nuq_device *dev, const struct nuq_conv_job *jobs, unsigned int count,
		    uint64_t *seqnos, struct nuq_submit_error *err)
{
	unsigned int i;
	int code, ret;

	if (dev->nr_done + count > CPU_MAX_UNREAPED)
		return -EAGAIN;
	for (i = 0; i < count; i++) {
		ret = c_check(dev, &jobs[i], &code);
		if (ret) {
			if (err) {
				err->index = i;
				err->code = code;
			}
			return ret;
		}
	}
	if (dev->cap_done < dev->nr_done + count) {
		struct nuq_cpu_done *d = realloc(dev->done, CPU_MAX_UNREAPED * sizeof(*d));

		if (!d)
			return -ENOMEM;
		dev->done = d;
		dev->cap_done = CPU_MAX_UNREAPED;
	}
	for (i = 0; i < count; i++) {
		struct nuq_cpu_done *d = &dev->done[dev->nr_done++];

		d->seqno = seqnos[i] = ++dev->last_seqno;
		d->status = nuq_cpu_run_job(dev, &jobs[i], &code);
	}
	return 0;
}

static int c_wait(struct nuq_device *dev, uint64_t seqno, int64_t timeout_ns, int *status)
{
	size_t i;

	(void)timeout_ns;	/* jobs finish at submission */
	for (i = 0; i < dev->nr_done; i++) {
		if (dev->done[i].seqno == seqno) {
			*status = dev->done[i].status;
			dev->done[i] = dev->done[--dev->nr_done];
			return 0;
		}
	}
	return -ENOENT;
}

static void c_close(struct nuq_device *dev)
{
	size_t i;

	for (i = 0; i < dev->nr_bos; i++)
		free(dev->bos[i].ptr);
}

const struct nuq_device_ops nuq_cpu_ops = {
	.info = c_info,
	.bo_create = c_bo_create,
	.bo_map = c_bo_map,
	.bo_free = c_bo_free,
	.submit = c_submit,
	.wait = c_wait,
	.close = c_close,
};
