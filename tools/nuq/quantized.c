// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: the OCR models on the quantized executor.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nuq/nuq.h>

#include "dataset.h"
#include "quantized.h"

/* Calibration data differs from every evaluation seed. */
#define CALIB_SEED	0xca1b

void quantized_path(const char *dir, int i, const char *ext, char *buf, size_t len)
{
	const char *f = ocr_model_files[i];

	snprintf(buf, len, "%s/%.*s%s", dir, (int)(strlen(f) - strlen(".onnx")), f, ext);
}

static void show_progress(void *ctx, size_t done, size_t total)
{
	struct progress *p = ctx;

	if (done == 1 && !p->total)
		progress_start(p, p->what, total);
	progress_step(p, done);
}

/* The calibration inputs of model @i: *@x gets *@n tensors (free with free_inputs()). */
static int calib_inputs(struct ocr_models *m, int i, const struct quant_setup *s,
			struct nuq_tensor **x, size_t *n, char *msg, size_t msglen)
{
	struct dataset ds = { 0 };
	size_t k;
	int ret = 0;

	*n = i == M_DET ? s->calib_pages : s->calib_lines;
	*n = *n ? *n : 1;
	*x = calloc(*n, sizeof(**x));
	if (!*x)
		return -ENOMEM;
	if (i != M_DET)
		ret = dataset_rendered_lines(*n, CALIB_SEED, &m->dict, &ds, msg, msglen);
	for (k = 0; !ret && k < *n; k++) {
		struct nuq_image page;

		if (i == M_DET) {
			ret = dataset_rendered_page(8, CALIB_SEED + k, &m->dict, &page, msg, msglen);
			if (!ret)
				ret = nuq_ocr_input(NUQ_OCR_DET, &page, OCR_DET_LIMIT, &(*x)[k]);
			nuq_image_free(&page);
		} else {
			ret = nuq_ocr_input(i == M_REC ? NUQ_OCR_REC : NUQ_OCR_CLS, &ds.s[k].im, 0,
					    &(*x)[k]);
			/* The classifier also has to see upside-down lines. */
			if (!ret && i == M_CLS && k % 2) {
				nuq_image_rotate180(&ds.s[k].im);
				nuq_tensor_free(&(*x)[k]);
				ret = nuq_ocr_input(NUQ_OCR_CLS, &ds.s[k].im, 0, &(*x)[k]);
			}
		}
	}
	dataset_free(&ds);
	return ret;
}

static void free_inputs(struct nuq_tensor *x, size_t n)
{
	size_t k;

	for (k = 0; x && k < n; k++)
		nuq_tensor_free(&x[k]);
	free(x);
}

/*
 * Model @i's calibration inputs, rendered once for both the rounding of its
 * weights and the calibration of its activations (the same seed, so the
 * same tensors either way).
 */
struct calib_set {
	struct nuq_tensor *x;
	size_t n;
	int made;
};

static int calib_get(struct ocr_models *m, int i, const struct quant_setup *s,
		     struct calib_set *c, char *msg, size_t msglen)
{
	if (c->made)
		return 0;
	c->made = 1;
	return calib_inputs(m, i, s, &c->x, &c->n, msg, msglen);
}

static void calib_put(struct calib_set *c)
{
	free_inputs(c->x, c->n);
	memset(c, 0, sizeof(*c));
}

static int calibrate(struct ocr_models *m, int i, const struct quant_setup *s,
		     struct calib_set *c, char *msg, size_t msglen)
{
	struct progress pr = { .what = "calibrate" };
	int ret;

	ret = calib_get(m, i, s, c, msg, msglen);
	if (!ret)
		ret = nuq_qexec_calibrate(m->q[i], c->x, c->n, s->progress ? show_progress : NULL,
					  &pr, msg, msglen);
	if (s->progress && pr.total)
		progress_end(&pr);
	return ret;
}

/*
 * Quantize model @i, rounding its weights on the calibration inputs
 * (quantize_gptq.c); with NUQ_GAINS=1 the layout choice also weighs each
 * layer by its measured effect on the output (quantize_sens.c) on a few
 * of them.
 */
#define GAIN_INPUTS	4

static int quantize(struct ocr_models *m, int i, const struct quant_setup *s,
		    struct quantized *qz, struct calib_set *c, char *msg, size_t msglen)
{
	struct quant_data d = { .graph = m->g[i] };
	int ret = 0;

