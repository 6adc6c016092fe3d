/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq run on any ONNX model (model_run.c): what the options chose.
 */
#ifndef NUQ_CLI_MODEL_RUN_H
#define NUQ_CLI_MODEL_RUN_H

#include <nuq/nuqfile.h>
#include <nuq/qexec.h>

#include "model_io.h"

struct spec_list {
	char **v;
	size_t n;
};

struct run_setup {
	const char *model;
	struct spec_list inputs;	/* --input [NAME=]FILE */
	struct nuq_input_opts image;
	const char *nuq_file;		/* weights from here, else quantized with: */
	struct nuq_layer_opts opts;
	struct nuq_qexec_opts qe;
	struct spec_list calib_inputs;	/* --calib-input FILE */
	const char *calib_dir;
	const char *calib_file;
	const char *save_dir;
	unsigned int repeat;
	int fp32_only, no_fp32, profile, layer_errors;
	int recalibrate;		/* ignore M.calib next to M.nuq */
};

/* 0, 1 (failed, message printed) or 2 (bad usage). */
int model_run(const struct run_setup *s);
/*
 * nuq calibrate MODEL.onnx: ranges of @s->nuq_file's model calibrated on
 * @s->calib_dir or @s->calib_inputs, written to @out.
 */
int model_calibrate(const struct run_setup *s, const char *out);

#endif
