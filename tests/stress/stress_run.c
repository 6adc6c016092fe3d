// SPDX-License-Identifier: GPL-2.0
/*
 * nuq-stress: one run - options, the worker processes, and the checks
 * afterwards: every job and SQE accounted exactly once, the devices idle
 * with all counters back to zero and adding up, no new kernel report.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress.h"

static const char *const dev_stats[] = {
	"jobs_submitted", "jobs_completed", "jobs_failed", "jobs_timed_out", "jobs_cancelled",
	"queue_depth", "jobs_running", "contexts", "bo_bytes",
};
#define NSTATS (sizeof(dev_stats) / sizeof(dev_stats[0]))
enum { K_SUB, K_DONE, K_FAIL, K_TIMEDOUT, K_CANCEL, K_QUEUE, K_RUN, K_CTX, K_BO };

static long long dev_stat(int dev, const char *name)
{
	char path[128], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/nuq/nuq%d/%s", dev, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoll(buf, NULL, 0);
}

static void dev_stats_read(int dev, long long *v)
{
	unsigned int i;

	for (i = 0; i < NSTATS; i++)
		v[i] = dev_stat(dev, dev_stats[i]);
}

static const char *const klog_reports[] = {
	"BUG:", "WARNING:", "Oops", "INFO: task", "soft lockup", "hard LOCKUP", "rcu: INFO",
	"self-detected stall", "general protection", "Call Trace", "KASAN", "UBSAN",
	"KFENCE", "kmemleak", "possible circular locking", "sleeping function called",
};

/* Kernel report lines in the log; with @print_from >= 0 print those after it. */
static int klog_scan(int print_from)
{
	int size = klogctl(10, NULL, 0), n, i, found = 0;
	char *buf, *line, *save;

	if (size <= 0)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	n = klogctl(3, buf, size);
	if (n < 0)
		n = 0;
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		for (i = 0; i < (int)(sizeof(klog_reports) / sizeof(klog_reports[0])); i++)
			if (strstr(line, klog_reports[i]))
				break;
		if (i == (int)(sizeof(klog_reports) / sizeof(klog_reports[0])))
			continue;
		if (print_from >= 0 && found >= print_from)
			out("stress: kernel: %s", line);
		found++;
	}
	free(buf);
	return found;
}

/* Print the kernel stacks of a hung process's threads (for the report). */
static void dump_stacks(pid_t pid)
{
	char path[96], line[256];
	int tid;

	for (tid = pid; tid < pid + 64; tid++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", pid, tid);
		f = fopen(path, "r");
		if (!f)
			continue;
		out("stress: stack of %d/%d:", pid, tid);
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			out("stress:   %s", line);
		}
		fclose(f);
	}
}

static const char *const stat_names[ST_COUNT] = {
	"ioctl_submitted", "ioctl_reaped", "ioctl_dropped_by_close", "ioctl_dropped_by_exit",
	"ioctl_dropped_by_kill", "submit_inflight_left", "uring_sqes", "uring_cqes",
	"uring_abandoned", "uring_jobs_ok", "uring_jobs_sent", "forks", "kills",
	"thread_exits", "status_ok", "status_timedout", "status_canceled", "status_eio",
	"status_other", "violations", "unexpected",
};

static int check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int check(int ok, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ok)
		out("stress: ok   %s", msg);
	else
		violation(NULL, "%s", msg);
	return ok;
}

