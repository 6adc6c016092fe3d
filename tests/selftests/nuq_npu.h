/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the NPU selftests: find the NPU's /dev/nuqN, read its sysfs
 * counters, and talk to the emulator's control socket, which the test VM
 * wires to the guest's third serial port (tests/vm/run.sh).
 */
#ifndef NUQ_NPU_H
#define NUQ_NPU_H

#include <poll.h>
#include <termios.h>
#include <time.h>

#include "nuq_jobs.h"

#define NUQ_NPU_CTL_TTY	"/dev/ttyS2"

/* Index N of the first /dev/nuqN whose backend is the NPU, or -1. */
static inline int npu_find(void)
{
	struct nuq_info info;
	char path[32];
	int i, fd, found = -1;

	for (i = 0; i < 16 && found < 0; i++) {
		snprintf(path, sizeof(path), "/dev/nuq%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!nuq_get_info(fd, &info) && info.backend == NUQ_BACKEND_NPU)
			found = i;
		close(fd);
	}
	return found;
}

static inline int npu_open(int index)
{
	char path[32];

	snprintf(path, sizeof(path), "/dev/nuq%d", index);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* A counter of /sys/class/nuq/nuq@index/, or -1 if it does not exist. */
static inline long long dev_stat(int index, const char *name)
{
	char dev[16];

	snprintf(dev, sizeof(dev), "nuq%d", index);
	return nuq_sysfs_stat(dev, name);
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Send one command line to the emulator and read its one-line reply into
 * @reply; returns 0 when the reply starts with "ok", -1 otherwise.
 */
static inline int npu_ctl(const char *cmd, char *reply, size_t len)
{
	static int fd = -1;
	char line[256];
	size_t n = 0;
	struct pollfd p;

	if (fd < 0) {
		struct termios t;

		fd = open(NUQ_NPU_CTL_TTY, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		if (!tcgetattr(fd, &t)) {
			cfmakeraw(&t);
			tcsetattr(fd, TCSANOW, &t);
		}
		tcflush(fd, TCIOFLUSH);
	}
	snprintf(line, sizeof(line), "%s\n", cmd);
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		return -1;
	/* Up to 5 s for the whole reply line. */
	p.fd = fd;
	p.events = POLLIN;
	while (n + 1 < sizeof(line) && poll(&p, 1, 5000) == 1) {
		if (read(fd, line + n, 1) != 1)
			break;
		if (line[n] == '\n')
			break;
		if (line[n] != '\r')
			n++;
	}
	line[n] = 0;
	if (reply)
		snprintf(reply, len, "%s", line);
	return strncmp(line, "ok", 2) ? -1 : 0;
}

/* npu_ctl() without caring for the reply text. */
static inline int npu_cmd(const char *fmt, int a, int b)
{
	char cmd[128], reply[256];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	return npu_ctl(cmd, reply, sizeof(reply));
}

static inline int npu_engines(int index)
{
	long long n = dev_stat(index, "npu_engines");

	return n > 0 ? (int)n : 1;
}

/* The same fault on every engine (a job lands on any of them). */
static inline int npu_cmd_all(int index, const char *fmt, int arg)
{
	int e, ret = 0;

	for (e = 0; e < npu_engines(index); e++)
		ret |= npu_cmd(fmt, e, arg);
	return ret;
}

/*
 * A job of about @mmacs million multiply-accumulates over many output rows,
 * so it runs long enough on the device for a fault to hit it mid-way.
 */
static inline int long_job(struct test_job *tj, uint32_t mmacs, uint64_t seed)
{
	struct test_rng r = { seed };
	struct test_shape s = {
		.batch = 1, .in_w = 64, .in_c = 64, .out_c = 64, .kh = 3, .kw = 3,
		.sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pb = 1, .pl = 1, .pr = 1,
		.groups = 1, .wfmt = NUQ_WFMT_INT8, .bits = 8,
	};

	/* 64 * 64 * 9 * 64 = 2.36 M MACs per output row */
	s.in_h = mmacs * 1000000u / (64u * 64 * 9 * 64) + 1;
	return test_job_make(tj, &s, &r);
}

#endif
