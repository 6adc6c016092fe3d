// SPDX-License-Identifier: GPL-2.0
/*
 * nuq-stress: the operation table, and the operations on contexts, buffer
 * objects, mappings and the plain ioctls.  Job submission, waits, poll and
 * io_uring are in stress_submit.c.  Every operation takes its choices from
 * the thread's PRNG and checks the result against the UAPI documentation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "stress.h"
#include "stress_submit.h"

#define PAGE		4096UL

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A random open context; @owned: not one inherited from the parent. */
struct stress_ctx *pick_ctx(struct stress_thr *t, int owned)
{
	int i, n = 0, idx[STRESS_MAX_CTX];

	for (i = 0; i < STRESS_MAX_CTX; i++)
		if (t->ctx[i].fd >= 0 && (!owned || !t->ctx[i].inherited))
			idx[n++] = i;
	return n ? &t->ctx[idx[rng_below(&t->rng, n)]] : NULL;
}

/* ioctl returning 0 or errno. */
int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

static void expect_err(struct stress_thr *t, const char *op, int got, int want)
{
	if (got != want)
		unexpected(t, op, "got %s, want %s", got ? strerror(got) : "success",
			   want ? strerror(want) : "success");
}

/* --- contexts and the job set ---------------------------------------------- */

static int bo_new(struct stress_thr *t, struct stress_ctx *c, uint64_t size,
		  uint32_t *handle, uint64_t *offset)
{
	struct nuq_bo_create cr = { .size = size, .handle = (uint32_t)rng_next(&t->rng) };
	struct nuq_bo_info in = { 0 };
	int err = xioctl(c->fd, NUQ_IOCTL_BO_CREATE, &cr);

	if (err) {
		if (err != ENOSPC && err != ENOMEM)
			unexpected(t, "bo_create", "size %llu: %s", (unsigned long long)size,
				   strerror(err));
		return -err;
	}
	if (!cr.handle)
		violation(t, "BO_CREATE returned handle 0");
	in.handle = cr.handle;
	err = xioctl(c->fd, NUQ_IOCTL_BO_INFO, &in);
	if (err) {
		unexpected(t, "bo_info", "of new handle %u: %s", cr.handle, strerror(err));
		return -err;
	}
	if (in.size != ((size + PAGE - 1) & ~(PAGE - 1)))
		violation(t, "BO of %llu bytes has size %llu", (unsigned long long)size,
			  (unsigned long long)in.size);
	*handle = cr.handle;
	*offset = in.mmap_offset;
	return 0;
}

static void bo_drop(struct stress_ctx *c, uint32_t handle)
{
	struct nuq_bo_free f = { .handle = handle };

	ioctl(c->fd, NUQ_IOCTL_BO_FREE, &f);
}

/* Put one of the thread's job templates into fresh BOs of @c. */
static void jobset_upload(struct stress_thr *t, struct stress_ctx *c)
{
	struct stress_jobset *js = &c->js;
	const struct test_job *tj;
	int i;

	if (!t->ntmpl)
		return;
	/* Template 0 is larger, the rest small. */
	i = rng_chance(&t->rng, 5) || t->ntmpl == 1 ? 0 : 1 + rng_below(&t->rng, t->ntmpl - 1);
	tj = &t->tmpl[i];
	memset(js, 0, sizeof(*js));
	js->big = i == 0;
	js->job = tj->job;
	for (i = 0; i < NUQ_T_COUNT; i++) {
		void *p;

		if (!tj->size[i])
			continue;
		if (bo_new(t, c, tj->size[i], &js->handle[i], &js->offset[i]))
			goto fail;
		js->size[i] = (tj->size[i] + PAGE - 1) & ~(PAGE - 1);
		js->job.tensors[i].handle = js->handle[i];
		p = mmap(NULL, js->size[i], PROT_READ | PROT_WRITE, MAP_SHARED, c->fd,
			 js->offset[i]);
		if (p == MAP_FAILED) {
			unexpected(t, "jobset_upload", "mmap: %s", strerror(errno));
			goto fail;
		}
		memcpy(p, tj->buf[i], tj->size[i]);
		munmap(p, js->size[i]);
	}
	js->live = 1;
	return;
fail:
	for (i = 0; i < NUQ_T_COUNT; i++)
		if (js->handle[i])
			bo_drop(c, js->handle[i]);
	memset(js, 0, sizeof(*js));
}

