// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: isolation, permissions and limits (issue 14), the claims
 * of Documentation/security.rst.
 *
 *  - a context never reaches another's BOs: not by handle, mmap offset or
 *    job tensor reference, across fork (the inherited file is the same
 *    context, a child's own open is another) and across files; mappings
 *    cannot outgrow their BO or be private; a freed handle is dead
 *    everywhere while an existing mapping keeps the old memory, also when
 *    the handle number is reused;
 *  - values near 2^32 and 2^64 in every field of every UAPI struct are
 *    refused with the documented errno and NUQ_JOB_E_* code, never wrapped
 *    (one table, over ioctl and io_uring);
 *  - realtime priority, sysfs reset and the root-only knobs, as root, as
 *    root without capabilities and as an unprivileged user;
 *  - quotas, the in-flight cap and max_contexts hit and recovered from;
 *    a context flooding the device with large jobs does not starve
 *    another of the same priority (latency measured and bounded).
 *
 * Device-independent tests run on /dev/nuq0 and on the NPU (variant npu,
 * skipped without one).
 */
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <nuq/conv.h>

#include "nuq_harness.h"
#include "nuq_npu.h"

#define PARAM(name)	"/sys/module/nuq/parameters/" name
#define U32MAX		0xffffffffULL
#define U64MAX		0xffffffffffffffffULL

FIXTURE(dev) {
	int idx;		/* N of /dev/nuqN */
	char path[32];
	struct nuq_info info;
};

FIXTURE_VARIANT(dev) {
	int npu;
};

FIXTURE_VARIANT_ADD(dev, sw) {
	.npu = 0,
};

FIXTURE_VARIANT_ADD(dev, npu) {
	.npu = 1,
};

FIXTURE_SETUP(dev)
{
	int fd;

	self->idx = variant->npu ? npu_find() : 0;
	if (self->idx < 0)
		SKIP(return, "no NPU in this VM");
	snprintf(self->path, sizeof(self->path), "/dev/nuq%d", self->idx);
	fd = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0) TH_LOG("%s: %s", self->path, strerror(errno));
	ASSERT_EQ(0, nuq_get_info(fd, &self->info));
	close(fd);
}

FIXTURE_TEARDOWN(dev)
{
}

static int dopen(FIXTURE_DATA(dev) *self)
{
	return open(self->path, O_RDWR | O_CLOEXEC);
}

static long long dstat(FIXTURE_DATA(dev) *self, const char *name)
{
	return dev_stat(self->idx, name);
}

/* A small int8 job uploaded into BOs of @fd. */
struct up {
	struct test_job tj;
	struct dev_job dj;
};

static int up_make(int fd, struct up *u, uint64_t seed)
{
	memset(u, 0, sizeof(*u));
	if (small_job(&u->tj, NUQ_WFMT_INT8, 8, seed))
		return -1;
	return dev_job_upload(fd, &u->tj, &u->dj);
}

static void up_free(int fd, struct up *u)
{
	dev_job_release(fd, &u->dj);
	test_job_free(&u->tj);
}

/* The CPU core's output for @u's job (its own buffers, not the BOs). */
static int up_expect(struct up *u)
{
	int err;

	return nuq_conv_run_cpu(&u->tj.job, (void *const *)u->tj.buf, u->tj.size, &err);
}

/* Submit @job on @fd and wait: the job's status or the submit's -errno. */
static int run_job(int fd, const struct nuq_conv_job *job)
{
	uint64_t seq;
	int ret = submit(fd, job, 1, &seq, NULL);

	return ret ? ret : wait_job(fd, seq, -1);
}

static int map_at(int fd, uint64_t off, size_t len, int flags, void **p)
{
	*p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, (off_t)off);
	return *p == MAP_FAILED ? -errno : 0;
}

/*
 * Two contexts get the same handle numbers (and so the same mmap offsets)
 * for their own BOs; each number names the context's own memory, in
 * BO_INFO, mmap and jobs, even with both contexts' jobs on the device at
 * once.  A handle only the other context has resolves nowhere.
 */
TEST_F(dev, same_handle_numbers_name_different_memory)
{
	int a = dopen(self), b = dopen(self), i;
	struct nuq_bo_info bi = { 0 };
	struct nuq_submit out;
	struct up ua, ub;
	uint64_t sa, sb;
	uint32_t extra = 0;
	uint8_t *p;
	void *q;

	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	ASSERT_EQ(0, up_make(a, &ua, 1));
	ASSERT_EQ(0, up_make(b, &ub, 2));
	for (i = 0; i < NUQ_T_COUNT; i++)
		EXPECT_EQ(ua.dj.handle[i], ub.dj.handle[i]) TH_LOG("slot %d", i);
	memset(ua.dj.map[NUQ_T_OUTPUT], 0x5a, ua.tj.size[NUQ_T_OUTPUT]);
	memset(ub.dj.map[NUQ_T_OUTPUT], 0xa5, ub.tj.size[NUQ_T_OUTPUT]);

	/* B's mapping at the common offset is B's memory */
	bi.handle = ub.dj.handle[NUQ_T_INPUT];
	ASSERT_EQ(0, ioctl(b, NUQ_IOCTL_BO_INFO, &bi));
	p = mmap(NULL, bi.size, PROT_READ, MAP_SHARED, b, bi.mmap_offset);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, memcmp(p, ub.tj.buf[NUQ_T_INPUT], ub.tj.size[NUQ_T_INPUT]));
	EXPECT_NE(0, memcmp(p, ua.tj.buf[NUQ_T_INPUT], ua.tj.size[NUQ_T_INPUT]));
	munmap(p, bi.size);

	/* both jobs at once; each reads and writes only its own BOs */
	ASSERT_EQ(0, submit(a, &ua.dj.job, 1, &sa, NULL));
	ASSERT_EQ(0, submit(b, &ub.dj.job, 1, &sb, NULL));
	EXPECT_EQ(sa, sb);	/* sequence numbers are per context too */
	EXPECT_EQ(0, wait_job(b, sb, -1));
	EXPECT_EQ(0, wait_job(a, sa, -1));
	ASSERT_EQ(0, up_expect(&ua));
	ASSERT_EQ(0, up_expect(&ub));
	EXPECT_EQ(0, memcmp(ua.dj.map[NUQ_T_OUTPUT], ua.tj.buf[NUQ_T_OUTPUT],
			    ua.tj.size[NUQ_T_OUTPUT]));
	EXPECT_EQ(0, memcmp(ub.dj.map[NUQ_T_OUTPUT], ub.tj.buf[NUQ_T_OUTPUT],
			    ub.tj.size[NUQ_T_OUTPUT]));

	/* a handle only A has: B cannot query, map, free or use it */
	ASSERT_EQ(0, bo_create(a, 8192, &extra));
	memset(&bi, 0, sizeof(bi));
	bi.handle = extra;
	EXPECT_EQ(-1, ioctl(b, NUQ_IOCTL_BO_INFO, &bi));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-ENOENT, map_at(b, (uint64_t)extra << 12, 4096, MAP_SHARED, &q));
	EXPECT_EQ(-ENOENT, bo_free(b, extra));
	ub.dj.job.tensors[NUQ_T_OUTPUT].handle = extra;
	EXPECT_EQ(-ENOENT, submit(b, &ub.dj.job, 1, &sb, &out));
	EXPECT_EQ(NUQ_JOB_E_HANDLE, out.error_code);
	EXPECT_EQ(0, out.error_index);
	ub.dj.job.tensors[NUQ_T_OUTPUT].handle = ub.dj.handle[NUQ_T_OUTPUT];
	EXPECT_EQ(0, bo_free(a, extra));	/* still A's */

	up_free(a, &ua);
	up_free(b, &ub);
	close(a);
	close(b);
	EXPECT_EQ(0, dstat(self, "bo_bytes"));
}

/* What the child of fork_inherits_the_context reports through the pipe. */
struct child_report {
	uint64_t seq;		/* a job it submitted on the inherited file */
	uint32_t handle;	/* a BO it created there */
	uint32_t fails;		/* bit n: check n went wrong */
};

static uint32_t child_checks(int fd, FIXTURE_DATA(dev) *self, struct up *u, uint32_t h,
			     struct child_report *r)
{
	struct nuq_bo_info bi = { .handle = h };
	struct nuq_submit out;
	uint32_t fails = 0;
	uint8_t *p, *m;
	uint64_t seq;
	void *q;
	int own;