	if (quant_gptq_enabled() || (s->budget && quant_gains_enabled()))
		ret = calib_get(m, i, s, c, msg, msglen);
	d.inputs = c->x;
	d.n = c->n;
	d.uncentered = !!(s->qe.flags & (NUQ_QEXEC_NO_BIAS_CORRECTION | NUQ_QEXEC_WEIGHTS_ONLY));
	if (quant_gains_enabled()) {
		/* the detector's pages are large; one tells its layers apart */
		d.n = c->n < GAIN_INPUTS ? c->n : GAIN_INPUTS;
		if (i == M_DET && d.n > 1)
			d.n = 1;
	}
	if (!ret)
		ret = quantize_model_data(m->onnx[i], &s->opts, s->budget, &d, s->jobs,
					  s->progress, &qz->qm[i], msg, msglen);
	return ret;
}

int quantized_check_files(const char *dir, char *msg, size_t msglen)
{
	struct nuq_file f;
	char path[1024];
	int i, ret;

	for (i = 0; i < M_COUNT; i++) {
		quantized_path(dir, i, ".nuq", path, sizeof(path));
		ret = nuq_file_read(path, &f, msg, msglen);
		if (ret)
			return ret;
		nuq_file_free(&f);
	}
	return 0;
}

int quantized_setup(struct ocr_models *m, const struct quant_setup *s, struct quantized *qz,
		    char *msg, size_t msglen)
{
	const struct nuq_onnx_weight *w;
	struct calib_set cs = { 0 };
	char path[1024];
	size_t nw, k;
	int i, ret = 0;

	memset(qz, 0, sizeof(*qz));
	for (i = 0; i < M_COUNT && !ret; i++) {
		const struct nuq_qlayer *layers;
		size_t n;

		calib_put(&cs);		/* the previous model's */

		ret = nuq_onnx_weights(m->onnx[i], &w, &nw, msg, msglen);
		if (ret)
			break;
		for (k = 0; k < nw; k++)
			qz->weights[i] += w[k].rows * w[k].cols;
		if (s->nuq_dir) {
			quantized_path(s->nuq_dir, i, ".nuq", path, sizeof(path));
			ret = nuq_file_read(path, &qz->file[i], msg, msglen);
			if (ret)
				break;
			layers = qz->file[i].layers;
			n = qz->file[i].nlayers;
			qz->bytes[i] = NUQ_FILE_HEADER_BYTES;
			for (k = 0; k < n; k++)
				qz->bytes[i] += nuq_qlayer_file_bytes(&layers[k]);
		} else {
			ret = quantize(m, i, s, qz, &cs, msg, msglen);
			if (ret)
				break;
			layers = qz->qm[i].layers;
			n = qz->qm[i].n;
			qz->bytes[i] = qz->qm[i].file_bytes;
		}
		{
			uint64_t kept;

			ret = nuq_onnx_kept_bytes(m->onnx[i], layers, n, &kept, msg, msglen);
			if (ret)
				break;
			qz->bytes[i] += kept;
			/* fp32: every parameter, the folded ones too */
			ret = nuq_onnx_kept_bytes(m->onnx[i], NULL, 0, &kept, msg, msglen);
			if (ret)
				break;
			qz->fp32_bytes[i] = kept;
		}
		ret = nuq_qexec_create(m->g[i], layers, n, &s->qe, &m->q[i], msg, msglen);
		if (ret)
			break;
		/* A calibration saved next to the weights (nuq calibrate) saves the work. */
		if (s->nuq_dir && !s->recalibrate) {
			quantized_path(s->nuq_dir, i, ".calib", path, sizeof(path));
			if (!access(path, F_OK)) {
				ret = nuq_qexec_load_calibration(m->q[i], path, msg, msglen);
				continue;
			}
		}
		ret = calibrate(m, i, s, &cs, msg, msglen);
		if (!ret && s->nuq_dir && s->save_calibration) {
			quantized_path(s->nuq_dir, i, ".calib", path, sizeof(path));
			ret = nuq_qexec_save_calibration(m->q[i], path, msg, msglen);
		}
	}
	calib_put(&cs);
	if (ret)
		quantized_free(m, qz);
	return ret;
}

void quantized_free(struct ocr_models *m, struct quantized *qz)
{
	int i;

	for (i = 0; i < M_COUNT; i++) {
		nuq_qexec_free(m->q[i]);
		m->q[i] = NULL;
		qmodel_free(&qz->qm[i]);
		nuq_file_free(&qz->file[i]);
	}
}