int ctx_open(struct stress_thr *t, struct stress_ctx *c)
{
	char path[32];
	int dev = stress_cfg->devs[rng_below(&t->rng, stress_cfg->ndevs)];

	snprintf(path, sizeof(path), "/dev/nuq%d", dev);
	memset(c, 0, sizeof(*c));
	c->fd = open(path, O_RDWR);
	if (c->fd < 0) {
		if (errno != EMFILE && errno != ENFILE)
			unexpected(t, "open", "%s: %s", path, strerror(errno));
		c->fd = -1;
		return -1;
	}
	c->dev = dev;
	{
		struct nuq_info in = { 0 };

		c->cap = xioctl(c->fd, NUQ_IOCTL_GET_INFO, &in) ? 256 : in.max_jobs_in_flight;
	}
	if (!rng_chance(&t->rng, 5))
		jobset_upload(t, c);
	return 0;
}

/* Close a context; its unreaped jobs are accounted as dropped by @why. */
void ctx_close(struct stress_thr *t, struct stress_ctx *c, enum stress_stat why)
{
	if (c->fd < 0)
		return;
	if (!c->inherited)
		ledger_drop(t, c, why);
	ring_fd_changed(t, c->fd);
	close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void op_ctx_open(struct stress_thr *t)
{
	int i;

	for (i = 0; i < STRESS_MAX_CTX; i++)
		if (t->ctx[i].fd < 0) {
			ctx_open(t, &t->ctx[i]);
			return;
		}
	/* All slots taken: close one (jobs in flight or not) and reopen. */
	i = rng_below(&t->rng, STRESS_MAX_CTX);
	ctx_close(t, &t->ctx[i], ST_IOCTL_DROP_CLOSE);
	ctx_open(t, &t->ctx[i]);
}

static void op_ctx_close(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 0);

	if (c)
		ctx_close(t, c, ST_IOCTL_DROP_CLOSE);
}

static void op_jobset(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 1);
	int i;

	if (!c || (c->js.live && !c->js.broken))
		return;
	for (i = 0; i < NUQ_T_COUNT; i++)
		if (c->js.handle[i])
			bo_drop(c, c->js.handle[i]);
	ring_fd_changed(t, c->fd);
	jobset_upload(t, c);
}

/* --- plain ioctls ---------------------------------------------------------- */

static void op_get_info(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 0);
	struct nuq_info in;
	int err;

	if (!c)
		return;
	memset(&in, 0, sizeof(in));
	err = xioctl(c->fd, NUQ_IOCTL_GET_INFO, &in);
	if (err) {
		unexpected(t, "get_info", "%s", strerror(err));
		return;
	}
	if (in.uapi_version >> 16 != NUQ_UAPI_VERSION_MAJOR || in.index != (uint32_t)c->dev ||
	    !(in.caps & NUQ_CAP_JOBS) || !in.max_jobs_in_flight || !memchr(in.name, 0, sizeof(in.name)))
		violation(t, "GET_INFO of nuq%d: version %#x index %u caps %#llx", c->dev,
			  in.uapi_version, in.index, (unsigned long long)in.caps);
}

