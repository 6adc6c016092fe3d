// SPDX-License-Identifier: GPL-2.0
/*
 * nuq-stress: jobs - SUBMIT with good and malformed descriptors and
 * arguments, WAIT with every kind of timeout and seqno, poll(), and the
 * io_uring commands (single, batched, bad).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "stress_submit.h"

/* A copy of the context's valid job with random priority and timeout. */
static void job_vary(struct stress_thr *t, const struct stress_ctx *c, struct nuq_conv_job *j)
{
	*j = c->js.job;
	j->priority = rng_chance(&t->rng, 50) ? NUQ_PRIO_REALTIME : rng_below(&t->rng, 3);
	j->timeout_ms = rng_chance(&t->rng, 6) ? rng_range(&t->rng, 1, 30) : 0;
}

/* How many jobs a batch gets: mostly a few, sometimes many. */
static uint32_t batch_len(struct stress_thr *t, uint32_t max)
{
	uint32_t r = rng_below(&t->rng, 100);
	uint32_t n = r < 70 ? rng_range(&t->rng, 1, 4) : r < 95 ? rng_range(&t->rng, 5, 32) :
		     rng_range(&t->rng, 33, NUQ_MAX_BATCH);

	return n < max ? n : max;
}

static int submit(struct stress_ctx *c, const struct nuq_conv_job *jobs, uint32_t n,
		  uint64_t *seq, struct nuq_submit *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->jobs = (uintptr_t)jobs;
	s->seqnos = (uintptr_t)seq;
	s->count = n;
	s->job_size = sizeof(*jobs);
	stat_add(ST_SUBMIT_INFLIGHT, n);
	err = xioctl(c->fd, NUQ_IOCTL_SUBMIT, s);
	stat_add(ST_SUBMIT_INFLIGHT, -(int64_t)n);
	return err;
}

/* EAGAIN is right only when the context's cap could be reached. */
static int eagain_ok(const struct stress_ctx *c, uint32_t n)
{
	return c->uring_used || c->npend + n > c->cap;
}

void op_submit(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 1);
	struct nuq_conv_job *jobs;
	struct nuq_submit s;
	uint64_t *seq;
	uint32_t i, n;
	int err;

	if (!c || !c->js.live)
		return;
	n = batch_len(t, NUQ_MAX_BATCH);
	/* Larger jobs: a few at a time, or the drains take long under TCG. */
	if (c->js.big) {
		if (c->npend >= STRESS_BIG_PEND)
			return;
		n = n < STRESS_BIG_PEND - c->npend ? n : STRESS_BIG_PEND - c->npend;
	}
	/* Near the cap: mostly fill it exactly, sometimes go over (EAGAIN). */
	if (c->npend + n > c->cap && rng_below(&t->rng, 4))
		n = c->cap > c->npend ? c->cap - c->npend : 1;
	jobs = malloc(n * sizeof(*jobs));
	seq = malloc(n * sizeof(*seq));
	if (!jobs || !seq)
		goto out;
	for (i = 0; i < n; i++)
		job_vary(t, c, &jobs[i]);
	err = submit(c, jobs, n, seq, &s);
	if (!err)
		ledger_submitted(t, c, seq, n);
	else if (err == EAGAIN && eagain_ok(c, n))
		;
	else if (c->js.broken && (err == ENOENT || err == ERANGE || err == EINVAL ||
				  err == EOVERFLOW))
		;	/* a freed handle, or its number reused by a smaller BO */
	else if (err != ENOMEM)
		unexpected(t, "submit", "%u jobs (%d pending of %u): %s, index %u code %d", n,
			   c->npend, c->cap, strerror(err), s.error_index, s.error_code);
out:
	free(jobs);
	free(seq);
}

