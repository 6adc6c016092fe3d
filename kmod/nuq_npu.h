/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: the PCIe NPU backend - state shared by the nuq_npu_*.c files.
 *
 * One struct nuq_npu per bound PCI function; it belongs to its struct
 * nuq_device (backend_priv) and lives until the last reference to that
 * device is gone, which may be long after the PCI function was removed.
 */
#ifndef _NUQ_NPU_H_
#define _NUQ_NPU_H_

#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "nuq_npu_regs.h"

struct dentry;
struct pci_dev;
struct nuq_bo;
struct nuq_ctx;
struct nuq_device;
struct nuq_job;
struct nuq_npu;

/* module parameters, see nuq_npu_pci.c */
extern bool nuq_npu_poll;
extern unsigned int nuq_npu_queue_depth;
extern unsigned int nuq_npu_watchdog_ms;
extern unsigned int nuq_npu_hang_ms;
extern unsigned int nuq_npu_abort_ms;
extern unsigned int nuq_npu_max_resets;
extern unsigned int nuq_npu_max_resubmits;
extern unsigned int nuq_npu_spin_us;
extern bool nuq_npu_notify_suppress;

/* Handles at or above this have no device virtual address (VA = handle << 32). */
#define NUQ_NPU_MAX_HANDLE	BIT(NUQ_NPU_VA_BITS - 32)
/* Job ids are (sequence << NUQ_NPU_SLOT_BITS) | slot: never 0, never reused. */
#define NUQ_NPU_SLOT_BITS	10
#define NUQ_NPU_MAX_RING	BIT(NUQ_NPU_SLOT_BITS)

/**
 * struct nuq_npu_pt - one page-table page
 * @cpu: its contents as the CPU writes them
 * @dma: its bus address, what the parent entry or pt_root holds
 * @child: the next level's tables by index (levels 0-2), NULL at level 3
 */
struct nuq_npu_pt {
	__le64 *cpu;
	dma_addr_t dma;
	struct nuq_npu_pt **child;
};

/**
 * struct nuq_npu_vm - a context's device address space
 * @npu: the device
 * @ctx: the context (its backend_priv points back here)
 * @node: entry in &nuq_npu.vms
 * @root: the level-0 table
 * @maps: the BOs mapped (struct nuq_npu_map.node)
 * @nr_maps: entries of @maps; the address space is freed when it drops to 0
 * @nr_tables: page-table pages, for debugfs
 */
struct nuq_npu_vm {
	struct nuq_npu *npu;
	struct nuq_ctx *ctx;
	struct list_head node;
	struct nuq_npu_pt *root;
	struct list_head maps;
	unsigned int nr_maps;
	unsigned int nr_tables;
};

/**
 * struct nuq_npu_map - a BO mapped into its context's address space
 * @bo: the BO (its dev_map points back here); not referenced: the BO's
 *	release unmaps it
 * @vm: the address space
 * @node: entry in &nuq_npu_vm.maps
 * @sgt: the BO's pages, DMA-mapped
 * @va: device virtual address, the handle << 32
 * @users: jobs on the device that use the mapping; it may be torn down
 *	only at 0
 */
struct nuq_npu_map {
	struct nuq_bo *bo;
	struct nuq_npu_vm *vm;
	struct list_head node;
	struct sg_table sgt;
	u64 va;
	atomic_t users;
};

/**
 * struct nuq_npu_slot - a job on an engine (submitted, not completed)
 * @job: the job, NULL while the slot is free
 * @job_id: the id in its SQE
 * @node: entry in &nuq_npu_engine.inflight, oldest first
 * @maps: the mappings the job uses, one per tensor slot
 * @t_doorbell: when the doorbell for it was rung
 * @t_head: when it became the oldest job of the engine, that is when the
 *	engine started it (rings run in order); its timeout counts from here
 * @abort_sent: when ABORT_REQ was written for it, or 0
 * @guilty: the job hung or timed out; a reset does not resubmit it
 */
