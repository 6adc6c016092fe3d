// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The NPU emulator (tools/nuq-npu-emu) driven in-process by a fake driver:
 * guest RAM is a memfd, this test connects to the ivshmem server as QEMU
 * would, builds page tables and tensors in guest RAM, fills SQ entries,
 * rings doorbells through the eventfds the server handed out and reads
 * completions, exactly as the kernel driver does through BAR0/BAR2.
 *
 * Checks: the setup messages; the register file; random jobs of every
 * weight format bit-identical to nuq_conv_run_cpu() whatever the band
 * size; progress; MMU faults (unmapped, read-only, reserved bits) that
 * leave the output untouched; aborts; engine and device resets dropping
 * queued work without completions; ring errors; a full CQ; every control
 * command; the timing model; doorbell and interrupt suppression.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <nuq/conv.h>

#include "conv_ref.h"
#include "nuq_conv.h"
#include "../../tools/nuq-npu-emu/emu.h"

#define RAM_SIZE	(64u << 20)
#define PAGE		4096u
#define TIMEOUT_MS	10000

/* The fake guest: the device, its server thread, and what QEMU would hold. */
struct fx {
	struct emu_dev dev;
	char dir[64], sock[96], ctl[96];
	int ram_fd, listen_fd, ctl_fd, stop_fd;
	pthread_t server;
	int client;		/* our ivshmem connection */
	int doorbell[EMU_NR_VEC_MAX];	/* peer 0's: we ring the device */
	int irq[EMU_NR_VEC_MAX];	/* ours: the device interrupts us */
	uint8_t *bar2;
	uint8_t *ram;
	uint64_t next_pa;
	uint32_t sq_tail[NUQ_NPU_MAX_ENGINES], cq_head[NUQ_NPU_MAX_ENGINES];
	uint64_t job_id;
	struct test_rng rng;
};

static struct fx *g;	/* one device per test; large, so on the heap */

/* ---- registers, as the driver sees them ---- */

static uint32_t rd(uint32_t off)
{
	return __atomic_load_n((uint32_t *)(void *)(g->bar2 + off), __ATOMIC_ACQUIRE);
}

static uint64_t rd64(uint32_t off)
{
	return rd(off) | (uint64_t)rd(off + 4) << 32;
}

/* The driver's words: we are the driver. */
static void wr(uint32_t off, uint32_t v)
{
	assert_false(emu_reg_dev_owned(off));
	__atomic_store_n((uint32_t *)(void *)(g->bar2 + off), v, __ATOMIC_RELEASE);
}

static uint32_t erd(unsigned int e, uint32_t off)
{
	return rd(NUQ_NPU_ENGINE(e) + off);
}

static void ewr(unsigned int e, uint32_t off, uint32_t v)
{
	wr(NUQ_NPU_ENGINE(e) + off, v);
}

static void ring(unsigned int vector)
{
	uint64_t one = 1;

	assert_int_equal(write(g->doorbell[vector], &one, 8), 8);
}

static uint64_t now_ms(void)
{
	return emu_now_ns() / 1000000;
}

/* Poll @cond for up to TIMEOUT_MS. */
#define WAIT_FOR(cond) do {							\
	uint64_t t0_ = now_ms();						\
	while (!(cond)) {							\
		if (now_ms() - t0_ > TIMEOUT_MS)				\
			fail_msg("timed out waiting for %s", #cond);		\
		usleep(200);							\
	}									\
} while (0)

/* ---- the ivshmem client side (what QEMU does during realize) ---- */

static int recv_msg(int sock, int64_t *val, int *fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = val, .iov_len = sizeof(*val) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;

	*fd = -1;
	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(*val))
		return -1;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return 0;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/*
 * Connect as QEMU and check the setup: version 0, our id, the shm, then
 * per vector peer 0's eventfd, then per vector our own.  Returns our id.
 */
static int64_t client_setup(int sock, unsigned int nvec, int doorbell[], int irq[],
			    uint8_t **bar2, size_t *size)
{
	int64_t v, id;
	struct stat st;
	unsigned int i;
	int fd;

	assert_int_equal(recv_msg(sock, &v, &fd), 0);
	assert_int_equal(v, 0);
	assert_int_equal(fd, -1);
	assert_int_equal(recv_msg(sock, &id, &fd), 0);
	assert_true(id >= 1);
	assert_int_equal(fd, -1);
	assert_int_equal(recv_msg(sock, &v, &fd), 0);
	assert_int_equal(v, -1);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(st.st_size >= (off_t)NUQ_NPU_BAR2_MIN_SIZE);
	assert_int_equal(st.st_size & (st.st_size - 1), 0);	/* a power of two */
	*size = (size_t)st.st_size;
	*bar2 = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(*bar2 != MAP_FAILED);
	close(fd);
	for (i = 0; i < nvec; i++) {
		assert_int_equal(recv_msg(sock, &v, &doorbell[i]), 0);
		assert_int_equal(v, 0);		/* the emulator is peer 0 */
		assert_true(doorbell[i] >= 0);
	}
	for (i = 0; i < nvec; i++) {
		assert_int_equal(recv_msg(sock, &v, &irq[i]), 0);
		assert_int_equal(v, id);
		assert_true(irq[i] >= 0);
	}
	return id;
}

static void *server_main(void *arg)
{
	struct fx *f = arg;

	emu_server_run(&f->dev, f->listen_fd, f->ctl_fd, f->stop_fd);
	return NULL;
}

static void fx_start(const struct emu_config *cfg_in)
{
	struct emu_config cfg = { .engines = 2, .ring_entries = 64, .qemu_device_id = "npu0" };
	char ram_path[64];
	size_t size;

	if (cfg_in)
		cfg = *cfg_in;
	emu_quiet = !getenv("NPU_EMU_VERBOSE");
	g = calloc(1, sizeof(*g));
	assert_non_null(g);
	g->rng.s = 0x1234567ull + cfg.engines * 77 + cfg.band_macs;
	g->ram_fd = memfd_create("guest-ram", MFD_CLOEXEC);
	assert_true(g->ram_fd >= 0);
	assert_int_equal(ftruncate(g->ram_fd, RAM_SIZE), 0);
	snprintf(ram_path, sizeof(ram_path), "/proc/self/fd/%d", g->ram_fd);
	assert_int_equal(emu_dev_init(&g->dev, &cfg, ram_path), 0);
	g->ram = g->dev.ram.base;
	g->next_pa = 1u << 20;
	snprintf(g->dir, sizeof(g->dir), "/tmp/npu-emu-test.XXXXXX");
	assert_non_null(mkdtemp(g->dir));
	snprintf(g->sock, sizeof(g->sock), "%s/npu.sock", g->dir);
	snprintf(g->ctl, sizeof(g->ctl), "%s/npu.ctl", g->dir);
	g->listen_fd = emu_unix_listen(g->sock);
	g->ctl_fd = emu_unix_listen(g->ctl);
	assert_true(g->listen_fd >= 0 && g->ctl_fd >= 0);
	g->stop_fd = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(emu_dev_start(&g->dev), 0);
	assert_int_equal(pthread_create(&g->server, NULL, server_main, g), 0);
	g->client = connect_unix(g->sock);
	assert_int_equal(client_setup(g->client, g->dev.nr_vec, g->doorbell, g->irq, &g->bar2,
				      &size), 1);
	assert_int_equal(size, g->dev.bar2_size);
	wr(NUQ_NPU_REG_CTRL, NUQ_NPU_CTRL_ENABLE | NUQ_NPU_CTRL_IRQ);
}

static void fx_stop(void)
{
	uint64_t one = 1;
	unsigned int i;

	assert_int_equal(write(g->stop_fd, &one, 8), 8);
	pthread_join(g->server, NULL);
	emu_dev_stop(&g->dev);
	emu_dev_destroy(&g->dev);
	for (i = 0; i < g->dev.nr_vec; i++) {
		close(g->doorbell[i]);
		close(g->irq[i]);
	}
	munmap(g->bar2, g->dev.bar2_size);
	close(g->client);
	close(g->listen_fd);
	close(g->ctl_fd);
	close(g->stop_fd);
	close(g->ram_fd);
	unlink(g->sock);
	unlink(g->ctl);
	rmdir(g->dir);
	free(g);
	g = NULL;
}

/* ---- guest memory: pages, page tables, buffers ---- */

/* Pages with gaps between them, so buffers are not physically contiguous. */
static uint64_t alloc_page(void)
{
	uint64_t pa = g->next_pa;

	g->next_pa += PAGE * (1 + test_rand(&g->rng) % 3);
	assert_true(g->next_pa <= RAM_SIZE);
	memset(g->ram + pa, 0, PAGE);
	return pa;
}

static uint64_t *pte_at(uint64_t table, uint64_t va, int level)
{
	return (uint64_t *)(void *)(g->ram + table + 8 * NUQ_NPU_PT_INDEX(va, level));
}

/* The level-3 entry for @va, creating the tables above it (level @stop_at: that entry). */
static uint64_t *entry(uint64_t root, uint64_t va, int level_wanted)
{
	uint64_t table = root;
	int level;

	for (level = 0; level < level_wanted; level++) {
		uint64_t *e = pte_at(table, va, level);

		if (!(*e & NUQ_NPU_PTE_VALID))
			*e = alloc_page() | NUQ_NPU_PTE_VALID;
		table = *e & NUQ_NPU_PTE_ADDR_MASK;
	}
	return pte_at(table, va, level_wanted);
}

