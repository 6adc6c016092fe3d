// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: module lifetime - unload refused while a file is open,
 * reload, parameters and their validation.  Leaves the module loaded with
 * default parameters for the suites that follow.
 */
#include "nuq_harness.h"
#include "nuq_selftest.h"

FIXTURE(module) {
	int unused;
};

FIXTURE_SETUP(module)
{
	self->unused = 0;
	ASSERT_TRUE(nuq_loaded());
}

FIXTURE_TEARDOWN(module)
{
	/* Whatever a test did, leave the default module loaded. */
	if (!nuq_loaded() || nuq_read_param("nr_devices") != 1)
		nuq_reload(NULL);
}

TEST_F(module, unload_refused_while_open)
{
	struct nuq_info info;
	int fd = open(NUQ_DEV0, O_RDWR);
	int ret;

	ASSERT_GE(fd, 0);
	ret = nuq_unload();
	EXPECT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY) TH_LOG("delete_module: %d", ret);
	EXPECT_TRUE(nuq_loaded());
	/* The open file still works after the refused unload. */
	EXPECT_EQ(0, nuq_get_info(fd, &info));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, nuq_unload_settled());
	EXPECT_FALSE(nuq_loaded());
	EXPECT_EQ(-1, open(NUQ_DEV0, O_RDWR));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, nuq_load(NULL));
}

TEST_F(module, unload_refused_while_child_holds_fd)
{
	int fd = open(NUQ_DEV0, O_RDWR);
	int p[2], status;
	pid_t pid;
	char c;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 0 ? 0 : 1);	/* hold fd until told */
	}
	close(p[0]);
	close(fd);
	/* The child's inherited copy keeps the module pinned. */
	EXPECT_NE(0, nuq_unload());
	close(p[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, nuq_unload_settled());
	ASSERT_EQ(0, nuq_load(NULL));
}

TEST_F(module, reload_many_times)
{
	struct nuq_info info;

	for (int i = 0; i < 25; i++) {
		int fd;

		ASSERT_EQ(0, nuq_reload(NULL)) TH_LOG("reload #%d", i);
		fd = open(NUQ_DEV0, O_RDWR);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(0, nuq_get_info(fd, &info));
		close(fd);
	}
}

TEST_F(module, nr_devices_creates_instances)
{
	char path[32], name[NUQ_NAME_LEN];
	struct nuq_info info;

	ASSERT_EQ(0, nuq_reload("nr_devices=4"));
	for (int i = 0; i < 4; i++) {
		int fd;

		snprintf(path, sizeof(path), "/dev/nuq%d", i);
		snprintf(name, sizeof(name), "nuq-sw%d", i);
		fd = open(path, O_RDWR);
		ASSERT_GE(fd, 0) TH_LOG("%s: %s", path, strerror(errno));
		ASSERT_EQ(0, nuq_get_info(fd, &info));
		EXPECT_EQ((unsigned int)i, info.index);
		EXPECT_STREQ(name, info.name);
		close(fd);
	}
	EXPECT_TRUE(nuq_absent_or_npu("/dev/nuq4"));
}

TEST_F(module, limits_come_from_parameters)
{
	struct nuq_info info;
	int fd;

	ASSERT_EQ(0, nuq_reload("max_bo_size=1048576 max_jobs_in_flight=7"));
	fd = open(NUQ_DEV0, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, nuq_get_info(fd, &info));
	EXPECT_EQ(1048576, info.max_bo_size);
	EXPECT_EQ(7, info.max_jobs_in_flight);
	close(fd);
	ASSERT_EQ(0, nuq_reload(NULL));
}

TEST_F(module, bad_parameters_refuse_to_load)
{
	static const char *const bad[] = {
		"nr_devices=0", "nr_devices=17", "max_bo_size=100",
		"max_jobs_in_flight=0", "max_jobs_in_flight=100000",
	};

	ASSERT_EQ(0, nuq_unload_settled());
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, nuq_load(bad[i])) TH_LOG("%s", bad[i]);
		EXPECT_FALSE(nuq_loaded());
	}
	ASSERT_EQ(0, nuq_load(NULL));
}

TEST_HARNESS_MAIN
