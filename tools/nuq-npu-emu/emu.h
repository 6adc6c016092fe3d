/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * nuq-npu-emu: the nuq PCIe NPU of kmod/hw/nuq_npu_regs.h, emulated on the
 * host behind QEMU's ivshmem-doorbell device.
 *
 * The emulator is the ivshmem server and its peer 0: BAR2 is a memfd it
 * shares with QEMU, doorbells arrive on eventfds of peer 0, and interrupts
 * are raised by writing the guest's eventfds.  Guest RAM is a shared file
 * that the MMU walks and the engines gather from and scatter to.
 *
 * Everything but main.c works without QEMU, so the unit test can drive the
 * device in-process as a fake driver.
 */
#ifndef NUQ_NPU_EMU_H
#define NUQ_NPU_EMU_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "nuq_npu_regs.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
/* BAR2 and descriptors are little-endian and are accessed in place. */
#error "nuq-npu-emu needs a little-endian host"
#endif

#define EMU_NR_VEC_MAX		NUQ_NPU_NR_VECTORS(NUQ_NPU_MAX_ENGINES)
#define EMU_MAX_PEERS		8
#define EMU_SQ_BASE		0x10000u
#define EMU_SQE_SIZE		512u
#define EMU_CQE_SIZE		64u
#define EMU_POLL_MS		10	/* engines and control poll this often */
#define EMU_BAND_MACS_DEFAULT	(4u << 20)
#define EMU_MAX_JOB_MACS	(1ull << 36)
#define EMU_RESET_TIME_MS	100
#define EMU_HEARTBEAT_US	1000

_Static_assert(sizeof(struct nuq_npu_sqe) == EMU_SQE_SIZE, "SQE is 512 bytes");
_Static_assert(sizeof(struct nuq_npu_cqe) == EMU_CQE_SIZE, "CQE is 64 bytes");

struct emu_config {
	unsigned int engines;		/* 1 .. NUQ_NPU_MAX_ENGINES */
	unsigned int ring_entries;	/* power of two, 2 .. 1024 */
	uint64_t band_macs;		/* largest band of a job, in MACs */
	double mac_rate;		/* timing model, GMAC/s; 0: off */
	double bandwidth;		/* timing model, GB/s; 0: off */
	uint64_t job_latency_ns;	/* timing model, fixed cost per job */
	const char *qemu_monitor;	/* human monitor socket for "unplug" */
	const char *qemu_device_id;	/* device_del argument */
};

/* Guest RAM: a MAP_SHARED mapping of QEMU's memory-backend-file. */
struct emu_guestmem {
	uint8_t *base;
	uint64_t size;
};

/* Faults injected per engine; counters are consumed one job at a time. */
struct emu_eng_faults {
	int hang;			/* stop progressing until a reset */
	uint64_t stall_ms;		/* freeze this long at the next band */
	unsigned int fail;		/* jobs that end with DEVICE_ERROR */
	unsigned int corrupt_cqe;	/* CQEs with garbage job_id/status */
	unsigned int mmu_fault;		/* jobs that fault on their input */
};

struct emu_faults {
	struct emu_eng_faults eng[NUQ_NPU_MAX_ENGINES];
	unsigned int drop_irq[EMU_NR_VEC_MAX];
	int heartbeat_stopped;
	unsigned int reset_refuse;
	unsigned int reset_delay_ms;
	int fuzz;
};

/* Counters for "stats"; atomics, updated by every thread. */
struct emu_stats {
	uint64_t jobs, jobs_ok, jobs_invalid, jobs_mmu_fault, jobs_device_error, jobs_aborted;
	uint64_t jobs_dropped, tiles, macs, irqs, irqs_dropped, events;
	uint64_t resets, resets_refused, eng_resets, aborts, ring_errors, faults_injected;
	uint64_t fuzz_cqes;
	uint64_t doorbells;		/* doorbell writes seen by the engines */
	uint64_t irqs_suppressed;	/* completions CTRL_IRQ_SUPPRESS did not signal */
	uint64_t row_bands, image_bands, tile_bands;
};

