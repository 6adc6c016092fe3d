// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq's device API on the CPU device: the same calls, validation and
 * results as on /dev/nuqN.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <nuq/nuq.h>

#include "device_job.h"

static struct test_job make(uint32_t wfmt, uint32_t bits, uint64_t seed)
{
	struct test_rng r = { seed };
	struct test_shape s = {
		.batch = 2, .in_h = 7, .in_w = 9, .in_c = 6, .out_c = 5, .kh = 3, .kw = 3,
		.sh = 2, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pb = 1, .pl = 1, .pr = 1,
		.groups = 1, .wfmt = wfmt, .bits = bits,
	};
	struct test_job tj;

	assert_int_equal(test_job_make(&tj, &s, &r), 0);
	return tj;
}

static void open_flags_and_fallback(void **state)
{
	struct nuq_device *dev;
	struct nuq_info info;

	(void)state;
	assert_int_equal(nuq_device_open("/nonexistent/nuq9", 0, &dev), -ENOENT);
	assert_null(dev);
	assert_int_equal(nuq_device_open("/nonexistent/nuq9", NUQ_OPEN_CPU_FALLBACK, &dev), 0);
	assert_true(nuq_device_is_cpu(dev));
	assert_int_equal(nuq_device_info(dev, &info), 0);
	assert_string_equal(info.name, "cpu");
	assert_true(info.caps & NUQ_CAP_JOBS);
	nuq_device_close(dev);
	assert_int_equal(nuq_device_open(NULL, 1u << 7, &dev), -EINVAL);
	/* a file that is not a nuq device */
	assert_int_equal(nuq_device_open("/dev/null", NUQ_OPEN_CPU_FALLBACK, &dev), -ENOTTY);
}

static void bo_calls(void **state)
{
	struct nuq_device *dev;
	uint32_t h;
	void *p, *q;
	uint64_t size;

	(void)state;
	assert_int_equal(nuq_device_open(NULL, NUQ_OPEN_CPU, &dev), 0);
	assert_int_equal(nuq_bo_create(dev, 0, &h), -EINVAL);
	assert_int_equal(nuq_bo_create(dev, 5000, &h), 0);
	assert_int_equal(nuq_bo_map(dev, h, &p, &size), 0);
	assert_int_equal(size, 8192);
	assert_int_equal(((uint8_t *)p)[4999], 0);
	assert_int_equal(nuq_bo_map(dev, h, &q, NULL), 0);
	assert_ptr_equal(p, q);
	assert_int_equal(nuq_bo_map(dev, h + 1, &q, NULL), -ENOENT);
	assert_int_equal(nuq_bo_free(dev, h), 0);
	assert_int_equal(nuq_bo_free(dev, h), -ENOENT);
	nuq_device_close(dev);
}

static void submit_and_wait_match_core(void **state)
{
	static const uint32_t fmts[][2] = {
		{ NUQ_WFMT_INT8, 8 }, { NUQ_WFMT_CODEBOOK, 3 }, { NUQ_WFMT_ASD, 0 },
	};
	struct nuq_device *dev;
	int f;

	(void)state;
	assert_int_equal(nuq_device_open(NULL, NUQ_OPEN_CPU, &dev), 0);
	for (f = 0; f < 3; f++) {
		struct test_job tj = make(fmts[f][0], fmts[f][1], f + 1);
		struct api_job aj;
		uint64_t seq;
		int status, code;

		assert_int_equal(api_job_upload(dev, &tj, &aj), 0);
		assert_int_equal(nuq_submit(dev, &aj.job, 1, &seq, NULL), 0);
		assert_int_equal(nuq_wait(dev, seq, -1, &status), 0);
		assert_int_equal(status, 0);
		assert_int_equal(nuq_wait(dev, seq, 0, &status), -ENOENT);
		assert_int_equal(nuq_conv_run_cpu(&tj.job, (void *const *)tj.buf, tj.size, &code), 0);
		assert_memory_equal(aj.map[NUQ_T_OUTPUT], tj.buf[NUQ_T_OUTPUT],
				    tj.size[NUQ_T_OUTPUT]);
		api_job_release(dev, &aj);
		test_job_free(&tj);
	}
	nuq_device_close(dev);
}