static uint64_t pa_of(uint64_t root, uint64_t va)
{
	uint64_t pte = *entry(root, va, 3);

	assert_true(pte & NUQ_NPU_PTE_VALID);
	return (pte & NUQ_NPU_PTE_ADDR_MASK) + (va & (PAGE - 1));
}

static void guest_copy(uint64_t root, uint64_t va, void *host, uint64_t len, int to_guest)
{
	uint8_t *h = host;

	while (len) {
		uint64_t n = PAGE - (va & (PAGE - 1));

		if (n > len)
			n = len;
		if (to_guest)
			memcpy(g->ram + pa_of(root, va), h, n);
		else
			memcpy(h, g->ram + pa_of(root, va), n);
		va += n;
		h += n;
		len -= n;
	}
}

/* A job placed in guest memory: each tensor in a BO of its own at some offset. */
struct gjob {
	struct nuq_npu_sqe sqe;
	struct test_job tj;
	uint64_t root;
	uint64_t out_va;	/* the output tensor's first byte */
};

static const uint32_t slot_align[NUQ_T_COUNT] = { 1, 1, 1, 2, 4, 4, 1 };

static void place_job(struct gjob *gj)
{
	struct nuq_npu_sqe *sqe = &gj->sqe;
	int i;

	memset(sqe, 0, sizeof(*sqe));
	sqe->job_id = ++g->job_id;
	gj->root = alloc_page();
	sqe->pt_root = gj->root;
	sqe->job = gj->tj.job;
	for (i = 0; i < NUQ_T_COUNT; i++) {
		uint64_t off, pages, p;

		if (!gj->tj.buf[i])
			continue;
		off = slot_align[i] * (test_rand(&g->rng) % 300);
		sqe->size[i] = off + gj->tj.size[i] + test_rand(&g->rng) % 100;
		sqe->va[i] = 0x7f0000000000ull + ((uint64_t)i << 32) +
			     (uint64_t)(test_rand(&g->rng) % 1024) * PAGE;
		sqe->job.tensors[i].offset = off;
		pages = (sqe->size[i] + PAGE - 1) / PAGE;
		for (p = 0; p < pages; p++)
			*entry(gj->root, sqe->va[i] + p * PAGE, 3) = alloc_page() |
				NUQ_NPU_PTE_VALID | (i == NUQ_T_OUTPUT ? NUQ_NPU_PTE_WRITE : 0);
		if (i == NUQ_T_OUTPUT) {
			uint8_t *fill = malloc(sqe->size[i]);

			assert_non_null(fill);
			memset(fill, 0xa5, sqe->size[i]);
			guest_copy(gj->root, sqe->va[i], fill, sqe->size[i], 1);
			free(fill);
			gj->out_va = sqe->va[i] + off;
		} else {
			guest_copy(gj->root, sqe->va[i] + off, gj->tj.buf[i], gj->tj.size[i], 1);
		}
	}
}

/* The output as the guest sees it, compared with @want (NULL: still all 0xa5). */
static void check_output(const struct gjob *gj, const uint8_t *want, const char *what)
{
	size_t n = gj->tj.size[NUQ_T_OUTPUT], i;
	uint8_t *got = malloc(n);

	assert_non_null(got);
	guest_copy(gj->root, gj->out_va, got, n, 0);
	for (i = 0; i < n; i++)
		if (got[i] != (want ? want[i] : 0xa5))
			fail_msg("%s: output byte %zu is %u, want %u", what, i, got[i],
				 want ? want[i] : 0xa5);
	free(got);
}

/* What libnuq's CPU path computes for the job (in the test job's own buffers). */
static uint8_t *expected(struct test_job *tj)
{
	uint8_t *want = malloc(tj->size[NUQ_T_OUTPUT]);
	int code = 0;

	assert_non_null(want);
	assert_int_equal(nuq_conv_run_cpu(&tj->job, (void *const *)tj->buf, tj->size, &code), 0);
	memcpy(want, tj->buf[NUQ_T_OUTPUT], tj->size[NUQ_T_OUTPUT]);
	return want;
}

/* ---- rings ---- */

/* The entry and SQ_TAIL, no doorbell. */
static void submit_quiet(unsigned int e, const struct nuq_npu_sqe *sqe)
{
	uint32_t slot = g->sq_tail[e] % g->dev.cfg.ring_entries;

	memcpy(g->bar2 + erd(e, NUQ_NPU_ENG_SQ_OFFSET) + (size_t)slot * EMU_SQE_SIZE, sqe,
	       sizeof(*sqe));
	ewr(e, NUQ_NPU_ENG_SQ_TAIL, ++g->sq_tail[e]);
}

static void submit(unsigned int e, const struct nuq_npu_sqe *sqe)
{
	submit_quiet(e, sqe);
	ring(e);
}

static int try_cqe(unsigned int e, struct nuq_npu_cqe *c)
{
	uint32_t slot = g->cq_head[e] % g->dev.cfg.ring_entries;

	if (erd(e, NUQ_NPU_ENG_CQ_TAIL) == g->cq_head[e])
		return 0;
	memcpy(c, g->bar2 + erd(e, NUQ_NPU_ENG_CQ_OFFSET) + (size_t)slot * EMU_CQE_SIZE,
	       sizeof(*c));
	ewr(e, NUQ_NPU_ENG_CQ_HEAD, ++g->cq_head[e]);
	return 1;
}

static void wait_cqe(unsigned int e, struct nuq_npu_cqe *c)
{
	WAIT_FOR(try_cqe(e, c));
}

/* Wait for an interrupt on @vector; 1 if one came within @ms. */
static int wait_irq(unsigned int vector, int ms)
{
	struct pollfd p = { .fd = g->irq[vector], .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, ms) != 1)
		return 0;
	assert_int_equal(read(g->irq[vector], &v, 8), 8);
	return 1;
}

static void drain_irq(unsigned int vector)
{
	while (wait_irq(vector, 0))
		;
}

/* Signals of @vector since the last look (an eventfd counts them). */
static uint64_t irq_count(unsigned int vector)
{
	struct pollfd p = { .fd = g->irq[vector], .events = POLLIN };
	uint64_t v = 0;

	if (poll(&p, 1, 0) == 1)
		assert_int_equal(read(g->irq[vector], &v, 8), 8);
	return v;
}

static void ctl(const char *line, enum emu_ctl_result want)
{
	char reply[512];

	if (emu_control_exec(&g->dev, line, reply, sizeof(reply)) != want)
		fail_msg("'%s' gave '%s'", line, reply);
	assert_int_equal(strncmp(reply, want == EMU_CTL_ERR ? "err " : "ok", want ==
				 EMU_CTL_ERR ? 4 : 2), 0);
}

/* A fixed job of about @rows output rows of 64 x 32 x 9 x 16 MACs each. */
static void long_job(struct gjob *gj, uint32_t rows, uint64_t seed)
{
	struct test_rng r = { seed };
	struct test_shape s = {
		.batch = 1, .in_h = rows, .in_w = 64, .in_c = 16, .out_c = 32, .kh = 3, .kw = 3,
		.sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pb = 1, .pl = 1, .pr = 1,
		.groups = 1, .wfmt = NUQ_WFMT_INT8, .bits = 8,
	};

	assert_int_equal(test_job_make(&gj->tj, &s, &r), 0);
	place_job(gj);
}

/* ---- tests ---- */

static void ivshmem_protocol(void **state)
{
	int doorbell[EMU_NR_VEC_MAX], irq[EMU_NR_VEC_MAX], sock;
	unsigned int v;
	uint8_t *bar2;
	size_t size;

	(void)state;
	fx_start(NULL);
	assert_int_equal(g->dev.nr_vec, 3);
	assert_int_equal(rd(NUQ_NPU_REG_MAGIC), NUQ_NPU_MAGIC);
	/* Interrupts reach the client's eventfds; doorbells reach the device. */
	for (v = 0; v < g->dev.nr_vec; v++) {
		drain_irq(v);
		emu_irq(&g->dev, v);
		assert_true(wait_irq(v, 1000));
	}
	wr(NUQ_NPU_REG_CTRL, NUQ_NPU_CTRL_ENABLE);
	emu_irq(&g->dev, 0);
	assert_false(wait_irq(0, 50));		/* CTRL without IRQ: polled mode */
	wr(NUQ_NPU_REG_CTRL, NUQ_NPU_CTRL_ENABLE | NUQ_NPU_CTRL_IRQ);
	/* A second client gets the next id and the same memory. */
	sock = connect_unix(g->sock);
	assert_int_equal(client_setup(sock, g->dev.nr_vec, doorbell, irq, &bar2, &size), 2);
	assert_int_equal(*(uint32_t *)(void *)bar2, NUQ_NPU_MAGIC);
	munmap(bar2, size);
	for (v = 0; v < g->dev.nr_vec; v++) {
		close(doorbell[v]);
		close(irq[v]);
	}
	close(sock);
	/* A client going away ends the server loop: that is how QEMU's exit is noticed. */
	pthread_join(g->server, NULL);
	assert_int_equal(pthread_create(&g->server, NULL, server_main, g), 0);
	fx_stop();
}