struct emu_dev;

struct emu_engine {
	struct emu_dev *dev;
	unsigned int idx;
	pthread_t thread;
	int started;
	int wake_fd;			/* eventfd: park request or stop */

	/* Park protocol: the control thread parks an engine to reset it. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int park_req;			/* read unlocked with __atomic too */
	int parked;

	/* Owned by whoever runs the engine (its thread, or control while parked). */
	uint32_t sq_head, cq_tail, progress;
	uint32_t abort_seen;		/* ABORT_REQ last acknowledged */
	uint32_t tail_seen;		/* SQ_TAIL last observed */
	uint64_t seen_ns[1024];		/* when each slot's submission was seen */
	uint64_t perf_jobs, perf_macs, perf_busy_ns, perf_tiles;
	int halted;			/* ring error: no fetching until a reset */
	uint64_t cur_job;		/* job_id running, 0 when idle */
	uint64_t rng;
};

/* A client of the ivshmem server (QEMU): the eventfds that interrupt it. */
struct emu_peer {
	int used;
	int id;
	int sock;
	int irq[EMU_NR_VEC_MAX];
};

struct emu_dev {
	struct emu_config cfg;
	unsigned int nr_vec;

	int shm_fd;
	uint8_t *bar2;
	size_t bar2_size;
	uint32_t sq_off[NUQ_NPU_MAX_ENGINES], cq_off[NUQ_NPU_MAX_ENGINES];

	struct emu_guestmem ram;

	int doorbell[EMU_NR_VEC_MAX];	/* peer 0's eventfds: QEMU rings them */

	pthread_mutex_t peers_lock;
	struct emu_peer peers[EMU_MAX_PEERS];
	int next_peer_id;

	struct emu_engine eng[NUQ_NPU_MAX_ENGINES];
	pthread_t ctrl_thread, hb_thread;
	int threads_started;
	int stop_fd;			/* eventfd: wakes the control thread on stop */
	int stopping;

	/* Device-written global words that several threads update. */
	pthread_mutex_t reg_lock;
	uint32_t status, error_code, events, mmu_faults, heartbeat;
	uint32_t reset_seen;		/* RESET_REQ last handled or refused */
	uint32_t eng_reset_seen[NUQ_NPU_MAX_ENGINES];

	pthread_mutex_t fault_lock;
	struct emu_faults faults;
	struct emu_stats stats;
};

/* ---- log.c / timing.c ---- */
extern int emu_quiet;
void emu_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t emu_now_ns(void);
void emu_sleep_ns(uint64_t ns);
uint64_t emu_model_ns(const struct emu_config *cfg, uint64_t macs, uint64_t bytes);

/* ---- regs.c: BAR2 ---- */
int emu_layout(unsigned int engines, unsigned int entries, uint32_t *sq_off, uint32_t *cq_off,
	       size_t *bar2_size);
int emu_reg_dev_owned(uint32_t off);
uint32_t emu_rd32(const struct emu_dev *dev, uint32_t off);
uint64_t emu_rd64(const struct emu_dev *dev, uint32_t off);
void emu_wr32(struct emu_dev *dev, uint32_t off, uint32_t val);
void emu_wr64(struct emu_dev *dev, uint32_t off, uint64_t val);
uint32_t emu_erd32(const struct emu_engine *eng, uint32_t off);
void emu_ewr32(struct emu_engine *eng, uint32_t off, uint32_t val);
void emu_ewr64(struct emu_engine *eng, uint32_t off, uint64_t val);
void emu_regs_init(struct emu_dev *dev);
void emu_set_status(struct emu_dev *dev, uint32_t set, uint32_t clear, int error_code);
void emu_event(struct emu_dev *dev);
void emu_irq(struct emu_dev *dev, unsigned int vector);

/* ---- guestmem.c: guest RAM and the MMU ---- */
int emu_guestmem_open(struct emu_guestmem *ram, const char *path);
void emu_guestmem_close(struct emu_guestmem *ram);

