/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libnuq: the pieces around the three PaddleOCR models - images, their
 * preprocessing into model inputs, text lines rendered with FreeType
 * (ground truth known by construction), CTC decoding with the model's
 * dictionary, the text detector's post-processing, and the metrics that
 * nuq eval reports.
 */
#ifndef NUQ_OCR_H
#define NUQ_OCR_H

#include <stddef.h>
#include <stdint.h>
#include <nuq/graph.h>

/* 8-bit grey image, row-major. */
struct nuq_image {
	int w, h;
	uint8_t *px;
};

int nuq_image_alloc(struct nuq_image *im, int w, int h, uint8_t fill);
void nuq_image_free(struct nuq_image *im);
/* PNG (grey, RGB, palette, with or without alpha) to grey. */
int nuq_image_load_png(const char *path, struct nuq_image *im, char *msg, size_t msglen);
int nuq_image_save_png(const char *path, const struct nuq_image *im);
int nuq_image_crop(const struct nuq_image *src, int x, int y, int w, int h, struct nuq_image *dst);
void nuq_image_rotate180(struct nuq_image *im);
int nuq_image_resize(const struct nuq_image *src, int w, int h, struct nuq_image *dst);

/* Model inputs (NCHW float, 3 identical channels). */
enum nuq_ocr_model { NUQ_OCR_DET, NUQ_OCR_CLS, NUQ_OCR_REC };
/*
 * Detector: scaled so the longer side is at most @limit and both sides
 * are multiples of 32, ImageNet mean/std.  Recogniser: height 48, width
 * from the aspect ratio (at least 48, at most 1280), (x/255 - 0.5)/0.5.
 * Classifier: 48 x 192, aspect kept, zero padded on the right.
 */
int nuq_ocr_input(enum nuq_ocr_model model, const struct nuq_image *im, int limit,
		  struct nuq_tensor *x);

/*
 * Text lines rendered with FreeType.  Zero in every field after @seed is
 * the plain case: black ink on white paper, upright, the font's spacing.
 * Every character must have a glyph in the font (-EILSEQ otherwise).
 */
struct nuq_render_opts {
	const char *font;	/* a .ttf/.otf file */
	int px;			/* font size in pixels (6-200) */
	double noise;		/* Gaussian noise sigma, grey levels (0-64) */
	int blur;		/* box blur radius, 0 for none (0-8) */
	uint64_t seed;
	double angle;		/* rotation, degrees counter-clockwise (-10..10) */
	double contrast;	/* ink darkness as a fraction of the paper's level
				 * (0-1; 0 means 1, black ink) */
	int paper_shade;	/* grey levels below white of the paper (0-128) */
	int spacing;		/* extra pixels after each character (-px/8..px) */
};
int nuq_render_line(const char *utf8, const struct nuq_render_opts *o, struct nuq_image *im,
		    char *msg, size_t msglen);

/* The recogniser's character dictionary (one UTF-8 string per class). */
struct nuq_ctc_dict {
	char **chars;		/* class i + 1 (class 0 is the CTC blank) */
	size_t n;
	char *buf;
};
/* One key per line; a trailing " " class is added as PaddleOCR does. */
int nuq_ctc_dict_load(const char *path, struct nuq_ctc_dict *d, char *msg, size_t msglen);
void nuq_ctc_dict_free(struct nuq_ctc_dict *d);
int nuq_ctc_dict_has(const struct nuq_ctc_dict *d, const char *utf8_char, size_t len);
/*
 * Greedy CTC: argmax per time step, repeats merged, blanks dropped.
 * @probs is [1, T, classes]; the text is written to @out (NUL-terminated).
 */
int nuq_ctc_decode(const struct nuq_tensor *probs, const struct nuq_ctc_dict *d, char *out,
		   size_t outlen);

/* Detector post-processing (DB): boxes in the original image's pixels. */
struct nuq_box {
	int x0, y0, x1, y1;	/* inclusive-exclusive */
	float score;
};
int nuq_db_boxes(const struct nuq_tensor *prob, int img_w, int img_h, struct nuq_box **boxes,
		 size_t *n);

/* Text lines of a clean page by horizontal projection (for the scanned-line set). */
int nuq_page_lines(const struct nuq_image *page, struct nuq_box **lines, size_t *n);

/* Metrics. */
size_t nuq_utf8_len(const char *s);
/* Levenshtein distance in code points. */
size_t nuq_edit_distance(const char *a, const char *b);
/* F1 of @got against @ref, a match being IoU >= @iou (one-to-one, greedy). */
double nuq_box_f1(const struct nuq_box *ref, size_t nref, const struct nuq_box *got, size_t ngot,
		  double iou);

/*
 * Interval of a ratio estimator sum(num) / sum(den) over @n clustered
 * samples - text lines, whose characters are not independent of each
 * other.  @est is the ratio; @lo and @hi the percentile bootstrap
 * interval at @level (0.95) from @resamples resamples of the lines, drawn
 * with a fixed generator from @seed (the same data give the same
 * interval); @se the linearised (delta method) standard error.  Samples
 * [strata_end[k-1], strata_end[k]) form stratum k and are resampled among
 * themselves (rendered and scanned lines); NULL and 0 for one stratum.
 * A paired difference of two systems scored on the same lines is the
 * same estimator with num = the per-line difference.
 */
struct nuq_interval {
	double est, lo, hi, se;
};
int nuq_ratio_interval(const double *num, const double *den, size_t n, const size_t *strata_end,
		       size_t nstrata, unsigned int resamples, double level, uint64_t seed,
		       struct nuq_interval *out);

#endif