struct nuq_npu_slot {
	struct nuq_job *job;
	u64 job_id;
	struct list_head node;
	struct nuq_npu_map *maps[NUQ_T_COUNT];
	ktime_t t_doorbell;
	ktime_t t_head;
	ktime_t abort_sent;
	bool guilty;
};

/**
 * struct nuq_npu_lat - sums for the per-job latency breakdown (debugfs)
 * @count: jobs summed
 * @queue_ns: queued (submit ioctl/uring) to doorbell
 * @wait_ns: doorbell to start on the device (the CQE's wait_ns)
 * @exec_ns: execution on the device (the CQE's exec_ns)
 * @irq_ns: device completion to the driver reading the CQ (interrupt
 *	or poll): doorbell to that minus @wait_ns and @exec_ns
 * @complete_ns: the driver reading the CQ to the job's waiters woken
 */
struct nuq_npu_lat {
	u64 count;
	u64 queue_ns;
	u64 wait_ns;
	u64 exec_ns;
	u64 irq_ns;
	u64 complete_ns;
};

/**
 * struct nuq_npu_engine - one engine and its two rings
 * @npu: the device
 * @index: engine number
 * @lock: protects everything below and the ring registers DRV owns
 * @regs: the engine's register page in BAR2
 * @sq: the submission ring in BAR2
 * @cq: the completion ring in BAR2
 * @sq_tail: the driver's SQ_TAIL (never read back from the device)
 * @cq_head: the driver's CQ_HEAD
 * @accepting: new jobs may be submitted (false during a reset)
 * @resetting: a reset of the engine (or device) is pending: its CQ is
 *	not read and CQ_HEAD not written until the reset is done (npu.rst)
 * @nr_inflight: jobs in @inflight
 * @inflight_macs: their multiply-accumulates (job cost)
 * @slots: &nuq_npu.depth slots
 * @inflight: jobs on the engine, oldest first
 * @t_seen: when the driver last looked at the CQ
 * @progress: last ENG_PROGRESS seen
 * @progress_time: when the engine last made progress (or became busy)
 * @abort_seq: last ABORT_REQ written
 * @abort_time: when it was written
 * @reset_seq: last ENG_RESET_REQ written
 * @lat: latency sums
 * @completed: jobs completed by a CQE
 */
struct nuq_npu_engine {
	struct nuq_npu *npu;
	unsigned int index;
	spinlock_t lock;	/* see above */
	void __iomem *regs;
	void __iomem *sq;
	void __iomem *cq;
	u32 sq_tail;
	u32 cq_head;
	bool accepting;
	bool resetting;
	unsigned int nr_inflight;
	u64 inflight_macs;
	struct nuq_npu_slot *slots;
	struct list_head inflight;
	ktime_t t_seen;
	u32 progress;
	ktime_t progress_time;
	u32 abort_seq;
	ktime_t abort_time;
	u32 reset_seq;
	struct nuq_npu_lat lat;
	u64 completed;
};

/**
 * struct nuq_npu_counters - recovery counters (sysfs)
 * @resets: device resets
 * @engine_resets: engine resets
 * @hangs: jobs that stopped making progress or ran past their timeout
 * @device_errors: DEVICE_ERROR completions and device input the driver
 *	refused (ring index, job id or status out of range)
 * @mmu_faults: MMU_FAULT completions
 * @resubmits: innocent jobs put back after a reset
 * @lost_irqs: completions found by the watchdog rather than an interrupt
 */
struct nuq_npu_counters {
	atomic64_t resets;
	atomic64_t engine_resets;
	atomic64_t hangs;
	atomic64_t device_errors;
	atomic64_t mmu_faults;
	atomic64_t resubmits;
	atomic64_t lost_irqs;
};