	/* the inherited file is the parent's context */
	if (ioctl(fd, NUQ_IOCTL_BO_INFO, &bi))
		return 1u << 0;
	p = mmap(NULL, bi.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, bi.mmap_offset);
	if (p == MAP_FAILED || p[0] != 0x11)
		return 1u << 1;
	p[0] = 0x22;
	if (submit(fd, &u->dj.job, 1, &r->seq, NULL))
		fails |= 1u << 2;
	if (bo_create(fd, 4096, &r->handle))
		fails |= 1u << 3;
	m = bo_map(fd, r->handle, NULL);
	if (!m)
		fails |= 1u << 4;
	else
		m[7] = 0x33;

	/* a file the child opens itself is a context of its own */
	own = dopen(self);
	if (own < 0)
		return fails | 1u << 5;
	if (!ioctl(own, NUQ_IOCTL_BO_INFO, &bi) || errno != ENOENT)
		fails |= 1u << 6;
	if (map_at(own, bi.mmap_offset, 4096, MAP_SHARED, &q) != -ENOENT)
		fails |= 1u << 7;
	if (submit(own, &u->dj.job, 1, &seq, &out) != -ENOENT || out.error_code != NUQ_JOB_E_HANDLE)
		fails |= 1u << 8;
	if (bo_free(own, h) != -ENOENT)
		fails |= 1u << 9;
	if (wait_job(own, r->seq, 0) != -ENOENT)	/* the parent context's job */
		fails |= 1u << 10;
	close(own);
	return fails;
}

/*
 * A forked child's inherited descriptor is the same context: it maps the
 * parent's BOs, submits jobs the parent reaps, creates BOs the parent
 * sees.  A file the child opens itself reaches none of that.
 */
TEST_F(dev, fork_inherits_the_context_but_not_an_own_open)
{
	int fd = dopen(self), pfd[2], status;
	struct child_report r = { 0 };
	struct up u;
	uint32_t h = 0;
	uint8_t *p, *m;
	pid_t pid;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, up_make(fd, &u, 3));
	ASSERT_EQ(0, up_expect(&u));
	ASSERT_EQ(0, bo_create(fd, 4096, &h));
	p = bo_map(fd, h, NULL);
	ASSERT_NE(NULL, p);
	p[0] = 0x11;
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		r.fails = child_checks(fd, self, &u, h, &r);
		_exit(write(pfd[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(pfd[1]);
	ASSERT_EQ(sizeof(r), read(pfd[0], &r, sizeof(r)));
	close(pfd[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(0, r.fails) TH_LOG("child checks failed: %#x", r.fails);
	EXPECT_EQ(0x22, p[0]);
	/* the child's job is the parent's to reap, the child's BO the parent's */
	EXPECT_EQ(0, wait_job(fd, r.seq, -1));
	EXPECT_EQ(0, memcmp(u.dj.map[NUQ_T_OUTPUT], u.tj.buf[NUQ_T_OUTPUT],
			    u.tj.size[NUQ_T_OUTPUT]));
	m = bo_map(fd, r.handle, NULL);
	ASSERT_NE(NULL, m);
	EXPECT_EQ(0x33, m[7]);
	munmap(m, 4096);
	munmap(p, 4096);
	EXPECT_EQ(0, bo_free(fd, r.handle));
	EXPECT_EQ(0, bo_free(fd, h));
	up_free(fd, &u);
	close(fd);
	EXPECT_EQ(0, dstat(self, "bo_bytes"));
}

/*
 * dup() and passing the descriptor keep the context; opening the same
 * device again, even through /proc/self/fd of an open one, makes another.
 */
TEST_F(dev, reopening_makes_a_new_context)
{
	struct nuq_bo_info bi = { 0 };
	int fd = dopen(self), d, r;
	char path[64];
	uint32_t h = 0;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, bo_create(fd, 4096, &h));
	bi.handle = h;
	d = dup(fd);
	ASSERT_GE(d, 0);
	EXPECT_EQ(0, ioctl(d, NUQ_IOCTL_BO_INFO, &bi));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_GE(r, 0);
	EXPECT_EQ(-1, ioctl(r, NUQ_IOCTL_BO_INFO, &bi));
	EXPECT_EQ(ENOENT, errno);
	close(r);
	close(fd);
	/* the dup keeps the context and its BO alive */
	EXPECT_EQ(0, ioctl(d, NUQ_IOCTL_BO_INFO, &bi));
	EXPECT_EQ(0, bo_free(d, h));
	close(d);
}

/* mmap fails, with one of the errnos a bad mapping may get. */
static int map_refused(int fd, uint64_t off, size_t len, int flags)
{
	void *p;
	int ret = map_at(fd, off, len, flags, &p);

	if (!ret)
		munmap(p, len);
	return ret == -EINVAL || ret == -ENOENT || ret == -EOVERFLOW;
}

/*
 * A mapping is of one whole BO or a prefix of it: not larger, not private,
 * not at an offset that names no BO of this file, and it cannot be grown
 * with mremap().  Split, zapped and moved parts keep showing their pages.
 */
TEST_F(dev, mappings_stay_inside_their_bo)
{
	static const uint64_t bad_off[] = {
		0, 1ULL << 43, (1ULL << 31) << 12, U32MAX << 12, (U32MAX + 1) << 12,
		1ULL << 63, U64MAX & ~4095ULL,
	};
	struct nuq_bo_info bi = { 0 };
	int fd = dopen(self);
	uint8_t *p, *t;
	size_t i, bad;
	uint32_t h = 0;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, bo_create(fd, 3 * 4096, &h));
	bi.handle = h;
	ASSERT_EQ(0, ioctl(fd, NUQ_IOCTL_BO_INFO, &bi));
	ASSERT_EQ(3 * 4096, bi.size);
	EXPECT_EQ(-EINVAL, map_at(fd, bi.mmap_offset, bi.size, MAP_PRIVATE, (void **)&p));
	EXPECT_EQ(-EINVAL, map_at(fd, bi.mmap_offset, bi.size + 4096, MAP_SHARED, (void **)&p));
	EXPECT_EQ(-EINVAL, map_at(fd, bi.mmap_offset, 1ULL << 32, MAP_SHARED, (void **)&p));
	/* the next page's offset names handle h + 1, which does not exist */
	EXPECT_EQ(-ENOENT, map_at(fd, bi.mmap_offset + 4096, 4096, MAP_SHARED, (void **)&p));
	for (i = 0; i < sizeof(bad_off) / sizeof(bad_off[0]); i++)
		EXPECT_TRUE(map_refused(fd, bad_off[i], 4096, MAP_SHARED))
			TH_LOG("offset %#llx", (unsigned long long)bad_off[i]);
	/* a prefix is fine */
	ASSERT_EQ(0, map_at(fd, bi.mmap_offset, 4096, MAP_SHARED, (void **)&p));
	munmap(p, 4096);

	ASSERT_EQ(0, map_at(fd, bi.mmap_offset, bi.size, MAP_SHARED, (void **)&p));
	for (i = 0; i < bi.size; i++)
		p[i] = (uint8_t)(i / 4096 + 1);
	/* growing in place or by moving is refused: the VMA may not outgrow the BO */
	EXPECT_EQ(MAP_FAILED, mremap(p, bi.size, bi.size + 4096, 0));
	EXPECT_EQ(MAP_FAILED, mremap(p, bi.size, bi.size + 4096, MREMAP_MAYMOVE));
	/* split off the first page; zap the rest; it faults back its own pages */
	ASSERT_EQ(0, munmap(p, 4096));
	ASSERT_EQ(0, madvise(p + 4096, 2 * 4096, MADV_DONTNEED));
	for (bad = 0, i = 4096; i < bi.size; i++)
		bad += p[i] != (uint8_t)(i / 4096 + 1);
	EXPECT_EQ(0, bad);
	/* moved, same size: still the BO's last two pages */
	t = mremap(p + 4096, 2 * 4096, 2 * 4096, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, t);
	EXPECT_EQ(2, t[0]);
	EXPECT_EQ(3, t[4096]);
	ASSERT_EQ(0, madvise(t, 2 * 4096, MADV_DONTNEED));
	EXPECT_EQ(3, t[8191]);
	munmap(t, 2 * 4096);
	EXPECT_EQ(0, bo_free(fd, h));
	close(fd);
	EXPECT_EQ(0, dstat(self, "bo_bytes"));
}

static int all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/*
 * A freed handle is dead for BO_INFO, mmap, BO_FREE and jobs, while a
 * mapping made before keeps the old memory.  When BO_CREATE hands out the
 * same number again, it names the new, zeroed BO everywhere: jobs write
 * the new one, the old mapping never sees it (on the NPU: the freed BO
 * that still holds the handle's device address is unmapped first).
 */
TEST_F(dev, freed_handle_is_dead_everywhere)
{
	long long bytes;
	struct nuq_submit out;
	struct nuq_bo_info bi = { 0 };
	int fd = dopen(self), i;
	uint8_t *old, *neu;
	size_t osize;
	uint32_t h, hn = 0;
	struct up u;
	uint64_t seq;
	void *q;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, up_make(fd, &u, 5));
	ASSERT_EQ(0, up_expect(&u));
	EXPECT_EQ(0, run_job(fd, &u.dj.job));
	h = u.dj.handle[NUQ_T_OUTPUT];
	old = u.dj.map[NUQ_T_OUTPUT];
	osize = u.dj.size[NUQ_T_OUTPUT];
	u.dj.map[NUQ_T_OUTPUT] = NULL;		/* this test unmaps it */
	u.dj.handle[NUQ_T_OUTPUT] = 0;
	memset(old, 0x77, osize);
	bytes = dstat(self, "bo_bytes");

	ASSERT_EQ(0, bo_free(fd, h));
	bi.handle = h;
	EXPECT_EQ(-1, ioctl(fd, NUQ_IOCTL_BO_INFO, &bi));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-ENOENT, map_at(fd, (uint64_t)h << 12, 4096, MAP_SHARED, &q));
	EXPECT_EQ(-ENOENT, bo_free(fd, h));
	EXPECT_EQ(-ENOENT, submit(fd, &u.dj.job, 1, &seq, &out));
	EXPECT_EQ(NUQ_JOB_E_HANDLE, out.error_code);
	/* the old mapping still works, and its memory still counts */
	EXPECT_TRUE(all_bytes(old, osize, 0x77));
	memset(old, 0x78, osize);
	EXPECT_EQ(bytes, dstat(self, "bo_bytes"));

	/* the number comes back (lowest free, like file descriptors) as a new BO */
	ASSERT_EQ(0, bo_create(fd, osize, &hn));
	TH_LOG("freed handle %u, new BO got %u", h, hn);
	neu = bo_map(fd, hn, NULL);
	ASSERT_NE(NULL, neu);
	EXPECT_TRUE(all_bytes(neu, osize, 0));
	u.dj.job.tensors[NUQ_T_OUTPUT].handle = hn;
	EXPECT_EQ(0, run_job(fd, &u.dj.job));
	EXPECT_EQ(0, memcmp(neu, u.tj.buf[NUQ_T_OUTPUT], u.tj.size[NUQ_T_OUTPUT]));
	EXPECT_TRUE(all_bytes(old, osize, 0x78));
	/* the old memory goes with its mapping; the new BO is unaffected */
	munmap(old, osize);
	EXPECT_EQ(bytes, dstat(self, "bo_bytes"));
	memset(neu, 0, osize);
	EXPECT_EQ(0, run_job(fd, &u.dj.job));
	EXPECT_EQ(0, memcmp(neu, u.tj.buf[NUQ_T_OUTPUT], u.tj.size[NUQ_T_OUTPUT]));

	/* freeing every handle of a queued job: the job still runs on its BOs */
	memset(neu, 0, osize);
	ASSERT_EQ(0, submit(fd, &u.dj.job, 1, &seq, NULL));
	EXPECT_EQ(0, bo_free(fd, hn));
	for (i = 0; i < NUQ_T_COUNT; i++)
		if (u.dj.handle[i]) {
			EXPECT_EQ(0, bo_free(fd, u.dj.handle[i]));
			u.dj.handle[i] = 0;
		}
	EXPECT_EQ(0, wait_job(fd, seq, -1));
	EXPECT_EQ(0, memcmp(neu, u.tj.buf[NUQ_T_OUTPUT], u.tj.size[NUQ_T_OUTPUT]));
	munmap(neu, osize);
	up_free(fd, &u);
	close(fd);
	EXPECT_EQ(0, dstat(self, "bo_bytes"));
}

