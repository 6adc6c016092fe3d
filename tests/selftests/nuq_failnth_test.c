// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: systematic fault injection (issue 14), as syzkaller does
 * it.  Every call userspace can make on /dev/nuqN - open and close, every
 * ioctl, mmap and munmap of a BO, poll, the sysfs reset, and the io_uring
 * commands - runs with its N-th allocation failing (nuq_failnth.h), for
 * N = 1, 2, ... until the call gets through without a fault.  After each
 * injected failure the call must have failed with ENOMEM (or its documented
 * errno) or succeeded correctly, left nothing half made (BO and job counts
 * in the context's debugfs state, the device's sysfs counters, handles and
 * sequence numbers that do not resolve), and the device must still run a
 * conv job to the reference result.  Leaks, WARNs, KASAN and lockdep
 * reports fail the VM run (tests/vm/run.sh, kmemleak on the debug kernel).
 *
 * Prints "# failnth: OP@nuqN points=N" per call and device, and
 * "# failnth: total points=N".  Skips on a kernel without fail-nth (the
 * production kernel); runs on /dev/nuq0 and on the NPU (variant npu).
 *
 * Two tests of the job path, which runs in the backends' threads where
 * fail-nth does not reach: the software thread's scratch allocation made
 * to fail (failslab's task filter), and the module's fault knob with the
 * interval and probability no other test sets (runs on every kernel).
 */
#include <dirent.h>
#include <poll.h>
#include <sys/mman.h>

#include "nuq_harness.h"
#include "nuq_failnth.h"
#include "nuq_npu.h"

/* No call has this many fault points; a loop that gets here is stuck. */
#define FAILNTH_MAX_POINTS	2000
/* Per call; nuq_harness.h scales it (by 8 on the slow debug kernel). */
#define OP_TIMEOUT_S		120
#define BATCH			3
#define BO_SIZE			(2 * 4096 + 100)	/* three pages */

/* Calls run and fault points, shared by the harness's children for the total. */
static struct failnth_tally {
	unsigned int ops;
	unsigned int points;
} *tally;

static void __attribute__((constructor)) failnth_tally_map(void)
{
	void *p = mmap(NULL, sizeof(*tally), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	tally = p == MAP_FAILED ? NULL : p;
}

FIXTURE(failnth) {
	struct failnth fn;
	int injecting;			/* fn is set up and must be restored */
	int idx;			/* N of /dev/nuqN */
	char path[32], name[16];
	int fd;				/* the long-lived context */
	unsigned int ctx_id;		/* its debugfs directory */
	struct test_job tj;		/* the check job and its reference output */
	uint8_t *ref;
	struct dev_job dj;		/* the check job in fd's BOs */
	long long base_contexts, base_bo_bytes;
	long long base_ctx_bo_count, base_ctx_bo_bytes;	/* fd's quota charge */
	uint32_t next_handle;		/* the handle fd's next BO gets (lowest free) */
	/* What the call under test works on, set by its prepare step. */
	int ofd;			/* a fresh context, or -1 */
	unsigned int octx_id;
	struct dev_job oj;
	uint32_t handle;
	void *map;
	uint64_t seqnos[BATCH];
	int32_t statuses[BATCH];
	struct nuq_conv_job jobs[BATCH];
	struct io_uring ring;
	int ring_ok;
	int sysfs_fd;
	long long submitted;
	int fired;			/* whether the call under test had a fault injected */
};

FIXTURE_VARIANT(failnth) {
	int npu;
};

FIXTURE_VARIANT_ADD(failnth, sw) {
	.npu = 0,
};

FIXTURE_VARIANT_ADD(failnth, npu) {
	.npu = 1,
};

static long long dstat(FIXTURE_DATA(failnth) *self, const char *name)
{
	return nuq_sysfs_stat(self->name, name);
}

/* The newest context of this process on the device (contexts are numbered in order). */
static int ctx_newest(FIXTURE_DATA(failnth) *self, unsigned int *id)
{
	char dir[96], path[384], line[64];
	struct dirent *de;
	int found = -1;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/kernel/debug/nuq/%s", self->name);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		unsigned int n;
		FILE *f;

		if (sscanf(de->d_name, "ctx%u", &n) != 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s/state", dir, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f) && atoi(line + strlen("tgid: ")) == getpid() &&
		    (found < 0 || n > *id)) {
			*id = n;
			found = 0;
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* A "key: value" line of a context's debugfs state, or -1. */
static long long ctx_state(FIXTURE_DATA(failnth) *self, unsigned int id, const char *key)
{
	char path[128], line[96];
	size_t len = strlen(key);
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/nuq/%s/ctx%u/state", self->name, id);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':')
			v = strtoll(line + len + 1, NULL, 0);
	fclose(f);
	return v;
}

/* Nothing of the context's is in flight or waiting to be reaped. */
static void expect_ctx_idle(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			    unsigned int id, const char *what)
{
	EXPECT_EQ(0, ctx_state(self, id, "jobs_inflight")) TH_LOG("%s", what);
	EXPECT_EQ(0, ctx_state(self, id, "jobs_unreaped")) TH_LOG("%s", what);
}

/* Run the check job on @fd/@dj: it must give the reference result. */
static void expect_job_runs(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			    int fd, struct dev_job *dj, const char *what)
{
	size_t out = self->tj.size[NUQ_T_OUTPUT];
	uint64_t seq;

	memset(dj->map[NUQ_T_OUTPUT], 0x5a, out);
	ASSERT_EQ(0, submit(fd, &dj->job, 1, &seq, NULL)) TH_LOG("%s", what);
	ASSERT_EQ(0, wait_job(fd, seq, -1)) TH_LOG("%s", what);
	EXPECT_EQ(0, memcmp(dj->map[NUQ_T_OUTPUT], self->ref, out))
		TH_LOG("%s: the job's output differs from the reference", what);
}

/* The device after a call under test: nothing left over, and it works. */
static void expect_device_sane(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			       const char *what)
{
	EXPECT_EQ(self->base_contexts, dstat(self, "contexts")) TH_LOG("%s", what);
	EXPECT_EQ(self->base_bo_bytes, dstat(self, "bo_bytes")) TH_LOG("%s", what);
	/* A refused BO_CREATE gives its quota charge back. */
	EXPECT_EQ(self->base_ctx_bo_count, ctx_state(self, self->ctx_id, "bo_count"))
		TH_LOG("%s", what);
	EXPECT_EQ(self->base_ctx_bo_bytes, ctx_state(self, self->ctx_id, "bo_bytes"))
		TH_LOG("%s", what);
	expect_ctx_idle(_metadata, self, self->ctx_id, what);
	expect_job_runs(_metadata, self, self->fd, &self->dj, what);
}

FIXTURE_SETUP(failnth)
{
	const char *why = failnth_unsupported();
	int ret;

	self->fd = self->ofd = self->sysfs_fd = -1;
	if (why)
		SKIP(return, "%s", why);
	self->idx = variant->npu ? npu_find() : 0;
	if (self->idx < 0)
		SKIP(return, "no NPU in this VM");
	snprintf(self->path, sizeof(self->path), "/dev/nuq%d", self->idx);
	snprintf(self->name, sizeof(self->name), "nuq%d", self->idx);
	ASSERT_NE(NULL, tally);

	self->fd = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s", self->path, strerror(errno));
	ASSERT_EQ(0, ctx_newest(self, &self->ctx_id)) TH_LOG("no debugfs state of the context");
	ASSERT_EQ(0, small_job(&self->tj, NUQ_WFMT_INT8, 8, 0xfa11 + self->idx));
	self->ref = malloc(self->tj.size[NUQ_T_OUTPUT]);
	ASSERT_NE(NULL, self->ref);
	ASSERT_EQ(0, conv_ref(&self->tj.job, self->tj.buf, self->ref));
	ASSERT_EQ(0, dev_job_upload(self->fd, &self->tj, &self->dj));
	/* Maps the BOs on the NPU: later checks allocate nothing new. */
	expect_job_runs(_metadata, self, self->fd, &self->dj, "before any injection");
	for (ret = 0; ret < NUQ_T_COUNT; ret++)
		if (self->dj.handle[ret] >= self->next_handle)
			self->next_handle = self->dj.handle[ret] + 1;
	self->base_ctx_bo_count = ctx_state(self, self->ctx_id, "bo_count");
	self->base_ctx_bo_bytes = ctx_state(self, self->ctx_id, "bo_bytes");
	self->base_contexts = dstat(self, "contexts");
	self->base_bo_bytes = dstat(self, "bo_bytes");

	ret = failnth_enable(&self->fn);
	if (ret)
		failnth_restore(&self->fn);	/* teardown does not run after a failed setup */
	ASSERT_EQ(0, ret) TH_LOG("setting up failslab/fail_page_alloc: %s", strerror(-ret));
	self->injecting = 1;
}

FIXTURE_TEARDOWN(failnth)
{
	if (self->injecting)
		failnth_restore(&self->fn);
	if (self->ring_ok)
		io_uring_queue_exit(&self->ring);
	if (self->ofd >= 0)
		close(self->ofd);
	if (self->sysfs_fd >= 0)
		close(self->sysfs_fd);
	if (self->fd >= 0) {
		dev_job_release(self->fd, &self->dj);
		close(self->fd);
	}
	free(self->ref);
	test_job_free(&self->tj);
}

/*
 * One call under test.  prepare() makes what the call needs, call() is the
 * call alone (the armed window) and returns 0 or -errno, finish() checks
 * the outcome and undoes prepare(); only call() runs armed.
 */
struct failnth_op {
	const char *name;
	void (*prepare)(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self);
	int (*call)(FIXTURE_DATA(failnth) *self);
	void (*finish)(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
		       int ret, const char *what);
	int errnos[3];		/* what an injected failure may return besides ENOMEM */
};

#define FAILNTH_OP(nm, prep, fn, fin, ...) {				\
	.name = nm, .prepare = prep, .call = fn, .finish = fin,		\
	.errnos = { __VA_ARGS__ },					\
}

static int errno_allowed(const struct failnth_op *op, int err)
{
	unsigned int i;

	if (err == ENOMEM)
		return 1;
	for (i = 0; i < sizeof(op->errnos) / sizeof(op->errnos[0]); i++)
		if (op->errnos[i] && op->errnos[i] == err)
			return 1;
	return 0;
}

/*
 * N = 1, 2, ... until the call gets through without a fault, twice at the
 * same N: a call whose path varies (the NPU fills its rings in the
 * submitter's call, or in its worker when that is busy) may reach more
 * points the second time.
 */
static void run_op(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
		   const struct failnth_op *op)
{
	unsigned int n = 1, points = 0, clean = 0;
	char what[96];
	int ret, fired;

	if (_metadata->skip)
		return;
	while (clean < 2) {
		snprintf(what, sizeof(what), "%s@%s, fault point %u", op->name, self->name, n);
		ASSERT_GE(FAILNTH_MAX_POINTS, n) TH_LOG("%s: the call never got through", what);
		if (op->prepare)
			op->prepare(_metadata, self);
		ASSERT_EQ(0, failnth_arm(&self->fn, n));
		ret = op->call(self);
		fired = failnth_fired(&self->fn);
		ASSERT_LE(0, fired) TH_LOG("reading %s: %s", FAILNTH_PATH, strerror(-fired));
		if (fired) {
			EXPECT_TRUE(!ret || errno_allowed(op, -ret))
				TH_LOG("%s: failed with %s", what, strerror(-ret));
		} else {
			EXPECT_EQ(0, ret) TH_LOG("%s: failed (%s) with no fault injected",
						 what, strerror(-ret));
		}
		self->fired = fired;
		op->finish(_metadata, self, ret, what);
		expect_device_sane(_metadata, self, what);
		points += fired;
		/* One broken fault point is enough to look at; the rest would repeat it. */
		if (!_metadata->passed)
			break;
		if (fired) {
			n++;
			clean = 0;
		} else {
			clean++;
		}
	}
	ksft_print_msg("failnth: %s@%s points=%u\n", op->name, self->name, points);
	fflush(stdout);		/* the harness's child ends with _exit() */
	__atomic_add_fetch(&tally->ops, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&tally->points, points, __ATOMIC_RELAXED);
}

/* --- open and close ------------------------------------------------------- */

static int call_open(FIXTURE_DATA(failnth) *self)
{
	self->ofd = open(self->path, O_RDWR | O_CLOEXEC);
	return self->ofd < 0 ? -errno : 0;
}

static void finish_open(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			int ret, const char *what)
{
	struct nuq_info info;

	if (ret) {
		EXPECT_EQ(self->base_contexts, dstat(self, "contexts")) TH_LOG("%s", what);
		return;
	}
	EXPECT_EQ(self->base_contexts + 1, dstat(self, "contexts")) TH_LOG("%s", what);
	EXPECT_EQ(0, nuq_get_info(self->ofd, &info)) TH_LOG("%s", what);
	EXPECT_EQ(self->idx, info.index) TH_LOG("%s", what);
	close(self->ofd);
	self->ofd = -1;
}

/*
 * A context with BOs and a finished, unreaped job; @keep_output leaves the
 * output BO mapped, and the mapping then holds the file.
 */
static void prepare_used_ctx(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			     int keep_output)
{
	uint64_t seq;
	int i;

	self->ofd = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ofd);
	ASSERT_EQ(0, dev_job_upload(self->ofd, &self->tj, &self->oj));
	ASSERT_EQ(0, submit(self->ofd, &self->oj.job, 1, &seq, NULL));
	ASSERT_EQ(0, ctx_newest(self, &self->octx_id));
	while (ctx_state(self, self->octx_id, "jobs_unreaped") != 1)
		usleep(1000);
	for (i = 0; i < NUQ_T_COUNT; i++) {
		if ((keep_output && i == NUQ_T_OUTPUT) || !self->oj.map[i])
			continue;
		munmap(self->oj.map[i], self->oj.size[i]);
		self->oj.map[i] = NULL;
	}
}

static void prepare_close(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	prepare_used_ctx(_metadata, self, 0);
}

/* The last close: the context is released (task work) before close() returns. */
static int call_close(FIXTURE_DATA(failnth) *self)
{
	int ret = close(self->ofd);

	self->ofd = -1;
	return ret ? -errno : 0;
}

static void finish_close(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			 int ret, const char *what)
{
	EXPECT_EQ(self->base_contexts, dstat(self, "contexts")) TH_LOG("%s", what);
	memset(&self->oj, 0, sizeof(self->oj));
}

/* Closed with the output BO still mapped: the munmap releases the context. */
static void prepare_munmap_last(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	prepare_used_ctx(_metadata, self, 1);
	ASSERT_EQ(0, close(self->ofd));
	self->ofd = -1;
	EXPECT_EQ(self->base_contexts + 1, dstat(self, "contexts"));
}

static int call_munmap_last(FIXTURE_DATA(failnth) *self)
{
	return munmap(self->oj.map[NUQ_T_OUTPUT], self->oj.size[NUQ_T_OUTPUT]) ? -errno : 0;
}

static void finish_munmap_last(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			       int ret, const char *what)
{
	if (ret) {
		EXPECT_EQ(0, call_munmap_last(self)) TH_LOG("%s", what);
	}
	EXPECT_EQ(self->base_contexts, dstat(self, "contexts")) TH_LOG("%s", what);
	memset(&self->oj, 0, sizeof(self->oj));
}

TEST_F_TIMEOUT(failnth, open, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("open", NULL, call_open, finish_open);

	run_op(_metadata, self, &op);
}

TEST_F_TIMEOUT(failnth, close, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("close", prepare_close, call_close, finish_close);

	run_op(_metadata, self, &op);
}

TEST_F_TIMEOUT(failnth, munmap_last, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("munmap_last", prepare_munmap_last,
						call_munmap_last, finish_munmap_last);

	run_op(_metadata, self, &op);
}

/* --- GET_INFO and the BO ioctls ------------------------------------------- */

static struct nuq_info info_out;
static struct nuq_bo_info bo_info_out;

static int call_get_info(FIXTURE_DATA(failnth) *self)
{
	return nuq_get_info(self->fd, &info_out);
}

static void finish_get_info(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			    int ret, const char *what)
{
	if (!ret) {
		EXPECT_EQ(self->idx, info_out.index) TH_LOG("%s", what);
		EXPECT_EQ(NUQ_UAPI_VERSION, info_out.uapi_version) TH_LOG("%s", what);
	}
}

static int bo_info(int fd, uint32_t handle, struct nuq_bo_info *out)
{
	memset(out, 0, sizeof(*out));
	out->handle = handle;
	return ioctl(fd, NUQ_IOCTL_BO_INFO, out) ? -errno : 0;
}

static void prepare_bo_create(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	self->handle = 0;
}

static int call_bo_create(FIXTURE_DATA(failnth) *self)
{
	return bo_create(self->fd, BO_SIZE, &self->handle);
}

static void finish_bo_create(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			     int ret, const char *what)
{
	struct nuq_bo_info bi;

	if (ret) {
		/* Neither a handle nor a charge left behind. */
		EXPECT_EQ(-ENOENT, bo_info(self->fd, self->next_handle, &bi)) TH_LOG("%s", what);
		return;
	}
	EXPECT_EQ(self->next_handle, self->handle) TH_LOG("%s", what);
	ASSERT_EQ(0, bo_info(self->fd, self->handle, &bi)) TH_LOG("%s", what);
	EXPECT_EQ(3 * 4096, bi.size) TH_LOG("%s", what);
	EXPECT_EQ(0, bo_free(self->fd, self->handle)) TH_LOG("%s", what);
}

static void prepare_bo_exists(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	ASSERT_EQ(0, bo_create(self->fd, BO_SIZE, &self->handle));
}

static int call_bo_info(FIXTURE_DATA(failnth) *self)
{
	return bo_info(self->fd, self->handle, &bo_info_out);
}

static void finish_bo_info(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			   int ret, const char *what)
{
	if (!ret) {
		EXPECT_EQ(3 * 4096, bo_info_out.size) TH_LOG("%s", what);
		EXPECT_EQ((uint64_t)self->handle << 12, bo_info_out.mmap_offset) TH_LOG("%s", what);
	}
	EXPECT_EQ(0, bo_free(self->fd, self->handle)) TH_LOG("%s", what);
}

static int call_bo_free(FIXTURE_DATA(failnth) *self)
{
	return bo_free(self->fd, self->handle);
}

static void finish_bo_free(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			   int ret, const char *what)
{
	struct nuq_bo_info bi;

	if (ret) {	/* still there: free it for real */
		EXPECT_EQ(0, bo_info(self->fd, self->handle, &bi)) TH_LOG("%s", what);
		EXPECT_EQ(0, bo_free(self->fd, self->handle)) TH_LOG("%s", what);
	}
	EXPECT_EQ(-ENOENT, bo_info(self->fd, self->handle, &bi)) TH_LOG("%s", what);
}

TEST_F_TIMEOUT(failnth, get_info, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("get_info", NULL, call_get_info, finish_get_info);

	run_op(_metadata, self, &op);
}

TEST_F_TIMEOUT(failnth, bo_create, OP_TIMEOUT_S)
{
	/* ENOSPC, a quota, is documented though not expected here. */
	const struct failnth_op op = FAILNTH_OP("bo_create", prepare_bo_create, call_bo_create,
						finish_bo_create, ENOSPC);

	run_op(_metadata, self, &op);
}

TEST_F_TIMEOUT(failnth, bo_info, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("bo_info", prepare_bo_exists, call_bo_info,
						finish_bo_info);

	run_op(_metadata, self, &op);
}

TEST_F_TIMEOUT(failnth, bo_free, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("bo_free", prepare_bo_exists, call_bo_free,
						finish_bo_free);

	run_op(_metadata, self, &op);
}

/* --- mmap and munmap of a BO ---------------------------------------------- */

static void prepare_mmap(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	prepare_bo_exists(_metadata, self);
	self->map = MAP_FAILED;
}

static int call_mmap(FIXTURE_DATA(failnth) *self)
{
	self->map = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
			 (off_t)self->handle << 12);
	return self->map == MAP_FAILED ? -errno : 0;
}

/* The mapping shows the BO's memory: what is written reads back, zeroed at first. */
static void expect_mapping_works(struct __test_metadata *_metadata, uint8_t *p, const char *what)
{
	unsigned int i;

	for (i = 0; i < 3 * 4096; i += 1024) {
		EXPECT_EQ(0, p[i]) TH_LOG("%s: BO not zeroed at %u", what, i);
		p[i] = (uint8_t)(i >> 10) + 1;
	}
	for (i = 0; i < 3 * 4096; i += 1024)
		EXPECT_EQ((uint8_t)(i >> 10) + 1, p[i]) TH_LOG("%s", what);
}

/* Freeing the handle frees the memory once no mapping holds it: no reference leaked. */
static void finish_mmap(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			int ret, const char *what)
{
	if (!ret) {
		expect_mapping_works(_metadata, self->map, what);
		EXPECT_EQ(0, munmap(self->map, 3 * 4096)) TH_LOG("%s", what);
	}
	EXPECT_EQ(0, bo_free(self->fd, self->handle)) TH_LOG("%s", what);
}

static void prepare_munmap(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	prepare_mmap(_metadata, self);
	ASSERT_EQ(0, call_mmap(self));
	expect_mapping_works(_metadata, self->map, "before munmap");
}

static int call_munmap(FIXTURE_DATA(failnth) *self)
{
	return munmap(self->map, 3 * 4096) ? -errno : 0;
}

static void finish_munmap(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			  int ret, const char *what)
{
	if (ret) {
		EXPECT_EQ(0, munmap(self->map, 3 * 4096)) TH_LOG("%s", what);
	}
	EXPECT_EQ(0, bo_free(self->fd, self->handle)) TH_LOG("%s", what);
}

TEST_F_TIMEOUT(failnth, mmap, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("mmap", prepare_mmap, call_mmap, finish_mmap);

	run_op(_metadata, self, &op);
}

TEST_F_TIMEOUT(failnth, munmap, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("munmap", prepare_munmap, call_munmap,
						finish_munmap);

	run_op(_metadata, self, &op);
}

/* --- SUBMIT, WAIT and poll ------------------------------------------------ */

/*
 * A fresh context with the check job in its BOs: on the NPU its first job
 * also creates the context's device address space and maps the BOs, in
 * the submitter's call.
 */
static void prepare_fresh(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			  uint32_t prio)
{
	int i;

	self->ofd = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ofd);
	ASSERT_EQ(0, ctx_newest(self, &self->octx_id));
	ASSERT_EQ(0, dev_job_upload(self->ofd, &self->tj, &self->oj));
	memset(self->oj.map[NUQ_T_OUTPUT], 0x5a, self->tj.size[NUQ_T_OUTPUT]);
	for (i = 0; i < BATCH; i++) {
		self->jobs[i] = self->oj.job;
		self->jobs[i].priority = prio;
		self->seqnos[i] = 0;
		self->statuses[i] = 1;
	}
	self->submitted = dstat(self, "jobs_submitted");
}