int stress_run(const struct stress_opts *o)
{
	long long before[STRESS_MAX_DEVS][NSTATS], after[STRESS_MAX_DEVS][NSTATS];
	uint64_t *s, start, deadline, hard, next_mon, sum_sub = 0, elapsed, total = 0;
	pid_t pids[64];
	unsigned int i, np = o->procs < 64 ? o->procs : 64, left;
	int d, klog0, k, idle;
	char devs[64] = "";

	stress_cfg = o;
	stress_sh = mmap(NULL, sizeof(*stress_sh), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (stress_sh == MAP_FAILED) {
		out("stress: no shared memory: %s", strerror(errno));
		return 1;
	}
	s = stress_sh->stat;
	for (d = 0; d < o->ndevs; d++) {
		dev_stats_read(o->devs[d], before[d]);
		snprintf(devs + strlen(devs), sizeof(devs) - strlen(devs), "%s%d", d ? "," : "",
			 o->devs[d]);
	}
	klog0 = klog_scan(-1);
	out("stress: seed %#llx, %u s, %u processes x %u threads, devices %s",
	    (unsigned long long)o->seed, o->seconds, np, o->threads, devs);
	out("stress: replay: nuq-stress --seed %#llx --seconds %u --procs %u --threads %u --devices %s%s",
	    (unsigned long long)o->seed, o->seconds, np, o->threads, devs,
	    o->no_kill ? " --no-kill" : "");

	start = now_ms();
	deadline = start + o->seconds * 1000ULL;
	for (i = 0; i < np; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			worker_main(i, deadline);
		if (pids[i] < 0)
			violation(NULL, "fork of worker %u: %s", i, strerror(errno));
	}
	/* Drains may take 60 s, children 30 s more. */
	hard = deadline + 150000;
	next_mon = start + 15000;
	for (left = np; left;) {
		/* every 15 s: how much work the devices hold (a backlog explains long drains) */
		if (now_ms() >= next_mon) {
			next_mon += 15000;
			for (d = 0; d < o->ndevs; d++)
				out("stress: t+%llus nuq%d: queue_depth %lld jobs_running %lld contexts %lld",
				    (unsigned long long)(now_ms() - start) / 1000, o->devs[d],
				    dev_stat(o->devs[d], "queue_depth"),
				    dev_stat(o->devs[d], "jobs_running"), dev_stat(o->devs[d], "contexts"));
		}
		left = 0;
		for (i = 0; i < np; i++) {
			int status;

			if (pids[i] <= 0)
				continue;
			if (waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				if (!WIFEXITED(status) || WEXITSTATUS(status))
					violation(NULL, "worker %u ended with status %#x", i, status);
				pids[i] = 0;
				continue;
			}
			left++;
			if (now_ms() > hard) {
				violation(NULL, "worker %u (pid %d) HUNG %llu s after the deadline",
					  i, pids[i], (unsigned long long)(now_ms() - deadline) / 1000);
				dump_stacks(pids[i]);
				kill(pids[i], SIGKILL);
			}
		}
		if (left)
			usleep(20000);
	}
	elapsed = now_ms() - start;
	/* Orphaned grandchildren (their parent was a killed child) are reaped by init. */

	/* The devices go idle once closed rings' commands have finished. */
	for (k = 0; k < 300; k++) {
		idle = 1;
		for (d = 0; d < o->ndevs; d++) {
			dev_stats_read(o->devs[d], after[d]);
			if (after[d][K_QUEUE] || after[d][K_RUN] || after[d][K_CTX] || after[d][K_BO])
				idle = 0;
		}
		if (idle)
			break;
		usleep(100000);
	}

	for (i = 0; i < stress_nops; i++)
		total += stress_sh->ops[i];
	out("stress: %llu operations in %.1f s: %.0f ops/s", (unsigned long long)total,
	    elapsed / 1000.0, elapsed ? total * 1000.0 / elapsed : 0.0);
	for (i = 0; i < stress_nops; i += 4) {
		char line[256] = "";
		unsigned int j;

		for (j = i; j < i + 4 && j < stress_nops; j++)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " %16s %-8llu",
				 stress_ops[j].name, (unsigned long long)stress_sh->ops[j]);
		out("stress: ops%s", line);
	}
	for (i = 0; i < ST_COUNT; i += 3) {
		char line[256] = "";
		unsigned int j;

		for (j = i; j < i + 3 && j < ST_COUNT; j++)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s=%llu",
				 stat_names[j], (unsigned long long)s[j]);
		out("stress: stats%s", line);
	}

	/* Our side: each job and SQE exactly once. */
	check(s[ST_IOCTL_SUBMITTED] == s[ST_IOCTL_REAPED] + s[ST_IOCTL_DROP_CLOSE] +
	      s[ST_IOCTL_DROP_EXIT] + s[ST_IOCTL_DROP_KILL],
	      "ioctl jobs: %llu submitted = %llu reaped + %llu dropped by close + %llu by exit + %llu by kill",
	      (unsigned long long)s[ST_IOCTL_SUBMITTED], (unsigned long long)s[ST_IOCTL_REAPED],
	      (unsigned long long)s[ST_IOCTL_DROP_CLOSE], (unsigned long long)s[ST_IOCTL_DROP_EXIT],
	      (unsigned long long)s[ST_IOCTL_DROP_KILL]);
	check(s[ST_URING_SQES] == s[ST_URING_CQES] + s[ST_URING_ABANDONED],
	      "io_uring: %llu SQEs = %llu CQEs + %llu abandoned (ring closed or task gone)",
	      (unsigned long long)s[ST_URING_SQES], (unsigned long long)s[ST_URING_CQES],
	      (unsigned long long)s[ST_URING_ABANDONED]);

	/* The kernel's side. */
	for (d = 0; d < o->ndevs; d++) {
		long long *a = after[d], *b = before[d];

		check(!a[K_QUEUE] && !a[K_RUN] && !a[K_CTX] && !a[K_BO],
		      "nuq%d idle: queue_depth %lld jobs_running %lld contexts %lld bo_bytes %lld",
		      o->devs[d], a[K_QUEUE], a[K_RUN], a[K_CTX], a[K_BO]);
		check(a[K_SUB] == a[K_DONE] + a[K_FAIL] + a[K_TIMEDOUT] + a[K_CANCEL],
		      "nuq%d: submitted %lld = completed %lld + failed %lld + timed_out %lld + cancelled %lld",
		      o->devs[d], a[K_SUB], a[K_DONE], a[K_FAIL], a[K_TIMEDOUT], a[K_CANCEL]);
		out("stress: nuq%d this run: submitted %lld completed %lld failed %lld timed_out %lld cancelled %lld",
		    o->devs[d], a[K_SUB] - b[K_SUB], a[K_DONE] - b[K_DONE], a[K_FAIL] - b[K_FAIL],
		    a[K_TIMEDOUT] - b[K_TIMEDOUT], a[K_CANCEL] - b[K_CANCEL]);
		sum_sub += a[K_SUB] - b[K_SUB];
	}
	{
		uint64_t lo = s[ST_IOCTL_SUBMITTED] + s[ST_URING_JOBS_OK];
		uint64_t hi = s[ST_IOCTL_SUBMITTED] + s[ST_SUBMIT_INFLIGHT] + s[ST_URING_JOBS_SENT];

		check(sum_sub >= lo && sum_sub <= hi,
		      "kernel counted %llu jobs submitted; ours: at least %llu, at most %llu",
		      (unsigned long long)sum_sub, (unsigned long long)lo, (unsigned long long)hi);
	}
	k = klog_scan(-1);
	if (k != klog0) {
		klog_scan(klog0);
		check(0, "kernel log: %d new report line(s)", k - klog0);
	}
	if (s[ST_VIOLATIONS] || s[ST_UNEXPECTED]) {
		out("stress: FAILED: %llu violation(s), %llu unexpected result(s); first: %s",
		    (unsigned long long)s[ST_VIOLATIONS], (unsigned long long)s[ST_UNEXPECTED],
		    stress_sh->first_violation + 1);
		out("stress: FAILED seed %#llx", (unsigned long long)o->seed);
		return 1;
	}
	out("stress: passed seed %#llx", (unsigned long long)o->seed);
	return 0;
}

