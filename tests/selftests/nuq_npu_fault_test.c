// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: one test per fault the NPU emulator can inject (its
 * control line is the guest's /dev/ttyS2).  Each checks that the driver
 * recovers, that the affected job gets the error Documentation/npu.rst
 * promises, that other jobs complete with the right bytes, and that the
 * recovery counters moved.  The harness fails the run on any oops or WARN.
 */
#include <nuq/conv.h>

#include "nuq_harness.h"
#include "nuq_npu.h"

FIXTURE(npu) {
	int index, fd;
	struct test_job tj;
	struct dev_job dj;
	uint8_t *want;
};

FIXTURE_SETUP(npu)
{
	int err;

	self->index = npu_find();
	if (self->index < 0)
		SKIP(return, "no NPU device");
	ASSERT_EQ(0, npu_ctl("clear", NULL, 0));
	self->fd = npu_open(self->index);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, long_job(&self->tj, 20, 11));
	self->tj.job.timeout_ms = 60000;	/* the driver's hang detection must act first */
	ASSERT_EQ(0, dev_job_upload(self->fd, &self->tj, &self->dj));
	ASSERT_EQ(0, nuq_conv_run_cpu(&self->tj.job, (void *const *)self->tj.buf, self->tj.size,
				      &err));
	self->want = self->tj.buf[NUQ_T_OUTPUT];
}

FIXTURE_TEARDOWN(npu)
{
	if (self->index < 0)
		return;
	npu_ctl("clear", NULL, 0);
	dev_job_release(self->fd, &self->dj);
	close(self->fd);
	test_job_free(&self->tj);
}

/* Run the fixture's job on @fd; its status, and 1 in *@right if the bytes are right. */
static int run_job(struct dev_job *dj, int fd, const uint8_t *want, size_t size, int *right)
{
	uint64_t seq;
	int ret;

	memset(dj->map[NUQ_T_OUTPUT], 0xa5, size);
	ret = submit(fd, &dj->job, 1, &seq, NULL);
	if (!ret)
		ret = wait_job(fd, seq, -1);
	*right = !memcmp(dj->map[NUQ_T_OUTPUT], want, size);
	return ret;
}

#define RUN(self, right) \
	run_job(&(self)->dj, (self)->fd, (self)->want, (self)->tj.size[NUQ_T_OUTPUT], right)

/*
 * After a fault: the device works again, with the right bytes.  Faults
 * armed on engines the job did not reach are disarmed first (a reset
 * disarms only the engine it resets).
 */
#define EXPECT_HEALTHY(self) do {						\
	int ok_;								\
	EXPECT_EQ(0, npu_ctl("clear", NULL, 0));				\
	EXPECT_EQ(0, RUN(self, &ok_));						\
	EXPECT_TRUE(ok_);							\
	EXPECT_EQ(0, dev_stat((self)->index, "npu_dead"));			\
} while (0)

TEST_F(npu, clean_job_matches_the_core)
{
	int right;

	EXPECT_EQ(0, RUN(self, &right));
	EXPECT_TRUE(right);
}

/* A hung engine makes no progress: found by the lack of it, long before the timeout. */
TEST_F(npu, hang_is_found_by_progress_and_times_out)
{
	long long hangs = dev_stat(self->index, "npu_hangs");
	double t0;
	int right;

	ASSERT_EQ(0, npu_cmd_all(self->index, "hang %d", 0));
	t0 = now_s();
	EXPECT_EQ(-ETIMEDOUT, RUN(self, &right));
	TH_LOG("hang ended after %.2f s", now_s() - t0);
	EXPECT_GT(30, now_s() - t0);
	EXPECT_LT(hangs, dev_stat(self->index, "npu_hangs"));
	EXPECT_HEALTHY(self);
}

/* A pause shorter than the hang limit is not a hang. */
TEST_F(npu, short_stall_is_not_a_hang)
{
	long long hangs = dev_stat(self->index, "npu_hangs");
	int right;

	ASSERT_EQ(0, npu_cmd_all(self->index, "stall %d %d", 500));
	EXPECT_EQ(0, RUN(self, &right));
	EXPECT_TRUE(right);
	EXPECT_EQ(hangs, dev_stat(self->index, "npu_hangs"));
}

