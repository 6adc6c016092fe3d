// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A job runs in bands of output rows (or of whole images) of bounded MACs,
 * so that ENG_PROGRESS moves while a long job runs and aborts and resets
 * take effect within one band.  Each band is a job of its own for libnuq's
 * bit-identical CPU path: the input rows it reads, its padding recomputed,
 * and the input, output and residual pointers moved to its rows.  An output
 * element depends only on its receptive field, so the bytes are the same
 * as running the job whole.
 *
 * A device tile is the core's (nuq_conv.h): an output row, or a part of a
 * row when the row alone passes NUQ_TILE_MACS.  Rows bigger than a band
 * run tile by tile on the portable core, which is bit-identical too.
 */
#include <stdlib.h>
#include <string.h>

#include <nuq/conv.h>

#include "emu.h"
#include "nuq_conv.h"

/* 0, -NUQ_JOB_E_* for bad tensor contents, 1 when the CPU path failed otherwise. */
static int run_sub(const struct nuq_conv_job *sub, uint8_t *const t[NUQ_T_COUNT],
		   const uint64_t sz[NUQ_T_COUNT])
{
	void *base[NUQ_T_COUNT];
	size_t size[NUQ_T_COUNT];
	int i, code = 0, ret;

	for (i = 0; i < NUQ_T_COUNT; i++) {
		base[i] = t[i];
		size[i] = (size_t)sz[i];
	}
	ret = nuq_conv_run_cpu(sub, base, size, &code);
	if (!ret)
		return 0;
	return code ? -code : 1;
}

/* The real input rows [*a, *b] output rows [r0, r1) read; *a > *b when none. */
static void band_rows(const struct nuq_conv_job *j, uint32_t r0, uint32_t r1, int64_t *a,
		      int64_t *b)
{
	int64_t top = (int64_t)r0 * j->stride_h - j->pad_top;
	int64_t bot = (int64_t)(r1 - 1) * j->stride_h - j->pad_top +
		      (int64_t)(j->kernel_h - 1) * j->dilation_h;

	*a = top > 0 ? top : 0;
	*b = bot < (int64_t)j->in_h - 1 ? bot : (int64_t)j->in_h - 1;
}

/* Slots whose layout follows the output / the input (moved per band). */
static int is_out_like(int i)
{
	return i == NUQ_T_OUTPUT || i == NUQ_T_RESIDUAL;
}

/*
 * Output rows [r0, r1) of image n as a job of its own in @sub, with its
 * tensors at @t/@sz.  pad_top' = max(0, pt - r0 * sh), real rows a..b,
 * and pad_bottom' so that out_h' = r1 - r0 exactly.
 */
static void make_row_band(const struct emu_band_run *run, uint32_t n, uint32_t r0, uint32_t r1,
			  struct nuq_conv_job *sub, uint8_t *t[NUQ_T_COUNT], uint64_t sz[NUQ_T_COUNT])
{
	const struct nuq_conv_job *j = run->job;
	uint64_t in_row = (uint64_t)j->in_w * j->in_c, out_row = (uint64_t)j->out_w * j->out_c;
	uint64_t span = (uint64_t)(j->kernel_h - 1) * j->dilation_h + 1;
	int64_t a, b, top = (int64_t)r0 * j->stride_h - j->pad_top;
	uint32_t rows = r1 - r0;
	int i;

	band_rows(j, r0, r1, &a, &b);
	*sub = *j;
	sub->batch = 1;
	sub->in_h = (uint32_t)(b - a + 1);
	sub->pad_top = (uint32_t)(a - top);
	sub->pad_bottom = (uint32_t)((uint64_t)(rows - 1) * j->stride_h + span - sub->in_h -
				     sub->pad_top);
	sub->out_h = rows;
	for (i = 0; i < NUQ_T_COUNT; i++) {
		t[i] = run->t[i];
		sz[i] = run->sz[i];
		sub->tensors[i].offset = 0;
		if (!t[i])
			continue;
		if (i == NUQ_T_INPUT) {
			t[i] += ((uint64_t)n * j->in_h + (uint64_t)a) * in_row;
			sz[i] = sub->in_h * in_row;
		} else if (is_out_like(i)) {
			t[i] += ((uint64_t)n * j->out_h + r0) * out_row;
			sz[i] = rows * out_row;
		}
	}
}

/* Images [n0, n0 + count) whole. */
static void make_image_band(const struct emu_band_run *run, uint32_t n0, uint32_t count,
			    struct nuq_conv_job *sub, uint8_t *t[NUQ_T_COUNT],
			    uint64_t sz[NUQ_T_COUNT])
{
	const struct nuq_conv_job *j = run->job;
	uint64_t in_img = (uint64_t)j->in_h * j->in_w * j->in_c;
	uint64_t out_img = (uint64_t)j->out_h * j->out_w * j->out_c;
	int i;

	*sub = *j;
	sub->batch = count;
	for (i = 0; i < NUQ_T_COUNT; i++) {
		t[i] = run->t[i];
		sz[i] = run->sz[i];
		sub->tensors[i].offset = 0;
		if (!t[i])
			continue;
		if (i == NUQ_T_INPUT) {
			t[i] += n0 * in_img;
			sz[i] = count * in_img;
		} else if (is_out_like(i)) {
			t[i] += n0 * out_img;
			sz[i] = count * out_img;
		}
	}
}