static void prepare_normal(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	prepare_fresh(_metadata, self, NUQ_PRIO_NORMAL);
}

static void prepare_realtime(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	prepare_fresh(_metadata, self, NUQ_PRIO_REALTIME);
}

static void release_fresh(FIXTURE_DATA(failnth) *self)
{
	dev_job_release(self->ofd, &self->oj);
	close(self->ofd);
	self->ofd = -1;
}

/* Jobs that were refused left nothing: no slot taken, no number that resolves. */
static void expect_nothing_queued(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
				  const char *what)
{
	long long last = ctx_state(self, self->octx_id, "last_seqno"), s;

	expect_ctx_idle(_metadata, self, self->octx_id, what);
	EXPECT_EQ(self->submitted, dstat(self, "jobs_submitted")) TH_LOG("%s", what);
	for (s = 1; s <= last; s++)
		EXPECT_EQ(-ENOENT, wait_job(self->ofd, s, 0)) TH_LOG("%s: seqno %lld", what, s);
}

/*
 * A job accepted in a call that had a fault injected may end -ENOMEM: on
 * the NPU the submitter's own call maps the job's BOs when it starts it.
 */
static int job_status_allowed(FIXTURE_DATA(failnth) *self, int status)
{
	return self->fired && status == -ENOMEM;
}

