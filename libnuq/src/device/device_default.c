// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: which device an application gets when it names none.
 *
 * The NPU is what nuq is for, so it is the default whenever one is
 * present; the software device /dev/nuq0 is the fallback.  $NUQ_DEVICE
 * overrides both (a path such as /dev/nuq0).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <nuq/device.h>

static int nuq_node_is_npu(const char *path)
{
	struct nuq_info info;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	int npu;

	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	npu = !ioctl(fd, NUQ_IOCTL_GET_INFO, &info) && info.backend == NUQ_BACKEND_NPU;
	close(fd);
	return npu;
}

const char *nuq_device_default(char *buf, size_t len)
{
	const char *env = getenv("NUQ_DEVICE");
	int i;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return buf;
	}
	for (i = 0; i < 16; i++) {
		snprintf(buf, len, "/dev/nuq%d", i);
		if (nuq_node_is_npu(buf))
			return buf;
	}
	snprintf(buf, len, "/dev/nuq0");
	return buf;
}