/* The job's own timeout bounds it even while the device looks healthy. */
TEST_F(npu, job_timeout_is_the_upper_bound)
{
	double t0;
	int right;

	self->dj.job.timeout_ms = 300;
	ASSERT_EQ(0, npu_cmd_all(self->index, "stall %d %d", 1500));
	t0 = now_s();
	EXPECT_EQ(-ETIMEDOUT, RUN(self, &right));
	EXPECT_GT(1.4, now_s() - t0);
	self->dj.job.timeout_ms = 60000;
	EXPECT_HEALTHY(self);
}

TEST_F(npu, device_error_is_eio)
{
	int right;

	ASSERT_EQ(0, npu_cmd_all(self->index, "fail %d %d", 1));
	EXPECT_EQ(-EIO, RUN(self, &right));
	EXPECT_HEALTHY(self);
}

TEST_F(npu, mmu_fault_is_efault)
{
	long long faults = dev_stat(self->index, "npu_mmu_faults");
	int right;

	ASSERT_EQ(0, npu_cmd_all(self->index, "mmu-fault %d %d", 1));
	EXPECT_EQ(-EFAULT, RUN(self, &right));
	EXPECT_LT(faults, dev_stat(self->index, "npu_mmu_faults"));
	EXPECT_HEALTHY(self);
}

/*
 * MMU isolation: a job whose output address names another context's BO
 * (the debugfs hook moves it there; through the UAPI a handle of another
 * file never even resolves) faults in its own address space, and neither
 * that BO nor its own output is touched.
 */
TEST_F(npu, other_contexts_memory_is_unreachable)
{
	long long faults = dev_stat(self->index, "npu_mmu_faults");
	size_t out_size = self->tj.size[NUQ_T_OUTPUT], i, bad = 0;
	uint32_t victim = 0, h, own = self->dj.job.tensors[NUQ_T_OUTPUT].handle;
	int fd2 = npu_open(self->index), right;
	struct dev_job dj2;
	uint8_t *vmap;
	char path[96], skew[16];
	uint64_t seq;

	ASSERT_LE(0, fd2);
	/* The victim: a BO of the other context with a handle this one lacks. */
	ASSERT_EQ(0, dev_job_upload(fd2, &self->tj, &dj2));
	for (i = 0; i < 12; i++)
		ASSERT_EQ(0, bo_create(fd2, out_size, &victim));
	/* One job of the other context writes it, so it is mapped there. */
	dj2.job.tensors[NUQ_T_OUTPUT].handle = victim;
	ASSERT_EQ(0, submit(fd2, &dj2.job, 1, &seq, NULL));
	ASSERT_EQ(0, wait_job(fd2, seq, -1));
	vmap = bo_map(fd2, victim, NULL);
	ASSERT_NE(NULL, vmap);
	memset(vmap, 0x77, out_size);
	for (h = 0; h < NUQ_T_COUNT; h++)
		ASSERT_GT(victim, self->dj.job.tensors[h].handle);

	snprintf(path, sizeof(path), "/sys/kernel/debug/nuq/nuq%d/npu/mmu_probe", self->index);
	snprintf(skew, sizeof(skew), "%u", victim - own);
	ASSERT_EQ(0, write_file(path, skew));
	EXPECT_EQ(-EFAULT, RUN(self, &right));
	for (i = 0; i < out_size; i++)
		bad += self->dj.map[NUQ_T_OUTPUT][i] != 0xa5 || vmap[i] != 0x77;
	EXPECT_EQ(0, bad) TH_LOG("%zu bytes touched", bad);
	EXPECT_LT(faults, dev_stat(self->index, "npu_mmu_faults"));
	munmap(vmap, out_size);
	dev_job_release(fd2, &dj2);
	close(fd2);
	EXPECT_HEALTHY(self);
}

/* A lost interrupt delays a completion by the watchdog's period, never loses it. */
TEST_F(npu, lost_interrupt_is_recovered)
{
	double t0;
	int right;

	ASSERT_EQ(0, npu_cmd_all(self->index, "drop-irq %d %d", 1));
	t0 = now_s();
	EXPECT_EQ(0, RUN(self, &right));
	EXPECT_TRUE(right);
	EXPECT_GT(5, now_s() - t0);
}

