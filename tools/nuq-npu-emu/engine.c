// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Engine threads.  Each sleeps on its doorbell eventfd (vector e) with a
 * timeout, so it also polls: doorbells may be coalesced or lost, as may
 * interrupts.  While CTRL has ENABLE it takes SQ entries in order.
 *
 * SQ_AWAKE (doorbell suppression) is 1 from a wake-up until the engine is
 * about to sleep; then it stores 0, fences and reads SQ_TAIL once more
 * (go_to_sleep()), so a driver that stored SQ_TAIL, fenced and read 1 may
 * skip the doorbell: the engine still has that re-read ahead of it.
 *
 * Resets are done by the control thread with the engine parked: the engine
 * drops whatever it was doing at its next check (between bands, in every
 * sleep) and waits; while it waits the control thread owns its state.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

#include "emu.h"
#include "engine.h"

int emu_park_wanted(struct emu_engine *eng)
{
	return __atomic_load_n(&eng->park_req, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&eng->dev->stopping, __ATOMIC_ACQUIRE);
}

void emu_engine_kick(struct emu_engine *eng)
{
	uint64_t one = 1;

	if (write(eng->wake_fd, &one, sizeof(one)) < 0)
		emu_log("engine %u: wake-up failed", eng->idx);
}

/* Control thread: returns once the engine has dropped its job and waits. */
void emu_engine_park(struct emu_engine *eng)
{
	pthread_mutex_lock(&eng->lock);
	__atomic_add_fetch(&eng->park_req, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&eng->lock);
	emu_engine_kick(eng);
	pthread_mutex_lock(&eng->lock);
	while (!eng->parked)
		pthread_cond_wait(&eng->cond, &eng->lock);
	pthread_mutex_unlock(&eng->lock);
}

void emu_engine_unpark(struct emu_engine *eng)
{
	pthread_mutex_lock(&eng->lock);
	__atomic_sub_fetch(&eng->park_req, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&eng->cond);
	pthread_mutex_unlock(&eng->lock);
}

