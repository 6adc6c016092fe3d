// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: the NPU backend without faults - the device shows up as
 * an NPU, its jobs give the bytes of the software device (/dev/nuq0) and
 * of the independent reference for every weight format, over ioctl and
 * io_uring, from several processes at once; closing a file with jobs on
 * the device is clean; the counters add up.  Skips without an NPU.
 */
#include <sys/wait.h>

#include <nuq/conv.h>

#include "nuq_harness.h"
#include "nuq_npu.h"

static const struct { uint32_t wfmt, bits; } fmts[] = {
	{ NUQ_WFMT_INT8, 8 }, { NUQ_WFMT_ASD, 0 }, { NUQ_WFMT_CODEBOOK, 1 },
	{ NUQ_WFMT_CODEBOOK, 2 }, { NUQ_WFMT_CODEBOOK, 3 }, { NUQ_WFMT_CODEBOOK, 4 },
	{ NUQ_WFMT_CODEBOOK, 5 }, { NUQ_WFMT_CODEBOOK, 6 }, { NUQ_WFMT_CODEBOOK, 7 },
	{ NUQ_WFMT_CODEBOOK, 8 },
};
#define NR_FMTS (sizeof(fmts) / sizeof(fmts[0]))

static void random_shape(struct test_rng *r, struct test_shape *s, uint32_t wfmt, uint32_t bits)
{
	memset(s, 0, sizeof(*s));
	s->wfmt = wfmt;
	s->bits = bits;
	s->batch = test_range(r, 1, 2);
	s->kh = 1 + 2 * test_range(r, 0, 1);
	s->kw = 1 + 2 * test_range(r, 0, 2);
	s->sh = test_range(r, 1, 2);
	s->sw = test_range(r, 1, 2);
	s->dh = s->dw = test_range(r, 1, 2);
	s->in_h = test_range(r, (s->kh - 1) * s->dh + 1, 20);
	s->in_w = test_range(r, (s->kw - 1) * s->dw + 1, 20);
	s->pt = test_range(r, 0, 1);
	s->pb = test_range(r, 0, 1);
	s->pl = test_range(r, 0, 2);
	s->pr = test_range(r, 0, 2);
	s->groups = test_rand(r) % 3 ? 1 : 2;
	s->in_c = s->groups * test_range(r, 1, 12);
	s->out_c = s->groups * test_range(r, 1, 12);
	if (test_rand(r) % 4 == 0) {	/* depthwise */
		s->groups = s->in_c;
		s->out_c = s->in_c;
	}
	s->in_fmt = test_rand(r) % 2;
	s->out_fmt = test_rand(r) % 2;
	if (test_rand(r) % 3 == 0)
		s->flags |= NUQ_JOB_F_RESIDUAL;
	if (wfmt == NUQ_WFMT_CODEBOOK) {
		s->flags |= test_rand(r) % 2 ? NUQ_JOB_F_CODEBOOK_INT16 : 0;
		s->flags |= test_rand(r) % 2 ? NUQ_JOB_F_CODEBOOK_PER_LAYER : 0;
		s->strategy = test_rand(r) % 3;
	}
}

/* Run @dj on @fd by ioctl (@uring 0) or io_uring (1); the job's status. */
static int run_on(int fd, struct dev_job *dj, int uring)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	uint64_t seq;
	int ret;

	if (!uring) {
		ret = submit(fd, &dj->job, 1, &seq, NULL);
		return ret ? ret : wait_job(fd, seq, -1);
	}
	if (io_uring_queue_init(4, &ring, 0))
		return -ENOMEM;
	prep_nuq_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT, &dj->job, sizeof(dj->job), 1);
	ret = io_uring_submit(&ring) == 1 ? 0 : -EIO;
	if (!ret && !io_uring_wait_cqe(&ring, &cqe)) {
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	return ret;
}

FIXTURE(npu) {
	int index, fd, sw;
};

FIXTURE_SETUP(npu)
{
	self->index = npu_find();
	if (self->index < 0)
		SKIP(return, "no NPU device");
	self->fd = npu_open(self->index);
	ASSERT_LE(0, self->fd);
	self->sw = open("/dev/nuq0", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->sw);
}

FIXTURE_TEARDOWN(npu)
{
	if (self->index < 0)
		return;
	close(self->fd);
	close(self->sw);
}