static void expect_output(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			  const char *what)
{
	EXPECT_EQ(0, memcmp(self->oj.map[NUQ_T_OUTPUT], self->ref, self->tj.size[NUQ_T_OUTPUT]))
		TH_LOG("%s: the job's output differs from the reference", what);
}

static int call_submit_n(FIXTURE_DATA(failnth) *self, uint32_t count)
{
	return submit(self->ofd, self->jobs, count, self->seqnos, NULL);
}

static int call_submit(FIXTURE_DATA(failnth) *self)
{
	return call_submit_n(self, 1);
}

static int call_submit_batch(FIXTURE_DATA(failnth) *self)
{
	return call_submit_n(self, BATCH);
}

static void finish_submit_n(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			    int ret, const char *what, uint32_t count)
{
	int status, failed = 0;
	uint32_t i;

	if (ret) {
		expect_nothing_queued(_metadata, self, what);
	} else {
		for (i = 0; i < count; i++) {
			status = wait_job(self->ofd, self->seqnos[i], -1);
			failed |= status;
			EXPECT_TRUE(!status || job_status_allowed(self, status))
				TH_LOG("%s: job %u ended %d", what, i, status);
		}
		if (!failed)
			expect_output(_metadata, self, what);
		expect_ctx_idle(_metadata, self, self->octx_id, what);
	}
	release_fresh(self);
}