static void op_get_info_bad(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 0);
	struct nuq_info in;

	if (!c)
		return;
	memset(&in, 0, sizeof(in));
	switch (rng_below(&t->rng, 4)) {
	case 0:
		in.flags = 1u << rng_below(&t->rng, 32);
		expect_err(t, "get_info flags", xioctl(c->fd, NUQ_IOCTL_GET_INFO, &in), EINVAL);
		break;
	case 1:
		in.rsvd[rng_below(&t->rng, 8)] = rng_next(&t->rng) | 1;
		expect_err(t, "get_info rsvd", xioctl(c->fd, NUQ_IOCTL_GET_INFO, &in), EINVAL);
		break;
	case 2:
		expect_err(t, "get_info NULL", xioctl(c->fd, NUQ_IOCTL_GET_INFO, NULL), EFAULT);
		break;
	default:
		/* readable zeroes, but the answer cannot be written back */
		expect_err(t, "get_info read-only", xioctl(c->fd, NUQ_IOCTL_GET_INFO, t->ro_page),
			   EFAULT);
		break;
	}
}

static const unsigned long known_cmds[] = {
	NUQ_IOCTL_GET_INFO, NUQ_IOCTL_BO_CREATE, NUQ_IOCTL_BO_INFO,
	NUQ_IOCTL_BO_FREE, NUQ_IOCTL_SUBMIT, NUQ_IOCTL_WAIT,
};

/* Unknown numbers (ENOTTY) and known numbers of another size or direction (EINVAL). */
static void op_ioctl_unknown(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 0);
	static const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
					     _IOC_READ | _IOC_WRITE };
	uint8_t buf[512] __attribute__((aligned(8)));
	unsigned long cmd, real;
	unsigned int nr, size;

	if (!c)
		return;
	memset(buf, 0, sizeof(buf));
	switch (rng_below(&t->rng, 3)) {
	case 0:
		nr = rng_below(&t->rng, 256);
		if (nr >= 0x40 && nr <= 0x45)
			nr += 0x10;
		cmd = _IOC(dirs[rng_below(&t->rng, 4)], NUQ_IOCTL_BASE, nr, rng_below(&t->rng, 257));
		expect_err(t, "ioctl unknown nr", xioctl(c->fd, cmd, buf), ENOTTY);
		break;
	case 1:
		cmd = _IOC(dirs[rng_below(&t->rng, 4)], 'A' + rng_below(&t->rng, 13),
			   rng_below(&t->rng, 256), rng_below(&t->rng, 257));
		expect_err(t, "ioctl other type", xioctl(c->fd, cmd, buf), ENOTTY);
		break;
	default:
		real = known_cmds[rng_below(&t->rng, 6)];
		do {
			size = rng_chance(&t->rng, 2) ? _IOC_SIZE(real) + rng_range(&t->rng, 1, 16) -
			       8 : rng_below(&t->rng, 512);
			cmd = _IOC(dirs[rng_below(&t->rng, 4)], NUQ_IOCTL_BASE, _IOC_NR(real),
				   size & 0x3fff);
		} while (cmd == real);
		expect_err(t, "ioctl wrong size/dir", xioctl(c->fd, cmd, buf), EINVAL);
		break;
	}
}

static void op_rw_bad(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 0);
	char buf[64] = { 0 };
	ssize_t n;

	if (!c)
		return;
	switch (rng_below(&t->rng, 3)) {
	case 0:
		n = read(c->fd, buf, rng_range(&t->rng, 1, sizeof(buf)));
		expect_err(t, "read", n < 0 ? errno : 0, EINVAL);
		break;
	case 1:
		n = write(c->fd, buf, rng_range(&t->rng, 1, sizeof(buf)));
		expect_err(t, "write", n < 0 ? errno : 0, EINVAL);
		break;
	default:
		n = lseek(c->fd, rng_below(&t->rng, 8192), SEEK_SET);
		expect_err(t, "lseek", n < 0 ? errno : 0, ESPIPE);
		break;
	}
}

/* --- buffer objects ---------------------------------------------------------- */

