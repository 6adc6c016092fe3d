// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: libnuq's device API on /dev/nuq0 - ioctl submission and
 * the io_uring ring (plain and SQPOLL, batches of 1/4/16/64) give the same
 * bits as libnuq's CPU device.
 */
#include <nuq/nuq.h>

#include "nuq_harness.h"
#include "device_job.h"
#include "nuq_jobs.h"

static void run_on(struct __test_metadata *_metadata, struct nuq_device *dev,
		   struct test_job *tj, uint8_t *out)
{
	struct api_job aj;
	uint64_t seq;
	int status;

	ASSERT_EQ(0, api_job_upload(dev, tj, &aj));
	ASSERT_EQ(0, nuq_submit(dev, &aj.job, 1, &seq, NULL));
	ASSERT_EQ(0, nuq_wait(dev, seq, -1, &status));
	ASSERT_EQ(0, status);
	memcpy(out, aj.map[NUQ_T_OUTPUT], tj->size[NUQ_T_OUTPUT]);
	api_job_release(dev, &aj);
}

TEST(kernel_and_cpu_devices_agree)
{
	struct nuq_device *kdev, *cdev;
	struct test_rng r = { 77 };
	int i;

	ASSERT_EQ(0, nuq_device_open(NULL, 0, &kdev));
	ASSERT_FALSE(nuq_device_is_cpu(kdev));
	ASSERT_EQ(0, nuq_device_open(NULL, NUQ_OPEN_CPU, &cdev));
	for (i = 0; i < 12; i++) {
		struct test_shape s = {
			.batch = 1, .in_h = 10, .in_w = 10, .in_c = 4 + i, .out_c = 3 + i,
			.kh = 3, .kw = 3, .sh = 1 + i % 2, .sw = 1, .dh = 1, .dw = 1 + i % 2,
			.pt = 1, .pb = 1, .pl = 1, .pr = 1, .groups = 1,
			.wfmt = i % 3, .bits = 1 + i % 8, .in_fmt = i % 2, .out_fmt = (i / 2) % 2,
		};
		struct test_job tj;
		uint8_t *a, *b;

		ASSERT_EQ(0, test_job_make(&tj, &s, &r));
		a = malloc(tj.size[NUQ_T_OUTPUT]);
		b = malloc(tj.size[NUQ_T_OUTPUT]);
		run_on(_metadata, kdev, &tj, a);
		run_on(_metadata, cdev, &tj, b);
		EXPECT_EQ(0, memcmp(a, b, tj.size[NUQ_T_OUTPUT])) TH_LOG("job %d", i);
		free(a);
		free(b);
		test_job_free(&tj);
	}
	nuq_device_close(kdev);
	nuq_device_close(cdev);
}

TEST(ring_batches_and_sqpoll)
{
	struct test_rng r = { 5 };
	struct test_shape s = {
		.batch = 1, .in_h = 6, .in_w = 6, .in_c = 4, .out_c = 4, .kh = 3, .kw = 3,
		.sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pb = 1, .pl = 1, .pr = 1,
		.groups = 1, .wfmt = NUQ_WFMT_CODEBOOK, .bits = 4,
	};
	static const unsigned int batches[] = { 1, 4, 16, 64 };
	struct nuq_conv_job jobs[64];
	struct nuq_completion c[32];
	struct nuq_device *dev;
	struct test_job tj;
	struct api_job aj;
	int sqpoll, b, i;

	/* The software device: its fault knob slows it for the cap check below. */
	ASSERT_EQ(0, nuq_device_open("/dev/nuq0", 0, &dev));
	ASSERT_EQ(0, test_job_make(&tj, &s, &r));
	ASSERT_EQ(0, api_job_upload(dev, &tj, &aj));
	for (i = 0; i < 64; i++)
		jobs[i] = aj.job;
	for (sqpoll = 0; sqpoll < 2; sqpoll++) {
		struct nuq_ring *ring;

		ASSERT_EQ(0, nuq_ring_init(dev, 32, sqpoll ? NUQ_RING_SQPOLL : 0, &ring));
		for (b = 0; b < 4; b++) {
			/* as many commands as max_jobs_in_flight (256) allows, at most 8 */
			unsigned int cmds = 256 / batches[b] < 8 ? 256 / batches[b] : 8;
			unsigned int done = 0, jobs_done = 0;

			/* all in flight, then the caller's array is reused */
			for (i = 0; i < (int)cmds; i++)
				ASSERT_EQ(0, nuq_ring_submit(ring, jobs, batches[b], i));
			jobs[0].pad = 1;	/* must not affect what was submitted */
			while (done < cmds) {
				int n = nuq_ring_reap(ring, c, 32, 1);

				ASSERT_GT(n, 0);
				for (i = 0; i < n; i++) {
					EXPECT_EQ(0, c[i].status);
					EXPECT_EQ(batches[b], c[i].count);
					jobs_done += c[i].count;
				}
				done += n;
			}
			jobs[0].pad = 0;
			EXPECT_EQ(cmds * batches[b], jobs_done);
		}
		/*
		 * Beyond the cap the command completes with -EBUSY.  Slow the
		 * backend down (1 ms per tile) so that the first commands are
		 * still in flight when the last arrives, however fast the host.
		 */
		fault_set("slow", "-1", "1");
		for (i = 0; i < 5; i++)
			ASSERT_EQ(0, nuq_ring_submit(ring, jobs, 64, 100 + i));
		for (i = 0, b = 0; i < 5; ) {
			int n = nuq_ring_reap(ring, c, 32, 1), k;

			ASSERT_GT(n, 0);
			for (k = 0; k < n; k++)
				b += c[k].status == -EBUSY;
			i += n;
		}
		fault_set("none", "-1", "10");
		EXPECT_GE(b, 1);
		nuq_ring_exit(ring);
	}
	api_job_release(dev, &aj);
	test_job_free(&tj);
	nuq_device_close(dev);
}

TEST_HARNESS_MAIN
