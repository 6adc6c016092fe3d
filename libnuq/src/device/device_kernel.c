// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the device API on a kernel device, by ioctl.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <nuq/nuq.h>

#include "device_priv.h"

static int k_info(struct nuq_device *dev, struct nuq_info *info)
{
	return nuq_query_info(dev->fd, info);
}

static int k_bo_create(struct nuq_device *dev, uint64_t size, uint32_t *handle)
{
	struct nuq_bo_create c = { .size = size };

	if (ioctl(dev->fd, NUQ_IOCTL_BO_CREATE, &c))
		return -errno;
	*handle = c.handle;
	return 0;
}

static int k_bo_map(struct nuq_device *dev, uint32_t handle, void **ptr, uint64_t *size)
{
	struct nuq_bo_info i = { .handle = handle };
	void *p;
	int ret;

	if (ioctl(dev->fd, NUQ_IOCTL_BO_INFO, &i))
		return -errno;
	p = mmap(NULL, i.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd, i.mmap_offset);
	if (p == MAP_FAILED)
		return -errno;
	ret = nuq_bo_slot_add(dev, handle, p, i.size);
	if (ret) {
		munmap(p, i.size);
		return ret;
	}
	*ptr = p;
	if (size)
		*size = i.size;
	return 0;
}

static int k_bo_free(struct nuq_device *dev, uint32_t handle)
{
	struct nuq_bo_free f = { .handle = handle };
	struct nuq_bo_slot *slot = nuq_bo_slot_find(dev, handle);

	if (ioctl(dev->fd, NUQ_IOCTL_BO_FREE, &f))
		return -errno;
	if (slot) {
		munmap(slot->ptr, slot->size);
		nuq_bo_slot_remove(dev, slot);
	}
	return 0;
}

static int k_submit(struct nuq_device *dev, const struct nuq_conv_job *jobs, unsigned int count,
		    uint64_t *seqnos, struct nuq_submit_error *err)
{
	struct nuq_submit s = {
		.jobs = (uintptr_t)jobs, .seqnos = (uintptr_t)seqnos,
		.count = count, .job_size = sizeof(*jobs),
	};

	if (!ioctl(dev->fd, NUQ_IOCTL_SUBMIT, &s))
		return 0;
	if (err) {
		err->index = s.error_index;
		err->code = s.error_code;
	}
	return -errno;
}

static int k_wait(struct nuq_device *dev, uint64_t seqno, int64_t timeout_ns, int *status)
{
	struct nuq_wait w = { .seqno = seqno, .timeout_ns = timeout_ns };

	if (ioctl(dev->fd, NUQ_IOCTL_WAIT, &w))
		return -errno;
	*status = w.status;
	return 0;
}

static void k_close(struct nuq_device *dev)
{
	size_t i;

	for (i = 0; i < dev->nr_bos; i++)
		munmap(dev->bos[i].ptr, dev->bos[i].size);
}

const struct nuq_device_ops nuq_kernel_ops = {
	.info = k_info,
	.bo_create = k_bo_create,
	.bo_map = k_bo_map,
	.bo_free = k_bo_free,
	.submit = k_submit,
	.wait = k_wait,
	.close = k_close,
};