/* Engine thread: wait here while parked (or forever once stopping). */
static void park_point(struct emu_engine *eng)
{
	pthread_mutex_lock(&eng->lock);
	eng->parked = 1;
	pthread_cond_broadcast(&eng->cond);
	while (__atomic_load_n(&eng->park_req, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&eng->dev->stopping, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&eng->cond, &eng->lock);
	eng->parked = 0;
	pthread_mutex_unlock(&eng->lock);
}

static void drain(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
}

/* Sleep until a doorbell, a kick or EMU_POLL_MS; returns 1 for a doorbell. */
static int wait_doorbell(struct emu_engine *eng)
{
	struct pollfd p[2] = {
		{ .fd = eng->dev->doorbell[eng->idx], .events = POLLIN },
		{ .fd = eng->wake_fd, .events = POLLIN },
	};
	uint64_t v;

	if (poll(p, 2, EMU_POLL_MS) <= 0)
		return 0;
	if (p[1].revents & POLLIN)
		drain(eng->wake_fd);
	if (p[0].revents & POLLIN) {
		/* An eventfd counts the writes it coalesced. */
		while (read(p[0].fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
			__atomic_add_fetch(&eng->dev->stats.doorbells, v, __ATOMIC_RELAXED);
		return 1;
	}
	return 0;
}

/* Stamp submissions the first time we see them: wait_ns starts there. */
void emu_observe_tail(struct emu_engine *eng, uint64_t stamp_ns)
{
	uint32_t tail = emu_erd32(eng, NUQ_NPU_ENG_SQ_TAIL), n = eng->dev->cfg.ring_entries;

	/* A tail too far ahead is a ring error; the fetch loop reports it. */
	if (tail - eng->sq_head > n || tail - eng->tail_seen > n)
		return;
	for (; eng->tail_seen != tail; eng->tail_seen++)
		eng->seen_ns[eng->tail_seen % n] = stamp_ns;
}

/*
 * SQ_TAIL ran more than RING_ENTRIES ahead of SQ_HEAD: the ring is garbage.
 * The device halts with ERROR_CODE RING until a reset.
 */
static void ring_error(struct emu_engine *eng, uint32_t tail)
{
	struct emu_dev *dev = eng->dev;

	emu_log("engine %u: SQ_TAIL %u is more than %u ahead of SQ_HEAD %u: ring error, halted",
		eng->idx, tail, dev->cfg.ring_entries, eng->sq_head);
	eng->halted = 1;
	__atomic_add_fetch(&dev->stats.ring_errors, 1, __ATOMIC_RELAXED);
	emu_set_status(dev, NUQ_NPU_STATUS_ERROR | NUQ_NPU_STATUS_HALTED, NUQ_NPU_STATUS_READY,
		       NUQ_NPU_ERR_RING);
	emu_event(dev);
}

static int may_fetch(struct emu_engine *eng)
{
	struct emu_dev *dev = eng->dev;

	return !emu_park_wanted(eng) && !eng->halted &&
	       (emu_rd32(dev, NUQ_NPU_REG_CTRL) & NUQ_NPU_CTRL_ENABLE) &&
	       (emu_rd32(dev, NUQ_NPU_REG_STATUS) & NUQ_NPU_STATUS_READY);
}

/*
 * About to sleep: SQ_AWAKE = 0, a full fence, then SQ_TAIL once more.  The
 * driver stores SQ_TAIL, fences and reads SQ_AWAKE: of the two loads, at
 * least one sees the other side's store (npu.rst, Submission), so either
 * we see its new tail here or it saw 0 and rang.  Returns 0 (and SQ_AWAKE
 * is 1 again) if there is work after all.
 */
static int go_to_sleep(struct emu_engine *eng)
{
	emu_ewr32(eng, NUQ_NPU_ENG_SQ_AWAKE, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!may_fetch(eng) || emu_erd32(eng, NUQ_NPU_ENG_SQ_TAIL) == eng->sq_head)
		return 1;
	emu_ewr32(eng, NUQ_NPU_ENG_SQ_AWAKE, 1);
	return 0;
}

static void *engine_thread(void *arg)
{
	struct emu_engine *eng = arg;
	struct emu_dev *dev = eng->dev;

	while (!__atomic_load_n(&dev->stopping, __ATOMIC_ACQUIRE)) {
		if (emu_park_wanted(eng)) {
			park_point(eng);
			continue;
		}
		wait_doorbell(eng);
		/* Until go_to_sleep(): new submissions need no doorbell. */
		emu_ewr32(eng, NUQ_NPU_ENG_SQ_AWAKE, 1);
		emu_observe_tail(eng, emu_now_ns());
		if (__atomic_load_n(&dev->faults.fuzz, __ATOMIC_RELAXED))
			emu_fuzz_tick(eng);
		emu_check_abort(eng, NULL);
		do {
			while (may_fetch(eng)) {
				uint32_t tail = emu_erd32(eng, NUQ_NPU_ENG_SQ_TAIL);

				if (tail == eng->sq_head)
					break;
				if (tail - eng->sq_head > dev->cfg.ring_entries) {
					ring_error(eng, tail);
					break;
				}
				emu_observe_tail(eng, emu_now_ns());
				emu_run_one(eng);
			}
		} while (!go_to_sleep(eng));
	}
	pthread_mutex_lock(&eng->lock);
	eng->parked = 1;
	pthread_cond_broadcast(&eng->cond);
	pthread_mutex_unlock(&eng->lock);
	return NULL;
}

int emu_engine_start(struct emu_engine *eng)
{
	eng->rng = 0x9e3779b97f4a7c15ull * (eng->idx + 1) ^ emu_now_ns();
	if (pthread_create(&eng->thread, NULL, engine_thread, eng))
		return -1;
	eng->started = 1;
	return 0;
}
