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
 * Convolution jobs.  See Documentation/conv-job.rst for the exact layout of
 * every tensor and the integer arithmetic.
 */

/**
 * enum nuq_prio - job priority; a higher level always runs first
 * @NUQ_PRIO_LOW: background work
 * @NUQ_PRIO_NORMAL: the default
 * @NUQ_PRIO_HIGH: latency sensitive
 * @NUQ_PRIO_REALTIME: needs CAP_SYS_NICE
 */
enum nuq_prio {
	NUQ_PRIO_LOW = 0,
	NUQ_PRIO_NORMAL = 1,
	NUQ_PRIO_HIGH = 2,
	NUQ_PRIO_REALTIME = 3,
};

/**
 * enum nuq_tensor_slot - index into &nuq_conv_job.tensors
 * @NUQ_T_INPUT: activations, N x H x W x C (NHWC), in_format
 * @NUQ_T_OUTPUT: activations, N x OH x OW x OC, out_format
 * @NUQ_T_WEIGHTS: int8 values, packed codebook indices or ASD digit pairs
 * @NUQ_T_CODEBOOK: codebook entries (codebook format only)
 * @NUQ_T_BIAS: __s32 per output channel; optional (handle 0: zero bias)
 * @NUQ_T_REQUANT: per output channel a __s32 multiplier and a __s32 shift
 * @NUQ_T_RESIDUAL: tensor added to the output (%NUQ_JOB_F_RESIDUAL only)
 * @NUQ_T_COUNT: number of slots
 */
enum nuq_tensor_slot {
	NUQ_T_INPUT = 0,
	NUQ_T_OUTPUT = 1,
	NUQ_T_WEIGHTS = 2,
	NUQ_T_CODEBOOK = 3,
	NUQ_T_BIAS = 4,
	NUQ_T_REQUANT = 5,
	NUQ_T_RESIDUAL = 6,
	NUQ_T_COUNT = 7,
};

/**
 * struct nuq_tensor_ref - a tensor inside a buffer object
 * @handle: the BO; 0 for an absent optional tensor
 * @rsvd: must be 0
 * @offset: byte offset of the tensor in the BO
 */
struct nuq_tensor_ref {
	__u32 handle;
	__u32 rsvd;
	__u64 offset;
};

/* Job flags */
#define NUQ_JOB_F_RESIDUAL		_BITUL(0) /* add NUQ_T_RESIDUAL */
#define NUQ_JOB_F_CODEBOOK_PER_LAYER	_BITUL(1) /* one codebook, not one per channel */
#define NUQ_JOB_F_CODEBOOK_INT16	_BITUL(2) /* __s16 entries instead of __s8 */
#define NUQ_JOB_FLAGS_ALL		(NUQ_JOB_F_RESIDUAL | \
					 NUQ_JOB_F_CODEBOOK_PER_LAYER | \
					 NUQ_JOB_F_CODEBOOK_INT16)

/**
 * enum nuq_cb_strategy - how codebook weights are computed with
 * @NUQ_CB_AUTO: the core picks per layer
 * @NUQ_CB_DIRECT: look each weight up and multiply (K multiplies)
 * @NUQ_CB_ENTRY_SUM: sum the inputs that share an index, then multiply
 *	each sum by its entry (2^bits multiplies per output)
 *
 * All strategies give identical results; they differ only in speed.
 */
enum nuq_cb_strategy {
	NUQ_CB_AUTO = 0,
	NUQ_CB_DIRECT = 1,
	NUQ_CB_ENTRY_SUM = 2,
};

/**
 * struct nuq_conv_job - a quantized 2-D convolution
 * @flags: NUQ_JOB_F_*
 * @priority: &enum nuq_prio
 * @timeout_ms: how long the job may run; 0 for the driver's default
 * @weight_format: &enum nuq_weight_format
 * @batch: N
 * @in_h: input height
 * @in_w: input width
 * @in_c: input channels
 * @out_h: output height; must equal the value the shape implies
 * @out_w: output width; likewise
 * @out_c: output channels
 * @kernel_h: kernel height
 * @kernel_w: kernel width
 * @stride_h: vertical stride (1 or more)
 * @stride_w: horizontal stride
 * @dilation_h: vertical dilation (1 or more)
 * @dilation_w: horizontal dilation
 * @pad_top: zero-point rows added above the input
 * @pad_bottom: rows added below
 * @pad_left: columns added on the left
 * @pad_right: columns added on the right
 * @groups: in_c and out_c are split into this many groups (in_c for
 *	depthwise); a fully connected layer is a 1x1 convolution
 * @weight_bits: codebook index width, 1-8 (codebook format); 8 (int8); 0 (ASD)
 * @cb_strategy: &enum nuq_cb_strategy (codebook format), otherwise 0
 * @in_format: &enum nuq_act_format of the input
 * @out_format: &enum nuq_act_format of the output and the residual
 * @in_zero_point: input zero point, in the input format's range
 * @out_zero_point: output zero point, in the output format's range
 * @out_min: lower clamp of the output, in the output format's range
 * @out_max: upper clamp (out_min <= out_max): gives fused ReLU / ReLU6
 * @res_zero_point: zero point of the residual
 * @res_multiplier: residual rescale multiplier, 0 or in [2^30, 2^31)
 * @res_shift: residual rescale shift, -31 to 30
 * @pad: must be 0
 * @tensors: the tensors, indexed by &enum nuq_tensor_slot
 * @rsvd: must be 0
 */