/* Garbage in a completion: the device is reset and the job rerun, not trusted. */
TEST_F(npu, corrupt_completion_resets_and_reruns)
{
	long long resets = dev_stat(self->index, "npu_resets");
	int right;

	ASSERT_EQ(0, npu_cmd_all(self->index, "corrupt-cqe %d %d", 1));
	EXPECT_EQ(0, RUN(self, &right));
	EXPECT_TRUE(right);
	EXPECT_LT(resets, dev_stat(self->index, "npu_resets"));
	EXPECT_HEALTHY(self);
}

/* A stopped heartbeat means a hung device: it is reset. */
TEST_F(npu, stopped_heartbeat_resets_the_device)
{
	long long resets = dev_stat(self->index, "npu_resets");
	double t0 = now_s();

	ASSERT_EQ(0, npu_ctl("heartbeat stop", NULL, 0));
	while (dev_stat(self->index, "npu_resets") == resets && now_s() - t0 < 20)
		usleep(50000);
	EXPECT_EQ(0, npu_ctl("heartbeat start", NULL, 0));
	EXPECT_LT(resets, dev_stat(self->index, "npu_resets"));
	TH_LOG("reset %.2f s after the heartbeat stopped", now_s() - t0);
	EXPECT_HEALTHY(self);
}

/* An engine that will not reset: the whole device is reset instead. */
TEST_F(npu, refused_reset_escalates)
{
	long long resets = dev_stat(self->index, "npu_resets");
	int right;

	ASSERT_EQ(0, npu_cmd_all(self->index, "hang %d", 0));
	ASSERT_EQ(0, npu_ctl("reset refuse 1", NULL, 0));
	EXPECT_EQ(-ETIMEDOUT, RUN(self, &right));
	EXPECT_LT(resets, dev_stat(self->index, "npu_resets"));
	EXPECT_HEALTHY(self);
}

/* A slow reset within the device's own limit is fine. */
TEST_F(npu, delayed_reset_completes)
{
	int right;

	ASSERT_EQ(0, npu_ctl("reset delay 50", NULL, 0));
	ASSERT_EQ(0, npu_cmd_all(self->index, "hang %d", 0));
	EXPECT_EQ(-ETIMEDOUT, RUN(self, &right));
	EXPECT_EQ(0, npu_ctl("reset ok", NULL, 0));
	EXPECT_HEALTHY(self);
}

/* One context's hung job costs another context nothing but time. */
TEST_F(npu, other_contexts_complete_during_a_hang)
{
	int fd2 = npu_open(self->index), status, right;
	struct dev_job dj2;
	uint64_t seq, seq2;
	double t0 = now_s();

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, dev_job_upload(fd2, &self->tj, &dj2));
	ASSERT_EQ(0, npu_cmd_all(self->index, "hang %d", 0));
	ASSERT_EQ(0, submit(self->fd, &self->dj.job, 1, &seq, NULL));
	/* Once the first job has hung its engine, disarm the others. */
	while (dev_stat(self->index, "jobs_running") < 1 && now_s() - t0 < 5)
		usleep(20000);
	usleep(300000);
	ASSERT_EQ(0, npu_ctl("clear", NULL, 0));
	memset(dj2.map[NUQ_T_OUTPUT], 0, self->tj.size[NUQ_T_OUTPUT]);
	ASSERT_EQ(0, submit(fd2, &dj2.job, 1, &seq2, NULL));
	status = wait_job(fd2, seq2, -1);
	right = !memcmp(dj2.map[NUQ_T_OUTPUT], self->want, self->tj.size[NUQ_T_OUTPUT]);
	EXPECT_EQ(0, status);
	EXPECT_TRUE(right);
	EXPECT_EQ(-ETIMEDOUT, wait_job(self->fd, seq, -1));
	dev_job_release(fd2, &dj2);
	close(fd2);
	EXPECT_HEALTHY(self);
}

/*
 * Jobs queued behind a hung one are never lost: they run after the
 * recovery (resubmitted if they were already on the device).
 */
