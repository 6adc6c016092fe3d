// SPDX-License-Identifier: LGPL-2.1-or-later
#include <string.h>

#include "device_job.h"

int api_job_upload(struct nuq_device *dev, const struct test_job *tj, struct api_job *aj)
{
	int i, ret;

	memset(aj, 0, sizeof(*aj));
	aj->job = tj->job;
	for (i = 0; i < NUQ_T_COUNT; i++) {
		void *p;

		if (!tj->size[i])
			continue;
		ret = nuq_bo_create(dev, tj->size[i], &aj->handle[i]);
		ret = ret ?: nuq_bo_map(dev, aj->handle[i], &p, NULL);
		if (ret)
			return ret;
		aj->map[i] = p;
		memcpy(p, tj->buf[i], tj->size[i]);
		aj->job.tensors[i].handle = aj->handle[i];
	}
	return 0;
}

void api_job_release(struct nuq_device *dev, struct api_job *aj)
{
	int i;

	for (i = 0; i < NUQ_T_COUNT; i++)
		if (aj->handle[i])
			nuq_bo_free(dev, aj->handle[i]);
	memset(aj, 0, sizeof(*aj));
}
