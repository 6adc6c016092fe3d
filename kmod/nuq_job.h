/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: creating jobs from user descriptors, SUBMIT and WAIT.
 */
#ifndef _NUQ_JOB_H_
#define _NUQ_JOB_H_

#include <linux/types.h>

struct nuq_ctx;
struct nuq_job;
struct file;
struct poll_table_struct;

extern unsigned int nuq_job_timeout_ms;

int nuq_ctx_reserve_jobs(struct nuq_ctx *ctx, unsigned int count);
void nuq_ctx_unreserve_jobs(struct nuq_ctx *ctx, unsigned int count);
struct nuq_job *nuq_job_create(struct nuq_ctx *ctx, const void __user *udesc, s32 *err_code);
void nuq_ctx_jobs_fini(struct nuq_ctx *ctx);

int nuq_ioctl_submit(struct nuq_ctx *ctx, void *data);
int nuq_ioctl_wait(struct nuq_ctx *ctx, void *data);
__poll_t nuq_poll(struct file *file, struct poll_table_struct *wait);

#endif /* _NUQ_JOB_H_ */