static void finish_submit(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			  int ret, const char *what)
{
	finish_submit_n(_metadata, self, ret, what, 1);
}

static void finish_submit_batch(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
				int ret, const char *what)
{
	finish_submit_n(_metadata, self, ret, what, BATCH);
}

TEST_F_TIMEOUT(failnth, submit, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("submit", prepare_normal, call_submit, finish_submit);

	run_op(_metadata, self, &op);
}

TEST_F_TIMEOUT(failnth, submit_batch, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("submit_batch", prepare_normal, call_submit_batch,
						finish_submit_batch);

	run_op(_metadata, self, &op);
}

/* Realtime priority: the capability check (root in the VM) is in the path too. */
TEST_F_TIMEOUT(failnth, submit_realtime, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("submit_realtime", prepare_realtime, call_submit,
						finish_submit);

	run_op(_metadata, self, &op);
}

/* A finished job of fd, not reaped yet, in seqnos[0]. */
static void prepare_finished(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	memset(self->dj.map[NUQ_T_OUTPUT], 0x5a, self->tj.size[NUQ_T_OUTPUT]);
	ASSERT_EQ(0, submit(self->fd, &self->dj.job, 1, self->seqnos, NULL));
	while (ctx_state(self, self->ctx_id, "jobs_unreaped") != 1)
		usleep(1000);
}