/* One field of one descriptor made invalid; the whole batch is refused. */
void op_submit_bad_desc(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 1);
	struct nuq_conv_job jobs[8], *j;
	struct nuq_submit s;
	uint64_t seq[8];
	uint32_t i, n, k, m;
	int err, want = EINVAL;

	if (!c || !c->js.live || c->js.broken)
		return;
	n = rng_range(&t->rng, 1, 8);
	if (c->npend + n > c->cap)
		return;
	for (i = 0; i < n; i++)
		job_vary(t, c, &jobs[i]);
	k = rng_below(&t->rng, n);
	j = &jobs[k];
	m = rng_below(&t->rng, 16);
	switch (m) {
	case 0:
		j->rsvd[rng_below(&t->rng, 4)] = rng_next(&t->rng) | 1;
		break;
	case 1:
		j->pad = rng_range(&t->rng, 1, ~0u);
		break;
	case 2:
		j->flags |= 1u << rng_range(&t->rng, 3, 31);
		break;
	case 3:
		j->priority = rng_range(&t->rng, 4, ~0u);
		break;
	case 4:
		j->weight_format = rng_range(&t->rng, 3, ~0u);
		break;
	case 5:
		j->in_format = rng_range(&t->rng, 2, ~0u);
		break;
	case 6:
		j->in_c = 0;
		break;
	case 7:
		j->groups = 0;
		break;
	case 8:
		j->stride_h = 0;
		break;
	case 9:
		j->out_h += rng_range(&t->rng, 1, 3);
		break;
	case 10:
		j->tensors[NUQ_T_INPUT].handle = 0x40000000u + rng_below(&t->rng, 1u << 30);
		want = ENOENT;
		break;
	case 11:
		j->tensors[NUQ_T_INPUT].offset = c->js.size[NUQ_T_INPUT] + rng_below(&t->rng, 8192);
		want = ERANGE;
		break;
	case 12:
		/* past the end either way: overflowing (EOVERFLOW) or not (ERANGE) */
		j->tensors[NUQ_T_WEIGHTS].offset = ~0ULL - rng_below(&t->rng, 64);
		want = EOVERFLOW;
		break;
	case 13:
		j->tensors[rng_below(&t->rng, NUQ_T_COUNT)].rsvd = 1;
		break;
	case 14:
		j->tensors[NUQ_T_REQUANT].handle = 0;
		break;
	default:
		j->out_zero_point = 1000 + rng_below(&t->rng, 1000);
		break;
	}
	err = submit(c, jobs, n, seq, &s);
	if (!err) {
		unexpected(t, "submit_bad_desc", "mutation %u of job %u/%u accepted", m, k, n);
		ledger_submitted(t, c, seq, n);
		return;
	}
	if (err == ENOMEM || (err == EAGAIN && eagain_ok(c, n)))
		return;
	if (want == EOVERFLOW && err == ERANGE)
		want = ERANGE;
	if (err != want || s.error_index != k || !s.error_code)
		unexpected(t, "submit_bad_desc",
			   "mutation %u of job %u/%u: %s index %u code %d, want %s index %u", m, k,
			   n, strerror(err), s.error_index, s.error_code, strerror(want), k);
}

