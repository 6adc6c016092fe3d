/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The nuq PCIe NPU: register file, rings, descriptors and page tables.
 *
 * This header is the machine-readable half of Documentation/npu.rst; the
 * driver (kmod/nuq_npu_*.c) and the emulator (tools/nuq-npu-emu) both build
 * against it, so they cannot disagree on an offset.
 *
 * The device is a PCI function 1af4:1110 (QEMU's ivshmem-doorbell):
 *   BAR0  doorbell registers of ivshmem (the driver writes NUQ_IVSHMEM_DOORBELL)
 *   BAR1  MSI-X table
 *   BAR2  shared memory: the NPU's register file and rings, laid out below
 * A BAR2 that does not start with NUQ_NPU_MAGIC is some other ivshmem user
 * and the driver does not bind.
 *
 * Ownership rule: every 32/64-bit word of BAR2 has exactly one writer, the
 * driver (DRV) or the device (DEV).  The other side only reads it.  Nothing
 * is ever read-modify-written by both, so there are no write-1-to-clear
 * races on shared memory; requests and acknowledgements are sequence
 * numbers (the driver writes REQ = n, the device answers ACK = n).
 *
 * All values are little-endian.  64-bit registers are written low word
 * first and are read by the other side only after the event (doorbell or
 * interrupt) that publishes them.
 */
#ifndef _NUQ_NPU_REGS_H_
#define _NUQ_NPU_REGS_H_

#include <linux/const.h>
#include <linux/types.h>
#include <linux/nuq.h>

/* ---- ivshmem-doorbell (BAR0) -------------------------------------------- */

#define NUQ_NPU_PCI_VENDOR		0x1af4
#define NUQ_NPU_PCI_DEVICE		0x1110
#define NUQ_IVSHMEM_INTR_MASK		0x00
#define NUQ_IVSHMEM_INTR_STATUS		0x04
#define NUQ_IVSHMEM_IVPOSITION		0x08	/* the guest's own peer id */
#define NUQ_IVSHMEM_DOORBELL		0x0c	/* write (peer << 16) | vector */

/* ---- BAR2: global registers (page 0) ------------------------------------ */

#define NUQ_NPU_MAGIC			0x3155514e	/* "NQU1" */
#define NUQ_NPU_VERSION_MAJOR		1
#define NUQ_NPU_VERSION_MINOR		1
#define NUQ_NPU_VERSION			((NUQ_NPU_VERSION_MAJOR << 16) | NUQ_NPU_VERSION_MINOR)

#define NUQ_NPU_MAX_ENGINES		4
#define NUQ_NPU_BAR2_MIN_SIZE		0x100000u

/* Identification: DEV, constant once STATUS has READY for the first time. */
#define NUQ_NPU_REG_MAGIC		0x000
#define NUQ_NPU_REG_VERSION		0x004	/* major << 16 | minor */
#define NUQ_NPU_REG_CAPS		0x008	/* NUQ_NPU_CAP_* */
#define NUQ_NPU_REG_NUM_ENGINES		0x00c	/* 1 .. NUQ_NPU_MAX_ENGINES */
#define NUQ_NPU_REG_RING_ENTRIES	0x010	/* per ring, a power of two, 2 .. 1024 */
#define NUQ_NPU_REG_WEIGHT_FORMATS	0x014	/* bit (1 << enum nuq_weight_format) */
#define NUQ_NPU_REG_WEIGHT_BITS		0x018	/* bit n: n-bit codebook indices */
#define NUQ_NPU_REG_ACT_FORMATS		0x01c	/* bit (1 << enum nuq_act_format) */
#define NUQ_NPU_REG_MAX_JOB_MACS	0x020	/* u64: largest job the device takes */
#define NUQ_NPU_REG_VA_BITS		0x028	/* device virtual address bits (48) */
#define NUQ_NPU_REG_DEVICE_PEER		0x02c	/* ivshmem peer id to ring */
#define NUQ_NPU_REG_RESET_TIME_MS	0x030	/* longest a reset may take */
#define NUQ_NPU_REG_HEARTBEAT_US	0x034	/* HEARTBEAT advances this often */

/* State: DEV. */
#define NUQ_NPU_REG_STATUS		0x040	/* NUQ_NPU_STATUS_* bits */
#define NUQ_NPU_REG_ERROR_CODE		0x044	/* NUQ_NPU_ERR_*, valid with STATUS_ERROR */
#define NUQ_NPU_REG_HEARTBEAT		0x048	/* +1 every HEARTBEAT_US while alive */
#define NUQ_NPU_REG_RESET_ACK		0x04c	/* = RESET_REQ once the reset started */
#define NUQ_NPU_REG_RESET_DONE		0x050	/* = RESET_REQ once it finished */
#define NUQ_NPU_REG_MMU_FAULTS		0x054	/* translation faults since power-on */
#define NUQ_NPU_REG_EVENTS		0x058	/* +1 per event signalled on the error vector */

/* Control: DRV. */
#define NUQ_NPU_REG_CTRL		0x080	/* NUQ_NPU_CTRL_* bits */
#define NUQ_NPU_REG_RESET_REQ		0x084	/* write n (n != RESET_DONE) to reset the device */

#define NUQ_NPU_CAP_MMU			_BITUL(0)	/* page tables, always set in v1 */
#define NUQ_NPU_CAP_PROGRESS		_BITUL(1)	/* ENG_PROGRESS advances per tile */
#define NUQ_NPU_CAP_PERF		_BITUL(2)	/* ENG_PERF_* counters */
#define NUQ_NPU_CAP_RESIDUAL		_BITUL(3)	/* NUQ_JOB_F_RESIDUAL jobs */
/*
 * Notification suppression (v1.1): ENG_SQ_AWAKE is published, and
 * CTRL_IRQ_SUPPRESS is honoured.  Without it the driver rings a doorbell
 * for every new SQ_TAIL and gets a completion vector per completion.
 */
#define NUQ_NPU_CAP_NOTIFY_SUPPRESS	_BITUL(4)

#define NUQ_NPU_STATUS_READY		_BITUL(0)	/* takes submissions */
#define NUQ_NPU_STATUS_HALTED		_BITUL(1)	/* stopped until the next reset */
#define NUQ_NPU_STATUS_ERROR		_BITUL(2)	/* ERROR_CODE says why */
#define NUQ_NPU_STATUS_RESETTING	_BITUL(3)	/* between RESET_ACK and RESET_DONE */

#define NUQ_NPU_CTRL_ENABLE		_BITUL(0)	/* fetch submissions */
#define NUQ_NPU_CTRL_IRQ		_BITUL(1)	/* signal MSI-X vectors (else poll) */
/*
 * With CAP_NOTIFY_SUPPRESS: signal completion vector e only for a CQE
 * posted while the driver had consumed every earlier one (CQ_HEAD, read
 * after CQ_TAIL and a full fence, equals the new CQE's index).  The driver
 * that sets it writes CQ_HEAD, issues a full fence and re-reads CQ_TAIL at
 * the end of every drain (Documentation/npu.rst, Interrupts).
 */
#define NUQ_NPU_CTRL_IRQ_SUPPRESS	_BITUL(2)

enum nuq_npu_error {
	NUQ_NPU_ERR_NONE = 0,
	NUQ_NPU_ERR_INTERNAL = 1,	/* the device failed; reset it */
	NUQ_NPU_ERR_RING = 2,		/* SQ_TAIL ran more than RING_ENTRIES ahead */
};

/* ---- BAR2: per-engine registers (page 1 + e) ----------------------------- */

#define NUQ_NPU_ENGINE_BASE		0x1000
#define NUQ_NPU_ENGINE_STRIDE		0x1000
#define NUQ_NPU_ENGINE(e)		(NUQ_NPU_ENGINE_BASE + (e) * NUQ_NPU_ENGINE_STRIDE)

/* Ring geometry: DEV, constant. Offsets are from the start of BAR2. */
#define NUQ_NPU_ENG_SQ_OFFSET		0x000
#define NUQ_NPU_ENG_CQ_OFFSET		0x004
/* Ring indices: free-running u32, the slot is index % RING_ENTRIES. */
#define NUQ_NPU_ENG_SQ_TAIL		0x010	/* DRV: next slot the driver fills */
#define NUQ_NPU_ENG_SQ_HEAD		0x014	/* DEV: next slot the device takes */
#define NUQ_NPU_ENG_CQ_TAIL		0x018	/* DEV: next slot the device fills */
#define NUQ_NPU_ENG_CQ_HEAD		0x01c	/* DRV: next slot the driver reads */
/* Execution state: DEV. */
#define NUQ_NPU_ENG_PROGRESS		0x020	/* tiles done on this engine, free-running */
#define NUQ_NPU_ENG_STATE		0x024	/* NUQ_NPU_ENG_STATE_* */
#define NUQ_NPU_ENG_CUR_JOB		0x028	/* u64: job_id running, 0 when idle */
#define NUQ_NPU_ENG_ABORT_ACK		0x030	/* = ABORT_REQ once handled */
#define NUQ_NPU_ENG_RESET_ACK		0x034	/* = ENG_RESET_REQ once started */
#define NUQ_NPU_ENG_RESET_DONE		0x038	/* = ENG_RESET_REQ once finished */
/*
 * With CAP_NOTIFY_SUPPRESS: 1 while the engine is bound to read SQ_TAIL
 * again before it sleeps, so a new SQ_TAIL needs no doorbell; 0 (also
 * the value of an older device's reserved word) means ring.  The engine
 * stores 0, issues a full fence and re-reads SQ_TAIL before it sleeps;
 * the driver stores SQ_TAIL, issues a full fence (mb()) and reads this
 * (Documentation/npu.rst, Submission).
 */
#define NUQ_NPU_ENG_SQ_AWAKE		0x03c
/* Requests: DRV. */
#define NUQ_NPU_ENG_ABORT_JOB		0x040	/* u64: job_id to abort */
#define NUQ_NPU_ENG_ABORT_REQ		0x048	/* write n to abort ABORT_JOB */
#define NUQ_NPU_ENG_RESET_REQ		0x04c	/* write n to reset this engine */
/* Performance counters: DEV, u64, since power-on (resets keep them). */
#define NUQ_NPU_ENG_PERF_JOBS		0x100
#define NUQ_NPU_ENG_PERF_MACS		0x108
#define NUQ_NPU_ENG_PERF_BUSY_NS	0x110
#define NUQ_NPU_ENG_PERF_TILES		0x118

#define NUQ_NPU_ENG_STATE_IDLE		0
#define NUQ_NPU_ENG_STATE_RUNNING	1
#define NUQ_NPU_ENG_STATE_RESETTING	2

/*
 * Doorbell vectors (the driver writes (DEVICE_PEER << 16) | vector to BAR0
 * NUQ_IVSHMEM_DOORBELL): vector e < NUM_ENGINES means "engine e: look at
 * SQ_TAIL and ABORT_REQ", vector NUM_ENGINES means "look at RESET_REQ,
 * the engines' RESET_REQ and CTRL".
 *
 * MSI-X vectors (device to driver): vector e < NUM_ENGINES means "engine e
 * posted completions", vector NUM_ENGINES means "an event: EVENTS, RESET_*,
 * an engine's RESET_* or ABORT_ACK, MMU_FAULTS or STATUS changed".
 * Interrupts may be coalesced and may be lost: see Documentation/npu.rst.
 */
#define NUQ_NPU_VEC_CTRL(num_engines)	(num_engines)
#define NUQ_NPU_NR_VECTORS(num_engines)	((num_engines) + 1)

/* ---- Rings ---------------------------------------------------------------- */

/*
 * Submission queue entry, 512 bytes.  The job is the UAPI descriptor
 * unchanged except that each used tensor slot i lives in the buffer at
 * device virtual address va[i] of size[i] bytes (tensors[i].offset is
 * relative to va[i]; tensors[i].handle is non-zero exactly for used
 * slots).  pt_root names the job's address space.
 */
struct nuq_npu_sqe {
	__u64 job_id;		/* non-zero, echoed in the CQE */
	__u64 pt_root;		/* bus address of the level-0 page table */
	__u32 flags;		/* must be 0 */
	__u32 rsvd0;
	__u64 va[NUQ_T_COUNT];
	__u64 size[NUQ_T_COUNT];
	struct nuq_conv_job job;
	__u8 rsvd1[96];
};

enum nuq_npu_job_status {
	NUQ_NPU_JOB_OK = 0,
	NUQ_NPU_JOB_INVALID = 1,	/* detail: the NUQ_JOB_E_* the device found */
	NUQ_NPU_JOB_MMU_FAULT = 2,	/* detail: NUQ_NPU_FAULT_*, fault_va */
	NUQ_NPU_JOB_DEVICE_ERROR = 3,	/* the engine failed the job */
	NUQ_NPU_JOB_ABORTED = 4,	/* the driver aborted it (ABORT_REQ) */
};

#define NUQ_NPU_FAULT_READ		1	/* no valid mapping for a read */
#define NUQ_NPU_FAULT_WRITE		2	/* no writable mapping for a write */
#define NUQ_NPU_FAULT_PTE		3	/* a page-table entry has reserved bits set */

/* Completion queue entry, 64 bytes. */
struct nuq_npu_cqe {
	__u64 job_id;
	__u32 status;		/* enum nuq_npu_job_status */
	__u32 detail;
	__u64 fault_va;
	__u32 tiles;		/* tiles the job completed */
	__u32 rsvd0;
	__u64 wait_ns;		/* from the doorbell the device saw to the job's start */
	__u64 exec_ns;		/* from the job's start to its completion */
	__u64 macs;		/* multiply-accumulates done */
	__u64 rsvd1;
};

/* ---- Page tables ---------------------------------------------------------- */

/*
 * Four levels of 512 eight-byte entries in one 4 KiB page each, like
 * x86-64: level 0 is indexed by VA bits 47:39, level 1 by 38:30, level 2 by
 * 29:21, level 3 by 20:12; a level-3 entry maps one 4 KiB page.  Tables
 * and pages are in host memory at bus addresses (what dma_map_*() gives).
 */
#define NUQ_NPU_PAGE_SHIFT		12
#define NUQ_NPU_PAGE_SIZE		_BITUL(NUQ_NPU_PAGE_SHIFT)
#define NUQ_NPU_PT_LEVELS		4
#define NUQ_NPU_PT_ENTRIES		512
#define NUQ_NPU_VA_BITS			48
#define NUQ_NPU_PT_INDEX(va, level)	\
	(((va) >> (39 - 9 * (level))) & (NUQ_NPU_PT_ENTRIES - 1))

#define NUQ_NPU_PTE_VALID		_BITULL(0)
#define NUQ_NPU_PTE_WRITE		_BITULL(1)	/* level 3 only */
#define NUQ_NPU_PTE_ADDR_MASK		0x000ffffffffff000ull
/* Any other bit set is a NUQ_NPU_FAULT_PTE. */
#define NUQ_NPU_PTE_RSVD_MASK		(~(NUQ_NPU_PTE_ADDR_MASK | NUQ_NPU_PTE_VALID | \
					   NUQ_NPU_PTE_WRITE))

#endif /* _NUQ_NPU_REGS_H_ */
