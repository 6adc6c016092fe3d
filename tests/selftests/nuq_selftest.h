/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the nuq kselftests (run as root inside the test VM).
 */
#ifndef NUQ_SELFTEST_H
#define NUQ_SELFTEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/nuq.h>

#define NUQ_DEV0 "/dev/nuq0"

/*
 * The device a device-neutral suite runs on: $NUQ_TEST_DEVICE (the VM's
 * init runs such suites once per device), else /dev/nuq0.
 */
static inline const char *nuq_test_dev(void)
{
	const char *d = getenv("NUQ_TEST_DEVICE");

	return d && *d ? d : NUQ_DEV0;
}

/*
 * $NUQ_TEST_TIMEOUT_SCALE: how many times slower than the production
 * kernel under TCG this kernel runs (tests/vm/init.sh sets it on the debug
 * kernel).  Tests multiply their harness timeouts (nuq_harness.h) and the
 * latency bounds they assert by it: those bound promptness, which KASAN
 * slows down as much as everything else.
 */
static inline int nuq_timeout_scale(void)
{
	const char *s = getenv("NUQ_TEST_TIMEOUT_SCALE");
	int v = s ? atoi(s) : 1;

	return v >= 1 && v <= 100 ? v : 1;
}

static inline long long nuq_scaled_ms(long long ms)
{
	return ms * nuq_timeout_scale();
}

static inline const char *nuq_ko_path(void)
{
	const char *p = getenv("NUQ_KO");

	return p ? p : "/lib/modules/nuq.ko";
}

/* insmod with parameters; returns 0 or -errno. */
static inline int nuq_load(const char *params)
{
	int fd = open(nuq_ko_path(), O_RDONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, params ? params : "", 0))
		ret = -errno;
	close(fd);
	return ret;
}

/* rmmod without waiting; returns 0 or -errno. */
static inline int nuq_unload(void)
{
	if (syscall(SYS_delete_module, "nuq", O_NONBLOCK))
		return -errno;
	return 0;
}

/*
 * rmmod once the module's last user is gone: a file may still be held for
 * a moment after its last close() returned in this process, e.g. by an
 * io_uring ring of a killed test whose teardown runs in a kernel worker.
 * Retries -EWOULDBLOCK for up to 5 s (scaled); returns 0 or -errno.
 */
static inline int nuq_unload_settled(void)
{
	long long left = nuq_scaled_ms(5000);
	int ret;

	while ((ret = nuq_unload()) == -EWOULDBLOCK && left > 0) {
		usleep(20000);
		left -= 20;
	}
	return ret;
}

static inline int nuq_loaded(void)
{
	struct stat st;

	return stat("/sys/module/nuq", &st) == 0;
}

/* Put the module back in its default state for the tests that follow. */
static inline int nuq_reload(const char *params)
{
	int ret;

	if (nuq_loaded()) {
		ret = nuq_unload_settled();
		if (ret)
			return ret;
	}
	return nuq_load(params);
}

static inline unsigned long long nuq_read_param(const char *name)
{
	char path[256], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/nuq/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return ~0ULL;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strtoull(buf, NULL, 0);
}

static inline int nuq_get_info(int fd, struct nuq_info *info)
{
	memset(info, 0, sizeof(*info));
	return ioctl(fd, NUQ_IOCTL_GET_INFO, info) ? -errno : 0;
}

/*
 * 1 if @path is no nuq device, or one that is an NPU: NPUs take the
 * indices after the software devices (nr_devices), so a software-only
 * count must allow them.
 */
static inline int nuq_absent_or_npu(const char *path)
{
	struct nuq_info info;
	int fd = open(path, O_RDWR | O_CLOEXEC), npu;

	if (fd < 0)
		return errno == ENOENT;
	npu = !nuq_get_info(fd, &info) && info.backend == NUQ_BACKEND_NPU;
	close(fd);
	return npu;
}

#endif
