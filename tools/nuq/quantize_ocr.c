// SPDX-License-Identifier: GPL-2.0
/*
 * nuq quantize --ocr -o DIR: the three PaddleOCR models as nuq ocr and
 * nuq eval quantize them - weights rounded on rendered calibration text
 * (quantize_gptq.c), activations calibrated on the same - written as
 * DIR/<model>.nuq and DIR/<model>.calib, so that nuq ocr --nuq DIR and
 * make demo run what nuq eval measured.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <nuq/nuq.h>

#include "quantized.h"

int quantize_ocr(const char *models, const char *dir, const struct nuq_layer_opts *o,
		 double budget, unsigned int jobs, int quiet)
{
	struct quant_setup s = {
		.opts = *o, .budget = budget,
		.qe = { .flags = NUQ_QEXEC_CPU, .calib = NUQ_CALIB_PERCENTILE },
		.calib_lines = 48, .calib_pages = 2, .jobs = jobs, .progress = !quiet,
		.recalibrate = 1,
	};
	struct ocr_models m;
	struct quantized qz;
	char msg[512], path[1024];
	int i, ret;

	if (mkdir(dir, 0777) && errno != EEXIST) {
		fprintf(stderr, "nuq quantize: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	ret = ocr_models_load(models, &m, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "nuq quantize: %s\n", msg);
		return 1;
	}
	ret = quantized_setup(&m, &s, &qz, msg, sizeof(msg));
	if (ret) {	/* it freed what it had set up */
		ocr_models_free(&m);
		fprintf(stderr, "nuq quantize: %s\n", msg);
		return 1;
	}
	for (i = 0; !ret && i < M_COUNT; i++) {
		const struct qmodel *q = &qz.qm[i];

		quantized_path(dir, i, ".nuq", path, sizeof(path));
		ret = nuq_file_write(path, q->layers, (uint32_t)q->n, msg, sizeof(msg));
		if (ret)
			break;
		printf("wrote %s: %zu layers, %.4f bits per weight, all included (%.2fx smaller)\n",
		       path, q->n, bits_per_weight(q->file_bytes, q->kept_bytes, q->weights),
		       (double)qz.fp32_bytes[i] / qz.bytes[i]);
		quantized_path(dir, i, ".calib", path, sizeof(path));
		ret = nuq_qexec_save_calibration(m.q[i], path, msg, sizeof(msg));
		if (!ret && !quiet)
			printf("wrote %s (%s, activation ranges)\n", path, nuq_calib_name(s.qe.calib));
	}
	quantized_free(&m, &qz);
	ocr_models_free(&m);
	if (ret) {
		fprintf(stderr, "nuq quantize: %s\n", msg);
		return 1;
	}
	return 0;
}
