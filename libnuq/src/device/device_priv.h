/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: the two implementations behind struct nuq_device.
 */
#ifndef NUQ_DEVICE_PRIV_H
#define NUQ_DEVICE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <nuq/device.h>

struct nuq_device_ops {
	int (*info)(struct nuq_device *dev, struct nuq_info *info);
	int (*bo_create)(struct nuq_device *dev, uint64_t size, uint32_t *handle);
	int (*bo_map)(struct nuq_device *dev, uint32_t handle, void **ptr, uint64_t *size);
	int (*bo_free)(struct nuq_device *dev, uint32_t handle);
	int (*submit)(struct nuq_device *dev, const struct nuq_conv_job *jobs,
		      unsigned int count, uint64_t *seqnos, struct nuq_submit_error *err);
	int (*wait)(struct nuq_device *dev, uint64_t seqno, int64_t timeout_ns, int *status);
	void (*close)(struct nuq_device *dev);
};

/* A mapping, or for the CPU device the memory itself. */
struct nuq_bo_slot {
	uint32_t handle;
	void *ptr;
	uint64_t size;
};

/* A finished CPU job, until nuq_wait() collects it. */
struct nuq_cpu_done {
	uint64_t seqno;
	int status;
};

struct nuq_device {
	const struct nuq_device_ops *ops;
	int fd;				/* kernel device, or -1 */
	struct nuq_bo_slot *bos;	/* mappings / CPU memory */
	size_t nr_bos, cap_bos;
	uint32_t next_handle;		/* CPU device */
	uint64_t last_seqno;		/* CPU device */
	struct nuq_cpu_done *done;	/* CPU device */
	size_t nr_done, cap_done;
};

extern const struct nuq_device_ops nuq_kernel_ops;
extern const struct nuq_device_ops nuq_cpu_ops;

struct nuq_bo_slot *nuq_bo_slot_find(struct nuq_device *dev, uint32_t handle);
int nuq_bo_slot_add(struct nuq_device *dev, uint32_t handle, void *ptr, uint64_t size);
void nuq_bo_slot_remove(struct nuq_device *dev, struct nuq_bo_slot *slot);

/* Run @job on the CPU with the device's BOs; status as the kernel would give. */
int nuq_cpu_run_job(struct nuq_device *dev, const struct nuq_conv_job *job, int *code);

#endif
