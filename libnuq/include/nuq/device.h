/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: the device API - buffer objects and conv jobs on /dev/nuqN, or on
 * the CPU (the same integer core) when no device is there.
 *
 * Every function returns 0 or a negative errno (see nuq_strerror()).
 */
#ifndef NUQ_DEVICE_H
#define NUQ_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/nuq.h>

struct nuq_device;
struct nuq_ring;

/* nuq_device_open() flags */
#define NUQ_OPEN_CPU_FALLBACK	(1u << 0)	/* CPU device if the node does not exist */
#define NUQ_OPEN_CPU		(1u << 1)	/* CPU device, never the kernel */

/*
 * The device used when none is named: $NUQ_DEVICE if set, else the first
 * /dev/nuqN whose backend is the NPU, else /dev/nuq0.  Writes the path into
 * @buf (@len bytes, 32 are enough for /dev/nuqN) and returns @buf.
 */
const char *nuq_device_default(char *buf, size_t len);

/* Open @path (NULL: nuq_device_default()). */
int nuq_device_open(const char *path, unsigned int flags, struct nuq_device **dev);
void nuq_device_close(struct nuq_device *dev);
/* 1 when jobs run on the CPU, 0 when on a kernel device. */
int nuq_device_is_cpu(const struct nuq_device *dev);
int nuq_device_info(struct nuq_device *dev, struct nuq_info *info);

int nuq_bo_create(struct nuq_device *dev, uint64_t size, uint32_t *handle);
/* Map a BO (once; later calls return the same mapping). */
int nuq_bo_map(struct nuq_device *dev, uint32_t handle, void **ptr, uint64_t *size);
/* Unmap and drop the handle; jobs still using the BO keep it alive. */
int nuq_bo_free(struct nuq_device *dev, uint32_t handle);

/* Why nuq_submit() refused a batch. */
struct nuq_submit_error {
	unsigned int index;	/* the refused job */
	int code;		/* enum nuq_job_error, see nuq_job_error_str() */
};

/* Queue @count jobs (1..NUQ_MAX_BATCH); all or none. */
int nuq_submit(struct nuq_device *dev, const struct nuq_conv_job *jobs, unsigned int count,
	       uint64_t *seqnos, struct nuq_submit_error *err);
/*
 * Wait for a job (@timeout_ns 0 polls, < 0 waits forever).  Returns 0 and
 * the job's result in *@status, or -ETIME, -ENOENT, ...
 */
int nuq_wait(struct nuq_device *dev, uint64_t seqno, int64_t timeout_ns, int *status);

/* io_uring submission */
#define NUQ_RING_SQPOLL		(1u << 0)

struct nuq_completion {
	uint64_t user_data;	/* as given to nuq_ring_submit() */
	int status;		/* 0, or the first failure of the submission */
	unsigned int count;	/* jobs in the submission */
};

int nuq_ring_init(struct nuq_device *dev, unsigned int entries, unsigned int flags,
		  struct nuq_ring **ring);
/*
 * Queue @count jobs (1..NUQ_MAX_BATCH) as one command (a batch when
 * count > 1) and send every queued command to the kernel.  The jobs are
 * copied: the caller's array may be reused at once.  -EBUSY when the ring
 * has no free slot: reap first.
 */
int nuq_ring_submit(struct nuq_ring *ring, const struct nuq_conv_job *jobs, unsigned int count,
		    uint64_t user_data);
/* Collect up to @max completions, waiting until at least @min_wait are there. */
int nuq_ring_reap(struct nuq_ring *ring, struct nuq_completion *out, unsigned int max,
		  unsigned int min_wait);
void nuq_ring_exit(struct nuq_ring *ring);

#endif
