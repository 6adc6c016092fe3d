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

/* The scanned pages (package opencv-doc); the words: dataset_text.h. */
#define NUQ_SCAN_PAGE	"/usr/share/doc/opencv-doc/examples/data/imageTextN.png"
#define NUQ_SKEW_PAGE	"/usr/share/doc/opencv-doc/examples/data/imageTextR.png"

/*
 * Calibration and evaluation draw from the same generator (the same
 * fonts, sizes, spacing, rotation, contrast, blur, noise and kinds of
 * text) but never share a line of text: see text_split_of().
 */
enum dataset_split { DATASET_CALIB, DATASET_EVAL };
/*
 * The seeds: nuq eval's lines (its pages take the next two), and the
 * calibration lines, which must equal CALIB_SEED in quantized.c (for
 * nuq eval --list-lines; the split keeps the sets apart whatever seeds).
 */
#define DATASET_EVAL_SEED	0xe7a1
#define DATASET_CALIB_SEED	0xca1b

/*
 * @n distinct text lines of @split, each rendered in one of 39 fonts
 * from Debian packages at 16-48 px with its own spacing, rotation
 * (within 1.5 degrees), ink and paper levels, blur and noise; a pure
 * function of @seed.  Only characters @d knows.
 */
int dataset_lines(enum dataset_split split, size_t n, uint64_t seed,
		  const struct nuq_ctc_dict *d, struct dataset *ds, char *msg, size_t msglen);
/*
 * The text of those lines only (no rendering, cheap): @texts gets @n
 * malloc'd strings, the same dataset_lines() renders for the same seed.
 */
int dataset_texts(enum dataset_split split, size_t n, uint64_t seed,
		  const struct nuq_ctc_dict *d, char **texts, char *msg, size_t msglen);
/*
 * A page of @lines lines of @split for the detector: the upright,
 * white-paper style of eight common fonts at 22-41 px, so that each
 * line's rectangle does not show on the page.
 */
int dataset_page(enum dataset_split split, size_t lines, uint64_t seed,
		 const struct nuq_ctc_dict *d, struct nuq_image *page, char *msg, size_t msglen);

/* The calibration sets (nuq run, nuq calibrate, nuq eval's quantization). */
static inline int dataset_rendered_lines(size_t n, uint64_t seed, const struct nuq_ctc_dict *d,
					 struct dataset *ds, char *msg, size_t msglen)
{
	return dataset_lines(DATASET_CALIB, n, seed, d, ds, msg, msglen);
}

static inline int dataset_rendered_page(size_t lines, uint64_t seed, const struct nuq_ctc_dict *d,
					struct nuq_image *page, char *msg, size_t msglen)
{
	return dataset_page(DATASET_CALIB, lines, seed, d, page, msg, msglen);
}

/* The lines of a clean scanned page (by projection) with their transcription. */
int dataset_scanned_lines(const char *page, const char *truth, struct dataset *ds, char *msg,
			  size_t msglen);
void dataset_free(struct dataset *ds);

#endif
