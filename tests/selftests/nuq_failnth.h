/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's systematic fault injection (Documentation/fault-injection/
 * fault-injection.rst), as syzkaller drives it: writing N to
 * /proc/thread-self/fail-nth makes the N-th fault point the calling thread
 * reaches (a slab or page allocation here) fail.  Reading it back after the
 * call gives 0 if that happened, what was left of N otherwise.
 *
 * failslab and fail_page_alloc skip allocations that may sleep (GFP_KERNEL)
 * and page allocations below order 1 or from highmem (vmalloc's pages) by
 * default; the knobs below open all of them to injection.  Their
 * probability stays 0, so no other task sees a failure.
 */
#ifndef NUQ_FAILNTH_H
#define NUQ_FAILNTH_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FAILNTH_PATH	"/proc/thread-self/fail-nth"

struct failnth_knob {
	const char *path;
	const char *value;	/* what the tests need */
	char saved[32];		/* what was there, restored at the end */
};

#define FAILNTH_DBG	"/sys/kernel/debug/"
#define FAILNTH_KNOBS {							\
	{ .path = FAILNTH_DBG "failslab/ignore-gfp-wait", .value = "N" },		\
	{ .path = FAILNTH_DBG "failslab/verbose", .value = "0" },			\
	{ .path = FAILNTH_DBG "fail_page_alloc/ignore-gfp-wait", .value = "N" },		\
	{ .path = FAILNTH_DBG "fail_page_alloc/ignore-gfp-highmem", .value = "N" },	\
	{ .path = FAILNTH_DBG "fail_page_alloc/min-order", .value = "0" },		\
	{ .path = FAILNTH_DBG "fail_page_alloc/verbose", .value = "0" },			\
}
#define FAILNTH_NR_KNOBS 6

struct failnth {
	int fd;				/* /proc/thread-self/fail-nth */
	struct failnth_knob knob[FAILNTH_NR_KNOBS];
	int nr_saved;
};

/* The first line of @path, without its newline; 0 or -errno. */
static inline int failnth_read(const char *path, char *out, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, out, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	out[n] = 0;
	out[strcspn(out, "\n")] = 0;
	return 0;
}

static inline int failnth_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Why the kernel cannot inject (a message for SKIP), or NULL when it can.
 * The production kernel has no CONFIG_FAULT_INJECTION.
 */
static inline const char *failnth_unsupported(void)
{
	if (access(FAILNTH_PATH, W_OK))
		return "no " FAILNTH_PATH ": the kernel has no CONFIG_FAULT_INJECTION (use KERNEL=debug)";
	if (access(FAILNTH_DBG "failslab/ignore-gfp-wait", W_OK) ||
	    access(FAILNTH_DBG "fail_page_alloc/ignore-gfp-wait", W_OK))
		return "no failslab/fail_page_alloc in debugfs: CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAULT_INJECTION_DEBUG_FS are needed";
	return NULL;
}

/* Open every allocation to injection; 0 or -errno (then nothing is left changed). */
static inline int failnth_enable(struct failnth *f)
{
	const struct failnth_knob knobs[FAILNTH_NR_KNOBS] = FAILNTH_KNOBS;
	int i, ret;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	memcpy(f->knob, knobs, sizeof(knobs));
	for (i = 0; i < FAILNTH_NR_KNOBS; i++) {
		struct failnth_knob *k = &f->knob[i];

		ret = failnth_read(k->path, k->saved, sizeof(k->saved));
		if (!ret)
			ret = failnth_write(k->path, k->value);
		if (ret)
			return ret;
		f->nr_saved = i + 1;
	}
	f->fd = open(FAILNTH_PATH, O_RDWR | O_CLOEXEC);
	return f->fd < 0 ? -errno : 0;
}

static inline void failnth_restore(struct failnth *f)
{
	int i;

	if (f->fd >= 0) {
		if (write(f->fd, "0", 1) < 0)
			perror("fail-nth");
		close(f->fd);
	}
	f->fd = -1;
	for (i = 0; i < f->nr_saved; i++)
		failnth_write(f->knob[i].path, f->knob[i].saved);
	f->nr_saved = 0;
}

/*
 * Arm: the @n-th fault point from now on fails.  The fd stays open, and
 * neither this nor failnth_fired() allocates, so the window holds only the
 * call under test (its user buffers must already be touched: a page fault
 * is a fault point too).
 */
static inline int failnth_arm(struct failnth *f, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(f->fd, buf, len, 0) == len ? 0 : -errno;
}

/*
 * Whether the armed fault was injected; disarms either way.  Returns 1 or 0,
 * or -errno if fail-nth could not be read.
 */
static inline int failnth_fired(struct failnth *f)
{
	char buf[16] = "";
	ssize_t n = pread(f->fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	if (pwrite(f->fd, "0", 1, 0) != 1)
		return -errno;
	return buf[0] == '0' && (buf[1] == '\n' || !buf[1]);
}

#endif
