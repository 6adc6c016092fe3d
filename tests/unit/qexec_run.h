/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One quantized run of a built graph, for the executor's layer tests (qexec_run.c). */
#ifndef NUQ_TEST_QEXEC_RUN_H
#define NUQ_TEST_QEXEC_RUN_H

#include <stddef.h>

#include <nuq/qexec.h>

/*
 * @g with the one quantized @layer on the CPU core, heads as jobs too
 * (NUQ_QEXEC_QUANTIZED_HEADS) and @flags: calibrated (min-max) on the
 * @n inputs @x, so that what is left is the job's 8-bit steps, then run
 * on x[n - 1] into @y; its counters into @qs and the layer's report
 * into @info.  Every step must succeed.
 */
void qexec_run_one(struct nuq_graph *g, const struct nuq_qlayer *layer, const struct nuq_tensor *x,
		   size_t n, unsigned int flags, struct nuq_tensor *y, struct nuq_qexec_stats *qs,
		   struct nuq_qexec_layer *info);

#endif
