// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: buffer objects and jobs through /dev/nuq0 - results
 * identical to libnuq's CPU core, ioctl and io_uring paths, bad input.
 * Device-neutral: the VM runs it once per device ($NUQ_TEST_DEVICE), so the
 * NPU must give the same bytes and the same refusals as the software device.
 */
#include <poll.h>
#include <sys/wait.h>

#include <nuq/conv.h>

#include "nuq_harness.h"
#include "nuq_jobs.h"

/* Results from the device equal libnuq's CPU core, bit for bit. */
static int check_against_cpu(struct __test_metadata *_metadata, int fd, struct test_job *tj,
			     int use_uring)
{
	struct dev_job dj;
	uint64_t seq;
	int err, status;

	ASSERT_EQ(0, dev_job_upload(fd, tj, &dj));
	memset(dj.map[NUQ_T_OUTPUT], 0x5a, tj->size[NUQ_T_OUTPUT]);
	if (use_uring) {
		struct io_uring ring;
		struct io_uring_cqe *cqe;

		ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
		prep_nuq_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT, &dj.job,
			     sizeof(dj.job), 1);
		ASSERT_EQ(1, io_uring_submit(&ring));
		ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
		status = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		io_uring_queue_exit(&ring);
	} else {
		ASSERT_EQ(0, submit(fd, &dj.job, 1, &seq, NULL));
		status = wait_job(fd, seq, -1);
	}
	EXPECT_EQ(0, status);
	ASSERT_EQ(0, nuq_conv_run_cpu(&tj->job, (void *const *)tj->buf, tj->size, &err));
	EXPECT_EQ(0, memcmp(dj.map[NUQ_T_OUTPUT], tj->buf[NUQ_T_OUTPUT], tj->size[NUQ_T_OUTPUT]));
	dev_job_release(fd, &dj);
	return 0;
}

static void random_shape(struct test_rng *r, struct test_shape *s, uint32_t wfmt, uint32_t bits)
{
	memset(s, 0, sizeof(*s));
	s->wfmt = wfmt;
	s->bits = bits;
	s->batch = test_range(r, 1, 2);
	s->kh = s->kw = 1 + 2 * test_range(r, 0, 2);
	s->sh = s->sw = test_range(r, 1, 2);
	s->dh = s->dw = test_range(r, 1, 2);
	s->in_h = test_range(r, (s->kh - 1) * s->dh + 1, 12);
	s->in_w = test_range(r, (s->kw - 1) * s->dw + 1, 12);
	s->pt = test_range(r, 0, 2);
	s->pb = test_range(r, 0, 2);
	s->pl = test_range(r, 0, 2);
	s->pr = test_range(r, 0, 2);
	s->groups = test_rand(r) % 3 ? 1 : 2;
	s->in_c = s->groups * test_range(r, 1, 9);
	s->out_c = s->groups * test_range(r, 1, 9);
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
		s->strategy = test_rand(r) % 3;
	}
}

TEST(results_match_cpu_core_every_format)
{
	static const struct { uint32_t wfmt, bits; } fmts[] = {
		{ NUQ_WFMT_INT8, 8 }, { NUQ_WFMT_ASD, 0 }, { NUQ_WFMT_CODEBOOK, 1 },
		{ NUQ_WFMT_CODEBOOK, 2 }, { NUQ_WFMT_CODEBOOK, 3 }, { NUQ_WFMT_CODEBOOK, 4 },
		{ NUQ_WFMT_CODEBOOK, 5 }, { NUQ_WFMT_CODEBOOK, 6 }, { NUQ_WFMT_CODEBOOK, 7 },
		{ NUQ_WFMT_CODEBOOK, 8 },
	};
	struct test_rng r = { 2024 };
	int fd = open(nuq_test_dev(), O_RDWR);
	unsigned int f, i, done = 0;

	ASSERT_GE(fd, 0);
	for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		for (i = 0; i < 6; i++) {
			struct test_shape s;
			struct test_job tj;

			random_shape(&r, &s, fmts[f].wfmt, fmts[f].bits);
			if (test_job_make(&tj, &s, &r))
				continue;
			check_against_cpu(_metadata, fd, &tj, i % 2);
			test_job_free(&tj);
			done++;
		}
	}
	EXPECT_GE(done, 50);
	close(fd);
}

