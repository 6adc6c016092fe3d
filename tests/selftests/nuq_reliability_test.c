// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: the defects of issue 14 found by trying the device as a
 * hostile user would, one regression test (or more) each:
 *
 *  1. a job's work between two stop checks is bounded (tiles of at most
 *     NUQ_TILE_MACS), so a huge one-row job times out, is cancelled and
 *     lets its killed submitter exit promptly;
 *  2. queued jobs pin no scratch memory, and contexts are capped;
 *  3. io_uring jobs of a dead or exec'ing submitter end, timeouts are
 *     clamped to max_job_timeout_ms;
 *  4. values the core checks in a BO are read once: a racing writer can
 *     make a job fail or compute with the old values, never pass the check
 *     and then compute with the new ones;
 *  5. closing a context races with its jobs' completion without harm;
 *  6. read-only shared mappings, BO_CREATE's out-only handle, MADV_DONTNEED.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>

#include <nuq/conv.h>

#include "nuq_harness.h"
#include "nuq_jobs.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Poll a sysfs counter until it equals @want or @ms pass; returns the last value. */
static long long stat_wait(const char *name, long long want, int ms)
{
	long long end = now_ms() + ms, v;

	while ((v = sysfs_stat(name)) != want && now_ms() < end)
		usleep(5000);
	return v;
}

/*
 * The job of the issue: a 1x1 conv of a 1x2048 image with 256 channels to
 * 14000 channels, int8 weights.  out_h is 1, so it is one output row of
 * 7.3 G multiply-accumulates.  Zeroed BOs are a valid job (multiplier 0).
 */
struct big_job {
	struct nuq_conv_job job;
	uint32_t handle[NUQ_T_COUNT];
};

static int big_job_make(int fd, struct big_job *b, uint32_t timeout_ms)
{
	struct nuq_conv_job *j = &b->job;
	uint64_t size[NUQ_T_COUNT] = { 0 };
	int i;

	memset(b, 0, sizeof(*b));
	j->timeout_ms = timeout_ms;
	j->weight_format = NUQ_WFMT_INT8;
	j->weight_bits = 8;
	j->batch = j->in_h = j->out_h = 1;
	j->in_w = j->out_w = 2048;
	j->in_c = 256;
	j->out_c = 14000;
	j->kernel_h = j->kernel_w = j->stride_h = j->stride_w = 1;
	j->dilation_h = j->dilation_w = j->groups = 1;
	j->in_format = j->out_format = NUQ_AFMT_UINT8;
	j->out_max = 255;
	size[NUQ_T_INPUT] = 2048 * 256;
	size[NUQ_T_OUTPUT] = 2048ULL * 14000;
	size[NUQ_T_WEIGHTS] = 14000ULL * 256;
	size[NUQ_T_REQUANT] = 14000ULL * 8;
	for (i = 0; i < NUQ_T_COUNT; i++) {
		if (!size[i])
			continue;
		if (bo_create(fd, size[i], &b->handle[i]))
			return -1;
		j->tensors[i].handle = b->handle[i];
	}
	return 0;
}

/* 1: a huge one-row job with timeout_ms 1 ends -ETIMEDOUT within a second. */
TEST(huge_row_times_out_promptly)
{
	int fd = open(NUQ_DEV0, O_RDWR);
	struct big_job b;
	long long t0, ms;
	uint64_t seq;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, big_job_make(fd, &b, 1));
	t0 = now_ms();
	ASSERT_EQ(0, submit(fd, &b.job, 1, &seq, NULL));
	EXPECT_EQ(-ETIMEDOUT, wait_job(fd, seq, -1));
	ms = now_ms() - t0;
	TH_LOG("timeout_ms 1: -ETIMEDOUT after %lld ms", ms);
	EXPECT_LT(ms, nuq_scaled_ms(1000));
	close(fd);
}