TEST_F(npu, queued_jobs_survive_a_hang)
{
	uint64_t seq[8];
	struct nuq_conv_job jobs[8];
	int i, timed_out = 0, ok = 0, st;

	for (i = 0; i < 8; i++)
		jobs[i] = self->dj.job;
	ASSERT_EQ(0, npu_cmd_all(self->index, "hang %d", 0));
	ASSERT_EQ(0, submit(self->fd, jobs, 8, seq, NULL));
	usleep(300000);
	ASSERT_EQ(0, npu_ctl("clear", NULL, 0));
	for (i = 0; i < 8; i++) {
		st = wait_job(self->fd, seq[i], -1);
		timed_out += st == -ETIMEDOUT;
		ok += st == 0;
		EXPECT_TRUE(st == 0 || st == -ETIMEDOUT) TH_LOG("job %d: %d", i, st);
	}
	/* Only the jobs that met an armed engine hung (one per engine at most). */
	EXPECT_LE(1, timed_out);
	EXPECT_GE(npu_engines(self->index), timed_out);
	EXPECT_EQ(8, ok + timed_out);
	EXPECT_EQ(0, memcmp(self->dj.map[NUQ_T_OUTPUT], self->want,
			    self->tj.size[NUQ_T_OUTPUT]));
	EXPECT_HEALTHY(self);
}

/* A forced recovery through debugfs leaves a working device. */
TEST_F(npu, forced_recovery)
{
	char path[96];
	long long resets = dev_stat(self->index, "npu_resets");

	snprintf(path, sizeof(path), "/sys/kernel/debug/nuq/nuq%d/npu/recover", self->index);
	ASSERT_EQ(0, write_file(path, "2"));
	EXPECT_LT(resets, dev_stat(self->index, "npu_resets"));
	EXPECT_HEALTHY(self);
}

/*
 * A fuzzing device writes garbage completions and ring indices: the driver
 * must survive (no oops: the harness checks), end every job exactly once,
 * and work again once the device behaves (after a module reload if the
 * garbage made it declare the device dead, which is allowed).
 */
TEST(garbage_from_the_device_is_survived)
{
	struct nuq_conv_job jobs[16];
	struct test_job tj;
	struct dev_job dj;
	uint64_t seq[16];
	int index = npu_find(), fd, i, st, err;

	if (index < 0)
		SKIP(return, "no NPU device");
	fd = npu_open(index);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, long_job(&tj, 20, 12));
	ASSERT_EQ(0, dev_job_upload(fd, &tj, &dj));
	for (i = 0; i < 16; i++)
		jobs[i] = dj.job;
	ASSERT_EQ(0, npu_ctl("fuzz on", NULL, 0));
	ASSERT_EQ(0, submit(fd, jobs, 16, seq, NULL));
	for (i = 0; i < 16; i++) {
		st = wait_job(fd, seq[i], -1);
		EXPECT_TRUE(st == 0 || st == -EIO || st == -ETIMEDOUT || st == -ENODEV)
			TH_LOG("job %d: %d", i, st);
	}
	ASSERT_EQ(0, npu_ctl("fuzz off", NULL, 0));
	dev_job_release(fd, &dj);
	close(fd);
	if (dev_stat(index, "npu_dead") == 1) {
		TH_LOG("the garbage killed the device; reloading the module");
		ASSERT_EQ(0, nuq_reload(NULL));
		index = npu_find();
		ASSERT_LE(0, index);
	}
	fd = npu_open(index);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, dev_job_upload(fd, &tj, &dj));
	memset(dj.map[NUQ_T_OUTPUT], 0, tj.size[NUQ_T_OUTPUT]);
	ASSERT_EQ(0, submit(fd, &dj.job, 1, seq, NULL));
	EXPECT_EQ(0, wait_job(fd, seq[0], -1));
	ASSERT_EQ(0, nuq_conv_run_cpu(&tj.job, (void *const *)tj.buf, tj.size, &err));
	EXPECT_EQ(0, memcmp(dj.map[NUQ_T_OUTPUT], tj.buf[NUQ_T_OUTPUT], tj.size[NUQ_T_OUTPUT]));
	dev_job_release(fd, &dj);
	close(fd);
	test_job_free(&tj);
}

TEST_HARNESS_MAIN
