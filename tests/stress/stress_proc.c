// SPDX-License-Identifier: GPL-2.0
/*
 * nuq-stress: threads and processes - a thread's set-up and tear-down
 * (drained, or ending with jobs pending), forked children (exit at once,
 * exit with jobs in flight, a few random operations, or SIGKILL mid-work),
 * and the worker processes with their threads.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress_submit.h"

/* Job templates: one larger (a few M MACs), the rest small, all valid. */
static void make_templates(struct stress_thr *t)
{
	static const uint32_t fmts[][2] = {
		{ NUQ_WFMT_INT8, 8 }, { NUQ_WFMT_ASD, 0 }, { NUQ_WFMT_CODEBOOK, 4 },
		{ NUQ_WFMT_CODEBOOK, 2 }, { NUQ_WFMT_CODEBOOK, 8 },
	};
	int i;

	for (i = 0; i < STRESS_TEMPLATES; i++) {
		struct test_rng r = { rng_next(&t->rng) };
		const uint32_t *f = fmts[rng_below(&t->rng, 5)];
		struct test_shape s = {
			.batch = 1, .in_h = 8, .in_w = 8, .in_c = 8, .out_c = 8, .kh = 3, .kw = 3,
			.sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pb = 1, .pl = 1, .pr = 1,
			.groups = 1, .wfmt = f[0], .bits = f[1],
			.in_fmt = rng_below(&t->rng, 2), .out_fmt = rng_below(&t->rng, 2),
		};

		if (i == 0) {
			s.in_h = s.in_w = 24;
			s.in_c = s.out_c = 32;
		} else {
			s.in_h = rng_range(&t->rng, 3, 12);
			s.in_w = rng_range(&t->rng, 3, 12);
			s.in_c = rng_range(&t->rng, 1, 12);
			s.out_c = rng_range(&t->rng, 1, 12);
			if (rng_chance(&t->rng, 3))
				s.flags |= NUQ_JOB_F_RESIDUAL;
		}
		if (test_job_make(&t->tmpl[t->ntmpl], &s, &r) == 0)
			t->ntmpl++;
	}
}

void thr_setup(struct stress_thr *t)
{
	int i;

	snprintf(t->where, sizeof(t->where), "p%u.t%u.g%u", t->proc, t->thread, t->gen);
	for (i = 0; i < STRESS_MAX_CTX; i++)
		t->ctx[i].fd = -1;
	t->ro_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t->slot_base = __atomic_fetch_add(&stress_sh->next_slot, STRESS_CHILDREN,
					  __ATOMIC_RELAXED);
	make_templates(t);
	ctx_open(t, &t->ctx[0]);
	if (rng_chance(&t->rng, 2))
		ctx_open(t, &t->ctx[1]);
}

/*
 * @drain: reap every job and CQE (they must all come), then close.
 * Otherwise end with whatever is pending: contexts closed or left open
 * for process exit, the ring left to the task's exit.
 */
void thr_teardown(struct stress_thr *t, int drain)
{
	uint64_t deadline = drain_deadline(t);
	int i, close_ctx = drain || rng_chance(&t->rng, 2);

	children_poll(t, 1);
	if (drain) {
		ring_close(t, 1);
		for (i = 0; i < STRESS_MAX_CTX; i++) {
			struct stress_ctx *c = &t->ctx[i];

			if (c->fd >= 0 && !c->inherited && ctx_drain(t, c, deadline) &&
			    now_ms() >= t->run_deadline + 90000)
				violation(t, "%d jobs of nuq%d not completed %llu s after the run (first %llu)",
					  c->npend, c->dev,
					  (unsigned long long)(now_ms() - t->run_deadline) / 1000,
					  (unsigned long long)c->pend[0]);
		}
	} else if (t->ring.live && t->ring.owned) {
		/* the ring stays open; the task's exit ends its commands */
		ring_abandon(t);
	}
	for (i = 0; i < STRESS_MAX_CTX; i++) {
		if (t->ctx[i].fd < 0)
			continue;
		if (close_ctx)
			ctx_close(t, &t->ctx[i], ST_IOCTL_DROP_CLOSE);
		else if (!t->ctx[i].inherited)
			ledger_drop(t, &t->ctx[i], ST_IOCTL_DROP_EXIT);	/* fd left to exit */
	}
	if (drain)
		for (i = 0; i < STRESS_MAX_MAP; i++)
			if (t->map[i].p)
				munmap(t->map[i].p, t->map[i].len);
	for (i = 0; i < t->ntmpl; i++)
		test_job_free(&t->tmpl[i]);
	t->ntmpl = 0;
}

/* --- children ------------------------------------------------------------ */

enum { CHILD_EXIT, CHILD_INFLIGHT, CHILD_OPS, CHILD_PROBE, CHILD_MODES };

