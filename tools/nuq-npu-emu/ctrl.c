// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The control vector (NUM_ENGINES): device and engine resets, and the
 * heartbeat.  A reset parks the engines it covers (each drops its job
 * without a completion), moves SQ_HEAD to SQ_TAIL so nothing queued runs
 * or completes, and leaves the CQ as it is: completions already posted
 * stay valid for the driver to read.
 */
#include <poll.h>
#include <unistd.h>

#include "emu.h"

#define STOP_SLICE_NS	1000000ull

static int stopping(struct emu_dev *dev)
{
	return __atomic_load_n(&dev->stopping, __ATOMIC_ACQUIRE);
}

static void sleep_ms_unless_stopping(struct emu_dev *dev, unsigned int ms)
{
	uint64_t end = emu_now_ns() + (uint64_t)ms * 1000000ull;

	while (!stopping(dev) && emu_now_ns() < end)
		emu_sleep_ns(STOP_SLICE_NS);
}

/* With the engine parked: forget its queue, its job, its ring error, its hang. */
static void reset_engine_state(struct emu_engine *eng)
{
	struct emu_dev *dev = eng->dev;
	struct emu_eng_faults *f = &dev->faults.eng[eng->idx];
	uint32_t tail = emu_erd32(eng, NUQ_NPU_ENG_SQ_TAIL), req;

	if (tail != eng->sq_head)
		emu_log("engine %u: reset drops %u queued entries", eng->idx, tail - eng->sq_head);
	eng->sq_head = tail;
	eng->tail_seen = tail;
	emu_ewr32(eng, NUQ_NPU_ENG_SQ_HEAD, tail);
	eng->cur_job = 0;
	emu_ewr64(eng, NUQ_NPU_ENG_CUR_JOB, 0);
	eng->halted = 0;
	__atomic_store_n(&f->hang, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&f->stall_ms, 0, __ATOMIC_RELEASE);
	/* An abort of a job the reset dropped is handled too. */
	req = emu_erd32(eng, NUQ_NPU_ENG_ABORT_REQ);
	if (req != eng->abort_seen) {
		eng->abort_seen = req;
		emu_ewr32(eng, NUQ_NPU_ENG_ABORT_ACK, req);
	}
}

/* Whether an injected fault refuses this reset request (then no ACK ever). */
static int refused(struct emu_dev *dev, const char *what, uint32_t req)
{
	if (!emu_fault_take(dev, &dev->faults.reset_refuse))
		return 0;
	emu_log("fault: %s reset request %u refused", what, req);
	__atomic_add_fetch(&dev->stats.resets_refused, 1, __ATOMIC_RELAXED);
	return 1;
}

static void device_reset(struct emu_dev *dev, uint32_t req)
{
	unsigned int e, delay;

	dev->reset_seen = req;
	if (refused(dev, "device", req))
		return;
	emu_log("device reset %u", req);
	/*
	 * STATUS before the ACK and DONE that publish it: a driver that sees
	 * them sees it.  The engines are parked before the ACK, so every
	 * completion written before it is real and none comes after it.
	 */
	emu_set_status(dev, NUQ_NPU_STATUS_RESETTING, NUQ_NPU_STATUS_READY, -1);
	for (e = 0; e < dev->cfg.engines; e++)
		emu_engine_park(&dev->eng[e]);
	emu_wr32(dev, NUQ_NPU_REG_RESET_ACK, req);
	for (e = 0; e < dev->cfg.engines; e++) {
		emu_ewr32(&dev->eng[e], NUQ_NPU_ENG_STATE, NUQ_NPU_ENG_STATE_RESETTING);
		reset_engine_state(&dev->eng[e]);
	}
	delay = __atomic_load_n(&dev->faults.reset_delay_ms, __ATOMIC_RELAXED);
	if (delay) {
		emu_log("fault: device reset %u delayed by %u ms", req, delay);
		sleep_ms_unless_stopping(dev, delay);
	}
	for (e = 0; e < dev->cfg.engines; e++)
		emu_ewr32(&dev->eng[e], NUQ_NPU_ENG_STATE, NUQ_NPU_ENG_STATE_IDLE);
	emu_set_status(dev, NUQ_NPU_STATUS_READY, NUQ_NPU_STATUS_RESETTING | NUQ_NPU_STATUS_ERROR |
		       NUQ_NPU_STATUS_HALTED, NUQ_NPU_ERR_NONE);
	emu_wr32(dev, NUQ_NPU_REG_RESET_DONE, req);
	for (e = 0; e < dev->cfg.engines; e++)
		emu_engine_unpark(&dev->eng[e]);
	__atomic_add_fetch(&dev->stats.resets, 1, __ATOMIC_RELAXED);
	emu_log("device reset %u done", req);
	emu_event(dev);
}

