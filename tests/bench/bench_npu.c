// SPDX-License-Identifier: GPL-2.0
/*
 * bench-npu: runs inside the test VM, with the emulated NPU attached.
 *
 * 1. Large jobs: multiply-accumulates per second of a ResNet-like 3x3 layer
 *    (64 -> 64 channels, 56x56, 4-bit codebook weights) on the NPU and on
 *    the software backend (/dev/nuq0), in this run.  The NPU runs natively
 *    on the host while the software backend runs under TCG, so the target
 *    is the NPU >= 20x the software backend.
 * 2. Small jobs: submissions per second of a tiny job (1x1 conv of one
 *    pixel) through single ioctls and io_uring batches of 16, NPU against
 *    the software device.  Target: NPU >= 0.8x (the ring path adds little).
 * 3. Where a small job's time goes on the NPU: the driver's per-stage
 *    averages (debugfs npu/latency), in guest microseconds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nuq/nuq.h>

#include "conv_ref.h"
#include "device_job.h"
#include "../selftests/nuq_jobs.h"	/* write_file() */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-npu: %s: %s\n", what, nuq_strerror(err));
	exit(1);
}

static struct test_job make_job(uint32_t hw, uint32_t c, uint32_t k, uint32_t wfmt, uint32_t bits)
{
	struct test_rng r = { 7 };
	struct test_shape s = {
		.batch = 1, .in_h = hw, .in_w = hw, .in_c = c, .out_c = c, .kh = k, .kw = k,
		.sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = k / 2, .pb = k / 2, .pl = k / 2,
		.pr = k / 2, .groups = 1, .wfmt = wfmt, .bits = bits,
	};
	struct test_job tj;

	if (test_job_make(&tj, &s, &r))
		die("job", -EINVAL);
	return tj;
}

static uint64_t job_macs(const struct nuq_conv_job *j)
{
	return (uint64_t)j->batch * j->out_h * j->out_w * j->out_c *
	       j->kernel_h * j->kernel_w * (j->in_c / j->groups);
}

/* MAC/s of @job on @dev: run it until @min_s passed (at least twice). */
static double throughput(struct nuq_device *dev, const struct nuq_conv_job *job, double min_s)
{
	unsigned int n = 0;
	uint64_t seq;
	double t0 = now();
	int ret, status;

	do {
		ret = nuq_submit(dev, job, 1, &seq, NULL);
		if (!ret)
			ret = nuq_wait(dev, seq, -1, &status);
		if (ret || status)
			die("large job", ret ? ret : status);
		n++;
	} while (n < 2 || now() - t0 < min_s);
	return n * (double)job_macs(job) / (now() - t0);
}

#define SMALL_JOBS 2000

/* Jobs per second, @batch jobs per io_uring command (0: single ioctls). */
static double small_rate(struct nuq_device *dev, const struct nuq_conv_job *job,
			 unsigned int batch)
{
	static struct nuq_conv_job jobs[16];
	struct nuq_completion c[16];
	unsigned int i, sent = 0, done = 0;
	struct nuq_ring *ring;
	uint64_t seq;
	double t0;
	int ret, n, status;

	t0 = now();
	if (!batch) {
		for (i = 0; i < SMALL_JOBS; i++) {
			ret = nuq_submit(dev, job, 1, &seq, NULL);
			if (!ret)
				ret = nuq_wait(dev, seq, -1, &status);
			if (ret || status)
				die("small job", ret ? ret : status);
		}
		return SMALL_JOBS / (now() - t0);
	}
	for (i = 0; i < batch; i++)
		jobs[i] = *job;
	ret = nuq_ring_init(dev, 16, 0, &ring);
	if (ret)
		die("ring", ret);
	t0 = now();
	while (done < SMALL_JOBS) {
		/* Four commands in flight. */
		while (sent - done < 4 * batch && sent < SMALL_JOBS) {
			ret = nuq_ring_submit(ring, jobs, batch, 0);
			if (ret)
				die("ring submit", ret);
			sent += batch;
		}
		n = nuq_ring_reap(ring, c, 16, 1);
		for (i = 0; i < (unsigned int)n; i++) {
			if (c[i].status)
				die("ring job", c[i].status);
			done += c[i].count;
		}
	}
	nuq_ring_exit(ring);
	return done / (now() - t0);
}