static void probe_maps(struct stress_thr *t)
{
	size_t off;
	int i;

	/* Every page of every mapping; a grown mapping would SIGBUS here. */
	for (i = 0; i < STRESS_MAX_MAP; i++)
		for (off = 0; t->map[i].p && off < t->map[i].len; off += 4096)
			(void)*(volatile uint8_t *)((uint8_t *)t->map[i].p + off);
}

static void __attribute__((noreturn)) child_main(struct stress_thr *t, int mode, int slot)
{
	uint64_t deadline = now_ms() + 2000;

	/* its drains count as mid-run ones: the parent kills it after 15 s */
	t->run_deadline = ~0ULL / 2;
	unsigned int i, n;

	t->in_child = 1;
	rng_init(&t->rng, stress_cfg->seed ^ 0xc41d, t->proc, (uint64_t)t->thread << 32 | t->gen,
		 t->forks);
	snprintf(t->where, sizeof(t->where), "p%u.t%u.g%u.c%llu", t->proc, t->thread, t->gen,
		 (unsigned long long)t->forks);
	t->my_slot = stress_sh->slot[slot];
	/* The parent's contexts and ring stay the parent's: only look at them. */
	for (i = 0; i < STRESS_MAX_CTX; i++) {
		if (t->ctx[i].fd < 0)
			continue;
		t->ctx[i].inherited = 1;
		t->ctx[i].npend = 0;
		t->ctx[i].nreaped = 0;
	}
	/* the parent's ring is left alone (a new one is made if needed) */
	t->ring.live = 0;
	t->ring.owned = 0;
	t->ring.npend = 0;
	memset(t->child, 0, sizeof(t->child));
	switch (mode) {
	case CHILD_EXIT:
		_exit(0);
	case CHILD_PROBE:
		probe_maps(t);
		_exit(0);
	case CHILD_INFLIGHT:
		/* own context, jobs in flight, exit without a wait */
		for (i = 0; i < STRESS_MAX_CTX && t->ctx[i].fd >= 0; i++)
			;
		if (i == STRESS_MAX_CTX)
			_exit(0);
		if (ctx_open(t, &t->ctx[i]) == 0) {
			n = rng_range(&t->rng, 1, 6);
			while (n--) {
				if (rng_chance(&t->rng, 3))
					op_uring_batch(t);
				else
					op_submit(t);
			}
		}
		for (i = 0; i < STRESS_MAX_CTX; i++)
			if (t->ctx[i].fd >= 0 && !t->ctx[i].inherited)
				ledger_drop(t, &t->ctx[i], ST_IOCTL_DROP_EXIT);
		if (t->ring.live && t->ring.owned)
			ring_abandon(t);
		_exit(0);
	default:
		n = rng_range(&t->rng, 5, 60);
		for (i = 0; i < STRESS_MAX_CTX; i++)
			if (t->ctx[i].fd < 0)
				break;
		if (i < STRESS_MAX_CTX && rng_chance(&t->rng, 2))
			ctx_open(t, &t->ctx[i]);
		while (n-- && now_ms() < deadline)
			stress_one_op(t);
		thr_teardown(t, rng_below(&t->rng, 3) != 0);
		_exit(0);
	}
}

void child_fork(struct stress_thr *t)
{
	struct stress_child *ch = NULL;
	int i, mode, slot;
	pid_t pid;

	children_poll(t, 0);
	for (i = 0; i < STRESS_CHILDREN; i++)
		if (!t->child[i].pid)
			ch = &t->child[i];
	if (!ch)
		return;
	slot = t->slot_base + (int)(ch - t->child);
	if (slot >= STRESS_SLOTS)
		return;
	mode = rng_below(&t->rng, CHILD_MODES);
	stress_sh->slot[slot][0] = 0;
	stress_sh->slot[slot][1] = 0;
	t->forks++;
	pid = fork();
	if (pid < 0) {
		if (errno != EAGAIN && errno != ENOMEM)
			unexpected(t, "fork", "%s", strerror(errno));
		return;
	}
	if (pid == 0) {
		/* the open context in CHILD_INFLIGHT may take the last slot */
		if (mode == CHILD_INFLIGHT && t->ctx[STRESS_MAX_CTX - 1].fd >= 0)
			mode = CHILD_OPS;
		child_main(t, mode, slot);
	}
	stat_add(ST_FORKS, 1);
	ch->pid = pid;
	ch->slot = slot;
	ch->kill_at_ms = 0;
	ch->killed = 0;
	if (!stress_cfg->no_kill && mode != CHILD_EXIT && rng_chance(&t->rng, 3))
		ch->kill_at_ms = now_ms() + rng_below(&t->rng, 60);
}

