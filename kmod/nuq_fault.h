/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: fault injection for reliability tests, in the spirit of
 * lib/fault-inject.c (which Debian's cloud kernel does not enable).
 */
#ifndef _NUQ_FAULT_H_
#define _NUQ_FAULT_H_

#include <linux/atomic.h>
#include <linux/types.h>

struct dentry;

enum nuq_fault_kind {
	NUQ_FAULT_NONE,
	NUQ_FAULT_HANG,		/* the job never finishes by itself */
	NUQ_FAULT_FAIL,		/* the job fails with -EIO */
	NUQ_FAULT_SLOW,		/* the job sleeps slow_ms after every tile */
};

/**
 * struct nuq_fault - when and how jobs misbehave
 * @kind: &enum nuq_fault_kind injected
 * @probability: percent of eligible jobs that get the fault
 * @interval: only every @interval-th job is eligible
 * @times: how many more faults to inject; -1 for no limit
 * @slow_ms: delay per tile for %NUQ_FAULT_SLOW
 * @count: jobs seen, for @interval
 */
struct nuq_fault {
	u32 kind;
	u32 probability;
	u32 interval;
	atomic_t times;
	u32 slow_ms;
	atomic64_t count;
};

void nuq_fault_init(struct nuq_fault *f);
enum nuq_fault_kind nuq_fault_next(struct nuq_fault *f);
void nuq_fault_debugfs(struct nuq_fault *f, struct dentry *parent);

#endif /* _NUQ_FAULT_H_ */