/* One band, then the callback; nonzero (an error or a stop) ends the job. */
static int band_done(struct emu_band_run *run, const struct nuq_conv_job *sub,
		     uint8_t *t[NUQ_T_COUNT], uint64_t sz[NUQ_T_COUNT], uint32_t rows)
{
	int ret = run_sub(sub, t, sz);

	if (ret)
		return ret;
	run->tiles_done += rows * run->row_tiles;
	if (run->cb)
		run->stop = run->cb(run->arg, run->tiles_done, run->tiles);
	return 0;
}

/*
 * Rows of more MACs than a band: the core's tiles one at a time (each at
 * most NUQ_TILE_MACS), the callback after every band's worth of them.
 */
static int run_tiles(struct emu_band_run *run)
{
	struct nuq_conv_job whole = *run->job;
	struct nuq_conv_plan plan;
	__u64 sizes[NUQ_T_COUNT];
	uint64_t acc = 0, per_tile;
	void *scratch = NULL;
	void *t[NUQ_T_COUNT];
	uint32_t tile;
	int i, ret;

	for (i = 0; i < NUQ_T_COUNT; i++) {
		whole.tensors[i].offset = 0;
		t[i] = run->t[i];
		sizes[i] = run->sz[i];
	}
	ret = nuq_conv_validate(&whole, sizes, &plan);
	if (ret)
		return ret;
	if (plan.scratch_bytes) {
		scratch = aligned_alloc(8, (plan.scratch_bytes + 7) & ~7u);
		if (!scratch)
			return 1;
	}
	per_tile = plan.macs / plan.tiles;
	for (tile = 0; tile < plan.tiles && run->stop == EMU_GO; tile++) {
		ret = nuq_conv_run_tile(&whole, &plan, t, scratch, tile);
		if (ret)
			break;
		run->tiles_done++;
		acc += per_tile;
		if (acc >= run->band_macs || tile + 1 == plan.tiles) {
			run->tile_bands++;
			acc = 0;
			if (run->cb)
				run->stop = run->cb(run->arg, run->tiles_done, run->tiles);
		}
	}
	free(scratch);
	return ret;
}

int emu_run_bands(struct emu_band_run *run)
{
	const struct nuq_conv_job *j = run->job;
	uint64_t all_rows = (uint64_t)j->batch * j->out_h;
	uint64_t per_row = run->macs / all_rows;
	uint64_t rows = per_row ? run->band_macs / per_row : all_rows;
	uint64_t sz[NUQ_T_COUNT];
	uint8_t *t[NUQ_T_COUNT];
	struct nuq_conv_job sub;
	uint32_t n, r0, r1;
	int whole = 0, ret;

	run->tiles_done = 0;
	run->stop = EMU_GO;
	if (!run->row_tiles)
		run->row_tiles = 1;
	if (!rows)
		return run_tiles(run);
	/* A band that would read padding only cannot be a job: run the job whole. */
	for (r0 = 0; rows < j->out_h && r0 < j->out_h && !whole; r0 += (uint32_t)rows) {
		int64_t a, b;

		r1 = r0 + rows < j->out_h ? r0 + (uint32_t)rows : j->out_h;
		band_rows(j, r0, r1, &a, &b);
		whole = a > b;
	}
	if (whole || rows >= j->out_h) {
		uint32_t imgs = whole ? j->batch : (uint32_t)(rows / j->out_h);

		if (imgs > j->batch)
			imgs = j->batch;
		for (n = 0; n < j->batch && run->stop == EMU_GO; n += imgs) {
			uint32_t count = j->batch - n < imgs ? j->batch - n : imgs;

			make_image_band(run, n, count, &sub, t, sz);
			run->image_bands++;
			ret = band_done(run, &sub, t, sz, count * j->out_h);
			if (ret)
				return ret;
		}
		return 0;
	}
	for (n = 0; n < j->batch && run->stop == EMU_GO; n++) {
		for (r0 = 0; r0 < j->out_h && run->stop == EMU_GO; r0 = r1) {
			r1 = r0 + rows < j->out_h ? r0 + (uint32_t)rows : j->out_h;
			make_row_band(run, n, r0, r1, &sub, t, sz);
			run->row_bands++;
			ret = band_done(run, &sub, t, sz, r1 - r0);
			if (ret)
				return ret;
		}
	}
	return 0;
}