TEST_F(npu, reports_itself_as_an_npu)
{
	struct nuq_info info, sw;
	char path[96], buf[32] = "";
	FILE *f;

	ASSERT_EQ(0, nuq_get_info(self->fd, &info));
	ASSERT_EQ(0, nuq_get_info(self->sw, &sw));
	EXPECT_EQ(NUQ_BACKEND_NPU, info.backend);
	EXPECT_EQ(NUQ_BACKEND_SOFTWARE, sw.backend);
	EXPECT_EQ(self->index, (int)info.index);
	EXPECT_EQ(0, strncmp(info.name, "nuq-npu", 7)) TH_LOG("name %s", info.name);
	EXPECT_TRUE(info.caps & NUQ_CAP_JOBS);
	EXPECT_TRUE(info.caps & NUQ_CAP_URING_CMD);
	/* The emulator computes every format the software device does. */
	EXPECT_EQ(sw.weight_formats, info.weight_formats);
	EXPECT_EQ(sw.weight_bits, info.weight_bits);
	EXPECT_EQ(sw.act_formats, info.act_formats);
	EXPECT_EQ(sw.uapi_version, info.uapi_version);

	snprintf(path, sizeof(path), "/sys/class/nuq/nuq%d/backend", self->index);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	EXPECT_STREQ("npu\n", buf);
	EXPECT_LE(1, dev_stat(self->index, "npu_engines"));
	EXPECT_EQ(0, dev_stat(self->index, "npu_dead"));
	/* The software device has no NPU counters. */
	EXPECT_EQ(-1, dev_stat(0, "npu_resets"));
}

/* Every format, random shapes: NPU bytes == software bytes == reference. */
TEST_F(npu, random_jobs_match_software_and_reference)
{
	struct test_rng r = { 4711 };
	unsigned int f, i, done = 0;

	for (f = 0; f < NR_FMTS; f++) {
		for (i = 0; i < 8; i++) {
			struct dev_job dn, ds;
			struct test_shape s;
			struct test_job tj;
			uint8_t *ref;
			size_t out;

			random_shape(&r, &s, fmts[f].wfmt, fmts[f].bits);
			if (test_job_make(&tj, &s, &r))
				continue;
			out = tj.size[NUQ_T_OUTPUT];
			ref = malloc(out);
			ASSERT_NE(NULL, ref);
			ASSERT_EQ(0, conv_ref(&tj.job, tj.buf, ref));
			ASSERT_EQ(0, dev_job_upload(self->fd, &tj, &dn));
			ASSERT_EQ(0, dev_job_upload(self->sw, &tj, &ds));
			memset(dn.map[NUQ_T_OUTPUT], 0x5a, out);
			memset(ds.map[NUQ_T_OUTPUT], 0xa5, out);
			EXPECT_EQ(0, run_on(self->fd, &dn, i % 2)) TH_LOG("format %u/%u job %u",
									  fmts[f].wfmt, fmts[f].bits, i);
			EXPECT_EQ(0, run_on(self->sw, &ds, i % 2));
			EXPECT_EQ(0, memcmp(dn.map[NUQ_T_OUTPUT], ds.map[NUQ_T_OUTPUT], out))
				TH_LOG("format %u/%u job %u: NPU and software differ", fmts[f].wfmt,
				       fmts[f].bits, i);
			EXPECT_EQ(0, memcmp(dn.map[NUQ_T_OUTPUT], ref, out))
				TH_LOG("format %u/%u job %u: NPU and reference differ", fmts[f].wfmt,
				       fmts[f].bits, i);
			dev_job_release(self->fd, &dn);
			dev_job_release(self->sw, &ds);
			free(ref);
			test_job_free(&tj);
			done++;
		}
	}
	EXPECT_LE(60, done);
}

/* One BO set, many jobs in flight: ioctl batches and io_uring batches. */
TEST_F(npu, batches_over_ioctl_and_io_uring)
{
	struct nuq_conv_job jobs[64];
	struct nuq_uring_batch ub;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int32_t statuses[64];
	uint64_t seq[64];
	struct test_job tj;
	struct dev_job dj;
	int i, err;

	ASSERT_EQ(0, small_job(&tj, NUQ_WFMT_CODEBOOK, 4, 99));
	ASSERT_EQ(0, dev_job_upload(self->fd, &tj, &dj));
	ASSERT_EQ(0, nuq_conv_run_cpu(&tj.job, (void *const *)tj.buf, tj.size, &err));
	for (i = 0; i < 64; i++)
		jobs[i] = dj.job;

	memset(dj.map[NUQ_T_OUTPUT], 0, tj.size[NUQ_T_OUTPUT]);
	ASSERT_EQ(0, submit(self->fd, jobs, 64, seq, NULL));
	for (i = 0; i < 64; i++)
		EXPECT_EQ(0, wait_job(self->fd, seq[i], -1));
	EXPECT_EQ(0, memcmp(dj.map[NUQ_T_OUTPUT], tj.buf[NUQ_T_OUTPUT], tj.size[NUQ_T_OUTPUT]));

	memset(dj.map[NUQ_T_OUTPUT], 0, tj.size[NUQ_T_OUTPUT]);
	memset(statuses, 0x7f, sizeof(statuses));
	ub = (struct nuq_uring_batch){
		.jobs = (uintptr_t)jobs, .statuses = (uintptr_t)statuses,
		.count = 64, .job_size = sizeof(jobs[0]),
	};
	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	prep_nuq_cmd(&ring, self->fd, NUQ_URING_CMD_SUBMIT_BATCH, &ub, sizeof(ub), 7);
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(0, cqe->res);
	EXPECT_EQ(7, cqe->user_data);
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
	for (i = 0; i < 64; i++)
		EXPECT_EQ(0, statuses[i]);
	EXPECT_EQ(0, memcmp(dj.map[NUQ_T_OUTPUT], tj.buf[NUQ_T_OUTPUT], tj.size[NUQ_T_OUTPUT]));
	dev_job_release(self->fd, &dj);
	test_job_free(&tj);
}