static void registers(void **state)
{
	uint32_t hb, e, f;

	(void)state;
	fx_start(NULL);
	assert_int_equal(rd(NUQ_NPU_REG_VERSION), NUQ_NPU_VERSION);
	assert_int_equal(rd(NUQ_NPU_REG_CAPS), NUQ_NPU_CAP_MMU | NUQ_NPU_CAP_PROGRESS |
			 NUQ_NPU_CAP_PERF | NUQ_NPU_CAP_RESIDUAL | NUQ_NPU_CAP_NOTIFY_SUPPRESS);
	assert_int_equal(rd(NUQ_NPU_REG_NUM_ENGINES), 2);
	assert_int_equal(rd(NUQ_NPU_REG_RING_ENTRIES), 64);
	assert_int_equal(rd(NUQ_NPU_REG_WEIGHT_FORMATS), 7);
	assert_int_equal(rd(NUQ_NPU_REG_WEIGHT_BITS), 0x1fe);
	assert_int_equal(rd(NUQ_NPU_REG_ACT_FORMATS), 3);
	assert_true(rd64(NUQ_NPU_REG_MAX_JOB_MACS) >= 1ull << 32);
	assert_int_equal(rd(NUQ_NPU_REG_VA_BITS), 48);
	assert_int_equal(rd(NUQ_NPU_REG_DEVICE_PEER), 0);
	assert_int_equal(rd(NUQ_NPU_REG_RESET_TIME_MS), 100);
	assert_int_equal(rd(NUQ_NPU_REG_HEARTBEAT_US), 1000);
	assert_int_equal(rd(NUQ_NPU_REG_STATUS), NUQ_NPU_STATUS_READY);
	hb = rd(NUQ_NPU_REG_HEARTBEAT);
	usleep(30000);
	assert_true(rd(NUQ_NPU_REG_HEARTBEAT) - hb >= 5);
	/* Rings: inside BAR2, past the register pages, not overlapping. */
	for (e = 0; e < 2; e++) {
		uint32_t sq = erd(e, NUQ_NPU_ENG_SQ_OFFSET), cq = erd(e, NUQ_NPU_ENG_CQ_OFFSET);

		assert_true(sq >= NUQ_NPU_ENGINE(NUQ_NPU_MAX_ENGINES));
		assert_true(cq >= sq + 64 * EMU_SQE_SIZE || cq + 64 * EMU_CQE_SIZE <= sq);
		assert_true(cq + 64 * EMU_CQE_SIZE <= g->dev.bar2_size);
		for (f = 0; f < 2; f++)
			if (f != e)
				assert_true(sq != erd(f, NUQ_NPU_ENG_SQ_OFFSET) &&
					    cq != erd(f, NUQ_NPU_ENG_CQ_OFFSET));
		assert_int_equal(erd(e, NUQ_NPU_ENG_STATE), NUQ_NPU_ENG_STATE_IDLE);
	}
	/* The ownership table: the driver's words are never the device's. */
	assert_false(emu_reg_dev_owned(NUQ_NPU_REG_CTRL));
	assert_false(emu_reg_dev_owned(NUQ_NPU_REG_RESET_REQ));
	assert_false(emu_reg_dev_owned(NUQ_NPU_ENGINE(1) + NUQ_NPU_ENG_SQ_TAIL));
	assert_false(emu_reg_dev_owned(NUQ_NPU_ENGINE(1) + NUQ_NPU_ENG_CQ_HEAD));
	assert_false(emu_reg_dev_owned(NUQ_NPU_ENGINE(0) + NUQ_NPU_ENG_ABORT_JOB + 4));
	assert_false(emu_reg_dev_owned(NUQ_NPU_ENGINE(0) + NUQ_NPU_ENG_ABORT_REQ));
	assert_false(emu_reg_dev_owned(NUQ_NPU_ENGINE(0) + NUQ_NPU_ENG_RESET_REQ));
	assert_true(emu_reg_dev_owned(NUQ_NPU_ENGINE(3) + NUQ_NPU_ENG_PERF_TILES + 4));
	assert_true(emu_reg_dev_owned(NUQ_NPU_REG_EVENTS));
	assert_true(emu_reg_dev_owned(NUQ_NPU_ENGINE(2) + NUQ_NPU_ENG_SQ_AWAKE));
	/* Layouts for every geometry fit in a power-of-two BAR2. */
	for (e = 1; e <= NUQ_NPU_MAX_ENGINES; e++) {
		uint32_t sq[NUQ_NPU_MAX_ENGINES], cq[NUQ_NPU_MAX_ENGINES];
		size_t size;

		assert_int_equal(emu_layout(e, 1024, sq, cq, &size), 0);
		assert_true(cq[e - 1] + 1024 * EMU_CQE_SIZE <= size);
		assert_int_equal(size & (size - 1), 0);
	}
	assert_int_equal(emu_layout(2, 48, NULL, NULL, NULL), -1);
	assert_int_equal(emu_layout(5, 64, NULL, NULL, NULL), -1);
	fx_stop();
}

static const uint32_t kernels[] = { 1, 3, 5 };

static void random_shape(struct test_rng *r, struct test_shape *s, uint32_t wfmt, uint32_t bits)
{
	uint32_t kind = test_rand(r) % 4;

	memset(s, 0, sizeof(*s));
	s->wfmt = wfmt;
	s->bits = bits;
	s->batch = test_range(r, 1, 3);
	s->kh = kernels[test_rand(r) % 3];
	s->kw = test_rand(r) % 3 ? s->kh : kernels[test_rand(r) % 3];
	s->sh = test_range(r, 1, 3);
	s->sw = test_range(r, 1, 2);
	s->dh = test_rand(r) % 4 ? 1 : 2;
	s->dw = test_rand(r) % 4 ? 1 : 2;
	s->in_h = test_range(r, (s->kh - 1) * s->dh + 1, 24);
	s->in_w = test_range(r, (s->kw - 1) * s->dw + 1, 12);
	s->pt = test_range(r, 0, s->kh / 2 + 1);
	s->pb = test_range(r, 0, s->kh / 2 + 1);
	s->pl = test_range(r, 0, s->kw / 2);
	s->pr = test_range(r, 0, s->kw / 2 + 1);
	if (kind == 0) {		/* depthwise, sometimes with a multiplier */
		s->in_c = test_range(r, 1, 16);
		s->groups = s->in_c;
		s->out_c = s->in_c * test_range(r, 1, 2);
	} else if (kind == 1) {	/* grouped */
		s->groups = test_range(r, 2, 3);
		s->in_c = s->groups * test_range(r, 1, 4);
		s->out_c = s->groups * test_range(r, 1, 4);
	} else {
		s->groups = 1;
		s->in_c = test_range(r, 1, 20);
		s->out_c = test_range(r, 1, 16);
	}
	s->in_fmt = test_rand(r) % 2;
	s->out_fmt = test_rand(r) % 2;
	if (test_rand(r) % 3 == 0)
		s->flags |= NUQ_JOB_F_RESIDUAL;
	if (wfmt == NUQ_WFMT_CODEBOOK) {
		if (test_rand(r) % 2)
			s->flags |= NUQ_JOB_F_CODEBOOK_INT16;
		if (test_rand(r) % 3 == 0)
			s->flags |= NUQ_JOB_F_CODEBOOK_PER_LAYER;
		s->strategy = test_rand(r) % 3;
	}
}

#define BATCH	12

/* @cases random jobs, BATCH at a time spread over the engines, each checked. */
static void run_random(int cases, uint64_t seed, int *residual, int *depthwise, uint64_t *bands)
{
	static const uint32_t fmts[][2] = {
		{ NUQ_WFMT_INT8, 8 }, { NUQ_WFMT_ASD, 0 }, { NUQ_WFMT_CODEBOOK, 1 },
		{ NUQ_WFMT_CODEBOOK, 2 }, { NUQ_WFMT_CODEBOOK, 3 }, { NUQ_WFMT_CODEBOOK, 4 },
		{ NUQ_WFMT_CODEBOOK, 5 }, { NUQ_WFMT_CODEBOOK, 6 }, { NUQ_WFMT_CODEBOOK, 7 },
		{ NUQ_WFMT_CODEBOOK, 8 },
	};
	struct test_rng r = { seed };
	int done = 0;

	while (done < cases) {
		struct gjob *gj = calloc(BATCH, sizeof(*gj));
		uint8_t *want[BATCH];
		int n = 0, i;

		assert_non_null(gj);
		g->next_pa = 1u << 20;
		while (n < BATCH && done + n < cases) {
			const uint32_t *f = fmts[(done + n) % 10];
			struct test_shape s;

			random_shape(&r, &s, f[0], f[1]);
			if (test_job_make(&gj[n].tj, &s, &r))
				continue;
			*residual += !!(s.flags & NUQ_JOB_F_RESIDUAL);
			*depthwise += s.groups == s.in_c && s.groups > 1;
			place_job(&gj[n]);
			want[n] = expected(&gj[n].tj);
			submit((unsigned int)n % 2, &gj[n].sqe);
			n++;
		}
		for (i = 0; i < n; i++) {
			struct nuq_npu_cqe c;
			char what[64];

			wait_cqe((unsigned int)i % 2, &c);
			snprintf(what, sizeof(what), "random job %d", done + i);
			assert_int_equal(c.job_id, gj[i].sqe.job_id);
			if (c.status != NUQ_NPU_JOB_OK)
				fail_msg("%s: status %u detail %u", what, c.status, c.detail);
			assert_int_equal(c.tiles, gj[i].tj.job.batch * gj[i].tj.job.out_h);
			check_output(&gj[i], want[i], what);
			*bands += c.tiles;
			free(want[i]);
			test_job_free(&gj[i].tj);
		}
		done += n;
		free(gj);
	}
}

