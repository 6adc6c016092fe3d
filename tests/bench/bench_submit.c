// SPDX-License-Identifier: GPL-2.0
/*
 * bench-submit: runs inside the test VM.
 *
 * 1. Submission overhead: jobs per second for tiny jobs (1x1 conv on one
 *    pixel) through ioctl one at a time, ioctl batches, io_uring one job per
 *    SQE, and io_uring batch commands of 1/4/16/64 jobs, all in this run,
 *    printed as ratios to single ioctl.  Target: io_uring batch 16 >= 2x.
 * 2. The software backend on a real PaddleOCR layer shape (PP-OCRv4 det
 *    p2o.Conv.4: 1x1, 32 -> 48 channels, 160x160 for a 640x640 page) against
 *    libnuq's portable CPU path in the same VM.  Target: >= 0.8x.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nuq/nuq.h>

#include "conv_ref.h"
#include "device_job.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-submit: %s: %s\n", what, nuq_strerror(err));
	exit(1);
}

static struct test_job layer(uint32_t in_h, uint32_t in_w, uint32_t in_c, uint32_t out_c)
{
	struct test_rng r = { 1 };
	struct test_shape s = {
		.batch = 1, .in_h = in_h, .in_w = in_w, .in_c = in_c, .out_c = out_c, .kh = 1,
		.kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .groups = 1, .wfmt = NUQ_WFMT_INT8,
	};
	struct test_job tj;

	if (test_job_make(&tj, &s, &r))
		die("job", -EINVAL);
	return tj;
}

#define N_JOBS 3000

static double ioctl_rate(struct nuq_device *dev, const struct nuq_conv_job *job, unsigned int batch)
{
	static struct nuq_conv_job jobs[NUQ_MAX_BATCH];
	uint64_t seq[NUQ_MAX_BATCH];
	unsigned int i, done = 0;
	double t0;
	int status, ret;

	for (i = 0; i < batch; i++)
		jobs[i] = *job;
	t0 = now();
	while (done < N_JOBS) {
		ret = nuq_submit(dev, jobs, batch, seq, NULL);
		if (ret)
			die("submit", ret);
		for (i = 0; i < batch; i++)
			if ((ret = nuq_wait(dev, seq[i], -1, &status)) || status)
				die("wait", ret ? ret : status);
		done += batch;
	}
	return done / (now() - t0);
}

/* Keep @depth commands of @batch jobs in flight until N_JOBS finished. */
static double uring_rate(struct nuq_device *dev, const struct nuq_conv_job *job,
			 unsigned int batch, unsigned int depth)
{
	static struct nuq_conv_job jobs[NUQ_MAX_BATCH];
	struct nuq_completion c[64];
	unsigned int i, sent = 0, done = 0;
	struct nuq_ring *ring;
	double t0, rate;
	int ret, n;

	for (i = 0; i < batch; i++)
		jobs[i] = *job;
	ret = nuq_ring_init(dev, 64, 0, &ring);
	if (ret)
		die("ring", ret);
	t0 = now();
	while (done < N_JOBS) {
		while (sent - done < depth * batch && sent < N_JOBS) {
			ret = nuq_ring_submit(ring, jobs, batch, 0);
			if (ret)
				die("ring submit", ret);
			sent += batch;
		}
		n = nuq_ring_reap(ring, c, 64, 1);
		for (i = 0; i < (unsigned int)n; i++) {
			if (c[i].status)
				die("ring job", c[i].status);
			done += c[i].count;
		}
	}
	rate = done / (now() - t0);
	nuq_ring_exit(ring);
	return rate;
}

int main(void)
{
	struct nuq_device *dev;
	struct test_job tiny = layer(1, 1, 8, 8), real = layer(160, 160, 32, 48);
	struct api_job tj, rj;
	double base, r, t0, dev_s, cpu_s;
	static const unsigned int batches[] = { 1, 4, 16, 64 };
	uint64_t seq;
	int i, status, err, ret;

	ret = nuq_device_open("/dev/nuq0", 0, &dev);
	if (ret)
		die("/dev/nuq0", ret);
	if ((ret = api_job_upload(dev, &tiny, &tj)) || (ret = api_job_upload(dev, &real, &rj)))
		die("upload", ret);

	printf("# submission rate, tiny jobs (1x1 conv, 8 -> 8 channels, one pixel), %d jobs each\n",
	       N_JOBS);
	printf("%-28s %12s %8s\n", "path", "jobs/s", "ratio");
	base = ioctl_rate(dev, &tj.job, 1);
	printf("%-28s %12.0f %8.2f\n", "ioctl, one at a time", base, 1.0);
	r = ioctl_rate(dev, &tj.job, 16);
	printf("%-28s %12.0f %8.2f\n", "ioctl, batch 16", r, r / base);
	r = ioctl_rate(dev, &tj.job, 64);
	printf("%-28s %12.0f %8.2f\n", "ioctl, batch 64", r, r / base);
	r = uring_rate(dev, &tj.job, 1, 32);
	printf("%-28s %12.0f %8.2f\n", "io_uring, one job per SQE", r, r / base);
	for (i = 0; i < 4; i++) {
		char name[64];
		double x = uring_rate(dev, &tj.job, batches[i], 256 / batches[i] < 4 ? 256 / batches[i] : 4);

		snprintf(name, sizeof(name), "io_uring, batch %u", batches[i]);
		printf("%-28s %12.0f %8.2f%s\n", name, x, x / base,
		       batches[i] == 16 ? (x / base >= 2 ? "  (target >= 2: met)" :
					   "  (target >= 2: NOT met)") : "");
	}

	/* the software backend on a real layer shape vs the CPU path, same VM */
	t0 = now();
	for (i = 0; i < 3; i++)
		if ((ret = nuq_submit(dev, &rj.job, 1, &seq, NULL)) ||
		    (ret = nuq_wait(dev, seq, -1, &status)) || (ret = status))
			die("layer job", ret);
	dev_s = (now() - t0) / 3;
	t0 = now();
	for (i = 0; i < 3; i++)
		if ((ret = nuq_conv_run_cpu(&real.job, (void *const *)real.buf, real.size, &err)))
			die("cpu layer", ret);
	cpu_s = (now() - t0) / 3;
	printf("\n# software backend on PP-OCRv4 det p2o.Conv.4 (1x1, 32->48, 160x160, %.1f MMAC)\n",
	       160.0 * 160 * 32 * 48 / 1e6);
	printf("%-28s %10.1f ms\n", "/dev/nuq0 (kernel thread)", dev_s * 1e3);
	printf("%-28s %10.1f ms\n", "libnuq CPU path", cpu_s * 1e3);
	printf("%-28s %10.2f%s\n", "ratio (device / CPU speed)", cpu_s / dev_s,
	       cpu_s / dev_s >= 0.8 ? "  (target >= 0.8: met)" : "  (target >= 0.8: NOT met)");
	if (memcmp(rj.map[NUQ_T_OUTPUT], real.buf[NUQ_T_OUTPUT], real.size[NUQ_T_OUTPUT]))
		die("layer results differ", -EIO);

	api_job_release(dev, &tj);
	api_job_release(dev, &rj);
	nuq_device_close(dev);
	return 0;
}