static void child_reaped(struct stress_thr *t, struct stress_child *ch, int status)
{
	int64_t left = __atomic_exchange_n(&stress_sh->slot[ch->slot][0], 0, __ATOMIC_SEQ_CST);
	int64_t sqes = __atomic_exchange_n(&stress_sh->slot[ch->slot][1], 0, __ATOMIC_SEQ_CST);

	/* a killed child's SQEs have no CQE we can see */
	stat_add(ST_URING_ABANDONED, sqes);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && ch->killed) {
		stat_add(ST_KILLS, 1);
		stat_add(ST_IOCTL_DROP_KILL, left);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		violation(t, "child %d ended with status %#x", ch->pid, status);
		stat_add(ST_IOCTL_DROP_KILL, left);
	} else if (left) {
		violation(t, "child %d exited with %lld jobs unaccounted", ch->pid, (long long)left);
		stat_add(ST_IOCTL_DROP_KILL, left);
	}
	ch->pid = 0;
}

/* Kill the children that are due, reap the finished; @finish: all of them. */
void children_poll(struct stress_thr *t, int finish)
{
	int i, status;

	for (i = 0; i < STRESS_CHILDREN; i++) {
		struct stress_child *ch = &t->child[i];
		uint64_t give_up = now_ms() + 15000;
		pid_t r;

		if (!ch->pid)
			continue;
		if (ch->kill_at_ms && (finish || now_ms() >= ch->kill_at_ms) && !ch->killed) {
			kill(ch->pid, SIGKILL);
			ch->killed = 1;
		}
		for (;;) {
			r = waitpid(ch->pid, &status, WNOHANG);
			if (r == ch->pid) {
				child_reaped(t, ch, status);
				break;
			}
			if (r < 0 && errno != EINTR) {
				violation(t, "waitpid %d: %s", ch->pid, strerror(errno));
				ch->pid = 0;
				break;
			}
			if (!finish)
				break;
			/* a child in a long drain (see drain_deadline()) is killed */
			if (now_ms() > give_up && !ch->killed) {
				kill(ch->pid, SIGKILL);
				ch->killed = 1;
			}
			usleep(2000);
		}
	}
}

/* --- threads and worker processes ----------------------------------------- */

struct thr_arg {
	unsigned int proc, thread;
	uint64_t deadline;
	uint64_t ops;
};

static void *thread_main(void *p)
{
	struct thr_arg *a = p;
	unsigned int gen;

	for (gen = 0; now_ms() < a->deadline; gen++) {
		struct stress_thr *t = calloc(1, sizeof(*t));
		int early = 0, quit = 0;

		if (!t)
			break;
		t->proc = a->proc;
		t->thread = a->thread;
		t->gen = gen;
		t->run_deadline = a->deadline;
		rng_init(&t->rng, stress_cfg->seed, a->proc, a->thread, gen);
		thr_setup(t);
		while (now_ms() < a->deadline) {
			stress_one_op(t);
			children_poll(t, 0);
			/* now and then this "thread" ends mid-work and another starts */
			if (rng_chance(&t->rng, 1500)) {
				early = 1;
				break;
			}
		}
		a->ops += t->nops;
		if (early)
			stat_add(ST_THREAD_EXITS, 1);
		/* at the end, mostly drained; the last generation sometimes leaves jobs to exit */
		thr_teardown(t, early ? rng_chance(&t->rng, 3) : !rng_chance(&t->rng, 5));
		/* or a real thread exit with whatever it left behind */
		quit = early && rng_chance(&t->rng, 2);
		free(t);
		if (quit)
			break;
	}
	return NULL;
}

void worker_main(unsigned int proc, uint64_t deadline)
{
	pthread_t th[16];
	struct thr_arg a[16];
	unsigned int i, n = stress_cfg->threads < 16 ? stress_cfg->threads : 16;
	unsigned int alive;

	for (i = 0; i < n; i++) {
		a[i].proc = proc;
		a[i].thread = i;
		a[i].deadline = deadline;
		a[i].ops = 0;
	}
	/*
	 * A thread that ends early is replaced by a new one (next index
	 * range) until the deadline.
	 */
	alive = 0;
	for (i = 0; i < n; i++)
		if (!pthread_create(&th[i], NULL, thread_main, &a[i]))
			alive |= 1u << i;
	while (alive) {
		for (i = 0; i < n; i++) {
			if (!(alive & (1u << i)))
				continue;
			if (pthread_tryjoin_np(th[i], NULL))
				continue;
			alive &= ~(1u << i);
			if (now_ms() < deadline) {
				a[i].thread += n;
				if (!pthread_create(&th[i], NULL, thread_main, &a[i]))
					alive |= 1u << i;
			}
		}
		usleep(10000);
	}
	_exit(0);
}