/* The "bands=R/I/T" of stats: row, image and tile bands. */
static void stat_bands(uint64_t b[3])
{
	char reply[512], *p;

	assert_int_equal(emu_control_exec(&g->dev, "stats", reply, sizeof(reply)), EMU_CTL_OK);
	p = strstr(reply, " bands=");
	assert_non_null(p);
	assert_int_equal(sscanf(p, " bands=%llu/%llu/%llu", (unsigned long long *)&b[0],
				(unsigned long long *)&b[1], (unsigned long long *)&b[2]), 3);
}

/* Random jobs with bands of @band_macs; returns the bands of each kind in @bands. */
static void random_with_bands(uint64_t band_macs, int cases, uint64_t seed, int *residual,
			      int *depthwise, uint64_t bands[3])
{
	struct emu_config cfg = { .engines = 2, .ring_entries = 64, .band_macs = band_macs };
	uint64_t tiles = 0;

	fx_start(&cfg);
	run_random(cases, seed, residual, depthwise, &tiles);
	assert_true(erd(0, NUQ_NPU_ENG_PROGRESS) + erd(1, NUQ_NPU_ENG_PROGRESS) == tiles);
	stat_bands(bands);
	print_message("# bands of %llu MACs: %llu row, %llu image, %llu tile bands, %llu tiles\n",
		      (unsigned long long)band_macs, (unsigned long long)bands[0],
		      (unsigned long long)bands[1], (unsigned long long)bands[2],
		      (unsigned long long)tiles);
	fx_stop();
}

static void random_jobs_bit_identical(void **state)
{
	int residual = 0, depthwise = 0;
	uint64_t b[3];

	(void)state;
	/* Bands smaller than a row: every job tile by tile on the portable core. */
	random_with_bands(1, 60, 10, &residual, &depthwise, b);
	assert_true(b[2] > 0 && !b[0] && !b[1]);
	/* A few rows per band: sub-jobs with their padding recomputed. */
	random_with_bands(3000, 120, 11, &residual, &depthwise, b);
	assert_true(b[0] > 300);
	/* Default bands: jobs run whole or by images. */
	random_with_bands(0, 60, 12, &residual, &depthwise, b);
	assert_true(b[1] >= 60 && !b[2]);
	print_message("# %d residual, %d depthwise jobs\n", residual, depthwise);
	assert_true(residual > 30 && depthwise > 20);
}

static struct nuq_conv_plan plan_of(const struct nuq_npu_sqe *sqe)
{
	struct nuq_conv_plan p;
	__u64 bo[NUQ_T_COUNT];
	int i;

	for (i = 0; i < NUQ_T_COUNT; i++)
		bo[i] = sqe->job.tensors[i].handle ? sqe->size[i] : 0;
	assert_int_equal(nuq_conv_validate(&sqe->job, bo, &p), 0);
	return p;
}

/* Progress moves while a long job runs; the CQE and PERF counters add up. */
static void progress_and_perf(void **state)
{
	struct emu_config cfg = { .engines = 1, .ring_entries = 8, .band_macs = 1000000,
				  .mac_rate = 0.05 };
	struct nuq_conv_plan p;
	struct nuq_npu_cqe c;
	struct gjob gj;
	uint32_t seen[64], nseen = 0, prog;
	uint8_t *want;

	(void)state;
	fx_start(&cfg);
	long_job(&gj, 40, 5);
	p = plan_of(&gj.sqe);
	want = expected(&gj.tj);
	drain_irq(0);
	submit(0, &gj.sqe);
	WAIT_FOR(erd(0, NUQ_NPU_ENG_STATE) == NUQ_NPU_ENG_STATE_RUNNING);
	assert_int_equal(rd64(NUQ_NPU_ENGINE(0) + NUQ_NPU_ENG_CUR_JOB), gj.sqe.job_id);
	while (!try_cqe(0, &c)) {
		prog = erd(0, NUQ_NPU_ENG_PROGRESS);
		if (nseen < 64 && (!nseen || seen[nseen - 1] != prog))
			seen[nseen++] = prog;
		usleep(1000);
	}
	print_message("# progress took %u distinct values; exec %.1f ms (model %.1f ms)\n", nseen,
		      c.exec_ns / 1e6, p.macs / 0.05 / 1e6);
	assert_true(nseen >= 4);
	assert_true(wait_irq(0, 1000));
	assert_int_equal(c.status, NUQ_NPU_JOB_OK);
	assert_int_equal(c.tiles, 40);
	assert_int_equal(c.macs, p.macs);
	assert_true(c.exec_ns >= (uint64_t)(p.macs / 0.05) * 95 / 100);
	assert_int_equal(erd(0, NUQ_NPU_ENG_PROGRESS), 40);
	assert_int_equal(rd64(NUQ_NPU_ENGINE(0) + NUQ_NPU_ENG_PERF_JOBS), 1);
	assert_int_equal(rd64(NUQ_NPU_ENGINE(0) + NUQ_NPU_ENG_PERF_MACS), p.macs);
	assert_int_equal(rd64(NUQ_NPU_ENGINE(0) + NUQ_NPU_ENG_PERF_TILES), 40);
	assert_int_equal(rd64(NUQ_NPU_ENGINE(0) + NUQ_NPU_ENG_PERF_BUSY_NS), c.exec_ns);
	assert_int_equal(rd64(NUQ_NPU_ENGINE(0) + NUQ_NPU_ENG_CUR_JOB), 0);
	assert_int_equal(erd(0, NUQ_NPU_ENG_SQ_HEAD), 1);
	check_output(&gj, want, "long job");
	free(want);
	test_job_free(&gj.tj);
	fx_stop();
}

/* Rows of more than NUQ_TILE_MACS: the core's tiles, several per row. */
static void huge_rows(void **state)
{
	struct test_rng r = { 31 };
	struct test_shape s = {
		.batch = 1, .in_h = 3, .in_w = 64, .in_c = 256, .out_c = 260, .kh = 1, .kw = 1,
		.sh = 1, .sw = 1, .dh = 1, .dw = 1, .groups = 1, .wfmt = NUQ_WFMT_CODEBOOK,
		.bits = 4,
	};
	struct nuq_conv_plan p;
	struct nuq_npu_cqe c;
	struct gjob gj;
	uint8_t *want;
	uint64_t b[3];

	(void)state;
	fx_start(NULL);
	assert_int_equal(test_job_make(&gj.tj, &s, &r), 0);
	place_job(&gj);
	p = plan_of(&gj.sqe);
	assert_true(p.row_tiles > 1);
	want = expected(&gj.tj);
	submit(0, &gj.sqe);
	wait_cqe(0, &c);
	assert_int_equal(c.status, NUQ_NPU_JOB_OK);
	assert_int_equal(c.tiles, p.tiles);
	assert_int_equal(c.macs, p.macs);
	assert_int_equal(erd(0, NUQ_NPU_ENG_PROGRESS), p.tiles);
	stat_bands(b);
	assert_true(b[2] >= p.tiles / 2);
	check_output(&gj, want, "huge rows");
	free(want);
	test_job_free(&gj.tj);
	fx_stop();
}

/* Bands that would read padding only: the job runs whole, with the same bytes. */
static void padding_only_bands(void **state)
{
	struct emu_config cfg = { .engines = 1, .ring_entries = 8, .band_macs = 1 };
	struct test_rng r = { 9 };
	struct test_shape s = {
		.batch = 2, .in_h = 2, .in_w = 5, .in_c = 3, .out_c = 4, .kh = 1, .kw = 3,
		.sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 3, .pb = 2, .pl = 1, .pr = 1,
		.groups = 1, .wfmt = NUQ_WFMT_INT8, .bits = 8, .flags = NUQ_JOB_F_RESIDUAL,
	};
	struct nuq_npu_cqe c;
	struct gjob gj;
	uint8_t *want;

	(void)state;
	fx_start(&cfg);
	assert_int_equal(test_job_make(&gj.tj, &s, &r), 0);
	place_job(&gj);
	want = expected(&gj.tj);
	submit(0, &gj.sqe);
	wait_cqe(0, &c);
	assert_int_equal(c.status, NUQ_NPU_JOB_OK);
	assert_int_equal(c.tiles, 2 * 7);
	check_output(&gj, want, "padding-only bands");
	free(want);
	test_job_free(&gj.tj);
	fx_stop();
}

static uint64_t tensor_va(const struct gjob *gj, int slot)
{
	return gj->sqe.va[slot] + gj->sqe.job.tensors[slot].offset;
}