/* One field of a job descriptor set to a value near a power of two. */
struct field_case {
	const char *name;
	size_t off, width;	/* in struct nuq_conv_job; width 4 or 8 */
	uint64_t val;
	int err, code;		/* -errno (0: accepted) and NUQ_JOB_E_* */
};

#define JF(f)		#f, offsetof(struct nuq_conv_job, f), sizeof(((struct nuq_conv_job *)0)->f)
#define DIM(f, v)	{ JF(f), v, -EINVAL, NUQ_JOB_E_SHAPE }
#define DIMS(f)		DIM(f, 0), DIM(f, 65536), DIM(f, 1ULL << 31), DIM(f, U32MAX)
#define STR(f, v)	{ JF(f), v, -EINVAL, NUQ_JOB_E_STRIDE }
#define STRS(f)		STR(f, 0), STR(f, 65536), STR(f, 1ULL << 31), STR(f, U32MAX)
#define PADS(f)		DIM(f, 65536), DIM(f, 1ULL << 31), DIM(f, U32MAX)
#define ONE(f, v, c)	{ JF(f), v, -EINVAL, NUQ_JOB_E_##c }
#define S32(f, c)	ONE(f, 0x80000000u, c), ONE(f, 0x7fffffffu, c)

static const struct field_case field_cases[] = {
	ONE(flags, 1ULL << 31, FLAGS), ONE(flags, U32MAX, FLAGS),
	ONE(flags, NUQ_JOB_F_CODEBOOK_INT16, FLAGS),
	ONE(priority, 4, PRIORITY), ONE(priority, 1ULL << 31, PRIORITY),
	ONE(priority, U32MAX, PRIORITY),
	{ JF(timeout_ms), U32MAX, 0, 0 },		/* clamped, not refused */
	{ JF(timeout_ms), 1ULL << 31, 0, 0 },
	ONE(weight_format, 3, WEIGHT_FORMAT), ONE(weight_format, U32MAX, WEIGHT_FORMAT),
	DIMS(batch), DIMS(in_h), DIMS(in_w), DIMS(in_c), DIMS(out_h), DIMS(out_w),
	DIMS(out_c), DIMS(kernel_h), DIMS(kernel_w),
	STRS(stride_h), STRS(stride_w), STRS(dilation_h), STRS(dilation_w),
	PADS(pad_top), PADS(pad_bottom), PADS(pad_left), PADS(pad_right),
	ONE(groups, 0, GROUPS), ONE(groups, 65536, GROUPS), ONE(groups, 1ULL << 31, GROUPS),
	ONE(groups, U32MAX, GROUPS),
	ONE(weight_bits, 0, BITS), ONE(weight_bits, 9, BITS), ONE(weight_bits, 1ULL << 31, BITS),
	ONE(weight_bits, U32MAX, BITS),
	ONE(cb_strategy, 1, WEIGHT_FORMAT), ONE(cb_strategy, U32MAX, WEIGHT_FORMAT),
	ONE(in_format, 2, ACT_FORMAT), ONE(in_format, U32MAX, ACT_FORMAT),
	ONE(out_format, 2, ACT_FORMAT), ONE(out_format, U32MAX, ACT_FORMAT),
	S32(in_zero_point, ZERO_POINT), S32(out_zero_point, ZERO_POINT),
	ONE(out_min, 0x80000000u, CLAMP), ONE(out_max, 0x7fffffffu, CLAMP),
	S32(res_zero_point, RESIDUAL), S32(res_multiplier, RESIDUAL), S32(res_shift, RESIDUAL),
	ONE(pad, 1, RESERVED), ONE(pad, U32MAX, RESERVED),
	ONE(rsvd[0], 1ULL << 63, RESERVED), ONE(rsvd[3], U64MAX, RESERVED),
	ONE(tensors[NUQ_T_INPUT].rsvd, U32MAX, RESERVED),
	ONE(tensors[NUQ_T_RESIDUAL].rsvd, 1ULL << 31, RESERVED),
	ONE(tensors[NUQ_T_CODEBOOK].handle, U32MAX, TENSOR_MISSING),	/* int8: no codebook */
	ONE(tensors[NUQ_T_CODEBOOK].offset, U64MAX, TENSOR_MISSING),
	ONE(tensors[NUQ_T_RESIDUAL].handle, 1ULL << 31, TENSOR_MISSING),
	ONE(tensors[NUQ_T_INPUT].handle, 0, TENSOR_MISSING),
	{ JF(tensors[NUQ_T_INPUT].handle), 1ULL << 31, -ENOENT, NUQ_JOB_E_HANDLE },
	{ JF(tensors[NUQ_T_OUTPUT].handle), U32MAX, -ENOENT, NUQ_JOB_E_HANDLE },
	{ JF(tensors[NUQ_T_WEIGHTS].handle), 0x7fffffff, -ENOENT, NUQ_JOB_E_HANDLE },
	{ JF(tensors[NUQ_T_REQUANT].handle), 0x10000, -ENOENT, NUQ_JOB_E_HANDLE },
};

