/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test helpers for the conv core: an independent reference, a job builder
 * and a deterministic PRNG.
 */
#ifndef NUQ_TEST_CONV_REF_H
#define NUQ_TEST_CONV_REF_H

#include <stddef.h>
#include <stdint.h>
#include <linux/nuq.h>

struct test_rng {
	uint64_t s;
};

uint32_t test_rand(struct test_rng *r);
int32_t test_range(struct test_rng *r, int32_t lo, int32_t hi);	/* inclusive */

/* A job and its buffers (each tensor in its own buffer, offset 0). */
struct test_job {
	struct nuq_conv_job job;
	uint8_t *buf[NUQ_T_COUNT];
	size_t size[NUQ_T_COUNT];
};

struct test_shape {
	uint32_t batch, in_h, in_w, in_c, out_c, kh, kw, sh, sw, dh, dw;
	uint32_t pt, pb, pl, pr, groups;
	uint32_t wfmt, bits, in_fmt, out_fmt;
	uint32_t flags, strategy;
};

/* Fill a random but valid job of @shape; returns 0 or -1 if the shape is impossible. */
int test_job_make(struct test_job *tj, const struct test_shape *shape, struct test_rng *r);
void test_job_free(struct test_job *tj);

/* The independent reference; 0 or -1 for malformed contents. */
int conv_ref(const struct nuq_conv_job *job, uint8_t *const buf[NUQ_T_COUNT], uint8_t *out);
int32_t ref_requantize(int32_t acc, int32_t multiplier, int32_t shift);

#endif