static void op_bo_create(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 1);
	uint32_t r = rng_below(&t->rng, 100);
	uint64_t size = r < 90 ? rng_range(&t->rng, 1, 65536) :
			r < 98 ? rng_range(&t->rng, 65537, 1 << 20) :
			rng_range(&t->rng, (1 << 20) + 1, 4 << 20);
	struct stress_bo *b;

	if (!c)
		return;
	if (c->nbo == STRESS_MAX_BO) {
		b = &c->bo[rng_below(&t->rng, c->nbo)];
		bo_drop(c, b->handle);
		*b = c->bo[--c->nbo];
	}
	b = &c->bo[c->nbo];
	if (!bo_new(t, c, size, &b->handle, &b->offset)) {
		b->size = (size + PAGE - 1) & ~(PAGE - 1);
		c->nbo++;
	}
}

static void op_bo_create_bad(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 1);
	struct nuq_bo_create cr = { .size = rng_range(&t->rng, 1, 65536) };
	struct nuq_info in = { 0 };
	int want = EINVAL;

	if (!c)
		return;
	switch (rng_below(&t->rng, 5)) {
	case 0:
		cr.size = 0;
		break;
	case 1:
		if (xioctl(c->fd, NUQ_IOCTL_GET_INFO, &in))
			return;
		cr.size = rng_chance(&t->rng, 2) ? in.max_bo_size + 1 :
			  ~0ULL - rng_below(&t->rng, 8192);
		break;
	case 2:
		cr.flags = 1u << rng_below(&t->rng, 32);
		break;
	case 3:
		cr.rsvd[rng_below(&t->rng, 2)] = rng_next(&t->rng) | 1;
		break;
	default:
		want = EFAULT;
		expect_err(t, "bo_create bad pointer",
			   xioctl(c->fd, NUQ_IOCTL_BO_CREATE, rng_chance(&t->rng, 2) ? NULL :
				  (void *)16), want);
		return;
	}
	want = xioctl(c->fd, NUQ_IOCTL_BO_CREATE, &cr);
	expect_err(t, "bo_create bad", want, EINVAL);
	if (!want)
		bo_drop(c, cr.handle);
}

static void op_bo_info(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 0);
	struct nuq_bo_info in = { 0 };
	struct stress_bo *b;
	int err;

	if (!c)
		return;
	switch (c->nbo ? rng_below(&t->rng, 5) : 4) {
	case 0:
	case 1:
		b = &c->bo[rng_below(&t->rng, c->nbo)];
		in.handle = b->handle;
		err = xioctl(c->fd, NUQ_IOCTL_BO_INFO, &in);
		if (c->inherited)
			break;	/* the parent may have freed it, or reused the handle */
		if (err)
			unexpected(t, "bo_info", "handle %u: %s", b->handle, strerror(err));
		else if (in.size != b->size || in.mmap_offset != b->offset)
			violation(t, "BO_INFO of %u changed: size %llu offset %#llx", b->handle,
				  (unsigned long long)in.size, (unsigned long long)in.mmap_offset);
		break;
	case 2:
		in.handle = c->bo[rng_below(&t->rng, c->nbo)].handle;
		in.flags = 1u << rng_below(&t->rng, 32);
		expect_err(t, "bo_info flags", xioctl(c->fd, NUQ_IOCTL_BO_INFO, &in), EINVAL);
		break;
	case 3:
		in.handle = c->bo[rng_below(&t->rng, c->nbo)].handle;
		in.rsvd[rng_below(&t->rng, 2)] = 1;
		expect_err(t, "bo_info rsvd", xioctl(c->fd, NUQ_IOCTL_BO_INFO, &in), EINVAL);
		break;
	default:
		in.handle = rng_chance(&t->rng, 4) ? 0 : 0x40000000u + rng_below(&t->rng, 1u << 30);
		expect_err(t, "bo_info unknown", xioctl(c->fd, NUQ_IOCTL_BO_INFO, &in), ENOENT);
		break;
	}
}