/* A child: @n jobs of its own over ioctl or io_uring; exits 0 if all were right. */
static int child_jobs(int index, int n, uint64_t seed)
{
	struct test_rng r = { seed };
	int fd = npu_open(index), i, bad = 0, err;

	if (fd < 0)
		return 1;
	for (i = 0; i < n; i++) {
		const unsigned int f = test_rand(&r) % NR_FMTS;
		struct test_shape s;
		struct test_job tj;
		struct dev_job dj;

		random_shape(&r, &s, fmts[f].wfmt, fmts[f].bits);
		if (test_job_make(&tj, &s, &r))
			continue;
		if (dev_job_upload(fd, &tj, &dj) ||
		    nuq_conv_run_cpu(&tj.job, (void *const *)tj.buf, tj.size, &err)) {
			bad++;
		} else {
			memset(dj.map[NUQ_T_OUTPUT], 0x33, tj.size[NUQ_T_OUTPUT]);
			if (run_on(fd, &dj, i % 2) ||
			    memcmp(dj.map[NUQ_T_OUTPUT], tj.buf[NUQ_T_OUTPUT],
				   tj.size[NUQ_T_OUTPUT]))
				bad++;
		}
		dev_job_release(fd, &dj);
		test_job_free(&tj);
	}
	close(fd);
	return bad ? 1 : 0;
}

TEST_F(npu, several_processes_at_once)
{
	pid_t pids[4];
	int i, st;

	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i])
			_exit(child_jobs(self->index, 40, 100 + i));
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &st, 0));
		EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) TH_LOG("child %d", i);
	}
}

/* Jobs that ended one way or another, by the device's counters. */
static long long jobs_ended(int index)
{
	return dev_stat(index, "jobs_completed") + dev_stat(index, "jobs_failed") +
	       dev_stat(index, "jobs_timed_out") + dev_stat(index, "jobs_cancelled");
}

/* Closing a file whose jobs are on the device ends them and leaves the device working. */
TEST_F(npu, close_with_jobs_in_flight)
{
	long long contexts = dev_stat(self->index, "contexts");
	long long cancelled = dev_stat(self->index, "jobs_cancelled");
	long long ended = jobs_ended(self->index);
	struct nuq_conv_job jobs[32];
	uint64_t seq[32];
	struct test_job tj;
	struct dev_job dj;
	double t0;
	int fd, i, round;

	ASSERT_EQ(0, long_job(&tj, 40, 3));
	for (round = 0; round < 3; round++) {
		fd = npu_open(self->index);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, dev_job_upload(fd, &tj, &dj));
		for (i = 0; i < 32; i++)
			jobs[i] = dj.job;
		ASSERT_EQ(0, submit(fd, jobs, 32, seq, NULL));
		usleep(20000 * round);
		dev_job_release(fd, &dj);	/* the jobs keep the BOs alive */
		t0 = now_s();
		EXPECT_EQ(0, close(fd));
		TH_LOG("close took %.3f s", now_s() - t0);
	}
	t0 = now_s();
	while ((dev_stat(self->index, "jobs_running") || dev_stat(self->index, "queue_depth")) &&
	       now_s() - t0 < 10)
		usleep(10000);
	EXPECT_EQ(0, dev_stat(self->index, "jobs_running"));
	EXPECT_EQ(0, dev_stat(self->index, "queue_depth"));
	EXPECT_EQ(contexts, dev_stat(self->index, "contexts"));
	/*
	 * Each job ended exactly once: run to the end, or cancelled if it was
	 * still queued.  How many were still queued depends on how fast the
	 * guest submits against the emulator's engines (on the debug kernel
	 * all 32 of a round may be done before close), so only the sum is
	 * asserted.
	 */
	EXPECT_EQ(ended + 3 * 32, jobs_ended(self->index));
	TH_LOG("%lld of 96 cancelled by close", dev_stat(self->index, "jobs_cancelled") - cancelled);
	test_job_free(&tj);

	/* Still healthy. */
	ASSERT_EQ(0, small_job(&tj, NUQ_WFMT_INT8, 8, 8));
	ASSERT_EQ(0, dev_job_upload(self->fd, &tj, &dj));
	EXPECT_EQ(0, run_on(self->fd, &dj, 0));
	dev_job_release(self->fd, &dj);
	test_job_free(&tj);
	EXPECT_EQ(0, dev_stat(self->index, "npu_dead"));
}

