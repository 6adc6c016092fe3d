// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: scheduling and reliability - priorities, fairness between
 * contexts, realtime permission, timeouts and failures through the fault
 * knob, cancellation on close and on kill, rings closed with pending jobs,
 * concurrent processes, reset, and a clean module reload afterwards.
 */
#include <linux/capability.h>
#include <signal.h>
#include <sys/wait.h>

#include <nuq/conv.h>

#include "nuq_harness.h"
#include "nuq_jobs.h"

#define FAULT_OFF() fault_set("none", "-1", "10")

/* A context with one small job uploaded. */
struct ctx {
	int fd;
	struct test_job tj;
	struct dev_job dj;
};

static int ctx_open(struct ctx *c, uint64_t seed)
{
	c->fd = open(NUQ_DEV0, O_RDWR);
	if (c->fd < 0 || small_job(&c->tj, NUQ_WFMT_INT8, 8, seed))
		return -1;
	return dev_job_upload(c->fd, &c->tj, &c->dj);
}

static void ctx_close(struct ctx *c)
{
	dev_job_release(c->fd, &c->dj);
	test_job_free(&c->tj);
	close(c->fd);
}

static int submit_n(struct ctx *c, uint32_t prio, int n, uint64_t *seq)
{
	struct nuq_conv_job jobs[NUQ_MAX_BATCH];
	int i;

	for (i = 0; i < n; i++) {
		jobs[i] = c->dj.job;
		jobs[i].priority = prio;
	}
	return submit(c->fd, jobs, n, seq, NULL);
}

static int count_done(struct ctx *c, const uint64_t *seq, int n)
{
	int i, done = 0;

	for (i = 0; i < n; i++)
		if (wait_job(c->fd, seq[i], 0) == 0)
			done++;
	return done;
}

static long long finished(void)
{
	return sysfs_stat("jobs_completed") + sysfs_stat("jobs_failed") +
	       sysfs_stat("jobs_timed_out") + sysfs_stat("jobs_cancelled");
}

TEST(high_priority_overtakes_low)
{
	struct ctx c;
	uint64_t low[20], high;

	ASSERT_EQ(0, ctx_open(&c, 1));
	fault_set("slow", "-1", "5");	/* 8 tiles x 5 ms per job */
	ASSERT_EQ(0, submit_n(&c, NUQ_PRIO_LOW, 20, low));
	ASSERT_EQ(0, submit_n(&c, NUQ_PRIO_HIGH, 1, &high));
	EXPECT_EQ(0, wait_job(c.fd, high, -1));
	/* at most the low job that was running, and one more, went first */
	EXPECT_LE(count_done(&c, low, 20), 2);
	FAULT_OFF();
	for (int i = 0; i < 20; i++)
		wait_job(c.fd, low[i], -1);
	ctx_close(&c);
}

/*
 * A busy higher level holds a lower one back, but only for about
 * sched_starve_ms: then the waiting job gets the next turn.  (Strict
 * priorities would keep it queued while the higher level stays busy; an
 * io_uring command of such a job keeps its closed ring alive until
 * io_uring warns.)
 */
TEST(low_priority_is_not_starved)
{
	unsigned long long starve_ms = nuq_read_param("sched_starve_ms");
	struct timespec t0, t1;
	struct ctx lo;
	uint64_t seq;
	double secs;
	pid_t pid;
	int st;

	ASSERT_GT(starve_ms, 0);
	ASSERT_LT(starve_ms, 2000);
	fault_set("slow", "-1", "5");	/* 8 tiles x 5 ms per job */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* Keep 8 high-priority jobs queued for 4 s. */
		struct timespec s, n;
		uint64_t hs[8];
		struct ctx hi;
		int i = 0;

		if (ctx_open(&hi, 3) || submit_n(&hi, NUQ_PRIO_HIGH, 8, hs))
			_exit(10);
		clock_gettime(CLOCK_MONOTONIC, &s);
		do {
			if (wait_job(hi.fd, hs[i], -1) || submit_n(&hi, NUQ_PRIO_HIGH, 1, &hs[i]))
				_exit(11);
			i = (i + 1) % 8;
			clock_gettime(CLOCK_MONOTONIC, &n);
		} while (n.tv_sec - s.tv_sec < 4);
		for (i = 0; i < 8; i++)
			wait_job(hi.fd, hs[i], -1);
		_exit(0);
	}
	usleep(300000);
	ASSERT_EQ(0, ctx_open(&lo, 4));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, submit_n(&lo, NUQ_PRIO_LOW, 1, &seq));
	EXPECT_EQ(0, wait_job(lo.fd, seq, -1));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	TH_LOG("the low job waited %.2f s behind a busy high level (sched_starve_ms %llu)",
	       secs, starve_ms);
	/* Held back by priority first, then given a turn long before the 4 s flood ends. */
	EXPECT_LT(starve_ms / 1000.0 - 0.05, secs);
	EXPECT_GT(starve_ms / 1000.0 + 1.0, secs);
	EXPECT_EQ(0, waitpid(pid, &st, WNOHANG)) TH_LOG("the flood ended before the low job ran");
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	FAULT_OFF();
	ctx_close(&lo);
}

