/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq-stress: seeded random-syscall stress of /dev/nuqN from several
 * processes and threads at once (see Documentation/testing.rst, "Stress").
 *
 * Every thread has its own PRNG derived from (seed, process, thread,
 * generation); every operation and its arguments come from it, so a seed
 * replays the same per-thread sequence (interleavings differ).
 */
#ifndef NUQ_STRESS_H
#define NUQ_STRESS_H

#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <linux/nuq.h>

#include "conv_ref.h"

#define STRESS_MAX_DEVS		4
#define STRESS_MAX_CTX		3	/* open contexts per thread */
#define STRESS_MAX_BO		12	/* loose BOs per context */
#define STRESS_MAX_MAP		16	/* mappings per thread */
#define STRESS_MAX_PEND		NUQ_MAX_BATCH	/* outstanding ioctl jobs per context */
#define STRESS_REAPED		16	/* reaped seqnos remembered per context */
#define STRESS_RING_PEND	64	/* outstanding SQEs per ring */
#define STRESS_CHILDREN		2	/* forked children per thread at once */
#define STRESS_TEMPLATES	3	/* job templates per thread */
#define STRESS_BIG_PEND		16	/* larger jobs pending per context */
#define STRESS_SLOTS		65536	/* shared per-child accounting slots */

struct stress_opts {
	uint64_t seed;
	unsigned int seconds;		/* duration of the random phase */
	unsigned int procs;		/* worker processes */
	unsigned int threads;		/* threads per worker */
	int devs[STRESS_MAX_DEVS];	/* N of /dev/nuqN */
	int ndevs;
	int verbose;
	int no_kill;			/* never SIGKILL a child */
	const char *prefix;		/* before every printed line ("# " under TAP) */
};

/* xoshiro256** */
struct rng {
	uint64_t s[4];
};

void rng_init(struct rng *r, uint64_t seed, uint64_t a, uint64_t b, uint64_t c);
uint64_t rng_next(struct rng *r);
uint32_t rng_below(struct rng *r, uint32_t n);	/* 0..n-1 */
uint32_t rng_range(struct rng *r, uint32_t lo, uint32_t hi);	/* inclusive */
int rng_chance(struct rng *r, uint32_t one_in);	/* 1 with probability 1/one_in */

/* Counters shared by every process of a run (one anonymous shared mapping). */
enum stress_stat {
	ST_IOCTL_SUBMITTED,	/* jobs with a seqno */
	ST_IOCTL_REAPED,	/* WAIT returned 0 for them */
	ST_IOCTL_DROP_CLOSE,	/* context closed while they were unreaped */
	ST_IOCTL_DROP_EXIT,	/* thread or process ended without reaping */
	ST_IOCTL_DROP_KILL,	/* their submitter was SIGKILLed */
	ST_SUBMIT_INFLIGHT,	/* jobs inside a SUBMIT call (left over: killed in it) */
	ST_URING_SQES,		/* SQEs with a user_data we track */
	ST_URING_CQES,		/* CQEs matched to them */
	ST_URING_ABANDONED,	/* SQEs whose ring was closed or task ended unreaped */
	ST_URING_JOBS_OK,	/* valid jobs whose CQE said 0 */
	ST_URING_JOBS_SENT,	/* valid jobs sent by io_uring */
	ST_FORKS,
	ST_KILLS,
	ST_THREAD_EXITS,
	ST_STATUS_0,
	ST_STATUS_TIMEDOUT,
	ST_STATUS_CANCELED,
	ST_STATUS_EIO,
	ST_STATUS_OTHER,
	ST_VIOLATIONS,
	ST_UNEXPECTED,
	ST_COUNT,
};

#define STRESS_MAX_OPS		48

struct stress_shared {
	uint64_t stat[ST_COUNT];
	uint64_t ops[STRESS_MAX_OPS];
	uint64_t next_slot;
	char first_violation[512];
	/* per child: [0] outstanding ioctl jobs, [1] SQEs without a CQE */
	int64_t slot[STRESS_SLOTS][2];
};

extern struct stress_shared *stress_sh;
extern const struct stress_opts *stress_cfg;

static inline void stat_add(enum stress_stat s, int64_t n)
{
	__atomic_fetch_add(&stress_sh->stat[s], (uint64_t)n, __ATOMIC_RELAXED);
}

/* --- per-thread state ---------------------------------------------------- */

struct stress_bo {
	uint32_t handle;
	uint64_t size;
	uint64_t offset;	/* mmap offset */
};