/* --- options ------------------------------------------------------------------ */

static unsigned long long env_num(const char *name, unsigned long long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

static int parse_devs(struct stress_opts *o, const char *list)
{
	char *copy = strdup(list), *tok, *save;

	o->ndevs = 0;
	for (tok = strtok_r(copy, ",", &save); tok && o->ndevs < STRESS_MAX_DEVS;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "/dev/nuq", 8))
			tok += 8;
		o->devs[o->ndevs++] = atoi(tok);
	}
	free(copy);
	return o->ndevs ? 0 : -1;
}

void stress_defaults(struct stress_opts *o)
{
	const char *devs = getenv("STRESS_DEVICES");

	memset(o, 0, sizeof(*o));
	o->seed = env_num("STRESS_SEED", 0);
	if (!o->seed)
		o->seed = ((uint64_t)getpid() << 32) ^ now_ms() ^ 0x5eed;
	o->seconds = env_num("STRESS_SECONDS", 20);
	o->procs = env_num("STRESS_PROCS", 3);
	o->threads = env_num("STRESS_THREADS", 3);
	o->no_kill = env_num("STRESS_NO_KILL", 0);
	o->prefix = "";
	if (devs && *devs)
		parse_devs(o, devs);
}

/* /dev/nuq0 and the first NPU device, when no device was named. */
int stress_find_devs(struct stress_opts *o)
{
	int i, fd;

	if (o->ndevs)
		return 0;
	for (i = 0; i < 16 && o->ndevs < 2; i++) {
		struct nuq_info in;
		char path[32];

		snprintf(path, sizeof(path), "/dev/nuq%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&in, 0, sizeof(in));
		if (!ioctl(fd, NUQ_IOCTL_GET_INFO, &in) &&
		    (i == 0 || (in.backend == NUQ_BACKEND_NPU && o->ndevs < 2)))
			o->devs[o->ndevs++] = i;
		close(fd);
	}
	return o->ndevs ? 0 : -1;
}

int stress_parse(struct stress_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 'd' },
		{ "procs", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "devices", required_argument, NULL, 'D' },
		{ "no-kill", no_argument, NULL, 'K' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:d:p:t:D:Kv", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->seed = strtoull(optarg, NULL, 0);
			break;
		case 'd':
			o->seconds = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			o->procs = strtoul(optarg, NULL, 0);
			break;
		case 't':
			o->threads = strtoul(optarg, NULL, 0);
			break;
		case 'D':
			if (parse_devs(o, optarg))
				return -1;
			break;
		case 'K':
			o->no_kill = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		default:
			return -1;
		}
	}
	if (!o->procs || !o->threads || o->threads > 16 || o->procs > 64)
		return -1;
	return optind == argc ? 0 : -1;
}