/* Run @gj on engine 0 expecting an MMU fault of @kind at @va (the caller checks the output). */
static void expect_fault(struct gjob *gj, uint32_t kind, uint64_t va, const char *what)
{
	uint32_t faults = rd(NUQ_NPU_REG_MMU_FAULTS), events = rd(NUQ_NPU_REG_EVENTS);
	unsigned int vc = NUQ_NPU_VEC_CTRL(g->dev.cfg.engines);
	struct nuq_npu_cqe c;

	drain_irq(vc);
	submit(0, &gj->sqe);
	wait_cqe(0, &c);
	if (c.status != NUQ_NPU_JOB_MMU_FAULT || c.detail != kind || c.fault_va != va)
		fail_msg("%s: status %u detail %u va %#llx, want %u %u %#llx", what, c.status,
			 c.detail, (unsigned long long)c.fault_va, NUQ_NPU_JOB_MMU_FAULT, kind,
			 (unsigned long long)va);
	assert_int_equal(c.job_id, gj->sqe.job_id);
	assert_int_equal(c.tiles, 0);
	assert_int_equal(rd(NUQ_NPU_REG_MMU_FAULTS), faults + 1);
	assert_true(rd(NUQ_NPU_REG_EVENTS) > events);
	assert_true(wait_irq(vc, 1000));
}

static void mmu_faults(void **state)
{
	struct emu_config cfg = { .engines = 1, .ring_entries = 8, .band_macs = 100000 };
	struct nuq_npu_cqe c;
	struct gjob gj;
	uint64_t va, *pte;
	uint8_t *want;

	(void)state;
	fx_start(&cfg);
	long_job(&gj, 6, 21);
	want = expected(&gj.tj);

	/* An input page in the middle unmapped: READ at that page's first byte. */
	va = (tensor_va(&gj, NUQ_T_INPUT) + 5000) & ~(uint64_t)(PAGE - 1);
	pte = entry(gj.root, va, 3);
	*pte ^= NUQ_NPU_PTE_VALID;
	expect_fault(&gj, NUQ_NPU_FAULT_READ, va, "unmapped input page");
	*pte ^= NUQ_NPU_PTE_VALID;
	check_output(&gj, NULL, "unmapped input page");

	/* The output's last page read-only: WRITE there, and not a byte written before it. */
	va = (tensor_va(&gj, NUQ_T_OUTPUT) + gj.tj.size[NUQ_T_OUTPUT] - 1) & ~(uint64_t)(PAGE - 1);
	pte = entry(gj.root, va, 3);
	*pte &= ~NUQ_NPU_PTE_WRITE;
	expect_fault(&gj, NUQ_NPU_FAULT_WRITE, va, "read-only output page");
	*pte |= NUQ_NPU_PTE_WRITE;
	check_output(&gj, NULL, "read-only output page");

	/* The output unmapped at level 2: WRITE at its first byte. */
	pte = entry(gj.root, tensor_va(&gj, NUQ_T_OUTPUT), 2);
	*pte ^= NUQ_NPU_PTE_VALID;
	expect_fault(&gj, NUQ_NPU_FAULT_WRITE, tensor_va(&gj, NUQ_T_OUTPUT), "unmapped output");
	*pte ^= NUQ_NPU_PTE_VALID;
	check_output(&gj, NULL, "unmapped output");

	/* A reserved bit in a level-1 entry of the weights: PTE. */
	pte = entry(gj.root, tensor_va(&gj, NUQ_T_WEIGHTS), 1);
	*pte |= 1ull << 60;
	expect_fault(&gj, NUQ_NPU_FAULT_PTE, tensor_va(&gj, NUQ_T_WEIGHTS), "reserved bit");
	*pte &= ~(1ull << 60);
	check_output(&gj, NULL, "reserved bit");

	/* A leaf pointing past the end of guest RAM: READ. */
	va = tensor_va(&gj, NUQ_T_REQUANT);
	pte = entry(gj.root, va, 3);
	*pte = (RAM_SIZE + 0x100000ull) | NUQ_NPU_PTE_VALID | NUQ_NPU_PTE_WRITE;
	expect_fault(&gj, NUQ_NPU_FAULT_READ, va, "page outside RAM");
	*pte = 0;
	/* ... and then unmapped (a later job sees the table afresh: no translation cache). */
	expect_fault(&gj, NUQ_NPU_FAULT_READ, va, "page outside RAM, then unmapped");
	*entry(gj.root, va & ~(uint64_t)(PAGE - 1), 3) = alloc_page() | NUQ_NPU_PTE_VALID;
	guest_copy(gj.root, va, gj.tj.buf[NUQ_T_REQUANT], gj.tj.size[NUQ_T_REQUANT], 1);

	/* Fixed up, the same descriptor runs. */
	submit(0, &gj.sqe);
	wait_cqe(0, &c);
	assert_int_equal(c.status, NUQ_NPU_JOB_OK);
	check_output(&gj, want, "after the faults");
	free(want);
	test_job_free(&gj.tj);
	fx_stop();
}

static void expect_invalid(struct gjob *gj, uint32_t detail, const char *what)
{
	struct nuq_npu_cqe c;

	submit(0, &gj->sqe);
	wait_cqe(0, &c);
	if (c.status != NUQ_NPU_JOB_INVALID || c.detail != detail)
		fail_msg("%s: status %u detail %u, want %u %u", what, c.status, c.detail,
			 NUQ_NPU_JOB_INVALID, detail);
	check_output(gj, NULL, what);
}

static void invalid_jobs(void **state)
{
	struct emu_config cfg = { .engines = 1, .ring_entries = 8, .band_macs = 100000 };
	struct test_rng r = { 3 };
	struct test_shape asd = {
		.batch = 1, .in_h = 5, .in_w = 5, .in_c = 4, .out_c = 3, .kh = 3, .kw = 3,
		.sh = 1, .sw = 1, .dh = 1, .dw = 1, .groups = 1, .wfmt = NUQ_WFMT_ASD,
	};
	struct gjob gj, ga;
	uint64_t saved;
	int32_t bad = 5;
	uint8_t digit = 0x30;

	(void)state;
	fx_start(&cfg);
	long_job(&gj, 4, 8);
	saved = gj.sqe.size[NUQ_T_INPUT];
	gj.sqe.size[NUQ_T_INPUT] = gj.sqe.job.tensors[NUQ_T_INPUT].offset + 10;
	expect_invalid(&gj, NUQ_JOB_E_BOUNDS, "input past its buffer");
	gj.sqe.size[NUQ_T_INPUT] = saved;
	gj.sqe.flags = 1;
	expect_invalid(&gj, NUQ_JOB_E_RESERVED, "SQE flags");
	gj.sqe.flags = 0;
	gj.sqe.job.out_h++;
	expect_invalid(&gj, NUQ_JOB_E_OUT_SHAPE, "out_h");
	gj.sqe.job.out_h--;
	/* Found while running: a multiplier out of range in channel 0. */
	guest_copy(gj.root, tensor_va(&gj, NUQ_T_REQUANT), &bad, 4, 1);
	expect_invalid(&gj, NUQ_JOB_E_REQUANT, "requant multiplier");
	test_job_free(&gj.tj);

	assert_int_equal(test_job_make(&ga.tj, &asd, &r), 0);
	place_job(&ga);
	guest_copy(ga.root, tensor_va(&ga, NUQ_T_WEIGHTS) + 7, &digit, 1, 1);
	expect_invalid(&ga, NUQ_JOB_E_ASD_DIGIT, "ASD digit");
	test_job_free(&ga.tj);
	fx_stop();
}

static void abort_job(unsigned int e, uint64_t id, uint32_t req)
{
	ewr(e, NUQ_NPU_ENG_ABORT_JOB, (uint32_t)id);
	ewr(e, NUQ_NPU_ENG_ABORT_JOB + 4, (uint32_t)(id >> 32));
	ewr(e, NUQ_NPU_ENG_ABORT_REQ, req);
	ring(e);
}

static void aborts(void **state)
{
	struct emu_config cfg = { .engines = 1, .ring_entries = 8, .band_macs = 1000000,
				  .mac_rate = 0.05 };
	struct nuq_npu_cqe c;
	struct gjob gj;
	uint32_t events;
	uint64_t t0;

	(void)state;
	fx_start(&cfg);
	long_job(&gj, 40, 6);
	/* Mid-way through a slow job: it stops at the next band, partly done. */
	submit(0, &gj.sqe);
	WAIT_FOR(erd(0, NUQ_NPU_ENG_PROGRESS) >= 3);
	abort_job(0, gj.sqe.job_id, 1);
	wait_cqe(0, &c);
	assert_int_equal(c.job_id, gj.sqe.job_id);
	assert_int_equal(c.status, NUQ_NPU_JOB_ABORTED);
	assert_true(c.tiles >= 3 && c.tiles < 40);
	WAIT_FOR(erd(0, NUQ_NPU_ENG_ABORT_ACK) == 1);
	check_output(&gj, NULL, "aborted job");
	/* A stalled job is aborted too, well before the stall ends. */
	ctl("stall 0 5000", EMU_CTL_OK);
	gj.sqe.job_id = ++g->job_id;
	submit(0, &gj.sqe);
	WAIT_FOR(rd64(NUQ_NPU_ENGINE(0) + NUQ_NPU_ENG_CUR_JOB) == gj.sqe.job_id);
	usleep(20000);
	t0 = now_ms();
	abort_job(0, gj.sqe.job_id, 2);
	wait_cqe(0, &c);
	assert_int_equal(c.status, NUQ_NPU_JOB_ABORTED);
	assert_true(now_ms() - t0 < 1000);
	WAIT_FOR(erd(0, NUQ_NPU_ENG_ABORT_ACK) == 2);
	/* An abort of a job that is not running is just acknowledged, with an event. */
	events = rd(NUQ_NPU_REG_EVENTS);
	abort_job(0, 12345, 3);
	WAIT_FOR(erd(0, NUQ_NPU_ENG_ABORT_ACK) == 3);
	WAIT_FOR(rd(NUQ_NPU_REG_EVENTS) > events);
	assert_int_equal(erd(0, NUQ_NPU_ENG_CQ_TAIL), g->cq_head[0]);
	test_job_free(&gj.tj);
	fx_stop();
}