static void op_bo_free(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 1);
	struct nuq_bo_free f = { 0 };
	int i;

	if (!c)
		return;
	switch (rng_below(&t->rng, 6)) {
	case 0:
	case 1:
		if (!c->nbo)
			return;
		i = rng_below(&t->rng, c->nbo);
		f.handle = c->bo[i].handle;
		expect_err(t, "bo_free", xioctl(c->fd, NUQ_IOCTL_BO_FREE, &f), 0);
		c->bo[i] = c->bo[--c->nbo];
		/* freed handles are not reused before the next create */
		expect_err(t, "bo_free twice", xioctl(c->fd, NUQ_IOCTL_BO_FREE, &f), ENOENT);
		break;
	case 2:
		/* a BO of the job set, perhaps while its jobs run */
		i = rng_below(&t->rng, NUQ_T_COUNT);
		if (!c->js.live || !c->js.handle[i])
			return;
		f.handle = c->js.handle[i];
		expect_err(t, "bo_free job BO", xioctl(c->fd, NUQ_IOCTL_BO_FREE, &f), 0);
		ring_fd_changed(t, c->fd);
		c->js.handle[i] = 0;
		c->js.broken = 1;
		break;
	case 3:
		f.handle = c->nbo ? c->bo[0].handle : 1;
		f.flags = 1u << rng_below(&t->rng, 32);
		expect_err(t, "bo_free flags", xioctl(c->fd, NUQ_IOCTL_BO_FREE, &f), EINVAL);
		break;
	case 4:
		f.handle = c->nbo ? c->bo[0].handle : 1;
		f.rsvd[rng_below(&t->rng, 2)] = 1;
		expect_err(t, "bo_free rsvd", xioctl(c->fd, NUQ_IOCTL_BO_FREE, &f), EINVAL);
		break;
	default:
		f.handle = rng_chance(&t->rng, 4) ? 0 : 0x40000000u + rng_below(&t->rng, 1u << 30);
		expect_err(t, "bo_free unknown", xioctl(c->fd, NUQ_IOCTL_BO_FREE, &f), ENOENT);
		break;
	}
}

/* --- mappings ---------------------------------------------------------------- */

static struct stress_map *map_slot(struct stress_thr *t)
{
	int i;

	for (i = 0; i < STRESS_MAX_MAP; i++)
		if (!t->map[i].p)
			return &t->map[i];
	i = rng_below(&t->rng, STRESS_MAX_MAP);
	munmap(t->map[i].p, t->map[i].len);
	t->map[i].p = NULL;
	return &t->map[i];
}

static struct stress_map *pick_map(struct stress_thr *t)
{
	int i, n = 0, idx[STRESS_MAX_MAP];

	for (i = 0; i < STRESS_MAX_MAP; i++)
		if (t->map[i].p)
			idx[n++] = i;
	return n ? &t->map[idx[rng_below(&t->rng, n)]] : NULL;
}

/* A random BO of @c (a loose one or a job set's): handle, size, offset. */
static int pick_bo(struct stress_thr *t, struct stress_ctx *c, uint64_t *size, uint64_t *off)
{
	int i = rng_below(&t->rng, c->nbo + NUQ_T_COUNT);

	if (i < c->nbo) {
		*size = c->bo[i].size;
		*off = c->bo[i].offset;
		return 0;
	}
	i -= c->nbo;
	if (!c->js.live || !c->js.handle[i])
		return -1;
	*size = c->js.size[i];
	*off = c->js.offset[i];
	return 0;
}

