// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: the text of rendered lines.  A quarter of the lines are spans of
 * the corpus as written; the others shuffle its words, change their case
 * and mix in the things a page also has - numbers, dates, prices, phone
 * numbers, codes, addresses, brackets and quotes - so that digits and
 * punctuation, which the corpus has few of, are scored as well.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset_text.h"

uint64_t text_rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

unsigned int text_pick(uint64_t *s, unsigned int lo, unsigned int hi)
{
	return lo + (unsigned int)(text_rnd(s) % (hi - lo + 1));
}

uint64_t text_hash(const char *text)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*text)
		h = (h ^ (unsigned char)*text++) * 0x100000001b3ULL;
	return h;
}

enum text_split text_split_of(const char *text)
{
	/* One line in four may calibrate; FNV's low bits mix poorly, so take high ones. */
	return (text_hash(text) >> 61) % 4 == 0 ? TEXT_CALIB : TEXT_EVAL;
}

void corpus_free(struct corpus *c)
{
	free(c->text);
	free(c->words);
	free(c->wordbuf);
	memset(c, 0, sizeof(*c));
}

static int has_char(const struct corpus *c, char ch)
{
	return (unsigned char)ch < 0x80 && ch > ' ' && nuq_ctc_dict_has(c->dict, &ch, 1);
}

/* The distinct words of the corpus, letters only, at least two of them. */
static int collect_words(struct corpus *c)
{
	size_t i, n = 0, o = 0, start = 0, k;
	int url = 0;

	c->wordbuf = malloc(c->len + 2);
	c->words = calloc(c->len / 2 + 1, sizeof(*c->words));
	if (!c->wordbuf || !c->words)
		return -ENOMEM;
	for (i = 0; i <= c->len; i++) {
		char ch = c->text[i], *w = c->wordbuf + start;

		if (isalpha((unsigned char)ch)) {
			c->wordbuf[o++] = ch;
			continue;
		}
		/* Addresses are not words ("https://fsf.org/" is no "httpsfsforg"). */
		if (strchr("/:@<>", ch))
			url = 1;
		/* Other punctuation is dropped; a space or the end ends the word. */
		if (ch != ' ' && ch)
			continue;
		c->wordbuf[o] = 0;
		for (k = 0; o - start >= 2 && k < n && strcmp(c->words[k], w); k++)
			;
		if (!url && o - start >= 2 && k == n) {
			c->words[n++] = w;
			start = ++o;
		} else {
			o = start;
		}
		url = 0;
	}
	c->nwords = n;
	return n >= 64 ? 0 : -EINVAL;
}

int corpus_load(const struct nuq_ctc_dict *d, struct corpus *c, char *msg, size_t msglen)
{
	FILE *f = fopen(NUQ_CORPUS, "r");
	size_t len, i, o = 0;
	char *buf;
	long sz;
	int ret;

	memset(c, 0, sizeof(*c));
	c->dict = d;
	if (!f) {
		snprintf(msg, msglen, "%s: %s (package base-files)", NUQ_CORPUS, strerror(errno));
		return -ENOENT;
	}
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = sz > 0 ? malloc((size_t)sz + 1) : NULL;
	c->text = sz > 0 ? malloc((size_t)sz + 1) : NULL;
	len = buf ? fread(buf, 1, (size_t)sz, f) : 0;
	fclose(f);
	if (!buf || !c->text) {
		free(buf);
		corpus_free(c);
		return -ENOMEM;
	}
	for (i = 0; i < len; i++) {
		char ch = buf[i];

		if (ch == '\n' || ch == '\t' || ch == ' ' || ch == '\r') {
			if (o && c->text[o - 1] != ' ')
				c->text[o++] = ' ';
			continue;
		}
		if (has_char(c, ch))
			c->text[o++] = ch;
	}
	while (o && c->text[o - 1] == ' ')
		o--;
	c->text[o] = 0;
	c->len = o;
	free(buf);
	ret = o >= 1024 ? collect_words(c) : -EINVAL;
	if (ret) {
		if (ret == -EINVAL)
			snprintf(msg, msglen, "%s has too few words", NUQ_CORPUS);
		corpus_free(c);
	}
	return ret;
}