/* Offsets of a used tensor: past the end (ERANGE) or wrapping (EOVERFLOW). */
static const struct { uint64_t off; int err, code; } offset_cases[] = {
	{ U32MAX, -ERANGE, NUQ_JOB_E_BOUNDS },
	{ 1ULL << 32, -ERANGE, NUQ_JOB_E_BOUNDS },
	{ (1ULL << 32) + 4096, -ERANGE, NUQ_JOB_E_BOUNDS },
	{ 1ULL << 63, -ERANGE, NUQ_JOB_E_BOUNDS },
	{ U64MAX - 4095, -ERANGE, NUQ_JOB_E_BOUNDS },	/* + size just below 2^64 */
	{ U64MAX - 7, -EOVERFLOW, NUQ_JOB_E_OVERFLOW },	/* + size wraps */
	{ U64MAX, -EOVERFLOW, NUQ_JOB_E_OVERFLOW },
};

/*
 * Shapes (square: the same on both axes; out = what the shape implies
 * unless given) whose sizes wrap in 32 or 64 bits or exceed the limits.
 */
struct shape_case {
	const char *name;
	uint32_t batch, in, in_c, out_c, kernel, stride, dilation, pad, out;
	int err, code;
};

static const struct shape_case shape_cases[] = {
	/* 4 x 32768 x 32768 x 1 = 2^32 bytes: 0 if computed in 32 bits */
	{ "input of 2^32 bytes", 4, 32768, 1, 1, 1, 1, 1, 0, 0, -ERANGE, NUQ_JOB_E_BOUNDS },
	{ "65535^4 input bytes", 65535, 65535, 65535, 1, 1, 1, 1, 0, 0, -EOVERFLOW,
	  NUQ_JOB_E_OVERFLOW },
	/* tensors just below 2^48, multiply-accumulates near 2^64 */
	{ "2^64 MACs", 256, 4096, 65535, 65535, 1, 1, 1, 0, 0, -EOVERFLOW, NUQ_JOB_E_OVERFLOW },
	{ "K = 25 x 65535 > 2^20", 1, 5, 65535, 1, 5, 1, 1, 0, 0, -EINVAL, NUQ_JOB_E_SHAPE },
	/* (65535 - 1) x 65535 + 1 taps span more than the padded input */
	{ "dilated kernel of 2^32", 1, 65535, 1, 1, 65535, 1, 65535, 65535, 1, -EINVAL,
	  NUQ_JOB_E_OUT_SHAPE },
	{ "padding to 131071 outputs", 1, 1, 1, 1, 1, 1, 1, 65535, 0, -EINVAL, NUQ_JOB_E_SHAPE },
	{ "stride 65535", 1, 65535, 8, 8, 1, 65535, 1, 0, 0, -ERANGE, NUQ_JOB_E_BOUNDS },
};

static void shape_apply(struct nuq_conv_job *j, const struct shape_case *c)
{
	uint64_t span = (uint64_t)(c->kernel - 1) * c->dilation + 1, padded, out = 0;

	padded = (uint64_t)c->in + 2ULL * c->pad;
	if (padded >= span)
		out = (padded - span) / c->stride + 1;
	j->batch = c->batch;
	j->in_h = j->in_w = c->in;
	j->in_c = c->in_c;
	j->out_c = c->out_c;
	j->kernel_h = j->kernel_w = c->kernel;
	j->stride_h = j->stride_w = c->stride;
	j->dilation_h = j->dilation_w = c->dilation;
	j->pad_top = j->pad_bottom = j->pad_left = j->pad_right = c->pad;
	j->groups = 1;
	j->out_h = j->out_w = c->out ? c->out : (uint32_t)out;
}

/*
 * @bad at index 2 of a batch of three over ioctl, then alone over
 * io_uring: the errno, error_index and error_code the case expects, and
 * nothing queued; an accepted one runs.  Returns the number of mismatches.
 */
static int try_job(FIXTURE_DATA(dev) *self, struct io_uring *ring, int fd,
		   const struct nuq_conv_job *base, const struct nuq_conv_job *bad,
		   const char *name, int err, int code)
{
	struct nuq_conv_job jobs[3] = { *base, *base, *bad };
	long long before = dstat(self, "jobs_submitted");
	struct io_uring_cqe *cqe;
	struct nuq_submit out;
	uint64_t seq[3];
	int ret, fails = 0, i;

	ret = submit(fd, jobs, 3, seq, &out);
	if (ret != err || (err && (out.error_index != 2 || out.error_code != code))) {
		fprintf(stderr, "# %s: ioctl %d index %u code %d, want %d index 2 code %d\n",
			name, ret, out.error_index, out.error_code, err, code);
		fails++;
	}
	if (!ret)
		for (i = 0; i < 3; i++)
			fails += wait_job(fd, seq[i], -1) != 0;
	else if (dstat(self, "jobs_submitted") != before)
		fails++;
	prep_nuq_cmd(ring, fd, NUQ_URING_CMD_SUBMIT, bad, sizeof(*bad), 7);
	if (io_uring_submit(ring) != 1 || io_uring_wait_cqe(ring, &cqe))
		return fails + 1;
	if (cqe->res != err) {
		fprintf(stderr, "# %s: io_uring res %d, want %d\n", name, cqe->res, err);
		fails++;
	}
	io_uring_cqe_seen(ring, cqe);
	return fails;
}

/*
 * Every descriptor field near 2^16, 2^31, 2^32 (and 2^63, 2^64 for the
 * 64-bit ones), offsets past and around the end of each tensor's BO, and
 * shapes whose sizes wrap: the documented errno and code, never a wrap.
 */
TEST_F(dev, descriptor_fields_near_powers_of_two)
{
	int fd = dopen(self), fails = 0, tried = 0, s;
	struct nuq_conv_job bad;
	struct io_uring ring;
	size_t i;
	struct up u;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	ASSERT_EQ(0, up_make(fd, &u, 6));
	for (i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
		const struct field_case *c = &field_cases[i];
		char name[96];

		bad = u.dj.job;
		if (c->width == 8)
			memcpy((uint8_t *)&bad + c->off, &c->val, 8);
		else
			memcpy((uint8_t *)&bad + c->off, &(uint32_t){ (uint32_t)c->val }, 4);
		snprintf(name, sizeof(name), "%s = %#llx", c->name, (unsigned long long)c->val);
		fails += try_job(self, &ring, fd, &u.dj.job, &bad, name, c->err, c->code);
		tried++;
	}
	for (s = 0; s < NUQ_T_COUNT; s++) {
		if (!u.dj.job.tensors[s].handle)
			continue;
		for (i = 0; i < sizeof(offset_cases) / sizeof(offset_cases[0]); i++) {
			char name[96];

			bad = u.dj.job;
			bad.tensors[s].offset = offset_cases[i].off;
			snprintf(name, sizeof(name), "tensors[%d].offset = %#llx", s,
				 (unsigned long long)offset_cases[i].off);
			fails += try_job(self, &ring, fd, &u.dj.job, &bad, name, offset_cases[i].err,
					 offset_cases[i].code);
			tried++;
		}
	}
	for (i = 0; i < sizeof(shape_cases) / sizeof(shape_cases[0]); i++) {
		bad = u.dj.job;
		shape_apply(&bad, &shape_cases[i]);
		fails += try_job(self, &ring, fd, &u.dj.job, &bad, shape_cases[i].name,
				 shape_cases[i].err, shape_cases[i].code);
		tried++;
	}
	TH_LOG("%d descriptors tried (ioctl batch and io_uring each), %d mismatches", tried, fails);
	EXPECT_EQ(0, fails);
	io_uring_queue_exit(&ring);
	up_free(fd, &u);
	close(fd);
}

