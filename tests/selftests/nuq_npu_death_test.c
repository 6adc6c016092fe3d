// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: the NPU's emulator killed under load (it exits at once on
 * the control line's "exit", like a crashed device).  Runs in a VM of its
 * own: the device does not come back.
 *
 * Expected: the driver sees the heartbeat stop, its resets go unanswered,
 * and after a bounded number of them it declares the device dead: every
 * in-flight job ends with a defined error, every submitter then gets
 * -ENODEV and exits, the death is counted, and rmmod works afterwards.
 */
#include "nuq_harness.h"
#include "nuq_npu_removal.h"

TEST(emulator_dies_under_load)
{
	pid_t pids[REMOVAL_WORKERS];
	struct nuq_bo_create c = { .size = 4096 };
	char reply[256];
	uint64_t seq;
	struct test_job tj;
	struct dev_job dj;
	double t0;
	int index = npu_find(), fd, i;

	if (index < 0)
		SKIP(return, "no NPU device");
	fd = npu_open(index);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, small_job(&tj, NUQ_WFMT_INT8, 8, 5));
	ASSERT_EQ(0, dev_job_upload(fd, &tj, &dj));
	for (i = 0; i < REMOVAL_WORKERS; i++)
		ASSERT_LT(0, pids[i] = removal_spawn(index, i));
	sleep(1);

	/* No reply: it is gone before it could answer. */
	npu_ctl("exit", reply, sizeof(reply));
	t0 = now_s();
	EXPECT_EQ(0, removal_reap(pids, REMOVAL_WORKERS, 60));
	TH_LOG("workers out %.1f s after the emulator died", now_s() - t0);

	EXPECT_EQ(1, dev_stat(index, "npu_dead"));
	EXPECT_LE(1, dev_stat(index, "npu_resets"));
	EXPECT_EQ(-ENODEV, submit(fd, &dj.job, 1, &seq, NULL));
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_BO_CREATE, &c));
	EXPECT_EQ(ENODEV, errno);
	dev_job_release(fd, &dj);
	EXPECT_EQ(0, close(fd));
	test_job_free(&tj);

	EXPECT_EQ(0, nuq_unload_settled());
	EXPECT_EQ(0, nuq_load(NULL));
}

TEST_HARNESS_MAIN
