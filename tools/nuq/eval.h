/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq eval: the configurations, the data they are scored on, and the
 * per-line results the confidence intervals are computed from.
 */
#ifndef NUQ_CLI_EVAL_H
#define NUQ_CLI_EVAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

#include <nuq/ocr.h>
#include <nuq/qexec.h>
#include <nuq/quant.h>

#include "dataset.h"

#define MAX_CONFIGS	64

/* Rendered lines scored by default and with --quick (the first of the same set). */
#define EVAL_LINES		2800
#define EVAL_QUICK_LINES	60

struct config {
	char name[48];
	int fp32;
	enum nuq_qmethod method;
	unsigned int bits;		/* 0 for ASD variants */
	double budget;			/* mixed precision */
	/* per line: edits of the recogniser, classifier verdicts right (0-2) */
	double *edits, *cls_ok;
	/* results; the intervals are 95% over lines, deltas paired against fp32 */
	struct nuq_interval rec, rec_delta, cls, cls_delta;
	double rec_line, rec_char_scan, det_f1;
	double seconds, setup_seconds;			/* wall */
	double cpu_seconds, setup_cpu_seconds, det_cpu_seconds;	/* this thread's CPU */
	size_t bytes, fp32_bytes, weights;
	unsigned int device_layers, fp32_layers;
	int ret;
	char msg[256];
};

struct eval {
	const char *models;
	struct nuq_qexec_opts qe;
	struct dataset lines;		/* rendered, then scanned: rec and cls */
	size_t nrendered;
	double *chars;			/* characters of each line's truth */
	char **fp32_read;		/* what the fp32 recogniser read */
	struct nuq_image pages[4];
	size_t npages;
	/* fp32 boxes per page: the detector's reference */
	struct nuq_box *ref_boxes[4];
	size_t nref[4];
	size_t calib_lines;
	struct config cfg[MAX_CONFIGS];
	size_t ncfg;
	atomic_size_t next, done;
};

/* The intervals of @c from its per-line results (fp32, cfg[0], scored first). */
int eval_intervals(const struct eval *e, struct config *c);
/*
 * The table to @f; eval.md, eval.dat, eval.png and eval-lines.tsv (every
 * line's truth, fp32 reading and each configuration's edits and
 * classifier verdicts, for any other statistic) in @dir.
 */
void eval_print_table(FILE *f, const struct eval *e);
int eval_write_outputs(const struct eval *e, const char *dir);

#endif