static int ioc(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/* Bad user pointers: NULL, low, non-canonical, the top of the address space, the kernel's. */
static const uint64_t bad_ptrs[] = {
	0, 16, 1ULL << 47, 1ULL << 63, U64MAX - 4095, U64MAX, 0xffffffff81000000ULL,
};

/*
 * BO_CREATE, BO_INFO, BO_FREE, SUBMIT and WAIT, and the io_uring command
 * and batch structs, with sizes, handles, counts, seqnos, timeouts and
 * pointers near 2^32 and 2^64: EINVAL, ENOENT or EFAULT as documented,
 * nothing created or queued; output-only fields are ignored on input.
 */
TEST_F(dev, uapi_structs_near_powers_of_two)
{
	static const uint64_t sizes[] = {
		1ULL << 32, (1ULL << 32) + 1, U32MAX, 1ULL << 63, U64MAX - 4094, U64MAX - 4095,
		U64MAX,
	};
	static const uint32_t handles[] = { 0, 0x7fffffff, 0x80000000u, U32MAX, 0x10000 };
	static const uint64_t seqnos[] = { 0, 1ULL << 32, 1ULL << 63, U64MAX, U32MAX };
	static const int64_t timeouts[] = { 0, 1, INT64_MAX, -1, INT64_MIN };
	static const uint32_t counts[] = { 0, NUQ_MAX_BATCH + 1, 1u << 31, U32MAX };
	static const uint32_t jsizes[] = {
		0, sizeof(struct nuq_conv_job) - 1, sizeof(struct nuq_conv_job) + 1, 1u << 31,
		U32MAX,
	};
	int fd = dopen(self), tried = 0;
	long long before, bytes = dstat(self, "bo_bytes");
	struct nuq_bo_create c;
	struct nuq_bo_info bi;
	struct nuq_bo_free bf;
	struct nuq_submit sb;
	struct nuq_wait w;
	uint64_t seq[2];
	size_t i, j;
	struct up u;

	ASSERT_GE(fd, 0);
	/* BO_CREATE: sizes beyond max_bo_size, ones PAGE_ALIGN would wrap to 0 */
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++, tried++) {
		memset(&c, 0, sizeof(c));
		c.size = sizes[i];
		EXPECT_EQ(sizes[i] > self->info.max_bo_size ? -EINVAL : 0,
			  ioc(fd, NUQ_IOCTL_BO_CREATE, &c)) TH_LOG("size %#llx",
								   (unsigned long long)sizes[i]);
	}
	memset(&c, 0, sizeof(c));
	c.size = self->info.max_bo_size + 1;
	EXPECT_EQ(-EINVAL, ioc(fd, NUQ_IOCTL_BO_CREATE, &c));
	c.size = 4096;
	c.flags = U32MAX;
	EXPECT_EQ(-EINVAL, ioc(fd, NUQ_IOCTL_BO_CREATE, &c));
	c.flags = 0;
	c.rsvd[0] = U64MAX;
	EXPECT_EQ(-EINVAL, ioc(fd, NUQ_IOCTL_BO_CREATE, &c));
	tried += 4;
	EXPECT_EQ(bytes, dstat(self, "bo_bytes"));

	/* BO_INFO, BO_FREE: handles nobody has */
	for (i = 0; i < sizeof(handles) / sizeof(handles[0]); i++, tried += 2) {
		memset(&bi, 0, sizeof(bi));
		bi.handle = handles[i];
		EXPECT_EQ(-ENOENT, ioc(fd, NUQ_IOCTL_BO_INFO, &bi)) TH_LOG("handle %#x", handles[i]);
		memset(&bf, 0, sizeof(bf));
		bf.handle = handles[i];
		EXPECT_EQ(-ENOENT, ioc(fd, NUQ_IOCTL_BO_FREE, &bf)) TH_LOG("handle %#x", handles[i]);
	}
	ASSERT_EQ(0, up_make(fd, &u, 7));
	memset(&bi, 0, sizeof(bi));
	bi.handle = u.dj.handle[NUQ_T_INPUT];
	bi.flags = U32MAX;
	EXPECT_EQ(-EINVAL, ioc(fd, NUQ_IOCTL_BO_INFO, &bi));
	bi.flags = 0;
	bi.size = bi.mmap_offset = U64MAX;	/* out only */
	EXPECT_EQ(0, ioc(fd, NUQ_IOCTL_BO_INFO, &bi));
	EXPECT_EQ(u.dj.size[NUQ_T_INPUT], bi.size);
	EXPECT_EQ((uint64_t)bi.handle << 12, bi.mmap_offset);
	memset(&bf, 0, sizeof(bf));
	bf.handle = u.dj.handle[NUQ_T_INPUT];
	bf.rsvd[1] = 1ULL << 63;
	EXPECT_EQ(-EINVAL, ioc(fd, NUQ_IOCTL_BO_FREE, &bf));
	tried += 3;

	/* SUBMIT: counts, job sizes, pointers */
	before = dstat(self, "jobs_submitted");
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++, tried++) {
		sb = (struct nuq_submit){ .jobs = (uintptr_t)&u.dj.job, .seqnos = (uintptr_t)seq,
					  .count = counts[i], .job_size = sizeof(u.dj.job) };
		EXPECT_EQ(-EINVAL, ioc(fd, NUQ_IOCTL_SUBMIT, &sb)) TH_LOG("count %#x", counts[i]);
	}
	for (i = 0; i < sizeof(jsizes) / sizeof(jsizes[0]); i++, tried++) {
		sb = (struct nuq_submit){ .jobs = (uintptr_t)&u.dj.job, .seqnos = (uintptr_t)seq,
					  .count = 1, .job_size = jsizes[i] };
		EXPECT_EQ(-EINVAL, ioc(fd, NUQ_IOCTL_SUBMIT, &sb)) TH_LOG("job_size %#x", jsizes[i]);
	}
	for (i = 0; i < sizeof(bad_ptrs) / sizeof(bad_ptrs[0]); i++, tried += 2) {
		sb = (struct nuq_submit){ .jobs = bad_ptrs[i], .seqnos = (uintptr_t)seq,
					  .count = 1, .job_size = sizeof(u.dj.job) };
		EXPECT_EQ(-EFAULT, ioc(fd, NUQ_IOCTL_SUBMIT, &sb)) TH_LOG("jobs %#llx",
									  (unsigned long long)bad_ptrs[i]);
		/* valid jobs, nowhere to put their numbers: none is queued */
		sb.jobs = (uintptr_t)&u.dj.job;
		sb.seqnos = bad_ptrs[i];
		EXPECT_EQ(-EFAULT, ioc(fd, NUQ_IOCTL_SUBMIT, &sb)) TH_LOG("seqnos %#llx",
									  (unsigned long long)bad_ptrs[i]);
	}
	sb = (struct nuq_submit){ .jobs = (uintptr_t)&u.dj.job, .seqnos = (uintptr_t)seq,
				  .count = 1, .job_size = sizeof(u.dj.job), .flags = U32MAX };
	EXPECT_EQ(-EINVAL, ioc(fd, NUQ_IOCTL_SUBMIT, &sb));
	sb.flags = 0;
	sb.pad = U32MAX;
	EXPECT_EQ(-EINVAL, ioc(fd, NUQ_IOCTL_SUBMIT, &sb));
	sb.pad = 0;
	sb.rsvd[0] = U64MAX;
	EXPECT_EQ(-EINVAL, ioc(fd, NUQ_IOCTL_SUBMIT, &sb));
	tried += 3;
	EXPECT_EQ(before, dstat(self, "jobs_submitted"));
	/* error_index/error_code are out only; the in-flight slots all came back */
	sb.rsvd[0] = 0;
	sb.error_index = U32MAX;
	sb.error_code = INT32_MIN;
	EXPECT_EQ(0, ioc(fd, NUQ_IOCTL_SUBMIT, &sb));
	EXPECT_EQ(0, sb.error_index);
	EXPECT_EQ(0, sb.error_code);

	/* WAIT: unknown seqnos with every kind of timeout; bad flags */
	for (i = 0; i < sizeof(seqnos) / sizeof(seqnos[0]); i++)
		for (j = 0; j < sizeof(timeouts) / sizeof(timeouts[0]); j++, tried++) {
			w = (struct nuq_wait){ .seqno = seqnos[i] == U32MAX ? seq[0] + 1000 :
							seqnos[i], .timeout_ns = timeouts[j] };
			EXPECT_EQ(-ENOENT, ioc(fd, NUQ_IOCTL_WAIT, &w))
				TH_LOG("seqno %#llx timeout %lld", (unsigned long long)w.seqno,
				       (long long)timeouts[j]);
		}
	w = (struct nuq_wait){ .seqno = seq[0], .timeout_ns = INT64_MAX, .flags = U32MAX };
	EXPECT_EQ(-EINVAL, ioc(fd, NUQ_IOCTL_WAIT, &w));
	w.flags = 0;
	w.rsvd[1] = U64MAX;
	EXPECT_EQ(-EINVAL, ioc(fd, NUQ_IOCTL_WAIT, &w));
	w.rsvd[1] = 0;
	w.status = INT32_MIN;			/* out only */
	EXPECT_EQ(0, ioc(fd, NUQ_IOCTL_WAIT, &w));	/* INT64_MAX ns: no overflow */
	EXPECT_EQ(0, w.status);
	tried += 3;
	ASSERT_EQ(0, submit(fd, &u.dj.job, 1, seq, NULL));
	EXPECT_EQ(0, wait_job(fd, seq[0], INT64_MIN));	/* negative: until done */
	TH_LOG("%d struct values tried", tried);
	up_free(fd, &u);
	close(fd);
}

