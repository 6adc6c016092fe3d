/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * nuq: quantized CNN accelerator interface.
 *
 * The single UAPI header of nuq.  Every structure here is validated by the
 * driver: sizes are encoded in the ioctl numbers and checked, and every
 * reserved or padding field must be zero on input (EINVAL otherwise), so
 * that later versions can give those fields a meaning.
 *
 * See Documentation/uapi.rst.
 */
#ifndef _UAPI_LINUX_NUQ_H
#define _UAPI_LINUX_NUQ_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#if defined(__cplusplus)
extern "C" {
#endif

/* UAPI version: major changes break old userspace, minor ones add. */
#define NUQ_UAPI_VERSION_MAJOR	0
#define NUQ_UAPI_VERSION_MINOR	1
#define NUQ_UAPI_VERSION	((NUQ_UAPI_VERSION_MAJOR << 16) | \
				 NUQ_UAPI_VERSION_MINOR)

#define NUQ_NAME_LEN		32

/**
 * enum nuq_backend_kind - what executes a device's jobs
 * @NUQ_BACKEND_SOFTWARE: the integer conv core running on host CPUs
 * @NUQ_BACKEND_NPU: the nuq PCIe NPU (see Documentation/npu.rst)
 */
enum nuq_backend_kind {
	NUQ_BACKEND_SOFTWARE = 0,
	NUQ_BACKEND_NPU = 1,
};

/**
 * enum nuq_weight_format - how a conv job's weights are encoded
 * @NUQ_WFMT_INT8: uniform int8, one scale per output channel
 * @NUQ_WFMT_CODEBOOK: bit-packed 1-8 bit indices into int8/int16 codebooks
 * @NUQ_WFMT_ASD: at most two signed power-of-two digits per weight
 */
enum nuq_weight_format {
	NUQ_WFMT_INT8 = 0,
	NUQ_WFMT_CODEBOOK = 1,
	NUQ_WFMT_ASD = 2,
};

/**
 * enum nuq_act_format - element type of activation tensors
 * @NUQ_AFMT_INT8: signed 8-bit
 * @NUQ_AFMT_UINT8: unsigned 8-bit
 */
enum nuq_act_format {
	NUQ_AFMT_INT8 = 0,
	NUQ_AFMT_UINT8 = 1,
};

/*
 * Capability bits of struct nuq_info.caps.  A bit is set only when the
 * running driver implements the feature.
 */
#define NUQ_CAP_JOBS		_BITULL(0)	/* NUQ_IOCTL_SUBMIT/WAIT */
#define NUQ_CAP_URING_CMD	_BITULL(1)	/* IORING_OP_URING_CMD */
#define NUQ_CAP_DMABUF		_BITULL(2)	/* dma-buf import/export */
#define NUQ_CAP_RESIDUAL	_BITULL(3)	/* fused residual add */

/**
 * struct nuq_info - argument of %NUQ_IOCTL_GET_INFO
 * @flags: in, must be 0
 * @uapi_version: out, %NUQ_UAPI_VERSION of the driver
 * @index: out, N of /dev/nuqN
 * @backend: out, &enum nuq_backend_kind
 * @name: out, NUL-terminated device name
 * @caps: out, %NUQ_CAP_* bits
 * @max_bo_size: out, largest buffer object in bytes
 * @max_jobs_in_flight: out, per-context cap on queued plus running jobs
 * @weight_formats: out, bit (1 << &enum nuq_weight_format) per format
 * @weight_bits: out, bit n set when n-bit codebook indices work (1..8)
 * @act_formats: out, bit (1 << &enum nuq_act_format) per format
 * @rsvd: in, must be 0
 */
struct nuq_info {
	__u32 flags;
	__u32 uapi_version;
	__u32 index;
	__u32 backend;
	char name[NUQ_NAME_LEN];
	__u64 caps;
	__u64 max_bo_size;
	__u32 max_jobs_in_flight;
	__u32 weight_formats;
	__u32 weight_bits;
	__u32 act_formats;
	__u64 rsvd[8];
};

/*
 * Buffer objects.  A BO is zeroed memory that both the process (through
 * mmap() of the device file at @mmap_offset) and jobs (by handle + offset)
 * can reach.  Handles are per context and never 0.
 */

/**
 * struct nuq_bo_create - argument of %NUQ_IOCTL_BO_CREATE
 * @size: in, bytes (1 to &nuq_info.max_bo_size); rounded up to whole pages
 * @flags: in, must be 0
 * @handle: out, handle of the new BO
 * @rsvd: in, must be 0
 */
struct nuq_bo_create {
	__u64 size;
	__u32 flags;
	__u32 handle;
	__u64 rsvd[2];
};

/**
 * struct nuq_bo_info - argument of %NUQ_IOCTL_BO_INFO
 * @handle: in, the BO
 * @flags: in, must be 0
 * @size: out, size in bytes (a multiple of the page size)
 * @mmap_offset: out, offset to pass to mmap() on the same file
 * @rsvd: in, must be 0
 */
struct nuq_bo_info {
	__u32 handle;
	__u32 flags;
	__u64 size;
	__u64 mmap_offset;
	__u64 rsvd[2];
};

/**
 * struct nuq_bo_free - argument of %NUQ_IOCTL_BO_FREE
 * @handle: in, the BO; its memory lives on while mapped or used by a job
 * @flags: in, must be 0
 * @rsvd: in, must be 0
 */
