/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: evaluation and calibration data with known ground truth.
 */
#ifndef NUQ_DATASET_H
#define NUQ_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include <nuq/ocr.h>

struct sample {
	struct nuq_image im;
	char *text;		/* ground truth (lines) */
};

struct dataset {
	struct sample *s;
	size_t n;
};

/* Where the fonts, the words and the scanned page come from. */
#define NUQ_CORPUS	"/usr/share/common-licenses/GPL-3"
#define NUQ_SCAN_PAGE	"/usr/share/doc/opencv-doc/examples/data/imageTextN.png"
#define NUQ_SKEW_PAGE	"/usr/share/doc/opencv-doc/examples/data/imageTextR.png"

/*
 * @n text lines rendered with FreeType in several fonts, sizes, noise
 * levels and blurs; words from NUQ_CORPUS, only characters @d knows.
 * Different seeds give disjoint-looking sets (calibration vs evaluation).
 */
int dataset_rendered_lines(size_t n, uint64_t seed, const struct nuq_ctc_dict *d,
			   struct dataset *ds, char *msg, size_t msglen);
/* The lines of a clean scanned page (by projection) with their transcription. */
int dataset_scanned_lines(const char *page, const char *truth, struct dataset *ds, char *msg,
			  size_t msglen);
/* A page of @lines rendered lines (for the detector). */
int dataset_rendered_page(size_t lines, uint64_t seed, const struct nuq_ctc_dict *d,
			  struct nuq_image *page, char *msg, size_t msglen);
void dataset_free(struct dataset *ds);

#endif