TEST(realtime_needs_cap_sys_nice)
{
	int status;
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct data[2];
		struct ctx c;
		uint64_t seq;

		if (ctx_open(&c, 2) || syscall(SYS_capget, &hdr, data))
			_exit(10);
		data[0].effective &= ~(1u << CAP_SYS_NICE);
		if (syscall(SYS_capset, &hdr, data))
			_exit(11);
		if (submit_n(&c, NUQ_PRIO_REALTIME, 1, &seq) != -EPERM)
			_exit(12);
		if (submit_n(&c, NUQ_PRIO_HIGH, 1, &seq) || wait_job(c.fd, seq, -1))
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* root has it */
	struct ctx c;
	uint64_t seq;

	ASSERT_EQ(0, ctx_open(&c, 3));
	ASSERT_EQ(0, submit_n(&c, NUQ_PRIO_REALTIME, 1, &seq));
	EXPECT_EQ(0, wait_job(c.fd, seq, -1));
	ctx_close(&c);
}

TEST(equal_contexts_share_fairly)
{
	struct ctx a, b;
	uint64_t sa[60], sb[60];
	long long base;
	int da, db;

	ASSERT_EQ(0, ctx_open(&a, 4));
	ASSERT_EQ(0, ctx_open(&b, 4));
	fault_set("slow", "-1", "1");
	base = finished();
	ASSERT_EQ(0, submit_n(&a, NUQ_PRIO_NORMAL, 60, sa));
	ASSERT_EQ(0, submit_n(&b, NUQ_PRIO_NORMAL, 60, sb));
	/* a window of 60 finished jobs while both queues stay non-empty */
	while (finished() - base < 60)
		usleep(2000);
	da = count_done(&a, sa, 60);
	db = count_done(&b, sb, 60);
	TH_LOG("window: context A %d jobs, context B %d jobs", da, db);
	EXPECT_GE(da * 100, (da + db) * 40);
	EXPECT_GE(db * 100, (da + db) * 40);
	FAULT_OFF();
	for (int i = 0; i < 60; i++) {
		wait_job(a.fd, sa[i], -1);
		wait_job(b.fd, sb[i], -1);
	}
	ctx_close(&a);
	ctx_close(&b);
}

TEST(hang_ends_in_timeout)
{
	struct ctx c;
	uint64_t seq[2];
	long long before = sysfs_stat("jobs_timed_out");
	struct nuq_conv_job jobs[2];

	ASSERT_EQ(0, ctx_open(&c, 5));
	fault_set("hang", "1", "10");
	jobs[0] = jobs[1] = c.dj.job;
	jobs[0].timeout_ms = 200;
	ASSERT_EQ(0, submit(c.fd, jobs, 2, seq, NULL));
	/* the wait itself may time out first */
	EXPECT_EQ(-ETIME, wait_job(c.fd, seq[0], 50 * 1000 * 1000));
	EXPECT_EQ(-ETIMEDOUT, wait_job(c.fd, seq[0], -1));
	EXPECT_EQ(0, wait_job(c.fd, seq[1], -1));	/* the device goes on */
	EXPECT_EQ(before + 1, sysfs_stat("jobs_timed_out"));
	FAULT_OFF();
	ctx_close(&c);
}

TEST(backend_failure_is_eio)
{
	struct ctx c;
	uint64_t seq[3];
	long long before = sysfs_stat("jobs_failed");

	ASSERT_EQ(0, ctx_open(&c, 6));
	fault_set("fail", "2", "10");
	ASSERT_EQ(0, submit_n(&c, NUQ_PRIO_NORMAL, 3, seq));
	EXPECT_EQ(-EIO, wait_job(c.fd, seq[0], -1));
	EXPECT_EQ(-EIO, wait_job(c.fd, seq[1], -1));
	EXPECT_EQ(0, wait_job(c.fd, seq[2], -1));
	EXPECT_EQ(before + 2, sysfs_stat("jobs_failed"));
	FAULT_OFF();
	ctx_close(&c);
}

TEST(close_cancels_queued_jobs)
{
	struct ctx c;
	uint64_t seq[100];
	long long before = sysfs_stat("jobs_cancelled");

	ASSERT_EQ(0, ctx_open(&c, 7));
	fault_set("slow", "-1", "20");
	ASSERT_EQ(0, submit_n(&c, NUQ_PRIO_NORMAL, 100, seq));
	ctx_close(&c);	/* returns once the running job let go */
	EXPECT_GE(sysfs_stat("jobs_cancelled") - before, 98);
	EXPECT_EQ(0, sysfs_stat("queue_depth"));
	EXPECT_EQ(0, sysfs_stat("jobs_running"));
	EXPECT_EQ(0, sysfs_stat("contexts"));
	EXPECT_EQ(0, sysfs_stat("bo_bytes"));
	FAULT_OFF();
}