/* One URING_CMD with a raw pointer and flags; its CQE's res. */
static int uring_cmd(struct io_uring *ring, int fd, uint32_t op, uint64_t ptr, uint32_t size,
		     uint32_t flags)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct nuq_uring_submit *cmd;
	struct io_uring_cqe *cqe;
	int res;

	if (!sqe)
		return -9999;
	memset(sqe, 0, sizeof(*sqe));
	cmd = (struct nuq_uring_submit *)&sqe->addr3;
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = op;
	cmd->job = ptr;
	cmd->job_size = size;
	cmd->flags = flags;
	if (io_uring_submit(ring) != 1 || io_uring_wait_cqe(ring, &cqe))
		return -9999;
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

/*
 * The io_uring command and batch structs: sizes, counts, flags and
 * pointers near 2^32 and 2^64 complete with -EINVAL or -EFAULT; a bad
 * statuses pointer fails the batch with -EFAULT after its jobs ran.
 */
TEST_F(dev, uring_structs_near_powers_of_two)
{
	static const uint32_t counts[] = { 0, NUQ_MAX_BATCH + 1, 1u << 31, U32MAX };
	int fd = dopen(self), tried = 0;
	struct nuq_uring_batch ub, b0;
	struct nuq_conv_job jobs[4];
	struct io_uring ring;
	int32_t st[4];
	uint64_t jp;
	size_t i;
	struct up u;
	void *ro;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	ASSERT_EQ(0, up_make(fd, &u, 8));
	for (i = 0; i < 4; i++)
		jobs[i] = u.dj.job;
	jp = (uintptr_t)&u.dj.job;
	EXPECT_EQ(0, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT, jp, sizeof(u.dj.job), 0));
	EXPECT_EQ(-EINVAL, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT, jp, sizeof(u.dj.job), U32MAX));
	EXPECT_EQ(-EINVAL, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT, jp, sizeof(u.dj.job), 1u << 31));
	EXPECT_EQ(-EINVAL, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT, jp, 0, 0));
	EXPECT_EQ(-EINVAL, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT, jp, U32MAX, 0));
	EXPECT_EQ(-EINVAL, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT, jp, 1u << 31, 0));
	EXPECT_EQ(-ENOTTY, uring_cmd(&ring, fd, U32MAX, jp, sizeof(u.dj.job), 0));
	tried += 7;
	for (i = 0; i < sizeof(bad_ptrs) / sizeof(bad_ptrs[0]); i++, tried += 2) {
		EXPECT_EQ(-EFAULT, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT, bad_ptrs[i],
					     sizeof(u.dj.job), 0))
			TH_LOG("job %#llx", (unsigned long long)bad_ptrs[i]);
		EXPECT_EQ(-EFAULT, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT_BATCH, bad_ptrs[i],
					     sizeof(ub), 0))
			TH_LOG("batch %#llx", (unsigned long long)bad_ptrs[i]);
	}

	b0 = (struct nuq_uring_batch){ .jobs = (uintptr_t)jobs, .statuses = (uintptr_t)st,
				       .count = 4, .job_size = sizeof(jobs[0]) };
	jp = (uintptr_t)&ub;
	ub = b0;
	EXPECT_EQ(0, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT_BATCH, jp, sizeof(ub), 0));
	EXPECT_EQ(-EINVAL, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT_BATCH, jp, sizeof(ub) + 1, 0));
	EXPECT_EQ(-EINVAL, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT_BATCH, jp, U32MAX, 0));
	tried += 3;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++, tried++) {
		ub = b0;
		ub.count = counts[i];
		EXPECT_EQ(-EINVAL, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT_BATCH, jp, sizeof(ub), 0))
			TH_LOG("count %#x", counts[i]);
	}
	ub = b0;
	ub.job_size = U32MAX;
	EXPECT_EQ(-EINVAL, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT_BATCH, jp, sizeof(ub), 0));
	ub = b0;
	ub.job_size = sizeof(jobs[0]) + 8;
	EXPECT_EQ(-EINVAL, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT_BATCH, jp, sizeof(ub), 0));
	ub = b0;
	ub.flags = U32MAX;
	EXPECT_EQ(-EINVAL, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT_BATCH, jp, sizeof(ub), 0));
	ub = b0;
	ub.pad = 1u << 31;
	EXPECT_EQ(-EINVAL, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT_BATCH, jp, sizeof(ub), 0));
	tried += 4;
	for (i = 0; i < sizeof(bad_ptrs) / sizeof(bad_ptrs[0]); i++, tried++) {
		ub = b0;
		ub.jobs = bad_ptrs[i];
		EXPECT_EQ(-EFAULT, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT_BATCH, jp, sizeof(ub), 0))
			TH_LOG("jobs %#llx", (unsigned long long)bad_ptrs[i]);
	}
	/* statuses the kernel cannot write: the jobs ran, the batch says EFAULT */
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	for (i = 1; i <= sizeof(bad_ptrs) / sizeof(bad_ptrs[0]); i++, tried++) {
		ub = b0;
		ub.statuses = i < sizeof(bad_ptrs) / sizeof(bad_ptrs[0]) ? bad_ptrs[i] :
			      (uintptr_t)ro;
		EXPECT_EQ(-EFAULT, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT_BATCH, jp, sizeof(ub), 0))
			TH_LOG("statuses %#llx", (unsigned long long)ub.statuses);
	}
	munmap(ro, 4096);
	/* and every in-flight slot came back */
	ub = b0;
	ub.statuses = 0;
	EXPECT_EQ(0, uring_cmd(&ring, fd, NUQ_URING_CMD_SUBMIT_BATCH, jp, sizeof(ub), 0));
	EXPECT_EQ(0, dstat(self, "queue_depth"));
	TH_LOG("%d command values tried", tried);
	io_uring_queue_exit(&ring);
	up_free(fd, &u);
	close(fd);
}

/* Open @path for writing and write @val: 0 or -errno of whichever step failed. */
static int try_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int submit_prio(int fd, struct up *u, uint32_t prio, struct io_uring *ring, int *uring_res)
{
	struct nuq_conv_job j = u->dj.job;
	struct io_uring_cqe *cqe;

	j.priority = prio;
	*uring_res = -9999;
	prep_nuq_cmd(ring, fd, NUQ_URING_CMD_SUBMIT, &j, sizeof(j), 1);
	if (io_uring_submit(ring) == 1 && !io_uring_wait_cqe(ring, &cqe)) {
		*uring_res = cqe->res;
		io_uring_cqe_seen(ring, cqe);
	}
	return run_job(fd, &j);
}

#define CHECK(cond, bit)	do { if (!(cond)) fails |= 1u << (bit); } while (0)

/*
 * What a process may do after dropping privileges: as uid 65534 with no
 * capability (@unpriv), or as uid 0 with no capability.  Bits of the
 * checks that went wrong.
 */
