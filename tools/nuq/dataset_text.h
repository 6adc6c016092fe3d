/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nuq: the text of the rendered lines - real words from a corpus that
 * Debian ships, in their order or shuffled, in several cases, mixed with
 * numbers, dates, prices, codes and punctuation; every character one the
 * recogniser's dictionary has.  A pure function of the generator state.
 */
#ifndef NUQ_DATASET_TEXT_H
#define NUQ_DATASET_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include <nuq/ocr.h>

/* Where the words come from (package base-files). */
#define NUQ_CORPUS	"/usr/share/common-licenses/GPL-3"
/* Longest line generated, in characters (the recogniser's input grows with it). */
#define TEXT_MAX_CHARS	48

struct corpus {
	char *text;		/* the corpus' words, separated by single spaces */
	size_t len;
	char **words;		/* its words, letters only, no duplicates */
	size_t nwords;
	char *wordbuf;
	const struct nuq_ctc_dict *dict;
};

int corpus_load(const struct nuq_ctc_dict *d, struct corpus *c, char *msg, size_t msglen);
void corpus_free(struct corpus *c);

/* The generator every data set draws from (splitmix64). */
uint64_t text_rnd(uint64_t *state);
/* Uniform in [lo, hi]. */
unsigned int text_pick(uint64_t *state, unsigned int lo, unsigned int hi);

/* One line of text (malloc'd, 1..TEXT_MAX_CHARS characters), or NULL. */
char *text_line(const struct corpus *c, uint64_t *state);

/*
 * Calibration and evaluation never share a line of text: a line belongs
 * to the split its hash says, whatever the seed, and each set keeps only
 * the lines of its own split.
 */
enum text_split { TEXT_CALIB, TEXT_EVAL };
enum text_split text_split_of(const char *text);
uint64_t text_hash(const char *text);

#endif