TEST(process_killed_mid_job)
{
	int p[2], status;
	char ch;
	pid_t pid;

	fault_set("slow", "-1", "20");
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct ctx c;
		uint64_t seq[50];

		if (ctx_open(&c, 8) || submit_n(&c, NUQ_PRIO_NORMAL, 50, seq))
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(2);
		pause();
		_exit(3);
	}
	ASSERT_EQ(1, read(p[0], &ch, 1));
	usleep(30000);	/* mid-job */
	EXPECT_EQ(1, sysfs_stat("jobs_running"));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(0, sysfs_stat("contexts"));
	EXPECT_EQ(0, sysfs_stat("jobs_running"));
	EXPECT_EQ(0, sysfs_stat("queue_depth"));
	EXPECT_EQ(0, sysfs_stat("bo_bytes"));
	FAULT_OFF();
}

TEST(ring_closed_with_jobs_pending)
{
	struct io_uring ring;
	struct ctx c;
	long long before = sysfs_stat("jobs_submitted");

	ASSERT_EQ(0, ctx_open(&c, 9));
	fault_set("slow", "-1", "2");
	ASSERT_EQ(0, io_uring_queue_init(128, &ring, 0));
	for (int i = 0; i < 64; i++)
		prep_nuq_cmd(&ring, c.fd, NUQ_URING_CMD_SUBMIT, &c.dj.job, sizeof(c.dj.job), i);
	ASSERT_EQ(64, io_uring_submit(&ring));
	io_uring_queue_exit(&ring);	/* with commands in flight */
	ctx_close(&c);
	/*
	 * io_uring tears the ring down in a worker that waits for the pending
	 * commands; they hold the file, so the context goes after them.
	 */
	for (int i = 0; i < 500 && sysfs_stat("contexts"); i++)
		usleep(20000);
	EXPECT_EQ(before + 64, sysfs_stat("jobs_submitted"));
	EXPECT_EQ(0, sysfs_stat("contexts"));
	EXPECT_EQ(0, sysfs_stat("bo_bytes"));
	FAULT_OFF();
}

TEST(processes_submit_at_once)
{
	pid_t pids[4];
	int i, status;

	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i] == 0) {
			int fd = open(NUQ_DEV0, O_RDWR), j, err;

			for (j = 0; j < 8; j++) {
				struct test_job tj;
				struct dev_job dj;
				uint64_t seq;

				if (small_job(&tj, j % 2 ? NUQ_WFMT_CODEBOOK : NUQ_WFMT_ASD,
					      1 + j % 8, 100 * i + j) ||
				    dev_job_upload(fd, &tj, &dj) ||
				    submit(fd, &dj.job, 1, &seq, NULL) || wait_job(fd, seq, -1) ||
				    nuq_conv_run_cpu(&tj.job, (void *const *)tj.buf, tj.size, &err) ||
				    memcmp(dj.map[NUQ_T_OUTPUT], tj.buf[NUQ_T_OUTPUT],
					   tj.size[NUQ_T_OUTPUT]))
					_exit(1);
				dev_job_release(fd, &dj);
				test_job_free(&tj);
			}
			_exit(0);
		}
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("process %d", i);
	}
}

TEST(reset_cancels_everything)
{
	struct ctx c;
	uint64_t seq[30];
	int cancelled = 0;

	ASSERT_EQ(0, ctx_open(&c, 10));
	fault_set("slow", "-1", "20");
	ASSERT_EQ(0, submit_n(&c, NUQ_PRIO_NORMAL, 30, seq));
	usleep(20000);
	ASSERT_EQ(0, write_file("/sys/class/nuq/nuq0/reset", "1"));
	for (int i = 0; i < 30; i++)
		if (wait_job(c.fd, seq[i], -1) == -ECANCELED)
			cancelled++;
	EXPECT_GE(cancelled, 29);
	FAULT_OFF();
	ctx_close(&c);
}

/* After all of the above: counters add up, nothing leaked, reload is clean. */
TEST(counters_balance_and_reload)
{
	int fd;

	EXPECT_EQ(sysfs_stat("jobs_submitted"), finished());
	EXPECT_EQ(0, sysfs_stat("queue_depth"));
	EXPECT_EQ(0, sysfs_stat("jobs_running"));
	EXPECT_EQ(0, sysfs_stat("contexts"));
	EXPECT_EQ(0, sysfs_stat("bo_bytes"));
	ASSERT_EQ(0, nuq_reload(NULL));
	EXPECT_EQ(0, sysfs_stat("jobs_submitted"));
	fd = open(NUQ_DEV0, O_RDWR);
	ASSERT_GE(fd, 0);
	close(fd);
}

TEST_HARNESS_MAIN