static void print_file(const char *path)
{
	char line[256];
	FILE *f = fopen(path, "r");

	if (!f) {
		printf("  (%s: %s)\n", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f))
		printf("  %s", line);
	fclose(f);
}

int main(void)
{
	struct test_job large = make_job(56, 64, 3, NUQ_WFMT_CODEBOOK, 4);
	struct test_job tiny = make_job(1, 8, 1, NUQ_WFMT_INT8, 8);
	struct nuq_device *sw, *npu;
	struct api_job sl, st, nl, nt;
	struct nuq_info info;
	char path[64], dbg[128];
	double s_rate, n_rate;
	int ret;

	ret = nuq_device_open("/dev/nuq0", 0, &sw);
	if (ret)
		die("/dev/nuq0", ret);
	nuq_device_default(path, sizeof(path));
	ret = nuq_device_open(path, 0, &npu);
	if (ret)
		die(path, ret);
	if (nuq_device_info(npu, &info) || info.backend != NUQ_BACKEND_NPU) {
		fprintf(stderr, "bench-npu: no NPU device (is the emulator attached?)\n");
		return 1;
	}
	if ((ret = api_job_upload(sw, &large, &sl)) || (ret = api_job_upload(sw, &tiny, &st)) ||
	    (ret = api_job_upload(npu, &large, &nl)) || (ret = api_job_upload(npu, &tiny, &nt)))
		die("upload", ret);

	printf("# bench-npu: %s (%s) against the software device /dev/nuq0\n", path, info.name);
	printf("# 1. large jobs: 3x3 conv 64 -> 64 channels at 56x56, 4-bit codebook, %.1f M MACs\n",
	       job_macs(&large.job) / 1e6);
	s_rate = throughput(sw, &sl.job, 3.0);
	n_rate = throughput(npu, &nl.job, 3.0);
	printf("software   %8.3f GMAC/s\n", s_rate / 1e9);
	printf("npu        %8.3f GMAC/s\n", n_rate / 1e9);
	printf("ratio npu/software %.1fx (target >= 20x)\n", n_rate / s_rate);

	printf("# 2. small jobs (1x1 conv of one pixel, 8 -> 8 channels), %d jobs each\n",
	       SMALL_JOBS);
	/* The latency averages cover the single-ioctl phase only (any write resets them). */
	snprintf(dbg, sizeof(dbg), "/sys/kernel/debug/nuq/%s/npu/latency", path + 5);
	write_file(dbg, "0\n");
	s_rate = small_rate(sw, &st.job, 0);
	n_rate = small_rate(npu, &nt.job, 0);
	printf("ioctl        software %8.0f/s  npu %8.0f/s  ratio %.2fx (target >= 0.8x)\n",
	       s_rate, n_rate, n_rate / s_rate);
	printf("# 3. where a small job's time goes on the NPU, one at a time by ioctl\n"
	       "#    (driver averages over the phase above, guest us)\n");
	print_file(dbg);
	printf("# 2b. small jobs in io_uring batches of 16, four batches in flight\n");
	s_rate = small_rate(sw, &st.job, 16);
	n_rate = small_rate(npu, &nt.job, 16);
	printf("io_uring x16 software %8.0f/s  npu %8.0f/s  ratio %.2fx (target >= 0.8x)\n",
	       s_rate, n_rate, n_rate / s_rate);

	api_job_release(sw, &sl);
	api_job_release(sw, &st);
	api_job_release(npu, &nl);
	api_job_release(npu, &nt);
	nuq_device_close(npu);
	nuq_device_close(sw);
	test_job_free(&large);
	test_job_free(&tiny);
	return 0;
}