/**
 * struct nuq_npu - one NPU
 * @pdev: the PCI function (referenced until the NPU is freed)
 * @ndev: its /dev/nuqN
 * @ordinal: N of the name nuq-npuN
 * @bar0: ivshmem doorbell registers
 * @bar2: register file and rings
 * @bar2_size: bytes of @bar2
 * @caps: NUQ_NPU_CAP_*
 * @num_engines: engines in use
 * @ring_entries: entries per ring
 * @depth: jobs in flight per engine (npu_queue_depth, at most @ring_entries)
 * @weight_formats: from the device, limited to what the UAPI knows
 * @weight_bits: likewise
 * @act_formats: likewise
 * @max_job_macs: largest job the device takes
 * @peer: ivshmem peer id of the device
 * @reset_time_ms: longest a reset may take
 * @heartbeat_us: HEARTBEAT period
 * @engines: the engines
 * @nr_vectors: MSI-X vectors allocated; 0 when polling
 * @irq_names: names of the vectors in /proc/interrupts
 * @wq: submission, watchdog and polling work
 * @submit_work: fills the rings (kick)
 * @watchdog: periodic health check and recovery
 * @poll_work: drains the rings without interrupts
 * @dead_work: ends jobs queued on a dead device
 * @recovery_lock: serialises health checks, resets and death
 * @submit_lock: held while jobs go onto rings; resets hold it too
 * @sqe_buf: where an SQE is built, under @submit_lock
 * @mmu_lock: protects @vms, every address space and BO mapping
 * @vms: address spaces (struct nuq_npu_vm.node)
 * @next_seq: job id sequence
 * @gone: the device is unreachable: the BARs are never touched again
 * @stopping: remove has begun: no more work is queued
 * @garbage: bit 0: the device wrote garbage, reset it
 * @reset_seq: last RESET_REQ written
 * @failed_resets: resets in a row that did not bring the device back
 * @reset_unproven: a reset happened and no job has succeeded since
 * @heartbeat: last HEARTBEAT seen
 * @heartbeat_time: when it last changed
 * @mmu_fault_regs: last MMU_FAULTS seen
 * @cnt: recovery counters
 * @debugfs: nuq/nuqN/npu
 * @mmu_probe: test hook: move the next job's output this many handles on
 */
struct nuq_npu {
	struct pci_dev *pdev;
	struct nuq_device *ndev;
	unsigned int ordinal;
	void __iomem *bar0;
	void __iomem *bar2;
	resource_size_t bar2_size;

	u32 caps;
	u32 num_engines;
	u32 ring_entries;
	u32 depth;
	u32 weight_formats;
	u32 weight_bits;
	u32 act_formats;
	u64 max_job_macs;
	u32 peer;
	u32 reset_time_ms;
	u32 heartbeat_us;

	struct nuq_npu_engine engines[NUQ_NPU_MAX_ENGINES];
	unsigned int nr_vectors;
	char irq_names[NUQ_NPU_MAX_ENGINES + 1][24];

	struct workqueue_struct *wq;
	struct work_struct submit_work;
	struct delayed_work watchdog;
	struct delayed_work poll_work;
	struct work_struct dead_work;

	struct mutex recovery_lock;	/* see above */
	struct mutex submit_lock;	/* see above */
	struct nuq_npu_sqe *sqe_buf;
	struct mutex mmu_lock;		/* see above */
	struct list_head vms;
	atomic64_t next_seq;

	bool gone;
	bool stopping;
	unsigned long garbage;
	u32 reset_seq;
	unsigned int failed_resets;
	bool reset_unproven;
	u32 heartbeat;
	ktime_t heartbeat_time;
	u32 mmu_fault_regs;
	struct nuq_npu_counters cnt;
	struct dentry *debugfs;
	atomic_t mmu_probe;
};

extern const struct nuq_backend_ops nuq_npu_backend;