struct nuq_conv_job {
	__u32 flags;
	__u32 priority;
	__u32 timeout_ms;
	__u32 weight_format;

	__u32 batch;
	__u32 in_h;
	__u32 in_w;
	__u32 in_c;
	__u32 out_h;
	__u32 out_w;
	__u32 out_c;
	__u32 kernel_h;
	__u32 kernel_w;
	__u32 stride_h;
	__u32 stride_w;
	__u32 dilation_h;
	__u32 dilation_w;
	__u32 pad_top;
	__u32 pad_bottom;
	__u32 pad_left;
	__u32 pad_right;
	__u32 groups;

	__u32 weight_bits;
	__u32 cb_strategy;
	__u32 in_format;
	__u32 out_format;
	__s32 in_zero_point;
	__s32 out_zero_point;
	__s32 out_min;
	__s32 out_max;
	__s32 res_zero_point;
	__s32 res_multiplier;
	__s32 res_shift;
	__u32 pad;

	struct nuq_tensor_ref tensors[NUQ_T_COUNT];
	__u64 rsvd[4];
};

/**
 * enum nuq_job_error - why a job descriptor was refused
 *
 * Reported in &struct nuq_submit.error_code; each maps to an errno.
 * @NUQ_JOB_E_NONE: no error
 * @NUQ_JOB_E_RESERVED: a reserved or padding field is not 0 (EINVAL)
 * @NUQ_JOB_E_FLAGS: an unknown flag is set (EINVAL)
 * @NUQ_JOB_E_PRIORITY: priority is not an &enum nuq_prio (EINVAL)
 * @NUQ_JOB_E_WEIGHT_FORMAT: unknown weight format or strategy (EINVAL)
 * @NUQ_JOB_E_ACT_FORMAT: unknown activation format (EINVAL)
 * @NUQ_JOB_E_BITS: weight_bits does not fit the weight format (EINVAL)
 * @NUQ_JOB_E_SHAPE: a dimension is 0 or above %NUQ_MAX_DIM (EINVAL)
 * @NUQ_JOB_E_GROUPS: groups is 0 or does not divide in_c and out_c (EINVAL)
 * @NUQ_JOB_E_STRIDE: a stride or dilation is 0 or above %NUQ_MAX_DIM (EINVAL)
 * @NUQ_JOB_E_OUT_SHAPE: out_h/out_w differ from what the shape implies,
 *	or the padded input is smaller than the dilated kernel (EINVAL)
 * @NUQ_JOB_E_ZERO_POINT: a zero point is outside its format's range (EINVAL)
 * @NUQ_JOB_E_CLAMP: out_min/out_max outside the range or reversed (EINVAL)
 * @NUQ_JOB_E_RESIDUAL: residual parameters invalid, or residual fields set
 *	without %NUQ_JOB_F_RESIDUAL (EINVAL)
 * @NUQ_JOB_E_TENSOR_MISSING: a required tensor has handle 0, or a tensor
 *	the job does not use has a non-zero handle (EINVAL)
 * @NUQ_JOB_E_HANDLE: a handle does not name a BO of this context (ENOENT)
 * @NUQ_JOB_E_BOUNDS: a tensor extends past the end of its BO (ERANGE)
 * @NUQ_JOB_E_OVERFLOW: a size computation overflows (EOVERFLOW)
 * @NUQ_JOB_E_ALIGN: a __s32/__s16 tensor is not aligned to its size (EINVAL)
 * @NUQ_JOB_E_REQUANT: a requantization multiplier or shift in the
 *	NUQ_T_REQUANT tensor is out of range; found while running, so the
 *	job ends with -EINVAL (EINVAL)
 * @NUQ_JOB_E_ASD_DIGIT: an ASD digit byte is malformed; found while
 *	running (EINVAL)
 * @NUQ_JOB_E_COUNT: number of codes
 */
enum nuq_job_error {
	NUQ_JOB_E_NONE = 0,
	NUQ_JOB_E_RESERVED,
	NUQ_JOB_E_FLAGS,
	NUQ_JOB_E_PRIORITY,
	NUQ_JOB_E_WEIGHT_FORMAT,
	NUQ_JOB_E_ACT_FORMAT,
	NUQ_JOB_E_BITS,
	NUQ_JOB_E_SHAPE,
	NUQ_JOB_E_GROUPS,
	NUQ_JOB_E_STRIDE,
	NUQ_JOB_E_OUT_SHAPE,
	NUQ_JOB_E_ZERO_POINT,
	NUQ_JOB_E_CLAMP,
	NUQ_JOB_E_RESIDUAL,
	NUQ_JOB_E_TENSOR_MISSING,
	NUQ_JOB_E_HANDLE,
	NUQ_JOB_E_BOUNDS,
	NUQ_JOB_E_OVERFLOW,
	NUQ_JOB_E_ALIGN,
	NUQ_JOB_E_REQUANT,
	NUQ_JOB_E_ASD_DIGIT,
	NUQ_JOB_E_COUNT,
};

/* Largest value of any single dimension, stride, dilation or padding. */
#define NUQ_MAX_DIM		65535

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
 *	(the backend failed), -EINVAL (malformed tensor contents, see
 *	%NUQ_JOB_E_REQUANT), -ENOMEM (no memory to start the job: the
 *	software backend's scratch, the NPU's mappings of its BOs)
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