/* 1: closing the file with the huge job running returns within a second. */
TEST(close_with_huge_row_running)
{
	int fd = open(NUQ_DEV0, O_RDWR);
	long long cancelled = sysfs_stat("jobs_cancelled"), t0, ms;
	struct big_job b;
	uint64_t seq;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, big_job_make(fd, &b, 20000));
	ASSERT_EQ(0, submit(fd, &b.job, 1, &seq, NULL));
	ASSERT_EQ(1, stat_wait("jobs_running", 1, 2000));
	usleep(100000);
	t0 = now_ms();
	close(fd);
	ms = now_ms() - t0;
	TH_LOG("close with the job running: %lld ms", ms);
	EXPECT_LT(ms, nuq_scaled_ms(1000));
	EXPECT_EQ(cancelled + 1, sysfs_stat("jobs_cancelled"));
	EXPECT_EQ(0, sysfs_stat("jobs_running"));
}

/*
 * 1: SIGKILL of a process waiting for the huge job: it is gone (waitpid
 * returns) within a second, and so is its context.
 */
TEST(sigkill_with_huge_row_running)
{
	long long contexts = sysfs_stat("contexts"), t0, ms;
	int pipefd[2], status;
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int fd = open(NUQ_DEV0, O_RDWR);
		struct big_job b;
		uint64_t seq;

		if (fd < 0 || big_job_make(fd, &b, 20000) || submit(fd, &b.job, 1, &seq, NULL))
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(2);
		wait_job(fd, seq, -1);
		_exit(3);
	}
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	ASSERT_EQ(1, stat_wait("jobs_running", 1, 2000));
	usleep(100000);
	t0 = now_ms();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ms = now_ms() - t0;
	TH_LOG("SIGKILL to waitpid: %lld ms", ms);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_LT(ms, nuq_scaled_ms(1000));
	EXPECT_EQ(contexts, sysfs_stat("contexts"));
	EXPECT_EQ(0, sysfs_stat("jobs_running"));
	close(pipefd[0]);
	close(pipefd[1]);
}

static long long mem_available_kib(void)
{
	char line[128];
	long long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * A job with K = 2^20 taps (a 16x16 kernel over 4096 channels, one
 * output): its core scratch is 2 MiB, all BOs together 2 MiB.
 */
static int big_k_job_make(int fd, struct big_job *b)
{
	struct nuq_conv_job *j = &b->job;
	uint64_t size[NUQ_T_COUNT] = { 0 };
	int i;

	memset(b, 0, sizeof(*b));
	j->weight_format = NUQ_WFMT_INT8;
	j->weight_bits = 8;
	j->batch = j->out_h = j->out_w = j->out_c = 1;
	j->in_h = j->in_w = j->kernel_h = j->kernel_w = 16;
	j->in_c = 4096;
	j->stride_h = j->stride_w = j->dilation_h = j->dilation_w = j->groups = 1;
	j->in_format = j->out_format = NUQ_AFMT_UINT8;
	j->out_max = 255;
	size[NUQ_T_INPUT] = 16 * 16 * 4096;
	size[NUQ_T_OUTPUT] = 1;
	size[NUQ_T_WEIGHTS] = 16 * 16 * 4096;
	size[NUQ_T_REQUANT] = 8;
	for (i = 0; i < NUQ_T_COUNT; i++) {
		if (!size[i])
			continue;
		if (bo_create(fd, size[i], &b->handle[i]))
			return -1;
		j->tensors[i].handle = b->handle[i];
	}
	return 0;
}

/*
 * 2: jobs waiting behind a hung one hold no scratch: 64 queued jobs of
 * 2 MiB scratch each took 128-256 MiB of kernel memory before, now only
 * their descriptors.  They still run (with the worker's scratch) after.
 */
TEST(queued_jobs_pin_no_scratch)
{
	struct nuq_conv_job jobs[64];
	uint64_t hang_seq, seq[64];
	long long before, after;
	struct big_job b;
	int fd = open(NUQ_DEV0, O_RDWR), i;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, big_k_job_make(fd, &b));
	fault_set("hang", "1", "10");
	b.job.timeout_ms = 2000;
	ASSERT_EQ(0, submit(fd, &b.job, 1, &hang_seq, NULL));
	ASSERT_EQ(1, stat_wait("jobs_running", 1, 2000));
	b.job.timeout_ms = 0;
	for (i = 0; i < 64; i++)
		jobs[i] = b.job;
	before = mem_available_kib();
	ASSERT_EQ(0, submit(fd, jobs, 64, seq, NULL));
	after = mem_available_kib();
	TH_LOG("64 queued jobs of 2 MiB scratch: MemAvailable %lld -> %lld KiB", before, after);
	EXPECT_LT(before - after, 16 * 1024);
	EXPECT_EQ(64, sysfs_stat("queue_depth"));
	/* the hung job times out; the queued ones then run */
	EXPECT_EQ(-ETIMEDOUT, wait_job(fd, hang_seq, -1));
	fault_set("none", "-1", "10");
	for (i = 0; i < 64; i++)
		EXPECT_EQ(0, wait_job(fd, seq[i], -1)) TH_LOG("job %d", i);
	close(fd);
}