void op_submit_bad_args(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 1);
	struct nuq_conv_job job;
	struct nuq_submit s;
	uint64_t seq;
	int want = EINVAL, err;
	void *arg = &s;

	if (!c || !c->js.live || c->npend + 1 > c->cap)
		return;
	job_vary(t, c, &job);
	memset(&s, 0, sizeof(s));
	s.jobs = (uintptr_t)&job;
	s.seqnos = (uintptr_t)&seq;
	s.count = 1;
	s.job_size = sizeof(job);
	switch (rng_below(&t->rng, 10)) {
	case 0:
		s.job_size = rng_chance(&t->rng, 2) ? 0 : sizeof(job) + rng_range(&t->rng, 1, 64) - 32;
		if (s.job_size == sizeof(job))
			s.job_size++;
		break;
	case 1:
		s.count = rng_chance(&t->rng, 2) ? 0 : rng_range(&t->rng, NUQ_MAX_BATCH + 1, ~0u);
		break;
	case 2:
		s.flags = 1u << rng_below(&t->rng, 32);
		break;
	case 3:
		s.pad = 1u << rng_below(&t->rng, 32);
		break;
	case 4:
		s.rsvd[rng_below(&t->rng, 2)] = 1;
		break;
	case 5:
		s.jobs = rng_chance(&t->rng, 2) ? 0 : 16;
		want = EFAULT;
		break;
	case 6:
		/* validated, then the seqnos cannot be written: nothing queued */
		s.seqnos = rng_chance(&t->rng, 2) ? (uintptr_t)t->ro_page : 8;
		want = EFAULT;
		break;
	case 7:
		arg = NULL;
		want = EFAULT;
		break;
	case 8:
		arg = t->ro_page;	/* reads as count 0 */
		break;
	default:
		s.error_index = rng_next(&t->rng);	/* out fields are ignored on input */
		s.error_code = rng_next(&t->rng);
		want = 0;
		break;
	}
	stat_add(ST_SUBMIT_INFLIGHT, 1);
	err = xioctl(c->fd, NUQ_IOCTL_SUBMIT, arg);
	stat_add(ST_SUBMIT_INFLIGHT, -1);
	if (!err)
		ledger_submitted(t, c, &seq, 1);
	if (err == ENOMEM || (err == EAGAIN && eagain_ok(c, 1)))
		return;
	if (c->js.broken && err && err != EFAULT)
		return;	/* the descriptor itself may fail first (ENOENT, ERANGE) */
	if (err != want)
		unexpected(t, "submit_bad_args", "got %s, want %s", err ? strerror(err) : "success",
			   want ? strerror(want) : "success");
}

static int64_t wait_timeout(struct stress_thr *t)
{
	uint32_t r = rng_below(&t->rng, 100);

	if (r < 50)
		return 0;
	if (r < 80)
		return rng_range(&t->rng, 1000, 5000000);		/* up to 5 ms */
	if (r < 97)
		return rng_range(&t->rng, 50, 200) * 1000000LL;
	return -1;						/* forever */
}

/* WAIT does not know a job we never reaped: a lost completion. */
static void job_lost(struct stress_thr *t, struct stress_ctx *c, int idx)
{
	violation(t, "job %llu LOST: WAIT says ENOENT before it was reaped",
		  (unsigned long long)c->pend[idx]);
	c->pend[idx] = c->pend[--c->npend];
	stat_add(ST_IOCTL_DROP_CLOSE, 1);	/* reported; keep the sums balanced */
	if (t->my_slot)
		__atomic_fetch_add(&t->my_slot[0], -1, __ATOMIC_SEQ_CST);
}

void op_wait(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 1);
	struct nuq_wait w = { 0 };
	int idx, err;

	if (!c || !c->npend)
		return;
	/* a third of the time: sweep, reap whatever has finished (up to 32) */
	if (rng_chance(&t->rng, 3)) {
		int n = 32;

		for (idx = c->npend - 1; idx >= 0 && n--; idx--) {
			struct nuq_wait p = { .seqno = c->pend[idx] };

			err = xioctl(c->fd, NUQ_IOCTL_WAIT, &p);
			if (!err)
				ledger_reaped(t, c, idx, p.status);
			else if (err == ENOENT)
				job_lost(t, c, idx);
			else if (err != ETIME)
				unexpected(t, "wait sweep", "seqno %llu: %s",
					   (unsigned long long)p.seqno, strerror(err));
		}
		return;
	}
	idx = rng_below(&t->rng, c->npend);
	w.seqno = c->pend[idx];
	w.timeout_ns = wait_timeout(t);
	err = xioctl(c->fd, NUQ_IOCTL_WAIT, &w);
	if (!err)
		ledger_reaped(t, c, idx, w.status);
	else if (err == ENOENT)
		job_lost(t, c, idx);
	else if (err != ETIME && err != EINTR)
		unexpected(t, "wait", "seqno %llu timeout %lld: %s", (unsigned long long)w.seqno,
			   (long long)w.timeout_ns, strerror(err));
}