static void engine_reset(struct emu_engine *eng, uint32_t req)
{
	struct emu_dev *dev = eng->dev;
	unsigned int e, delay;
	int halted = 0;

	dev->eng_reset_seen[eng->idx] = req;
	if (refused(dev, "engine", req))
		return;
	emu_log("engine %u reset %u", eng->idx, req);
	/* Parked first: the engine writes STATE itself until then, and no CQE comes after the ACK. */
	emu_engine_park(eng);
	emu_ewr32(eng, NUQ_NPU_ENG_STATE, NUQ_NPU_ENG_STATE_RESETTING);
	emu_ewr32(eng, NUQ_NPU_ENG_RESET_ACK, req);
	reset_engine_state(eng);
	delay = __atomic_load_n(&dev->faults.reset_delay_ms, __ATOMIC_RELAXED);
	if (delay) {
		emu_log("fault: engine %u reset %u delayed by %u ms", eng->idx, req, delay);
		sleep_ms_unless_stopping(dev, delay);
	}
	emu_ewr32(eng, NUQ_NPU_ENG_STATE, NUQ_NPU_ENG_STATE_IDLE);
	/* The ring error was this engine's alone: the device takes work again. */
	for (e = 0; e < dev->cfg.engines; e++)
		halted |= dev->eng[e].halted;
	if (!halted && !(dev->status & NUQ_NPU_STATUS_RESETTING))
		emu_set_status(dev, NUQ_NPU_STATUS_READY, NUQ_NPU_STATUS_ERROR |
			       NUQ_NPU_STATUS_HALTED, NUQ_NPU_ERR_NONE);
	emu_ewr32(eng, NUQ_NPU_ENG_RESET_DONE, req);
	emu_engine_unpark(eng);
	__atomic_add_fetch(&dev->stats.eng_resets, 1, __ATOMIC_RELAXED);
	emu_log("engine %u reset %u done", eng->idx, req);
	emu_event(dev);
}

void *emu_ctrl_thread(void *arg)
{
	struct emu_dev *dev = arg;
	unsigned int vec = NUQ_NPU_VEC_CTRL(dev->cfg.engines), e;
	uint32_t ctrl_seen = 0;

	while (!stopping(dev)) {
		struct pollfd p[2] = {
			{ .fd = dev->doorbell[vec], .events = POLLIN },
			{ .fd = dev->stop_fd, .events = POLLIN },
		};
		uint64_t v;
		uint32_t req, ctrl;

		if (poll(p, 2, EMU_POLL_MS) > 0 && (p[0].revents & POLLIN))
			while (read(dev->doorbell[vec], &v, sizeof(v)) == (ssize_t)sizeof(v))
				;
		if (stopping(dev))
			break;
		req = emu_rd32(dev, NUQ_NPU_REG_RESET_REQ);
		if (req != dev->reset_seen)
			device_reset(dev, req);
		for (e = 0; e < dev->cfg.engines; e++) {
			req = emu_rd32(dev, NUQ_NPU_ENGINE(e) + NUQ_NPU_ENG_RESET_REQ);
			if (req != dev->eng_reset_seen[e])
				engine_reset(&dev->eng[e], req);
		}
		/* ENABLE just set: start fetching now rather than at the next poll. */
		ctrl = emu_rd32(dev, NUQ_NPU_REG_CTRL);
		if ((ctrl & ~ctrl_seen) & NUQ_NPU_CTRL_ENABLE)
			for (e = 0; e < dev->cfg.engines; e++)
				emu_engine_kick(&dev->eng[e]);
		ctrl_seen = ctrl;
	}
	return NULL;
}

void *emu_heartbeat_thread(void *arg)
{
	struct emu_dev *dev = arg;

	while (!stopping(dev)) {
		emu_sleep_ns(EMU_HEARTBEAT_US * 1000ull);
		if (__atomic_load_n(&dev->faults.heartbeat_stopped, __ATOMIC_RELAXED))
			continue;
		/* Only this thread writes HEARTBEAT. */
		emu_wr32(dev, NUQ_NPU_REG_HEARTBEAT, ++dev->heartbeat);
	}
	return NULL;
}