static uint32_t privless_checks(FIXTURE_DATA(dev) *self, int unpriv)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	char path[128];
	struct io_uring ring;
	uint32_t fails = 0;
	struct up u;
	int fd, res;

	if (unpriv) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			return 1u << 31;
	} else if (syscall(SYS_capset, &hdr, data)) {
		return 1u << 30;
	}
	fd = dopen(self);
	if (fd < 0 || up_make(fd, &u, 9) || io_uring_queue_init(4, &ring, 0))
		return 1u << 29;
	/* realtime needs CAP_SYS_NICE, on both paths; the other levels do not */
	CHECK(submit_prio(fd, &u, NUQ_PRIO_REALTIME, &ring, &res) == -EPERM, 0);
	CHECK(res == -EPERM, 1);
	CHECK(submit_prio(fd, &u, NUQ_PRIO_HIGH, &ring, &res) == 0 && res == 0, 2);
	CHECK(submit_prio(fd, &u, NUQ_PRIO_NORMAL, &ring, &res) == 0 && res == 0, 3);
	CHECK(submit_prio(fd, &u, NUQ_PRIO_LOW, &ring, &res) == 0 && res == 0, 4);
	/* reset needs CAP_SYS_ADMIN: the file is root's, mode 0200 */
	snprintf(path, sizeof(path), "/sys/class/nuq/nuq%d/reset", self->idx);
	res = try_write(path, "0");
	CHECK(unpriv ? res == -EACCES : res == -EPERM, 5);
	if (res != (unpriv ? -EACCES : -EPERM))
		fprintf(stderr, "# %s: write to %s: %s\n", unpriv ? "uid 65534" : "uid 0 without caps",
			path, res ? strerror(-res) : "accepted");
	/* statistics stay readable */
	CHECK(dstat(self, "jobs_submitted") >= 0, 6);
	if (unpriv) {
		/* module parameters, the fault knobs and NPU recovery are root's files */
		CHECK(try_write(PARAM("ctx_bo_count"), "100000") == -EACCES, 7);
		CHECK(try_write(PARAM("max_contexts"), "100000") == -EACCES, 8);
		snprintf(path, sizeof(path), "/sys/kernel/debug/nuq/nuq%d/fault/kind", self->idx);
		CHECK(try_write(path, "hang") == -EACCES, 9);
		snprintf(path, sizeof(path), "/sys/kernel/debug/nuq/nuq%d/npu/recover", self->idx);
		CHECK(try_write(path, "2") == -EACCES, 10);
	}
	io_uring_queue_exit(&ring);
	up_free(fd, &u);
	close(fd);
	return fails;
}

static uint32_t run_privless(FIXTURE_DATA(dev) *self, int unpriv)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 1u << 28;
	if (pid == 0) {
		uint32_t f = privless_checks(self, unpriv);
		int i;

		for (i = 0; i < 32; i++)
			if (f & (1u << i))
				fprintf(stderr, "# %s: check %d failed\n",
					unpriv ? "uid 65534" : "uid 0 without caps", i);
		_exit(f ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 1u << 27;
	return WEXITSTATUS(status);
}

/*
 * Root may use realtime priority and write reset; uid 65534 (the device
 * node made 0666 for the test) and uid 0 without capabilities may not,
 * but still run jobs of every other priority.
 */
TEST_F(dev, privileges_realtime_reset_and_knobs)
{
	char path[128];
	struct stat st;
	struct io_uring ring;
	struct up u;
	int fd, res;

	snprintf(path, sizeof(path), "/sys/class/nuq/nuq%d/reset", self->idx);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0200, st.st_mode & 0777);
	EXPECT_EQ(0, st.st_uid);
	/* as root: realtime, and a reset write ("0": a no-op) */
	fd = dopen(self);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, up_make(fd, &u, 10));
	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	EXPECT_EQ(0, submit_prio(fd, &u, NUQ_PRIO_REALTIME, &ring, &res));
	EXPECT_EQ(0, res);
	EXPECT_EQ(0, try_write(path, "0"));
	io_uring_queue_exit(&ring);
	up_free(fd, &u);
	close(fd);

	ASSERT_EQ(0, stat(self->path, &st));
	ASSERT_EQ(0, chmod(self->path, 0666));
	EXPECT_EQ(0, run_privless(self, 1));
	ASSERT_EQ(0, chmod(self->path, st.st_mode & 07777));
	EXPECT_EQ(0, run_privless(self, 0))
		TH_LOG("uid 0 without CAP_SYS_ADMIN must not reset the device");
}

static void param_set(struct __test_metadata *_metadata, const char *name, unsigned long long v)
{
	char path[128], val[32];

	snprintf(path, sizeof(path), PARAM("%s"), name);
	snprintf(val, sizeof(val), "%llu", v);
	ASSERT_EQ(0, write_file(path, val)) TH_LOG("%s = %s", name, val);
}

/*
 * ctx_bo_count and ctx_bo_bytes bind each context on its own; memory of a
 * freed but mapped BO still counts; freeing makes room again.  The limits
 * themselves may be 0 or the largest value without wrapping.
 */
TEST_F(dev, bo_quotas_per_context_and_recovery)
{
	unsigned long long count0 = nuq_read_param("ctx_bo_count");
	unsigned long long bytes0 = nuq_read_param("ctx_bo_bytes");
	int a = dopen(self), b = dopen(self), i;
	uint32_t ha[9], hb[9], h = 0;
	uint8_t *p;

	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	param_set(_metadata, "ctx_bo_count", 8);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, bo_create(a, 4096, &ha[i]));
		ASSERT_EQ(0, bo_create(b, 4096, &hb[i]));
	}
	EXPECT_EQ(-ENOSPC, bo_create(a, 4096, &ha[8]));
	EXPECT_EQ(-ENOSPC, bo_create(b, 4096, &hb[8]));
	/* a freed handle whose memory is still mapped still counts */
	p = bo_map(a, ha[0], NULL);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, bo_free(a, ha[0]));
	EXPECT_EQ(-ENOSPC, bo_create(a, 4096, &ha[8]));
	munmap(p, 4096);
	EXPECT_EQ(0, bo_create(a, 4096, &ha[0]));
	EXPECT_EQ(-ENOSPC, bo_create(a, 4096, &ha[8]));
	param_set(_metadata, "ctx_bo_count", 0);
	EXPECT_EQ(-ENOSPC, bo_create(b, 4096, &h));
	param_set(_metadata, "ctx_bo_count", U32MAX);
	EXPECT_EQ(0, bo_create(b, 4096, &hb[8]));
	for (i = 0; i < 9; i++) {
		if (i < 8)
			EXPECT_EQ(0, bo_free(a, ha[i]));
		EXPECT_EQ(0, bo_free(b, hb[i]));
	}
	param_set(_metadata, "ctx_bo_count", count0);

	/* bytes, counted in whole pages */
	param_set(_metadata, "ctx_bo_bytes", 65536);
	EXPECT_EQ(0, bo_create(a, 61441, &ha[0]));	/* 64 KiB */
	EXPECT_EQ(-ENOSPC, bo_create(a, 1, &ha[1]));
	EXPECT_EQ(0, bo_create(b, 65536, &hb[0]));
	EXPECT_EQ(-ENOSPC, bo_create(b, 1, &hb[1]));
	EXPECT_EQ(0, bo_free(a, ha[0]));
	EXPECT_EQ(0, bo_create(a, 4096, &ha[0]));
	EXPECT_EQ(0, bo_create(a, 61440, &ha[1]));
	EXPECT_EQ(-ENOSPC, bo_create(a, 4096, &ha[2]));
	param_set(_metadata, "ctx_bo_bytes", 0);
	EXPECT_EQ(-ENOSPC, bo_create(a, 1, &ha[2]));
	param_set(_metadata, "ctx_bo_bytes", U64MAX);	/* no limit, no wrap */
	EXPECT_EQ(0, bo_create(a, 1 << 20, &ha[2]));
	param_set(_metadata, "ctx_bo_bytes", bytes0);
	close(a);
	close(b);
	EXPECT_EQ(0, dstat(self, "bo_bytes"));
}

/*
 * max_jobs_in_flight counts queued, running and finished-but-unreaped
 * jobs of a context: one more fails (EAGAIN by ioctl, -EBUSY by io_uring),
 * another context is not affected, and reaping makes room.
 */