/* 2: max_contexts caps the open files per device; EMFILE beyond. */
TEST(contexts_are_capped)
{
	long long open_now = sysfs_stat("contexts");
	int fds[4], fd, i;

	ASSERT_EQ(0, open_now);
	ASSERT_EQ(0, write_file("/sys/module/nuq/parameters/max_contexts", "4"));
	for (i = 0; i < 4; i++) {
		fds[i] = open(NUQ_DEV0, O_RDWR);
		ASSERT_GE(fds[i], 0);
	}
	EXPECT_EQ(-1, open(NUQ_DEV0, O_RDWR));
	EXPECT_EQ(EMFILE, errno);
	EXPECT_EQ(4, sysfs_stat("contexts"));
	close(fds[3]);
	fd = open(NUQ_DEV0, O_RDWR);
	EXPECT_GE(fd, 0);
	close(fd);
	for (i = 0; i < 3; i++)
		close(fds[i]);
	ASSERT_EQ(0, write_file("/sys/module/nuq/parameters/max_contexts", "1024"));
	EXPECT_EQ(0, sysfs_stat("contexts"));
}

#define FAULT_OFF()	fault_set("none", "-1", "10")

/* 3: a job's timeout, and the default, are clamped to max_job_timeout_ms. */
TEST(timeouts_are_clamped)
{
	int fd = open(NUQ_DEV0, O_RDWR);
	long long t0, ms;
	struct test_job tj;
	struct dev_job dj;
	uint64_t seq;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, small_job(&tj, NUQ_WFMT_INT8, 8, 14));
	ASSERT_EQ(0, dev_job_upload(fd, &tj, &dj));
	ASSERT_EQ(0, write_file("/sys/module/nuq/parameters/max_job_timeout_ms", "300"));
	fault_set("hang", "2", "10");
	dj.job.timeout_ms = UINT32_MAX;		/* 49 days */
	t0 = now_ms();
	ASSERT_EQ(0, submit(fd, &dj.job, 1, &seq, NULL));
	EXPECT_EQ(-ETIMEDOUT, wait_job(fd, seq, 5000000000LL));
	ms = now_ms() - t0;
	TH_LOG("timeout_ms 2^32-1 with max_job_timeout_ms 300: -ETIMEDOUT after %lld ms", ms);
	EXPECT_GE(ms, 300);
	EXPECT_LT(ms, nuq_scaled_ms(1300));
	dj.job.timeout_ms = 0;			/* job_timeout_ms, 5000 */
	t0 = now_ms();
	ASSERT_EQ(0, submit(fd, &dj.job, 1, &seq, NULL));
	EXPECT_EQ(-ETIMEDOUT, wait_job(fd, seq, 5000000000LL));
	ms = now_ms() - t0;
	EXPECT_LT(ms, nuq_scaled_ms(1300));
	FAULT_OFF();
	ASSERT_EQ(0, write_file("/sys/module/nuq/parameters/max_job_timeout_ms", "60000"));
	dev_job_release(fd, &dj);
	test_job_free(&tj);
	close(fd);
}

