// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: loading the three PaddleOCR models and the OCR steps on them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nuq/onnx.h>

#include "ocr.h"

const char *const ocr_model_files[M_COUNT] = {
	"ch_PP-OCRv4_det_infer.onnx",
	"ch_ppocr_mobile_v2.0_cls_infer.onnx",
	"ch_PP-OCRv4_rec_infer.onnx",
};
const char *const ocr_model_names[M_COUNT] = { "det", "cls", "rec" };

int ocr_models_load(const char *dir, struct ocr_models *m, char *msg, size_t msglen)
{
	char path[1024];
	int i, ret;

	memset(m, 0, sizeof(*m));
	if (!dir)
		dir = getenv("NUQ_MODELS_DIR");
	if (!dir) {
		snprintf(msg, msglen, "no model directory: pass --models DIR or set NUQ_MODELS_DIR "
			 "(make deps installs them under build/cache/npm)");
		return -ENOENT;
	}
	snprintf(m->dir, sizeof(m->dir), "%s", dir);
	for (i = 0; i < M_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, ocr_model_files[i]);
		ret = nuq_onnx_load(path, &m->onnx[i], msg, msglen);
		if (!ret)
			ret = nuq_graph_import(m->onnx[i], &m->g[i], msg, msglen);
		if (ret)
			goto fail;
	}
	snprintf(path, sizeof(path), "%s/ppocr_keys_v1.txt", dir);
	ret = nuq_ctc_dict_load(path, &m->dict, msg, msglen);
	if (ret)
		goto fail;
	return 0;
fail:
	ocr_models_free(m);
	return ret;
}

void ocr_models_free(struct ocr_models *m)
{
	int i;

	for (i = 0; i < M_COUNT; i++) {
		nuq_qexec_free(m->q[i]);
		nuq_graph_free(m->g[i]);
		nuq_onnx_free(m->onnx[i]);
	}
	nuq_ctc_dict_free(&m->dict);
	memset(m, 0, sizeof(*m));
}

int ocr_infer(struct ocr_models *m, int model, const struct nuq_tensor *x, struct nuq_tensor *y,
	      char *msg, size_t msglen)
{
	if (m->q[model])
		return nuq_qexec_run(m->q[model], x, y, msg, msglen);
	return nuq_graph_run(m->g[model], x, y, msg, msglen);
}

int ocr_recognize(struct ocr_models *m, const struct nuq_image *line, char *text, size_t len,
		  char *msg, size_t msglen)
{
	struct nuq_tensor x, y;
	int ret;

	ret = nuq_ocr_input(NUQ_OCR_REC, line, 0, &x);
	if (ret)
		return ret;
	ret = ocr_infer(m, M_REC, &x, &y, msg, msglen);
	nuq_tensor_free(&x);
	if (ret)
		return ret;
	ret = nuq_ctc_decode(&y, &m->dict, text, len);
	if (ret)
		snprintf(msg, msglen, "recogniser output does not match the dictionary");
	nuq_tensor_free(&y);
	return ret;
}

int ocr_is_rotated(struct ocr_models *m, const struct nuq_image *line, float thresh, char *msg,
		   size_t msglen)
{
	struct nuq_tensor x, y;
	int ret;

	ret = nuq_ocr_input(NUQ_OCR_CLS, line, 0, &x);
	if (ret)
		return ret;
	ret = ocr_infer(m, M_CLS, &x, &y, msg, msglen);
	nuq_tensor_free(&x);
	if (ret)
		return ret;
	if (nuq_tensor_count(&y) != 2) {
		nuq_tensor_free(&y);
		snprintf(msg, msglen, "classifier output is not two classes");
		return -EINVAL;
	}
	ret = y.f[1] > thresh;
	nuq_tensor_free(&y);
	return ret;
}

int ocr_detect(struct ocr_models *m, const struct nuq_image *page, struct nuq_box **boxes,
	       size_t *n, char *msg, size_t msglen)
{
	struct nuq_tensor x, y;
	int ret;

	ret = nuq_ocr_input(NUQ_OCR_DET, page, OCR_DET_LIMIT, &x);
	if (ret)
		return ret;
	ret = ocr_infer(m, M_DET, &x, &y, msg, msglen);
	nuq_tensor_free(&x);
	if (ret)
		return ret;
	ret = nuq_db_boxes(&y, page->w, page->h, boxes, n);
	nuq_tensor_free(&y);
	return ret;
}