static struct nuq_wait wait_out;

static int call_wait(FIXTURE_DATA(failnth) *self)
{
	memset(&wait_out, 0, sizeof(wait_out));
	wait_out.seqno = self->seqnos[0];
	wait_out.timeout_ns = -1;
	return ioctl(self->fd, NUQ_IOCTL_WAIT, &wait_out) ? -errno : 0;
}

static void finish_wait(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			int ret, const char *what)
{
	if (ret) {	/* the job is still there to reap */
		EXPECT_EQ(0, wait_job(self->fd, self->seqnos[0], 0)) TH_LOG("%s", what);
	} else {
		EXPECT_EQ(0, wait_out.status) TH_LOG("%s", what);
	}
	EXPECT_EQ(-ENOENT, wait_job(self->fd, self->seqnos[0], 0)) TH_LOG("%s", what);
	EXPECT_EQ(0, memcmp(self->dj.map[NUQ_T_OUTPUT], self->ref, self->tj.size[NUQ_T_OUTPUT]))
		TH_LOG("%s", what);
}

static int call_poll(FIXTURE_DATA(failnth) *self)
{
	struct pollfd p = { .fd = self->fd, .events = POLLIN };
	int ret = poll(&p, 1, 0);

	if (ret < 0)
		return -errno;
	/* Readable: a finished job waits to be reaped. */
	return ret == 1 && (p.revents & POLLIN) ? 0 : -ENODATA;
}