TEST(bo_lifetime_and_mapping)
{
	int fd = open(nuq_test_dev(), O_RDWR);
	struct nuq_bo_info info = { 0 };
	uint32_t h = 0;
	uint8_t *p;
	size_t size;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, bo_create(fd, 10000, &h));
	EXPECT_NE(0, h);
	p = bo_map(fd, h, &size);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(12288, size);			/* rounded up to pages */
	EXPECT_EQ(0, p[9999]);			/* zeroed */
	memset(p, 0xab, size);
	info.handle = h;
	ASSERT_EQ(0, ioctl(fd, NUQ_IOCTL_BO_INFO, &info));
	/* private and oversized mappings are refused */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, info.mmap_offset));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size + 4096, PROT_READ, MAP_SHARED, fd,
				   info.mmap_offset));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 4242UL << 12));
	EXPECT_EQ(ENOENT, errno);
	/* freeing the handle keeps the mapped memory alive */
	EXPECT_EQ(12288, sysfs_stat("bo_bytes"));
	EXPECT_EQ(0, bo_free(fd, h));
	EXPECT_EQ(-ENOENT, bo_free(fd, h));
	EXPECT_EQ(0xab, p[4000]);
	p[4001] = 1;
	EXPECT_EQ(12288, sysfs_stat("bo_bytes"));
	munmap(p, size);
	EXPECT_EQ(0, sysfs_stat("bo_bytes"));
	close(fd);
}

TEST(bo_bad_arguments)
{
	int fd = open(nuq_test_dev(), O_RDWR);
	struct nuq_bo_create c = { 0 };
	struct nuq_bo_info i = { 0 };
	struct nuq_bo_free f = { 0 };
	uint32_t h = 0;

	ASSERT_GE(fd, 0);
	c.size = 0;
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_BO_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);
	c.size = nuq_read_param("max_bo_size") + 1;
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_BO_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);
	c.size = 4096;
	c.flags = 1;
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_BO_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);
	c.flags = 0;
	c.rsvd[1] = 1;
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_BO_CREATE, &c));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, bo_create(fd, 4096, &h));
	i.handle = h;
	i.rsvd[0] = 1;
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_BO_INFO, &i));
	EXPECT_EQ(EINVAL, errno);
	f.handle = h;
	f.flags = 2;
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_BO_FREE, &f));
	EXPECT_EQ(EINVAL, errno);
	f.handle = 0;
	f.flags = 0;
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_BO_FREE, &f));
	EXPECT_EQ(ENOENT, errno);
	close(fd);
	EXPECT_EQ(0, sysfs_stat("bo_bytes"));	/* close frees what was left */
}

TEST(handles_are_per_context)
{
	int a = open(nuq_test_dev(), O_RDWR), b = open(nuq_test_dev(), O_RDWR);
	struct nuq_bo_info i = { 0 };
	struct nuq_submit out;
	struct test_job tj;
	struct dev_job dj;
	uint64_t seq;

	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	ASSERT_EQ(0, small_job(&tj, NUQ_WFMT_INT8, 8, 1));
	ASSERT_EQ(0, dev_job_upload(a, &tj, &dj));
	i.handle = dj.handle[NUQ_T_INPUT];
	EXPECT_EQ(-1, ioctl(b, NUQ_IOCTL_BO_INFO, &i));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-ENOENT, bo_free(b, dj.handle[NUQ_T_WEIGHTS]));
	/* a job of A's handles submitted on B names nothing B owns */
	EXPECT_EQ(-ENOENT, submit(b, &dj.job, 1, &seq, &out));
	EXPECT_EQ(NUQ_JOB_E_HANDLE, out.error_code);
	EXPECT_EQ(0, submit(a, &dj.job, 1, &seq, NULL));
	EXPECT_EQ(0, wait_job(a, seq, -1));
	dev_job_release(a, &dj);
	test_job_free(&tj);
	close(a);
	close(b);
}

TEST(bo_quotas)
{
	int fd;
	uint32_t h[5];

	ASSERT_EQ(0, write_file("/sys/module/nuq/parameters/ctx_bo_count", "4"));
	fd = open(nuq_test_dev(), O_RDWR);
	ASSERT_GE(fd, 0);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, bo_create(fd, 4096, &h[i]));
	EXPECT_EQ(-ENOSPC, bo_create(fd, 4096, &h[4]));
	EXPECT_EQ(0, bo_free(fd, h[0]));
	EXPECT_EQ(0, bo_create(fd, 4096, &h[4]));
	close(fd);
	ASSERT_EQ(0, write_file("/sys/module/nuq/parameters/ctx_bo_count", "1024"));

	ASSERT_EQ(0, write_file("/sys/module/nuq/parameters/ctx_bo_bytes", "65536"));
	fd = open(nuq_test_dev(), O_RDWR);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, bo_create(fd, 61440, &h[0]));
	EXPECT_EQ(-ENOSPC, bo_create(fd, 8192, &h[1]));
	EXPECT_EQ(0, bo_create(fd, 4096, &h[1]));
	close(fd);
	ASSERT_EQ(0, write_file("/sys/module/nuq/parameters/ctx_bo_bytes", "536870912"));
	EXPECT_EQ(0, sysfs_stat("bo_bytes"));
}