/* Once idle, every submitted job is counted exactly once; no BO memory leaks. */
TEST_F(npu, counters_add_up)
{
	long long sub, done, bo;
	struct test_job tj;
	struct dev_job dj;
	double t0 = now_s();
	int i;

	ASSERT_EQ(0, small_job(&tj, NUQ_WFMT_ASD, 0, 5));
	ASSERT_EQ(0, dev_job_upload(self->fd, &tj, &dj));
	for (i = 0; i < 20; i++)
		EXPECT_EQ(0, run_on(self->fd, &dj, i % 2));
	dev_job_release(self->fd, &dj);
	test_job_free(&tj);

	while (dev_stat(self->index, "jobs_running") && now_s() - t0 < 10)
		usleep(10000);
	sub = dev_stat(self->index, "jobs_submitted");
	done = jobs_ended(self->index);
	EXPECT_EQ(sub, done + dev_stat(self->index, "queue_depth"));
	EXPECT_LE(20, dev_stat(self->index, "jobs_completed"));
	/* Only this fixture's file is open, and it holds no BO now. */
	bo = dev_stat(self->index, "bo_bytes");
	EXPECT_EQ(0, bo);
}

/* The latency breakdown for the benchmark is there and counts jobs. */
TEST_F(npu, latency_breakdown_in_debugfs)
{
	char path[96], line[128];
	struct test_job tj;
	struct dev_job dj;
	long long jobs = -1;
	FILE *f;

	ASSERT_EQ(0, small_job(&tj, NUQ_WFMT_INT8, 8, 6));
	ASSERT_EQ(0, dev_job_upload(self->fd, &tj, &dj));
	EXPECT_EQ(0, run_on(self->fd, &dj, 0));
	dev_job_release(self->fd, &dj);
	test_job_free(&tj);

	snprintf(path, sizeof(path), "/sys/kernel/debug/nuq/nuq%d/npu/latency", self->index);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		sscanf(line, "jobs %lld", &jobs);
	fclose(f);
	EXPECT_LE(1, jobs);
}

/* Without MSI-X (npu_poll=1) the rings are polled: same bytes, both paths. */
TEST(polling_fallback)
{
	int index = npu_find(), fd, i, err;
	char path[96], line[128] = "";
	struct test_job tj;
	struct dev_job dj;
	FILE *f;

	if (index < 0)
		SKIP(return, "no NPU device");
	ASSERT_EQ(0, nuq_reload("npu_poll=1"));
	index = npu_find();
	ASSERT_LE(0, index);
	snprintf(path, sizeof(path), "/sys/kernel/debug/nuq/nuq%d/npu/engines", index);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	EXPECT_NE(NULL, fgets(line, sizeof(line), f));
	fclose(f);
	EXPECT_NE(NULL, strstr(line, "polling")) TH_LOG("%s", line);

	fd = npu_open(index);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, small_job(&tj, NUQ_WFMT_CODEBOOK, 3, 77));
	ASSERT_EQ(0, dev_job_upload(fd, &tj, &dj));
	ASSERT_EQ(0, nuq_conv_run_cpu(&tj.job, (void *const *)tj.buf, tj.size, &err));
	for (i = 0; i < 20; i++) {
		memset(dj.map[NUQ_T_OUTPUT], 0, tj.size[NUQ_T_OUTPUT]);
		EXPECT_EQ(0, run_on(fd, &dj, i % 2));
		EXPECT_EQ(0, memcmp(dj.map[NUQ_T_OUTPUT], tj.buf[NUQ_T_OUTPUT],
				    tj.size[NUQ_T_OUTPUT]));
	}
	dev_job_release(fd, &dj);
	test_job_free(&tj);
	close(fd);
	EXPECT_EQ(0, nuq_reload(NULL));
}

TEST_HARNESS_MAIN
