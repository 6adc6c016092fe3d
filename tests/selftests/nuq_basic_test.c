// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: opening the device and NUQ_IOCTL_GET_INFO, including
 * every way a caller can get the ioctl wrong.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "nuq_harness.h"
#include "nuq_selftest.h"

TEST(open_close)
{
	int fd = open(NUQ_DEV0, O_RDWR);

	ASSERT_GE(fd, 0) TH_LOG("open %s: %s", NUQ_DEV0, strerror(errno));
	EXPECT_EQ(0, close(fd));

	/* Read-only opens work too: GET_INFO does not modify anything. */
	fd = open(NUQ_DEV0, O_RDONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, close(fd));
}

TEST(device_node_is_char_device)
{
	struct stat st;

	ASSERT_EQ(0, stat(NUQ_DEV0, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0, stat("/sys/class/nuq/nuq0", &st));
	/* Only nr_devices (default 1) software instances exist; then NPUs. */
	EXPECT_TRUE(nuq_absent_or_npu("/dev/nuq1"));
}

TEST(get_info_contents)
{
	struct nuq_info info;
	int fd = open(NUQ_DEV0, O_RDWR);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, nuq_get_info(fd, &info));
	EXPECT_EQ(NUQ_UAPI_VERSION, info.uapi_version);
	EXPECT_EQ(0, info.index);
	EXPECT_EQ(NUQ_BACKEND_SOFTWARE, info.backend);
	EXPECT_STREQ("nuq-sw0", info.name);
	EXPECT_EQ(nuq_read_param("max_bo_size"), info.max_bo_size);
	EXPECT_EQ(nuq_read_param("max_jobs_in_flight"), info.max_jobs_in_flight);
	EXPECT_EQ((1u << NUQ_WFMT_INT8) | (1u << NUQ_WFMT_CODEBOOK) | (1u << NUQ_WFMT_ASD),
		  info.weight_formats);
	EXPECT_EQ(0x1feu, info.weight_bits);	/* 1..8 bits */
	EXPECT_EQ((1u << NUQ_AFMT_INT8) | (1u << NUQ_AFMT_UINT8), info.act_formats);
	EXPECT_EQ(0, info.flags);
	for (int i = 0; i < 8; i++)
		EXPECT_EQ(0, info.rsvd[i]);
	close(fd);
}

TEST(get_info_is_stable)
{
	struct nuq_info a, b;
	int fd = open(NUQ_DEV0, O_RDWR);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, nuq_get_info(fd, &a));
	ASSERT_EQ(0, nuq_get_info(fd, &b));
	EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));
	close(fd);
}

TEST(unknown_ioctl_is_enotty)
{
	unsigned char buf[256] = { 0 };
	int fd = open(NUQ_DEV0, O_RDWR);

	ASSERT_GE(fd, 0);
	/* Another driver's type. */
	EXPECT_EQ(-1, ioctl(fd, _IOWR('X', NUQ_IOCTL_NR_GET_INFO, struct nuq_info), buf));
	EXPECT_EQ(ENOTTY, errno);
	/* Our type, numbers below and above the table. */
	EXPECT_EQ(-1, ioctl(fd, _IOWR(NUQ_IOCTL_BASE, 0x3f, struct nuq_info), buf));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, _IOWR(NUQ_IOCTL_BASE, 0x7f, struct nuq_info), buf));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, _IO(NUQ_IOCTL_BASE, 0xff)));
	EXPECT_EQ(ENOTTY, errno);
	/* A terminal ioctl on a non-terminal. */
	EXPECT_EQ(-1, ioctl(fd, TCGETS, buf));
	EXPECT_EQ(ENOTTY, errno);
	close(fd);
}

TEST(wrong_size_or_direction_is_einval)
{
	unsigned char buf[512] = { 0 };
	size_t sz = sizeof(struct nuq_info);
	unsigned int nr = NUQ_IOCTL_NR_GET_INFO;
	int fd = open(NUQ_DEV0, O_RDWR);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(-1, ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, NUQ_IOCTL_BASE, nr, sz - 8), buf));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, NUQ_IOCTL_BASE, nr, sz + 8), buf));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, NUQ_IOCTL_BASE, nr, 0), buf));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, _IOR(NUQ_IOCTL_BASE, nr, struct nuq_info), buf));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, _IOW(NUQ_IOCTL_BASE, nr, struct nuq_info), buf));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, _IO(NUQ_IOCTL_BASE, nr)));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(reserved_fields_must_be_zero)
{
	struct nuq_info info;
	int fd = open(NUQ_DEV0, O_RDWR);

	ASSERT_GE(fd, 0);
	memset(&info, 0, sizeof(info));
	info.flags = 1;
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	info.flags = 0x80000000u;
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);

	for (int i = 0; i < 8; i++) {
		memset(&info, 0, sizeof(info));
		info.rsvd[i] = 1ULL << (i * 8);
		EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_GET_INFO, &info)) TH_LOG("rsvd[%d]", i);
		EXPECT_EQ(EINVAL, errno);
	}
	/* Output-only fields may hold anything on input: they are overwritten. */
	memset(&info, 0, sizeof(info));
	memset(info.name, 'z', sizeof(info.name));
	info.caps = ~0ULL;
	info.index = 99;
	EXPECT_EQ(0, ioctl(fd, NUQ_IOCTL_GET_INFO, &info));
	EXPECT_STREQ("nuq-sw0", info.name);
	EXPECT_EQ(0, info.index);
	close(fd);
}