static void op_mmap(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 0);
	struct stress_map *m;
	uint64_t size, off;
	size_t len;
	void *p;

	if (!c || pick_bo(t, c, &size, &off))
		return;
	len = rng_chance(&t->rng, 2) ? size : PAGE * rng_range(&t->rng, 1, size / PAGE);
	p = mmap(NULL, len, PROT_READ | (rng_chance(&t->rng, 4) ? 0 : PROT_WRITE), MAP_SHARED,
		 c->fd, off);
	if (p == MAP_FAILED) {
		/* in a child the parent may have freed it (ENOENT) or reused it (EINVAL) */
		if (errno != ENOMEM && !c->inherited)
			unexpected(t, "mmap", "%zu bytes at %#llx: %s", len,
				   (unsigned long long)off, strerror(errno));
		return;
	}
	(void)*(volatile uint8_t *)p;
	m = map_slot(t);
	m->p = p;
	m->len = len;
	m->writable = !!(mprotect(p, len, PROT_READ | PROT_WRITE) == 0);
}

static void op_mmap_bad(struct stress_thr *t)
{
	struct stress_ctx *c = pick_ctx(t, 0);
	uint64_t size, off;
	size_t len;
	void *p;
	int want;

	if (!c || pick_bo(t, c, &size, &off))
		return;
	len = size;
	switch (rng_below(&t->rng, 3)) {
	case 0:
		p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, c->fd, off);
		want = EINVAL;
		break;
	case 1:
		len = size + PAGE * rng_range(&t->rng, 1, 4);
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, c->fd, off);
		want = EINVAL;
		break;
	default:
		off = (0x40000000ULL + rng_below(&t->rng, 1u << 30)) * PAGE;
		if (rng_chance(&t->rng, 4))
			off = ((uint64_t)rng_range(&t->rng, 1, 0xffff) << 32) * PAGE;
		len = PAGE;
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, c->fd, off);
		want = ENOENT;
		break;
	}
	if (p != MAP_FAILED) {
		if (!c->inherited)
			unexpected(t, "mmap bad", "mapped (want %s)", strerror(want));
		munmap(p, len);
	} else if (!c->inherited || (errno != ENOENT && errno != EINVAL)) {
		expect_err(t, "mmap bad", errno, want);
	}
}

static void op_munmap(struct stress_thr *t)
{
	struct stress_map *m = pick_map(t);
	size_t cut;

	if (!m)
		return;
	if (m->len > PAGE && rng_chance(&t->rng, 3)) {
		/* split the mapping: drop its head or its tail */
		cut = PAGE * rng_range(&t->rng, 1, m->len / PAGE - 1);
		if (rng_chance(&t->rng, 2)) {
			expect_err(t, "munmap head", munmap(m->p, cut) ? errno : 0, 0);
			m->p = (uint8_t *)m->p + cut;
		} else {
			expect_err(t, "munmap tail",
				   munmap((uint8_t *)m->p + m->len - cut, cut) ? errno : 0, 0);
		}
		m->len -= cut;
		return;
	}
	expect_err(t, "munmap", munmap(m->p, m->len) ? errno : 0, 0);
	m->p = NULL;
}

