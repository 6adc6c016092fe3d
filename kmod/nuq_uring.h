/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: job submission through io_uring (IORING_OP_URING_CMD).
 */
#ifndef _NUQ_URING_H_
#define _NUQ_URING_H_

#include <linux/types.h>

struct io_uring_cmd;
struct nuq_job;
struct task_struct;

int nuq_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags);
void nuq_uring_job_done(struct nuq_job *job);
bool nuq_uring_submitter_gone(struct task_struct *task);

#endif /* _NUQ_URING_H_ */