static void finish_poll(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			int ret, const char *what)
{
	EXPECT_EQ(0, wait_job(self->fd, self->seqnos[0], 0)) TH_LOG("%s", what);
}

TEST_F_TIMEOUT(failnth, wait, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("wait", prepare_finished, call_wait, finish_wait);

	run_op(_metadata, self, &op);
}

TEST_F_TIMEOUT(failnth, poll, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("poll", prepare_finished, call_poll, finish_poll);

	run_op(_metadata, self, &op);
}

/* --- io_uring commands ---------------------------------------------------- */

static struct nuq_uring_batch uring_batch;

/*
 * One ring for the whole loop, warmed up with a NOP: the task's io_uring
 * context and the ring's place in it are made once, outside the window.
 */
static void prepare_ring(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	struct io_uring_cqe *cqe;

	if (self->ring_ok)
		return;
	ASSERT_EQ(0, io_uring_queue_init(8, &self->ring, 0));
	self->ring_ok = 1;
	io_uring_prep_nop(io_uring_get_sqe(&self->ring));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&self->ring, &cqe));
	io_uring_cqe_seen(&self->ring, cqe);
}

static void prepare_uring(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	prepare_ring(_metadata, self);
	prepare_normal(_metadata, self);
	prep_nuq_cmd(&self->ring, self->ofd, NUQ_URING_CMD_SUBMIT, &self->jobs[0],
		     sizeof(self->jobs[0]), 1);
}

static void prepare_uring_batch(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	prepare_ring(_metadata, self);
	prepare_normal(_metadata, self);
	memset(&uring_batch, 0, sizeof(uring_batch));
	uring_batch.jobs = (uintptr_t)self->jobs;
	uring_batch.statuses = (uintptr_t)self->statuses;
	uring_batch.count = BATCH;
	uring_batch.job_size = sizeof(self->jobs[0]);
	prep_nuq_cmd(&self->ring, self->ofd, NUQ_URING_CMD_SUBMIT_BATCH, &uring_batch,
		     sizeof(uring_batch), 2);
}

/* io_uring_enter() alone: 0 once the SQE was consumed. */
static int call_uring(FIXTURE_DATA(failnth) *self)
{
	int ret = io_uring_submit(&self->ring);

	return ret == 1 ? 0 : ret < 0 ? ret : -EPROTO;
}

/*
 * An io_uring_enter() that failed left the SQE in the ring (io_uring
 * could not take it): it goes in now.  The command's own result is in the
 * CQE: 0 with the reference output, or an injected ENOMEM with nothing
 * left queued.
 */