struct nuq_bo_free {
	__u32 handle;
	__u32 flags;
	__u64 rsvd[2];
};

/* Most jobs one %NUQ_IOCTL_SUBMIT or batch uring command may carry. */
#define NUQ_MAX_BATCH		256

/**
 * struct nuq_submit - argument of %NUQ_IOCTL_SUBMIT
 * @jobs: in, user pointer to @count job descriptors (struct nuq_conv_job)
 * @seqnos: in, user pointer to @count __u64; out, a sequence number per job
 * @count: in, 1 to %NUQ_MAX_BATCH
 * @job_size: in, sizeof(struct nuq_conv_job) as the caller knows it
 * @flags: in, must be 0
 * @error_index: out, on failure the index of the job that was refused
 * @error_code: out, on failure why (a NUQ_JOB_E_* value, 0 if none applies)
 * @pad: in, must be 0
 * @rsvd: in, must be 0
 *
 * Every descriptor is validated before any is queued: on failure nothing
 * of the batch was queued, and @error_index/@error_code say which job and
 * why (they are written back even though the ioctl fails).
 */
struct nuq_submit {
	__u64 jobs;
	__u64 seqnos;
	__u32 count;
	__u32 job_size;
	__u32 flags;
	__u32 error_index;
	__s32 error_code;
	__u32 pad;
	__u64 rsvd[2];
};

/**
 * struct nuq_wait - argument of %NUQ_IOCTL_WAIT
 * @seqno: in, a sequence number from %NUQ_IOCTL_SUBMIT on this context
 * @timeout_ns: in, how long to wait: 0 only polls, negative waits forever
 * @status: out, the job's result: 0, or -ETIMEDOUT (the job ran past its
 *	timeout), -ECANCELED (cancelled, e.g. by a device reset), -EIO
 *	(the backend failed)
 * @flags: in, must be 0
 * @rsvd: in, must be 0
 *
 * Returns 0 once the job has finished, and then forgets it (a second wait
 * for the same number fails with ENOENT); ETIME if @timeout_ns passed
 * first; ENOENT for a number this context does not know.
 */
struct nuq_wait {
	__u64 seqno;
	__s64 timeout_ns;
	__s32 status;
	__u32 flags;
	__u64 rsvd[2];
};

/*
 * io_uring: IORING_OP_URING_CMD on the device file.  The command payload
 * fits the 16 bytes of a normal SQE (no IORING_SETUP_SQE128 needed).
 */
#define NUQ_URING_CMD_SUBMIT		1
#define NUQ_URING_CMD_SUBMIT_BATCH	2

/**
 * struct nuq_uring_submit - payload of %NUQ_URING_CMD_SUBMIT
 * @job: user pointer to one struct nuq_conv_job
 * @job_size: sizeof(struct nuq_conv_job) as the caller knows it
 * @flags: must be 0
 *
 * The CQE's res is the job's status (see &struct nuq_wait.status), or a
 * negative errno if the descriptor was refused.
 */
struct nuq_uring_submit {
	__u64 job;
	__u32 job_size;
	__u32 flags;
};

/**
 * struct nuq_uring_batch - what %NUQ_URING_CMD_SUBMIT_BATCH points at
 * @jobs: user pointer to @count job descriptors
 * @statuses: user pointer to @count __s32 that receive each job's status,
 *	or 0
 * @count: 1 to %NUQ_MAX_BATCH
 * @job_size: sizeof(struct nuq_conv_job) as the caller knows it
 * @flags: must be 0
 * @pad: must be 0
 *
 * The payload of the command is a &struct nuq_uring_submit whose @job
 * points at this structure and whose @job_size is its size.  The CQE
 * completes when every job has finished; its res is 0 if all succeeded,
 * otherwise the status of the first failed job in array order.
 */
struct nuq_uring_batch {
	__u64 jobs;
	__u64 statuses;
	__u32 count;
	__u32 job_size;
	__u32 flags;
	__u32 pad;
};

/*
 * ioctl numbers.  The driver dispatches on the number alone and then
 * checks direction and size, so a caller built against a struct of another
 * size gets EINVAL rather than a silently different command.
 */
#define NUQ_IOCTL_BASE		'N'
#define NUQ_IOCTL_NR_GET_INFO	0x40

#define NUQ_IOCTL_GET_INFO	_IOWR(NUQ_IOCTL_BASE, NUQ_IOCTL_NR_GET_INFO, \
				      struct nuq_info)
#define NUQ_IOCTL_BO_CREATE	_IOWR(NUQ_IOCTL_BASE, 0x41, struct nuq_bo_create)
#define NUQ_IOCTL_BO_INFO	_IOWR(NUQ_IOCTL_BASE, 0x42, struct nuq_bo_info)
#define NUQ_IOCTL_BO_FREE	_IOW(NUQ_IOCTL_BASE, 0x43, struct nuq_bo_free)
#define NUQ_IOCTL_SUBMIT	_IOWR(NUQ_IOCTL_BASE, 0x44, struct nuq_submit)
#define NUQ_IOCTL_WAIT		_IOWR(NUQ_IOCTL_BASE, 0x45, struct nuq_wait)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_LINUX_NUQ_H */
