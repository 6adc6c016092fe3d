// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: the NPU unplugged under load (QEMU's device_del on its
 * hotplug-capable PCIe root port, asked for through the emulator's control
 * line).  Runs in a VM of its own: the device does not come back.
 *
 * Expected: every in-flight job ends with success or a defined error, every
 * submitter gets -ENODEV and exits, /dev/nuqN goes away, a file still open
 * on it gets -ENODEV and closes, no oops or hung task (the harness checks
 * the kernel log), and rmmod works afterwards.
 */
#include "nuq_harness.h"
#include "nuq_npu_removal.h"

TEST(unplug_under_load)
{
	pid_t pids[REMOVAL_WORKERS];
	struct nuq_bo_create c = { .size = 4096 };
	char node[32], reply[256];
	struct stat st;
	double t0;
	int index = npu_find(), fd, i;

	if (index < 0)
		SKIP(return, "no NPU device");
	snprintf(node, sizeof(node), "/dev/nuq%d", index);
	fd = npu_open(index);
	ASSERT_LE(0, fd);
	for (i = 0; i < REMOVAL_WORKERS; i++)
		ASSERT_LT(0, pids[i] = removal_spawn(index, i));
	sleep(1);	/* jobs in flight on every worker */

	ASSERT_EQ(0, npu_ctl("unplug", reply, sizeof(reply))) TH_LOG("%s", reply);
	/* pciehp waits 5 s after the attention button before it removes. */
	t0 = now_s();
	while (!stat(node, &st) && now_s() - t0 < 30)
		usleep(100000);
	EXPECT_NE(0, stat(node, &st)) TH_LOG("%s still exists after 30 s", node);
	TH_LOG("%s gone after %.1f s", node, now_s() - t0);

	EXPECT_EQ(0, removal_reap(pids, REMOVAL_WORKERS, 30));
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_BO_CREATE, &c));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(-1, npu_find()) TH_LOG("an NPU device is still listed");

	/* The software device still works, and the module unloads. */
	EXPECT_EQ(0, nuq_unload_settled());
	EXPECT_EQ(0, nuq_load(NULL));
}

TEST_HARNESS_MAIN