static void small_job(struct gjob *gj, uint64_t seed)
{
	long_job(gj, 2, seed);
}

static void engine_reset(void **state)
{
	unsigned int vc = NUQ_NPU_VEC_CTRL(2);
	struct nuq_npu_cqe c;
	struct gjob gj[4];
	uint32_t events;
	uint8_t *want;
	int i;

	(void)state;
	fx_start(NULL);
	for (i = 0; i < 4; i++)
		small_job(&gj[i], 40 + i);
	want = expected(&gj[3].tj);
	ctl("hang 0", EMU_CTL_OK);
	for (i = 0; i < 3; i++)
		submit(0, &gj[i].sqe);
	submit(1, &gj[3].sqe);
	wait_cqe(1, &c);		/* engine 1 is not affected */
	assert_int_equal(c.status, NUQ_NPU_JOB_OK);
	WAIT_FOR(rd64(NUQ_NPU_ENGINE(0) + NUQ_NPU_ENG_CUR_JOB) == gj[0].sqe.job_id);
	usleep(30000);
	assert_int_equal(erd(0, NUQ_NPU_ENG_PROGRESS), 0);	/* hung: no progress */
	assert_int_equal(erd(0, NUQ_NPU_ENG_STATE), NUQ_NPU_ENG_STATE_RUNNING);

	events = rd(NUQ_NPU_REG_EVENTS);
	drain_irq(vc);
	ewr(0, NUQ_NPU_ENG_RESET_REQ, 1);
	ring(vc);
	WAIT_FOR(erd(0, NUQ_NPU_ENG_RESET_DONE) == 1);
	assert_int_equal(erd(0, NUQ_NPU_ENG_RESET_ACK), 1);
	assert_int_equal(erd(0, NUQ_NPU_ENG_SQ_HEAD), 3);
	assert_int_equal(erd(0, NUQ_NPU_ENG_CQ_TAIL), 0);	/* no completion for the dropped */
	assert_int_equal(erd(0, NUQ_NPU_ENG_STATE), NUQ_NPU_ENG_STATE_IDLE);
	assert_int_equal(rd64(NUQ_NPU_ENGINE(0) + NUQ_NPU_ENG_CUR_JOB), 0);
	/* The event (EVENTS, then the interrupt) follows DONE. */
	assert_true(wait_irq(vc, 1000));
	assert_true(rd(NUQ_NPU_REG_EVENTS) > events);
	assert_int_equal(rd(NUQ_NPU_REG_STATUS), NUQ_NPU_STATUS_READY);
	for (i = 0; i < 3; i++)
		check_output(&gj[i], NULL, "dropped job");

	/* The hang ended with the reset: the engine works again. */
	gj[3].sqe.job_id = ++g->job_id;
	submit(0, &gj[3].sqe);
	wait_cqe(0, &c);
	assert_int_equal(c.status, NUQ_NPU_JOB_OK);
	check_output(&gj[3], want, "after the engine reset");

	/* A refused request gets no ACK; the next one is served, after the delay. */
	ctl("reset refuse 1", EMU_CTL_OK);
	ctl("reset delay 150", EMU_CTL_OK);
	ewr(0, NUQ_NPU_ENG_RESET_REQ, 2);
	ring(vc);
	usleep(100000);
	assert_int_equal(erd(0, NUQ_NPU_ENG_RESET_ACK), 1);
	ewr(0, NUQ_NPU_ENG_RESET_REQ, 3);
	ring(vc);
	WAIT_FOR(erd(0, NUQ_NPU_ENG_RESET_ACK) == 3);
	assert_int_equal(erd(0, NUQ_NPU_ENG_STATE), NUQ_NPU_ENG_STATE_RESETTING);
	assert_int_equal(erd(0, NUQ_NPU_ENG_RESET_DONE), 1);
	WAIT_FOR(erd(0, NUQ_NPU_ENG_RESET_DONE) == 3);
	assert_int_equal(erd(0, NUQ_NPU_ENG_STATE), NUQ_NPU_ENG_STATE_IDLE);
	ctl("reset ok", EMU_CTL_OK);
	for (i = 0; i < 4; i++)
		test_job_free(&gj[i].tj);
	free(want);
	fx_stop();
}

static void device_reset(void **state)
{
	unsigned int vc = NUQ_NPU_VEC_CTRL(2), e;
	struct nuq_npu_cqe c;
	struct gjob gj[4];
	uint8_t *want;
	int i;

	(void)state;
	fx_start(NULL);
	for (i = 0; i < 4; i++)
		small_job(&gj[i], 50 + i);
	want = expected(&gj[0].tj);
	ctl("hang 0", EMU_CTL_OK);
	ctl("hang 1", EMU_CTL_OK);
	for (i = 0; i < 4; i++)
		submit((unsigned int)i % 2, &gj[i].sqe);
	WAIT_FOR(erd(0, NUQ_NPU_ENG_STATE) == NUQ_NPU_ENG_STATE_RUNNING &&
		 erd(1, NUQ_NPU_ENG_STATE) == NUQ_NPU_ENG_STATE_RUNNING);
	ctl("reset delay 100", EMU_CTL_OK);
	wr(NUQ_NPU_REG_RESET_REQ, 7);
	ring(vc);
	WAIT_FOR(rd(NUQ_NPU_REG_RESET_ACK) == 7);
	assert_true(rd(NUQ_NPU_REG_STATUS) & NUQ_NPU_STATUS_RESETTING);
	assert_false(rd(NUQ_NPU_REG_STATUS) & NUQ_NPU_STATUS_READY);
	assert_int_equal(rd(NUQ_NPU_REG_RESET_DONE), 0);
	WAIT_FOR(rd(NUQ_NPU_REG_RESET_DONE) == 7);
	assert_int_equal(rd(NUQ_NPU_REG_STATUS), NUQ_NPU_STATUS_READY);
	for (e = 0; e < 2; e++) {
		assert_int_equal(erd(e, NUQ_NPU_ENG_SQ_HEAD), 2);
		assert_int_equal(erd(e, NUQ_NPU_ENG_CQ_TAIL), 0);
		assert_int_equal(erd(e, NUQ_NPU_ENG_STATE), NUQ_NPU_ENG_STATE_IDLE);
	}
	ctl("reset ok", EMU_CTL_OK);
	for (i = 0; i < 4; i++)
		check_output(&gj[i], NULL, "dropped by the device reset");
	/* Both engines work again. */
	for (e = 0; e < 2; e++) {
		gj[0].sqe.job_id = ++g->job_id;
		submit(e, &gj[0].sqe);
		wait_cqe(e, &c);
		assert_int_equal(c.status, NUQ_NPU_JOB_OK);
		check_output(&gj[0], want, "after the device reset");
	}
	/* A refused device reset: no ACK. */
	ctl("reset refuse 1", EMU_CTL_OK);
	wr(NUQ_NPU_REG_RESET_REQ, 8);
	ring(vc);
	usleep(60000);
	assert_int_equal(rd(NUQ_NPU_REG_RESET_ACK), 7);
	wr(NUQ_NPU_REG_RESET_REQ, 9);
	ring(vc);
	WAIT_FOR(rd(NUQ_NPU_REG_RESET_DONE) == 9);
	for (i = 0; i < 4; i++)
		test_job_free(&gj[i].tj);
	free(want);
	fx_stop();
}

static void ring_error(void **state)
{
	struct emu_config cfg = { .engines = 1, .ring_entries = 8 };
	uint32_t events;
	struct nuq_npu_cqe c;
	struct gjob gj;

	(void)state;
	fx_start(&cfg);
	events = rd(NUQ_NPU_REG_EVENTS);
	g->sq_tail[0] = 9;		/* one more than the ring holds */
	ewr(0, NUQ_NPU_ENG_SQ_TAIL, g->sq_tail[0]);
	ring(0);
	WAIT_FOR(rd(NUQ_NPU_REG_STATUS) & NUQ_NPU_STATUS_ERROR);
	assert_int_equal(rd(NUQ_NPU_REG_ERROR_CODE), NUQ_NPU_ERR_RING);
	assert_true(rd(NUQ_NPU_REG_STATUS) & NUQ_NPU_STATUS_HALTED);
	assert_false(rd(NUQ_NPU_REG_STATUS) & NUQ_NPU_STATUS_READY);
	WAIT_FOR(rd(NUQ_NPU_REG_EVENTS) > events);
	assert_int_equal(erd(0, NUQ_NPU_ENG_SQ_HEAD), 0);
	assert_int_equal(erd(0, NUQ_NPU_ENG_CQ_TAIL), 0);
	/* A device reset makes it usable again, the garbage skipped. */
	wr(NUQ_NPU_REG_RESET_REQ, 1);
	ring(NUQ_NPU_VEC_CTRL(1));
	WAIT_FOR(rd(NUQ_NPU_REG_RESET_DONE) == 1);
	assert_int_equal(rd(NUQ_NPU_REG_STATUS), NUQ_NPU_STATUS_READY);
	assert_int_equal(rd(NUQ_NPU_REG_ERROR_CODE), NUQ_NPU_ERR_NONE);
	assert_int_equal(erd(0, NUQ_NPU_ENG_SQ_HEAD), 9);
	small_job(&gj, 60);
	submit(0, &gj.sqe);
	wait_cqe(0, &c);
	assert_int_equal(c.status, NUQ_NPU_JOB_OK);
	test_job_free(&gj.tj);
	fx_stop();
}

