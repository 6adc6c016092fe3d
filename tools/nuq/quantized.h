/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: put the OCR models on the quantized executor - weights from .nuq
 * files or quantized in memory, activations calibrated on rendered text
 * (or loaded from the DIR/<model>.calib files nuq calibrate writes).
 */
#ifndef NUQ_CLI_QUANTIZED_H
#define NUQ_CLI_QUANTIZED_H

#include <nuq/nuqfile.h>
#include <nuq/qexec.h>

#include "cli.h"
#include "ocr.h"

struct quantized {
	struct qmodel qm[M_COUNT];		/* quantized in memory, or */
	struct nuq_file file[M_COUNT];		/* read from .nuq files */
	/*
	 * All included: bytes = the .nuq bytes + what stays in the ONNX file
	 * (nuq_onnx_kept_bytes); fp32_bytes = every parameter of the
	 * ONNX file (nuq_onnx_kept_bytes with no layers); weights = the quantized weights.
	 */
	size_t fp32_bytes[M_COUNT], bytes[M_COUNT], weights[M_COUNT];
};

struct quant_setup {
	const char *nuq_dir;		/* read DIR/<model>.nuq; else quantize with: */
	struct nuq_layer_opts opts;
	double budget;			/* mixed precision bits, or 0 */
	struct nuq_qexec_opts qe;
	size_t calib_lines;		/* rendered lines for cls/rec calibration */
	size_t calib_pages;		/* rendered pages for det calibration */
	unsigned int jobs;
	int progress;
	int recalibrate;		/* ignore DIR/<model>.calib */
	int save_calibration;		/* write DIR/<model>.calib */
};

/* DIR/<model @i><@ext>, e.g. DIR/ch_PP-OCRv4_rec_infer.nuq. */
void quantized_path(const char *dir, int i, const char *ext, char *buf, size_t len);
/* Read and verify DIR's .nuq files (before spending time on anything else). */
int quantized_check_files(const char *dir, char *msg, size_t msglen);
int quantized_setup(struct ocr_models *m, const struct quant_setup *s, struct quantized *qz,
		    char *msg, size_t msglen);
void quantized_free(struct ocr_models *m, struct quantized *qz);

#endif
