// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: opening a device and the calls every implementation shares.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nuq/nuq.h>

#include "device_priv.h"

int nuq_device_open(const char *path, unsigned int flags, struct nuq_device **out)
{
	struct nuq_device *dev;
	struct nuq_info info;
	char def[64];
	int ret;

	*out = NULL;
	if (flags & ~(NUQ_OPEN_CPU_FALLBACK | NUQ_OPEN_CPU))
		return -EINVAL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->fd = -1;
	dev->ops = &nuq_cpu_ops;
	if (!(flags & NUQ_OPEN_CPU)) {
		dev->fd = open(path ? path : nuq_device_default(def, sizeof(def)), O_RDWR | O_CLOEXEC);
		if (dev->fd < 0) {
			ret = -errno;
			if (!(flags & NUQ_OPEN_CPU_FALLBACK) || (ret != -ENOENT && ret != -ENXIO &&
								 ret != -ENODEV)) {
				free(dev);
				return ret;
			}
		} else {
			dev->ops = &nuq_kernel_ops;
			ret = nuq_query_info(dev->fd, &info);	/* a nuq device, our UAPI */
			if (ret) {
				close(dev->fd);
				free(dev);
				return ret;
			}
		}
	}
	*out = dev;
	return 0;
}

void nuq_device_close(struct nuq_device *dev)
{
	if (!dev)
		return;
	dev->ops->close(dev);
	free(dev->bos);
	free(dev->done);
	if (dev->fd >= 0)
		close(dev->fd);
	free(dev);
}

int nuq_device_is_cpu(const struct nuq_device *dev)
{
	return dev->ops == &nuq_cpu_ops;
}

int nuq_device_info(struct nuq_device *dev, struct nuq_info *info)
{
	return dev->ops->info(dev, info);
}

int nuq_bo_create(struct nuq_device *dev, uint64_t size, uint32_t *handle)
{
	return dev->ops->bo_create(dev, size, handle);
}

int nuq_bo_map(struct nuq_device *dev, uint32_t handle, void **ptr, uint64_t *size)
{
	struct nuq_bo_slot *slot = nuq_bo_slot_find(dev, handle);

	if (slot) {
		*ptr = slot->ptr;
		if (size)
			*size = slot->size;
		return 0;
	}
	return dev->ops->bo_map(dev, handle, ptr, size);
}

int nuq_bo_free(struct nuq_device *dev, uint32_t handle)
{
	return dev->ops->bo_free(dev, handle);
}

int nuq_submit(struct nuq_device *dev, const struct nuq_conv_job *jobs, unsigned int count,
	       uint64_t *seqnos, struct nuq_submit_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
	if (!count || count > NUQ_MAX_BATCH || !jobs || !seqnos)
		return -EINVAL;
	return dev->ops->submit(dev, jobs, count, seqnos, err);
}

int nuq_wait(struct nuq_device *dev, uint64_t seqno, int64_t timeout_ns, int *status)
{
	return dev->ops->wait(dev, seqno, timeout_ns, status);
}

struct nuq_bo_slot *nuq_bo_slot_find(struct nuq_device *dev, uint32_t handle)
{
	size_t i;

	for (i = 0; i < dev->nr_bos; i++)
		if (dev->bos[i].handle == handle)
			return &dev->bos[i];
	return NULL;
}

int nuq_bo_slot_add(struct nuq_device *dev, uint32_t handle, void *ptr, uint64_t size)
{
	if (dev->nr_bos == dev->cap_bos) {
		size_t cap = dev->cap_bos ? 2 * dev->cap_bos : 16;
		struct nuq_bo_slot *b = realloc(dev->bos, cap * sizeof(*b));

		if (!b)
			return -ENOMEM;
		dev->bos = b;
		dev->cap_bos = cap;
	}
	dev->bos[dev->nr_bos++] = (struct nuq_bo_slot){ handle, ptr, size };
	return 0;
}

void nuq_bo_slot_remove(struct nuq_device *dev, struct nuq_bo_slot *slot)
{
	*slot = dev->bos[--dev->nr_bos];
}
