// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: load on both devices at once.  Several processes, each
 * with a context on the software device and one on the NPU, submit
 * hundreds of jobs of every weight format through single ioctls, ioctl
 * batches, single io_uring commands and io_uring batches, interleaved; every
 * job must succeed with bytes identical to libnuq's CPU core (so the two
 * devices agree with each other), and the counters must balance afterwards.
 */
#include <sys/wait.h>

#include <nuq/conv.h>

#include "nuq_harness.h"
#include "nuq_npu.h"

#define LOAD_PROCS	4
#define LOAD_ROUNDS	30	/* per process and device; 4 jobs a round */

static const struct { uint32_t wfmt, bits; } load_fmts[] = {
	{ NUQ_WFMT_INT8, 8 }, { NUQ_WFMT_ASD, 0 }, { NUQ_WFMT_CODEBOOK, 2 },
	{ NUQ_WFMT_CODEBOOK, 4 }, { NUQ_WFMT_CODEBOOK, 8 },
};

/* One round on @fd: a job through path @path (0-3); 0 when its bytes are right. */
static int load_round(int fd, int path, uint64_t seed, struct io_uring *ring)
{
	const int nf = sizeof(load_fmts) / sizeof(load_fmts[0]);
	struct nuq_conv_job jobs[4];
	int32_t st[4] = { 1, 1, 1, 1 };
	struct nuq_uring_batch ub = {
		.jobs = (uintptr_t)jobs, .statuses = (uintptr_t)st, .count = 4,
		.job_size = sizeof(jobs[0]),
	};
	struct io_uring_cqe *cqe;
	struct test_job tj;
	struct dev_job dj;
	uint64_t seq[4];
	int i, n = path % 2 ? 4 : 1, ret = -1, err;

	if (small_job(&tj, load_fmts[seed % nf].wfmt, load_fmts[seed % nf].bits, seed))
		return -1;
	if (dev_job_upload(fd, &tj, &dj))
		goto out;
	for (i = 0; i < n; i++)
		jobs[i] = dj.job;
	if (path < 2) {
		if (submit(fd, jobs, n, seq, NULL))
			goto out_release;
		for (i = 0; i < n; i++)
			st[i] = wait_job(fd, seq[i], -1);
	} else {
		if (n == 1)
			prep_nuq_cmd(ring, fd, NUQ_URING_CMD_SUBMIT, jobs, sizeof(jobs[0]), 1);
		else
			prep_nuq_cmd(ring, fd, NUQ_URING_CMD_SUBMIT_BATCH, &ub, sizeof(ub), 1);
		if (io_uring_submit(ring) != 1 || io_uring_wait_cqe(ring, &cqe))
			goto out_release;
		if (n == 1)
			st[0] = cqe->res;
		else if (cqe->res)
			st[0] = cqe->res;
		io_uring_cqe_seen(ring, cqe);
	}
	for (i = 0; i < n; i++)
		if (st[i])
			goto out_release;
	if (nuq_conv_run_cpu(&tj.job, (void *const *)tj.buf, tj.size, &err))
		goto out_release;
	ret = memcmp(dj.map[NUQ_T_OUTPUT], tj.buf[NUQ_T_OUTPUT], tj.size[NUQ_T_OUTPUT]) ? -1 : 0;
out_release:
	dev_job_release(fd, &dj);
out:
	test_job_free(&tj);
	return ret;
}

/* A worker: both devices, every path, LOAD_ROUNDS rounds each; exit 0 when all were right. */
static int load_worker(int npu, int id)
{
	int fds[2] = { open(NUQ_DEV0, O_RDWR), npu_open(npu) };
	struct io_uring ring;
	int r, d, bad = 0;

	if (fds[0] < 0 || fds[1] < 0 || io_uring_queue_init(8, &ring, 0))
		return 2;
	for (r = 0; r < LOAD_ROUNDS; r++)
		for (d = 0; d < 2; d++)
			if (load_round(fds[d], (r + id + d) % 4, 1000 * id + 2 * r + d, &ring)) {
				fprintf(stderr, "# worker %d round %d on %s failed\n", id, r,
					d ? "the NPU" : "nuq0");
				bad = 1;
			}
	io_uring_queue_exit(&ring);
	close(fds[0]);
	close(fds[1]);
	return bad;
}

TEST(processes_on_both_devices)
{
	long long before[2], after[2];
	pid_t pids[LOAD_PROCS];
	int npu = npu_find(), i, st, d;
	double t0 = now_s();

	if (npu < 0)
		SKIP(return, "no NPU device");
	for (d = 0; d < 2; d++)
		before[d] = dev_stat(d ? npu : 0, "jobs_completed");
	for (i = 0; i < LOAD_PROCS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i])
			_exit(load_worker(npu, i));
	}
	for (i = 0; i < LOAD_PROCS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &st, 0));
		EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) TH_LOG("worker %d: 0x%x", i, st);
	}
	TH_LOG("%d jobs in %.1f s", LOAD_PROCS * LOAD_ROUNDS * 2 * 5 / 2, now_s() - t0);
	for (d = 0; d < 2; d++) {
		after[d] = dev_stat(d ? npu : 0, "jobs_completed");
		/* Half the rounds are batches of 4: 2.5 jobs a round on average. */
		EXPECT_EQ(LOAD_PROCS * LOAD_ROUNDS * 5 / 2, after[d] - before[d]);
		EXPECT_EQ(0, dev_stat(d ? npu : 0, "jobs_running"));
		EXPECT_EQ(0, dev_stat(d ? npu : 0, "queue_depth"));
		EXPECT_EQ(0, dev_stat(d ? npu : 0, "bo_bytes"));
	}
}

TEST_HARNESS_MAIN
