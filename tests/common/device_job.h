/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Put a test job's tensors into BOs of a libnuq device.
 */
#ifndef NUQ_TEST_DEVICE_JOB_H
#define NUQ_TEST_DEVICE_JOB_H

#include <nuq/device.h>

#include "conv_ref.h"

struct api_job {
	struct nuq_conv_job job;	/* with the device's handles */
	uint32_t handle[NUQ_T_COUNT];
	uint8_t *map[NUQ_T_COUNT];
};

int api_job_upload(struct nuq_device *dev, const struct test_job *tj, struct api_job *aj);
void api_job_release(struct nuq_device *dev, struct api_job *aj);

#endif