/* Submit @n single io_uring commands of @job on @fd through @ring. */
static int uring_submit_n(struct io_uring *ring, int fd, const struct nuq_conv_job *job, int n)
{
	int i;

	for (i = 0; i < n; i++)
		prep_nuq_cmd(ring, fd, NUQ_URING_CMD_SUBMIT, job, sizeof(*job), i);
	return io_uring_submit(ring) == n ? 0 : -1;
}

/*
 * A child that opens the device, puts 8 hanging jobs of 30 s timeout into
 * io_uring (one running, seven queued), tells the parent through @pipefd
 * and then either waits for a completion or, with @exec_after, execs
 * /bin/true with the commands pending.
 */
static void uring_child(int pipefd[2], int exec_after)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	struct test_job tj;
	struct dev_job dj;
	int fd = open(NUQ_DEV0, O_RDWR);

	if (fd < 0 || small_job(&tj, NUQ_WFMT_INT8, 8, 15) || dev_job_upload(fd, &tj, &dj))
		_exit(1);
	dj.job.timeout_ms = 30000;
	if (io_uring_queue_init(16, &ring, 0) || uring_submit_n(&ring, fd, &dj.job, 8))
		_exit(2);
	if (stat_wait("jobs_running", 1, 2000) != 1 || write(pipefd[1], "x", 1) != 1)
		_exit(3);
	if (exec_after) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(4);
	}
	io_uring_wait_cqe(&ring, &cqe);
	_exit(5);
}

/* Wait until the device has no context, job or queue left; ms taken or -1. */
static long long wait_idle(long long contexts, int ms)
{
	long long t0 = now_ms(), end = t0 + ms;

	while (now_ms() < end) {
		if (sysfs_stat("contexts") == contexts && !sysfs_stat("jobs_running") &&
		    !sysfs_stat("queue_depth"))
			return now_ms() - t0;
		usleep(5000);
	}
	return -1;
}

/*
 * 3: SIGKILL of a process with io_uring jobs running and queued: they are
 * cancelled at once and the context goes with the process.
 */