static void finish_uring(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			 int ret, const char *what)
{
	struct io_uring_cqe *cqe;
	int res, i;

	if (ret) {
		ASSERT_EQ(1, io_uring_submit(&self->ring)) TH_LOG("%s", what);
	}
	ASSERT_EQ(0, io_uring_wait_cqe(&self->ring, &cqe)) TH_LOG("%s", what);
	res = cqe->res;
	io_uring_cqe_seen(&self->ring, cqe);
	if (res) {
		long long queued = dstat(self, "jobs_submitted") - self->submitted;
		uint32_t count = uring_batch.count ?: 1;

		/* Refused (nothing queued), or queued and then not started. */
		EXPECT_EQ(-ENOMEM, res) TH_LOG("%s: the command ended %s", what, strerror(-res));
		EXPECT_TRUE(self->fired) TH_LOG("%s: the command failed with no fault injected", what);
		if (queued) {
			EXPECT_EQ(count, queued) TH_LOG("%s", what);
		} else {
			expect_nothing_queued(_metadata, self, what);
		}
		expect_ctx_idle(_metadata, self, self->octx_id, what);
	} else {
		expect_output(_metadata, self, what);
		expect_ctx_idle(_metadata, self, self->octx_id, what);
		for (i = 0; i < BATCH && uring_batch.count; i++)
			EXPECT_EQ(0, self->statuses[i]) TH_LOG("%s: job %d", what, i);
	}
	memset(&uring_batch, 0, sizeof(uring_batch));
	release_fresh(self);
}

static void teardown_ring(FIXTURE_DATA(failnth) *self)
{
	if (self->ring_ok)
		io_uring_queue_exit(&self->ring);
	self->ring_ok = 0;
}

/* io_uring itself may refuse the SQE for want of a request: EAGAIN. */
TEST_F_TIMEOUT(failnth, uring_submit, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("uring_submit", prepare_uring, call_uring,
						finish_uring, EAGAIN);

	run_op(_metadata, self, &op);
	teardown_ring(self);
}

TEST_F_TIMEOUT(failnth, uring_batch, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("uring_batch", prepare_uring_batch, call_uring,
						finish_uring, EAGAIN);

	run_op(_metadata, self, &op);
	teardown_ring(self);
}

/* --- the sysfs reset (CAP_SYS_ADMIN: root in the VM) ----------------------- */

static void prepare_reset(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	char path[96];

	snprintf(path, sizeof(path), "/sys/class/nuq/%s/reset", self->name);
	self->sysfs_fd = open(path, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, self->sysfs_fd) TH_LOG("%s: %s", path, strerror(errno));
}

static int call_reset(FIXTURE_DATA(failnth) *self)
{
	return write(self->sysfs_fd, "1", 1) == 1 ? 0 : -errno;
}

static void finish_reset(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
			 int ret, const char *what)
{
	close(self->sysfs_fd);
	self->sysfs_fd = -1;
}

TEST_F_TIMEOUT(failnth, reset, OP_TIMEOUT_S)
{
	const struct failnth_op op = FAILNTH_OP("reset", prepare_reset, call_reset, finish_reset);

	run_op(_metadata, self, &op);
}

/* --- the module's own job fault knob: interval and probability ------------- */

#define KNOB(name)	"/sys/kernel/debug/nuq/nuq0/fault/" name

/* Run @n jobs one after the other on nuq0; returns how many failed (-EIO), or -1. */
static int knob_run(struct __test_metadata *_metadata, int fd, struct dev_job *dj,
		    const uint8_t *ref, size_t out, int n, int *failed_at)
{
	int i, status, failed = 0;
	uint64_t seq;

	for (i = 0; i < n; i++) {
		memset(dj->map[NUQ_T_OUTPUT], 0x5a, out);
		if (submit(fd, &dj->job, 1, &seq, NULL))
			return -1;
		status = wait_job(fd, seq, -1);
		if (status == -EIO) {
			if (failed_at)
				failed_at[failed] = i;
			failed++;
			continue;
		}
		EXPECT_EQ(0, status) TH_LOG("job %d", i);
		EXPECT_EQ(0, memcmp(dj->map[NUQ_T_OUTPUT], ref, out)) TH_LOG("job %d", i);
	}
	return failed;
}

/*
 * The other tests set probability 100 and interval 1 (fault_set()): here
 * every third job fails with interval 3, none with probability 0, and
 * about half with probability 50 (outside 4..44 of 48: p < 1e-9).
 */
TEST(fault_knob_interval_and_probability)
{
	int fd = open(NUQ_DEV0, O_RDWR | O_CLOEXEC), failed, at[9], i;
	struct test_job tj;
	struct dev_job dj;
	uint8_t *ref;
	size_t out;

	ASSERT_LE(0, fd);
	if (access(KNOB("interval"), W_OK))
		SKIP(return, "no %s (debugfs)", KNOB("interval"));
	ASSERT_EQ(0, small_job(&tj, NUQ_WFMT_INT8, 8, 0x4b0b));
	out = tj.size[NUQ_T_OUTPUT];
	ref = malloc(out);
	ASSERT_NE(NULL, ref);
	ASSERT_EQ(0, conv_ref(&tj.job, tj.buf, ref));
	ASSERT_EQ(0, dev_job_upload(fd, &tj, &dj));

	ASSERT_EQ(0, write_file(KNOB("times"), "-1"));
	ASSERT_EQ(0, write_file(KNOB("probability"), "100"));
	ASSERT_EQ(0, write_file(KNOB("interval"), "3"));
	ASSERT_EQ(0, write_file(KNOB("kind"), "fail"));
	failed = knob_run(_metadata, fd, &dj, ref, out, 9, at);
	EXPECT_EQ(3, failed);
	for (i = 1; i < failed && failed <= 9; i++)
		EXPECT_EQ(3, at[i] - at[i - 1]) TH_LOG("failures at jobs %d and %d", at[i - 1], at[i]);

	ASSERT_EQ(0, write_file(KNOB("interval"), "1"));
	ASSERT_EQ(0, write_file(KNOB("probability"), "0"));
	EXPECT_EQ(0, knob_run(_metadata, fd, &dj, ref, out, 6, NULL));

	ASSERT_EQ(0, write_file(KNOB("probability"), "50"));
	failed = knob_run(_metadata, fd, &dj, ref, out, 48, NULL);
	TH_LOG("probability 50: %d of 48 jobs failed", failed);
	EXPECT_LE(4, failed);
	EXPECT_GE(44, failed);

	fault_set("none", "-1", "10");
	EXPECT_EQ(0, knob_run(_metadata, fd, &dj, ref, out, 3, NULL));
	dev_job_release(fd, &dj);
	close(fd);
	free(ref);
	test_job_free(&tj);
}