TEST(bad_pointers_are_efault)
{
	void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open(NUQ_DEV0, O_RDWR);

	ASSERT_GE(fd, 0);
	ASSERT_NE(MAP_FAILED, page);
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_GET_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_GET_INFO, page));
	EXPECT_EQ(EFAULT, errno);
	/* Readable (all zero, so valid input) but not writable for the result. */
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_GET_INFO, ro));
	EXPECT_EQ(EFAULT, errno);
	/* A struct straddling into an unmapped page. */
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_GET_INFO, ro + 4096 - 16));
	EXPECT_EQ(EFAULT, errno);
	munmap(page, 4096);
	munmap(ro, 4096);
	close(fd);
}

TEST(not_seekable_readable_or_writable)
{
	char c;
	int fd = open(NUQ_DEV0, O_RDWR);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(-1, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, read(fd, &c, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(fd, &c, 1));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

#define MANY_FDS 900

TEST(many_concurrent_opens)
{
	static int fds[MANY_FDS];
	struct rlimit rl = { MANY_FDS + 64, MANY_FDS + 64 };
	struct nuq_info info;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	for (int i = 0; i < MANY_FDS; i++) {
		fds[i] = open(NUQ_DEV0, O_RDWR);
		ASSERT_GE(fds[i], 0) TH_LOG("open #%d: %s", i, strerror(errno));
	}
	for (int i = 0; i < MANY_FDS; i++)
		ASSERT_EQ(0, nuq_get_info(fds[i], &info));
	/* Close in an interleaved order to exercise list removal. */
	for (int i = 0; i < MANY_FDS; i += 2)
		ASSERT_EQ(0, close(fds[i]));
	for (int i = 1; i < MANY_FDS; i += 2)
		ASSERT_EQ(0, nuq_get_info(fds[i], &info));
	for (int i = 1; i < MANY_FDS; i += 2)
		ASSERT_EQ(0, close(fds[i]));
}

static void *open_loop(void *arg)
{
	long failures = 0;

	(void)arg;
	for (int i = 0; i < 300; i++) {
		struct nuq_info info;
		int fd = open(NUQ_DEV0, O_RDWR);

		if (fd < 0 || nuq_get_info(fd, &info) || info.index != 0)
			failures++;
		if (fd >= 0)
			close(fd);
	}
	return (void *)failures;
}

TEST(threads_open_and_query_concurrently)
{
	pthread_t th[8];

	for (int i = 0; i < 8; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, open_loop, NULL));
	for (int i = 0; i < 8; i++) {
		void *failures;

		ASSERT_EQ(0, pthread_join(th[i], &failures));
		EXPECT_EQ(0, (long)failures);
	}
}

TEST(fork_child_uses_inherited_fd)
{
	struct nuq_info info;
	int status, fd = open(NUQ_DEV0, O_RDWR);
	int sync_pipe[2];
	pid_t pid;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, pipe(sync_pipe));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char c;

		/* Wait until the parent has closed its copy. */
		close(sync_pipe[1]);
		if (read(sync_pipe[0], &c, 1) != 0)
			_exit(10);
		if (nuq_get_info(fd, &info) || strcmp(info.name, "nuq-sw0"))
			_exit(11);
		_exit(close(fd) ? 12 : 0);
	}
	close(sync_pipe[0]);
	ASSERT_EQ(0, nuq_get_info(fd, &info));
	ASSERT_EQ(0, close(fd));
	close(sync_pipe[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST(child_opens_its_own_context)
{
	int status;
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct nuq_info info;
		int fd = open(NUQ_DEV0, O_RDWR);

		/* Exit without closing: the kernel releases the context. */
		_exit(fd < 0 || nuq_get_info(fd, &info) ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
