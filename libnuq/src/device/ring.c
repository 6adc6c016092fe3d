// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnuq: job submission through io_uring (IORING_OP_URING_CMD).
 *
 * Each command owns a slot holding a copy of its descriptors (and, for a
 * batch, the struct nuq_uring_batch and the statuses array): with SQPOLL
 * the kernel reads them after nuq_ring_submit() has returned, so the
 * caller's array cannot be used.  The SQE is filled by hand because
 * Debian's liburing 2.3 has no io_uring_prep_cmd().  On a CPU device the
 * jobs run at submission and their completions wait in a queue.
 */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

#include "device_priv.h"

struct ring_slot {
	int used;
	uint64_t user_data;
	unsigned int count;
	struct nuq_conv_job *jobs;
	int32_t *statuses;
	struct nuq_uring_batch batch;
};

struct nuq_ring {
	struct nuq_device *dev;
	struct io_uring uring;
	int has_uring;
	struct ring_slot *slots;
	unsigned int nr_slots;
	unsigned int in_flight;
	struct nuq_completion *cpu_done;	/* CPU device: finished, not reaped */
	unsigned int nr_cpu_done;
};

int nuq_ring_init(struct nuq_device *dev, unsigned int entries, unsigned int flags,
		  struct nuq_ring **out)
{
	struct io_uring_params p = { 0 };
	struct nuq_ring *r;
	int ret;

	*out = NULL;
	if (!entries || entries > 4096 || (flags & ~NUQ_RING_SQPOLL))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->dev = dev;
	r->nr_slots = entries;
	r->slots = calloc(entries, sizeof(*r->slots));
	r->cpu_done = calloc(entries, sizeof(*r->cpu_done));
	if (!r->slots || !r->cpu_done) {
		ret = -ENOMEM;
		goto err;
	}
	if (!nuq_device_is_cpu(dev)) {
		if (flags & NUQ_RING_SQPOLL) {
			p.flags |= IORING_SETUP_SQPOLL;
			p.sq_thread_idle = 50;
		}
		ret = io_uring_queue_init_params(entries, &r->uring, &p);
		if (ret)
			goto err;
		r->has_uring = 1;
	}
	*out = r;
	return 0;
err:
	free(r->slots);
	free(r->cpu_done);
	free(r);
	return ret;
}

static void slot_release(struct ring_slot *s)
{
	free(s->jobs);
	free(s->statuses);
	memset(s, 0, sizeof(*s));
}

static int cpu_submit(struct nuq_ring *r, const struct nuq_conv_job *jobs, unsigned int count,
		      uint64_t user_data)
{
	struct nuq_completion *c;
	unsigned int i;
	int code, status = 0, st;

	if (r->nr_cpu_done == r->nr_slots)
		return -EBUSY;
	for (i = 0; i < count; i++) {
		st = nuq_cpu_run_job(r->dev, &jobs[i], &code);
		if (!status)
			status = st;
	}
	c = &r->cpu_done[r->nr_cpu_done++];
	c->user_data = user_data;
	c->status = status;
	c->count = count;
	return 0;
}

int nuq_ring_submit(struct nuq_ring *r, const struct nuq_conv_job *jobs, unsigned int count,
		    uint64_t user_data)
{
	struct nuq_uring_submit *cmd;
	struct io_uring_sqe *sqe;
	struct ring_slot *s = NULL;
	unsigned int i;
	int ret;

	if (!count || count > NUQ_MAX_BATCH || !jobs)
		return -EINVAL;
	if (!r->has_uring)
		return cpu_submit(r, jobs, count, user_data);

	for (i = 0; i < r->nr_slots && !s; i++)
		if (!r->slots[i].used)
			s = &r->slots[i];
	if (!s)
		return -EBUSY;
	sqe = io_uring_get_sqe(&r->uring);
	if (!sqe)
		return -EBUSY;

	s->jobs = malloc(count * sizeof(*jobs));
	s->statuses = count > 1 ? malloc(count * sizeof(int32_t)) : NULL;
	if (!s->jobs || (count > 1 && !s->statuses)) {
		slot_release(s);
		/* give the SQE back as a no-op so the ring stays consistent */
		io_uring_prep_nop(sqe);
		sqe->user_data = UINT64_MAX;
		io_uring_submit(&r->uring);
		return -ENOMEM;
	}
	memcpy(s->jobs, jobs, count * sizeof(*jobs));
	s->used = 1;
	s->user_data = user_data;
	s->count = count;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = r->dev->fd;
	sqe->user_data = s - r->slots;
	cmd = (struct nuq_uring_submit *)&sqe->addr3;	/* the 16-byte command area */
	if (count == 1) {
		sqe->cmd_op = NUQ_URING_CMD_SUBMIT;
		cmd->job = (uintptr_t)s->jobs;
		cmd->job_size = sizeof(*jobs);
	} else {
		s->batch.jobs = (uintptr_t)s->jobs;
		s->batch.statuses = (uintptr_t)s->statuses;
		s->batch.count = count;
		s->batch.job_size = sizeof(*jobs);
		sqe->cmd_op = NUQ_URING_CMD_SUBMIT_BATCH;
		cmd->job = (uintptr_t)&s->batch;
		cmd->job_size = sizeof(s->batch);
	}
	ret = io_uring_submit(&r->uring);
	if (ret < 0) {
		slot_release(s);
		return ret;
	}
	r->in_flight++;
	return 0;
}

int nuq_ring_reap(struct nuq_ring *r, struct nuq_completion *out, unsigned int max,
		  unsigned int min_wait)
{
	struct io_uring_cqe *cqe;
	unsigned int n = 0;
	int ret;

	if (!r->has_uring) {
		for (; n < max && n < r->nr_cpu_done; n++)
			out[n] = r->cpu_done[n];
		memmove(r->cpu_done, r->cpu_done + n, (r->nr_cpu_done - n) * sizeof(*out));
		r->nr_cpu_done -= n;
		return n;
	}
	if (min_wait > r->in_flight)
		min_wait = r->in_flight;
	while (n < max) {
		ret = n < min_wait ? io_uring_wait_cqe(&r->uring, &cqe) :
				     io_uring_peek_cqe(&r->uring, &cqe);
		if (ret == -EAGAIN)
			break;
		if (ret < 0)
			return n ? (int)n : ret;
		if (cqe->user_data < r->nr_slots) {
			struct ring_slot *s = &r->slots[cqe->user_data];

			out[n].user_data = s->user_data;
			out[n].status = cqe->res;
			out[n].count = s->count;
			n++;
			slot_release(s);
			r->in_flight--;
		}
		io_uring_cqe_seen(&r->uring, cqe);
	}
	return n;
}

/* Waits for commands still in flight: their jobs always end. */
void nuq_ring_exit(struct nuq_ring *r)
{
	struct nuq_completion c;

	if (!r)
		return;
	if (r->has_uring) {
		while (r->in_flight && nuq_ring_reap(r, &c, 1, 1) > 0)
			;
		io_uring_queue_exit(&r->uring);
	}
	free(r->slots);
	free(r->cpu_done);
	free(r);
}