TEST(uring_jobs_of_killed_submitter_end)
{
	long long contexts = sysfs_stat("contexts"), cancelled = sysfs_stat("jobs_cancelled");
	long long t0, ms;
	int pipefd[2], status;
	char c;
	pid_t pid;

	fault_set("hang", "-1", "10");
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		uring_child(pipefd, 0);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	usleep(100000);
	t0 = now_ms();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ms = wait_idle(contexts, 3000);
	TH_LOG("SIGKILL: waitpid after %lld ms, jobs and context gone after %lld ms",
	       now_ms() - t0, ms);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_GE(ms, 0);
	EXPECT_LT(ms, nuq_scaled_ms(1000));
	EXPECT_EQ(cancelled + 8, sysfs_stat("jobs_cancelled"));
	FAULT_OFF();
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * 3: execve() with io_uring commands pending cancels them: the exec does
 * not wait for the jobs (it waited for them to time out before).
 */
TEST(exec_cancels_pending_uring_jobs)
{
	long long contexts = sysfs_stat("contexts"), cancelled = sysfs_stat("jobs_cancelled");
	long long t0, ms;
	int pipefd[2], status;
	char c;
	pid_t pid;

	fault_set("hang", "-1", "10");
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		uring_child(pipefd, 1);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	t0 = now_ms();
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ms = now_ms() - t0;
	TH_LOG("exec with 8 commands pending: the new program exited after %lld ms", ms);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_LT(ms, nuq_scaled_ms(1000));
	EXPECT_GE(wait_idle(contexts, 3000), 0);
	EXPECT_EQ(cancelled + 8, sysfs_stat("jobs_cancelled"));
	FAULT_OFF();
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * A thread that keeps rewriting @n values of @width bytes of a mapped BO,
 * @stride apart, between their good values and @bad, holding each phase
 * for a while so that a tile can start in one and run on in the other.
 */
struct flipper {
	uint8_t *base;
	const uint8_t *good;	/* a copy of the good bytes, same layout */
	size_t n, stride, width;
	uint32_t bad;
	volatile int stop;
	pthread_t thread;
};

static void *flipper_run(void *arg)
{
	struct flipper *f = arg;
	size_t i;
	int phase = 0;

	while (!f->stop) {
		for (i = 0; i < f->n; i++) {
			uint8_t *p = f->base + i * f->stride;

			if (phase)
				memcpy(p, &f->bad, f->width);
			else
				memcpy(p, f->good + i * f->stride, f->width);
		}
		__sync_synchronize();
		phase ^= 1;
		for (i = 0; i < 20000 && !f->stop; i++)
			__asm__ volatile("" ::: "memory");
	}
	for (i = 0; i < f->n; i++)
		memcpy(f->base + i * f->stride, f->good + i * f->stride, f->width);
	return NULL;
}

/*
 * Run @tj on the device @iters times while @slot's values (@n of @width
 * bytes, @stride apart from @off) flip between
 * good and bad: every job must fail with -EINVAL or give the good values'
 * exact output, never pass the check and compute with bad values.
 */
static void race_tensor(struct __test_metadata *_metadata, struct test_job *tj, int slot,
			size_t off, size_t n, size_t stride, size_t width, uint32_t bad, int iters)
{
	int fd = open(NUQ_DEV0, O_RDWR), i, good = 0, refused = 0, wrong = 0, err;
	size_t out = tj->size[NUQ_T_OUTPUT];
	struct flipper f = { 0 };
	struct dev_job dj;
	uint8_t *ref = malloc(out);
	uint64_t seq;

	ASSERT_GE(fd, 0);
	ASSERT_NE(NULL, ref);
	ASSERT_EQ(0, nuq_conv_run_cpu(&tj->job, (void *const *)tj->buf, tj->size, &err));
	memcpy(ref, tj->buf[NUQ_T_OUTPUT], out);
	ASSERT_EQ(0, dev_job_upload(fd, tj, &dj));
	f.base = dj.map[slot] + off;
	f.good = tj->buf[slot] + off;
	f.n = n;
	f.stride = stride;
	f.width = width;
	f.bad = bad;
	ASSERT_EQ(0, pthread_create(&f.thread, NULL, flipper_run, &f));
	for (i = 0; i < iters; i++) {
		int st;

		memset(dj.map[NUQ_T_OUTPUT], 0x5a, out);
		ASSERT_EQ(0, submit(fd, &dj.job, 1, &seq, NULL));
		st = wait_job(fd, seq, -1);
		if (st == -EINVAL)
			refused++;
		else if (st == 0 && !memcmp(dj.map[NUQ_T_OUTPUT], ref, out))
			good++;
		else
			wrong++;
	}
	f.stop = 1;
	pthread_join(f.thread, NULL);
	TH_LOG("%d jobs: %d exact, %d refused (-EINVAL), %d computed with unchecked values",
	       iters, good, refused, wrong);
	EXPECT_EQ(0, wrong);
	/* with the good values back, the job passes */
	ASSERT_EQ(0, submit(fd, &dj.job, 1, &seq, NULL));
	EXPECT_EQ(0, wait_job(fd, seq, -1));
	EXPECT_EQ(0, memcmp(dj.map[NUQ_T_OUTPUT], ref, out));
	dev_job_release(fd, &dj);
	free(ref);
	close(fd);
}

/*
 * 4: the depthwise row path checked every channel's requantization shift
 * when a tile started and read it again for each output: a shift flipping
 * to 31 (out of range) in between was used unchecked.  One tile (one row)
 * per job, so one check and a long computation after it.
 */
TEST(requant_read_once_depthwise)
{
	struct test_rng r = { 41 };
	struct test_shape s = {
		.batch = 1, .in_h = 1, .in_w = 256, .in_c = 64, .out_c = 64, .kh = 3, .kw = 3,
		.sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pb = 1, .pl = 1, .pr = 1,
		.groups = 64, .wfmt = NUQ_WFMT_INT8, .bits = 8,
	};
	struct test_job tj;

	ASSERT_EQ(0, test_job_make(&tj, &s, &r));
	/* the shifts: 4 bytes at offset 4 of every 8 */
	race_tensor(_metadata, &tj, NUQ_T_REQUANT, 4, 64, 8, 4, 31, 60);
	test_job_free(&tj);
}

/*
 * 4: ASD weights on the row path: a channel's digits were checked, then
 * read again for every output; a digit flipping to 2^15 (malformed) in
 * between was used unchecked.  One output channel of one row: one check.
 */
TEST(asd_digits_read_once)
{
	struct test_rng r = { 42 };
	struct test_shape s = {
		.batch = 1, .in_h = 1, .in_w = 512, .in_c = 32, .out_c = 1, .kh = 3, .kw = 3,
		.sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pb = 1, .pl = 1, .pr = 1,
		.groups = 1, .wfmt = NUQ_WFMT_ASD,
	};
	struct test_job tj;

	ASSERT_EQ(0, test_job_make(&tj, &s, &r));
	/* the first digit of every weight: 1 byte of every 2 */
	race_tensor(_metadata, &tj, NUQ_T_WEIGHTS, 0, tj.size[NUQ_T_WEIGHTS] / 2, 2, 1, 0x4f, 60);
	test_job_free(&tj);
}

/* A 1x1 conv of one pixel and channel over zeroed BOs: valid, done in microseconds. */
static int tiny_job_make(int fd, struct big_job *b)
{
	struct nuq_conv_job *j = &b->job;
	static const int slots[] = { NUQ_T_INPUT, NUQ_T_OUTPUT, NUQ_T_WEIGHTS, NUQ_T_REQUANT };
	unsigned int i;

	memset(b, 0, sizeof(*b));
	j->weight_format = NUQ_WFMT_INT8;
	j->weight_bits = 8;
	j->batch = j->in_h = j->in_w = j->in_c = j->out_h = j->out_w = j->out_c = 1;
	j->kernel_h = j->kernel_w = j->stride_h = j->stride_w = 1;
	j->dilation_h = j->dilation_w = j->groups = 1;
	j->in_format = j->out_format = NUQ_AFMT_UINT8;
	j->out_max = 255;
	for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		if (bo_create(fd, 8, &b->handle[slots[i]]))
			return -1;
		j->tensors[slots[i]].handle = b->handle[slots[i]];
	}
	return 0;
}

static long long jobs_finished(void)
{
	return sysfs_stat("jobs_completed") + sysfs_stat("jobs_failed") +
	       sysfs_stat("jobs_timed_out") + sysfs_stat("jobs_cancelled");
}

/*
 * 5: close races its jobs' completion.  nuq_job_complete() used to drop
 * inflight, unlock, then wake the context's wait queue: a release that saw
 * inflight 0 in between could free the context under the wake.  Not
 * reproducible on a production kernel; this loop closes files at random
 * moments around their jobs' ends (queued, running, sleeping in the slow
 * fault, completing) and checks that every job was accounted for once and
 * nothing is left; the VM verdict catches any oops or WARN.
 */
TEST(close_races_completion)
{
	long long submitted = sysfs_stat("jobs_submitted"), finished = jobs_finished();
	struct test_rng r = { 5 };
	struct nuq_conv_job jobs[3];
	struct big_job b;
	uint64_t seq[3];
	int i, n = 0;

	for (i = 0; i < 600; i++) {
		int fd = open(NUQ_DEV0, O_RDWR), k = 1 + test_rand(&r) % 3, d;

		if (i % 200 == 0)
			fault_set(i == 200 ? "slow" : "none", "-1", "1");
		ASSERT_GE(fd, 0);
		ASSERT_EQ(0, tiny_job_make(fd, &b));
		for (d = 0; d < k; d++)
			jobs[d] = b.job;
		ASSERT_EQ(0, submit(fd, jobs, k, seq, NULL));
		n += k;
		d = test_rand(&r) % 4;
		if (d == 1)
			usleep(test_rand(&r) % 2000);
		else if (d == 2)
			for (volatile int spin = test_rand(&r) % 20000; spin > 0; spin--)
				;
		else if (d == 3)
			wait_job(fd, seq[0], 0);
		close(fd);
	}
	FAULT_OFF();
	EXPECT_EQ(submitted + n, sysfs_stat("jobs_submitted"));
	EXPECT_EQ(finished + n, jobs_finished());
	EXPECT_EQ(0, sysfs_stat("contexts"));
	EXPECT_EQ(0, sysfs_stat("jobs_running"));
	EXPECT_EQ(0, sysfs_stat("queue_depth"));
	EXPECT_EQ(0, sysfs_stat("bo_bytes"));
}

/*
 * 6: a file opened read-only maps a BO MAP_SHARED with PROT_READ (mmap
 * clears VM_SHARED for it; the driver tested that flag and refused), and
 * sees what a job writes; writable or private mappings stay refused.
 */
TEST(read_only_file_maps_shared)
{
	int fd = open(NUQ_DEV0, O_RDONLY);
	struct nuq_bo_info info = { 0 };
	struct big_job b;
	uint8_t *p;
	uint64_t seq;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, tiny_job_make(fd, &b));
	b.job.out_zero_point = 7;		/* the output of zeroed tensors */
	info.handle = b.handle[NUQ_T_OUTPUT];
	ASSERT_EQ(0, ioctl(fd, NUQ_IOCTL_BO_INFO, &info));
	p = mmap(NULL, info.size, PROT_READ, MAP_SHARED, fd, info.mmap_offset);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, p[0]);
	ASSERT_EQ(0, submit(fd, &b.job, 1, &seq, NULL));
	EXPECT_EQ(0, wait_job(fd, seq, -1));
	EXPECT_EQ(7, p[0]);
	EXPECT_EQ(-1, mprotect(p, info.size, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
				   info.mmap_offset));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, info.size, PROT_READ, MAP_PRIVATE, fd,
				   info.mmap_offset));
	EXPECT_EQ(EINVAL, errno);
	munmap(p, info.size);
	close(fd);
	EXPECT_EQ(0, sysfs_stat("bo_bytes"));
}

