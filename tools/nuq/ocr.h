/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: the three PaddleOCR models, run in fp32 or quantized, and the
 * OCR steps built on them (shared by nuq run and nuq eval).
 */
#ifndef NUQ_CLI_OCR_H
#define NUQ_CLI_OCR_H

#include <nuq/graph.h>
#include <nuq/ocr.h>
#include <nuq/qexec.h>

enum { M_DET, M_CLS, M_REC, M_COUNT };

extern const char *const ocr_model_files[M_COUNT];
extern const char *const ocr_model_names[M_COUNT];

struct ocr_models {
	char dir[512];
	struct nuq_onnx *onnx[M_COUNT];
	struct nuq_graph *g[M_COUNT];
	struct nuq_ctc_dict dict;
	/* Set to run a model quantized; NULL runs the graph in fp32. */
	struct nuq_qexec *q[M_COUNT];
};

/* @dir: NULL for $NUQ_MODELS_DIR. */
int ocr_models_load(const char *dir, struct ocr_models *m, char *msg, size_t msglen);
void ocr_models_free(struct ocr_models *m);

int ocr_infer(struct ocr_models *m, int model, const struct nuq_tensor *x, struct nuq_tensor *y,
	      char *msg, size_t msglen);
int ocr_recognize(struct ocr_models *m, const struct nuq_image *line, char *text, size_t len,
		  char *msg, size_t msglen);
/*
 * 1 when the line is upside down: the classifier's 180 score is over
 * @thresh (PaddleOCR turns a line only above 0.9; 0.5 is the argmax).
 */
int ocr_is_rotated(struct ocr_models *m, const struct nuq_image *line, float thresh, char *msg,
		   size_t msglen);
#define OCR_CLS_THRESH	0.9f
#define OCR_DET_LIMIT	960
int ocr_detect(struct ocr_models *m, const struct nuq_image *page, struct nuq_box **boxes,
	       size_t *n, char *msg, size_t msglen);

#endif
