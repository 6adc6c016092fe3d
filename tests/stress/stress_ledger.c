// SPDX-License-Identifier: GPL-2.0
/*
 * nuq-stress: accounting.  An ioctl job is accounted exactly once: reaped
 * (WAIT returned 0 for it; a second WAIT must give ENOENT), dropped by
 * close, dropped by exit, or dropped by SIGKILL of its submitter.  An
 * io_uring SQE we track must get exactly one CQE while its ring is alive.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stress.h"

struct stress_shared *stress_sh;
const struct stress_opts *stress_cfg;

void out(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "%s", stress_cfg && stress_cfg->prefix ?
		     stress_cfg->prefix : "");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* One write per line: lines of concurrent processes do not mix. */
	if (write(STDOUT_FILENO, buf, n) < 0)
		return;
}

static void report(struct stress_thr *t, enum stress_stat st, const char *kind,
		   const char *fmt, va_list ap)
{
	char msg[400];
	char empty = 0;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	out("stress: %s [%s op %llu] %s", kind, t ? t->where : "main",
	    t ? (unsigned long long)t->nops : 0ULL, msg);
	stat_add(st, 1);
	/* The first report is kept for the summary. */
	if (__atomic_compare_exchange_n(&stress_sh->first_violation[0], &empty, '!', 0,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		snprintf(stress_sh->first_violation + 1, sizeof(stress_sh->first_violation) - 1,
			 "%s [%s op %llu] %s", kind, t ? t->where : "main",
			 t ? (unsigned long long)t->nops : 0ULL, msg);
}

void violation(struct stress_thr *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(t, ST_VIOLATIONS, "VIOLATION", fmt, ap);
	va_end(ap);
}

void unexpected(struct stress_thr *t, const char *op, const char *fmt, ...)
{
	char f[128];
	va_list ap;

	snprintf(f, sizeof(f), "%s: %s", op, fmt);
	va_start(ap, fmt);
	/* The format is ours, built from a literal and the op's name. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	report(t, ST_UNEXPECTED, "UNEXPECTED", f, ap);
#pragma GCC diagnostic pop
	va_end(ap);
}

void count_status(int status)
{
	switch (status) {
	case 0:
		stat_add(ST_STATUS_0, 1);
		break;
	case -ETIMEDOUT:
		stat_add(ST_STATUS_TIMEDOUT, 1);
		break;
	case -ECANCELED:
		stat_add(ST_STATUS_CANCELED, 1);
		break;
	case -EIO:
		stat_add(ST_STATUS_EIO, 1);
		break;
	default:
		stat_add(ST_STATUS_OTHER, 1);
		break;
	}
}

/* A job's end status: what the UAPI allows (-EINVAL/-ENOMEM: see jobs.rst). */
static int status_ok(int s)
{
	return s == 0 || s == -ETIMEDOUT || s == -ECANCELED || s == -EIO || s == -EINVAL ||
	       s == -ENOMEM || s == -ENODEV;
}

static void slot_add(struct stress_thr *t, int64_t n)
{
	if (t->my_slot)
		__atomic_fetch_add(&t->my_slot[0], n, __ATOMIC_SEQ_CST);
}

static void slot_sqes(struct stress_thr *t, int64_t n)
{
	if (t->my_slot)
		__atomic_fetch_add(&t->my_slot[1], n, __ATOMIC_SEQ_CST);
}

void ring_abandon(struct stress_thr *t)
{
	stat_add(ST_URING_ABANDONED, t->ring.npend);
	slot_sqes(t, -t->ring.npend);
	t->ring.npend = 0;
}

void ledger_submitted(struct stress_thr *t, struct stress_ctx *c, const uint64_t *seq, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (seq[i] <= c->max_seq)
			violation(t, "seqno %llu not above the context's last %llu",
				  (unsigned long long)seq[i], (unsigned long long)c->max_seq);
		if (i && seq[i] != seq[i - 1] + 1)
			violation(t, "batch seqnos not consecutive: %llu after %llu",
				  (unsigned long long)seq[i], (unsigned long long)seq[i - 1]);
		if (seq[i] > c->max_seq)
			c->max_seq = seq[i];
		if (c->npend >= STRESS_MAX_PEND) {
			violation(t, "more than %d jobs accepted in flight", STRESS_MAX_PEND);
			stat_add(ST_IOCTL_DROP_CLOSE, 1);	/* keep the sums balanced */
			continue;
		}
		c->pend[c->npend++] = seq[i];
	}
	stat_add(ST_IOCTL_SUBMITTED, n);
	slot_add(t, n);
}

void ledger_reaped(struct stress_thr *t, struct stress_ctx *c, int idx, int status)
{
	uint64_t seq = c->pend[idx];

	if (!status_ok(status))
		violation(t, "job %llu ended with status %d", (unsigned long long)seq, status);
	count_status(status);
	c->pend[idx] = c->pend[--c->npend];
	c->reaped[c->nreaped++ % STRESS_REAPED] = seq;
	stat_add(ST_IOCTL_REAPED, 1);
	slot_add(t, -1);
}

int ledger_was_reaped(const struct stress_ctx *c, uint64_t seq)
{
	unsigned int i, n = c->nreaped < STRESS_REAPED ? c->nreaped : STRESS_REAPED;

	for (i = 0; i < n; i++)
		if (c->reaped[i] == seq)
			return 1;
	return 0;
}

void ledger_drop(struct stress_thr *t, struct stress_ctx *c, enum stress_stat why)
{
	stat_add(why, c->npend);
	slot_add(t, -c->npend);
	c->npend = 0;
}

/* --- io_uring ------------------------------------------------------------ */

void ring_track(struct stress_thr *t, int valid_jobs, int batch, void *buf, uint64_t ud, int fd,
		int prio)
{
	struct stress_ring *r = &t->ring;
	struct ring_pend *p = &r->pend[r->npend++];

	p->ud = ud;
	p->fd = fd;
	p->prio = prio;
	p->valid_jobs = valid_jobs;
	p->batch = batch;
	p->buf = buf;
	stat_add(ST_URING_SQES, 1);
	slot_sqes(t, 1);
	/* < 0: -valid_jobs jobs that may run, any result is fine */
	stat_add(ST_URING_JOBS_SENT, valid_jobs < 0 ? -valid_jobs : valid_jobs);
}

/*
 * The context's file was closed or one of its job BOs freed: an SQE an
 * SQPOLL thread has not taken yet finds no file (EBADF), a new one under
 * the same number, or a freed handle (ENOENT).  Any result goes then, as
 * long as there is one CQE.  (Without SQPOLL the SQEs were taken at submit.)
 */
void ring_fd_changed(struct stress_thr *t, int fd)
{
	struct stress_ring *r = &t->ring;
	int i;

	if (!r->live || !r->owned || !r->sqpoll)
		return;
	for (i = 0; i < r->npend; i++)
		if (r->pend[i].fd == fd && r->pend[i].valid_jobs >= 0)
			r->pend[i].valid_jobs = r->pend[i].valid_jobs ? -r->pend[i].valid_jobs : -1;
}

static void ring_complete(struct stress_thr *t, const struct io_uring_cqe *cqe)
{
	struct stress_ring *r = &t->ring;
	int i;

	for (i = 0; i < r->npend; i++)
		if (r->pend[i].ud == cqe->user_data)
			break;
	if (i == r->npend) {
		violation(t, "CQE for user_data %llu that is not pending (duplicate or unknown), res %d",
			  (unsigned long long)cqe->user_data, cqe->res);
		return;
	}
	if (r->pend[i].valid_jobs < 0) {
		/* any result */
	} else if (r->pend[i].valid_jobs) {
		/* -EBUSY: over the in-flight cap, nothing was queued */
		if (cqe->res == 0)
			stat_add(ST_URING_JOBS_OK, r->pend[i].valid_jobs);
		if (cqe->res != -EBUSY && !status_ok(cqe->res))
			violation(t, "uring %s of %d job(s) ud %llu ended with %d%s",
				  r->pend[i].batch ? "batch" : "command", r->pend[i].valid_jobs,
				  (unsigned long long)cqe->user_data, cqe->res,
				  r->sqpoll ? " (SQPOLL)" : "");
		if (!r->pend[i].batch && cqe->res != -EBUSY)
			count_status(cqe->res);
	} else if (cqe->res >= 0) {
		violation(t, "bad uring command ud %llu succeeded: %d",
			  (unsigned long long)cqe->user_data, cqe->res);
	}
	free(r->pend[i].buf);
	r->pend[i] = r->pend[--r->npend];
	stat_add(ST_URING_CQES, 1);
	slot_sqes(t, -1);
}

/* Reap what is there; wait for at least @min_wait CQEs (bounded). */
int ring_reap(struct stress_thr *t, int min_wait, unsigned int timeout_ms)
{
	struct stress_ring *r = &t->ring;
	struct io_uring_cqe *cqe;
	int n = 0, ret;

	if (!r->live || !r->owned)
		return 0;
	for (;;) {
		ret = io_uring_peek_cqe(&r->ring, &cqe);
		if (ret && n < min_wait && r->npend) {
			struct __kernel_timespec ts = {
				.tv_sec = timeout_ms / 1000,
				.tv_nsec = (timeout_ms % 1000) * 1000000L,
			};

			io_uring_submit(&r->ring);
			ret = io_uring_wait_cqe_timeout(&r->ring, &cqe, &ts);
		}
		if (ret)
			break;
		ring_complete(t, cqe);
		io_uring_cqe_seen(&r->ring, cqe);
		n++;
	}
	return n;
}

/*
 * How long a drain may take.  While the run goes on, other threads keep
 * the device busy with jobs of higher priority, which always run first:
 * a LOW job may wait for as long as that lasts (by design), so a drain
 * then gives up after 10 s and closes instead.  After the run nothing new
 * comes: every job must end, and a drain that takes longer than 90 s after
 * the run's end is a violation (see drain_failed()).
 */
uint64_t drain_deadline(const struct stress_thr *t)
{
	uint64_t now = now_ms();

	if (now < t->run_deadline)
		return now + 10000;
	return t->run_deadline + 90000 > now + 10000 ? t->run_deadline + 90000 : now + 10000;
}

void ring_close(struct stress_thr *t, int drain)
{
	struct stress_ring *r = &t->ring;
	uint64_t deadline = drain_deadline(t);
	int i, low = 3;

	if (!r->live)
		return;
	if (!r->owned) {
		r->live = 0;
		return;
	}
	while (drain && r->npend && now_ms() < deadline)
		ring_reap(t, r->npend, 1000);
	for (i = 0; i < r->npend; i++)
		low = r->pend[i].prio < low ? r->pend[i].prio : low;
	if (drain && r->npend && now_ms() >= t->run_deadline + 90000)
		violation(t, "%d SQEs without a CQE %llu s after the run (first ud %llu %s, lowest prio %d)",
			  r->npend, (unsigned long long)(now_ms() - t->run_deadline) / 1000,
			  (unsigned long long)r->pend[0].ud, r->pend[0].batch ? "batch" : "single",
			  low);
	io_uring_queue_exit(&r->ring);
	/*
	 * Commands still pending keep running; their payloads may still be
	 * written (batch statuses), so they are not freed.
	 */
	ring_abandon(t);
	r->live = 0;
}