/* 6: BO_CREATE's handle is out only: a non-zero value on input is ignored. */
TEST(bo_create_ignores_input_handle)
{
	int fd = open(NUQ_DEV0, O_RDWR);
	struct nuq_bo_create c = { .size = 4096, .handle = 0xdeadbeef };
	uint32_t first;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ioctl(fd, NUQ_IOCTL_BO_CREATE, &c));
	EXPECT_NE(0, c.handle);
	EXPECT_NE(0xdeadbeef, c.handle);
	first = c.handle;
	/* the previous call's output, as a reused struct would hold it */
	ASSERT_EQ(0, ioctl(fd, NUQ_IOCTL_BO_CREATE, &c));
	EXPECT_NE(first, c.handle);
	EXPECT_EQ(0, bo_free(fd, first));
	EXPECT_EQ(0, bo_free(fd, c.handle));
	close(fd);
}

/*
 * 6: MADV_DONTNEED on a BO mapping drops its page table entries; later
 * accesses raised SIGBUS, and now fault the BO's own pages back, contents
 * intact, writes reaching the BO.  A forked child (whose copy of the
 * mapping starts without entries) reads and writes it too.
 */
TEST(madv_dontneed_and_fork_keep_the_bo)
{
	int fd = open(NUQ_DEV0, O_RDWR), status;
	size_t size, i, bad = 0;
	uint32_t h = 0;
	uint8_t *p, *q;
	pid_t pid;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, bo_create(fd, 5 * 4096, &h));
	p = bo_map(fd, h, &size);
	ASSERT_NE(NULL, p);
	for (i = 0; i < size; i++)
		p[i] = (uint8_t)(i * 7 + 1);
	ASSERT_EQ(0, madvise(p, size, MADV_DONTNEED));
	for (i = 0; i < size; i++)
		bad += p[i] != (uint8_t)(i * 7 + 1);
	EXPECT_EQ(0, bad);
	/* part of the mapping, then a write through it */
	ASSERT_EQ(0, madvise(p + 8192, 8192, MADV_DONTNEED));
	p[8192 + 5] = 0xee;
	q = bo_map(fd, h, NULL);		/* a second mapping: same memory */
	ASSERT_NE(NULL, q);
	EXPECT_EQ(0xee, q[8192 + 5]);
	EXPECT_EQ((uint8_t)(4 * 7 + 1), q[4]);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (p[size - 1] != (uint8_t)((size - 1) * 7 + 1) || q[8192 + 5] != 0xee)
			_exit(1);
		p[100] = 0x42;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0x42, q[100]);
	munmap(q, size);
	munmap(p, size);
	EXPECT_EQ(0, bo_free(fd, h));
	close(fd);
	EXPECT_EQ(0, sysfs_stat("bo_bytes"));
}

