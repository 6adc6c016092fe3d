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
 * ioctl numbers.  The driver dispatches on the number alone and then
 * checks direction and size, so a caller built against a struct of another
 * size gets EINVAL rather than a silently different command.
 */
#define NUQ_IOCTL_BASE		'N'
#define NUQ_IOCTL_NR_GET_INFO	0x40

#define NUQ_IOCTL_GET_INFO	_IOWR(NUQ_IOCTL_BASE, NUQ_IOCTL_NR_GET_INFO, \
				      struct nuq_info)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_LINUX_NUQ_H */