/* Reap everything of @c, by @deadline_ms; returns how many are left. */
int ctx_drain(struct stress_thr *t, struct stress_ctx *c, uint64_t deadline_ms)
{
	while (c->npend) {
		struct nuq_wait w = { .seqno = c->pend[0] };
		uint64_t now = now_ms();
		int err;

		if (now >= deadline_ms)
			break;
		w.timeout_ns = (int64_t)(deadline_ms - now) * 1000000;
		err = xioctl(c->fd, NUQ_IOCTL_WAIT, &w);
		if (!err) {
			ledger_reaped(t, c, 0, w.status);
		} else if (err == ENOENT) {
			job_lost(t, c, 0);
		} else if (err != EINTR) {
			break;
		}
	}
	return c->npend;
}

void op_wait_bad(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 0);
	struct nuq_wait w = { 0 };
	int err, want = ENOENT;
	uint32_t v;

	if (!c)
		return;
	v = rng_below(&t->rng, 6);
	if (c->inherited && v < 2)
		v = 2;
	w.timeout_ns = rng_chance(&t->rng, 2) ? 0 : rng_range(&t->rng, 1000, 1000000);
	switch (v) {
	case 0:
		/* a reaped job is forgotten: a second completion would be a bug */
		if (!c->nreaped)
			return;
		w.seqno = c->reaped[rng_below(&t->rng, c->nreaped < STRESS_REAPED ? c->nreaped :
						STRESS_REAPED)];
		err = xioctl(c->fd, NUQ_IOCTL_WAIT, &w);
		if (!err)
			violation(t, "job %llu COMPLETED TWICE: a second WAIT gave status %d",
				  (unsigned long long)w.seqno, w.status);
		else if (err != ENOENT)
			unexpected(t, "wait reaped", "seqno %llu: %s", (unsigned long long)w.seqno,
				   strerror(err));
		return;
	case 1:
		w.seqno = c->max_seq + 1000000 + rng_below(&t->rng, 1u << 30);
		break;
	case 2:
		w.seqno = rng_chance(&t->rng, 2) ? ~0ULL - rng_below(&t->rng, 16) :
			  (1ULL << 62) + rng_next(&t->rng) % (1ULL << 61);
		break;
	case 3:
		w.seqno = c->npend ? c->pend[0] : 1;
		w.flags = 1u << rng_below(&t->rng, 32);
		want = EINVAL;
		break;
	case 4:
		w.seqno = c->npend ? c->pend[0] : 1;
		w.rsvd[rng_below(&t->rng, 2)] = 1;
		want = EINVAL;
		break;
	default:
		err = xioctl(c->fd, NUQ_IOCTL_WAIT, rng_chance(&t->rng, 2) ? NULL : (void *)8);
		if (err != EFAULT)
			unexpected(t, "wait bad pointer", "%s", strerror(err));
		return;
	}
	if (c->inherited && !want)
		return;
	err = xioctl(c->fd, NUQ_IOCTL_WAIT, &w);
	if (err != want)
		unexpected(t, "wait_bad", "variant %u seqno %llu: %s, want %s", v,
			   (unsigned long long)w.seqno, err ? strerror(err) : "success",
			   strerror(want));
}

void op_poll(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 0);
	struct pollfd p;
	int ret;

	if (!c)
		return;
	p.fd = c->fd;
	p.events = POLLIN | (rng_chance(&t->rng, 4) ? POLLOUT : 0);
	p.revents = 0;
	ret = poll(&p, 1, rng_chance(&t->rng, 2) ? 0 : rng_range(&t->rng, 1, 5));
	if (ret < 0) {
		if (errno != EINTR)
			unexpected(t, "poll", "%s", strerror(errno));
		return;
	}
	if (p.revents & ~(POLLIN | POLLRDNORM))
		violation(t, "poll revents %#x", p.revents);
	/* Nothing of ours to reap in a context only we use: no POLLIN. */
	if ((p.revents & POLLIN) && !c->inherited && !c->npend && !c->uring_used &&
	    !t->in_child && !t->child[0].pid && !t->child[1].pid)
		violation(t, "POLLIN on nuq%d with no unreaped job", c->dev);
}

/* --- io_uring ------------------------------------------------------------------ */