TEST_F(dev, jobs_in_flight_cap_per_context_and_recovery)
{
	uint32_t max = self->info.max_jobs_in_flight, n, k;
	struct nuq_conv_job jobs[NUQ_MAX_BATCH];
	struct nuq_uring_batch ub = { 0 };
	int a = dopen(self), b = dopen(self), res;
	struct io_uring ring;
	struct up ua, ubj;
	uint64_t *seq, one;

	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	ASSERT_EQ(max, nuq_read_param("max_jobs_in_flight"));
	seq = calloc(max, sizeof(*seq));
	ASSERT_NE(NULL, seq);
	ASSERT_EQ(0, up_make(a, &ua, 11));
	ASSERT_EQ(0, up_make(b, &ubj, 12));
	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	for (k = 0; k < NUQ_MAX_BATCH; k++)
		jobs[k] = ua.dj.job;
	for (n = 0; n < max; n += k) {
		k = max - n < NUQ_MAX_BATCH ? max - n : NUQ_MAX_BATCH;
		ASSERT_EQ(0, submit(a, jobs, k, seq + n, NULL));
	}
	EXPECT_EQ(-EAGAIN, submit(a, jobs, 1, &one, NULL));
	EXPECT_EQ(-EAGAIN, submit_prio(a, &ua, NUQ_PRIO_NORMAL, &ring, &res));
	EXPECT_EQ(-EBUSY, res);
	ub = (struct nuq_uring_batch){ .jobs = (uintptr_t)jobs, .count = 2,
				       .job_size = sizeof(jobs[0]) };
	EXPECT_EQ(-EBUSY, uring_cmd(&ring, a, NUQ_URING_CMD_SUBMIT_BATCH, (uintptr_t)&ub,
				    sizeof(ub), 0));
	/* the other context is unaffected */
	EXPECT_EQ(0, run_job(b, &ubj.dj.job));
	/* reaping one makes room for one */
	EXPECT_EQ(0, wait_job(a, seq[0], -1));
	EXPECT_EQ(0, submit(a, jobs, 1, &seq[0], NULL));
	EXPECT_EQ(-EAGAIN, submit(a, jobs, 1, &one, NULL));
	for (n = 0; n < max; n++)
		EXPECT_EQ(0, wait_job(a, seq[n], -1));
	/* all of it again */
	EXPECT_EQ(0, submit(a, jobs, max < NUQ_MAX_BATCH ? max : NUQ_MAX_BATCH, seq, NULL));
	for (n = 0; n < (max < NUQ_MAX_BATCH ? max : NUQ_MAX_BATCH); n++)
		EXPECT_EQ(0, wait_job(a, seq[n], -1));
	io_uring_queue_exit(&ring);
	free(seq);
	up_free(a, &ua);
	up_free(b, &ubj);
	close(a);
	close(b);
}

/*
 * max_contexts bounds the open files of each device: beyond it open()
 * fails with EMFILE (also through /proc/self/fd), while dup() and fork()
 * share a context and the other devices are not affected.
 */
TEST_F(dev, contexts_cap_per_device_and_recovery)
{
	unsigned long long max0 = nuq_read_param("max_contexts");
	int fds[3], i, d, other, status, o = self->idx ? 0 : npu_find();
	char path[64];
	pid_t pid;

	ASSERT_EQ(0, dstat(self, "contexts"));
	param_set(_metadata, "max_contexts", 3);
	for (i = 0; i < 3; i++) {
		fds[i] = dopen(self);
		ASSERT_GE(fds[i], 0);
	}
	EXPECT_EQ(-1, dopen(self));
	EXPECT_EQ(EMFILE, errno);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
	EXPECT_EQ(-1, open(path, O_RDWR));
	EXPECT_EQ(EMFILE, errno);
	d = dup(fds[0]);
	EXPECT_GE(d, 0);
	EXPECT_EQ(3, dstat(self, "contexts"));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct nuq_info info;

		_exit(nuq_get_info(fds[1], &info) || dopen(self) != -1 || errno != EMFILE);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (o >= 0) {
		/* per device: another one still opens */
		other = npu_open(o);
		EXPECT_GE(other, 0) TH_LOG("/dev/nuq%d: %s", o, strerror(errno));
		if (other >= 0)
			close(other);
	}
	close(fds[2]);
	fds[2] = dopen(self);
	EXPECT_GE(fds[2], 0);
	for (i = 0; i < 3; i++)
		close(fds[i]);
	close(d);
	param_set(_metadata, "max_contexts", max0);
	EXPECT_EQ(0, dstat(self, "contexts"));
}

/* At most max_jobs_in_flight's default: a flood may fill rings and queue behind them. */
#define FLOOD_MAX	256

/* A context keeping @depth large jobs in flight until told to stop. */
struct flood {
	int fd, depth;
	struct test_job tj;
	struct dev_job dj;
	volatile int stop;
	long done, bad;
};

static void *flood_run(void *arg)
{
	struct flood *f = arg;
	uint64_t seq[FLOOD_MAX];
	int head = 0, n;

	for (n = 0; n < f->depth; n++)
		if (submit(f->fd, &f->dj.job, 1, &seq[n], NULL))
			f->bad++;
	while (!f->stop) {
		if (wait_job(f->fd, seq[head], -1))
			f->bad++;
		f->done++;
		if (submit(f->fd, &f->dj.job, 1, &seq[head], NULL))
			f->bad++;
		head = (head + 1) % f->depth;
	}
	for (n = 0; n < f->depth; n++, head = (head + 1) % f->depth)
		wait_job(f->fd, seq[head], -1);
	return NULL;
}

static double time_job(int fd, const struct nuq_conv_job *job, int reps)
{
	double t0 = now_s();
	int i;

	for (i = 0; i < reps; i++)
		if (run_job(fd, job))
			return -1;
	return (now_s() - t0) / reps;
}

/*
 * Fair sharing within a level is in MAC units (jobs.rst): a context that
 * keeps the device busy with large jobs delays another context's small
 * job of the same priority by at most the large jobs already on the
 * device (one on the software backend; npu_depth per engine on the NPU,
 * whose rings are FIFO), never by its whole queue.
 */
TEST_F_TIMEOUT(dev, flood_of_large_jobs_does_not_starve_another_context, 120)
{
	int b = dopen(self), i, iters = 8, ring = 1, engines = 1;
	double t_big, t_small, lat[8], worst = 0, sum = 0, bound, fifo;
	uint32_t mmacs = 8;
	struct flood f = { .depth = 0 };
	pthread_t th;
	struct up ub;

	ASSERT_GE(b, 0);
	if (self->info.backend == NUQ_BACKEND_NPU) {
		ring = (int)dev_stat(self->idx, "npu_depth");
		engines = npu_engines(self->idx);
	}
	/* enough to fill every engine's ring and keep a queue behind them */
	f.depth = 2 * ring * engines + 16 < FLOOD_MAX ? 2 * ring * engines + 16 : FLOOD_MAX;
	f.fd = dopen(self);
	ASSERT_GE(f.fd, 0);
	ASSERT_EQ(0, up_make(b, &ub, 13));
	t_small = time_job(b, &ub.dj.job, 5);
	ASSERT_GT(t_small, 0);
	/* a large job of about 60 ms on this device */
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, long_job(&f.tj, mmacs, 14));
		ASSERT_EQ(0, dev_job_upload(f.fd, &f.tj, &f.dj));
		t_big = time_job(f.fd, &f.dj.job, 2);
		ASSERT_GT(t_big, 0);
		if (i == 3 || (t_big > 0.04 && t_big < 0.12))
			break;
		dev_job_release(f.fd, &f.dj);
		test_job_free(&f.tj);
		mmacs = (uint32_t)(mmacs * 0.06 / t_big);
		mmacs = mmacs < 1 ? 1 : mmacs > 2000 ? 2000 : mmacs;
	}
	ASSERT_EQ(0, pthread_create(&th, NULL, flood_run, &f));
	usleep((useconds_t)(t_big * 3e6));	/* the flood is on the device */
	for (i = 0; i < iters; i++) {
		double t0 = now_s();

		EXPECT_EQ(0, run_job(b, &ub.dj.job));
		lat[i] = now_s() - t0;
		worst = lat[i] > worst ? lat[i] : worst;
		sum += lat[i];
		usleep(20000);
	}
	f.stop = 1;
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, f.bad);
	/* the least loaded engine has at most @ring jobs ahead of it */
	bound = 1.5 * (ring + 1) * t_big + t_small + 0.1;
	fifo = (f.depth - 1) * t_big / engines;
	TH_LOG("%s: large job %u MMACs %.1f ms, small job %.2f ms alone; flood of %d in flight "
	       "(%d engine(s), %d on each ring), %ld done", self->path, mmacs, t_big * 1e3,
	       t_small * 1e3, f.depth, engines, ring, f.done);
	TH_LOG("small job under the flood: mean %.1f ms, worst %.1f ms (bound %.1f ms = "
	       "1.5 x (%d + 1) large jobs + 100 ms; behind the whole queue: %.0f ms)",
	       sum / iters * 1e3, worst * 1e3, bound * 1e3, ring, fifo * 1e3);
	for (i = 0; i < iters; i++)
		TH_LOG("  latency %d: %.1f ms", i, lat[i] * 1e3);
	EXPECT_LT(worst, bound);
	EXPECT_LT(bound, fifo) TH_LOG("the flood is too shallow to tell fairness from FIFO");
	dev_job_release(f.fd, &f.dj);
	test_job_free(&f.tj);
	close(f.fd);
	up_free(b, &ub);
	close(b);
}

TEST_HARNESS_MAIN