/* --- the software backend's own allocation: a job's scratch ---------------- */

/* The pid of the kernel thread named @comm, or -1. */
static pid_t kthread_pid(const char *comm)
{
	char path[300], name[32];
	struct dirent *de;
	pid_t pid = -1;
	DIR *d = opendir("/proc");

	if (!d)
		return -1;
	while (pid < 0 && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (!failnth_read(path, name, sizeof(name)) && !strcmp(name, comm))
			pid = atoi(de->d_name);
	}
	closedir(d);
	return pid;
}

#define FAILSLAB(name)	FAILNTH_DBG "failslab/" name

/*
 * The backend thread allocates a job's scratch when the job starts, so
 * fail-nth (the caller's allocations) never reaches it: failslab's task
 * filter makes the thread's next slab allocation fail instead.  After a
 * reload the thread has no scratch, so that is the first job's.  The job
 * must end -ENOMEM (struct nuq_wait), and the next one run normally.
 */
TEST(scratch_allocation_fails)
{
	static const char *const knobs[] = {
		"task-filter", "probability", "interval", "times", "verbose", "ignore-gfp-wait",
	};
	char saved[6][32], path[96], times[16] = "";
	const char *why = failnth_unsupported();
	struct test_job tj;
	struct dev_job dj;
	uint8_t *ref;
	uint64_t seq;
	unsigned int i;
	pid_t pid;
	int fd, status;

	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, nuq_reload(NULL));
	pid = kthread_pid("nuq-sw0");
	ASSERT_LT(0, pid) TH_LOG("no nuq-sw0 thread");
	ASSERT_EQ(0, small_job(&tj, NUQ_WFMT_INT8, 8, 0x5c7a));
	ref = malloc(tj.size[NUQ_T_OUTPUT]);
	ASSERT_NE(NULL, ref);
	ASSERT_EQ(0, conv_ref(&tj.job, tj.buf, ref));
	fd = open(NUQ_DEV0, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, dev_job_upload(fd, &tj, &dj));

	for (i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "%s%s", FAILSLAB(""), knobs[i]);
		ASSERT_EQ(0, failnth_read(path, saved[i], sizeof(saved[i]))) TH_LOG("%s", path);
	}
	failnth_write(FAILSLAB("verbose"), "0");
	failnth_write(FAILSLAB("ignore-gfp-wait"), "N");
	failnth_write(FAILSLAB("task-filter"), "Y");
	failnth_write(FAILSLAB("interval"), "1");
	failnth_write(FAILSLAB("times"), "1");
	failnth_write(FAILSLAB("probability"), "100");
	snprintf(path, sizeof(path), "/proc/%d/make-it-fail", pid);
	ASSERT_EQ(0, failnth_write(path, "1"));

	ASSERT_EQ(0, submit(fd, &dj.job, 1, &seq, NULL));
	status = wait_job(fd, seq, -1);

	failnth_write(path, "0");
	failnth_read(FAILSLAB("times"), times, sizeof(times));
	for (i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "%s%s", FAILSLAB(""), knobs[i]);
		failnth_write(path, saved[i]);
	}
	EXPECT_STREQ("0", times) TH_LOG("the thread made no allocation");
	EXPECT_EQ(-ENOMEM, status);

	memset(dj.map[NUQ_T_OUTPUT], 0x5a, tj.size[NUQ_T_OUTPUT]);
	ASSERT_EQ(0, submit(fd, &dj.job, 1, &seq, NULL));
	EXPECT_EQ(0, wait_job(fd, seq, -1));
	EXPECT_EQ(0, memcmp(dj.map[NUQ_T_OUTPUT], ref, tj.size[NUQ_T_OUTPUT]));
	dev_job_release(fd, &dj);
	close(fd);
	free(ref);
	test_job_free(&tj);
}

/* --- the total, after every call on every device --------------------------- */

FIXTURE(failnth_total) {
};

FIXTURE_SETUP(failnth_total)
{
}

FIXTURE_TEARDOWN(failnth_total)
{
}

TEST_F(failnth_total, report)
{
	const char *why = failnth_unsupported();

	if (why)
		SKIP(return, "%s", why);
	ASSERT_NE(NULL, tally);
	ksft_print_msg("failnth: total points=%u\n", tally->points);
	fflush(stdout);
	TH_LOG("%u calls", tally->ops);
	/* open alone allocates: a run that injected nothing did not test. */
	EXPECT_LT(0, tally->points);
}

TEST_HARNESS_MAIN