static int ring_ensure(struct stress_thr *t)
{
	struct stress_ring *r = &t->ring;
	struct io_uring_params p;
	int ret;

	if (r->live)
		return r->owned ? 0 : -1;
	memset(&p, 0, sizeof(p));
	if (rng_chance(&t->rng, 15)) {
		p.flags = IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 20;
	}
	ret = io_uring_queue_init_params(STRESS_RING_PEND, &r->ring, &p);
	if (ret) {
		if (ret != -ENOMEM && ret != -EMFILE)
			unexpected(t, "io_uring_setup", "%s", strerror(-ret));
		return -1;
	}
	r->live = 1;
	r->owned = 1;
	r->sqpoll = !!(p.flags & IORING_SETUP_SQPOLL);
	r->npend = 0;
	return 0;
}

static struct io_uring_sqe *prep_cmd(struct stress_thr *t, int fd, uint32_t op, const void *ptr,
				     uint32_t size)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&t->ring.ring);
	struct nuq_uring_submit *cmd;

	if (!sqe)
		return NULL;
	memset(sqe, 0, sizeof(*sqe));
	cmd = (struct nuq_uring_submit *)&sqe->addr3;
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = op;
	sqe->user_data = ++t->ring.next_ud;
	cmd->job = (uintptr_t)ptr;
	cmd->job_size = size;
	return sqe;
}

/* Submit what was prepared; SQEs the kernel did not take may hit a reused fd. */
static void ring_submit(struct stress_thr *t, int n)
{
	struct stress_ring *r = &t->ring;
	int ret = io_uring_submit(&r->ring), i;

	if (ret >= n)
		return;
	for (i = r->npend - n; i < r->npend; i++)
		if (r->pend[i].valid_jobs > 0)
			r->pend[i].valid_jobs = -r->pend[i].valid_jobs;
		else if (!r->pend[i].valid_jobs)
			r->pend[i].valid_jobs = -1;
}

static struct stress_ctx *uring_target(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 1);

	if (!c || !c->js.live || ring_ensure(t))
		return NULL;
	c->uring_used = 1;
	return c;
}

void op_uring_submit(struct stress_thr *t)
{
	struct stress_ctx *c = uring_target(t);
	struct io_uring_sqe *sqe;
	struct nuq_conv_job *j;
	int i, n, done = 0;

	if (!c)
		return;
	n = rng_range(&t->rng, 1, 8);
	if (t->ring.npend + n > STRESS_RING_PEND)
		n = STRESS_RING_PEND - t->ring.npend;
	for (i = 0; i < n; i++) {
		j = malloc(sizeof(*j));
		if (!j)
			break;
		job_vary(t, c, j);
		sqe = prep_cmd(t, c->fd, NUQ_URING_CMD_SUBMIT, j, sizeof(*j));
		if (!sqe) {
			free(j);
			break;
		}
		/* a broken job set may fail (ENOENT) or run (a reused handle) */
		ring_track(t, c->js.broken ? -1 : 1, 0, j, sqe->user_data, c->fd, j->priority);
		done++;
	}
	if (done)
		ring_submit(t, done);
}

struct batch_buf {
	struct nuq_uring_batch b;
	int32_t statuses[NUQ_MAX_BATCH];
	struct nuq_conv_job jobs[];
};

static struct batch_buf *batch_make(struct stress_thr *t, const struct stress_ctx *c, uint32_t n)
{
	struct batch_buf *bb = malloc(sizeof(*bb) + n * sizeof(bb->jobs[0]));
	uint32_t i;

	if (!bb)
		return NULL;
	memset(&bb->b, 0, sizeof(bb->b));
	memset(bb->statuses, 0x55, sizeof(bb->statuses));
	for (i = 0; i < n; i++)
		job_vary(t, c, &bb->jobs[i]);
	bb->b.jobs = (uintptr_t)bb->jobs;
	bb->b.statuses = rng_chance(&t->rng, 2) ? (uintptr_t)bb->statuses : 0;
	bb->b.count = n;
	bb->b.job_size = sizeof(bb->jobs[0]);
	return bb;
}

