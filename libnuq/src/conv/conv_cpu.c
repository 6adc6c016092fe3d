// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: the CPU path.  Every job is validated by the shared core, then
 * run by the fastest implementation this CPU has: AVX2 dot products, the
 * same im2col algorithm in plain C, or the portable core itself (the code
 * the kernel runs).  All three give identical bits; the fast ones hand a
 * job back to the portable core when they could not guarantee that.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/conv.h>

#include "conv/conv_fast.h"
#include "nuq_conv.h"

static const char *const impl_names[] = {
	[NUQ_CONV_IMPL_AUTO] = "auto",
	[NUQ_CONV_IMPL_PORTABLE] = "portable",
	[NUQ_CONV_IMPL_GENERIC] = "generic",
	[NUQ_CONV_IMPL_AVX2] = "avx2",
};

const char *nuq_conv_impl_name(enum nuq_conv_impl impl)
{
	return (unsigned int)impl <= NUQ_CONV_IMPL_AVX2 ? impl_names[impl] : "unknown";
}

int nuq_conv_impl_available(enum nuq_conv_impl impl)
{
	switch (impl) {
	case NUQ_CONV_IMPL_AUTO:
	case NUQ_CONV_IMPL_PORTABLE:
	case NUQ_CONV_IMPL_GENERIC:
		return 1;
	case NUQ_CONV_IMPL_AVX2:
#if defined(__x86_64__) || defined(__i386__)
		return __builtin_cpu_supports("avx2");
#else
		return 0;
#endif
	}
	return 0;
}

/* AUTO: $NUQ_CONV_IMPL if it names an available implementation, else the best. */
static enum nuq_conv_impl resolve(enum nuq_conv_impl impl)
{
	const char *env;
	int i;

	if (impl != NUQ_CONV_IMPL_AUTO)
		return impl;
	env = getenv("NUQ_CONV_IMPL");
	for (i = NUQ_CONV_IMPL_PORTABLE; env && i <= NUQ_CONV_IMPL_AVX2; i++)
		if (!strcmp(env, impl_names[i]) && nuq_conv_impl_available(i))
			return i;
	return nuq_conv_impl_available(NUQ_CONV_IMPL_AVX2) ? NUQ_CONV_IMPL_AVX2 :
							      NUQ_CONV_IMPL_GENERIC;
}

int nuq_conv_run_cpu(const struct nuq_conv_job *job, void *const base[NUQ_T_COUNT],
		     const size_t size[NUQ_T_COUNT], int *err_code)
{
	return nuq_conv_run_cpu_impl(job, base, size, err_code, NUQ_CONV_IMPL_AUTO);
}

int nuq_conv_run_cpu_impl(const struct nuq_conv_job *job, void *const base[NUQ_T_COUNT],
			  const size_t size[NUQ_T_COUNT], int *err_code, enum nuq_conv_impl impl)
{
	struct nuq_conv_plan plan;
	__u64 sizes[NUQ_T_COUNT];
	void *t[NUQ_T_COUNT];
	void *scratch = NULL;
	__u32 tile;
	int i, ret;

	if (err_code)
		*err_code = 0;
	for (i = 0; i < NUQ_T_COUNT; i++)
		sizes[i] = base[i] ? size[i] : 0;
	ret = nuq_conv_validate(job, sizes, &plan);
	if (ret)
		goto job_error;

	for (i = 0; i < NUQ_T_COUNT; i++)
		t[i] = base[i] && job->tensors[i].handle ?
		       (uint8_t *)base[i] + job->tensors[i].offset : NULL;
	impl = resolve(impl);
	if (!nuq_conv_impl_available(impl))
		return -EOPNOTSUPP;
	if (impl != NUQ_CONV_IMPL_PORTABLE) {
		ret = nuq_conv_run_fast(job, &plan, t, impl == NUQ_CONV_IMPL_AVX2 ?
					&nuq_fast_avx2 : &nuq_fast_generic);
		if (ret <= 0)
			return ret;
		ret = 0;	/* 1: not exact on the fast path, run the portable core */
	}
	if (plan.scratch_bytes) {
		scratch = malloc(plan.scratch_bytes);
		if (!scratch)
			return -ENOMEM;
	}
	for (tile = 0; tile < plan.tiles && !ret; tile++)
		ret = nuq_conv_run_tile(job, &plan, t, scratch, tile);
	free(scratch);
	if (!ret)
		return 0;
job_error:
	if (err_code)
		*err_code = -ret;
	return -nuq_job_error_errno(ret);
}