/* A valid job living in BOs of one context. */
struct stress_jobset {
	int live;
	int broken;		/* one of its BOs was freed: submits fail ENOENT */
	int big;		/* the larger template: few of them at a time */
	struct nuq_conv_job job;
	uint32_t handle[NUQ_T_COUNT];
	uint64_t size[NUQ_T_COUNT];
	uint64_t offset[NUQ_T_COUNT];
};

struct stress_ctx {
	int fd;			/* -1: slot free */
	int dev;		/* N of /dev/nuqN */
	int inherited;		/* in a child: the parent's, only look */
	struct stress_bo bo[STRESS_MAX_BO];
	int nbo;
	struct stress_jobset js;
	uint64_t pend[STRESS_MAX_PEND];
	int npend;
	uint64_t reaped[STRESS_REAPED];
	unsigned int nreaped;
	uint64_t max_seq;
	uint32_t cap;		/* max_jobs_in_flight */
	int uring_used;		/* io_uring jobs went to it: they count against cap */
};

struct stress_map {
	void *p;		/* NULL: slot free */
	size_t len;
	int writable;
};

struct ring_pend {
	uint64_t ud;
	int fd;			/* the context's file it was sent to */
	int valid_jobs;		/* valid jobs it carries (0: a bad command, < 0: any result) */
	int batch;		/* 1: a batch command */
	int prio;		/* lowest priority of its jobs */
	void *buf;		/* payload kept until the CQE arrives */
};

struct stress_ring {
	int live;
	int owned;		/* 0 in a child: the parent's ring */
	int sqpoll;		/* SQEs are taken later, by the SQ thread */
	struct io_uring ring;
	uint64_t next_ud;
	struct ring_pend pend[STRESS_RING_PEND];
	int npend;
};

struct stress_child {
	pid_t pid;		/* 0: free */
	int slot;
	int killed;		/* we sent SIGKILL */
	uint64_t kill_at_ms;	/* 0: let it finish */
};

struct stress_thr {
	unsigned int proc, thread, gen;
	int in_child;
	uint64_t run_deadline;	/* end of the random phase (ms) */
	struct rng rng;
	struct stress_ctx ctx[STRESS_MAX_CTX];
	struct stress_map map[STRESS_MAX_MAP];
	struct stress_ring ring;
	struct stress_child child[STRESS_CHILDREN];
	int slot_base;		/* two slots of stress_sh->slot for the children */
	int64_t *my_slot;	/* in a child: its stress_sh->slot[], else NULL */
	struct test_job tmpl[STRESS_TEMPLATES];
	int ntmpl;
	uint64_t nops, forks;
	void *ro_page;		/* a PROT_READ page for EFAULT on write-back */
	char where[64];		/* "p1.t2.g0" for messages */
};

/* stress_ledger.c: job accounting */
void ledger_submitted(struct stress_thr *t, struct stress_ctx *c, const uint64_t *seq, int n);
void ledger_reaped(struct stress_thr *t, struct stress_ctx *c, int idx, int status);
void ledger_drop(struct stress_thr *t, struct stress_ctx *c, enum stress_stat why);
int ledger_was_reaped(const struct stress_ctx *c, uint64_t seq);
void ring_track(struct stress_thr *t, int valid_jobs, int batch, void *buf, uint64_t ud, int fd,
		int prio);
uint64_t drain_deadline(const struct stress_thr *t);
void ring_fd_changed(struct stress_thr *t, int fd);
int ring_reap(struct stress_thr *t, int min_wait, unsigned int timeout_ms);
void ring_close(struct stress_thr *t, int drain);
void ring_abandon(struct stress_thr *t);
void violation(struct stress_thr *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void unexpected(struct stress_thr *t, const char *op, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void count_status(int status);
void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* stress_ops.c: the operation table */
struct stress_op {
	const char *name;
	unsigned int weight;
	int child_ok;
	void (*fn)(struct stress_thr *t);
};

extern const struct stress_op stress_ops[];
extern const unsigned int stress_nops;
void stress_one_op(struct stress_thr *t);
void ctx_close(struct stress_thr *t, struct stress_ctx *c, enum stress_stat why);
int ctx_open(struct stress_thr *t, struct stress_ctx *c);
void thr_setup(struct stress_thr *t);
void thr_teardown(struct stress_thr *t, int drain);
uint64_t now_ms(void);

/* stress_proc.c: children (fork ops), threads, processes */
void child_fork(struct stress_thr *t);
void children_poll(struct stress_thr *t, int finish);
void worker_main(unsigned int proc, uint64_t deadline) __attribute__((noreturn));

/* stress_run.c: a whole run; 0 when every check passed */
int stress_run(const struct stress_opts *o);
int stress_parse(struct stress_opts *o, int argc, char **argv);
void stress_defaults(struct stress_opts *o);
int stress_find_devs(struct stress_opts *o);

#endif