/* Each bad descriptor gets its code, and a batch with one is not queued at all. */
TEST(bad_jobs_rejected_whole_batch)
{
	int fd = open(nuq_test_dev(), O_RDWR);
	struct nuq_conv_job jobs[8];
	struct nuq_submit out;
	struct test_job tj;
	struct dev_job dj;
	uint64_t seq[8];
	long long before;
	int i;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, small_job(&tj, NUQ_WFMT_CODEBOOK, 3, 2));
	ASSERT_EQ(0, dev_job_upload(fd, &tj, &dj));
	for (i = 0; i < 8; i++)
		jobs[i] = dj.job;
	before = sysfs_stat("jobs_submitted");

	jobs[5].tensors[NUQ_T_INPUT].offset = 4096;	/* past the BO's end */
	EXPECT_EQ(-ERANGE, submit(fd, jobs, 8, seq, &out));
	EXPECT_EQ(5, out.error_index);
	EXPECT_EQ(NUQ_JOB_E_BOUNDS, out.error_code);
	jobs[5] = dj.job;

	jobs[3].rsvd[0] = 1;
	EXPECT_EQ(-EINVAL, submit(fd, jobs, 8, seq, &out));
	EXPECT_EQ(3, out.error_index);
	EXPECT_EQ(NUQ_JOB_E_RESERVED, out.error_code);
	jobs[3] = dj.job;

	jobs[7].tensors[NUQ_T_WEIGHTS].offset = ~0ULL - 8;	/* overflowing */
	EXPECT_EQ(-EOVERFLOW, submit(fd, jobs, 8, seq, &out));
	EXPECT_EQ(7, out.error_index);
	EXPECT_EQ(NUQ_JOB_E_OVERFLOW, out.error_code);
	jobs[7] = dj.job;

	jobs[0].in_h = jobs[0].in_w = jobs[0].in_c = NUQ_MAX_DIM;	/* overflowing shape */
	jobs[0].batch = NUQ_MAX_DIM;
	jobs[0].out_h = jobs[0].out_w = NUQ_MAX_DIM;
	EXPECT_EQ(-EOVERFLOW, submit(fd, jobs, 8, seq, &out));
	EXPECT_EQ(0, out.error_index);
	jobs[0] = dj.job;

	jobs[2].tensors[NUQ_T_BIAS].handle = 999;	/* no such BO */
	EXPECT_EQ(-ENOENT, submit(fd, jobs, 8, seq, &out));
	EXPECT_EQ(2, out.error_index);
	EXPECT_EQ(NUQ_JOB_E_HANDLE, out.error_code);
	jobs[2] = dj.job;

	/* nothing of any refused batch was queued */
	EXPECT_EQ(before, sysfs_stat("jobs_submitted"));

	/* the submit struct itself */
	{
		struct nuq_submit s = { .jobs = (uintptr_t)jobs, .seqnos = (uintptr_t)seq,
					.count = 1, .job_size = sizeof(jobs[0]) };

		s.job_size--;
		EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_SUBMIT, &s));
		EXPECT_EQ(EINVAL, errno);
		s.job_size++;
		s.count = 0;
		EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_SUBMIT, &s));
		EXPECT_EQ(EINVAL, errno);
		s.count = NUQ_MAX_BATCH + 1;
		EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_SUBMIT, &s));
		EXPECT_EQ(EINVAL, errno);
		s.count = 1;
		s.rsvd[1] = 1;
		EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_SUBMIT, &s));
		EXPECT_EQ(EINVAL, errno);
		s.rsvd[1] = 0;
		s.jobs = 16;	/* unmapped */
		EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_SUBMIT, &s));
		EXPECT_EQ(EFAULT, errno);
	}
	EXPECT_EQ(before, sysfs_stat("jobs_submitted"));

	/* an unaligned descriptor array and seqno array are fine */
	{
		uint8_t raw[sizeof(jobs[0]) + 1 + 8 + 1];
		uint64_t s1;

		memcpy(raw + 1, &dj.job, sizeof(dj.job));
		struct nuq_submit s = { .jobs = (uintptr_t)(raw + 1),
					.seqnos = (uintptr_t)(raw + 1 + sizeof(dj.job)),
					.count = 1, .job_size = sizeof(dj.job) };
		ASSERT_EQ(0, ioctl(fd, NUQ_IOCTL_SUBMIT, &s));
		memcpy(&s1, raw + 1 + sizeof(dj.job), 8);
		EXPECT_EQ(0, wait_job(fd, s1, -1));
	}
	dev_job_release(fd, &dj);
	test_job_free(&tj);
	close(fd);
}

