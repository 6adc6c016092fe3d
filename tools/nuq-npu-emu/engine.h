/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Internals shared by engine.c (the thread), jobrun.c (one SQ entry) and
 * cq.c (completions): only the engine's own thread calls these.
 */
#ifndef NUQ_NPU_EMU_ENGINE_H
#define NUQ_NPU_EMU_ENGINE_H

#include "emu.h"

/* What the band callback needs to know about the running job. */
struct emu_job_ctx {
	struct emu_engine *eng;
	uint64_t job_id;
	uint64_t start_ns;
	uint64_t model_ns;	/* timing model: the job's least duration */
	uint32_t last_done;	/* tiles already added to ENG_PROGRESS */
	int aborted;
	uint32_t abort_ack;	/* ABORT_REQ to acknowledge after the CQE */
	int hang_logged;
};

int emu_park_wanted(struct emu_engine *eng);
void emu_observe_tail(struct emu_engine *eng, uint64_t stamp_ns);
void emu_check_abort(struct emu_engine *eng, struct emu_job_ctx *ctx);
void emu_run_one(struct emu_engine *eng);
int emu_post_cqe(struct emu_engine *eng, struct nuq_npu_cqe *cqe);
void emu_cq_notify(struct emu_engine *eng);
void emu_fuzz_tick(struct emu_engine *eng);
uint64_t emu_rand(struct emu_engine *eng);

#endif