/* The device never runs more than RING_ENTRIES ahead of CQ_HEAD. */
static void cq_full_waits(void **state)
{
	struct emu_config cfg = { .engines = 1, .ring_entries = 4 };
	struct nuq_npu_cqe c;
	struct gjob gj;
	int i;

	(void)state;
	fx_start(&cfg);
	small_job(&gj, 61);
	for (i = 0; i < 4; i++) {
		gj.sqe.job_id = ++g->job_id;
		submit(0, &gj.sqe);
	}
	WAIT_FOR(erd(0, NUQ_NPU_ENG_CQ_TAIL) == 4);
	gj.sqe.job_id = ++g->job_id;
	submit(0, &gj.sqe);
	usleep(80000);
	assert_int_equal(erd(0, NUQ_NPU_ENG_CQ_TAIL), 4);
	assert_int_equal(erd(0, NUQ_NPU_ENG_SQ_HEAD), 4);
	assert_true(try_cqe(0, &c));
	WAIT_FOR(erd(0, NUQ_NPU_ENG_CQ_TAIL) == 5);
	for (i = 0; i < 4; i++) {
		wait_cqe(0, &c);
		assert_int_equal(c.job_id, g->job_id - 3 + i);
		assert_int_equal(c.status, NUQ_NPU_JOB_OK);
	}
	test_job_free(&gj.tj);
	fx_stop();
}

static void control_parsing(void **state)
{
	static const char *const good[] = {
		"hang 1", "stall 0 10", "fail 0", "fail 1 3", "drop-irq 2", "drop-irq 0 2",
		"corrupt-cqe 1 4", "mmu-fault 0", "mmu-fault 1 2", "heartbeat stop",
		"heartbeat start", "reset refuse", "reset refuse 3", "reset delay 20", "reset ok",
		"fuzz on", "fuzz off", "clear", "stats", "help", "  stats  ", "fail\t0\t1",
	};
	static const char *const bad[] = {
		"", "   ", "bogus", "hang", "hang 2", "hang x", "hang 0 1", "stall 0",
		"stall 0 -5", "stall 0 5x", "fail", "fail 0 x", "fail 0 1 2", "fail -1",
		"drop-irq 3 1", "corrupt-cqe", "mmu-fault 7", "heartbeat", "heartbeat maybe",
		"reset", "reset delay", "reset refuse x", "reset now", "fuzz", "fuzz maybe",
		"clear all", "stats now", "unplug", "exit now", "a b c d e f g",
	};
	char reply[512], longline[400];
	size_t i;

	(void)state;
	fx_start(NULL);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ctl(good[i], EMU_CTL_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ctl(bad[i], EMU_CTL_ERR);
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = 0;
	ctl(longline, EMU_CTL_ERR);
	/* "exit" only asks the caller to die (after sending the reply). */
	assert_int_equal(emu_control_exec(&g->dev, "exit", reply, sizeof(reply)), EMU_CTL_EXIT);
	assert_string_equal(reply, "ok exit");
	ctl("clear", EMU_CTL_OK);
	assert_int_equal(emu_control_exec(&g->dev, "stats", reply, sizeof(reply)), EMU_CTL_OK);
	assert_non_null(strstr(reply, "jobs=0 "));
	assert_non_null(strstr(reply, " injected="));
	assert_true(strlen(reply) < 200);
	assert_non_null(strstr(reply, "resets=0 "));
	fx_stop();
}

/* Read one line from @fd (up to 2 s). */
static void read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (n + 1 < len && poll(&p, 1, 2000) == 1 && read(fd, buf + n, 1) == 1 &&
	       buf[n] != '\n')
		n++;
	buf[n] = 0;
}

static void control_socket(void **state)
{
	static const char in[] = "stats\r\nbogus\n\n  \nfail 0 2\nfai";
	char line[512];
	int fd, fd2;

	(void)state;
	fx_start(NULL);
	fd = connect_unix(g->ctl);
	assert_int_equal(write(fd, in, sizeof(in) - 1), (ssize_t)sizeof(in) - 1);
	read_line(fd, line, sizeof(line));
	assert_int_equal(strncmp(line, "ok jobs=", 8), 0);
	read_line(fd, line, sizeof(line));
	assert_int_equal(strncmp(line, "err unknown command 'bogus'", 27), 0);
	read_line(fd, line, sizeof(line));	/* blank lines get no reply */
	assert_string_equal(line, "ok fail 0 2");
	/* A second connection is served too; the first one's half line waits. */
	fd2 = connect_unix(g->ctl);
	assert_int_equal(write(fd2, "clear\n", 6), 6);
	read_line(fd2, line, sizeof(line));
	assert_string_equal(line, "ok clear");
	close(fd2);
	assert_int_equal(write(fd, "l 1 1\n", 6), 6);
	read_line(fd, line, sizeof(line));
	assert_string_equal(line, "ok fail 1 1");
	close(fd);
	/* And a reconnection later. */
	fd = connect_unix(g->ctl);
	assert_int_equal(write(fd, "stats\n", 6), 6);
	read_line(fd, line, sizeof(line));
	assert_int_equal(strncmp(line, "ok jobs=", 8), 0);
	close(fd);
	fx_stop();
}

static struct nuq_npu_cqe run_on(unsigned int e, struct gjob *gj, int *irq)
{
	struct nuq_npu_cqe c;

	drain_irq(e);
	gj->sqe.job_id = ++g->job_id;
	submit(e, &gj->sqe);
	wait_cqe(e, &c);
	*irq = wait_irq(e, 100);
	return c;
}

static void injected_faults(void **state)
{
	struct nuq_npu_cqe c;
	struct gjob gj;
	uint32_t hb, faults;
	uint8_t *want;
	int irq, i;

	(void)state;
	fx_start(NULL);
	small_job(&gj, 70);
	want = expected(&gj.tj);

	ctl("fail 1 2", EMU_CTL_OK);
	for (i = 0; i < 2; i++) {
		c = run_on(1, &gj, &irq);
		assert_int_equal(c.status, NUQ_NPU_JOB_DEVICE_ERROR);
		assert_int_equal(c.job_id, gj.sqe.job_id);
	}
	check_output(&gj, NULL, "failed jobs");
	c = run_on(1, &gj, &irq);
	assert_int_equal(c.status, NUQ_NPU_JOB_OK);
	check_output(&gj, want, "after the failures");

	ctl("corrupt-cqe 0", EMU_CTL_OK);
	c = run_on(0, &gj, &irq);
	assert_true(c.job_id != gj.sqe.job_id);
	assert_true(c.status > NUQ_NPU_JOB_ABORTED);
	c = run_on(0, &gj, &irq);
	assert_int_equal(c.job_id, gj.sqe.job_id);
	assert_int_equal(c.status, NUQ_NPU_JOB_OK);

	faults = rd(NUQ_NPU_REG_MMU_FAULTS);
	ctl("mmu-fault 0", EMU_CTL_OK);
	c = run_on(0, &gj, &irq);
	assert_int_equal(c.status, NUQ_NPU_JOB_MMU_FAULT);
	assert_int_equal(c.detail, NUQ_NPU_FAULT_READ);
	assert_int_equal(c.fault_va, tensor_va(&gj, NUQ_T_INPUT));
	assert_int_equal(rd(NUQ_NPU_REG_MMU_FAULTS), faults + 1);

	ctl("drop-irq 0 1", EMU_CTL_OK);
	c = run_on(0, &gj, &irq);
	assert_int_equal(c.status, NUQ_NPU_JOB_OK);
	assert_false(irq);
	c = run_on(0, &gj, &irq);
	assert_true(irq);

	ctl("heartbeat stop", EMU_CTL_OK);
	usleep(5000);
	hb = rd(NUQ_NPU_REG_HEARTBEAT);
	usleep(20000);
	assert_int_equal(rd(NUQ_NPU_REG_HEARTBEAT), hb);
	ctl("heartbeat start", EMU_CTL_OK);
	usleep(20000);
	assert_true(rd(NUQ_NPU_REG_HEARTBEAT) != hb);

	/* A stall freezes progress, then the job completes. */
	ctl("stall 0 150", EMU_CTL_OK);
	c = run_on(0, &gj, &irq);
	assert_int_equal(c.status, NUQ_NPU_JOB_OK);
	assert_true(c.exec_ns >= 150000000ull);

	/* Fuzzing: completions nobody asked for, CQ_TAIL jumping; a reset ends it. */
	ctl("fuzz on", EMU_CTL_OK);
	WAIT_FOR(erd(0, NUQ_NPU_ENG_CQ_TAIL) - g->cq_head[0] > 2 &&
		 erd(1, NUQ_NPU_ENG_CQ_TAIL) - g->cq_head[1] > 2);
	ctl("fuzz off", EMU_CTL_OK);
	wr(NUQ_NPU_REG_RESET_REQ, 1);
	ring(NUQ_NPU_VEC_CTRL(2));
	WAIT_FOR(rd(NUQ_NPU_REG_RESET_DONE) == 1);
	for (i = 0; i < 2; i++) {
		g->cq_head[i] = erd(i, NUQ_NPU_ENG_CQ_TAIL);	/* the driver resyncs */
		ewr(i, NUQ_NPU_ENG_CQ_HEAD, g->cq_head[i]);
		c = run_on(i, &gj, &irq);
		assert_int_equal(c.status, NUQ_NPU_JOB_OK);
		assert_int_equal(c.job_id, gj.sqe.job_id);
	}
	check_output(&gj, want, "after fuzzing");
	free(want);
	test_job_free(&gj.tj);
	fx_stop();
}