static void op_mremap(struct stress_thr *t)
{
	struct stress_map *m = pick_map(t);
	void *p, *hole;
	size_t grow;

	if (!m)
		return;
	switch (rng_below(&t->rng, 3)) {
	case 0:
		/* growing a BO mapping is refused (VM_DONTEXPAND) */
		grow = PAGE * rng_range(&t->rng, 1, 4);
		p = mremap(m->p, m->len, m->len + grow,
			   rng_chance(&t->rng, 2) ? MREMAP_MAYMOVE : 0);
		if (p != MAP_FAILED) {
			unexpected(t, "mremap grow", "succeeded");
			munmap(p, m->len + grow);
			m->p = NULL;
		}
		break;
	case 1:
		if (m->len <= PAGE)
			return;
		p = mremap(m->p, m->len, m->len - PAGE, 0);
		if (p == MAP_FAILED)
			unexpected(t, "mremap shrink", "%s", strerror(errno));
		else
			m->len -= PAGE;
		break;
	default:
		hole = mmap(NULL, m->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (hole == MAP_FAILED)
			return;
		p = mremap(m->p, m->len, m->len, MREMAP_MAYMOVE | MREMAP_FIXED, hole);
		if (p == MAP_FAILED) {
			unexpected(t, "mremap move", "%s", strerror(errno));
			munmap(hole, m->len);
		} else {
			m->p = p;
			(void)*(volatile uint8_t *)p;
		}
		break;
	}
}

/* Scribble on a mapping (perhaps a running job's tensors). */
static void op_map_write(struct stress_thr *t)
{
	struct stress_map *m = pick_map(t);
	size_t off, n;

	if (!m || !m->writable)
		return;
	off = rng_below(&t->rng, m->len);
	n = rng_range(&t->rng, 1, m->len - off < 4096 ? m->len - off : 4096);
	memset((uint8_t *)m->p + off, (int)rng_next(&t->rng), n);
}

static void op_madvise(struct stress_thr *t)
{
	struct stress_map *m = pick_map(t);

	if (!m)
		return;
	expect_err(t, "madvise", madvise(m->p, m->len, MADV_DONTNEED) ? errno : 0, 0);
	/* the next access finds the BO's memory again */
	(void)*(volatile uint8_t *)((uint8_t *)m->p + rng_below(&t->rng, m->len));
}

static void op_fork(struct stress_thr *t)
{
	child_fork(t);
}

const struct stress_op stress_ops[] = {
	{ "get_info",		4, 1, op_get_info },
	{ "get_info_bad",	2, 1, op_get_info_bad },
	{ "ioctl_unknown",	3, 1, op_ioctl_unknown },
	{ "rw_bad",		1, 1, op_rw_bad },
	{ "ctx_open",		2, 1, op_ctx_open },
	{ "ctx_close",		2, 1, op_ctx_close },
	{ "jobset",		3, 1, op_jobset },
	{ "bo_create",		6, 1, op_bo_create },
	{ "bo_create_bad",	2, 1, op_bo_create_bad },
	{ "bo_info",		4, 1, op_bo_info },
	{ "bo_free",		5, 1, op_bo_free },
	{ "mmap",		6, 1, op_mmap },
	{ "mmap_bad",		3, 1, op_mmap_bad },
	{ "munmap",		5, 1, op_munmap },
	{ "mremap",		3, 1, op_mremap },
	{ "map_write",		6, 1, op_map_write },
	{ "madvise",		2, 1, op_madvise },
	{ "submit",		14, 1, op_submit },
	{ "submit_bad_desc",	4, 1, op_submit_bad_desc },
	{ "submit_bad_args",	3, 1, op_submit_bad_args },
	{ "wait",		14, 1, op_wait },
	{ "wait_bad",		4, 1, op_wait_bad },
	{ "poll",		3, 1, op_poll },
	{ "uring_submit",	6, 1, op_uring_submit },
	{ "uring_batch",	4, 1, op_uring_batch },
	{ "uring_bad",		3, 1, op_uring_bad },
	{ "uring_reap",		6, 1, op_uring_reap },
	{ "uring_close",	1, 1, op_uring_close },
	{ "fork",		1, 0, op_fork },
};

const unsigned int stress_nops = sizeof(stress_ops) / sizeof(stress_ops[0]);

void stress_one_op(struct stress_thr *t)
{
	unsigned int i, total = 0, r;

	for (i = 0; i < stress_nops; i++)
		if (!t->in_child || stress_ops[i].child_ok)
			total += stress_ops[i].weight;
	r = rng_below(&t->rng, total);
	for (i = 0; i < stress_nops; i++) {
		if (t->in_child && !stress_ops[i].child_ok)
			continue;
		if (r < stress_ops[i].weight)
			break;
		r -= stress_ops[i].weight;
	}
	t->nops++;
	__atomic_fetch_add(&stress_sh->ops[i], 1, __ATOMIC_RELAXED);
	stress_ops[i].fn(t);
}
