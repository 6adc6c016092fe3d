// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: random descriptors and small buffers through the
 * shared validator and, when it accepts, the core.  Every tensor gets its
 * own heap buffer of exactly the size the input asks for, so any access
 * the validator failed to bound is caught by ASan.
 *
 * Half of the inputs are raw descriptors; the other half build one from
 * small fields so that many pass validation and reach the core.  When the
 * core computes a job, libnuq's other CPU paths (plain C and AVX2, with
 * their padded images, packed-weight cache and reused scratch) must give
 * the same bytes: a difference traps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/conv.h>

#include "nuq_conv.h"

struct reader {
	const uint8_t *p;
	size_t n;
};

static uint32_t take(struct reader *r, uint32_t mod)
{
	uint32_t v = 0;

	if (r->n) {
		v = *r->p++;
		r->n--;
	}
	return mod ? v % mod : v;
}

static void build(struct nuq_conv_job *j, struct reader *r)
{
	int i;

	memset(j, 0, sizeof(*j));
	j->flags = take(r, 8);
	j->priority = take(r, 5);
	j->weight_format = take(r, 4);
	j->batch = 1 + take(r, 2);
	j->in_h = 1 + take(r, 9);
	j->in_w = 1 + take(r, 9);
	j->groups = 1 + take(r, 3);
	j->in_c = j->groups * (1 + take(r, 4));
	j->out_c = j->groups * (1 + take(r, 4));
	j->kernel_h = 1 + take(r, 5);
	j->kernel_w = 1 + take(r, 5);
	j->stride_h = 1 + take(r, 3);
	j->stride_w = 1 + take(r, 3);
	j->dilation_h = 1 + take(r, 3);
	j->dilation_w = 1 + take(r, 3);
	j->pad_top = take(r, 4);
	j->pad_bottom = take(r, 4);
	j->pad_left = take(r, 4);
	j->pad_right = take(r, 4);
	j->out_h = take(r, 12);
	j->out_w = take(r, 12);
	j->weight_bits = take(r, 10);
	j->cb_strategy = take(r, 4);
	j->in_format = take(r, 3);
	j->out_format = take(r, 3);
	j->in_zero_point = (int8_t)take(r, 0);
	j->out_zero_point = (int8_t)take(r, 0);
	j->out_min = -128 + (int)take(r, 0);
	j->out_max = (int)take(r, 0);
	j->res_zero_point = (int8_t)take(r, 0);
	j->res_multiplier = take(r, 2) ? (int32_t)(0x40000000u + take(r, 0) * 0x100000u) : 0;
	j->res_shift = (int)take(r, 64) - 32;
	for (i = 0; i < NUQ_T_COUNT; i++) {
		j->tensors[i].handle = take(r, 3) ? i + 1 : 0;
		j->tensors[i].offset = take(r, 4) == 0 ? take(r, 16) : 0;
	}
}

/*
 * Every other CPU implementation on the same tensors leaves the output
 * buffer as the core did (@want): the output tensor's bytes equal, and no
 * byte around it touched.
 */
static void check_cpu_paths(const struct nuq_conv_job *job, const struct nuq_conv_plan *plan,
			    uint8_t *const buf[NUQ_T_COUNT], const __u64 sizes[NUQ_T_COUNT],
			    const uint8_t *want)
{
	uint8_t *out = buf[NUQ_T_OUTPUT];
	size_t sz[NUQ_T_COUNT], n = sizes[NUQ_T_OUTPUT];
	int i, impl, err;

	for (i = 0; i < NUQ_T_COUNT; i++)
		sz[i] = sizes[i];
	for (impl = NUQ_CONV_IMPL_GENERIC; impl <= NUQ_CONV_IMPL_AVX2; impl++) {
		if (!nuq_conv_impl_available(impl))
			continue;
		memset(out + job->tensors[NUQ_T_OUTPUT].offset, 0xa5, plan->bytes[NUQ_T_OUTPUT]);
		if (nuq_conv_run_cpu_impl(job, (void *const *)buf, sz, &err, impl) ||
		    memcmp(out, want, n))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	struct nuq_conv_job job;
	struct nuq_conv_plan plan;
	__u64 sizes[NUQ_T_COUNT];
	uint8_t *buf[NUQ_T_COUNT] = { 0 }, *core_out = NULL;
	void *t[NUQ_T_COUNT];
	void *scratch = NULL;
	__u32 tile;
	int i;

	if (take(&r, 2)) {
		if (r.n < sizeof(job))
			return 0;
		memcpy(&job, r.p, sizeof(job));
		r.p += sizeof(job);
		r.n -= sizeof(job);
	} else {
		build(&job, &r);
	}

	/* Buffer sizes: exact when the input says so, otherwise random. */
	for (i = 0; i < NUQ_T_COUNT; i++)
		sizes[i] = take(&r, 4) ? 0 : take(&r, 0) | take(&r, 0) << 8;
	if (nuq_conv_validate(&job, sizes, &plan) == -NUQ_JOB_E_BOUNDS) {
		/* Give every tensor exactly what it needs and try again. */
		struct nuq_conv_plan want;
		__u64 big[NUQ_T_COUNT];

		for (i = 0; i < NUQ_T_COUNT; i++)
			big[i] = 1ULL << 40;
		if (nuq_conv_validate(&job, big, &want) == 0)
			for (i = 0; i < NUQ_T_COUNT; i++)
				sizes[i] = want.bytes[i] ? job.tensors[i].offset + want.bytes[i] : 0;
	}
	if (nuq_conv_validate(&job, sizes, &plan))
		return 0;
	if (plan.macs > 2000000)	/* keep each run fast */
		return 0;

	for (i = 0; i < NUQ_T_COUNT; i++) {
		buf[i] = malloc(sizes[i] ? sizes[i] : 1);
		if (!buf[i])
			goto out;
		for (__u64 b = 0; b < sizes[i]; b++)
			buf[i][b] = (uint8_t)take(&r, 0);
		t[i] = job.tensors[i].handle ? buf[i] + job.tensors[i].offset : NULL;
	}
	scratch = malloc(plan.scratch_bytes ? plan.scratch_bytes : 1);
	if (!scratch)
		goto out;
	for (tile = 0; tile < plan.tiles; tile++)
		if (nuq_conv_run_tile(&job, &plan, t, scratch, tile))
			break;
	if (tile == plan.tiles) {
		core_out = malloc(sizes[NUQ_T_OUTPUT] ? sizes[NUQ_T_OUTPUT] : 1);
		if (!core_out)
			goto out;
		memcpy(core_out, buf[NUQ_T_OUTPUT], sizes[NUQ_T_OUTPUT]);
		check_cpu_paths(&job, &plan, buf, sizes, core_out);
	}
out:
	free(core_out);
	free(scratch);
	for (i = 0; i < NUQ_T_COUNT; i++)
		free(buf[i]);
	return 0;
}
