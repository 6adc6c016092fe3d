/* SPDX-License-Identifier: GPL-2.0 */
/* nuq-stress: operations shared between stress_ops.c and stress_submit.c. */
#ifndef NUQ_STRESS_SUBMIT_H
#define NUQ_STRESS_SUBMIT_H

#include "stress.h"

struct stress_ctx *pick_ctx(struct stress_thr *t, int owned);
int xioctl(int fd, unsigned long cmd, void *arg);
int ctx_drain(struct stress_thr *t, struct stress_ctx *c, uint64_t deadline_ms);

void op_submit(struct stress_thr *t);
void op_submit_bad_desc(struct stress_thr *t);
void op_submit_bad_args(struct stress_thr *t);
void op_wait(struct stress_thr *t);
void op_wait_bad(struct stress_thr *t);
void op_poll(struct stress_thr *t);
void op_uring_submit(struct stress_thr *t);
void op_uring_batch(struct stress_thr *t);
void op_uring_bad(struct stress_thr *t);
void op_uring_reap(struct stress_thr *t);
void op_uring_close(struct stress_thr *t);

#endif