/* Lowest priority of the @n jobs (b.count may be a bad one). */
static int batch_prio(const struct batch_buf *bb, uint32_t n)
{
	uint32_t i, p = NUQ_PRIO_REALTIME;

	for (i = 0; i < n; i++)
		p = bb->jobs[i].priority < p ? bb->jobs[i].priority : p;
	return p;
}

void op_uring_batch(struct stress_thr *t)
{
	struct stress_ctx *c = uring_target(t);
	struct io_uring_sqe *sqe;
	struct batch_buf *bb;
	uint32_t n;

	if (!c || t->ring.npend >= STRESS_RING_PEND)
		return;
	n = batch_len(t, c->js.big ? 4 : 64);
	bb = batch_make(t, c, n);
	if (!bb)
		return;
	sqe = prep_cmd(t, c->fd, NUQ_URING_CMD_SUBMIT_BATCH, &bb->b, sizeof(bb->b));
	if (!sqe) {
		free(bb);
		return;
	}
	ring_track(t, c->js.broken ? -(int)n : (int)n, 1, bb, sqe->user_data, c->fd,
		   batch_prio(bb, n));
	ring_submit(t, 1);
}

void op_uring_bad(struct stress_thr *t)
{
	struct stress_ctx *c = uring_target(t);
	struct io_uring_sqe *sqe;
	struct batch_buf *bb;
	struct nuq_uring_submit *cmd;
	uint32_t v, n = rng_range(&t->rng, 1, 4);
	int valid = 0;

	if (!c || t->ring.npend >= STRESS_RING_PEND)
		return;
	bb = batch_make(t, c, n);
	if (!bb)
		return;
	v = rng_below(&t->rng, 11);
	if (v < 4)
		sqe = prep_cmd(t, c->fd, NUQ_URING_CMD_SUBMIT, &bb->jobs[0], sizeof(bb->jobs[0]));
	else
		sqe = prep_cmd(t, c->fd, NUQ_URING_CMD_SUBMIT_BATCH, &bb->b, sizeof(bb->b));
	if (!sqe) {
		free(bb);
		return;
	}
	cmd = (struct nuq_uring_submit *)&sqe->addr3;
	switch (v) {
	case 0:
		sqe->cmd_op = rng_range(&t->rng, 3, 0xffff);
		break;
	case 1:
		cmd->job_size = rng_chance(&t->rng, 2) ? 0 : sizeof(bb->jobs[0]) - 8;
		break;
	case 2:
		bb->jobs[0].pad = 1;
		break;
	case 3:
		cmd->job = rng_chance(&t->rng, 2) ? 0 : 16;
		break;
	case 4:
		bb->b.count = rng_chance(&t->rng, 2) ? 0 : NUQ_MAX_BATCH + 1;
		break;
	case 5:
		bb->b.job_size = sizeof(bb->jobs[0]) + 8;
		break;
	case 6:
		bb->b.jobs = 16;
		break;
	case 7:
		/* the jobs run; their statuses cannot be written back */
		bb->b.statuses = (uintptr_t)t->ro_page;
		valid = -(int)n;
		break;
	case 8:
		cmd->flags = 1u << rng_below(&t->rng, 32);
		break;
	case 9:
		sqe->fd = t->ring.ring.ring_fd;	/* not a nuq file */
		break;
	default:
		if (rng_chance(&t->rng, 2))
			bb->b.pad = 1;
		else
			bb->b.flags = 1u << rng_below(&t->rng, 32);
		break;
	}
	if (c->js.broken && !valid)
		valid = -1;	/* the bad field may not be what fails first; it fails all the same */
	ring_track(t, valid, v >= 4, bb, sqe->user_data, c->fd, batch_prio(bb, n));
	ring_submit(t, 1);
}

void op_uring_reap(struct stress_thr *t)
{
	struct stress_ring *r = &t->ring;

	if (!r->live || !r->owned)
		return;
	ring_reap(t, rng_below(&t->rng, r->npend < 4 ? r->npend + 1 : 5),
		  rng_below(&t->rng, 20));
}

void op_uring_close(struct stress_thr *t)
{
	if (t->ring.live && t->ring.owned)
		ring_close(t, rng_chance(&t->rng, 2));
}
