// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: NUQ_IOCTL_GET_INFO, what a device is and what it can do.
 */

#include <linux/string.h>

#include "nuq_drv.h"

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
	info->caps = ndev->caps;
	info->max_bo_size = nuq_max_bo_size;
	info->max_jobs_in_flight = nuq_max_jobs_in_flight;
	/* What the backend computes: an NPU reports its own registers. */
	info->weight_formats = ndev->weight_formats;
	info->weight_bits = ndev->weight_bits;
	info->act_formats = ndev->act_formats;
	return 0;
}