static void bad_batch_is_refused_whole(void **state)
{
	struct test_job tj = make(NUQ_WFMT_INT8, 8, 9);
	struct nuq_submit_error err;
	struct nuq_conv_job jobs[4];
	struct nuq_device *dev;
	struct api_job aj;
	uint64_t seq[4];
	int status, i;

	(void)state;
	assert_int_equal(nuq_device_open(NULL, NUQ_OPEN_CPU, &dev), 0);
	assert_int_equal(api_job_upload(dev, &tj, &aj), 0);
	for (i = 0; i < 4; i++)
		jobs[i] = aj.job;
	jobs[2].tensors[NUQ_T_WEIGHTS].handle = 4242;
	memset(aj.map[NUQ_T_OUTPUT], 0x33, tj.size[NUQ_T_OUTPUT]);
	assert_int_equal(nuq_submit(dev, jobs, 4, seq, &err), -ENOENT);
	assert_int_equal(err.index, 2);
	assert_int_equal(err.code, NUQ_JOB_E_HANDLE);
	assert_int_equal(aj.map[NUQ_T_OUTPUT][0], 0x33);	/* nothing ran */
	jobs[2] = aj.job;
	jobs[1].tensors[NUQ_T_INPUT].offset = 8192;
	assert_int_equal(nuq_submit(dev, jobs, 4, seq, &err), -ERANGE);
	assert_int_equal(err.index, 1);
	assert_int_equal(err.code, NUQ_JOB_E_BOUNDS);
	assert_int_equal(nuq_submit(dev, jobs, 0, seq, &err), -EINVAL);
	assert_int_equal(nuq_wait(dev, 1, 0, &status), -ENOENT);
	api_job_release(dev, &aj);
	test_job_free(&tj);
	nuq_device_close(dev);
}

static void ring_on_cpu(void **state)
{
	struct test_job tj = make(NUQ_WFMT_CODEBOOK, 2, 11);
	struct nuq_completion c[8];
	struct nuq_conv_job jobs[16];
	struct nuq_device *dev;
	struct nuq_ring *ring;
	struct api_job aj;
	int i, n;

	(void)state;
	assert_int_equal(nuq_device_open(NULL, NUQ_OPEN_CPU, &dev), 0);
	assert_int_equal(nuq_ring_init(dev, 0, 0, &ring), -EINVAL);
	assert_int_equal(nuq_ring_init(dev, 4, 0, &ring), 0);
	assert_int_equal(api_job_upload(dev, &tj, &aj), 0);
	for (i = 0; i < 16; i++)
		jobs[i] = aj.job;
	jobs[15].pad = 1;
	assert_int_equal(nuq_ring_submit(ring, jobs, 1, 100), 0);
	assert_int_equal(nuq_ring_submit(ring, jobs, 15, 101), 0);
	assert_int_equal(nuq_ring_submit(ring, jobs, 16, 102), 0);	/* last one bad */
	assert_int_equal(nuq_ring_submit(ring, jobs, 0, 103), -EINVAL);
	n = nuq_ring_reap(ring, c, 8, 3);
	assert_int_equal(n, 3);
	assert_int_equal(c[0].user_data, 100);
	assert_int_equal(c[0].status, 0);
	assert_int_equal(c[1].count, 15);
	assert_int_equal(c[1].status, 0);
	assert_int_equal(c[2].status, -EINVAL);
	assert_int_equal(nuq_ring_reap(ring, c, 8, 0), 0);
	nuq_ring_exit(ring);
	api_job_release(dev, &aj);
	test_job_free(&tj);
	nuq_device_close(dev);
}

/* $NUQ_DEVICE wins; with no NPU node (the host has no nuq.ko) it is /dev/nuq0. */
static void default_device(void **state)
{
	char buf[64];

	(void)state;
	setenv("NUQ_DEVICE", "/dev/nuq7", 1);
	assert_string_equal("/dev/nuq7", nuq_device_default(buf, sizeof(buf)));
	unsetenv("NUQ_DEVICE");
	if (access("/dev/nuq0", F_OK))
		assert_string_equal("/dev/nuq0", nuq_device_default(buf, sizeof(buf)));
	/* An empty $NUQ_DEVICE is no choice: the search decides. */
	setenv("NUQ_DEVICE", "", 1);
	assert_ptr_equal(buf, nuq_device_default(buf, sizeof(buf)));
	assert_int_equal(0, strncmp(buf, "/dev/nuq", 8));
	unsetenv("NUQ_DEVICE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_flags_and_fallback),
		cmocka_unit_test(bo_calls),
		cmocka_unit_test(submit_and_wait_match_core),
		cmocka_unit_test(bad_batch_is_refused_whole),
		cmocka_unit_test(ring_on_cpu),
		cmocka_unit_test(default_device),
	};

	return cmocka_run_group_tests_name("device", tests, NULL, NULL);
}