struct fake_monitor {
	int listen_fd;
	char got[256];
};

/* One human-monitor session: banner and prompt, a command, a prompt. */
static void *monitor_main(void *arg)
{
	static const char banner[] = "QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) ";
	struct fake_monitor *m = arg;
	int fd = accept(m->listen_fd, NULL, NULL);

	if (fd < 0)
		return NULL;
	if (write(fd, banner, sizeof(banner) - 1) > 0) {
		read_line(fd, m->got, sizeof(m->got));
		if (write(fd, "device_del npu0\r\n(qemu) ", 24) < 0)
			m->got[0] = 0;
	}
	close(fd);
	return NULL;
}

static void unplug_via_monitor(void **state)
{
	struct emu_config cfg = { .engines = 1, .ring_entries = 8, .qemu_device_id = "npu0" };
	struct fake_monitor m = { .got = "" };
	char path[128];
	pthread_t t;

	(void)state;
	fx_start(&cfg);
	snprintf(path, sizeof(path), "%s/monitor.sock", g->dir);
	m.listen_fd = emu_unix_listen(path);
	assert_true(m.listen_fd >= 0);
	assert_int_equal(pthread_create(&t, NULL, monitor_main, &m), 0);
	g->dev.cfg.qemu_monitor = path;
	ctl("unplug", EMU_CTL_OK);
	pthread_join(t, NULL);
	assert_string_equal(m.got, "device_del npu0");
	close(m.listen_fd);
	unlink(path);
	/* No monitor listening: an error that says so. */
	ctl("unplug", EMU_CTL_ERR);
	g->dev.cfg.qemu_monitor = NULL;
	fx_stop();
}

/* --job-latency-us: even a tiny job takes that long, also one that faults. */
static void timing_model(void **state)
{
	struct emu_config cfg = { .engines = 1, .ring_entries = 8, .job_latency_ns = 40000000 };
	struct nuq_npu_cqe c[3];
	struct gjob gj;
	int i;

	(void)state;
	fx_start(&cfg);
	small_job(&gj, 80);
	for (i = 0; i < 3; i++) {
		gj.sqe.job_id = ++g->job_id;
		submit(0, &gj.sqe);
	}
	for (i = 0; i < 3; i++) {
		wait_cqe(0, &c[i]);
		assert_int_equal(c[i].status, NUQ_NPU_JOB_OK);
		assert_true(c[i].exec_ns >= 40000000ull);
	}
	/* Queued behind two 40 ms jobs, the third waited about 80 ms. */
	assert_true(c[2].wait_ns >= 70000000ull);
	gj.sqe.flags = 1;
	submit(0, &gj.sqe);
	wait_cqe(0, &c[0]);
	assert_int_equal(c[0].status, NUQ_NPU_JOB_INVALID);
	assert_true(c[0].exec_ns >= 40000000ull);
	assert_int_equal(emu_model_ns(&(struct emu_config){ .mac_rate = 2, .bandwidth = 4,
							    .job_latency_ns = 10 },
				      2000, 4000), 10 + 1000 + 1000);
	test_job_free(&gj.tj);
	fx_stop();
}

static uint64_t stat_of(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/*
 * Notification suppression.  SQ_AWAKE: 0 while the engine sleeps, 1 while
 * it is bound to read SQ_TAIL again, so submissions then need no doorbell.
 * CTRL_IRQ_SUPPRESS: only a completion posted while CQ_HEAD had caught up
 * is signalled.  Jobs take 30 ms (timing model), so the engine stays busy.
 */
static void notify_suppression(void **state)
{
	struct emu_config cfg = { .engines = 1, .ring_entries = 8, .job_latency_ns = 30000000 };
	struct nuq_npu_cqe c;
	struct gjob gj;
	uint64_t db, irqs, quiet, n;
	int i;

	(void)state;
	fx_start(&cfg);
	assert_true(rd(NUQ_NPU_REG_CAPS) & NUQ_NPU_CAP_NOTIFY_SUPPRESS);
	small_job(&gj, 90);
	drain_irq(0);

	/* Asleep: the first submission rings; running, the engine says it is awake. */
	WAIT_FOR(erd(0, NUQ_NPU_ENG_SQ_AWAKE) == 0);
	db = stat_of(&g->dev.stats.doorbells);
	gj.sqe.job_id = ++g->job_id;
	submit(0, &gj.sqe);
	WAIT_FOR(erd(0, NUQ_NPU_ENG_STATE) == NUQ_NPU_ENG_STATE_RUNNING);
	/* Three more by SQ_TAIL alone, as a driver that read SQ_AWAKE 1 after its fence. */
	for (i = 0; i < 3; i++) {
		gj.sqe.job_id = ++g->job_id;
		submit_quiet(0, &gj.sqe);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	assert_int_equal(erd(0, NUQ_NPU_ENG_SQ_AWAKE), 1);
	/* All four run back to back, without another doorbell; one interrupt each. */
	irqs = 0;
	for (i = 0; i < 4; i++) {
		wait_cqe(0, &c);
		assert_int_equal(c.status, NUQ_NPU_JOB_OK);
		assert_int_equal(c.job_id, gj.sqe.job_id - 3 + i);
		/* Behind at most three others: never an idle poll period in between. */
		assert_true(c.wait_ns < 3 * 30000000ull + 3 * EMU_POLL_MS * 1000000ull);
	}
	assert_int_equal(stat_of(&g->dev.stats.doorbells), db + 1);
	WAIT_FOR((irqs += irq_count(0)) == 4);
	WAIT_FOR(erd(0, NUQ_NPU_ENG_SQ_AWAKE) == 0);

	/* CTRL_IRQ_SUPPRESS: four completions the driver does not consume, one interrupt. */
	wr(NUQ_NPU_REG_CTRL, NUQ_NPU_CTRL_ENABLE | NUQ_NPU_CTRL_IRQ | NUQ_NPU_CTRL_IRQ_SUPPRESS);
	quiet = stat_of(&g->dev.stats.irqs_suppressed);
	for (i = 0; i < 4; i++) {
		gj.sqe.job_id = ++g->job_id;
		submit_quiet(0, &gj.sqe);
	}
	ring(0);
	WAIT_FOR(erd(0, NUQ_NPU_ENG_CQ_TAIL) == g->cq_head[0] + 4);
	usleep(20000);
	assert_int_equal(irq_count(0), 1);
	assert_int_equal(stat_of(&g->dev.stats.irqs_suppressed), quiet + 3);
	/* The driver's drain: consume, CQ_HEAD, fence, CQ_TAIL again (nothing new). */
	for (i = 0; i < 4; i++) {
		assert_true(try_cqe(0, &c));
		assert_int_equal(c.status, NUQ_NPU_JOB_OK);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	assert_int_equal(erd(0, NUQ_NPU_ENG_CQ_TAIL), g->cq_head[0]);
	/* Caught up: the next completion interrupts again, and so does one after each catch-up. */
	for (i = 0; i < 2; i++) {
		gj.sqe.job_id = ++g->job_id;
		submit(0, &gj.sqe);
		n = 0;
		WAIT_FOR((n += irq_count(0)) == 1);
		wait_cqe(0, &c);
		assert_int_equal(c.job_id, gj.sqe.job_id);
	}
	assert_int_equal(stat_of(&g->dev.stats.irqs_suppressed), quiet + 3);
	usleep(20000);
	assert_int_equal(irq_count(0), 0);
	test_job_free(&gj.tj);
	fx_stop();
}

/* A failed test leaves its device running: stop it before the next one starts. */
static int teardown(void **state)
{
	(void)state;
	if (g)
		fx_stop();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(ivshmem_protocol, teardown),
		cmocka_unit_test_teardown(registers, teardown),
		cmocka_unit_test_teardown(random_jobs_bit_identical, teardown),
		cmocka_unit_test_teardown(progress_and_perf, teardown),
		cmocka_unit_test_teardown(padding_only_bands, teardown),
		cmocka_unit_test_teardown(huge_rows, teardown),
		cmocka_unit_test_teardown(mmu_faults, teardown),
		cmocka_unit_test_teardown(invalid_jobs, teardown),
		cmocka_unit_test_teardown(aborts, teardown),
		cmocka_unit_test_teardown(engine_reset, teardown),
		cmocka_unit_test_teardown(device_reset, teardown),
		cmocka_unit_test_teardown(ring_error, teardown),
		cmocka_unit_test_teardown(cq_full_waits, teardown),
		cmocka_unit_test_teardown(control_parsing, teardown),
		cmocka_unit_test_teardown(control_socket, teardown),
		cmocka_unit_test_teardown(injected_faults, teardown),
		cmocka_unit_test_teardown(unplug_via_monitor, teardown),
		cmocka_unit_test_teardown(timing_model, teardown),
		cmocka_unit_test_teardown(notify_suppression, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