TEST(many_in_flight_ioctl_batches_and_poll)
{
	int fd = open(nuq_test_dev(), O_RDWR);
	struct nuq_conv_job jobs[NUQ_MAX_BATCH];
	uint64_t seq[NUQ_MAX_BATCH];
	struct pollfd pfd = { .events = POLLIN };
	struct test_job tj;
	struct dev_job dj;
	int i;

	ASSERT_GE(fd, 0);
	pfd.fd = fd;
	ASSERT_EQ(0, small_job(&tj, NUQ_WFMT_ASD, 0, 3));
	ASSERT_EQ(0, dev_job_upload(fd, &tj, &dj));
	EXPECT_EQ(0, poll(&pfd, 1, 0));		/* nothing finished yet */
	for (i = 0; i < NUQ_MAX_BATCH; i++)
		jobs[i] = dj.job;
	ASSERT_EQ(0, submit(fd, jobs, 200, seq, NULL));
	for (i = 1; i < 200; i++)
		EXPECT_EQ(seq[i - 1] + 1, seq[i]);
	/* beyond max_jobs_in_flight (256) */
	EXPECT_EQ(-EAGAIN, submit(fd, jobs, 100, seq + 200, NULL));
	EXPECT_EQ(1, poll(&pfd, 1, 10000));
	EXPECT_TRUE(pfd.revents & POLLIN);
	for (i = 0; i < 200; i++)
		ASSERT_EQ(0, wait_job(fd, seq[i], -1)) TH_LOG("job %d", i);
	EXPECT_EQ(-ENOENT, wait_job(fd, seq[0], 0));	/* reaped */
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	dev_job_release(fd, &dj);
	test_job_free(&tj);
	close(fd);
}

TEST(io_uring_single_and_batched)
{
	int fd = open(nuq_test_dev(), O_RDWR);
	struct nuq_conv_job jobs[64];
	int32_t statuses[64];
	struct nuq_uring_batch batch = {
		.jobs = (uintptr_t)jobs, .statuses = (uintptr_t)statuses,
		.count = 64, .job_size = sizeof(jobs[0]),
	};
	struct io_uring_params p = { 0 };
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	struct test_job tj;
	struct dev_job dj;
	int i, sqpoll;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, small_job(&tj, NUQ_WFMT_CODEBOOK, 4, 4));
	ASSERT_EQ(0, dev_job_upload(fd, &tj, &dj));
	for (i = 0; i < 64; i++)
		jobs[i] = dj.job;

	for (sqpoll = 0; sqpoll < 2; sqpoll++) {
		memset(&p, 0, sizeof(p));
		if (sqpoll) {
			p.flags = IORING_SETUP_SQPOLL;
			p.sq_thread_idle = 100;
		}
		ASSERT_EQ(0, io_uring_queue_init_params(256, &ring, &p));
		/* 200 single commands in flight at once */
		for (i = 0; i < 200; i++)
			prep_nuq_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT,
				     &jobs[i % 64], sizeof(jobs[0]), i);
		ASSERT_EQ(200, io_uring_submit(&ring));
		for (i = 0; i < 200; i++) {
			ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
			EXPECT_EQ(0, cqe->res) TH_LOG("cqe %llu", (unsigned long long)cqe->user_data);
			io_uring_cqe_seen(&ring, cqe);
		}
		/* batches of 1, 4, 16, 64 */
		for (i = 1; i <= 64; i *= 4) {
			batch.count = i;
			memset(statuses, 0x55, sizeof(statuses));
			prep_nuq_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT_BATCH,
				     &batch, sizeof(batch), 1000 + i);
			ASSERT_EQ(1, io_uring_submit(&ring));
			ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
			EXPECT_EQ(0, cqe->res);
			io_uring_cqe_seen(&ring, cqe);
			EXPECT_EQ(0, statuses[0]);
			EXPECT_EQ(0, statuses[i - 1]);
			if (i < 64)
				EXPECT_EQ(0x55555555, statuses[i]);
		}
		/* a bad descriptor and a bad command */
		jobs[0].pad = 1;
		prep_nuq_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT, &jobs[0],
			     sizeof(jobs[0]), 1);
		prep_nuq_cmd(&ring, fd, 99, &jobs[1], sizeof(jobs[0]), 2);
		prep_nuq_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT, &jobs[1],
			     sizeof(jobs[0]) - 8, 3);
		ASSERT_EQ(3, io_uring_submit(&ring));
		for (i = 0; i < 3; i++) {
			ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
			EXPECT_EQ(cqe->user_data == 2 ? -ENOTTY : -EINVAL, cqe->res);
			io_uring_cqe_seen(&ring, cqe);
		}
		jobs[0].pad = 0;
		io_uring_queue_exit(&ring);
	}
	dev_job_release(fd, &dj);
	test_job_free(&tj);
	close(fd);
}

TEST_HARNESS_MAIN