/* memory.current of cgroup @cg in bytes, or -1. */
static long long cg_current(const char *cg)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	return read_number(path);
}

/*
 * 2: BO memory is charged to the memory cgroup of the task that creates
 * it, so a user's contexts together are bounded by the cgroup as well as
 * each by its quota.  A child in a cgroup with memory.max = 16 MiB gets
 * ENOMEM for a 32 MiB BO (within ctx_bo_bytes), and the 4 MiB it may
 * create shows in memory.current until it is freed.
 */
TEST(bo_memory_is_charged_to_the_memcg)
{
	const char *root = "/sys/fs/cgroup", *cg = "/sys/fs/cgroup/nuq-memcg";
	char procs[256];
	int status;
	pid_t pid;

	mkdir(root, 0755);
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK))
		mount("cgroup2", root, "cgroup2", 0, NULL);
	if (write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory"))
		SKIP(return, "no memory cgroup controller in this kernel");
	rmdir(cg);
	ASSERT_EQ(0, mkdir(cg, 0755)) TH_LOG("%s: %s", cg, strerror(errno));
	snprintf(procs, sizeof(procs), "%s/memory.max", cg);
	ASSERT_EQ(0, write_file(procs, "16777216"));
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct nuq_bo_create c = { .size = 32 << 20 };
		long long before, during, after;
		uint32_t h = 0;
		int fd;

		if (write_file(procs, "0"))
			_exit(10);
		fd = open(NUQ_DEV0, O_RDWR);
		if (fd < 0)
			_exit(11);
		if (ioctl(fd, NUQ_IOCTL_BO_CREATE, &c) != -1 || errno != ENOMEM)
			_exit(12);
		before = cg_current(cg);
		if (bo_create(fd, 4 << 20, &h))
			_exit(13);
		during = cg_current(cg);
		if (bo_free(fd, h))
			_exit(14);
		after = cg_current(cg);
		/* the 4 MiB, give or take the page tables and slab around it */
		if (during - before < (4 << 20) || during - after < (4 << 20))
			_exit(15);
		close(fd);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("10 join cgroup, 11 open, 12 no ENOMEM beyond memory.max, 13 create, "
		       "14 free, 15 not charged");
	EXPECT_EQ(0, rmdir(cg));
	EXPECT_EQ(0, sysfs_stat("bo_bytes"));
}

TEST_HARNESS_MAIN