/* Some engine has jobs. */
static inline bool nuq_npu_busy(struct nuq_npu *npu)
{
	unsigned int e;

	for (e = 0; e < npu->num_engines; e++)
		if (READ_ONCE(npu->engines[e].nr_inflight))
			return true;
	return false;
}

/* nuq_npu_hw.c: registers, doorbells, handshakes */
u32 nuq_npu_rd32(struct nuq_npu *npu, u32 off);
u64 nuq_npu_rd64(struct nuq_npu *npu, u32 off);
void nuq_npu_wr32(struct nuq_npu *npu, u32 off, u32 val);
void nuq_npu_wr64(struct nuq_npu *npu, u32 off, u64 val);
u32 nuq_npu_eng_rd32(struct nuq_npu_engine *eng, u32 off);
u64 nuq_npu_eng_rd64(struct nuq_npu_engine *eng, u32 off);
void nuq_npu_eng_wr32(struct nuq_npu_engine *eng, u32 off, u32 val);
void nuq_npu_eng_wr64(struct nuq_npu_engine *eng, u32 off, u64 val);
void nuq_npu_doorbell(struct nuq_npu *npu, unsigned int vector);
bool nuq_npu_check_gone(struct nuq_npu *npu);
int nuq_npu_hw_identify(struct nuq_npu *npu);
void nuq_npu_hw_enable(struct nuq_npu *npu, bool enable);
int nuq_npu_hw_reset(struct nuq_npu *npu);
int nuq_npu_hw_engine_reset(struct nuq_npu_engine *eng);
void nuq_npu_ring_resync(struct nuq_npu_engine *eng);

/* nuq_npu_mmu.c: address spaces and BO mappings */
int nuq_npu_map_job(struct nuq_npu *npu, struct nuq_job *job, struct nuq_npu_slot *slot,
		    u64 *pt_root);
void nuq_npu_unmap_job(struct nuq_npu *npu, struct nuq_npu_slot *slot);
void nuq_npu_bo_release(struct nuq_device *ndev, struct nuq_bo *bo);
void nuq_npu_mmu_fence(struct nuq_npu *npu);
void nuq_npu_mmu_teardown(struct nuq_npu *npu);

/* nuq_npu_ring.c: submission and completion */
int nuq_npu_engines_init(struct nuq_npu *npu);
void nuq_npu_engines_fini(struct nuq_npu *npu);
void nuq_npu_submit(struct nuq_npu *npu);
struct nuq_npu_engine *nuq_npu_submit_locked(struct nuq_npu *npu);
void nuq_npu_spin(struct nuq_npu_engine *eng);
void nuq_npu_submit_work(struct work_struct *work);
int nuq_npu_drain(struct nuq_npu_engine *eng);
void nuq_npu_drain_all(struct nuq_npu *npu, bool from_watchdog);
struct nuq_job *nuq_npu_take_slot(struct nuq_npu_engine *eng, struct nuq_npu_slot *slot,
				  ktime_t now);

/* nuq_npu_irq.c: MSI-X or polling */
int nuq_npu_irq_init(struct nuq_npu *npu);
void nuq_npu_irq_fini(struct nuq_npu *npu);
void nuq_npu_poll_work(struct work_struct *work);
void nuq_npu_poll_arm(struct nuq_npu *npu);

/* nuq_npu_recovery.c: watchdog, resets, death */
void nuq_npu_watchdog_work(struct work_struct *work);
void nuq_npu_watchdog_now(struct nuq_npu *npu);
int nuq_npu_recover(struct nuq_npu *npu, int engine, const char *why);
void nuq_npu_mark_dead(struct nuq_npu *npu, const char *why);
void nuq_npu_dead_work(struct work_struct *work);
void nuq_npu_abort(struct nuq_device *ndev, struct nuq_job *job);

/* nuq_npu_debugfs.c */
void nuq_npu_debugfs_init(struct nuq_npu *npu);
void nuq_npu_debugfs_fini(struct nuq_npu *npu);

#endif /* _NUQ_NPU_H_ */
