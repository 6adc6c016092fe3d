/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the job-path selftests: put a test job's tensors into BOs,
 * submit through ioctl or io_uring, read sysfs counters, set the fault knob.
 */
#ifndef NUQ_JOBS_H
#define NUQ_JOBS_H

#include <liburing.h>
#include <stdint.h>
#include <sys/mman.h>

#include "conv_ref.h"
#include "nuq_selftest.h"

/* A test job living in BOs of one open file. */
struct dev_job {
	struct nuq_conv_job job;	/* handles point at BOs */
	uint32_t handle[NUQ_T_COUNT];
	uint8_t *map[NUQ_T_COUNT];
	size_t size[NUQ_T_COUNT];
};

static inline int bo_create(int fd, uint64_t size, uint32_t *handle)
{
	struct nuq_bo_create c = { .size = size };

	if (ioctl(fd, NUQ_IOCTL_BO_CREATE, &c))
		return -errno;
	*handle = c.handle;
	return 0;
}

static inline void *bo_map(int fd, uint32_t handle, size_t *size)
{
	struct nuq_bo_info i = { .handle = handle };
	void *p;

	if (ioctl(fd, NUQ_IOCTL_BO_INFO, &i))
		return NULL;
	p = mmap(NULL, i.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, i.mmap_offset);
	if (size)
		*size = i.size;
	return p == MAP_FAILED ? NULL : p;
}

static inline int bo_free(int fd, uint32_t handle)
{
	struct nuq_bo_free f = { .handle = handle };

	return ioctl(fd, NUQ_IOCTL_BO_FREE, &f) ? -errno : 0;
}

static inline int dev_job_upload(int fd, const struct test_job *tj, struct dev_job *dj)
{
	int i;

	memset(dj, 0, sizeof(*dj));
	dj->job = tj->job;
	for (i = 0; i < NUQ_T_COUNT; i++) {
		if (!tj->size[i])
			continue;
		if (bo_create(fd, tj->size[i], &dj->handle[i]))
			return -1;
		dj->map[i] = bo_map(fd, dj->handle[i], &dj->size[i]);
		if (!dj->map[i])
			return -1;
		memcpy(dj->map[i], tj->buf[i], tj->size[i]);
		dj->job.tensors[i].handle = dj->handle[i];
	}
	return 0;
}

static inline void dev_job_release(int fd, struct dev_job *dj)
{
	int i;

	for (i = 0; i < NUQ_T_COUNT; i++) {
		if (dj->map[i])
			munmap(dj->map[i], dj->size[i]);
		if (dj->handle[i])
			bo_free(fd, dj->handle[i]);
	}
	memset(dj, 0, sizeof(*dj));
}

static inline int submit(int fd, const struct nuq_conv_job *jobs, uint32_t count,
			 uint64_t *seqnos, struct nuq_submit *out)
{
	struct nuq_submit s = {
		.jobs = (uintptr_t)jobs, .seqnos = (uintptr_t)seqnos,
		.count = count, .job_size = sizeof(*jobs),
	};
	int ret = ioctl(fd, NUQ_IOCTL_SUBMIT, &s) ? -errno : 0;

	if (out)
		*out = s;
	return ret;
}

/* Waits; returns the ioctl's -errno, or the job's status. */
static inline int wait_job(int fd, uint64_t seqno, int64_t timeout_ns)
{
	struct nuq_wait w = { .seqno = seqno, .timeout_ns = timeout_ns };

	if (ioctl(fd, NUQ_IOCTL_WAIT, &w))
		return -errno;
	return w.status;
}

/*
 * Fill the next SQE by hand: Debian's liburing 2.3 has no io_uring_prep_cmd().
 * Tests size their rings so an SQE is always free.
 */
static inline void prep_nuq_cmd(struct io_uring *ring, int fd, uint32_t op,
				const void *ptr, uint32_t size, uint64_t user_data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct nuq_uring_submit *cmd;

	if (!sqe)
		abort();
	cmd = (struct nuq_uring_submit *)&sqe->addr3;
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = op;
	sqe->user_data = user_data;
	cmd->job = (uintptr_t)ptr;
	cmd->job_size = size;
	cmd->flags = 0;
}

/* The number a sysfs/cgroup file @path holds, or -1 if it does not exist. */
static inline long long read_number(const char *path)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoll(buf, NULL, 0);
}

/* A counter of /sys/class/nuq/@dev/ (@dev like "nuq1"), or -1 if it does not exist. */
static inline long long nuq_sysfs_stat(const char *dev, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/nuq/%s/%s", dev, name);
	return read_number(path);
}

/* A counter of the device under test (see nuq_test_dev()). */
static inline long long sysfs_stat(const char *name)
{
	return nuq_sysfs_stat(strrchr(nuq_test_dev(), '/') + 1, name);
}

static inline int write_file(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -errno;
	ret = fputs(value, f) < 0 ? -EIO : 0;
	if (fclose(f))
		ret = -errno;
	return ret;
}

static inline void fault_set(const char *kind, const char *times, const char *slow_ms)
{
	write_file("/sys/kernel/debug/nuq/nuq0/fault/kind", kind);
	write_file("/sys/kernel/debug/nuq/nuq0/fault/times", times);
	write_file("/sys/kernel/debug/nuq/nuq0/fault/slow_ms", slow_ms);
	write_file("/sys/kernel/debug/nuq/nuq0/fault/probability", "100");
	write_file("/sys/kernel/debug/nuq/nuq0/fault/interval", "1");
}

/* A small valid job of weight format @wfmt, built from @seed. */
static inline int small_job(struct test_job *tj, uint32_t wfmt, uint32_t bits, uint64_t seed)
{
	struct test_rng r = { seed };
	struct test_shape s = {
		.batch = 1, .in_h = 8, .in_w = 8, .in_c = 8, .out_c = 8, .kh = 3, .kw = 3,
		.sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pb = 1, .pl = 1, .pr = 1,
		.groups = 1, .wfmt = wfmt, .bits = bits,
	};

	return test_job_make(tj, &s, &r);
}

#endif