/* One translated range: host address of each page piece, in order. */
struct emu_xlate {
	uint8_t **host;		/* one per piece */
	uint32_t *len;
	size_t pieces;
};

/* 0, or a NUQ_NPU_FAULT_* with *fault_va set. */
int emu_mmu_translate(const struct emu_guestmem *ram, uint64_t pt_root, uint64_t va,
		      uint64_t bytes, int write, struct emu_xlate *x, uint64_t *fault_va);
void emu_xlate_free(struct emu_xlate *x);
void emu_xlate_gather(const struct emu_xlate *x, uint8_t *dst);
void emu_xlate_scatter(const struct emu_xlate *x, const uint8_t *src);

/* ---- exec.c: one job ---- */
enum emu_check {
	EMU_GO = 0,		/* continue */
	EMU_ABORT,		/* the driver aborted the job */
	EMU_ABANDON,		/* a reset: drop the job without a completion */
};

/* Called between bands with the tiles done so far; says whether to go on. */
typedef enum emu_check (*emu_band_cb)(void *arg, uint32_t tiles_done, uint32_t tiles);

/* Returns EMU_GO when @cqe is to be posted, EMU_ABANDON when not. */
enum emu_check emu_exec_job(struct emu_engine *eng, const struct nuq_npu_sqe *sqe,
			    struct nuq_npu_cqe *cqe, emu_band_cb cb, void *arg);

/* Runs @job (validated, tensors at @t with sizes @sz) in bands; 0 or -NUQ_JOB_E_*. */
struct emu_band_run {
	const struct nuq_conv_job *job;
	uint8_t *t[NUQ_T_COUNT];
	uint64_t sz[NUQ_T_COUNT];
	uint64_t macs;		/* of the whole job (the plan's) */
	uint32_t tiles;		/* the plan's: batch * out_h * row_tiles */
	uint32_t row_tiles;	/* the core's tiles per output row */
	uint64_t band_macs;
	emu_band_cb cb;
	void *arg;
	uint32_t tiles_done;
	enum emu_check stop;
	uint32_t row_bands, image_bands, tile_bands;	/* how it was cut */
};
int emu_run_bands(struct emu_band_run *run);

/* ---- engine.c ---- */
int emu_engine_start(struct emu_engine *eng);
void emu_engine_park(struct emu_engine *eng);
void emu_engine_unpark(struct emu_engine *eng);
void emu_engine_kick(struct emu_engine *eng);

/* ---- ctrl.c: the control vector (resets) and the heartbeat ---- */
void *emu_ctrl_thread(void *arg);
void *emu_heartbeat_thread(void *arg);

/* ---- device.c ---- */
int emu_dev_init(struct emu_dev *dev, const struct emu_config *cfg, const char *ram_path);
int emu_dev_start(struct emu_dev *dev);
void emu_dev_stop(struct emu_dev *dev);
void emu_dev_destroy(struct emu_dev *dev);

/* ---- faults.c: fault state and the control protocol ---- */
int emu_fault_take(struct emu_dev *dev, unsigned int *counter);
enum emu_ctl_result { EMU_CTL_OK, EMU_CTL_ERR, EMU_CTL_EXIT };
enum emu_ctl_result emu_control_exec(struct emu_dev *dev, const char *line, char *reply,
				     size_t len);

/* ---- ivshmem.c: the server protocol ---- */
int emu_unix_listen(const char *path);
int emu_ivshmem_send(int sock, int64_t msg, int fd);
int emu_ivshmem_accept(struct emu_dev *dev, int listen_fd);
void emu_ivshmem_drop(struct emu_dev *dev, int sock);

/* ---- control.c / server.c ---- */
struct emu_ctl_conn {
	int fd;
	size_t len;
	char buf[512];
	int overflow;		/* discarding the rest of an overlong line */
};
int emu_ctl_input(struct emu_dev *dev, struct emu_ctl_conn *c);
int emu_monitor_command(const char *path, const char *cmd, char *reply, size_t len);
int emu_server_run(struct emu_dev *dev, int ivshmem_fd, int control_fd, int stop_fd);

#endif
