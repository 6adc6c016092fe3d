// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: NUQ_IOCTL_GET_INFO, what a device is and what it can do.
 */

#include <linux/string.h>

#include "nuq_drv.h"

/* Codebook indices of 1 to 8 bits. */
#define NUQ_WEIGHT_BITS_ALL	GENMASK(8, 1)

int nuq_ioctl_get_info(struct nuq_ctx *ctx, void *data)
{
	struct nuq_device *ndev = ctx->ndev;
	struct nuq_info *info = data;

	if (info->flags || memchr_inv(info->rsvd, 0, sizeof(info->rsvd)))
		return -EINVAL;

	info->uapi_version = NUQ_UAPI_VERSION;
	info->index = ndev->index;
	info->backend = ndev->backend;
	strscpy(info->name, ndev->name, sizeof(info->name));
	info->caps = NUQ_CAP_JOBS | NUQ_CAP_URING_CMD | NUQ_CAP_RESIDUAL;
	info->max_bo_size = nuq_max_bo_size;
	info->max_jobs_in_flight = nuq_max_jobs_in_flight;
	info->weight_formats = BIT(NUQ_WFMT_INT8) | BIT(NUQ_WFMT_CODEBOOK) |
			       BIT(NUQ_WFMT_ASD);
	info->weight_bits = NUQ_WEIGHT_BITS_ALL;
	info->act_formats = BIT(NUQ_AFMT_INT8) | BIT(NUQ_AFMT_UINT8);
	return 0;
}
